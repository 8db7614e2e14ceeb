import { PostgresAdapter, sql } from 'kysely';
import type { Db, DbOrTx } from './database';

/**
 * Secondary indexes dropped for a bulk load and built again after it (`ticketbot import` into an
 * empty desk). Maintaining ~17 non-unique index entries per ticket row by row is most of SQLite's
 * work in a load; one CREATE INDEX over the loaded table sorts once. Unique indexes (primary keys,
 * ticket keys, a leg's sequence number) are never dropped: they are what keeps a load correct.
 *
 * Each dropped index's definition (as the database reports it) is written to `deferred_indexes`
 * in the same transaction as the drop, and deleted in the same transaction as the rebuild, so an
 * import killed in between leaves a record: `restoreDeferredIndexes` (the next import's start, the
 * bot's start) builds what it names. Queries are correct without the indexes, only slower.
 */

const isPostgres = (db: DbOrTx) => db.getExecutor().adapter instanceof PostgresAdapter;

interface IndexDef {
  name: string;
  table_name: string;
  definition: string;
}

/** The non-unique indexes of these tables, with their CREATE statements. */
export async function secondaryIndexes(db: DbOrTx, tables: readonly string[]): Promise<IndexDef[]> {
  if (tables.length === 0) return [];
  const list = sql.join(tables.map((t) => sql`${t}`));
  const { rows } = isPostgres(db)
    ? await sql<IndexDef>`select indexname as name, tablename as table_name, indexdef as definition from pg_indexes where schemaname = current_schema() and tablename in (${list}) order by indexname`.execute(db)
    : await sql<IndexDef>`select name, tbl_name as table_name, sql as definition from sqlite_master where type = 'index' and sql is not null and tbl_name in (${list}) order by name`.execute(db);
  return rows.filter((r) => !/^\s*create\s+unique\b/i.test(r.definition));
}

/** Are all these tables empty? */
export async function tablesEmpty(db: DbOrTx, tables: readonly string[]): Promise<boolean> {
  for (const t of tables) {
    const { rows } = await sql<{ one: number }>`select 1 as one from ${sql.table(t)} limit 1`.execute(db);
    if (rows.length) return false;
  }
  return true;
}

/** Drops the tables' non-unique indexes, recording their definitions; returns their names. */
export async function deferIndexes(db: Db, tables: readonly string[], nowIso: string): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    const defs = await secondaryIndexes(tx, tables);
    for (const d of defs) {
      await tx
        .insertInto('deferred_indexes')
        .values({ ...d, deferred_at: nowIso })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      await sql`drop index ${sql.id(d.name)}`.execute(tx);
    }
    return defs.map((d) => d.name);
  });
}

/** `CREATE INDEX name …` → `CREATE INDEX IF NOT EXISTS name …` (both dialects accept it). */
function idempotent(definition: string): string {
  return definition.replace(/^\s*create\s+index\s+(?!if\s+not\s+exists\b)/i, 'create index if not exists ');
}

/**
 * Builds every index `deferred_indexes` names (one transaction each, the record deleted in it);
 * returns their names. Cheap when there is nothing to do (one read of an empty table).
 */
export async function restoreDeferredIndexes(db: Db, onIndex?: (name: string, done: number, of: number) => void): Promise<string[]> {
  const pending = await db.selectFrom('deferred_indexes').select(['name', 'definition']).orderBy('name').execute();
  let done = 0;
  for (const p of pending) {
    onIndex?.(p.name, done, pending.length);
    await db.transaction().execute(async (tx) => {
      await sql.raw(idempotent(p.definition)).execute(tx);
      await tx.deleteFrom('deferred_indexes').where('name', '=', p.name).execute();
    });
    done++;
  }
  return pending.map((p) => p.name);
}
