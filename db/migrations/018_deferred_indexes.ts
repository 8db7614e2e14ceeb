import { Kysely, sql } from 'kysely';

/**
 * `ticketbot import` into an empty desk drops the non-unique secondary indexes of the tables it
 * loads and builds them again at the end (one sorted build per index instead of ~17 random index
 * insertions per ticket; src/storage/deferredIndexes.ts). Their definitions are kept here while
 * they are missing, so an import that is killed half-way leaves a record that the next import,
 * or the bot's start, uses to build them again.
 *
 * Also: the backlog at an instant (in every summary) counted the unfinished tickets by walking
 * `tickets_unfinished` (ids) and looking each ticket up — 190,000 look-ups over the 1,000,000-ticket
 * benchmark history, 1.5 s a summary. `tickets_backlog` holds, for the same unfinished tickets,
 * every column the backlog reads (the two null times too, else SQLite does not count the index as
 * covering), so it is counted from the index alone, one department's part by
 * a range of it. One entry per unfinished ticket, as before, only wider.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deferred_indexes')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('deferred_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.dropIndex('tickets_unfinished').ifExists().execute();
  await db.schema
    .createIndex('tickets_backlog')
    .on('tickets')
    .columns(['department_id', 'created_at', 'state', 'first_response_at', 'category_id', 'priority', 'assignee_id', 'resolved_at', 'closed_at'])
    .where(sql<boolean>`resolved_at is null and closed_at is null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_backlog').ifExists().execute();
  await db.schema.createIndex('tickets_unfinished').on('tickets').column('id').where(sql<boolean>`resolved_at is null and closed_at is null`).execute();
  await db.schema.dropTable('deferred_indexes').execute();
}
