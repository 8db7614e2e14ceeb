import { parentPort, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
import { buildConfig } from '../config/model';
import type { RawConfig } from '../config/schema';
import { calendarsFromConfig } from '../domain/calendar';
import { openStorage, type StorageOptions } from '../storage/database';
import { CHUNKS_IN_FLIGHT } from './runner';
import { runReportTask, type ReportTask } from './tasks';

/**
 * The report worker thread (started by pool.ts): its own read-only connection and config, then
 * one task at a time, answered with plain data. A PNG goes back as bytes (structured clone).
 */
async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as { storage: StorageOptions; config: RawConfig };
  let storage;
  try {
    storage = await openStorage({ ...data.storage, readonly: true, poolSize: 2 });
    // Connect now: a database the worker cannot reach fails at start, not in the middle of a user's report.
    await sql`select 1`.execute(storage.db);
  } catch (err) {
    port.postMessage({ type: 'fatal', message: (err as Error).message });
    process.exit(1);
  }
  const config = buildConfig(data.config);
  const ctx = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
  // Back-pressure for streamed output (CSV): at most CHUNKS_IN_FLIGHT chunks the bot has not yet
  // written out; the export's next page waits for a 'written' from the bot (a slow client slows
  // the worker instead of filling the bot's memory).
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const emit = (id: number) => (chunk: string): Promise<void> | undefined => {
    port.postMessage({ type: 'chunk', id, chunk });
    inFlight++;
    return inFlight < CHUNKS_IN_FLIGHT ? undefined : new Promise<void>((resolve) => waiting.push(resolve));
  };
  port.on('message', async (m: { type: 'written' } | { type?: undefined; id: number; task: ReportTask }) => {
    if (m.type === 'written') {
      inFlight--;
      waiting.shift()?.();
      return;
    }
    inFlight = 0;
    try {
      const result = await runReportTask(ctx, m.task, emit(m.id));
      port.postMessage({ type: 'done', id: m.id, result });
    } catch (err) {
      port.postMessage({ type: 'failed', id: m.id, message: (err as Error).message });
    }
  });
  port.postMessage({ type: 'ready' });
}

void main();
