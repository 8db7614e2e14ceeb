import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { loadConfigFile } from '../src/config/load';
import { EXAMPLE_CONFIG_PATH } from '../src/config/locate';
import type { Config } from '../src/config/model';
import { calendarsFromConfig } from '../src/domain/calendar';
import { DAY_MS } from '../src/domain/metrics';
import { loadMetrics, wholeReportDays, type ReportSource } from '../src/reports/queries';
import { rebuildRollup } from '../src/reports/rollup';
import { dropSchema, migrate, openStorage, type Storage } from '../src/storage/database';
import { peakRssMiB, type Benchmark } from './harness';

/**
 * Metrics over a month of tickets: how long a department summary (the figures behind
 * `/ticket stats` and the dashboard) takes on SQLite and PostgreSQL. Rows are generated with a
 * fixed seed and bulk-loaded outside the measured part.
 */

const HOUR = 3_600_000;
export const END = Date.parse('2026-04-01T00:00:00Z');
export const START = END - 30 * DAY_MS;

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Rows {
  tickets: unknown[][];
  clocks: unknown[][];
  legs: unknown[][];
  surveys: unknown[][];
  audits: unknown[][];
}

/** Generates `count` tickets (and their clocks, legs, surveys, audit rows) in batches. */
function* generate(config: Config, count: number, batch: number): Generator<Rows> {
  const random = rng(42);
  const depts = [...config.departments.keys()];
  const leavesByDept = new Map(depts.map((d) => [d, [...config.leaves.values()].filter((l) => l.department === d).map((l) => l.id)]));
  const priorities = ['low', 'normal', 'normal', 'normal', 'high', 'urgent'];
  for (let start = 0; start < count; start += batch) {
    const rows: Rows = { tickets: [], clocks: [], legs: [], surveys: [], audits: [] };
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const id = `t${i}`;
      const home = depts[i % depts.length]!;
      const leaves = leavesByDept.get(home)!;
      const category = leaves.length ? leaves[i % leaves.length]! : [...config.leaves.keys()][0]!;
      const priority = priorities[Math.floor(random() * priorities.length)]!;
      const created = START + Math.floor(random() * 30 * DAY_MS);
      const frt = random() < 0.95 ? created + Math.floor(random() * 6 * HOUR) : null;
      const resolved = frt !== null && random() < 0.85 ? frt + Math.floor(random() * 3 * DAY_MS) : null;
      const closed = resolved !== null && random() < 0.8 ? resolved + Math.floor(random() * 2 * DAY_MS) : null;
      const handedOff = random() < 0.2;
      const target = handedOff ? depts[(i + 1 + Math.floor(random() * (depts.length - 1))) % depts.length]! : home;
      const state = closed !== null ? 'closed' : resolved !== null ? 'resolved' : frt !== null ? 'in_progress' : 'new';
      const calendar = priority === 'urgent' ? 'always' : config.departments.get(home)!.calendar;
      const reopen = resolved !== null && random() < 0.05 ? 1 : 0;
      const replies = frt === null ? 0 : 1 + Math.floor(random() * 3);
      rows.tickets.push([id, `K-${i}`, target, home, category, priority, `Ticket ${i} 登录失败`, 'description', state, `u${i % 5000}`, `a${i % 300}`, 0, 'zh-CN', 'slack', null, null, replies, reopen, 1, iso(created), iso(created), frt === null ? null : iso(frt), resolved === null ? null : iso(resolved), closed === null ? null : iso(closed)]);
      const frtLate = frt !== null && random() < 0.15;
      rows.clocks.push([`${id}:frt`, id, null, 'first_response', 1, 4 * HOUR, calendar, priority, iso(created), 0, null, null, null, frt === null ? null : iso(frt), frtLate ? iso(created + 4 * HOUR) : null, frt === null ? 'running' : 'met', '[]', iso(created)]);
      const resLate = resolved !== null && random() < 0.2;
      rows.clocks.push([`${id}:res`, id, null, 'resolution', 1, DAY_MS, calendar, priority, iso(created), 0, null, null, null, resolved === null ? null : iso(resolved), resLate ? iso(created + DAY_MS) : null, resolved === null ? 'running' : 'met', '[]', iso(created)]);
      const legEnd = handedOff && frt !== null ? frt + HOUR : (resolved ?? null);
      rows.legs.push([`${id}:1`, id, 1, home, null, handedOff ? 'done' : 'accepted', null, null, null, null, 'system', iso(created), iso(created), legEnd === null ? null : iso(legEnd)]);
      if (handedOff && frt !== null) {
        const opened = frt + HOUR;
        const returned = random() < 0.15;
        const accepted = returned ? null : opened + Math.floor(random() * 2 * HOUR);
        const legClosed = returned ? opened + HOUR : resolved;
        rows.legs.push([`${id}:2`, id, 2, target, home, returned ? 'returned' : 'accepted', null, 'needs them', null, returned ? 'missing-info' : null, 'system', iso(opened), accepted === null ? null : iso(accepted), legClosed === null ? null : iso(legClosed)]);
        rows.clocks.push([`${id}:la`, id, `${id}:2`, 'leg_accept', 1, HOUR, config.departments.get(target)!.calendar, null, iso(opened), 0, null, null, null, accepted === null ? null : iso(accepted), returned ? iso(opened + HOUR) : null, 'met', '[]', iso(opened)]);
      }
      if (closed !== null && random() < 0.35) rows.surveys.push([id, `u${i % 5000}`, 1 + Math.floor(random() * 5), random() < 0.3 ? '很好 thanks' : null, iso(closed + HOUR)]);
      if (resolved !== null) rows.audits.push([`${id}:r`, id, iso(resolved), `a${i % 300}`, 'resolved', 'in_progress', 'resolved', null, null, null, null]);
    }
    yield rows;
  }
}

const COLUMNS = {
  tickets: ['id', 'key', 'department_id', 'home_department_id', 'category_id', 'priority', 'title', 'description', 'state', 'requester_id', 'assignee_id', 'sensitive', 'locale', 'source_platform', 'source_ref', 'current_leg_id', 'public_reply_count', 'reopen_count', 'version', 'created_at', 'updated_at', 'first_response_at', 'resolved_at', 'closed_at'],
  clocks: ['id', 'ticket_id', 'leg_id', 'kind', 'cycle', 'target_ms', 'calendar_id', 'policy_id', 'started_at', 'elapsed_ms', 'running_since', 'paused_at', 'due_at', 'met_at', 'breached_at', 'status', 'log', 'updated_at'],
  legs: ['id', 'ticket_id', 'seq', 'department_id', 'from_department_id', 'state', 'assignee_id', 'reason', 'note', 'return_reason', 'opened_by', 'opened_at', 'accepted_at', 'closed_at'],
  surveys: ['ticket_id', 'user_id', 'score', 'comment', 'answered_at'],
  audits: ['id', 'ticket_id', 'at', 'actor_id', 'action', 'from_state', 'to_state', 'reason', 'data', 'event_key', 'message_ref'],
} as const;
const TABLE: Record<keyof Rows, string> = { tickets: 'tickets', clocks: 'clocks', legs: 'legs', surveys: 'surveys', audits: 'audit_events' };

export function loadSqlite(file: string, config: Config, count: number): void {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const statements = Object.fromEntries(
    (Object.keys(COLUMNS) as (keyof Rows)[]).map((k) => [k, db.prepare(`insert into ${TABLE[k]} (${COLUMNS[k].join(',')}) values (${COLUMNS[k].map(() => '?').join(',')})`)]),
  ) as Record<keyof Rows, SQLite.Statement>;
  const insert = db.transaction((rows: Rows) => {
    for (const k of Object.keys(rows) as (keyof Rows)[]) for (const r of rows[k]) statements[k].run(...r);
  });
  for (const rows of generate(config, count, 20_000)) insert(rows);
  db.exec('analyze');
  db.close();
}

export async function loadPostgres(storage: Storage, config: Config, count: number): Promise<void> {
  for (const rows of generate(config, count, 5_000)) {
    for (const k of Object.keys(rows) as (keyof Rows)[]) {
      const cols = COLUMNS[k];
      const list = rows[k];
      if (list.length === 0) continue;
      // One array parameter per column, expanded by unnest: one round trip per table and batch.
      const arrays = cols.map((_, c) => list.map((r) => r[c]));
      const types = cols.map((col) => (['sensitive', 'public_reply_count', 'reopen_count', 'version', 'cycle', 'seq', 'score'].includes(col) ? 'int[]' : ['target_ms', 'elapsed_ms'].includes(col) ? 'bigint[]' : 'text[]'));
      await sql`insert into ${sql.table(TABLE[k])} (${sql.join(cols.map((c) => sql.id(c)))}) select * from unnest(${sql.join(arrays.map((a, i) => sql`${a}::${sql.raw(types[i]!)}`))})`.execute(storage.db);
    }
  }
  await sql`analyze`.execute(storage.db);
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** The last report-day boundary at or before END (the example's report zone is Asia/Shanghai). */
function alignedEnd(config: Config): number {
  for (let ms = END; ms > END - 2 * DAY_MS; ms -= HOUR) if (wholeReportDays(config, { fromMs: ms - DAY_MS, toMs: ms })) return ms;
  throw new Error('no report-day boundary near END');
}

/** Builds the rollup of the bench data (as the start-up does after the migration). */
export async function buildRollup(storage: Storage, config: Config): Promise<{ ms: number; cells: number }> {
  const env = { config, calendars: calendarsFromConfig(config.raw) };
  const t0 = performance.now();
  const { cells } = await storage.db.transaction().execute((tx) => rebuildRollup(env, tx, new Date().toISOString()));
  return { ms: performance.now() - t0, cells };
}

async function measure(label: string, storage: Storage, config: Config, count: number): Promise<string[]> {
  const src: ReportSource = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
  const depts = [...config.departments.keys()];
  const lines: string[] = [];
  const end = alignedEnd(config);
  const week = { fromMs: end - 7 * DAY_MS, toMs: end };
  const month = { fromMs: end - 30 * DAY_MS, toMs: end };
  // Warm-up: first queries pay for page cache and statement preparation.
  await loadMetrics(src, { ...week, departmentIds: [depts[0]!] }, end);
  for (const [periodName, period] of [['7 days', week], ['30 days', month]] as const) {
    const times: number[] = [];
    let tickets = 0;
    for (const d of depts) {
      const { ms, value } = await time(() => loadMetrics(src, { ...period, departmentIds: [d] }, end));
      times.push(ms);
      tickets += value.volume.created;
    }
    times.sort((a, b) => a - b);
    lines.push(`| ${label} | ${count.toLocaleString('en')} | one department, ${periodName} | ${Math.round(tickets / depts.length).toLocaleString('en')} | ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(0)} ms | ${times.at(-1)!.toFixed(0)} ms |`);
  }
  const allTimes: number[] = [];
  let created = 0;
  for (let i = 0; i < 3; i++) {
    const all = await time(() => loadMetrics(src, month, end));
    allTimes.push(all.ms);
    created = all.value.volume.created;
  }
  allTimes.sort((a, b) => a - b);
  lines.push(`| ${label} | ${count.toLocaleString('en')} | all departments, 30 days | ${created.toLocaleString('en')} | ${(allTimes.reduce((a, b) => a + b, 0) / allTimes.length).toFixed(0)} ms | ${allTimes.at(-1)!.toFixed(0)} ms |`);
  // A period that does not start at a report-day boundary (/ticket stats: "the last 7 days" from now) is computed from the rows.
  const rows = await time(() => loadMetrics(src, { fromMs: END - 7 * DAY_MS, toMs: END, departmentIds: [depts[0]!] }, END));
  lines.push(`| ${label} | ${count.toLocaleString('en')} | one department, 7 days not on day boundaries (rows) | ${rows.value.volume.created.toLocaleString('en')} | ${rows.ms.toFixed(0)} ms | ${rows.ms.toFixed(0)} ms |`);
  return lines;
}

/** Child process: bulk-loads a SQLite file and builds its rollup, so the parent's peak RSS is the reports' alone. */
async function loadChild(file: string, count: number): Promise<void> {
  const config = loadConfigFile(EXAMPLE_CONFIG_PATH);
  const fresh = await openStorage({ sqliteFile: file });
  await migrate(fresh.db);
  await fresh.close();
  const t0 = performance.now();
  loadSqlite(file, config, count);
  const loadMs = performance.now() - t0;
  const storage = await openStorage({ sqliteFile: file });
  try {
    const rollup = await buildRollup(storage, config);
    process.stdout.write(JSON.stringify({ loadMs, rollupMs: rollup.ms, cells: rollup.cells, rssMiB: peakRssMiB() }));
  } finally {
    await storage.close();
  }
}

export const reportsBenchmark: Benchmark = {
  name: 'reports',
  async run({ quick }) {
    const config = loadConfigFile(EXAMPLE_CONFIG_PATH);
    const sqliteCount = Number(process.env.BENCH_REPORTS_SQLITE ?? (quick ? 50_000 : 1_000_000));
    const pgCount = Number(process.env.BENCH_REPORTS_PG ?? (quick ? 20_000 : 1_000_000));
    const lines = [
      '## Reports: metrics summaries',
      '',
      `Tickets spread evenly over 30 days and ${config.departments.size} departments (config/example.yaml), with two clocks each, a first leg each, a handoff leg and leg clock for 20 %, surveys for a third of closed tickets. Time is one \`loadMetrics\` call (all six metrics plus volume, categories, backlog, efficiency and flows), after one warm-up query. Periods end at a report-day boundary (Asia/Shanghai midnight), so they are added up from the report rollup (migration 005: cells per day, department, category and priority, with the durations kept for exact medians); the backlog and the distinct handed-off tickets are SQL aggregates over the rows. The last row of each database is a period that does not start on a day boundary, computed from the rows as before. "all departments" is the mean / slowest of 3 runs.`,
      '',
      '| database | tickets in db | summary | tickets created in scope | mean | slowest |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    const notes: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'ticketbot-bench-'));
    try {
      const file = join(dir, 'reports.db');
      const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--load-child', file, String(sqliteCount)], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
      if (child.status !== 0) throw new Error(`sqlite loader failed (${child.status})`);
      const loaded = JSON.parse(child.stdout) as { loadMs: number; rollupMs: number; cells: number; rssMiB: number };
      console.error(`sqlite: loaded ${sqliteCount} tickets in ${(loaded.loadMs / 1000).toFixed(1)} s, rollup in ${(loaded.rollupMs / 1000).toFixed(1)} s`);
      notes.push(`SQLite: rows bulk-loaded in ${(loaded.loadMs / 1000).toFixed(1)} s; rollup rebuilt from them in ${(loaded.rollupMs / 1000).toFixed(1)} s (${loaded.cells.toLocaleString('en')} cells; loader process peak RSS ${loaded.rssMiB.toFixed(0)} MiB).`);
      const storage = await openStorage({ sqliteFile: file });
      try {
        lines.push(...(await measure('SQLite', storage, config, sqliteCount)));
      } finally {
        await storage.close();
      }
      notes.push(`Peak RSS of the process after the SQLite summaries: ${peakRssMiB().toFixed(0)} MiB.`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Same default as the core benchmark: the PostgreSQL every machine here runs.
    const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
    if (url !== 'off') {
      const schema = `bench_${randomBytes(4).toString('hex')}`;
      const storage = await openStorage({ databaseUrl: url, pgSchema: schema, poolSize: 6 });
      try {
        await migrate(storage.db);
        const t0 = performance.now();
        await loadPostgres(storage, config, pgCount);
        const loadMs = performance.now() - t0;
        const rollup = await buildRollup(storage, config);
        console.error(`postgres: loaded ${pgCount} tickets in ${(loadMs / 1000).toFixed(1)} s, rollup in ${(rollup.ms / 1000).toFixed(1)} s`);
        notes.push(`PostgreSQL: rows loaded in ${(loadMs / 1000).toFixed(1)} s; rollup rebuilt in ${(rollup.ms / 1000).toFixed(1)} s (${rollup.cells.toLocaleString('en')} cells), in this process.`);
        lines.push(...(await measure('PostgreSQL', storage, config, pgCount)));
      } catch (err) {
        // Keep the SQLite figures when the shared PostgreSQL misbehaves.
        console.error(err);
        notes.push(`PostgreSQL run failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await dropSchema(storage.db, schema).catch(() => undefined);
        await storage.close();
      }
    } else {
      lines.push('', 'PostgreSQL skipped (BENCH_DATABASE_URL=off).');
    }
    lines.push('', ...notes.map((n) => `- ${n}`), '', `Peak RSS of the process at the end (includes the PostgreSQL load and rebuild): ${peakRssMiB().toFixed(0)} MiB.`);
    return lines.join('\n');
  },
};

if (process.argv[2] === '--load-child') {
  loadChild(process.argv[3]!, Number(process.argv[4])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
