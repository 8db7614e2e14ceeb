import { randomBytes } from 'node:crypto';
import {
  assignTicket,
  createTicket,
  extendClock,
  handOff,
  rateTicket,
  replyToRequester,
  resolveTicket,
  returnLeg,
} from '../app';
import { assignCandidates } from '../app/candidates';
import type { CommandMeta } from '../app/context';
import type { UseCaseResult } from '../app/runner';
import { t } from '../chat/i18n';
import { isPriority } from '../chat/views';
import { parseDuration } from '../domain/duration';
import { CLOCK_KINDS, type ClockKind, type Locale } from '../domain/types';
import { actionValueSchema, type ActionValue, type FormKind } from './action-values';
import type { CardActionEvent } from './events';
import { actionForm, newTicketForm } from './forms';
import { actionFormCard, doneCard, newTicketCard, toast, type Card } from './presenters';
import { viewTicket } from '../app/access';
import { dispatch, type ChatActor } from '../chat/dispatcher';
import { errorText } from '../chat/errors';
import { extendableClocks } from '../chat/views';
import type { Action } from '../domain/ticket';
import { renderAnswer } from './chat';
import { departmentTimeZone, type FeishuRuntime } from './runtime';

/** The write each form leads to: opening the form needs that write's roles. */
const FORM_ACTION: Record<Exclude<FormKind, 'new'>, Action> = {
  reply: 'reply',
  assign: 'assign',
  hand_off: 'hand_off',
  return: 'return_leg',
  resolve: 'resolve',
  extend: 'extend',
  survey: 'rate',
};

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

type Failure = Extract<UseCaseResult<unknown>, { ok: false }>['error'];

/** Card callbacks: thin — parse, call one use case, present. Idempotent through the core's event keys. */
export async function handleCardAction(rt: FeishuRuntime, evt: CardActionEvent, tenant: string): Promise<CardActionResponse> {
  const userId = await rt.identity.userId(evt.operator.open_id, tenant);
  const actor: Actor = { userId, openId: evt.operator.open_id, tenant, locale: await rt.identity.locale(userId) };
  const parsed = actionValueSchema.safeParse(evt.action.value);
  if (!parsed.success) return toast('warning', t(actor.locale, 'feishu.toast.expired'));
  const value = parsed.data;
  const messageId = evt.context.open_message_id;
  /** A double click on the same card version by the same person is one event. */
  const clickKey = (name: string, v: number | undefined) => `feishu:action:${messageId}:${actor.openId}:${name}:${v ?? 0}`;
  const meta = (eventKey: string): CommandMeta => ({ actorId: actor.userId, eventKey, platform: 'feishu', messageRef: messageId });

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
    case 'which': {
      const answer = await dispatch({ ctx: rt.ctx }, { kind: 'choice', actor: chatActor(rt, actor), platform: 'feishu', dedupKey: clickKey('which', undefined), replyTarget: undefined, choice: { c: value.c, k: value.k, x: value.x } });
      const said = answer.replies.flatMap((r) => (r.kind === 'text' ? [r.text] : []));
      const others = { ...answer, replies: answer.replies.filter((r) => r.kind !== 'text') };
      if (others.replies.length) await renderAnswer(rt, { openId: actor.openId, locale: actor.locale, direct: false }, others);
      const message = said.join('\n') || t(actor.locale, 'feishu.toast.form_sent');
      return { ...toast('info', message), card: { type: 'raw', data: doneCard(message) } };
    }
    case 'form':
      return openForm(rt, actor, value.f, value.t);
    case 'cat':
      return { card: { type: 'raw', data: cascade(rt, actor, value, evt.action.option) } };
    case 'submit':
      return submitForm(rt, actor, value, evt.action.form_value ?? {}, meta(`feishu:form:${value.fid}`));
  }
}

function newFormId(): string {
  return randomBytes(9).toString('base64url');
}

/** A category select changed: the same form, one level deeper (or with the leaf's fields). */
function cascade(rt: FeishuRuntime, actor: Actor, value: Extract<ActionValue, { a: 'cat' }>, option: string | undefined): Card {
  const path = option ? [...value.path.slice(0, value.lvl - 1), option] : value.path;
  const form = newTicketForm(rt.ctx.config, actor.locale, {
    formId: value.fid,
    path,
    prefill: { title: value.ttl, description: value.pre, sourceMessageId: value.src },
  });
  return newTicketCard(form);
}

/** "Reply…", "Hand off…" and friends: the form goes to the clicker's chat with the bot. */
async function openForm(rt: FeishuRuntime, actor: Actor, kind: FormKind, ticketRef: string): Promise<CardActionResponse> {
  if (kind === 'new') return toast('warning', t(actor.locale, 'feishu.toast.expired'));
  // Only those who may do the write are sent its form (the permission matrix, in the core).
  const found = await viewTicket(rt.ctx, actor.userId, ticketRef, { opens: FORM_ACTION[kind] });
  if (!found.ok) return toast('error', errorText(rt.ctx, actor.locale, found.error));
  const view = found.value.view;
  // Assign offers the department's members (a bare select_person would list the clicker's chat).
  const assignees = kind === 'assign' ? (await assignCandidates(rt.ctx, view.ticket.department_id)).map((u) => ({ value: u.id, label: u.name ?? u.platform_user_id })) : undefined;
  const form = actionForm(kind, {
    ...(assignees ? { assignees } : {}),
    config: rt.ctx.config,
    locale: actor.locale,
    formId: newFormId(),
    ticket: { id: view.ticket.id, key: view.ticket.key, title: view.ticket.title, departmentId: view.ticket.department_id },
    runningClocks: extendableClocks(view),
  });
  await rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: actor.openId, msgType: 'interactive', content: JSON.stringify(actionFormCard(form)) });
  return toast('info', t(actor.locale, 'feishu.toast.form_sent'));
}

function str(formValue: Record<string, unknown>, name: string): string {
  const v = formValue[name];
  if (Array.isArray(v)) return v.length ? String(v[0]) : '';
  return v === undefined || v === null ? '' : String(v).trim();
}

async function submitForm(
  rt: FeishuRuntime,
  actor: Actor,
  value: Extract<ActionValue, { a: 'submit' }>,
  formValue: Record<string, unknown>,
  meta: CommandMeta,
): Promise<CardActionResponse> {
  const lc = actor.locale;
  const { ctx } = rt;
  const finished = (key: string, message?: string): CardActionResponse => ({
    ...toast('success', t(lc, 'feishu.done.submitted', { key })),
    card: { type: 'raw', data: doneCard(message ?? t(lc, 'feishu.done.submitted', { key })) },
  });
  const fail = (error: Failure): CardActionResponse => toast('error', errorText(ctx, lc, error));
  const ticket = value.t ?? '';

  switch (value.f) {
    case 'new': {
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(formValue)) if (k.startsWith('field_')) fields[k.slice('field_'.length)] = str({ v }, 'v');
      const priority = str(formValue, 'priority');
      const source = value.src ? { platform: 'feishu' as const, workspace: actor.tenant, messageId: value.src } : undefined;
      const r = await createTicket(ctx, {
        meta,
        categoryId: value.cat ?? '',
        priority: isPriority(priority) ? priority : undefined,
        title: str(formValue, 'title'),
        description: str(formValue, 'description'),
        fields,
        source,
        locale: lc,
      });
      if (!r.ok) {
        // Keep what was chosen and say what is missing, in place of the form.
        const path = rt.ctx.config.leaves.get(value.cat ?? '')?.path.map((n) => n.id) ?? [];
        const form = newTicketForm(ctx.config, lc, {
          formId: newFormId(),
          path,
          prefill: { title: str(formValue, 'title'), description: str(formValue, 'description'), sourceMessageId: value.src },
          problem: errorText(ctx, lc, r.error),
        });
        return { ...fail(r.error), card: { type: 'raw', data: newTicketCard(form) } };
      }
      return finished(r.value.ticket.key, t(lc, 'feishu.done.created', { key: r.value.ticket.key, title: r.value.ticket.title }));
    }
    case 'reply': {
      const template = str(formValue, 'template');
      const r = await replyToRequester(ctx, { meta, ticket, body: str(formValue, 'body'), templateId: template || undefined });
      return r.ok ? finished(r.value.ticket.key) : fail(r.error);
    }
    case 'assign': {
      const openId = str(formValue, 'assignee');
      if (!openId) return fail({ code: 'ticket.missing_fields', params: { fields: 'assignee' } });
      const assigneeId = openId.includes(':') ? openId : await rt.identity.userId(openId, actor.tenant);
      const r = await assignTicket(ctx, { meta, ticket, assigneeId });
      return r.ok ? finished(r.value.ticket.key) : fail(r.error);
    }
    case 'hand_off': {
      const r = await handOff(ctx, { meta, ticket, toDepartmentId: str(formValue, 'department'), reason: str(formValue, 'reason'), note: str(formValue, 'note') || undefined });
      return r.ok ? finished(r.value.ticket.key) : fail(r.error);
    }
    case 'return': {
      const reasonId = str(formValue, 'reason_id');
      const typed = str(formValue, 'reason');
      const listed = ctx.config.raw.return_reasons.find((x) => x.id === reasonId);
      // A listed reason is stored by its id (as on every platform), so reports count it once; typed text adds detail.
      const reason = listed ? listed.id : typed;
      const note = [listed ? typed : '', str(formValue, 'note')].filter(Boolean).join('\n') || undefined;
      const r = await returnLeg(ctx, { meta, ticket, reason, note });
      return r.ok ? finished(r.value.ticket.key) : fail(r.error);
    }
    case 'resolve': {
      const r = await resolveTicket(ctx, { meta, ticket, note: str(formValue, 'note') });
      return r.ok ? finished(r.value.ticket.key) : fail(r.error);
    }
    case 'extend': {
      const clock = str(formValue, 'clock');
      const byMs = parseDuration(str(formValue, 'duration'));
      if (!(CLOCK_KINDS as readonly string[]).includes(clock)) return fail({ code: 'ticket.missing_fields', params: { fields: 'clock' } });
      if (byMs === undefined) return fail({ code: 'ticket.invalid_input', params: { field: t(lc, 'feishu.form.duration'), problem: str(formValue, 'duration') || '-' } });
      const r = await extendClock(ctx, { meta, ticket, clockKind: clock as ClockKind, byMs, reason: str(formValue, 'reason') });
      return r.ok ? finished(r.value.ticket.key) : fail(r.error);
    }
    case 'survey': {
      const score = Number(str(formValue, 'score'));
      const r = await rateTicket(ctx, { meta, ticket, score, comment: str(formValue, 'comment') || undefined });
      return r.ok ? finished(r.value.ticket.key, t(lc, 'feishu.done.rated', { key: r.value.ticket.key })) : fail(r.error);
    }
  }
}
