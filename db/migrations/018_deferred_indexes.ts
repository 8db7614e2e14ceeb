import { Kysely } from 'kysely';

/**
 * `ticketbot import` into an empty desk drops the non-unique secondary indexes of the tables it
 * loads and builds them again at the end (one sorted build per index instead of ~17 random index
 * insertions per ticket; src/storage/deferredIndexes.ts). Their definitions are kept here while
 * they are missing, so an import that is killed half-way leaves a record that the next import,
 * or the bot's start, uses to build them again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deferred_indexes')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('deferred_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('deferred_indexes').execute();
}
