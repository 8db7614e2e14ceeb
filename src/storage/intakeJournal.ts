import { dirname, basename, extname, join, resolve } from 'node:path';
import { Migrator, type Migration } from 'kysely';
import * as m006 from '../../db/migrations/006_inbound_events';
import { openSqlite, type Db, type Storage } from './database';

/**
 * Where the durable intake stores what it receives before the ack (jobs/inbound.ts).
 *
 * On SQLite the intake has its own file beside the main one (issue 16, decisions.md "The intake
 * journal has its own SQLite file"). SQLite has one write lock per file: in the main file the
 * insert before an ack waited for whatever claim or creation transaction was open (p99 4–7 × bare
 * Bolt at 200/s); in its own file, with its own connection, it waits for nothing. Nothing about
 * exactly-once changes: the row was never in the use case's transaction — the use cases' `inbox`
 * table (main file) is what makes a replay of work that had committed a no-op.
 *
 * PostgreSQL locks rows, not the database: there the table stays in the main database.
 */
export type IntakeJournalSetting = 'beside' | 'main' | { file: string };

/** TICKETBOT_INTAKE_JOURNAL: `beside` (default), `main`, or a file path. */
export function parseIntakeJournalSetting(value: string | undefined): IntakeJournalSetting {
  const v = (value ?? '').trim();
  if (v === '' || v === 'beside') return 'beside';
  if (v === 'main') return 'main';
  return { file: v };
}

/** `./data/ticketbot.db` → `./data/ticketbot.intake.db`; `:memory:` stays in memory (its own database). */
export function journalFileBeside(mainFile: string): string {
  if (mainFile === ':memory:') return ':memory:';
  const ext = extname(mainFile);
  return join(dirname(mainFile), `${basename(mainFile, ext)}.intake${ext || '.db'}`);
}

const journalMigrations: Record<string, Migration> = { '001_inbound_events': m006 };

export interface IntakeJournal {
  /** The store the InboundQueue uses (the main storage when the journal is not separate). */
  store: Pick<Storage, 'db' | 'dialect' | 'runSoon' | 'description'>;
  /** True when it is a file of its own. */
  separate: boolean;
  /** Rows moved from the main database's inbound_events at this start (an upgrade, or a switch from `main`). */
  adopted: number;
  close(): Promise<void>;
}

/**
 * Opens the journal for a storage. `mainFile` is the main SQLite file (undefined on PostgreSQL).
 * A separate journal adopts the rows the main database's table still holds, so pending work and
 * recent dedup keys survive the move.
 */
export async function openIntakeJournal(main: Storage, mainFile: string | undefined, setting: IntakeJournalSetting): Promise<IntakeJournal> {
  if (main.dialect !== 'sqlite' || mainFile === undefined || setting === 'main') {
    return { store: main, separate: false, adopted: 0, close: async () => {} };
  }
  const file = setting === 'beside' ? journalFileBeside(mainFile) : setting.file;
  if (file !== ':memory:' && resolve(file) === resolve(mainFile)) {
    throw new Error(`TICKETBOT_INTAKE_JOURNAL: "${file}" is the main database file; use "main" to keep the intake there`);
  }
  const journal = openSqlite(file);
  try {
    await migrateJournal(journal.db);
    const adopted = await adoptRows(main.db, journal.db);
    return { store: journal, separate: true, adopted, close: () => journal.close() };
  } catch (err) {
    await journal.close();
    throw err;
  }
}

async function migrateJournal(db: Db): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => journalMigrations },
    // Own names: a journal pointed by mistake at another ticketbot file is refused, not mixed in.
    migrationTableName: 'intake_journal_migration',
    migrationLockTableName: 'intake_journal_migration_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw new Error(`intake journal migration failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** Moves the main database's inbound rows into the journal, 500 at a time (insert first: a crash between the two steps leaves a copy, never a loss). */
async function adoptRows(mainDb: Db, journalDb: Db): Promise<number> {
  let moved = 0;
  for (;;) {
    const rows = await mainDb.selectFrom('inbound_events').selectAll().orderBy('id').limit(500).execute();
    if (rows.length === 0) return moved;
    await journalDb.insertInto('inbound_events').values(rows).onConflict((oc) => oc.doNothing()).execute();
    await mainDb.deleteFrom('inbound_events').where('id', 'in', rows.map((r) => r.id)).execute();
    moved += rows.length;
  }
}
