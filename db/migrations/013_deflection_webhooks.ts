import { Kysely } from 'kysely';

/**
 * Issue 18, second part: deflection (articles offered before a ticket is raised, and what the
 * requester did with them) and the shared rate limit of the intake API.
 *
 * - kb_deflections: one row per offer; outcome `shown` (no answer yet), `solved` (the requester
 *   answered it themselves: no ticket) or `escalated` ("still need help": `ticket_id` is the ticket
 *   raised, and the articles stay attached to it for the card).
 * - kb_deflection_articles: the articles shown, in order (their views).
 * - intake_files: files uploaded with the web form (base64, size- and type-checked).
 * - rate_limits: one fixed window per key, counted with a conditional upsert, so every replica on
 *   the database shares the limit.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('kb_deflections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text')
    .addColumn('requester_id', 'text')
    .addColumn('category_id', 'text', (c) => c.notNull())
    .addColumn('department_id', 'text', (c) => c.notNull())
    .addColumn('lang', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('outcome_at', 'text')
    .addColumn('article_id', 'text')
    .addColumn('ticket_id', 'text')
    .execute();
  await db.schema.createIndex('kb_deflections_created').on('kb_deflections').columns(['created_at', 'department_id']).execute();
  await db.schema.createIndex('kb_deflections_ticket').on('kb_deflections').column('ticket_id').execute();

  await db.schema
    .createTable('kb_deflection_articles')
    .addColumn('deflection_id', 'text', (c) => c.notNull())
    .addColumn('article_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('kb_deflection_articles_pk', ['deflection_id', 'article_id'])
    .execute();
  await db.schema.createIndex('kb_deflection_articles_article').on('kb_deflection_articles').column('article_id').execute();

  // Files uploaded with the web form, kept in the database (no path on disk to traverse), served
  // only as downloads behind a signed link.
  await db.schema
    .createTable('intake_files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limits').ifExists().execute();
  await db.schema.dropTable('intake_files').ifExists().execute();
  await db.schema.dropTable('kb_deflection_articles').ifExists().execute();
  await db.schema.dropTable('kb_deflections').ifExists().execute();
}
