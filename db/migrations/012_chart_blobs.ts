import { Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Chart images stored once (issue 16): the weekly digest's PNG went into every platform's outbox
 * row (about 30 KB each, once per Slack channel and Feishu chat). Now it is one row of `blobs`,
 * named by the SHA-256 of its bytes, and each outbox row that shows it has a row in
 * `outbox_blobs`; the claim puts the picture back into the payload it hands to the sender
 * (src/storage/blobs.ts). Retention drops a trimmed row's reference and deletes blobs nothing
 * references. Also a partial index of the tickets not yet resolved or closed, for the backlog.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('blobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('data', binary, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('outbox_blobs')
    .addColumn('outbox_id', 'text', (c) => c.primaryKey())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbox_blobs_blob').on('outbox_blobs').column('blob_id').execute();
  // Reports: the backlog at an instant starts from the tickets not resolved and not closed (a
  // small set), not from a scan of every ticket (src/reports/queries.ts tallyBacklog).
  await db.schema
    .createIndex('tickets_unfinished')
    .on('tickets')
    .column('id')
    .where(sql<boolean>`resolved_at is null and closed_at is null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tickets_unfinished').ifExists().execute();
  await db.schema.dropTable('outbox_blobs').ifExists().execute();
  await db.schema.dropTable('blobs').ifExists().execute();
}
