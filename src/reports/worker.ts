import { parentPort, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
import { buildConfig } from '../config/model';
import type { RawConfig } from '../config/schema';
import { calendarsFromConfig } from '../domain/calendar';
import { openStorage, type StorageOptions } from '../storage/database';
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
  port.on('message', async (m: { id: number; task: ReportTask }) => {
    try {
      const result = await runReportTask(ctx, m.task, (chunk) => port.postMessage({ type: 'chunk', id: m.id, chunk }));
      port.postMessage({ type: 'done', id: m.id, result });
    } catch (err) {
      port.postMessage({ type: 'failed', id: m.id, message: (err as Error).message });
    }
  });
  port.postMessage({ type: 'ready' });
}

void main();
