import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
  type CompiledQuery,
  type KyselyPlugin,
  type Migration,
  type MigrationProvider,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type Transaction,
  type UnknownRow,
} from 'kysely';
import type pgTypes from 'pg';
import * as m001 from '../../db/migrations/001_initial';
import * as m002 from '../../db/migrations/002_report_indexes';
import * as m003 from '../../db/migrations/003_report_speed';
import * as m004 from '../../db/migrations/004_legs_covering';
import * as m005 from '../../db/migrations/005_report_rollup';
import * as m006 from '../../db/migrations/006_inbound_events';
import * as m010 from '../../db/migrations/010_knowledge_base';
import * as m011 from '../../db/migrations/011_return_reason_ids';
import * as m012 from '../../db/migrations/012_chart_blobs';
import * as m013 from '../../db/migrations/013_deflection_webhooks';
import * as m014 from '../../db/migrations/014_workflow';
import * as m015 from '../../db/migrations/015_drop_report_indexes';
import * as m018 from '../../db/migrations/018_deferred_indexes';
import * as m019 from '../../db/migrations/019_backlog_created_ms';
import { startCheckpointer } from './checkpointer';
import type { Database } from './tables';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Repositories take either the database or a transaction. */
export type DbOrTx = Db | Tx;
export type DialectName = 'sqlite' | 'postgres';

export interface Storage {
  db: Db;
  dialect: DialectName;
  /** Where the data lives, without secrets (file path or postgres host/db). */
  description: string;
  close(): Promise<void>;
  /**
   * SQLite only: runs one compiled statement on its own (autocommit) as soon as no transaction is
   * open on the connection, instead of queueing behind every use case waiting for kysely's single
   * connection. For the durable intake's insert before an ack (see decisions.md).
   */
  runSoon?: (query: CompiledQuery) => Promise<unknown[]>;
}

export interface StorageOptions {
  /** postgres://… — when set, PostgreSQL is used. */
  databaseUrl?: string | undefined;
  /** SQLite file, or ':memory:'. */
  sqliteFile?: string | undefined;
  /** PostgreSQL schema to use (tests use one schema per file); created when missing. */
  pgSchema?: string | undefined;
  poolSize?: number | undefined;
  /** A reader's connection (report workers, issue 16): SQLite opens the file read-only; PostgreSQL sessions default to read-only transactions. */
  readonly?: boolean | undefined;
}

/** The pg driver, loaded when PostgreSQL is first used (SQLite-only processes such as most CLI runs never load it). */
let pgDriver: typeof pgTypes | undefined;
function loadPg(): typeof pgTypes {
  if (!pgDriver) {
    pgDriver = require('pg') as typeof pgTypes;
    // int8 (bigint) and numeric come back as strings by default; our values fit in a double.
    pgDriver.types.setTypeParser(20, (v) => Number(v));
  }
  return pgDriver;
}

export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.pgSchema, options.poolSize, options.readonly);
  if (options.readonly) return openSqliteReader(options.sqliteFile ?? './data/ticketbot.db');
  return openSqlite(options.sqliteFile ?? './data/ticketbot.db');
}

/**
 * A read-only connection to a SQLite file another connection writes (report workers): WAL
 * (set by the writer) lets it read a consistent snapshot while the bot writes; no checkpointer,
 * no pragmas that write.
 */
function openSqliteReader(file: string): Storage {
  if (file === ':memory:') throw new Error('an in-memory SQLite database has no second reader');
  const database = new SQLite(file, { readonly: true, fileMustExist: true });
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return { db, dialect: 'sqlite', description: `SQLite ${resolve(file)} (read-only)`, close: () => db.destroy() };
}

export function openSqlite(file: string): Storage {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  // NORMAL in WAL mode: a crash of the process loses nothing; fewer fsyncs than FULL.
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // A checkpoint on this connection would stall the event loop (see checkpointer.ts): a worker
  // thread does them every second; this connection only steps in if the WAL passes ~200 MB.
  const checkpointer = file === ':memory:' ? undefined : startCheckpointer(resolve(file), 1000, (message) => console.error(`ticketbot: WAL checkpoint failed: ${message}`));
  if (checkpointer) database.pragma('wal_autocheckpoint = 50000');
  const lane = new PriorityLane(database);
  const handle = withImmediateTransactions(database, lane);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: handle }), plugins: [new YieldBetweenQueries()] });
  const runSoon = (query: CompiledQuery): Promise<unknown[]> => lane.run(() => {
    const stmt = handle.prepare(query.sql);
    const params = query.parameters as unknown[];
    return stmt.reader ? stmt.all(...params) : (stmt.run(...params), []);
  });
  return {
    db,
    runSoon,
    dialect: 'sqlite',
    description: file === ':memory:' ? 'SQLite (in memory)' : `SQLite ${resolve(file)}`,
    close: async () => {
      await db.destroy();
      await checkpointer?.stop();
    },
  };
}

/**
 * The durable intake's fast lane (Storage.runSoon). A use case's transaction holds the one
 * connection across event-loop turns (YieldBetweenQueries), and kysely hands the connection to the
 * next queued transaction in a microtask right after a COMMIT: under load there is never a turn
 * without an open transaction, so waiting for one (as this lane first did) waited for the whole
 * backlog. Instead the statements wait here and run in the gap the handle sees itself: right
 * after each COMMIT or ROLLBACK and right before each BEGIN, on their own (autocommit, never
 * inside a transaction whose rollback would take them). An insert thus waits at most for the rest
 * of the one transaction that is open when it arrives. A poll each event-loop turn remains for
 * transactions not opened through kysely (none today).
 */
class PriorityLane {
  private readonly pending: Array<{ work: () => unknown[]; resolve: (rows: unknown[]) => void; reject: (err: unknown) => void }> = [];
  private polling = false;
  constructor(private readonly database: SQLite.Database) {}

  run(work: () => unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ work, resolve, reject });
      this.flush();
      if (this.pending.length > 0 && !this.polling) {
        this.polling = true;
        this.poll();
      }
    });
  }

  /** Runs every waiting statement now, unless a transaction is open. Never throws. */
  flush(): void {
    while (this.pending.length > 0 && !this.database.inTransaction) {
      const next = this.pending.shift()!;
      try {
        next.resolve(next.work());
      } catch (err) {
        next.reject(err);
      }
    }
  }

  private readonly poll = (): void => {
    this.flush();
    if (this.pending.length > 0) setImmediate(this.poll);
    else this.polling = false;
  };
}

/**
 * better-sqlite3 runs each statement synchronously, and kysely chains them with already-resolved
 * promises, so a whole use case would otherwise run without the event loop taking a turn: acks of
 * requests that arrived meanwhile would wait for it. A macrotask turn lets them through
 * (bench/slack-ack measures the difference) — but not after every statement: a turn costs about
 * as much as one of our small statements, and a ticket's creation runs ~30 of them. The loop takes
 * a turn once statements have run for `budgetMs` since its last turn, so it is never held longer
 * than that plus one statement (issue 16, decisions.md "Yield by time, not per statement").
 */
class YieldBetweenQueries implements KyselyPlugin {
  private lastTurn = 0;
  constructor(private readonly budgetMs = 1) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (performance.now() - this.lastTurn >= this.budgetMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.lastTurn = performance.now();
    }
    return args.result;
  }
}

/**
 * Two adjustments to the handle kysely uses. Kysely begins SQLite transactions with a plain (deferred) BEGIN. Two processes that both read
 * then write would get SQLITE_BUSY at the upgrade without waiting for busy_timeout; BEGIN IMMEDIATE
 * takes the write lock up front, so a second writer waits instead of failing.
 */
function withImmediateTransactions(database: SQLite.Database, lane?: PriorityLane): SQLite.Database {
  // Kysely prepares every query anew; preparing costs more than running our small queries, so
  // statements are cached by SQL text (bounded; kysely's SQL text is parameterised).
  const cache = new Map<string, SQLite.Statement>();
  // Kysely runs COMMIT and ROLLBACK with stmt.run(): these wrappers let the lane's statements run
  // right after them, before kysely can begin the next queued transaction.
  const ends = new Map<string, SQLite.Statement>();
  const prepare = (source: string): SQLite.Statement => {
    const begin = /^\s*begin\s*$/i.test(source);
    // Before a BEGIN no transaction is open: the lane's waiting statements go first.
    if (begin) lane?.flush();
    const sqlText = begin ? 'begin immediate' : source;
    if (lane && /^\s*(commit|rollback)\s*$/i.test(source)) {
      let end = ends.get(source);
      if (!end) {
        const stmt = database.prepare(source);
        end = Object.assign(Object.create(stmt) as SQLite.Statement, {
          run: (...params: unknown[]) => {
            try {
              return stmt.run(...params);
            } finally {
              lane.flush();
            }
          },
        });
        ends.set(source, end);
      }
      return end;
    }
    let stmt = cache.get(sqlText);
    if (!stmt) {
      stmt = database.prepare(sqlText);
      if (cache.size >= 500) cache.delete(cache.keys().next().value!);
      cache.set(sqlText, stmt);
    }
    return stmt;
  };
  return new Proxy(database, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openPostgres(url: string, schema: string | undefined, poolSize = 10, readonly = false): Promise<Storage> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name "${schema}"`);
  const pool = new (loadPg().Pool)({
    connectionString: url,
    max: poolSize,
    ...(schema || readonly ? { options: [schema ? `-c search_path=${schema}` : '', readonly ? '-c default_transaction_read_only=on' : ''].filter(Boolean).join(' ') } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (schema && !readonly) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  const parsed = safeUrl(url);
  return {
    db,
    dialect: 'postgres',
    description: `PostgreSQL ${parsed}${schema ? ` (schema ${schema})` : ''}`,
    close: () => db.destroy(),
  };
}

/** host:port/db of a connection URL, without the password. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

const migrations: Record<string, Migration> = {
  '001_initial': m001,
  '002_report_indexes': m002,
  '003_report_speed': m003,
  '004_legs_covering': m004,
  '005_report_rollup': m005,
  '006_inbound_events': m006,
  '010_knowledge_base': m010,
  '011_return_reason_ids': m011,
  '012_chart_blobs': m012,
  '013_deflection_webhooks': m013,
  '014_workflow': m014,
  '015_drop_report_indexes': m015,
  '018_deferred_indexes': m018,
  '019_backlog_created_ms': m019,
};

export interface MigrateOptions {
  /** The config's `return_reasons`: migration 011 rewrites reasons stored by display name to their id. */
  returnReasons?: readonly m011.ReturnReasonNames[] | undefined;
}

function providerFor(opts: MigrateOptions): MigrationProvider {
  const all: Record<string, Migration> = { ...migrations };
  if (opts.returnReasons) all['011_return_reason_ids'] = m011.withReasons(opts.returnReasons);
  return { getMigrations: async () => all };
}

async function currentPgSchema(db: Db): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined;
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema;
}

function isOtherSchemaVanished(error: unknown, own: string | undefined): boolean {
  const m = /schema "([^"]+)" does not exist/.exec(error instanceof Error ? error.message : String(error));
  return m !== null && m[1] !== own;
}

/** Applies pending migrations; returns the names applied. Throws with the failing migration's name. */
export async function migrate(db: Db, opts: MigrateOptions = {}): Promise<string[]> {
  // On PostgreSQL name the schema explicitly: kysely otherwise checks for its bookkeeping tables
  // without a schema and two replicas (or two test schemas) could race creating them.
  const schema = await currentPgSchema(db);
  const migrator = new Migrator({ db, provider: providerFor(opts), ...(schema ? { migrationTableSchema: schema } : {}) });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's PostgreSQL introspection reads every schema's tables; a schema dropped by someone else
  // meanwhile (another test file, another tenant) fails it with "schema … does not exist" before
  // any migration ran. Nothing was applied then, so the run is repeated.
  for (let attempt = 1; attempt <= 3 && error && !results?.length && isOtherSchemaVanished(error, schema); attempt++) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  // Work that cannot run inside the migrations' transaction (PostgreSQL VACUUM), once they committed.
  if (applied.includes('019_backlog_created_ms')) await m019.afterCommit(db);
  return applied;
}

/**
 * What the bot does with its database at every start: pending migrations, then the data repairs
 * that need the loaded config and must not depend on `migrate` having had it. Today: return
 * reasons stored by display name become ids (migration 011's rewrite; idempotent, and cheap when
 * there is nothing left: an indexed read of returns and a scan of the legs' reasons).
 */
export async function prepareDatabase(db: Db, opts: Required<MigrateOptions>): Promise<{ applied: string[]; returnReasonsRewritten: number }> {
  const applied = await migrate(db, opts);
  const returnReasonsRewritten = await db.transaction().execute((tx) => m011.rewriteReturnReasonNames(tx, opts.returnReasons ?? []));
  return { applied, returnReasonsRewritten };
}

/** Drops a PostgreSQL schema (tests clean up after themselves). */
export async function dropSchema(db: Db, schema: string): Promise<void> {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
}
