import type { Locale } from '../domain/types';
import type { DbOrTx } from '../storage/database';
import { articleDeflectionCounts, deflectionCounts, type ArticleDeflectionCounts } from '../storage/repos/deflection';
import { formatRate } from './format';
import { rt } from './i18n';

/**
 * The self-service rate (issue 18), reported beside the six headline metrics: of the offers of
 * knowledge-base articles made in the period that the requester answered, the share answered
 * "Solved" (no ticket) rather than "Still need help" (a ticket). Definition text:
 * SELF_SERVICE_DEFINITION in ./definitions.
 */
export interface SelfServiceFigures {
  /** Offers with at least one article shown. */
  offered: number;
  solved: number;
  /** "Still need help": a ticket was raised after the offer. */
  escalated: number;
  /** solved ÷ (solved + escalated); null without answered offers. */
  rate: number | null;
  previousRate: number | null;
  /** Per article: views, solved, still need help (most viewed first). */
  articles: ArticleDeflectionCounts[];
}

export interface SelfServiceRequest {
  fromMs: number;
  toMs: number;
  previous?: { fromMs: number; toMs: number } | undefined;
  departmentIds?: readonly string[] | undefined;
  articleLimit?: number | undefined;
}

export const selfServiceRate = (c: { solved: number; escalated: number }): number | null => (c.solved + c.escalated > 0 ? c.solved / (c.solved + c.escalated) : null);

export async function selfServiceFigures(db: DbOrTx, req: SelfServiceRequest): Promise<SelfServiceFigures> {
  const range = (p: { fromMs: number; toMs: number }) => ({ fromIso: new Date(p.fromMs).toISOString(), toIso: new Date(p.toMs).toISOString(), departmentIds: req.departmentIds });
  const current = await deflectionCounts(db, range(req));
  const previous = req.previous ? await deflectionCounts(db, range(req.previous)) : undefined;
  const limit = req.articleLimit ?? 20;
  const articles = limit > 0 ? await articleDeflectionCounts(db, range(req), limit) : [];
  return { ...current, rate: selfServiceRate(current), previousRate: previous ? selfServiceRate(previous) : null, articles };
}

/** The stats/digest lines: the rate with its basis, then the three most viewed articles. */
export function selfServiceLines(f: SelfServiceFigures, locale: Locale, articles = 3): string[] {
  if (f.offered === 0) return [];
  const pct = (r: number | null) => formatRate(r, locale);
  const lines = [rt(locale, 'stats.self_service', { rate: pct(f.rate), solved: f.solved, answered: f.solved + f.escalated, offered: f.offered, previous: pct(f.previousRate) })];
  for (const a of f.articles.slice(0, articles)) lines.push(rt(locale, 'stats.self_service_article', { title: a.title, views: a.views, solved: a.solved, still: a.stillNeedHelp }));
  return lines;
}
