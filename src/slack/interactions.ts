import type { App } from '@slack/bolt';
import type { KbAction } from '../chat/deflection';
import { dispatch, type Answer, type ChatReply, type Intent, type PressAction } from '../chat/dispatcher';
import { FORM_IDS, type FormId } from '../chat/forms';
import { t } from '../chat/i18n';
import { decodeChoice, renderAnswer, type SlackReplyTarget } from './chat';
import { blockOfField, FORM_MODALS, FORM_VIEW, MAIN_BLOCK, neutralValues } from './forms';
import { ACTION, BLOCK, MESSAGE_SHORTCUT, VIEW } from './ids';
import { openView } from './open-view';
import { attachmentsOf, draftFromText, ticketSource, type DraftValue, type MessageSource } from './intake';
import { blockAction, inputValue, messageShortcut, newTicketMetadata, splitValue, ticketModalMetadata, viewSubmission, type BlockAction, type ViewSubmission } from './payloads';
import { answeredNotice, escapeMrkdwn, missingFieldsModal, newTicketModal, recategoriseModal, textMessage, type ModalView, type NewTicketMetadata, type RecategoriseMetadata, type TicketModalMetadata } from './presenters';
import { afterAck, replyPrivately, type Actor, type ReplyTarget, type SlackRuntime } from './runtime';

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

  /** Registers a button that opens a form about its ticket: an open_form intent (the core checks who may). */
  function formButton(actionId: string, form: FormId) {
    app.action(actionId, afterAck(rt, async ({ ack, body, respond }) => {
      await ack();
      const a = blockAction.parse(body);
      const actor = await rt.identities.resolve(a.user.id);
      const target: SlackReplyTarget = { ...replyTarget(a, respond), triggerId: a.trigger_id };
      const { ticketId, extra } = splitValue(a.actions[0]!.value);
      const answer = await dispatch({ ctx: rt.ctx }, { kind: 'open_form', form, actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: target, ticket: ticketId, clock: extra });
      await renderAnswer(rt, actor, target, answer);
    }));
  }

  /** A button that shows something about its ticket to the presser alone (History, Open). */
  function ticketButton(actionId: string, kind: 'history' | 'open') {
    app.action(actionId, afterAck(rt, async ({ ack, body, respond }) => {
      await ack();
      const a = blockAction.parse(body);
      const actor = await rt.identities.resolve(a.user.id);
      const target = replyTarget(a, respond);
      const ticket = splitValue(a.actions[0]!.value).ticketId;
      const answer = await dispatch({ ctx: rt.ctx }, { kind, actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: target, ticket });
      await renderAnswer(rt, actor, target, answer);
    }));
  }

  formButton(ACTION.assign, 'assign');
  formButton(ACTION.reassign, 'assign');
  formButton(ACTION.priority, 'priority');
  formButton(ACTION.reply, 'reply');
  formButton(ACTION.handOff, 'hand_off');
  formButton(ACTION.return, 'return');
  formButton(ACTION.resolve, 'resolve');
  formButton(ACTION.rateComment, 'rate');
  formButton(ACTION.extend, 'extend');
  formButton(ACTION.saveAnswer, 'save_answer');

  // Knowledge base (issue 18): "Solved" / "Still need help" on an offer, "Send as reply" on a card.
  app.action(new RegExp(`^(${ACTION.kbSolved}_\\d+|${ACTION.kbStill}|${ACTION.kbSend}_\\d+)$`), afterAck(rt, async ({ ack, body, respond }) => {
    await ack();
    const a = blockAction.parse(body);
    const actor = await rt.identities.resolve(a.user.id);
    const target = replyTarget(a, respond);
    const action = a.actions[0]!;
    const [first = '', second = '', third = ''] = (action.value ?? '').split(':');
    const kb: KbAction = action.action_id.startsWith(ACTION.kbSend)
      ? { kind: 'kb', act: 'send', ticket: first, article: second, version: Number(third) || undefined }
      : action.action_id === ACTION.kbStill
        ? { kind: 'kb', act: 'still', deflection: first }
        : { kind: 'kb', act: 'solved', deflection: first, article: second || undefined };
    const answer = await dispatch({ ctx: rt.ctx }, { ...kb, actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: target });
    if (kb.act === 'send') return renderAnswer(rt, actor, target, answer);
    // The offer is answered: its buttons give way to the answer, so it is not answered twice.
    const said = answer.replies.flatMap((r) => (r.kind === 'text' ? [r.text] : []));
    const msg = textMessage(escapeMrkdwn(said.join('\n') || t(actor.locale, 'chat.choice.expired')));
    // A message in the DM is updated; an ephemeral one (asked in a channel) is replaced through response_url.
    let replaced = a.message && a.channel ? await rt.client.chat.update({ channel: a.channel.id, ts: a.message.ts, text: msg.text, blocks: msg.blocks as never }).then(() => true, () => false) : false;
    if (!replaced && target.respond) replaced = await target.respond({ text: msg.text, blocks: msg.blocks, response_type: 'ephemeral', replace_original: true }).then(() => true, () => false);
    if (!replaced) await renderAnswer(rt, actor, target, answer);
  }));

  // issue 17's card row (src/chat/workflow-actions.ts).
  formButton(ACTION.escalate, 'escalate');
  formButton(ACTION.edit, 'edit');
  formButton(ACTION.recategorise, 'recategorise');

  // History: the ticket's history, for the presser alone (ephemeral), if they may read the ticket.
  ticketButton(ACTION.history, 'history');

  // Change category…: each level chosen redraws the modal at the path the chat layer says it leads to.
  app.action(new RegExp(`^${ACTION.recategoriseCategory}_[1-3]$`), afterAck(rt, async ({ ack, body }) => {
    await ack();
    const a = blockAction.parse(body);
    if (!a.view) return;
    const action = a.actions[0]!;
    const chosen = action.selected_option?.value;
    if (!chosen) return;
    const m = parseMetadata<RecategoriseMetadata>(a.view.private_metadata, { ticketId: '' }, ticketModalMetadata);
    const actor = await rt.identities.resolve(a.user.id);
    const answer = await dispatch({ ctx: rt.ctx }, { kind: 'cascade', actor, platform: 'slack', dedupKey: actionKey(a), replyTarget: undefined, path: m.path ?? [], level: Number(action.action_id.slice(-1)), chosen });
    const next = answer.replies.find((r) => r.kind === 'category_path');
    if (next?.kind !== 'category_path') return;
    const view = recategoriseModal(config, actor.locale, { key: m.key ?? '', title: m.title ?? '' }, { current: '', path: next.path }, [], { ...m, path: next.path });
    await rt.client.views.update({ view_id: a.view.id, ...(a.view.hash ? { hash: a.view.hash } : {}), view: view as never }).catch((err: unknown) => {
      rt.logger.info({ err: String(err) }, 'Slack: category update skipped');
    });
  }));

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
    const ticket = selected.slice(colon + 1);
    const base = { actor, platform: 'slack' as const, dedupKey: actionKey(a), replyTarget: { ...target, triggerId: a.trigger_id }, ticket };
    const answer =
      choice === 'mark_sensitive' || choice === 'unmark_sensitive'
        ? await dispatch({ ctx: rt.ctx }, { ...base, kind: 'press', action: choice })
        : choice === 'request_info' || choice === 'close'
          ? await dispatch({ ctx: rt.ctx }, { ...base, kind: 'open_form', form: choice })
          : undefined;
    if (answer) await renderAnswer(rt, actor, base.replyTarget, answer);
  }));

  // "Open" on an escalation DM: the full card, with its buttons, for the supervisor alone.
  ticketButton(ACTION.open, 'open');

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
    const answer = await dispatch({ ctx: rt.ctx }, { kind: 'cascade', actor: await rt.identities.resolve(a.user.id), platform: 'slack', dedupKey: actionKey(a), replyTarget: undefined, path: metadata.path, level, chosen });
    const next = answer.replies.find((r) => r.kind === 'category_path');
    if (next?.kind !== 'category_path') return;
    metadata.path = next.path;
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
type Ack = (response?: { response_action: 'errors'; errors: Record<string, string> } | { response_action: 'update'; view: ModalView }) => Promise<void>;

/** A refused submission as field errors in the modal (Slack keeps the modal open). */
function modalErrors(reply: Extract<ChatReply, { kind: 'invalid' }>, values: Values, main: string): { response_action: 'errors'; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  for (const f of reply.fields) {
    const block = blockOfField(values, f.field);
    if (block) errors[block] = f.text;
  }
  const blocks = Object.keys(values);
  if (Object.keys(errors).length === 0) errors[blocks.includes(main) ? main : (blocks[0] ?? main)] = reply.text;
  return { response_action: 'errors', errors };
}

/** Modal submissions: each is a submit intent with neutral values; the chat layer parses and runs it. */
function registerSubmissions(app: App, rt: SlackRuntime): void {
  async function submit(ack: Ack, actor: Actor, values: Values, main: string, intent: Omit<Extract<Intent<undefined>, { kind: 'submit' }>, 'actor' | 'platform' | 'replyTarget' | 'kind'>, meta?: TicketModalMetadata): Promise<Answer | undefined> {
    const answer = await dispatch({ ctx: rt.ctx }, { kind: 'submit', actor, platform: 'slack', replyTarget: undefined, ...intent });
    const refused = answer.replies.find((r) => r.kind === 'invalid');
    if (refused?.kind === 'invalid') {
      await ack(modalErrors(refused, values, main));
      return undefined;
    }
    // A follow-up form (Change category… asking for the new category's fields) replaces the modal.
    const follow = answer.replies.find((r) => r.kind === 'action_form');
    if (follow?.kind === 'action_form') {
      await ack({ response_action: 'update', view: FORM_MODALS[follow.form](actor.locale, follow, { ticketId: follow.ticket.id, channel: meta?.channel }, rt.ctx.config) });
      return undefined;
    }
    await ack();
    return answer;
  }

  for (const form of FORM_IDS) {
    app.view(FORM_VIEW[form], async ({ ack, body }) => {
      const s = viewSubmission.parse(body);
      const actor = await rt.identities.resolve(s.user.id);
      const m = parseMetadata<TicketModalMetadata>(s.view.private_metadata, { ticketId: '' }, ticketModalMetadata);
      const values = neutralValues(s.view.state.values);
      // A file input (Reply…, Request info…): its files go with the message, not as a value.
      const files = attachmentsOf(inputValue(s.view.state.values, BLOCK.files)?.files ?? []);
      delete values.files;
      // Files picked from the card's thread (checkboxes): their values, for the chat layer to look up.
      const picked = (inputValue(s.view.state.values, BLOCK.threadFiles)?.selected_options ?? []).map((o) => o.value);
      delete values.thread_files;
      // users_select gives a Slack id: the person is made known (our id) before the core sees it.
      if (values.assignee && !values.assignee.includes(':')) values.assignee = (await rt.identities.resolve(values.assignee)).id;
      // Change category… asking only for fields: the category chosen before rides in the metadata.
      const fixed = (m as RecategoriseMetadata).category;
      if (form === 'recategorise' && fixed) values.category = fixed;
      // The fields step is a new submission of the same modal: its own key (the view id stays).
      const step = form === 'recategorise' && fixed ? ':fields' : '';
      await submit(ack as Ack, actor, s.view.state.values, MAIN_BLOCK[form], { form, ticket: m.ticketId, values: picked.length ? { ...values, thread_files: picked } : values, dedupKey: `slack:view:${s.view.id}${step}`, ...(files.length ? { attachments: files } : {}) }, m);
    });
  }

  // The new-ticket form (full, or only the missing fields of a quick ticket).
  app.view(VIEW.newTicket, async ({ ack, body }) => {
    const s = viewSubmission.parse(body);
    const state = s.view.state.values;
    const actor = await rt.identities.resolve(s.user.id);
    const m = parseMetadata<NewTicketMetadata & { categoryId?: string; title?: string; description?: string }>(s.view.private_metadata, { path: [] }, newTicketMetadata);
    const values = neutralValues(state);
    delete values.files;
    if (m.categoryId) values.category = m.categoryId;
    if (m.title !== undefined) values.title = m.title;
    if (m.description !== undefined) values.description = m.description;
    const files = inputValue(state, BLOCK.files)?.files ?? [];
    const answer = await submit(ack as Ack, actor, state, MAIN_BLOCK.new, {
      form: 'new',
      values,
      dedupKey: `slack:view:${s.view.id}`,
      attachments: [...attachmentsOf(m.source?.files?.map((f) => ({ id: f.id, name: f.name, permalink: f.url }))), ...attachmentsOf(files)],
      source: ticketSource(rt, m.source),
    });
    // Articles offered first (issue 18): shown where the form was opened, or in the DM.
    const offered = answer?.replies.filter((r) => r.kind === 'deflect') ?? [];
    if (offered.length) await renderAnswer(rt, actor, { slackUserId: s.user.id, channel: m.channel }, { replies: offered });
    if (answer?.done && m.channel && !answer.done.duplicate)
      await replyPrivately(rt, { slackUserId: s.user.id, channel: m.channel }, textMessage(t(actor.locale, 'slack.cmd.created', { key: answer.done.key, title: answer.done.title ?? '' })));
  });
}
