import { fail, ok, type Result } from '../domain/errors';
import { inboundResult, recordInbound, storeInboundResult } from '../storage/repos/journal';
import type { TicketRow } from '../storage/tables';
import type { AppContext } from './context';
import { createTicket, type CreateTicketCommand } from './createTicket';
import { deflects, recordSelfService, suggestArticles, type DeflectionSource, type SuggestedArticle } from './deflection';
import type { UseCaseResult } from './runner';

/**
 * Deflection at chat intake (issue 18): a ticket asked for in chat (`/ticket <text>`, the new-ticket
 * form, a DM) first gets up to three articles; "Solved" records a self-service resolution, "Still
 * need help" raises the ticket that was asked for, with the offer attached.
 *
 * The pending ticket (the create command) is kept in the database, not in process memory: as the
 * stored result of the inbox key `deflection:draft:<offer id>` (the inbox is our key → result
 * store with retention; `retention.inbox_days` is how long an offer can still be answered). The
 * offer made for an inbound event is stored under `deflection:offer:<event key>`, so a retried
 * event shows the same offer and never makes a second one.
 */

/** The ticket asked for, as held while the articles are offered. */
export type PendingTicket = Omit<CreateTicketCommand, 'deflection'>;

export type IntakeOutcome =
  | { kind: 'offered'; deflectionId: string; articles: SuggestedArticle[]; duplicate: boolean }
  | { kind: 'raised'; result: UseCaseResult<{ ticket: TicketRow }> };

const offerKey = (eventKey: string) => `deflection:offer:${eventKey}`;
const draftKey = (deflectionId: string) => `deflection:draft:${deflectionId}`;
/** Both answers to one offer share a key: the first wins, a double click does nothing more. */
export const answerKey = (deflectionId: string) => `deflection:answer:${deflectionId}`;

type StoredOffer = { none: true } | { deflectionId: string; articles: SuggestedArticle[] };

/** Whether articles may be offered before this ticket: a deflecting leaf, a title, every required field given. */
function mayOffer(ctx: AppContext, cmd: PendingTicket): boolean {
  const leaf = ctx.config.leaves.get(cmd.categoryId);
  if (!leaf || !deflects(ctx, leaf.id) || cmd.meta.eventKey === undefined || cmd.title.trim() === '') return false;
  return leaf.required.every((f) => (cmd.fields?.[f] ?? '').trim() !== '');
}

/**
 * Raises the ticket, unless articles match: then the offer (and the pending ticket) is recorded
 * and returned for the chat to show. One transaction; a repeat of the same event gives the same offer.
 */
export async function raiseOrOffer(ctx: AppContext, cmd: PendingTicket, source: DeflectionSource): Promise<IntakeOutcome> {
  if (!mayOffer(ctx, cmd) || !(await anyArticle(ctx))) return { kind: 'raised', result: await createTicket(ctx, cmd) };
  const eventKey = cmd.meta.eventKey!;
  const offer = await ctx.db.transaction().execute(async (tx): Promise<StoredOffer & { duplicate: boolean }> => {
    const now = ctx.time.now().toISOString();
    // This event already raised its ticket (before any article existed): its repeat answers the same.
    if ((await inboundResult(tx, eventKey)) !== undefined) return { none: true, duplicate: true };
    if (!(await recordInbound(tx, offerKey(eventKey), now))) {
      const stored = await inboundResult(tx, offerKey(eventKey));
      return { ...(stored ? (JSON.parse(stored) as StoredOffer) : { none: true as const }), duplicate: true };
    }
    const found = await suggestArticles({ ...ctx, db: tx }, {
      categoryId: cmd.categoryId,
      title: cmd.title,
      description: cmd.description,
      lang: cmd.locale ?? ctx.config.raw.locale,
      source,
      requesterId: cmd.meta.actorId,
      priority: cmd.priority,
    });
    const value: StoredOffer = found.ok && found.value.deflectionId !== null ? { deflectionId: found.value.deflectionId, articles: found.value.articles } : { none: true };
    if ('deflectionId' in value) {
      await recordInbound(tx, draftKey(value.deflectionId), now);
      await storeInboundResult(tx, draftKey(value.deflectionId), JSON.stringify(cmd));
    }
    await storeInboundResult(tx, offerKey(eventKey), JSON.stringify(value));
    return { ...value, duplicate: false };
  });
  if ('none' in offer) return { kind: 'raised', result: await createTicket(ctx, cmd) };
  return { kind: 'offered', deflectionId: offer.deflectionId, articles: offer.articles, duplicate: offer.duplicate };
}

/** A desk without a knowledge base pays one indexed read per chat ticket, nothing more. */
async function anyArticle(ctx: AppContext): Promise<boolean> {
  return (await ctx.db.selectFrom('kb_articles').select('id').where('state', '=', 'active').limit(1).executeTakeFirst()) !== undefined;
}

export type OfferAnswer =
  | { kind: 'solved' }
  | { kind: 'raised'; result: UseCaseResult<{ ticket: TicketRow }> };

/**
 * The requester's answer to an offer. "Solved" records the self-service resolution (no ticket);
 * "Still need help" raises the pending ticket with the offer attached. Only the person the offer
 * was made to may answer it; a second "Still need help" (a double click) raises nothing more.
 */
export async function answerOffer(
  ctx: AppContext,
  req: { deflectionId: string; actorId: string; answer: 'solved' | 'still'; articleId?: string | undefined },
): Promise<Result<OfferAnswer>> {
  const stored = await inboundResult(ctx.db, draftKey(req.deflectionId));
  const pending = stored ? (JSON.parse(stored) as PendingTicket) : undefined;
  if (!pending || pending.meta.actorId !== req.actorId) return fail('kb.unknown_deflection', { id: req.deflectionId });
  if (req.answer === 'solved') {
    const r = await recordSelfService(ctx, { deflectionId: req.deflectionId, articleId: req.articleId, requesterId: req.actorId });
    return r.ok ? ok({ kind: 'solved' as const }) : r;
  }
  const result = await createTicket(ctx, { ...pending, meta: { ...pending.meta, eventKey: answerKey(req.deflectionId) }, deflection: { id: req.deflectionId } });
  return ok({ kind: 'raised' as const, result });
}
