import type { App } from '@slack/bolt';
import { assignTicket } from '../app/assignTicket';
import { changePriority } from '../app/changePriority';
import { closeTicket, extendClock, markSensitive, rateTicket, resolveTicket } from '../app/closing';
import { createTicket } from '../app/createTicket';
import { handOff } from '../app/handOff';
import { replyToRequester, requestInfo } from '../app/messages';
import { viewTicket } from '../app/access';
import type { TicketView } from '../app/queries';
import { dispatch, type PressAction } from '../chat/dispatcher';
import { extendableClocks } from '../chat/views';
import type { Action } from '../domain/ticket';
import { decodeChoice, renderAnswer } from './chat';
import { returnLeg } from '../app/returnLeg';
import type { UseCaseResult } from '../app/runner';
import { t } from '../chat/i18n';
import { parseDuration } from '../domain/duration';
import { PRIORITIES, type Priority } from '../domain/types';
import { ACTION, BLOCK, MESSAGE_SHORTCUT, VIEW } from './ids';
import { openView } from './open-view';
import { attachmentsOf, draftFromText, ticketSource, type DraftValue, type MessageSource } from './intake';
import { blockAction, inputValue, messageShortcut, newTicketMetadata, splitValue, textOf, ticketModalMetadata, viewSubmission, type BlockAction, type ViewSubmission } from './payloads';
import {
  answeredNotice,
  escapeMrkdwn,
  assignModal,
  closeModal,
  extendModal,
  handOffModal,
  missingFieldsModal,
  newTicketModal,
  priorityModal,
  rateCommentModal,
  replyModal,
  resolveModal,
  returnModal,
  textMessage,
  type ModalView,
  type NewTicketMetadata,
  type TicketModalMetadata,
} from './presenters';
import { afterAck, errorText, fieldLabel, meta, presentResult, replyPrivately, type Actor, type ReplyTarget, type SlackRuntime } from './runtime';

type Respond = ReplyTarget['respond'];

/** The inbound key of a button press: a retry of the same request repeats it, a new click does not. */
function actionKey(a: BlockAction): string {
  const action = a.actions[0]!;
  const where = a.container?.message_ts ?? a.container?.view_id ?? a.view?.id ?? '';
  return `slack:action:${where}:${action.action_ts}:${a.user.id}`;
}

function replyTarget(a: BlockAction, respond: Respond): ReplyTarget {
  const channel = a.channel?.id ?? a.container?.channel_id;
  return { slackUserId: a.user.id, channel, respond: a.response_url ? respond : undefined };
}

/** Modal metadata: unreadable JSON gives the fallback; a readable one of the wrong shape is refused (ZodError). */
function parseMetadata<T>(raw: string | undefined, fallback: T, schema?: { parse(value: unknown): unknown }): T {
  if (!raw) return fallback;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fallback;
  }
  return (schema ? schema.parse(value) : value) as T;
}

async function openModal(rt: SlackRuntime, actor: Actor, triggerId: string | undefined, view: ModalView): Promise<void> {
  await openView(rt, actor, triggerId, view);
}

/** Buttons on cards, DMs and App Home; the message shortcut; modal submissions. */
export function registerInteractions(app: App, rt: SlackRuntime): void {
  const config = rt.ctx.config;

  /**
   * Loads the ticket a button names for a press that opens a form for `action`: the core's
   * permission matrix decides, and a refusal reads the same whether or not the ticket exists.
   */
  async function ticketFor(actor: Actor, target: ReplyTarget, ticketId: string, action: Action): Promise<TicketView | undefined> {
    const found = await viewTicket(rt.ctx, actor.id, ticketId, { opens: action });
    if (!found.ok) await replyPrivately(rt, target, textMessage(errorText(rt, actor.locale, found.error)));
    return found.ok ? found.value.view : undefined;
  }

  /** Registers a button that opens a modal about its ticket (for those who may do `action`). */
  function modalButton(actionId: string, action: Action, build: (actor: Actor, view: TicketView, meta: TicketModalMetadata, extra: string | undefined) => ModalView) {
    app.action(actionId, afterAck(rt, async ({ ack, body, respond }) => {
      await ack();
      const a = blockAction.parse(body);
      const actor = await rt.identities.resolve(a.user.id);
      const target = replyTarget(a, respond);
      const { ticketId, extra } = splitValue(a.actions[0]!.value);
      const view = await ticketFor(actor, target, ticketId, action);
      if (!view) return;
      await openModal(rt, actor, a.trigger_id, build(actor, view, { ticketId: view.ticket.id, channel: target.channel, clock: extra }, extra));
    }));
  }

  const ref = (v: TicketView) => ({ key: v.ticket.key, title: v.ticket.title });
  const otherDepartments = (actor: Actor, v: TicketView) =>
    [...config.departments.values()].filter((d) => d.id !== v.ticket.department_id).map((d) => ({ id: d.id, name: d.name[actor.locale] }));
  // Templates are shown in the presser's language; the core sends them in the requester's.
  const templates = (actor: Actor) => config.raw.templates.map((tp) => ({ id: tp.id, name: tp.name[actor.locale] }));

  modalButton(ACTION.assign, 'assign', (actor, v, m) => assignModal(actor.locale, ref(v), [], m));
  modalButton(ACTION.reassign, 'assign', (actor, v, m) => assignModal(actor.locale, ref(v), [], m));
  modalButton(ACTION.priority, 'change_priority', (actor, v, m) => priorityModal(actor.locale, { ...ref(v), priority: v.ticket.priority }, m));
  modalButton(ACTION.reply, 'reply', (actor, v, m) => replyModal(actor.locale, ref(v), templates(actor), m));
  modalButton(ACTION.handOff, 'hand_off', (actor, v, m) => handOffModal(actor.locale, ref(v), otherDepartments(actor, v), m));
  modalButton(ACTION.return, 'return_leg', (actor, v, m) => returnModal(actor.locale, ref(v), config.raw.return_reasons.map((r) => ({ id: r.id, name: r.name[actor.locale] })), m));
  modalButton(ACTION.resolve, 'resolve', (actor, v, m) => resolveModal(actor.locale, ref(v), m));
  modalButton(ACTION.rateComment, 'rate', (actor, v, m) => rateCommentModal(actor.locale, ref(v), m));
  modalButton(ACTION.extend, 'extend', (actor, v, m, clock) => {
    return extendModal(actor.locale, ref(v), extendableClocks(v), { ...m, clock });
  });

  /** Registers a button that acts at once on its ticket: a press intent for the chat layer. */
  function pressButton(actionId: string | RegExp, action: PressAction, after?: (actor: Actor, a: BlockAction, done: { key: string }) => Promise<void>) {
    app.action(actionId, afterAck(rt, async ({ ack, body, respond }) => {
      await ack();
      const a = blockAction.parse(body);
      const actor = await rt.identities.resolve(a.user.id);
      const { ticketId, extra } = splitValue(a.actions[0]!.value);
      const target = replyTarget(a, respond);
      const answer = await dispatch(
        { ctx: rt.ctx },
        { kind: 'press', action, actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: target, ticket: ticketId, score: action === 'rate' ? Number(extra) : undefined },
      );
      await renderAnswer(rt, actor, target, answer);
      if (answer.done) await after?.(actor, a, answer.done);
    }));
  }

  pressButton(ACTION.claim, 'claim');
  pressButton(ACTION.takeOver, 'take_over');

  /** The requester's answer replaces the buttons, so the question cannot be answered twice. */
  const markAnswered = (answerKey: 'ui.action.confirm' | 'ui.action.reopen') => async (actor: Actor, a: BlockAction) => {
    if (!a.message || !a.channel) return;
    const section = (a.message.blocks?.[0] as { text?: { text?: string } } | undefined)?.text?.text ?? a.message.text ?? '';
    const msg = answeredNotice(section, t(actor.locale, 'ui.answered', { answer: t(actor.locale, answerKey) }));
    await rt.client.chat.update({ channel: a.channel.id, ts: a.message.ts, text: msg.text, blocks: msg.blocks as never }).catch((err: unknown) => rt.logger.warn({ err: String(err) }, 'Slack: could not update the answered message'));
  };
  pressButton(ACTION.confirm, 'confirm', markAnswered('ui.action.confirm'));
  pressButton(ACTION.reopen, 'reopen', markAnswered('ui.action.reopen'));
  pressButton(
    new RegExp(`^${ACTION.rate}_[1-5]$`),
    'rate',
    async (actor, a, done) => {
      if (!a.message || !a.channel) return;
      const { extra } = splitValue(a.actions[0]!.value);
      const key = done.key;
      const section = (a.message.blocks?.[0] as { text?: { text?: string } } | undefined)?.text?.text ?? a.message.text ?? '';
      const msg = answeredNotice(section, t(actor.locale, 'ui.rated', { key, score: extra ?? '' }));
      await rt.client.chat.update({ channel: a.channel.id, ts: a.message.ts, text: msg.text, blocks: msg.blocks as never }).catch(() => undefined);
    },
  );

  // The card's overflow menu: quick toggles run at once, the rest open a modal.
  app.action(ACTION.menu, afterAck(rt, async ({ ack, body, respond }) => {
    await ack();
    const a = blockAction.parse(body);
    const actor = await rt.identities.resolve(a.user.id);
    const target = replyTarget(a, respond);
    const selected = a.actions[0]!.selected_option?.value ?? '';
    const colon = selected.indexOf(':');
    const choice = selected.slice(0, colon);
    const ticketId = selected.slice(colon + 1);
    if (choice === 'mark_sensitive' || choice === 'unmark_sensitive') {
      await presentResult(rt, actor, target, await markSensitive(rt.ctx, { meta: meta(actor, actionKey(a)), ticket: ticketId, sensitive: choice === 'mark_sensitive' }));
      return;
    }
    const view = await ticketFor(actor, target, ticketId, choice === 'close' ? 'close' : 'request_info');
    if (!view) return;
    const m: TicketModalMetadata = { ticketId: view.ticket.id, channel: target.channel };
    if (choice === 'request_info') await openModal(rt, actor, a.trigger_id, replyModal(actor.locale, ref(view), templates(actor), m, VIEW.requestInfo));
    else if (choice === 'close') await openModal(rt, actor, a.trigger_id, closeModal(actor.locale, ref(view), m));
  }));

  // "Open" on an escalation DM: the full card, with its buttons, for the supervisor alone.
  app.action(ACTION.open, afterAck(rt, async ({ ack, body, respond }) => {
    await ack();
    const a = blockAction.parse(body);
    const actor = await rt.identities.resolve(a.user.id);
    const target = replyTarget(a, respond);
    const ticket = splitValue(a.actions[0]!.value).ticketId;
    const answer = await dispatch({ ctx: rt.ctx }, { kind: 'open', actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: target, ticket });
    await renderAnswer(rt, actor, target, answer);
  }));

  // "Which ticket is this about?" after a plain DM: the message joins that ticket, or raises a new one.
  app.action(new RegExp(`^${ACTION.which}_\\d+$`), afterAck(rt, async ({ ack, body, respond }) => {
    await ack();
    const a = blockAction.parse(body);
    const actor = await rt.identities.resolve(a.user.id);
    const target = replyTarget(a, respond);
    const choice = decodeChoice(a.actions[0]!.value);
    if (!choice) return replyPrivately(rt, target, textMessage(t(actor.locale, 'chat.choice.expired')));
    const answer = await dispatch({ ctx: rt.ctx }, { kind: 'choice', actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: target, choice });
    if (a.message && a.channel) {
      // The question is answered: its buttons go, so it cannot be answered twice.
      const said = answer.replies.flatMap((r) => (r.kind === 'text' ? [r.text] : []));
      const msg = textMessage(escapeMrkdwn(said.join('\n') || t(actor.locale, 'chat.choice.expired')));
      await rt.client.chat.update({ channel: a.channel.id, ts: a.message.ts, text: msg.text, blocks: msg.blocks as never }).catch(() => undefined);
      await renderAnswer(rt, actor, target, { ...answer, replies: answer.replies.filter((r) => r.kind !== 'text') });
      return;
    }
    await renderAnswer(rt, actor, target, answer);
  }));

  // App Home "New ticket".
  app.action(ACTION.newTicket, afterAck(rt, async ({ ack, body }) => {
    await ack();
    const a = blockAction.parse(body);
    const actor = await rt.identities.resolve(a.user.id);
    await openModal(rt, actor, a.trigger_id, newTicketModal({ config, locale: actor.locale, metadata: { path: [] } }));
  }));

  // "Complete the ticket" after a quick ticket missed required fields (or had no default category).
  app.action(ACTION.completeDraft, afterAck(rt, async ({ ack, body }) => {
    await ack();
    const a = blockAction.parse(body);
    const actor = await rt.identities.resolve(a.user.id);
    const draft = parseMetadata<DraftValue>(a.actions[0]!.value, { t: '', d: '' });
    const leaf = draft.c ? config.leaves.get(draft.c) : undefined;
    const view = leaf?.required.length
      ? missingFieldsModal({ config, locale: actor.locale, title: draft.t, fields: leaf.required, metadata: { path: [], source: draft.s, categoryId: leaf.id, title: draft.t, description: draft.d } })
      : newTicketModal({ config, locale: actor.locale, metadata: { path: [], source: draft.s }, draft: { title: draft.t, description: draft.d } });
    await openModal(rt, actor, a.trigger_id, view);
  }));

  // Cascading categories: choosing a level shows (or replaces) the next one and the leaf's fields.
  app.action(new RegExp(`^${ACTION.category}_[1-3]$`), afterAck(rt, async ({ ack, body }) => {
    await ack();
    const a = blockAction.parse(body);
    if (!a.view) return;
    const action = a.actions[0]!;
    const level = Number(action.action_id.slice(-1));
    const metadata = parseMetadata<NewTicketMetadata>(a.view.private_metadata, { path: [] }, newTicketMetadata);
    const chosen = action.selected_option?.value;
    if (!chosen) return;
    metadata.path = [...metadata.path.slice(0, level - 1), chosen];
    const actor = await rt.identities.resolve(a.user.id);
    const view = newTicketModal({ config, locale: actor.locale, metadata });
    await rt.client.views.update({ view_id: a.view.id, ...(a.view.hash ? { hash: a.view.hash } : {}), view: view as never }).catch((err: unknown) => {
      // A hash conflict means a newer selection already updated the view: that one wins.
      rt.logger.info({ err: String(err) }, 'Slack: category update skipped');
    });
  }));

  // Message shortcut "Create ticket": the form, prefilled from the message, remembering its source.
  app.shortcut(MESSAGE_SHORTCUT, afterAck(rt, async ({ ack, body }) => {
    await ack();
    const s = messageShortcut.parse(body);
    const actor = await rt.identities.resolve(s.user.id);
    let permalink: string | undefined;
    try {
      permalink = (await rt.client.chat.getPermalink({ channel: s.channel.id, message_ts: s.message.ts })).permalink;
    } catch (err) {
      rt.logger.info({ err: String(err) }, 'Slack: no permalink for the shortcut message');
    }
    const source: MessageSource = {
      channel: s.channel.id,
      ts: s.message.ts,
      threadTs: s.message.thread_ts,
      permalink,
      author: s.message.user,
      files: s.message.files?.slice(0, 5).map((f) => ({ id: f.id, name: f.name ?? f.id, url: f.permalink ?? undefined })),
    };
    const { title, description } = draftFromText(s.message.text);
    await openModal(rt, actor, s.trigger_id, newTicketModal({ config, locale: actor.locale, metadata: { path: [], channel: s.channel.id, source }, draft: { title, description } }));
  }));

  registerSubmissions(app, rt);
}

type Values = ViewSubmission['view']['state']['values'];
type Ack = (response?: { response_action: 'errors'; errors: Record<string, string> }) => Promise<void>;

/** Turns a failed use case into a field error shown in the modal (Slack keeps the modal open). */
function modalError(rt: SlackRuntime, actor: Actor, error: { code: string; params: Record<string, string | number> }, values: Values, preferred: string): { response_action: 'errors'; errors: Record<string, string> } {
  const blocks = Object.keys(values);
  const text = errorText(rt, actor.locale, error);
  const errors: Record<string, string> = {};
  const fieldBlock = (id: string) => {
    if (id === 'title') return BLOCK.title;
    if (id === 'text') return blocks.includes(BLOCK.message) ? BLOCK.message : undefined;
    return blocks.includes(BLOCK.field(id)) ? BLOCK.field(id) : blocks.includes(id) ? id : undefined;
  };
  if (error.code === 'ticket.missing_fields' && typeof error.params.fields === 'string') {
    for (const id of error.params.fields.split(',')) {
      const block = fieldBlock(id);
      if (block) errors[block] = t(actor.locale, 'error.ticket.missing_fields', { fields: fieldLabel(rt.ctx, actor.locale, id) });
    }
  } else if (error.code === 'ticket.invalid_input' && typeof error.params.field === 'string') {
    const block = fieldBlock(error.params.field);
    if (block) errors[block] = text;
  } else if (error.code === 'ticket.unknown_category') {
    const category = blocks.filter((b) => b.startsWith('category_')).pop();
    if (category) errors[category] = text;
  }
  if (Object.keys(errors).length === 0) errors[blocks.includes(preferred) ? preferred : (blocks[0] ?? preferred)] = text;
  return { response_action: 'errors', errors };
}

function registerSubmissions(app: App, rt: SlackRuntime): void {
  const config = rt.ctx.config;

  /** Registers a ticket modal's submission: one use case; a failure stays in the modal. */
  function onSubmit(callbackId: string, errorBlock: string, run: (actor: Actor, m: TicketModalMetadata, values: Values, eventKey: string) => Promise<UseCaseResult<unknown>> | UseCaseResult<unknown>) {
    app.view(callbackId, async ({ ack, body }) => {
      const s = viewSubmission.parse(body);
      const actor = await rt.identities.resolve(s.user.id);
      const m = parseMetadata<TicketModalMetadata>(s.view.private_metadata, { ticketId: '' }, ticketModalMetadata);
      const result = await run(actor, m, s.view.state.values, `slack:view:${s.view.id}`);
      await (ack as Ack)(result.ok ? undefined : modalError(rt, actor, result.error, s.view.state.values, errorBlock));
    });
  }

  const value = (values: Values, block: string) => textOf(inputValue(values, block));
  const invalid = (field: string, problem: string): UseCaseResult<unknown> => ({ ok: false, error: { code: 'ticket.invalid_input', params: { field, problem } } });

  onSubmit(VIEW.assign, BLOCK.assignee, async (actor, m, values, key) => {
    const picked = value(values, BLOCK.assignee);
    if (!picked) return { ok: false, error: { code: 'ticket.missing_fields', params: { fields: BLOCK.assignee } } };
    // users_select gives a Slack id; make sure the person is known before assigning.
    const assigneeId = picked.includes(':') ? picked : (await rt.identities.resolve(picked)).id;
    return assignTicket(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, assigneeId });
  });
  onSubmit(VIEW.priority, BLOCK.priority, (actor, m, values, key) => {
    const priority = value(values, BLOCK.priority);
    if (!(PRIORITIES as readonly string[]).includes(priority)) return invalid(BLOCK.priority, priority);
    return changePriority(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, priority: priority as Priority, reason: value(values, BLOCK.reason) || undefined });
  });
  onSubmit(VIEW.reply, BLOCK.message, (actor, m, values, key) =>
    replyToRequester(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, body: value(values, BLOCK.message), templateId: value(values, BLOCK.template) || undefined }),
  );
  onSubmit(VIEW.requestInfo, BLOCK.message, (actor, m, values, key) =>
    requestInfo(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, body: value(values, BLOCK.message), templateId: value(values, BLOCK.template) || undefined }),
  );
  onSubmit(VIEW.handOff, BLOCK.reason, (actor, m, values, key) =>
    handOff(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, toDepartmentId: value(values, BLOCK.target), reason: value(values, BLOCK.reason), note: value(values, BLOCK.note) || undefined }),
  );
  onSubmit(VIEW.return, BLOCK.reason, (actor, m, values, key) => {
    // A configured reason is stored by its id (so reports can group it); free text otherwise.
    const reason = value(values, BLOCK.reasonChoice) || value(values, BLOCK.reason);
    const detail = value(values, BLOCK.reasonChoice) ? value(values, BLOCK.reason) : '';
    const note = [detail, value(values, BLOCK.note)].filter(Boolean).join('\n') || undefined;
    return returnLeg(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, reason, note });
  });
  onSubmit(VIEW.resolve, BLOCK.note, (actor, m, values, key) => resolveTicket(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, note: value(values, BLOCK.note) }));
  onSubmit(VIEW.close, BLOCK.reason, (actor, m, values, key) => closeTicket(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, reason: value(values, BLOCK.reason) || undefined }));
  onSubmit(VIEW.extend, BLOCK.duration, (actor, m, values, key) => {
    const byMs = parseDuration(value(values, BLOCK.duration));
    if (byMs === undefined) return invalid(BLOCK.duration, t(actor.locale, 'slack.modal.extend.bad_duration'));
    const clockKind = value(values, BLOCK.clock) as Parameters<typeof extendClock>[1]['clockKind'];
    return extendClock(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, clockKind, byMs, reason: value(values, BLOCK.reason) });
  });
  onSubmit(VIEW.rateComment, BLOCK.score, (actor, m, values, key) =>
    rateTicket(rt.ctx, { meta: meta(actor, key), ticket: m.ticketId, score: Number(value(values, BLOCK.score)), comment: value(values, BLOCK.comment) || undefined }),
  );

  // The new-ticket form (full, or only the missing fields of a quick ticket).
  app.view(VIEW.newTicket, async ({ ack, body }) => {
    const s = viewSubmission.parse(body);
    const values = s.view.state.values;
    const actor = await rt.identities.resolve(s.user.id);
    const m = parseMetadata<NewTicketMetadata & { categoryId?: string; title?: string; description?: string }>(s.view.private_metadata, { path: [] }, newTicketMetadata);
    const categoryId = m.categoryId ?? deepestCategory(values);
    const fields: Record<string, string> = {};
    for (const blockId of Object.keys(values)) {
      if (blockId.startsWith('field_')) fields[blockId.slice('field_'.length)] = textOf(inputValue(values, blockId));
    }
    const files = inputValue(values, BLOCK.files)?.files ?? [];
    const priority = value(values, BLOCK.priority);
    const result = await createTicket(rt.ctx, {
      meta: meta(actor, `slack:view:${s.view.id}`, m.source?.permalink),
      categoryId: categoryId ?? '',
      priority: (PRIORITIES as readonly string[]).includes(priority) ? (priority as Priority) : undefined,
      title: m.title ?? value(values, BLOCK.title),
      description: m.description ?? value(values, BLOCK.description),
      fields,
      attachments: [...attachmentsOf(m.source?.files?.map((f) => ({ id: f.id, name: f.name, permalink: f.url }))), ...attachmentsOf(files)],
      source: ticketSource(rt, m.source),
      locale: actor.locale,
    });
    if (!result.ok) {
      await (ack as Ack)(modalError(rt, actor, categoryId ? result.error : { code: 'ticket.unknown_category', params: { category: '' } }, values, BLOCK.title));
      return;
    }
    await ack();
    if (m.channel && !result.duplicate)
      await replyPrivately(rt, { slackUserId: s.user.id, channel: m.channel }, textMessage(t(actor.locale, 'slack.cmd.created', { key: result.value.ticket.key, title: result.value.ticket.title })));
  });

  function deepestCategory(values: Values): string | undefined {
    let found: string | undefined;
    for (const blockId of Object.keys(values).filter((b) => b.startsWith('category_')).sort()) {
      const chosen = textOf(inputValue(values, blockId));
      if (chosen) found = chosen;
    }
    return found && config.leaves.has(found) ? found : undefined;
  }
}
