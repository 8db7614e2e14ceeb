import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { loadConfigFile } from '../src/config/load';
import { EXAMPLE_CONFIG_PATH } from '../src/config/locate';
import { DAY_MS } from '../src/domain/metrics';
import { runImport } from '../src/cli/import';
import { dropSchema, migrate, openStorage, type Storage } from '../src/storage/database';
import { peakRssMiB, type Benchmark } from './harness';

/**
 * `ticketbot import` of a generated history: every row with an id, a third with a score, 85 %
 * resolved, 80 % of those closed. Each database is measured in a child process, so its peak RSS
 * is the import's alone.
 */

const HOUR = 3_600_000;
const END = Date.parse('2026-04-01T00:00:00Z');

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function writeCsv(file: string, count: number): Promise<void> {
  const config = loadConfigFile(EXAMPLE_CONFIG_PATH);
  const leaves = [...config.leaves.keys()];
  const priorities = ['low', 'normal', 'normal', 'normal', 'high', 'urgent'];
  const random = rng(7);
  const start = END - 365 * DAY_MS;
  const out = createWriteStream(file);
  const iso = (ms: number) => new Date(ms).toISOString();
  out.write('id,created_at,category,priority,requester,assignee,first_reply_at,resolved_at,closed_at,reopens,score,title\n');
  for (let i = 0; i < count; i++) {
    const created = start + Math.floor(random() * 365 * DAY_MS);
    const frt = random() < 0.95 ? created + Math.floor(random() * 6 * HOUR) : null;
    const resolved = frt !== null && random() < 0.85 ? frt + Math.floor(random() * 3 * DAY_MS) : null;
    const closed = resolved !== null && random() < 0.8 ? resolved + Math.floor(random() * 2 * DAY_MS) : null;
    const score = closed !== null && random() < 0.35 ? 1 + Math.floor(random() * 5) : '';
    const line = `OLD-${i},${iso(created)},${leaves[i % leaves.length]},${priorities[Math.floor(random() * priorities.length)]},slack:U${i % 5000},slack:A${i % 300},${frt === null ? '' : iso(frt)},${resolved === null ? '' : iso(resolved)},${closed === null ? '' : iso(closed)},${random() < 0.05 ? 1 : 0},${score},Ticket ${i}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** Child process: imports the file into the named database and prints the summary and peak RSS. */
async function importChild(file: string, target: string): Promise<void> {
  let storage: Storage;
  let cleanup = async () => {};
  if (target.startsWith('postgres')) {
    // BENCH_PG_SCHEMA keeps the imported desk (by-hand report timings on it); otherwise a throw-away schema.
    const kept = process.env.BENCH_PG_SCHEMA;
    const schema = kept ?? `bench_${randomBytes(4).toString('hex')}`;
    storage = await openStorage({ databaseUrl: target, pgSchema: schema, poolSize: 4 });
    cleanup = kept ? async () => {} : () => dropSchema(storage.db, schema);
  } else {
    storage = await openStorage({ sqliteFile: target });
  }
  try {
    await migrate(storage.db);
    const summary = await runImport(file, { configFile: EXAMPLE_CONFIG_PATH, dryRun: false, storage });
    const cpu = process.cpuUsage();
    process.stdout.write(JSON.stringify({ imported: summary.imported, bad: summary.bad.length, seconds: summary.seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMiB: peakRssMiB() }));
  } finally {
    await cleanup();
    await storage.close();
  }
}

export const importBenchmark: Benchmark = {
  name: 'import',
  async run({ quick }) {
    const sqliteRows = Number(process.env.BENCH_IMPORT_SQLITE ?? (quick ? 20_000 : 1_000_000));
    const pgRows = Number(process.env.BENCH_IMPORT_PG ?? (quick ? 10_000 : 200_000));
    const dir = mkdtempSync(join(tmpdir(), 'ticketbot-import-'));
    const lines = [
      '## ticketbot import',
      '',
      'A generated year of history (config/example.yaml categories, every row with an id, 95 % answered, 85 % resolved, 80 % of those closed, a third of the closed with a score). One `ticketbot import` run (`runImport`) into an empty, migrated database: parsing, checks, SLA clocks, multi-row inserts (prepared text, power-of-two chunks under the parameter limit, storage/bulk.ts) in transactions of 2,000 rows (planned and written 256 at a time), rollup contributions computed from the rows in hand and stored in their compact form; the cell changes are added up in memory (written when more than 30,000 cells are pending, and at the end, 1,024 cells at a time). Into an empty desk the secondary indexes of the loaded tables are dropped first and built after the load (storage/deferredIndexes.ts; their time is included). A full garbage collection every 10,000 rows keeps the heap near what is live. SQLite runs with a 16 MiB page cache during the import. Each run is a child process; RSS is its peak; “CPU” is the child’s user + system time (on a shared machine wall time also counts waiting for the other sessions).',
      '',
      '| database | rows | file | time | rows/s | CPU | peak RSS |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    // The report periods on each imported desk (bench/workers/report-periods.ts, a child: its RSS is the reports' alone).
    const reportRows: string[] = [];
    try {
      const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
      for (const [label, rows, target] of [
        ['SQLite (file, WAL)', sqliteRows, join(dir, 'import.db')],
        ['PostgreSQL', pgRows, url],
      ] as const) {
        if (target === 'off') continue;
        const file = join(dir, `history-${rows}.csv`);
        await writeCsv(file, rows);
        const isPg = target.startsWith('postgres');
        const schema = isPg ? `bench_${randomBytes(4).toString('hex')}` : undefined;
        const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--import-child', file, target], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 20,
          env: schema ? { ...process.env, BENCH_PG_SCHEMA: schema } : process.env,
        });
        try {
          if (child.status !== 0) throw new Error(`import child failed (${child.status})`);
          const periods = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'workers', 'report-periods.ts'), target, '2026-03-31T16:00:00Z', '3', ...(schema ? [schema] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
          if (periods.status !== 0) throw new Error(`report-periods child failed (${periods.status})`);
          const timed = JSON.parse(periods.stdout.trim().split('\n').at(-1)!) as Record<string, number[] | number>;
          for (const [name, runs] of Object.entries(timed)) if (Array.isArray(runs)) reportRows.push(`| ${label} | ${rows.toLocaleString('en')} | ${name} | ${runs.join(' ')} | ${timed.peakRssMiB} MiB |`);
        } finally {
          if (schema) {
            const s = await openStorage({ databaseUrl: target, poolSize: 1 });
            await dropSchema(s.db, schema);
            await s.close();
          }
        }
        const r = JSON.parse(child.stdout) as { imported: number; bad: number; seconds: number; cpuSeconds: number; rssMiB: number };
        console.error(`import ${label}: ${r.imported} rows in ${r.seconds.toFixed(1)} s`);
        lines.push(`| ${label} | ${r.imported.toLocaleString('en')} | ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB | ${r.seconds.toFixed(1)} s | ${Math.round(r.imported / r.seconds).toLocaleString('en')} | ${r.cpuSeconds.toFixed(1)} s | ${r.rssMiB.toFixed(0)} MiB |`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    lines.push('', 'Aim (issue 16): 1,000,000 rows in ≤ 60 s on SQLite with RSS ≤ 300 MB.');
    lines.push(
      '',
      '### Reports over the imported desk',
      '',
      '`loadMetrics` on each desk just imported (bench/workers/report-periods.ts in a child process, 3 runs each, ms; "now" 5 h 23 min before a Shanghai midnight for the periods not on day boundaries). Aims (issue 16, 1,000,000 tickets): one department 30 days ≤ 100 ms, all departments ≤ 500 ms, RSS ≤ 300 MB on SQLite; PostgreSQL within 2 ×.',
      '',
      '| database | tickets | summary | ms per run | peak RSS of the process |',
      '| --- | ---: | --- | --- | ---: |',
      ...reportRows,
    );
    return lines.join('\n');
  },
};

if (process.argv[2] === '--write-csv') {
  writeCsv(process.argv[3]!, Number(process.argv[4])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
if (process.argv[2] === '--import-child') {
  importChild(process.argv[3]!, process.argv[4]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
