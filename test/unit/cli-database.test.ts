import { runNode } from '../support/cli';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openStorage } from '../../src/storage/database';
import { insertReportFixture, REPORT_CONFIG_YAML } from '../fixtures/reports';

/**
 * Read commands on a missing, empty or migrated-but-empty database, run as real subprocesses:
 * one clear line and exit 1 without a database (never "no such table", never a new file), and
 * `digest --preview` renders the chart from an empty database.
 */
const EXAMPLE = 'config/example.yaml';
jest.setTimeout(180_000);

// No DATABASE_URL from the caller's environment: each case says which database it reads.
const node = (args: string[], env: Record<string, string | undefined> = {}) => runNode(args, { DATABASE_URL: undefined, ...env });
const cli = (args: string[], env: Record<string, string | undefined> = {}) => node(['src/cli.ts', ...args], env);

const dir = mkdtempSync(join(tmpdir(), 'ticketbot-cli-db-'));
const missing = join(dir, 'missing.db');
const zero = join(dir, 'zero.db');
writeFileSync(zero, '');
const migrated = join(dir, 'migrated.db');
const noDatabase = (path: string) => `error: no ticketbot database at ${path} — start the bot or run \`ticketbot migrate\``;

describe('read commands without a database', () => {
  it('stats on a missing file says so in one line, exits 1 and creates nothing', async () => {
    const r = await cli(['stats', '--config', EXAMPLE], { TICKETBOT_DB_FILE: missing });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(noDatabase(missing));
    expect(r.stderr).not.toContain('no such table');
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(dir + '/missing.db-wal')).toBe(false);
  });

  it('export on an empty file says the same and leaves the file untouched', async () => {
    const r = await cli(['export', '--from', '2026-01-01', '--to', '2026-02-01', '--config', EXAMPLE], { TICKETBOT_DB_FILE: zero });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(noDatabase(zero));
    expect(statSync(zero).size).toBe(0);
  });

  it('digest --preview without a database says the same', async () => {
    const r = await cli(['digest', '--preview', '--out', join(dir, 'x.png'), '--config', EXAMPLE], { TICKETBOT_DB_FILE: missing });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(noDatabase(missing));
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
  });

  const pgUrl = process.env.TEST_DATABASE_URL;
  (pgUrl ? it : it.skip)('stats on a PostgreSQL database without our tables says so, with the password hidden (needs TEST_DATABASE_URL)', async () => {
    const url = new URL(pgUrl!);
    url.password = 'secret-pw';
    url.searchParams.set('options', '-c search_path=ticketbot_no_such_schema');
    const r = await cli(['stats', '--config', EXAMPLE], { DATABASE_URL: url.toString() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no ticketbot database at postgres:\/\/.*— start the bot or run `ticketbot migrate`\n$/);
    expect(r.stderr).not.toContain('secret-pw');
  });
});

describe('digest --preview on a migrated, empty database', () => {
  beforeAll(async () => {
    const r = await cli(['migrate'], { TICKETBOT_DB_FILE: migrated });
    expect(r.code).toBe(0);
  });

  it.each(['zh-CN', 'en'])('writes the weekly chart as a PNG (%s)', async (locale) => {
    const out = join(dir, `digest-${locale}.png`);
    const r = await cli(['digest', '--preview', '--locale', locale, '--out', out, '--config', EXAMPLE], { TICKETBOT_DB_FILE: migrated });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${out}`);
    const png = readFileSync(out);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.length).toBeGreaterThan(3000);
  });

  it('stats on it answers with no data', async () => {
    const r = await cli(['stats', '--locale', 'en', '--config', EXAMPLE], { TICKETBOT_DB_FILE: migrated });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^Ticket stats/);
  });

  it('a --out that is not a .png or an unknown department is bad usage (exit 2)', async () => {
    const notPng = await cli(['digest', '--preview', '--out', join(dir, 'digest.txt'), '--config', EXAMPLE], { TICKETBOT_DB_FILE: migrated });
    expect(notPng.code).toBe(2);
    const unknown = await cli(['digest', '--preview', '--department', 'mars', '--out', join(dir, 'd.png'), '--config', EXAMPLE], { TICKETBOT_DB_FILE: migrated });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown department "mars"');
  });
});

describe('digest --preview on a database with tickets', () => {
  const withTickets = join(dir, 'tickets.db');
  const config = join(dir, 'reports.yaml');
  beforeAll(async () => {
    writeFileSync(config, REPORT_CONFIG_YAML);
    const storage = await openStorage({ sqliteFile: withTickets });
    try {
      await migrate(storage.db);
      await insertReportFixture(storage.db);
    } finally {
      await storage.close();
    }
  });

  it('draws the week before --at from the tickets in the database', async () => {
    const out = join(dir, 'week.png');
    const r = await cli(['digest', '--preview', '--at', '2026-03-09T01:00:00Z', '--locale', 'zh-CN', '--out', out, '--config', config], { TICKETBOT_DB_FILE: withTickets });
    expect(r.code).toBe(0);
    const created = Number(/(\d+) ticket\(s\) created/.exec(r.stderr)?.[1]);
    expect(created).toBeGreaterThan(0);
    const quiet = join(dir, 'quiet.png');
    const q = await cli(['digest', '--preview', '--at', '2025-01-10T01:00:00Z', '--locale', 'zh-CN', '--out', quiet, '--config', config], { TICKETBOT_DB_FILE: withTickets });
    expect(q.stderr).toContain('0 ticket(s) created');
    // As the weekly digest: the last full calendar week before the posting time (a Friday here).
    expect(q.stderr).toContain('7 days 2024-12-30 – 2025-01-05');
    expect(readFileSync(out).equals(readFileSync(quiet))).toBe(false);
  });
});

describe('commands load only what they use', () => {
  it('stats loads neither Bolt, the Lark SDK nor ECharts; --help still lists every command', async () => {
    const probe = [
      '-e',
      `const { buildProgram } = require('./src/cli.ts');
       buildProgram('stats');
       const loaded = Object.keys(require.cache);
       const heavy = ['@slack/bolt', '@larksuiteoapi', 'echarts', '@resvg'].filter((p) => loaded.some((f) => f.includes('/node_modules/' + p)));
       const help = buildProgram().commands.map((c) => c.name()).sort().join(',');
       console.log(JSON.stringify({ heavy, help }));`,
    ];
    const r = await node(probe);
    expect(r.stderr).toBe('');
    const { heavy, help } = JSON.parse(r.stdout) as { heavy: string[]; help: string };
    expect(heavy).toEqual([]);
    expect(help).toBe('config,digest,docs,export,feishu,import,integrations,kb,migrate,show,simulate,sla,stats');
  });
});
