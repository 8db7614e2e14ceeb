import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { Presets, SingleBar } from 'cli-progress';
import { systemTime, type TimeSource } from '../src/app/context';
import { Scheduler } from '../src/jobs/scheduler';
import { OutboxDispatcher, type OutboxSender, type SendOutcome } from '../src/jobs/outbox-dispatcher';
import { dropSchema, migrate, openStorage, type Storage } from '../src/storage/database';
import type { OutboxRow } from '../src/storage/tables';
import { percentile, type Benchmark } from './harness';

/**
 * The scheduler and the outbox under load: an idle tick over many future timers, a burst of
 * 10,000 due timers with a trivial handler, and 1,000 messages to 10 channels against a fake
 * platform that refuses (429) more than one message per second per channel.
 *
 * Seeding writes one clock timer per open ticket, generated inside the database
 * (generate_series / a recursive CTE) in transactions of 100,000 rows; the scheduler never reads
 * the tickets table, so only the timers are seeded.
 */

const NOW = Date.parse('2026-03-02T09:00:00.000Z');
const DAY_MS = 86_400_000;
const SEED_CHUNK = 100_000;
const silent = pino({ level: 'silent' });
const fixedTime: TimeSource = { now: () => new Date(NOW) };

async function seedTimers(storage: Storage, count: number, label: string): Promise<number> {
  const bar = process.stderr.isTTY ? new SingleBar({ format: `  seeding ${label} {bar} {value}/{total} timers`, hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(count, 0);
  const started = performance.now();
  // next_action_at spreads over the 30 days after NOW, so nothing is due at NOW.
  const base = new Date(NOW + 60_000).toISOString();
  for (let from = 0; from < count; from += SEED_CHUNK) {
    const to = Math.min(count, from + SEED_CHUNK) - 1;
    await storage.db.transaction().execute(async (tx) => {
      if (storage.dialect === 'postgres') {
        await sql`insert into timers (id, kind, ticket_id, clock_id, next_action_at, lease_owner, lease_until, payload, updated_at)
          select 'clock:t' || g, 'clock', 't' || g, 't' || g,
                 to_char((${base}::timestamptz + ((g::bigint * 7919) % ${30 * 86_400}) * interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 null, null, null, ${base}
          from generate_series(${from}::int, ${to}::int) g`.execute(tx);
      } else {
        // better-sqlite3 binds JS numbers as REAL: cast, or the ids would read t1.0.
        await sql`with recursive g(n) as (select cast(${from} as integer) union all select n + 1 from g where n < cast(${to} as integer))
          insert into timers (id, kind, ticket_id, clock_id, next_action_at, lease_owner, lease_until, payload, updated_at)
          select 'clock:t' || n, 'clock', 't' || n, 't' || n,
                 strftime('%Y-%m-%dT%H:%M:%fZ', ${base}, '+' || ((n * 7919) % ${30 * 86_400}) || ' seconds'),
                 null, null, null, ${base}
          from g`.execute(tx);
      }
    });
    bar?.update(to + 1);
  }
  bar?.stop();
  if (storage.dialect === 'postgres') await sql`analyze timers`.execute(storage.db);
  else await sql`analyze`.execute(storage.db);
  return performance.now() - started;
}

/** Makes `count` timers due now (the ones with the smallest ids after `offset`). */
async function makeDue(storage: Storage, offset: number, count: number): Promise<void> {
  const due = new Date(NOW - 1000).toISOString();
  for (let i = offset; i < offset + count; i += 5000) {
    const ids = Array.from({ length: Math.min(5000, offset + count - i) }, (_, k) => `clock:t${i + k}`);
    await storage.db.updateTable('timers').set({ next_action_at: due }).where('id', 'in', ids).execute();
  }
}

/** `timersPerTransaction` 0: the scheduler's default for the dialect. */
function scheduler(storage: Storage, timersPerTransaction: number): Scheduler {
  return new Scheduler({
    db: storage.db,
    dialect: storage.dialect,
    owner: 'bench',
    tickMs: 1000,
    batchSize: 500,
    leaseMs: 60_000,
    time: fixedTime,
    logger: silent,
    ...(timersPerTransaction > 0 ? { timersPerTransaction } : {}),
    // The trivial handler: look again tomorrow.
    handler: async () => ({ nextActionAt: new Date(NOW + DAY_MS).toISOString() }),
  });
}

interface SchedulerFigures {
  seeded: number;
  seedSeconds: number;
  idleMedianMs: number;
  idleP95Ms: number;
  burst: { perTx: number; ms: number }[];
}

async function measureScheduler(storage: Storage, count: number, label: string): Promise<SchedulerFigures> {
  const seedMs = await seedTimers(storage, count, label);
  const s = scheduler(storage, 0);
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) await s.tickOnce(); // warm-up
  for (let i = 0; i < 200; i++) {
    const r = await s.tickOnce();
    if (r.claimed !== 0) throw new Error('idle tick claimed timers');
    idle.push(r.durationMs);
  }
  idle.sort((a, b) => a - b);
  const burst: SchedulerFigures['burst'] = [];
  const BURST = 10_000;
  for (const [i, perTx] of [0, 1].entries()) {
    await makeDue(storage, i * BURST, BURST);
    const runner = scheduler(storage, perTx);
    const started = performance.now();
    let handled = 0;
    for (;;) {
      const r = await runner.tickOnce();
      handled += r.processed;
      if (r.claimed === 0) break;
    }
    burst.push({ perTx, ms: performance.now() - started });
    if (handled !== BURST) throw new Error(`processed ${handled} of ${BURST}`);
  }
  return { seeded: count, seedSeconds: seedMs / 1000, idleMedianMs: percentile(idle, 50), idleP95Ms: percentile(idle, 95), burst };
}

/** A platform that accepts at most one message per `intervalMs` per channel and answers 429 otherwise. */
class RateLimitedFake implements OutboxSender {
  readonly platform = 'slack' as const;
  private readonly last = new Map<string, number>();
  accepted = 0;
  refused = 0;
  constructor(private readonly intervalMs: number) {}
  async send(row: { target_id: string }): Promise<SendOutcome> {
    const now = Date.now();
    const prev = this.last.get(row.target_id);
    if (prev !== undefined && now - prev < this.intervalMs) {
      this.refused++;
      return { ok: false, error: 'ratelimited', retryAfterMs: this.intervalMs - (now - prev) };
    }
    this.last.set(row.target_id, now);
    this.accepted++;
    return { ok: true };
  }
}

interface DeliveryFigures {
  messages: number;
  channels: number;
  intervalMs: number;
  seconds: number;
  lowerBoundSeconds: number;
  refused: number;
}

async function measureDelivery(storage: Storage, messages: number, channels: number, intervalMs: number): Promise<DeliveryFigures> {
  const created = new Date(Date.now() - 1000).toISOString();
  const rows: Omit<OutboxRow, 'attempts'>[] = [];
  for (let i = 0; i < messages; i++) {
    const ticket = `bt${i % 200}`;
    const channel = `CB${i % channels}`;
    rows.push({
      id: `b${String(i).padStart(6, '0')}`, idempotency_key: `bench:${i}`, ticket_id: ticket, ticket_version: 1, platform: 'slack', target_kind: 'channel', target_id: channel,
      event: 'ticket.reply', payload: '{"messageKey":"event.ticket.reply","params":{},"thread":"card"}', locale: 'en', urgent: 0, order_key: `${ticket}:slack:${channel}`,
      status: 'pending', next_attempt_at: created, lease_owner: null, lease_until: null, last_error: null, created_at: created, sent_at: null,
    });
  }
  for (let i = 0; i < rows.length; i += 500) await storage.db.insertInto('outbox').values(rows.slice(i, i + 500)).execute();
  const fake = new RateLimitedFake(intervalMs);
  let ids = 0;
  const d = new OutboxDispatcher({
    db: storage.db, dialect: storage.dialect, owner: 'bench', sender: fake, time: systemTime, logger: silent, admins: [], defaultLocale: 'en',
    newId: () => `bn${ids++}`, targetIntervalMs: intervalMs, tickMs: Math.min(500, intervalMs),
  });
  const bar = process.stderr.isTTY ? new SingleBar({ format: '  delivering {bar} {value}/{total} messages', hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(messages, 0);
  const started = performance.now();
  d.start();
  while (fake.accepted < messages) {
    await new Promise((r) => setTimeout(r, 50));
    bar?.update(fake.accepted);
  }
  const seconds = (performance.now() - started) / 1000;
  await d.stop();
  bar?.stop();
  const perChannel = Math.ceil(messages / channels);
  return { messages, channels, intervalMs, seconds, lowerBoundSeconds: ((perChannel - 1) * intervalMs) / 1000, refused: fake.refused };
}

async function withSqlite<T>(work: (s: Storage) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ticketbot-bench-sched-'));
  const storage = await openStorage({ sqliteFile: join(dir, 'bench.db') });
  try {
    await migrate(storage.db);
    return await work(storage);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withPostgres<T>(url: string, work: (s: Storage) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const storage = await openStorage({ databaseUrl: url, pgSchema: schema, poolSize: 8 });
  try {
    await migrate(storage.db);
    return await work(storage);
  } finally {
    await dropSchema(storage.db, schema);
    await storage.close();
  }
}

export const schedulerBenchmark: Benchmark = {
  name: 'scheduler',
  async run({ quick }) {
    const count = quick ? 50_000 : 1_000_000;
    // Like bench/reports.ts: this machine's PostgreSQL unless told otherwise (BENCH_DATABASE_URL=off skips it).
    const wanted = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
    const pgUrl = wanted === 'off' ? undefined : wanted;
    const results: { db: string; figures: SchedulerFigures }[] = [];
    results.push({ db: 'SQLite (file, WAL)', figures: await withSqlite((s) => measureScheduler(s, count, 'SQLite')) });
    if (pgUrl) results.push({ db: 'PostgreSQL', figures: await withPostgres(pgUrl, (s) => measureScheduler(s, count, 'PostgreSQL')) });

    // The real 1/s limit takes ~100 s per run: run it once (SQLite) in a full run; otherwise and on
    // PostgreSQL the time scale is compressed ×10 (100 ms per message per channel).
    const deliveries: { db: string; figures: DeliveryFigures }[] = [];
    deliveries.push({ db: 'SQLite', figures: await withSqlite((s) => measureDelivery(s, 1000, 10, quick ? 100 : 1000)) });
    if (pgUrl) deliveries.push({ db: 'PostgreSQL', figures: await withPostgres(pgUrl, (s) => measureDelivery(s, 1000, 10, 100)) });

    const lines = [
      '## Scheduler and outbox',
      '',
      'Timers seeded as one clock timer per open ticket, all due within the next 30 days (nothing due at the measured instant). The 10,000-timer burst uses a trivial handler (no network); "per tx" is how many timers share a transaction (the default is 25 on SQLite and 100 on PostgreSQL, where every commit waits for the disk; a handler error re-runs that transaction with a savepoint per timer; 1 is a transaction per timer).',
      '',
      '| database | timers | seeding | idle tick median | idle tick p95 | 10,000 due, default per tx | 10,000 due, 1 per tx |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...results.map(({ db, figures: f }) => {
        const b = (n: number) => `${(f.burst.find((x) => x.perTx === n)!.ms / 1000).toFixed(2)} s`;
        return `| ${db} | ${f.seeded.toLocaleString('en')} | ${f.seedSeconds.toFixed(0)} s | ${f.idleMedianMs.toFixed(2)} ms | ${f.idleP95Ms.toFixed(2)} ms | ${b(0)} | ${b(1)} |`;
      }),
      '',
      'Delivery of 1,000 messages to 10 channels (200 tickets) against a fake platform that answers 429 to a second message within the interval on a channel. Lower bound = 99 intervals per channel.',
      '',
      '| database | interval per channel | time scale | elapsed | lower bound | over the bound | 429s received |',
      '|---|---:|---|---:|---:|---:|---:|',
      ...deliveries.map(({ db, figures: f }) =>
        `| ${db} | ${f.intervalMs} ms | ${f.intervalMs === 1000 ? 'real (1/s)' : `compressed ×${1000 / f.intervalMs}`} | ${f.seconds.toFixed(1)} s | ${f.lowerBoundSeconds.toFixed(1)} s | ${(((f.seconds - f.lowerBoundSeconds) / f.lowerBoundSeconds) * 100).toFixed(1)} % | ${f.refused} |`,
      ),
    ];
    return lines.join('\n');
  },
};
