import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { KbDeflectionRow } from '../tables';

/** Deflection rows (migration 013): offers of articles before a ticket, and their outcome. */

export async function insertDeflection(db: DbOrTx, row: KbDeflectionRow, articleIds: readonly string[]): Promise<void> {
  await db.insertInto('kb_deflections').values(row).execute();
  if (articleIds.length)
    await db
      .insertInto('kb_deflection_articles')
      .values(articleIds.map((article_id, position) => ({ deflection_id: row.id, article_id, position })))
      .execute();
}

export async function findDeflection(db: DbOrTx, id: string): Promise<KbDeflectionRow | undefined> {
  return db.selectFrom('kb_deflections').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deflectionArticleIds(db: DbOrTx, deflectionId: string): Promise<string[]> {
  const rows = await db.selectFrom('kb_deflection_articles').select('article_id').where('deflection_id', '=', deflectionId).orderBy('position').execute();
  return rows.map((r) => r.article_id);
}

/** Marks an offer solved unless a ticket was raised from it; true when this call (or an earlier one) solved it. */
export async function markSolved(db: DbOrTx, id: string, articleId: string | null, nowIso: string): Promise<boolean> {
  const r = await db
    .updateTable('kb_deflections')
    .set({ outcome: 'solved', outcome_at: nowIso, article_id: articleId })
    .where('id', '=', id)
    .where('outcome', '=', 'shown')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** "Still need help": the offer leads to this ticket (a later ticket wins over an earlier "solved"). */
export async function markEscalated(db: DbOrTx, id: string, ticketId: string, nowIso: string): Promise<boolean> {
  const r = await db
    .updateTable('kb_deflections')
    .set({ outcome: 'escalated', outcome_at: nowIso, ticket_id: ticketId, article_id: null })
    .where('id', '=', id)
    .where('outcome', 'in', ['shown', 'solved'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The articles offered before this ticket was raised, in the order shown (the newest offer). */
export async function articlesOfferedForTicket(db: DbOrTx, ticketId: string): Promise<Array<{ id: string; slug: string; title: string; lang: string; state: string }>> {
  const d = await db.selectFrom('kb_deflections').select('id').where('ticket_id', '=', ticketId).orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
  if (!d) return [];
  return db
    .selectFrom('kb_deflection_articles as da')
    .innerJoin('kb_articles as a', 'a.id', 'da.article_id')
    .select(['a.id', 'a.slug', 'a.title', 'a.lang', 'a.state'])
    .where('da.deflection_id', '=', d.id)
    .orderBy('da.position')
    .execute();
}

export interface DeflectionCounts {
  /** Offers with at least one article. */
  offered: number;
  solved: number;
  escalated: number;
}

export interface ArticleDeflectionCounts {
  articleId: string;
  slug: string;
  title: string;
  views: number;
  solved: number;
  stillNeedHelp: number;
}

export interface DeflectionFilter {
  fromIso: string;
  toIso: string;
  departmentIds?: readonly string[] | undefined;
}

export async function deflectionCounts(db: DbOrTx, f: DeflectionFilter): Promise<DeflectionCounts> {
  let q = db
    .selectFrom('kb_deflections')
    .select([
      (eb) => eb.fn.countAll<number>().as('offered'),
      sql<number>`sum(case when outcome = 'solved' then 1 else 0 end)`.as('solved'),
      sql<number>`sum(case when outcome = 'escalated' then 1 else 0 end)`.as('escalated'),
    ])
    .where('created_at', '>=', f.fromIso)
    .where('created_at', '<', f.toIso);
  if (f.departmentIds) q = q.where('department_id', 'in', f.departmentIds.length ? [...f.departmentIds] : ['']);
  const r = await q.executeTakeFirstOrThrow();
  return { offered: Number(r.offered ?? 0), solved: Number(r.solved ?? 0), escalated: Number(r.escalated ?? 0) };
}

/** Per article: how often it was shown, how often it solved the question, how often "still need help" followed. */
export async function articleDeflectionCounts(db: DbOrTx, f: DeflectionFilter, limit = 20): Promise<ArticleDeflectionCounts[]> {
  let q = db
    .selectFrom('kb_deflection_articles as da')
    .innerJoin('kb_deflections as d', 'd.id', 'da.deflection_id')
    .innerJoin('kb_articles as a', 'a.id', 'da.article_id')
    .select([
      'a.id',
      'a.slug',
      'a.title',
      (eb) => eb.fn.countAll<number>().as('views'),
      sql<number>`sum(case when d.outcome = 'solved' and d.article_id = da.article_id then 1 else 0 end)`.as('solved'),
      sql<number>`sum(case when d.outcome = 'escalated' then 1 else 0 end)`.as('still'),
    ])
    .where('d.created_at', '>=', f.fromIso)
    .where('d.created_at', '<', f.toIso);
  if (f.departmentIds) q = q.where('d.department_id', 'in', f.departmentIds.length ? [...f.departmentIds] : ['']);
  const rows = await q.groupBy(['a.id', 'a.slug', 'a.title']).orderBy('views', 'desc').orderBy('a.slug').limit(limit).execute();
  return rows.map((r) => ({ articleId: r.id, slug: r.slug, title: r.title, views: Number(r.views), solved: Number(r.solved ?? 0), stillNeedHelp: Number(r.still ?? 0) }));
}
