import { writeFileSync } from 'node:fs';
import { EXAMPLE_CONFIG_PATH } from '../src/config/locate';
import { runImport } from '../src/cli/import';
import { migrate, openStorage } from '../src/storage/database';
import { loadConfigFile } from '../src/config/load';
async function main() {
  const config = loadConfigFile(EXAMPLE_CONFIG_PATH);
  const leaves = [...config.leaves.keys()];
  const lines = ['id,created_at,category,priority,requester,first_reply_at,resolved_at,closed_at,score'];
  for (let i = 0; i < 4000; i++) { const c = Date.parse('2025-06-01T00:00:00Z') + i * 7_777_777; lines.push(`X-${i},${new Date(c).toISOString()},${leaves[i % leaves.length]},normal,slack:U1,${new Date(c + 3600_000).toISOString()},${new Date(c + 86400_000).toISOString()},${new Date(c + 2 * 86400_000).toISOString()},4`); }
  writeFileSync('/tmp/imp4k.csv', lines.join('\n'));
  const storage = await openStorage({ sqliteFile: '/tmp/imp4k.db' });
  await migrate(storage.db);
  const s = await runImport('/tmp/imp4k.csv', { configFile: EXAMPLE_CONFIG_PATH, dryRun: false, storage });
  console.log(s.imported, s.seconds);
  await storage.close();
}
main();
