import type { AppContext, CommandMeta } from '../app/context';
import { articleForReply } from '../app/deflection';
import { answerOffer, raiseOrOffer, type PendingTicket } from '../app/intakeDeflection';
import { saveAnswerArticle } from '../app/kb';
import { replyToRequester } from '../app/messages';
import { getAuditTrail, getTicketView, type TicketView } from '../app/queries';
import type { UseCaseResult } from '../app/runner';
import type { TicketOutcome } from '../app/ticketCommand';
import { startsFrom } from '../domain/ticket';
import type { Locale, TicketState } from '../domain/types';
import { defaultTimeZone, errorText } from './errors';
import type { FormChoices } from './forms';
import { t } from './i18n';

/**
 * The chat side of the knowledge base (issue 18), once for every platform:
 * - deflection at intake: `/ticket <text>`, the new-ticket form and a DM go through `raiseInChat`,
 *   which offers up to three articles before the ticket (a `deflect` reply); the requester's
 *   "Solved" / "Still need help" come back as `kb` intents (`onKnowledge`);
 * - the card: suggested articles (those offered before the ticket) with "Send as reply", and
 *   "Save as answer" on a resolved or closed ticket (the `save_answer` form of src/chat/forms.ts).
 * Platforms render `deflect` replies and the card's `knowledge` part, and turn their buttons into
 * `kb` intents; nothing else.
 */

/** A button about the knowledge base: an answer to an offer, or "Send as reply" on a card. */
export type KbAction =
  | { kind: 'kb'; act: 'solved' | 'still'; deflection: string; article?: string | undefined }
  /** `version`: the card's ticket version; the same article sent from the same card version is one reply. */
  | { kind: 'kb'; act: 'send'; ticket: string; article: string; version?: number | undefined };

export interface DeflectOffer {
  deflectionId: string;
  title: string;
  /** "If none of them does…" */
  hint: string;
  articles: { id: string; title: string; excerpt: string }[];
  solvedLabel: string;
  stillLabel: string;
}

/** What the chat layer answers; the dispatcher's ChatReply holds these (kept here to keep merges apart). */
export type KbReply = { kind: 'deflect'; offer: DeflectOffer };

interface KbAnswer {
  replies: Array<KbReply | { kind: 'text'; text: string }>;
  done?: { key: string; title?: string | undefined; duplicate?: boolean | undefined } | undefined;
}

interface Who {
  actor: { id: string; locale: Locale; timeZone?: string | undefined };
  platform: string;
  dedupKey: string;
  messageRef?: string | undefined;
}

export function deflectOffer(locale: Locale, deflectionId: string, articles: readonly { id: string; title: string; excerpt: string }[]): DeflectOffer {
  return {
    deflectionId,
    title: t(locale, 'chat.deflect.title'),
    hint: t(locale, 'chat.deflect.more'),
    articles: articles.map((a) => ({ id: a.id, title: a.title, excerpt: a.excerpt })),
    solvedLabel: t(locale, 'chat.deflect.solved'),
    stillLabel: t(locale, 'chat.deflect.still_need_help'),
  };
}

/**
 * Raises a ticket asked for in chat, or first offers matching articles. `offered` carries the
 * reply to show (none for a repeat of the same event, which already showed it).
 */
export async function raiseInChat(
  ctx: AppContext,
  who: Who,
  cmd: PendingTicket,
): Promise<{ offered: KbReply[] } | { result: UseCaseResult<TicketOutcome> }> {
  const source = who.platform === 'api' ? 'api' : (who.platform as 'slack' | 'feishu');
  const outcome = await raiseOrOffer(ctx, cmd, source);
  if (outcome.kind === 'raised') return { result: outcome.result };
  return { offered: outcome.duplicate ? [] : [{ kind: 'deflect', offer: deflectOffer(who.actor.locale, outcome.deflectionId, outcome.articles) }] };
}

const text = (body: string) => ({ kind: 'text' as const, text: body });

/** "Solved", "Still need help" and "Send as reply". */
export async function onKnowledge(ctx: AppContext, who: Who, action: KbAction): Promise<KbAnswer> {
  const lc = who.actor.locale;
  const zone = who.actor.timeZone ?? defaultTimeZone(ctx);
  const say = (error: Parameters<typeof errorText>[2]) => ({ replies: [text(errorText(ctx, lc, error, zone))] });
  if (action.act === 'send') {
    const article = await articleForReply(ctx, action.article);
    if (!article) return { replies: [text(t(lc, 'chat.kb.article_gone'))] };
    const key = `kb:send:${action.ticket}:${action.article}:v${action.version ?? 0}`;
    const meta: CommandMeta = { actorId: who.actor.id, platform: who.platform as CommandMeta['platform'], eventKey: key, ...(who.messageRef ? { messageRef: who.messageRef } : {}) };
    const r = await replyToRequester(ctx, { meta, ticket: action.ticket, body: articleReplyText(article) });
    if (!r.ok) return say(r.error);
    return { replies: r.duplicate ? [] : [text(t(lc, 'chat.kb.sent', { title: article.title, key: r.value.ticket.key }))], done: { key: r.value.ticket.key, duplicate: r.duplicate ?? false } };
  }
  const r = await answerOffer(ctx, { deflectionId: action.deflection, actorId: who.actor.id, answer: action.act, articleId: action.article });
  if (!r.ok) return say(r.error);
  if (r.value.kind === 'solved') return { replies: [text(t(lc, 'chat.deflect.thanks'))] };
  const created = r.value.result;
  if (!created.ok) return say(created.error);
  const ticket = created.value.ticket;
  return {
    replies: [text(t(lc, 'chat.created', { key: ticket.key, title: ticket.title }))],
    done: { key: ticket.key, title: ticket.title, duplicate: created.duplicate ?? false },
  };
}

/** The longest article reply: within every platform's message (Slack sections hold 3,000 characters with the notice around it). */
export const ARTICLE_REPLY_MAX = 2500;

/**
 * An article as the text of a public reply: its title, then the body with the Markdown that the
 * platforms would show raw turned into plain text (links as "text (url)", no emphasis marks, no
 * fences), cut at a line end with "…" to fit. The platforms escape the text when they render it,
 * so nothing in an article becomes a mention or a link markup.
 */
export function articleReplyText(article: { title: string; body: string }, max = ARTICLE_REPLY_MAX): string {
  const body = article.body
    .replace(/\r\n/g, '\n')
    .replace(/^\s*```[^\n]*$/gm, '')
    .replace(/!\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, (_m, alt: string, url: string) => (alt ? `${alt} (${url})` : url))
    .replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, (_m, label: string, url: string) => (label === url ? url : `${label} (${url})`))
    .replace(/^\s{0,3}#{1,6}\s+/gm, '')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const whole = `${article.title.trim()}\n\n${body}`;
  const chars = [...whole];
  if (chars.length <= max) return whole;
  const cut = chars.slice(0, max - 1).join('');
  const lineEnd = cut.lastIndexOf('\n');
  return `${lineEnd > max / 2 ? cut.slice(0, lineEnd) : cut}\n…`;
}

/** The knowledge-base part of a ticket card (labels already in the reader's language). */
export interface CardKnowledge {
  title: string;
  /** Articles offered before the ticket was raised (retired ones left out). */
  articles: { id: string; title: string }[];
  /** "Send as reply" when the ticket can still be replied to. */
  sendLabel: string | null;
  /** "Save as answer" on a resolved or closed ticket. */
  saveAnswerLabel: string | null;
}

export function cardKnowledge(view: Pick<TicketView, 'suggested'>, state: TicketState, locale: Locale): CardKnowledge {
  return {
    title: t(locale, 'ui.card.suggested_articles'),
    articles: (view.suggested ?? []).filter((a) => !a.retired).slice(0, 3).map((a) => ({ id: a.id, title: a.title })),
    sendLabel: startsFrom('reply', state) ? t(locale, 'ui.card.send_article') : null,
    saveAnswerLabel: state === 'resolved' || state === 'closed' ? t(locale, 'ui.action.save_answer') : null,
  };
}

/** "Save as answer": the article's title, body and tags, prefilled from the ticket and its resolution note. */
export async function saveAnswerChoices(ctx: AppContext, view: TicketView): Promise<FormChoices> {
  const trail = await getAuditTrail(ctx, view.ticket.id);
  const resolved = [...trail].reverse().find((a) => a.action === 'resolved' && a.reason);
  return { initial: { title: view.ticket.title, body: resolved?.reason ?? '' } };
}

export async function saveAnswer(ctx: AppContext, meta: CommandMeta, ticket: string, v: { title: string; body: string; tags?: string | undefined }): Promise<UseCaseResult<TicketOutcome>> {
  const tags = (v.tags ?? '').split(/[,，]/).map((s) => s.trim()).filter(Boolean);
  const r = await saveAnswerArticle(ctx, { actorId: meta.actorId, ticket, title: v.title, body: v.body, tags });
  if (!r.ok) return r;
  ctx.logger.info({ ticket, articleId: r.value.articleId, outcome: r.value.outcome }, 'kb: ticket saved as an answer');
  const view = await getTicketView(ctx, ticket);
  return { ok: true, value: { ticket: view!.ticket } };
}
