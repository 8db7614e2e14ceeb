import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { articleTokens, queryTokens } from '../../domain/kb-search';
import type { DbOrTx } from '../database';
import type { KbArticleRow } from '../tables';

export interface ArticleInput {
  slug: string;
  title: string;
  body: string;
  categoryId: string | null;
  lang: string;
  tags: string[];
  ownerId: string | null;
}

export type SaveOutcome = 'created' | 'updated' | 'unchanged';

export function contentHash(a: ArticleInput): string {
  return createHash('sha256').update(JSON.stringify([a.title, a.body, a.categoryId, a.lang, a.tags, a.ownerId])).digest('hex');
}

export async function findArticleBySlug(db: DbOrTx, slug: string): Promise<KbArticleRow | undefined> {
  return db.selectFrom('kb_articles').selectAll().where('slug', '=', slug).executeTakeFirst();
}

/**
 * Creates or updates the article with this slug (idempotent: the same content is "unchanged" and
 * writes nothing), replaces its search tokens and records the change in kb_audit. Call it inside a
 * transaction so article, tokens and audit row commit together.
 */
export async function saveArticle(db: DbOrTx, input: ArticleInput, actorId: string, nowIso: string): Promise<{ id: string; outcome: SaveOutcome }> {
  const hash = contentHash(input);
  const existing = await findArticleBySlug(db, input.slug);
  if (existing && existing.content_hash === hash && existing.state === 'active') return { id: existing.id, outcome: 'unchanged' };
  const values = {
    title: input.title,
    body: input.body,
    category_id: input.categoryId,
    lang: input.lang,
    tags: JSON.stringify(input.tags),
    owner_id: input.ownerId,
    state: 'active',
    content_hash: hash,
    updated_at: nowIso,
  };
  let id: string;
  if (existing) {
    id = existing.id;
    await db.updateTable('kb_articles').set(values).where('id', '=', id).execute();
    await db.deleteFrom('kb_tokens').where('article_id', '=', id).execute();
  } else {
    id = randomUUID();
    await db.insertInto('kb_articles').values({ id, slug: input.slug, created_at: nowIso, ...values }).execute();
  }
  const rows = [...articleTokens(input)].map(([token, weight]) => ({ token, article_id: id, weight, lang: input.lang }));
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('kb_tokens').values(rows.slice(i, i + 1000)).execute();
  const outcome: SaveOutcome = existing ? 'updated' : 'created';
  await db
    .insertInto('kb_audit')
    .values({ id: randomUUID(), article_id: id, at: nowIso, actor_id: actorId, action: `kb_${outcome}`, data: JSON.stringify({ slug: input.slug, hash }) })
    .execute();
  return { id, outcome };
}

export interface SearchOptions {
  /** Only articles in this language. */
  lang?: string | undefined;
  /** Only articles filed on one of these categories (or on none). */
  categories?: readonly string[] | undefined;
  limit?: number | undefined;
}

export interface SearchHit {
  id: string;
  slug: string;
  title: string;
  categoryId: string | null;
  lang: string;
  score: number;
}

/**
 * Ranked search: each query token counts its stored weight (title ×3, tags ×2, body ×1) times its
 * BM25-style inverse document frequency, summed per article; an article must contain at least 40 %
 * of the scanned tokens. Indexed queries, the same SQL on SQLite and PostgreSQL.
 *
 * The cost of a search is the postings it reads, so it is bounded (a pasted 12-word sentence has
 * 30+ tokens, a few of them in half the articles):
 * - the ranking scans at most MAX_SCANNED_TOKENS tokens, rarest first, whose postings add up to at
 *   most POSTINGS_BUDGET (the rarest one always). Rare tokens carry the score (BM25's idf), so the
 *   common ones left out change little;
 * - counting a token's document frequency reads its postings too: each count stops after
 *   POSTINGS_BUDGET + 1 postings, and a token found common (in more than 10 % of the articles) is
 *   remembered by the process for COMMON_MEMO_MS and not counted again. Its frequency only ever
 *   decides that it is not scanned, so a stale entry costs nothing but, for a few minutes, a token
 *   that became rare again.
 */
/** A token in more than this share of the articles is treated as a stop word (BM25 gives it almost nothing anyway). */
const COMMON_SHARE = 0.1;
/** At most this many query tokens are scanned by the ranking query. */
export const MAX_SCANNED_TOKENS = 8;
/** At most this many postings (token, article rows) are read by the ranking query, and per token by the frequency count (+1). */
export const POSTINGS_BUDGET = 2000;
/** How long a token found common is not counted again. */
const COMMON_MEMO_MS = 10 * 60_000;
const MEMO_MAX = 5000;

/**
 * The query tokens worth scanning, rarest first (ties in query order): those in at most 10 % of
 * the articles (at least 50), at most MAX_SCANNED_TOKENS, their postings within POSTINGS_BUDGET;
 * when every token is common, up to three of the rarest within twice that budget.
 */
export function usefulTokens<T extends { n: number }>(df: readonly T[], total: number): T[] {
  const limit = commonLimit(total);
  const byRarity = [...df].sort((a, b) => a.n - b.n);
  const rare = byRarity.filter((r) => r.n <= limit);
  // Every token common: up to three of them, rarest first, within twice the budget (the rarest always).
  const [pool, most, budget] = rare.length > 0 ? [rare, MAX_SCANNED_TOKENS, POSTINGS_BUDGET] : [byRarity, 3, 2 * POSTINGS_BUDGET];
  const out: T[] = [];
  let postings = 0;
  for (const r of pool) {
    if (out.length === most || (out.length > 0 && postings + r.n > budget)) break;
    out.push(r);
    postings += r.n;
  }
  return out;
}

function commonLimit(total: number): number {
  return Math.max(50, total * COMMON_SHARE);
}

/** Common tokens per database (keyed by its adapter, which its transactions share). */
const commonMemo = new WeakMap<object, Map<string, { n: number; until: number }>>();

function memoOf(db: DbOrTx): Map<string, { n: number; until: number }> {
  const key = db.getExecutor().adapter as object;
  let memo = commonMemo.get(key);
  if (!memo) commonMemo.set(key, (memo = new Map()));
  return memo;
}

/**
 * Document frequency of the query's tokens (those present), in query order, and the number of
 * articles, in one statement. Each count stops at POSTINGS_BUDGET + 1 (an index range read with a
 * limit, per token): past that a token is never scanned, so its exact frequency does not matter.
 */
async function frequencies(db: DbOrTx, tokens: readonly string[]): Promise<{ df: Array<{ token: string; n: number }>; total: number }> {
  const memo = memoOf(db);
  const now = Date.now();
  const known = new Map<string, number>();
  for (const t of tokens) {
    const m = memo.get(t);
    if (m && m.until > now) known.set(t, m.n);
  }
  const ask = tokens.filter((t) => !known.has(t));
  const cap = sql.lit(POSTINGS_BUDGET + 1);
  const asked = sql.join(ask.length ? ask.map((t) => sql`select cast(${t} as text) as token`) : [sql`select cast('' as text) as token`], sql` union all `);
  const { rows } = await sql<{ token: string; n: number | string; total: number | string }>`select v.token,
    (select count(*) from (select 1 as x from kb_tokens k where k.token = v.token limit ${cap}) p) as n,
    (select count(*) from kb_articles) as total
    from (${asked}) v`.execute(db);
  const total = Number(rows[0]?.total ?? 0);
  const n = new Map(known);
  const limit = commonLimit(total);
  if (memo.size > MEMO_MAX) memo.clear();
  for (const r of rows) {
    const count = Number(r.n);
    if (r.token === '' || count === 0) continue;
    n.set(r.token, count);
    if (count > limit) memo.set(r.token, { n: count, until: now + COMMON_MEMO_MS });
  }
  return { df: tokens.filter((t) => n.has(t)).map((t) => ({ token: t, n: n.get(t)! })), total };
}

export async function searchArticles(db: DbOrTx, query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
  const tokens = queryTokens(query).slice(0, 32);
  if (tokens.length === 0) return [];
  const { df, total } = await frequencies(db, tokens);
  if (df.length === 0) return [];
  const used = usefulTokens(df, total);
  const whens = used.map((r) => {
    const n = Number(r.n);
    const idf = Math.log(1 + (total - n + 0.5) / (n + 0.5));
    return sql`when ${r.token} then ${sql.lit(Number(idf.toFixed(6)))}`;
  });
  const minMatch = Math.max(1, Math.ceil(used.length * 0.4));
  // Only active articles have tokens (saveArticle writes them; retiring would delete them), so the
  // ranking reads kb_tokens alone (its covering index); kb_articles joins only for a category filter.
  const score = sql<number>`sum(t.weight * case t.token ${sql.join(whens, sql` `)} else 0 end)`.as('score');
  let q = db
    .selectFrom('kb_tokens as t')
    .select(['t.article_id', score])
    .where('t.token', 'in', used.map((r) => r.token));
  if (options.lang) q = q.where('t.lang', '=', options.lang);
  if (options.categories) {
    const cats = [...options.categories];
    q = q
      .innerJoin('kb_articles as a', 'a.id', 't.article_id')
      .where((eb) => (cats.length ? eb.or([eb('a.category_id', 'in', cats), eb('a.category_id', 'is', null)]) : eb('a.category_id', 'is', null)));
  }
  const ranked = await q
    .groupBy('t.article_id')
    .having((eb) => eb.fn.countAll(), '>=', minMatch)
    .orderBy('score', 'desc')
    .orderBy('t.article_id')
    .limit(options.limit ?? 10)
    .execute();
  if (ranked.length === 0) return [];
  const rows = await db
    .selectFrom('kb_articles')
    .select(['id', 'slug', 'title', 'category_id', 'lang'])
    .where('id', 'in', ranked.map((r) => r.article_id))
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ranked.map((r) => {
    const a = byId.get(r.article_id)!;
    return { id: a.id, slug: a.slug, title: a.title, categoryId: a.category_id, lang: a.lang, score: Number(r.score) };
  });
}

/** Retires an article: it leaves search (its tokens go) and deflection; the row and its audit trail stay. */
export async function retireArticle(db: DbOrTx, id: string, actorId: string, nowIso: string): Promise<boolean> {
  const r = await db.updateTable('kb_articles').set({ state: 'retired', updated_at: nowIso }).where('id', '=', id).where('state', '=', 'active').executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return false;
  await db.deleteFrom('kb_tokens').where('article_id', '=', id).execute();
  await db.insertInto('kb_audit').values({ id: randomUUID(), article_id: id, at: nowIso, actor_id: actorId, action: 'kb_retired', data: null }).execute();
  return true;
}
