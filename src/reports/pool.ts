import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RawConfig } from '../config/schema';
import type { StorageOptions } from '../storage/database';
import { ReportTimeout, ReportWorkerFailed, type ReportRunner } from './runner';
import { digestMessages, type ReportKind, type ReportResults, type ReportTask, type TaskOf } from './tasks';

/**
 * A small pool of report worker threads (issue 16). Each worker opens its own read-only
 * connection (SQLite: the same file, readonly; WAL lets it read while the bot writes. PostgreSQL:
 * its own pool of 2 from the same URL and schema), builds the config from the same raw config,
 * and runs `runReportTask` for plain-data requests. A task over `timeoutMs` terminates its
 * worker (a synchronous SQLite statement cannot be interrupted any other way) and rejects with
 * ReportTimeout; a worker that dies rejects its task with ReportWorkerFailed. Either way a fresh
 * worker takes its place, and the bot process is not affected.
 */
export interface ReportPoolOptions {
  /** How the workers reach the database; `:memory:` cannot be shared (use the inline runner). */
  storage: StorageOptions;
  config: RawConfig;
  size?: number | undefined;
  timeoutMs: number;
  logger: Logger;
}

/** Loads the worker's TypeScript through tsx when the bot itself runs from .ts (tsx src/main.ts, jest). */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) require(workerData.tsx).register();
require(workerData.entry);
`;

interface Job {
  id: number;
  task: ReportTask;
  onChunk: ((chunk: string) => void | Promise<void>) | undefined;
  /** The chunks handed to onChunk so far, in order. */
  writing: Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Set when we terminate it on purpose (timeout, close): its exit is not a crash. */
  retired: boolean;
  started: boolean;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'chunk'; id: number; chunk: string }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'failed'; id: number; message: string }
  | { type: 'fatal'; message: string };

export class ReportWorkerPool implements ReportRunner {
  readonly mode = 'worker' as const;
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Counters for logs and tests. */
  readonly stats = { started: 0, done: 0, timedOut: 0, crashed: 0, chunks: 0 };

  constructor(private readonly o: ReportPoolOptions) {
    if (o.storage.sqliteFile === ':memory:') throw new Error('report workers cannot read an in-memory SQLite database: run reports inline');
    this.slots = Array.from({ length: Math.max(1, o.size ?? 1) }, () => undefined);
    for (let i = 0; i < this.slots.length; i++) this.slots[i] = this.spawn(i);
  }

  /** Resolves once every worker has its connection open (start-up, tests). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s?.ready));
  }

  run<K extends ReportKind>(task: TaskOf<K>, onChunk?: (chunk: string) => void | Promise<void>): Promise<ReportResults[K]> {
    if (this.closed) return Promise.reject(new ReportWorkerFailed(task.kind, 'report workers are stopped'));
    return new Promise<unknown>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, onChunk, writing: Promise.resolve(), resolve, reject });
      this.pump();
    }).then((r) => (task.kind === 'digest' ? digestMessages(r as never) : r) as ReportResults[K]);
  }

  /** Tests: ends a busy (else the first) worker the way a crash would — not asked for by the pool, so it is replaced. */
  async crashForTests(): Promise<void> {
    const slot = this.slots.find((s) => s?.job) ?? this.slots.find((s) => s);
    await slot?.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ReportWorkerFailed(job.task.kind, 'report workers are stopping'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot) return;
        slot.retired = true;
        if (slot.timer) clearTimeout(slot.timer);
        slot.job?.reject(new ReportWorkerFailed(slot.job.task.kind, 'report workers are stopping'));
        slot.job = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(index: number): Slot {
    const entry = require.resolve('./worker');
    const tsx = entry.endsWith('.ts') ? require.resolve('tsx/cjs/api') : undefined;
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { entry, tsx, storage: this.o.storage, config: this.o.config },
      // The worker's own heap limit: a runaway report dies there, not in the bot.
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    let readyResolve!: () => void;
    let readyReject!: (err: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => {});
    const slot: Slot = { worker, ready, job: undefined, timer: undefined, retired: false, started: false };
    this.stats.started++;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        slot.started = true;
        this.o.logger.info({ worker: index, threadId: worker.threadId }, 'report worker ready');
        readyResolve();
        this.pump();
        return;
      }
      if (m.type === 'fatal') {
        this.o.logger.error({ error: m.message }, 'report worker could not start');
        readyReject(new Error(m.message));
        return;
      }
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      if (m.type === 'chunk') {
        this.stats.chunks++;
        // In order, one after the other; a failing writer (a client gone) must not become an unhandled rejection.
        const chunk = m.chunk;
        job.writing = job.writing
          .then(() => job.onChunk?.(chunk))
          .catch((err: unknown) => this.o.logger.warn({ err, kind: job.task.kind }, 'report output could not be written'))
          // The worker sends its next chunk only when earlier ones are written (worker.ts CHUNKS_IN_FLIGHT).
          .then(() => {
            if (slot.job === job) slot.worker.postMessage({ type: 'written' });
          });
        return;
      }
      if (slot.timer) clearTimeout(slot.timer);
      slot.job = undefined;
      slot.timer = undefined;
      this.stats.done++;
      // The answer after the last chunk has been handed to the writer.
      const answer = m;
      void job.writing.then(() => (answer.type === 'done' ? job.resolve(answer.result) : job.reject(new Error(answer.message))));
      this.pump();
    });
    worker.on('error', (err) => {
      this.o.logger.error({ err }, 'report worker error');
    });
    worker.on('exit', (code) => {
      readyReject(new Error(`report worker exited (${code}) before it was ready`));
      if (slot.timer) clearTimeout(slot.timer);
      const job = slot.job;
      slot.job = undefined;
      if (slot.retired) return;
      this.stats.crashed++;
      if (!slot.started) {
        // It could not even open its connection: fail what waits, and try again on the next request (no respawn loop).
        const index = this.slots.indexOf(slot);
        if (index >= 0) this.slots[index] = undefined;
        for (const waiting of this.queue.splice(0)) waiting.reject(new ReportWorkerFailed(waiting.task.kind, `the report worker could not start (exit code ${code})`));
        return;
      }
      this.o.logger.error({ code, kind: job?.task.kind }, 'report worker died; starting another');
      job?.reject(new ReportWorkerFailed(job.task.kind, `exit code ${code}`));
      this.replace(slot);
    });
    return slot;
  }

  private replace(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    this.slots[index] = this.spawn(index);
  }

  /** Hands queued tasks to idle, ready workers (starting one where an earlier one could not start). */
  private pump(): void {
    for (let i = 0; i < this.slots.length; i++) if (!this.slots[i] && this.queue.length > 0 && !this.closed) this.slots[i] = this.spawn(i);
    for (const slot of this.slots) {
      if (!slot || slot.job || slot.retired || this.queue.length === 0) continue;
      void slot.ready.then(
        () => this.assign(slot),
        () => {},
      );
    }
  }

  private assign(slot: Slot): void {
    if (slot.job || slot.retired || this.closed || this.slots.indexOf(slot) < 0) return;
    const job = this.queue.shift();
    if (!job) return;
    slot.job = job;
    slot.timer = setTimeout(() => {
      if (slot.job !== job) return;
      this.stats.timedOut++;
      this.o.logger.warn({ kind: job.task.kind, limitMs: this.o.timeoutMs }, 'report took too long: worker terminated');
      slot.retired = true;
      slot.job = undefined;
      job.reject(new ReportTimeout(job.task.kind, this.o.timeoutMs));
      void slot.worker.terminate();
      this.replace(slot);
      this.pump();
    }, this.o.timeoutMs);
    slot.worker.postMessage({ id: job.id, task: job.task });
  }
}
