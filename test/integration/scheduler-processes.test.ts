import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStorage, type Storage } from '../../src/storage/database';
import { openMigratedPostgres, openMigratedSqlite } from '../support/storage';
import { firingSummary, seedDueTimers } from '../fixtures/scheduler-test-handler';

/**
 * Schedulers in separate processes sharing one database: SQLite (a file) always, PostgreSQL when
 * TEST_DATABASE_URL is set. Separate processes, because that is how replicas share a database —
 * and two SQLite connections in one event loop would block each other on the file lock.
 */

const ROOT = join(__dirname, '..', '..');
const WORKER = join(ROOT, 'test', 'fixtures', 'scheduler-worker.ts');

interface Target {
  name: string;
  /** Opens the (migrated) database for the test to seed and inspect. */
  open(): Promise<{ storage: Storage; workerArgs: string[]; cleanup(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ticketbot-sched-'));
      const file = join(dir, 'db.sqlite');
      const storage = await openMigratedSqlite(file);
      return { storage, workerArgs: ['--sqlite', file], cleanup: async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
];
const pgUrl = process.env.TEST_DATABASE_URL;
if (pgUrl) {
  targets.push({
    name: 'postgres',
    async open() {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const storage = await openMigratedPostgres(pgUrl, schema);
      return { storage, workerArgs: ['--pg', pgUrl, '--schema', schema], cleanup: () => storage.close() };
    },
  });
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  /** The totals the worker prints when it is done; rejects if it dies. */
  done: Promise<{ owner: string; ok: number; error: number; lost: number }>;
}

function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<Worker['done'] extends Promise<infer T> ? T : never>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`worker exited with ${code ?? signal}: ${err.slice(-2000)}`));
    });
  });
  return { child, ready, done };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(targets)('scheduler replicas in separate processes ($name)', (target) => {
  it('two replicas and 2,000 timers due at once: each fires exactly once, one outbox row per firing', async () => {
    const { storage, workerArgs, cleanup } = await target.open();
    try {
      await seedDueTimers(storage.db, 2000, new Date(Date.now() - 1000).toISOString());
      const workers = ['r1', 'r2'].map((owner) => startWorker([...workerArgs, '--owner', owner, '--batch', '100', '--lease-ms', '30000', '--pause-ms', '20', '--wait-for-go']));
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.child.stdin.write('go\n');
      const totals = await Promise.all(workers.map((w) => w.done));

      expect(totals.reduce((n, t) => n + t.ok, 0)).toBe(2000);
      expect(totals.every((t) => t.error === 0)).toBe(true);
      // Both replicas took part (otherwise this would not test anything about concurrency).
      expect(totals.every((t) => t.ok > 0)).toBe(true);
      expect(await firingSummary(storage.db)).toEqual({ firings: 2000, outbox: 2000, duplicated: 0, pendingTimers: 0, leasedTimers: 0 });
    } finally {
      await cleanup();
    }
  }, 45_000);

  it('a replica killed with SIGKILL mid-batch loses nothing and repeats nothing after a restart', async () => {
    const { storage, workerArgs, cleanup } = await target.open();
    try {
      const total = 300;
      await seedDueTimers(storage.db, total, new Date(Date.now() - 1000).toISOString());
      // A slow handler keeps each timer's transaction open for a while, so the kill lands inside one.
      const first = startWorker([...workerArgs, '--owner', 'doomed', '--batch', '50', '--lease-ms', '1500', '--delay-ms', '5']);
      const died = first.done.catch(() => 'killed');
      await waitFor(async () => (await firingSummary(storage.db)).firings >= 60, 20_000);
      first.child.kill('SIGKILL');
      expect(await died).toBe('killed');

      const afterKill = await firingSummary(storage.db);
      expect(afterKill.firings).toBeLessThan(total);
      expect(afterKill.firings).toBe(afterKill.outbox);
      // The batch it was working on is still leased to the dead replica.
      expect(afterKill.leasedTimers).toBeGreaterThan(0);

      const second = startWorker([...workerArgs, '--owner', 'successor', '--batch', '50', '--lease-ms', '1500']);
      const totals = await second.done;
      expect(totals.error).toBe(0);
      expect(totals.ok).toBe(total - afterKill.firings);
      expect(await firingSummary(storage.db)).toEqual({ firings: total, outbox: total, duplicated: 0, pendingTimers: 0, leasedTimers: 0 });
    } finally {
      await cleanup();
    }
  }, 45_000);
});

// The storage opened for the test is separate from the workers' connections; make sure a plain
// open of the same SQLite file sees what they wrote (guards against testing a private :memory: db).
it('workers and test share the SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ticketbot-sched-'));
  const file = join(dir, 'db.sqlite');
  const a = await openMigratedSqlite(file);
  const b = await openStorage({ sqliteFile: file });
  try {
    await seedDueTimers(a.db, 3, new Date().toISOString());
    expect((await firingSummary(b.db)).pendingTimers).toBe(3);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
