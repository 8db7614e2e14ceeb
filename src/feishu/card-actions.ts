import { randomBytes } from 'node:crypto';
import { t } from '../chat/i18n';
import { isPriority } from '../chat/views';
import type { Locale } from '../domain/types';
import { actionValueSchema, type ActionValue, type FormKind } from './action-values';
import type { CardActionEvent } from './events';
import { actionFormView, newTicketForm } from './forms';
import { actionFormCard, doneCard, newTicketCard, toast, type Card } from './presenters';
import { dispatch, type Answer, type ChatActor } from '../chat/dispatcher';
import type { FormId } from '../chat/forms';
import type { KbAction } from '../chat/deflection';
import { renderAnswer } from './chat';
import { departmentTimeZone, type FeishuRuntime } from './runtime';

/** A form kind on a card: `survey` is the old name of `rate`. */
const formOf = (kind: Exclude<FormKind, 'new'>): FormId => (kind === 'survey' ? 'rate' : kind);

function chatActor(rt: FeishuRuntime, actor: Actor): ChatActor {
  return { id: actor.userId, locale: actor.locale, timeZone: departmentTimeZone(rt.ctx, undefined) };
}

/** The answer to a card callback: a toast for the clicker and, optionally, a new card in place. */
export interface CardActionResponse {
  toast?: { type: string; content: string };
  card?: { type: 'raw'; data: Card };
}

interface Actor {
  userId: string;
  openId: string;
  tenant: string;
  locale: Locale;
}

/** Card callbacks: thin — parse, make an intent for the chat layer, render its answer. Idempotent through the core's event keys. */
export async function handleCardAction(rt: FeishuRuntime, evt: CardActionEvent, tenant: string): Promise<CardActionResponse> {
  const userId = await rt.identity.userId(evt.operator.open_id, tenant);
  const actor: Actor = { userId, openId: evt.operator.open_id, tenant, locale: await rt.identity.locale(userId) };
  const parsed = actionValueSchema.safeParse(evt.action.value);
  if (!parsed.success) return toast('warning', t(actor.locale, 'feishu.toast.expired'));
  const value = parsed.data;
  const messageId = evt.context.open_message_id;
  /** A double click on the same card version by the same person is one event. */
  const clickKey = (name: string, v: number | undefined) => `feishu:action:${messageId}:${actor.openId}:${name}:${v ?? 0}`;

  switch (value.a) {
    case 'claim':
    case 'take_over':
    case 'priority':
    case 'confirm':
    case 'reopen': {
      const priority = evt.action.option ?? '';
      if (value.a === 'priority' && !isPriority(priority)) return toast('warning', t(actor.locale, 'feishu.toast.expired'));
      const clickName = value.a === 'priority' ? `priority:${priority}` : value.a;
      const answer = await dispatch(
        { ctx: rt.ctx },
        { kind: 'press', action: value.a, actor: chatActor(rt, actor), platform: 'feishu', dedupKey: clickKey(clickName, value.v), replyTarget: undefined, ticket: value.t, priority: isPriority(priority) ? priority : undefined },
      );
      if (!answer.done) {
        const said = answer.replies.flatMap((r) => (r.kind === 'text' ? [r.text] : []));
        return toast('error', said.join('\n') || t(actor.locale, 'error.internal'));
      }
      const submitted = toast('success', t(actor.locale, 'feishu.done.submitted', { key: answer.done.key }));
      if (value.a !== 'confirm' && value.a !== 'reopen') return submitted;
      // The requester's answer replaces the question, so it cannot be answered twice.
      const answerText = t(actor.locale, value.a === 'confirm' ? 'ui.action.confirm' : 'ui.action.reopen');
      return { ...submitted, card: { type: 'raw', data: doneCard(t(actor.locale, 'ui.answered', { answer: answerText })) } };
    }
    case 'show': {
      // The card goes to the clicker alone, if the permission matrix lets them read it.
      const answer = await dispatch({ ctx: rt.ctx }, { kind: 'open', actor: chatActor(rt, actor), platform: 'feishu', dedupKey: clickKey('show', value.v), replyTarget: undefined, ticket: value.t });
      const reply = answer.replies[0];
      if (reply?.kind !== 'ticket') return toast('error', reply?.kind === 'text' ? reply.text : t(actor.locale, 'error.internal'));
      await renderAnswer(rt, { openId: actor.openId, locale: actor.locale, direct: false }, answer);
      return toast('info', t(actor.locale, 'feishu.toast.form_sent'));
    }
    case 'history': {
      // The history goes to the clicker's chat with the bot, if the permission matrix lets them read the ticket.
      const answer = await dispatch({ ctx: rt.ctx }, { kind: 'history', actor: chatActor(rt, actor), platform: 'feishu', dedupKey: clickKey('history', value.v), replyTarget: undefined, ticket: value.t });
      const reply = answer.replies[0];
      if (reply?.kind !== 'history') return toast('error', reply?.kind === 'text' ? reply.text : t(actor.locale, 'error.internal'));
      await renderAnswer(rt, { openId: actor.openId, locale: actor.locale, direct: false }, answer);
      return toast('info', t(actor.locale, 'chat.sent_privately'));
    }
    case 'rcat':
      return { card: { type: 'raw', data: await recategoriseCascade(rt, actor, value, evt.action.option, clickKey('rcat', undefined)) } };
    case 'which': {
      const answer = await dispatch({ ctx: rt.ctx }, { kind: 'choice', actor: chatActor(rt, actor), platform: 'feishu', dedupKey: clickKey('which', undefined), replyTarget: undefined, choice: { c: value.c, k: value.k, x: value.x } });
      const said = answer.replies.flatMap((r) => (r.kind === 'text' ? [r.text] : []));
      const others = { ...answer, replies: answer.replies.filter((r) => r.kind !== 'text') };
      if (others.replies.length) await renderAnswer(rt, { openId: actor.openId, locale: actor.locale, direct: false }, others);
      const message = said.join('\n') || t(actor.locale, 'feishu.toast.form_sent');
      return { ...toast('info', message), card: { type: 'raw', data: doneCard(message) } };
    }
    case 'form':
      return openForm(rt, actor, value.f, value.t, clickKey(`form:${value.f}`, value.v));
    case 'cat':
      return { card: { type: 'raw', data: await cascade(rt, actor, value, evt.action.option, clickKey('cat', undefined)) } };
    case 'submit':
      return submitForm(rt, actor, value, evt.action.form_value ?? {}, messageId);
    case 'kb':
      return knowledge(rt, actor, value, clickKey(`kb:${value.k}:${value.r ?? ''}`, value.v));
  }
}

/** Knowledge base (issue 18): "Solved" / "Still need help" on an offer (answered in place), "Send as reply" on a card. */
async function knowledge(rt: FeishuRuntime, actor: Actor, value: Extract<ActionValue, { a: 'kb' }>, dedupKey: string): Promise<CardActionResponse> {
  const lc = actor.locale;
  const kb: KbAction | undefined =
    value.k === 'send'
      ? value.t && value.r ? { kind: 'kb', act: 'send', ticket: value.t, article: value.r, version: value.v } : undefined
      : value.d ? { kind: 'kb', act: value.k, deflection: value.d, article: value.r } : undefined;
  if (!kb) return toast('warning', t(lc, 'feishu.toast.expired'));
  const answer = await dispatch({ ctx: rt.ctx }, { ...kb, actor: chatActor(rt, actor), platform: 'feishu', dedupKey, replyTarget: undefined });
  const said = answer.replies.flatMap((r) => (r.kind === 'text' ? [r.text] : [])).join('\n');
  if (kb.act === 'send') return said ? toast(answer.done ? 'success' : 'error', said) : toast('info', t(lc, 'feishu.done.submitted', { key: answer.done?.key ?? '' }));
  // The offer is answered: the card gives way to the answer, so it is not answered twice.
  const message = said || t(lc, 'chat.choice.expired');
  return { ...toast(answer.done || !said ? 'success' : 'info', message), card: { type: 'raw', data: doneCard(message) } };
}

function newFormId(): string {
  return randomBytes(9).toString('base64url');
}

/** A category select changed: the same form, at the path the chat layer says it leads to. */
async function cascade(rt: FeishuRuntime, actor: Actor, value: Extract<ActionValue, { a: 'cat' }>, option: string | undefined, dedupKey: string): Promise<Card> {
  const answer = await dispatch({ ctx: rt.ctx }, { kind: 'cascade', actor: chatActor(rt, actor), platform: 'feishu', dedupKey, replyTarget: undefined, path: value.path, level: value.lvl, chosen: option });
  const next = answer.replies.find((r) => r.kind === 'category_path');
  const form = newTicketForm(rt.ctx.config, actor.locale, {
    formId: value.fid,
    path: next?.kind === 'category_path' ? next.path : value.path,
    prefill: { title: value.ttl, description: value.pre, sourceMessageId: value.src },
  });
  return newTicketCard(form);
}

/** A category select of Change category… changed: the same form at the path the chat layer says it leads to. */
async function recategoriseCascade(rt: FeishuRuntime, actor: Actor, value: Extract<ActionValue, { a: 'rcat' }>, option: string | undefined, dedupKey: string): Promise<Card> {
  const answer = await dispatch({ ctx: rt.ctx }, { kind: 'cascade', actor: chatActor(rt, actor), platform: 'feishu', dedupKey, replyTarget: undefined, path: value.path, level: value.lvl, chosen: option });
  const next = answer.replies.find((r) => r.kind === 'category_path');
  const path = next?.kind === 'category_path' ? next.path : value.path;
  const reply = { kind: 'action_form' as const, form: 'recategorise' as const, ticket: { id: value.t, key: value.k, title: value.ttl, departmentId: '', priority: '' }, choices: { category: { current: '', path } } };
  return actionFormCard(actionFormView(actor.locale, reply, value.fid, rt.ctx.config));
}

/** "Reply…", "Hand off…" and friends: the form goes to the clicker's chat with the bot. */
async function openForm(rt: FeishuRuntime, actor: Actor, kind: FormKind, ticket: string, dedupKey: string): Promise<CardActionResponse> {
  if (kind === 'new') return toast('warning', t(actor.locale, 'feishu.toast.expired'));
  const answer = await dispatch({ ctx: rt.ctx }, { kind: 'open_form', form: formOf(kind), actor: chatActor(rt, actor), platform: 'feishu', dedupKey, replyTarget: undefined, ticket });
  const reply = answer.replies[0];
  if (reply?.kind !== 'action_form') return toast('error', reply?.kind === 'text' ? reply.text : t(actor.locale, 'error.internal'));
  await renderAnswer(rt, { openId: actor.openId, locale: actor.locale, direct: false }, answer);
  return toast('info', t(actor.locale, 'feishu.toast.form_sent'));
}

/** A form submitted: a submit intent with the form's values; the chat layer parses and runs it. */
async function submitForm(
  rt: FeishuRuntime,
  actor: Actor,
  value: Extract<ActionValue, { a: 'submit' }>,
  formValue: NonNullable<CardActionEvent['action']['form_value']>,
  messageId: string,
): Promise<CardActionResponse> {
  const lc = actor.locale;
  const { ctx } = rt;
  const form = value.f === 'new' ? 'new' : formOf(value.f);
  const values = { ...formValue };
  if (form === 'new' || form === 'recategorise') values.category = value.cat ?? '';
  // The assignee select carries our user ids; a person picker an open id (made known here).
  if (form === 'assign' && typeof values.assignee === 'string' && values.assignee && !values.assignee.includes(':')) values.assignee = await rt.identity.userId(values.assignee, actor.tenant);
  const source = form === 'new' && value.src ? { platform: 'feishu' as const, workspace: actor.tenant, messageId: value.src } : undefined;
  const answer: Answer = await dispatch(
    { ctx },
    { kind: 'submit', form, ticket: value.t, values, source, actor: chatActor(rt, actor), platform: 'feishu', dedupKey: `feishu:form:${value.fid}`, messageRef: messageId, replyTarget: undefined },
  );
  const refused = answer.replies.find((r) => r.kind === 'invalid');
  if (refused?.kind === 'invalid') {
    if (form !== 'new') return toast('error', refused.text);
    // Keep what was chosen and say what is wrong, in place of the form.
    const str = (name: string) => {
      const v = formValue[name];
      return Array.isArray(v) ? String(v[0] ?? '') : v === undefined || v === null ? '' : String(v).trim();
    };
    const path = ctx.config.leaves.get(value.cat ?? '')?.path.map((n) => n.id) ?? [];
    const again = newTicketForm(ctx.config, lc, {
      formId: newFormId(),
      path,
      prefill: { title: str('title'), description: str('description'), sourceMessageId: value.src },
      problem: refused.text,
    });
    return { ...toast('error', refused.text), card: { type: 'raw', data: newTicketCard(again) } };
  }
  // A follow-up form (Change category… asking for the new category's fields) replaces this one.
  const follow = answer.replies.find((r) => r.kind === 'action_form');
  if (follow?.kind === 'action_form') return { ...toast('info', t(lc, 'feishu.toast.form_sent')), card: { type: 'raw', data: actionFormCard(actionFormView(lc, follow, newFormId(), ctx.config)) } };
  const done = answer.done;
  // Articles offered first (issue 18): they go to the chat with the bot, in place of the form a pointer to them.
  if (!done && answer.replies.some((r) => r.kind === 'deflect')) {
    await renderAnswer(rt, { openId: actor.openId, locale: lc, direct: false }, answer);
    return { ...toast('info', t(lc, 'chat.deflect.title')), card: { type: 'raw', data: doneCard(t(lc, 'chat.deflect.title')) } };
  }
  if (!done) return toast('error', t(lc, 'error.internal'));
  const message =
    form === 'new' ? t(lc, 'feishu.done.created', { key: done.key, title: done.title ?? '' }) : form === 'rate' ? t(lc, 'feishu.done.rated', { key: done.key }) : t(lc, 'feishu.done.submitted', { key: done.key });
  return { ...toast('success', t(lc, 'feishu.done.submitted', { key: done.key })), card: { type: 'raw', data: doneCard(message) } };
}
