import { createReadStream, existsSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Command } from 'commander';
import { sql } from 'kysely';
import { SingleBar, Presets } from 'cli-progress';
import { parse } from 'csv-parse';
import { readEnv } from '../config/env';
import { loadConfigFile } from '../config/load';
import { locateConfig } from '../config/locate';
import { calendarsFromConfig } from '../domain/calendar';
import { BadRow, checkImportRow, importBatch, importColumns, IMPORT_OPTIONAL_COLUMNS, IMPORT_REQUIRED_COLUMNS, type ImportRow } from '../app/importTickets';
import { BulkRollup } from '../reports/rollup';
import { migrate, openStorage, type Storage } from '../storage/database';
import { deferIndexes, restoreDeferredIndexes, tablesEmpty } from '../storage/deferredIndexes';
import { action, configureCommand, EXIT_OK, EXIT_PROBLEM, UsageError } from './common';

/** Rows per transaction. */
const BATCH = 2000;
/** SQLite page cache during an import, KiB. */
const IMPORT_CACHE_KIB = 16 * 1024;
/** The tables an import writes rows to: their secondary indexes are built after a load into an empty desk. */
const LOADED_TABLES = ['tickets', 'legs', 'clocks', 'surveys', 'audit_events', 'report_contributions'] as const;
/** Bad rows listed one by one; the rest are counted. */
const LISTED_BAD_ROWS = 50;

/** Rows between two full garbage collections (see compactHeap). */
const COMPACT_EVERY = 10_000;

/**
 * A full garbage collection, when the runtime lets us have one. Every batch's rows live across
 * many statements, so they outlive the young generation and are promoted; V8 then lets the old
 * generation grow by hundreds of MB of garbage before it collects it (RSS 470 MiB at 100,000 rows,
 * with ~40 MB live). A collection every COMPACT_EVERY rows keeps the heap near what is live, for
 * a few tens of ms each. `--expose-gc` set at run time only exposes `gc` to new contexts.
 */
let fullGc: (() => void) | null | undefined;
function compactHeap(): void {
  if (fullGc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as unknown;
      fullGc = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      fullGc = null;
    }
  }
  fullGc?.();
}

export interface ImportSummary {
  rows: number;
  imported: number;
  existing: number;
  bad: { line: number; message: string }[];
  seconds: number;
  /** Secondary indexes dropped for the load and built after it (an import into an empty desk). */
  deferredIndexes: number;
}

/**
 * `ticketbot import FILE.csv`: loads past tickets (see src/app/importTickets.ts). Streams the file,
 * so memory stays flat however long it is.
 */
export async function runImport(
  file: string,
  opts: { configFile?: string | undefined; dryRun: boolean; now?: number; /** An open storage (tests); else the one the environment names. */ storage?: Storage; onProgress?: (bytes: number) => void; /** Rollup cells pending before they are written (tests). */ pendingCells?: number;
    /** Build the secondary indexes after the load when the tables are empty (default true). */
    deferIndexes?: boolean;
    /** While the indexes are built after the load. */
    onIndex?: (name: string, done: number, of: number) => void;
  },
): Promise<ImportSummary> {
  const started = performance.now();
  const config = loadConfigFile(opts.configFile ?? locateConfig().path);
  const calendars = calendarsFromConfig(config.raw);
  const env = readEnv();
  const own = !opts.dryRun && !opts.storage;
  const storage = opts.dryRun ? undefined : (opts.storage ?? (await openStorage({ databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE })));
  const summary: ImportSummary = { rows: 0, imported: 0, existing: 0, bad: [], seconds: 0, deferredIndexes: 0 };
  let restoreCache: number | undefined;
  let failed = false;
  let indexError: unknown;
  const badRow = (line: number, message: string) => summary.bad.push({ line, message });
  try {
    if (storage && own) await migrate(storage.db);
    if (storage) {
      // Indexes a killed import left dropped are built first; into an empty desk, the secondary
      // indexes are dropped now and built after the load (storage/deferredIndexes.ts).
      await restoreDeferredIndexes(storage.db);
      if (opts.deferIndexes !== false && (await tablesEmpty(storage.db, LOADED_TABLES))) {
        summary.deferredIndexes = (await deferIndexes(storage.db, LOADED_TABLES, new Date().toISOString())).length;
      }
    }
    // SQLite: a larger page cache while loading (the default 2 MB thrashes on the tickets' indexes).
    if (storage?.dialect === 'sqlite') {
      const [row] = (await sql<{ cache_size: number }>`pragma cache_size`.execute(storage.db)).rows;
      restoreCache = row?.cache_size;
      await sql.raw(`pragma cache_size = -${IMPORT_CACHE_KIB}`).execute(storage.db);
    }
    const nowMs = opts.now ?? Date.now();
    const bulk = new BulkRollup({ config, calendars }, opts.pendingCells, compactHeap);
    let begun = false;
    const parser = createReadStream(file).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true }));
    let column: Map<string, number> | undefined;
    let batch: ImportRow[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      if (storage) {
        if (!begun) await bulk.begin(storage.db);
        begun = true;
        const result = await importBatch({ db: storage.db, config, calendars }, bulk, batch, nowMs);
        summary.imported += result.imported;
        summary.existing += result.existing;
        for (const r of result.refused) badRow(r.line, r.message);
      }
      batch = [];
    };
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      if (!column) {
        const checked = importColumns(record);
        if (typeof checked === 'string') throw new UsageError(`${file}: ${checked}`);
        column = checked;
        continue;
      }
      summary.rows++;
      try {
        batch.push(checkImportRow(config, calendars, column, record, info.lines));
      } catch (err) {
        if (!(err instanceof BadRow)) throw err;
        badRow(err.line, err.message);
      }
      if (batch.length >= BATCH) {
        await flush();
        if (summary.rows % COMPACT_EVERY < BATCH) compactHeap();
        opts.onProgress?.(info.bytes);
      }
    }
    if (!column) throw new UsageError(`${file}: empty file (expected a header row: ${IMPORT_REQUIRED_COLUMNS.join(',')})`);
    await flush();
    compactHeap();
    if (storage && begun) await bulk.finish(storage.db, new Date(nowMs).toISOString());
    compactHeap();
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (summary.deferredIndexes) {
      try {
        await restoreDeferredIndexes(storage!.db, opts.onIndex);
      } catch (err) {
        // After a failed load the load's error is the one to report; the record stays for the next start.
        if (!failed) indexError = err;
      }
    }
    if (restoreCache !== undefined) await sql.raw(`pragma cache_size = ${Number(restoreCache)}`).execute(storage!.db);
    // PostgreSQL plans from statistics and answers index-only scans from the visibility map; after a
    // bulk load both are stale until autovacuum comes by (at 1,000,000 tickets a period's summary
    // took 13 s instead of 1 s). VACUUM cannot run in a transaction: one statement per table.
    if (storage?.dialect === 'postgres' && !failed && summary.imported > 0 && indexError === undefined) {
      for (const table of [...LOADED_TABLES, 'report_cells']) await sql.raw(`vacuum analyze ${table}`).execute(storage.db);
    }
    if (own) await storage?.close();
  }
  if (indexError !== undefined) throw indexError;
  summary.bad.sort((a, b) => a.line - b.line);
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

export function formatImportSummary(s: ImportSummary, dryRun: boolean): string[] {
  const lines = [
    dryRun
      ? `checked ${s.rows} row(s) in ${s.seconds.toFixed(1)} s: ${s.rows - s.bad.length} good, ${s.bad.length} bad (dry run: nothing written)`
      : `imported ${s.imported} ticket(s) from ${s.rows} row(s) in ${s.seconds.toFixed(1)} s; ${s.existing} already imported (same id), ${s.bad.length} bad row(s)`,
  ];
  for (const b of s.bad.slice(0, LISTED_BAD_ROWS)) lines.push(`  line ${b.line}: ${b.message}`);
  if (s.bad.length > LISTED_BAD_ROWS) lines.push(`  … and ${s.bad.length - LISTED_BAD_ROWS} more bad row(s)`);
  return lines;
}

export function registerImportCommand(program: Command): void {
  configureCommand(
    program
      .command('import')
      .description('load past tickets from a CSV (clocks computed as if worked live; no timers, no messages; idempotent by id)')
      .argument('<file>', `CSV with a header row: ${IMPORT_REQUIRED_COLUMNS.join(', ')}; optional ${IMPORT_OPTIONAL_COLUMNS.join(', ')}`)
      .option('--config <file>', 'config file (default: $TICKETBOT_CONFIG or ./ticketbot.yaml)')
      .option('--dry-run', 'check every row and report, write nothing', false),
  ).action(
    action(async (file: string, opts: { config?: string; dryRun: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`file not found: ${file}`);
      // A progress bar only on an interactive terminal: never in pipes, logs or CI output.
      const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, clearOnComplete: true, format: ' {bar} {percentage}% | {value}/{total} MB' }, Presets.shades_classic) : undefined;
      const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
      bar?.start(mb(statSync(file).size), 0);
      const summary = await runImport(file, {
        configFile: opts.config,
        dryRun: opts.dryRun,
        onProgress: (bytes) => bar?.update(mb(bytes)),
        // Into an empty desk the indexes are built after the load (a minute at 1,000,000 rows).
        onIndex: (name, done, of) => {
          if (!bar) return;
          if (done === 0) bar.stop();
          process.stderr.write(`\r building index ${done + 1}/${of}: ${name}\u001b[K`);
          if (done + 1 === of) process.stderr.write('\n');
        },
      });
      bar?.stop();
      console.log(formatImportSummary(summary, opts.dryRun).join('\n'));
      return summary.bad.length ? EXIT_PROBLEM : EXIT_OK;
    }),
  );
}
