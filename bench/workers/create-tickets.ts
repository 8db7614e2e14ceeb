import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfigFile } from '../../src/config/load';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { createTicket } from '../../src/app/createTicket';
import { ensureUser } from '../../src/app/users';
import { newId } from '../../src/app/ids';
import { systemTime, type AppContext } from '../../src/app/context';
import { migrate, openStorage, dropSchema } from '../../src/storage/database';

/**
 * One process per database so peak RSS belongs to one run. Prints one JSON line:
 * { tickets, seconds, perSecond, cpuSeconds, perCpuSecond, peakRssMiB }.
 */
async function main(): Promise<void> {
  // An optional third argument: an SQLite file to copy and create the tickets into (tickets already present).
  const [dialect, countText, existing] = process.argv.slice(2);
  const count = Number(countText ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'ticketbot-bench-'));
  if (existing && dialect !== 'postgres') copyFileSync(existing, join(dir, 'bench.db'));
  const schema = `bench_${process.pid}`;
  const storage =
    dialect === 'postgres'
      ? await openStorage({ databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', pgSchema: schema })
      : await openStorage({ sqliteFile: join(dir, 'bench.db') });
  await migrate(storage.db);
  const config = loadConfigFile(join(__dirname, '..', '..', 'config', 'example.yaml'));
  const ctx: AppContext = { db: storage.db, dialect: storage.dialect, config, calendars: calendarsFromConfig(config.raw), time: systemTime, logger: pino({ level: 'silent' }), newId: () => newId() };
  const requesters: string[] = [];
  for (let i = 0; i < 50; i++) requesters.push(await ensureUser(ctx, { platform: 'slack', workspace: 'T1', platformUserId: `UREQ${i}`, name: `Requester ${i}` }));
  const leaves: Array<{ categoryId: string; fields: Record<string, string> }> = [
    { categoryId: 'no-code', fields: { account: 'a@example.com', device: 'iPhone' } },
    { categoryId: 'how-to', fields: {} },
    { categoryId: 'refund-request', fields: { order_id: 'O-1', amount: '12' } },
    { categoryId: 'not-received', fields: { order_id: 'O-2' } },
    { categoryId: 'sync-delay', fields: { account: 'b@example.com' } },
  ];
  const priorities = ['low', 'normal', 'high', 'urgent'] as const;
  const bar = process.stderr.isTTY ? new SingleBar({ format: `${dialect} {bar} {value}/{total}` }, Presets.shades_classic) : undefined;
  bar?.start(count, 0);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const leaf = leaves[i % leaves.length]!;
    const r = await createTicket(ctx, {
      meta: { actorId: requesters[i % requesters.length]!, platform: 'slack', eventKey: `bench:${i}` },
      categoryId: leaf.categoryId,
      priority: priorities[i % 4],
      title: `Ticket ${i}`,
      description: 'Benchmark ticket',
      fields: leaf.fields,
    });
    if (!r.ok) throw new Error(`create failed: ${r.error.code}`);
    if (i % 500 === 0) bar?.update(i);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU of the whole process (the checkpointer thread included) during the creations: on a shared
  // machine wall time also counts waiting for other processes.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  bar?.stop();
  if (dialect === 'postgres') await dropSchema(storage.db, schema);
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ tickets: count, seconds, perSecond: count / seconds, cpuSeconds, perCpuSecond: count / cpuSeconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
