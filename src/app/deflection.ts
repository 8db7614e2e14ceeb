import { categoryScope } from '../domain/kb-search';
import { fail, ok, type Result } from '../domain/errors';
import type { Locale, Priority } from '../domain/types';
import type { DbOrTx } from '../storage/database';
import {
  articlesOfferedForTicket,
  deflectionArticleIds,
  findDeflection,
  insertDeflection,
  markEscalated,
  markSolved,
} from '../storage/repos/deflection';
import { searchArticles } from '../storage/repos/kb';
import type { AppContext } from './context';
import { rulesForDraft } from './rules';

/**
 * Deflection (issue 18): before a ticket is raised, up to three knowledge-base articles are
 * offered ("Does this answer it? · Solved · Still need help").
 *
 * - `suggestArticles` searches the category's subtree in the requester's language and records the
 *   offer (the articles' views). Sensitive categories, drafts a `rules:` entry marks sensitive and
 *   categories with `deflect: false` are never deflected.
 * - `recordSelfService` ("Solved") records a self-service resolution: no ticket is raised.
 * - "Still need help" raises the ticket as usual with `deflection` on the create command;
 *   `attachDeflection` (called inside createTicket's transaction) ties the offer to the ticket, so
 *   `suggestedArticlesForTicket` can show the articles on the card.
 */

export const MAX_SUGGESTIONS = 3;
const EXCERPT_CHARS = 160;

/** Where the offer was made. */
export type DeflectionSource = 'api' | 'web' | 'slack' | 'feishu';

export interface SuggestRequest {
  categoryId: string;
  title: string;
  description?: string | undefined;
  lang: Locale;
  source: DeflectionSource;
  integrationId?: string | undefined;
  requesterId?: string | undefined;
  /** The priority asked for (rules may match on it); the configured default when left out. */
  priority?: Priority | undefined;
}

export interface SuggestedArticle {
  id: string;
  slug: string;
  title: string;
  lang: string;
  /** The start of the body as plain text. */
  excerpt: string;
  body: string;
}

export type Suggestions =
  | { deflectionId: string; articles: SuggestedArticle[] }
  /** `not_deflected`: the category is sensitive or has `deflect: false`; `no_match`: no article fits. */
  | { deflectionId: null; articles: []; reason: 'not_deflected' | 'no_match' };

/** Whether a leaf category offers articles before a ticket (config `deflect`, never when sensitive). */
export function deflects(ctx: Pick<AppContext, 'config'>, categoryId: string): boolean {
  return ctx.config.leaves.get(categoryId)?.deflect ?? false;
}

/** Markdown to a short plain-text excerpt. */
export function excerptOf(markdown: string, max = EXCERPT_CHARS): string {
  const plain = markdown
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, ' ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s*(#{1,6}|>|[-*+]|\d+\.)\s+/gm, '')
    .replace(/[*_`~]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return [...plain].length > max ? `${[...plain].slice(0, max - 1).join('')}…` : plain;
}

export async function suggestArticles(ctx: Pick<AppContext, 'db' | 'config' | 'time' | 'newId' | 'logger'>, req: SuggestRequest): Promise<Result<Suggestions>> {
  const leaf = ctx.config.leaves.get(req.categoryId);
  if (!leaf) return fail('ticket.unknown_category', { category: req.categoryId });
  if (!leaf.deflect) return ok({ deflectionId: null, articles: [], reason: 'not_deflected' });
  // Sensitive never deflects, also when a rule (config `rules:`) marks it sensitive from its text:
  // the same evaluator as at creation, on the draft.
  const ruled = await rulesForDraft(ctx, ctx.db, { requesterId: req.requesterId, title: req.title, description: req.description ?? '', leaf, priority: req.priority, platform: req.source });
  if (ruled.sensitive) return ok({ deflectionId: null, articles: [], reason: 'not_deflected' });
  const scope = categoryScope(ctx.config.raw.categories, leaf.id)!;
  // The title says what the question is; the description only when the title alone finds nothing.
  let hits = await searchArticles(ctx.db, req.title, { lang: req.lang, categories: scope, limit: MAX_SUGGESTIONS });
  if (hits.length === 0 && req.description?.trim())
    hits = await searchArticles(ctx.db, `${req.title}\n${req.description}`, { lang: req.lang, categories: scope, limit: MAX_SUGGESTIONS });
  if (hits.length === 0) return ok({ deflectionId: null, articles: [], reason: 'no_match' });
  const bodies = new Map(
    (await ctx.db.selectFrom('kb_articles').select(['id', 'body']).where('id', 'in', hits.map((h) => h.id)).execute()).map((r) => [r.id, r.body]),
  );
  const id = ctx.newId();
  await insertDeflection(
    ctx.db,
    {
      id,
      created_at: ctx.time.now().toISOString(),
      source: req.source,
      integration_id: req.integrationId ?? null,
      requester_id: req.requesterId ?? null,
      category_id: leaf.id,
      department_id: leaf.department,
      lang: req.lang,
      outcome: 'shown',
      outcome_at: null,
      article_id: null,
      ticket_id: null,
    },
    hits.map((h) => h.id),
  );
  ctx.logger.info({ deflectionId: id, category: leaf.id, source: req.source, articles: hits.length }, 'deflection: articles offered');
  return ok({
    deflectionId: id,
    articles: hits.map((h) => {
      const body = bodies.get(h.id) ?? '';
      return { id: h.id, slug: h.slug, title: h.title, lang: h.lang, excerpt: excerptOf(body), body };
    }),
  });
}

export interface SelfServiceRequest {
  deflectionId: string;
  /** The article that answered it; may be left out when only one was shown. */
  articleId?: string | undefined;
  /** When given, only this requester's offer can be marked (the API passes its integration's user). */
  requesterId?: string | undefined;
}

/**
 * "Solved": records a self-service resolution. No ticket is raised (see docs/decisions.md
 * "Deflection"). Idempotent: solving twice answers the same; an offer that already led to a ticket
 * cannot be solved any more (`kb.deflection_closed`).
 */
export async function recordSelfService(ctx: Pick<AppContext, 'db' | 'time' | 'logger'>, req: SelfServiceRequest): Promise<Result<{ outcome: 'solved'; articleId: string | null }>> {
  return ctx.db.transaction().execute(async (tx) => {
    const d = await findDeflection(tx, req.deflectionId);
    if (!d || (req.requesterId !== undefined && d.requester_id !== req.requesterId)) return fail('kb.unknown_deflection', { id: req.deflectionId });
    const shown = await deflectionArticleIds(tx, d.id);
    let articleId: string | null = req.articleId ?? (shown.length === 1 ? shown[0]! : null);
    if (articleId !== null && !shown.includes(articleId)) return fail('kb.unknown_deflection', { id: req.deflectionId, article: articleId });
    if (d.outcome === 'solved') return ok({ outcome: 'solved' as const, articleId: d.article_id });
    if (d.outcome !== 'shown') return fail('kb.deflection_closed', { id: req.deflectionId });
    if (!(await markSolved(tx, d.id, articleId, ctx.time.now().toISOString()))) return fail('kb.deflection_closed', { id: req.deflectionId });
    ctx.logger.info({ deflectionId: d.id, category: d.category_id }, 'deflection: solved by self-service');
    return ok({ outcome: 'solved' as const, articleId });
  });
}

/** What a create-ticket command may carry about the offer that came before it. */
export type TicketDeflection =
  /** The offer recorded by suggestArticles. */
  | { id: string }
  /** Articles the caller showed on its own (e.g. an API client's cache): recorded with the ticket. */
  | { shown: string[] };

/**
 * "Still need help": ties the offer to the ticket just created, in the create transaction. An
 * unknown offer or unknown articles are ignored (the ticket matters more than the figure).
 */
export async function attachDeflection(
  ctx: Pick<AppContext, 'newId' | 'logger' | 'config'>,
  tx: DbOrTx,
  ticket: { id: string; category_id: string; department_id: string; locale: string; requester_id: string; source_platform: string },
  deflection: TicketDeflection,
  now: string,
): Promise<boolean> {
  if ('id' in deflection) {
    const ok = await markEscalated(tx, deflection.id, ticket.id, now);
    if (!ok) ctx.logger.warn({ deflectionId: deflection.id, ticketId: ticket.id }, 'deflection: unknown or already used offer; ticket raised without it');
    return ok;
  }
  const wanted = [...new Set(deflection.shown)].slice(0, MAX_SUGGESTIONS * 2);
  if (wanted.length === 0) return false;
  const found = new Set((await tx.selectFrom('kb_articles').select('id').where('id', 'in', wanted).execute()).map((r) => r.id));
  const ids = wanted.filter((id) => found.has(id));
  if (ids.length === 0) return false;
  const leaf = ctx.config.leaves.get(ticket.category_id);
  await insertDeflection(
    tx,
    {
      id: ctx.newId(),
      created_at: now,
      source: ticket.source_platform,
      integration_id: null,
      requester_id: ticket.requester_id,
      category_id: ticket.category_id,
      department_id: leaf?.department ?? ticket.department_id,
      lang: ticket.locale,
      outcome: 'escalated',
      outcome_at: now,
      article_id: null,
      ticket_id: ticket.id,
    },
    ids,
  );
  return true;
}

/** The articles offered before the ticket was raised ("suggested articles" on the card), in the order shown. */
export async function suggestedArticlesForTicket(ctx: Pick<AppContext, 'db'>, ticketId: string): Promise<Array<{ id: string; slug: string; title: string; lang: string; retired: boolean }>> {
  const rows = await articlesOfferedForTicket(ctx.db, ticketId);
  return rows.map((r) => ({ id: r.id, slug: r.slug, title: r.title, lang: r.lang, retired: r.state !== 'active' }));
}

/** An active article as the text of a reply ("send as reply" on the card): its title and Markdown body. */
export async function articleForReply(ctx: Pick<AppContext, 'db'>, articleId: string): Promise<{ id: string; title: string; body: string; lang: string } | undefined> {
  return ctx.db.selectFrom('kb_articles').select(['id', 'title', 'body', 'lang']).where('id', '=', articleId).where('state', '=', 'active').executeTakeFirst();
}
