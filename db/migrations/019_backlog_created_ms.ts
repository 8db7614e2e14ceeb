import { Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * The backlog at an instant (in every summary) summed the age of each open ticket by converting
 * its ISO text `created_at` to epoch milliseconds row by row — over the 1,000,000-ticket benchmark
 * history 75,000 conversions for one department: ~12 ms of julianday on SQLite, ~85 ms of
 * `::timestamptz` on PostgreSQL. `tickets.created_ms` is that same conversion (the expression the
 * backlog query used), derived by the database from `created_at`, so no writer sets it and it
 * cannot disagree with it: a virtual column on SQLite (ALTER TABLE adds it without touching a row;
 * the index below stores its values), a stored one on PostgreSQL (which has no virtual columns;
 * ALTER TABLE rewrites the table once). `tickets_backlog` holds it instead of the text, so the age
 * sum, the oldest and the age buckets are integer arithmetic on the index.
 *
 * `tickets_closed_unresolved`: the backlog's third case (closed after the instant, never resolved)
 * looked up every ticket closed after it, nearly all of them resolved too; this partial index holds
 * only the closed-without-resolution tickets.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // IMMUTABLE (a generated column needs it): the text always carries its zone (`Z`), so the
    // session's TimeZone does not change the value. The same expression the backlog query used.
    await sql`create or replace function iso_epoch_ms(instant text) returns bigint language sql immutable strict parallel safe as $$ select (extract(epoch from instant::timestamptz) * 1000)::bigint $$`.execute(db);
    await sql`alter table tickets add column created_ms bigint generated always as (iso_epoch_ms(created_at)) stored`.execute(db);
  } else {
    await sql`alter table tickets add column created_ms integer generated always as (cast(round((julianday(created_at) - 2440587.5) * 86400000.0) as integer)) virtual`.execute(db);
  }
  await db.schema.dropIndex('tickets_backlog').ifExists().execute();
  await db.schema
    .createIndex('tickets_backlog')
    .on('tickets')
    .columns(['department_id', 'created_ms', 'state', 'first_response_at', 'category_id', 'priority', 'assignee_id', 'resolved_at', 'closed_at'])
    .where(sql<boolean>`resolved_at is null and closed_at is null`)
    .execute();
  await db.schema.createIndex('tickets_closed_unresolved').on('tickets').column('closed_at').where(sql<boolean>`resolved_at is null and closed_at is not null`).execute();
  // The rewritten table has no statistics for the new column (a sample: ~0.3 s at 1,000,000 rows).
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`analyze tickets`.execute(db);
}

/**
 * PostgreSQL, once the migration has committed (VACUUM cannot run in a transaction): the table
 * ALTER TABLE rewrote has no visibility map, so `tickets_backlog` cannot answer index-only — the
 * planner reads the heap instead (~130 ms a department at 1,000,000 tickets instead of ~20) until a
 * VACUUM, and the rewrite leaves autovacuum no dead rows to come for. 0.7 s at 1,000,000 tickets.
 */
export async function afterCommit(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`vacuum analyze tickets`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_closed_unresolved').ifExists().execute();
  await db.schema.dropIndex('tickets_backlog').ifExists().execute();
  await db.schema.alterTable('tickets').dropColumn('created_ms').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`drop function if exists iso_epoch_ms(text)`.execute(db);
  await db.schema
    .createIndex('tickets_backlog')
    .on('tickets')
    .columns(['department_id', 'created_at', 'state', 'first_response_at', 'category_id', 'priority', 'assignee_id', 'resolved_at', 'closed_at'])
    .where(sql<boolean>`resolved_at is null and closed_at is null`)
    .execute();
}
