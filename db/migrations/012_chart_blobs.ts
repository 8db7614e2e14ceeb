import { Kysely, PostgresAdapter } from 'kysely';

/**
 * Chart images stored once (issue 16): the weekly digest's PNG went into every platform's outbox
 * row (about 30 KB each, once per Slack channel and Feishu chat). Now it is one row of `blobs`,
 * named by the SHA-256 of its bytes, and each outbox row that shows it has a row in
 * `outbox_blobs`; the claim puts the picture back into the payload it hands to the sender
 * (src/storage/blobs.ts). Retention drops a trimmed row's reference and deletes blobs nothing
 * references.
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
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('outbox_blobs').ifExists().execute();
  await db.schema.dropTable('blobs').ifExists().execute();
}
