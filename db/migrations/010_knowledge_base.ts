import { Kysely } from 'kysely';

/**
 * Knowledge base (issue 18): articles, their search tokens and an audit trail of every change.
 *
 * Search runs on both databases with the same SQL: the tokens are made in TypeScript
 * (src/kb/tokens.ts: Intl.Segmenter words plus Han character bigrams) and stored one row per
 * (token, article), so a query is an indexed `token in (…)` lookup and a group-by. See
 * docs/decisions.md "Knowledge-base search".
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('kb_articles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('category_id', 'text')
    .addColumn('lang', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('kb_tokens')
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('article_id', 'text', (c) => c.notNull())
    .addColumn('weight', 'integer', (c) => c.notNull())
    // The article's language, copied here so the common search (one language) is answered from
    // this index alone, without visiting kb_articles for every posting.
    .addColumn('lang', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('kb_tokens_pk', ['token', 'article_id'])
    .execute();
  await db.schema.createIndex('kb_tokens_article').on('kb_tokens').column('article_id').execute();
  // Covering: a search reads token, lang, article_id and weight and nothing else.
  await db.schema.createIndex('kb_tokens_search').on('kb_tokens').columns(['token', 'lang', 'article_id', 'weight']).execute();

  await db.schema
    .createTable('kb_audit')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('article_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('kb_audit_article').on('kb_audit').columns(['article_id', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('kb_audit').ifExists().execute();
  await db.schema.dropTable('kb_tokens').ifExists().execute();
  await db.schema.dropTable('kb_articles').ifExists().execute();
}
