import type { Config } from '../config/model';
import type { CategoryNode } from '../config/schema';
import { t, type MessageKey } from '../chat/i18n';
import type { DeflectOffer } from '../chat/deflection';
import { actionLabel, priorityLabel, type TicketCardView, type TicketListItem, type TimeView, clockLabel } from '../chat/views';
import { fitHistory, workflowLabel, type WorkflowAction } from '../chat/workflow-actions';
import type { FormChoices } from '../chat/forms';
import { PRIORITIES, type Locale, type Priority } from '../domain/types';
import { ACTION, BLOCK, VIEW } from './ids';
import { escapeMrkdwn, truncate, truncateMrkdwn } from './text';

/**
 * Pure functions from view models to Block Kit. Every text is cut to Slack's limits here, so a
 * long title or description never makes Slack reject a card.
 */

export type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks: Block[];
}
export interface ModalView {
  type: 'modal';
  callback_id: string;
  title: PlainText;
  submit?: PlainText;
  close?: PlainText;
  private_metadata?: string;
  blocks: Block[];
}
interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

/** Slack's documented limits that our messages can reach. */
export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  messageText: 4000,
  sectionText: 3000,
  sectionField: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  optionText: 75,
  selectOptions: 100,
  contextElements: 10,
  actionsElements: 25,
  overflowOptions: 5,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  inputLabel: 2000,
  textInput: 3000,
} as const;

export { escapeMrkdwn, truncate } from './text';

const plain = (text: string, max: number = LIMITS.sectionText): PlainText => ({ type: 'plain_text', text: truncate(text, max), emoji: true });
const mrkdwn = (text: string, max: number = LIMITS.sectionText) => ({ type: 'mrkdwn', text: truncateMrkdwn(text, max) });

/** A time shown in each reader's own zone by Slack, with our zone-named text as the fallback. */
export function slackTime(time: TimeView): string {
  const epoch = Math.floor(Date.parse(time.iso) / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${time.text}>`;
}

function personText(p: { platform: string; platformUserId: string; name: string } | null, locale: Locale): string {
  if (!p) return `_${t(locale, 'word.unassigned')}_`;
  return p.platform === 'slack' ? `<@${p.platformUserId}>` : escapeMrkdwn(p.name);
}

const PRIORITY_EMOJI: Record<Priority, string> = { low: ':white_circle:', normal: ':large_blue_circle:', high: ':large_orange_circle:', urgent: ':red_circle:' };

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Block {
  return { type: 'button', text: plain(text, LIMITS.buttonText), action_id: actionId, value: truncate(value, LIMITS.buttonValue), ...(style ? { style } : {}) };
}

const CARD_ACTION_IDS: Record<TicketCardView['actions'][number], string> = {
  claim: ACTION.claim,
  assign: ACTION.assign,
  priority: ACTION.priority,
  reply: ACTION.reply,
  hand_off: ACTION.handOff,
  return: ACTION.return,
  resolve: ACTION.resolve,
};

const WORKFLOW_ACTION_IDS: Record<WorkflowAction, string> = {
  history: ACTION.history,
  edit: ACTION.edit,
  recategorise: ACTION.recategorise,
  escalate: ACTION.escalate,
};

/** The triage / leg card in a department channel: the current state, always in full. */
export function ticketCard(card: TicketCardView, opts: { withActions?: boolean } = {}): SlackMessage {
  const withActions = opts.withActions ?? true;
  const L = card.labels;
  const blocks: Block[] = [];
  blocks.push({ type: 'header', text: plain(`${card.key} · ${card.title}`, LIMITS.headerText) });
  const status = `${PRIORITY_EMOJI[card.priority]} *${escapeMrkdwn(card.priorityLabel)}* · ${escapeMrkdwn(card.stateLabel)}${card.withSince ? ` · ${escapeMrkdwn(card.withSince)}` : ''}`;
  blocks.push({ type: 'section', text: mrkdwn(status) });
  if (card.ruleNotes.length) blocks.push({ type: 'context', elements: [mrkdwn(card.ruleNotes.map((n) => `:gear: ${escapeMrkdwn(n)}`).join('\n'))] });
  if (card.files) blocks.push({ type: 'context', elements: [mrkdwn(truncate(escapeMrkdwn(card.files), 2000))] });
  blocks.push({
    type: 'section',
    fields: [
      mrkdwn(`*${L.requester}*\n${personText(card.requester, card.locale)}`, LIMITS.sectionField),
      mrkdwn(`*${L.assignee}*\n${personText(card.assignee, card.locale)}`, LIMITS.sectionField),
      mrkdwn(`*${L.category}*\n${escapeMrkdwn(card.categoryPath)}`, LIMITS.sectionField),
      mrkdwn(`*${L.department}*\n${escapeMrkdwn(card.department.name)}`, LIMITS.sectionField),
    ],
  });
  if (card.description.trim() !== '') {
    const more = `\n_${t(card.locale, 'ui.card.description_more')}_`;
    const body = escapeMrkdwn(card.description);
    blocks.push({ type: 'section', text: mrkdwn(body.length > 2800 ? truncate(body, 2800) + more : body) });
  }
  // Section fields hold at most 10 entries: the ticket's details go in chunks.
  for (let i = 0; i < card.fields.length && i < 30; i += 10) {
    blocks.push({ type: 'section', fields: card.fields.slice(i, i + 10).map((f) => mrkdwn(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, LIMITS.sectionField)) });
  }
  if (card.fields.length > 30) blocks.push({ type: 'context', elements: [mrkdwn(`_${t(card.locale, 'ui.card.fields_more', { count: card.fields.length - 30 })}_`)] });
  if (card.clocks.length) {
    const lines = card.clocks.map((c) => {
      const due = c.due ? slackTime(c.due) : '—';
      const mark = c.overdue ? ` :warning: *${t(card.locale, 'ui.clock.overdue')}*` : '';
      return `*${escapeMrkdwn(c.label)}*: ${escapeMrkdwn(c.statusLabel)} ${due}${mark}`;
    });
    blocks.push({ type: 'context', elements: [mrkdwn(`${L.due} — ${lines.join(' · ')}`)] });
  }
  if (card.legs.length > 1) {
    const lines = card.legs.slice(-8).map((l) => `${l.seq}. ${escapeMrkdwn(l.department)} · ${escapeMrkdwn(l.stateLabel)} · ${slackTime(l.since)}${l.detail ? ` · ${escapeMrkdwn(l.detail)}` : ''}`);
    blocks.push({ type: 'context', elements: [mrkdwn(`*${L.legs}*\n${lines.join('\n')}`)] });
  }
  const meta = [`${L.created} ${slackTime(card.createdAt)}`];
  if (card.sourceLink) meta.push(`<${card.sourceLink}|${L.source}>`);
  blocks.push({ type: 'context', elements: [mrkdwn(meta.join(' · '))] });
  if (card.sensitive) blocks.push({ type: 'context', elements: [mrkdwn(`:shield: ${escapeMrkdwn(L.sensitive)}`)] });
  blocks.push(...knowledgeBlocks(card, withActions));
  const saveAnswer = withActions && card.knowledge?.saveAnswerLabel ? [button(card.knowledge.saveAnswerLabel, ACTION.saveAnswer, card.ticketId)] : [];
  if (withActions && (card.actions.length || card.menu.length || saveAnswer.length)) {
    const elements: Block[] = card.actions.map((a) => button(actionLabel(card.locale, a), CARD_ACTION_IDS[a], card.ticketId, a === 'claim' ? 'primary' : undefined));
    elements.push(...saveAnswer);
    if (card.menu.length)
      elements.push({
        type: 'overflow',
        action_id: ACTION.menu,
        options: card.menu.slice(0, LIMITS.overflowOptions).map((m) => ({ text: plain(actionLabel(card.locale, m), LIMITS.optionText), value: `${m}:${card.ticketId}` })),
      });
    blocks.push({ type: 'actions', block_id: `card_actions_${card.version}`, elements });
  }
  if (withActions && card.workflow.length) {
    blocks.push({ type: 'actions', block_id: `card_workflow_${card.version}`, elements: card.workflow.map((a) => button(workflowLabel(card.locale, a), WORKFLOW_ACTION_IDS[a], card.ticketId)) });
  }
  // The notification text is mrkdwn too: a title like "<!channel> help" must not ping anyone.
  const text = t(card.locale, 'slack.fallback.card', { key: card.key, priority: escapeMrkdwn(card.priorityLabel), state: escapeMrkdwn(card.stateLabel), title: escapeMrkdwn(card.title) });
  return { text: truncateMrkdwn(text, LIMITS.messageText), blocks };
}

/** Suggested articles on a card (issue 18), each with "Send as reply" while the ticket can be replied to. */
function knowledgeBlocks(card: TicketCardView, withActions: boolean): Block[] {
  const kb = card.knowledge;
  if (!kb?.articles.length) return [];
  const blocks: Block[] = [{ type: 'context', elements: [mrkdwn(`:bulb: *${escapeMrkdwn(kb.title)}*`)] }];
  kb.articles.forEach((a, i) => {
    const send = withActions && kb.sendLabel ? { accessory: button(kb.sendLabel, `${ACTION.kbSend}_${i}`, `${card.ticketId}:${a.id}:${card.version}`) } : {};
    blocks.push({ type: 'section', text: mrkdwn(`• ${escapeMrkdwn(truncate(a.title, 200))}`), ...send });
  });
  return blocks;
}

/** Articles offered before a ticket is raised: "Solved" beside each, "Still need help" below. */
export function deflectMessage(offer: DeflectOffer): SlackMessage {
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(`*${escapeMrkdwn(offer.title)}*`) }];
  offer.articles.slice(0, 3).forEach((a, i) => {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${escapeMrkdwn(truncate(a.title, 200))}*\n${escapeMrkdwn(truncate(a.excerpt, 1000))}`),
      accessory: button(offer.solvedLabel, `${ACTION.kbSolved}_${i}`, `${offer.deflectionId}:${a.id}`, 'primary'),
    });
  });
  blocks.push({ type: 'context', elements: [mrkdwn(escapeMrkdwn(offer.hint))] });
  blocks.push({ type: 'actions', block_id: 'kb_offer', elements: [button(offer.stillLabel, ACTION.kbStill, offer.deflectionId)] });
  return { text: truncateMrkdwn(escapeMrkdwn(offer.title), LIMITS.messageText), blocks };
}

/** Buttons a notice (an outbox message) can carry, by the core's action names. */
export type NoticeAction = 'confirm' | 'reopen' | 'survey' | 'take_over' | 'reassign' | 'extend' | 'open';

/** A notification: its text, and the buttons the core asked for. */
export function noticeMessage(text: string, opts: { locale: Locale; ticketId?: string | null; actions?: readonly string[]; clock?: string | undefined; preformatted?: boolean }): SlackMessage {
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(opts.preformatted ? text : escapeMrkdwn(text)) }];
  const id = opts.ticketId ?? '';
  const actions = (opts.actions ?? []).filter(isNoticeAction);
  const elements: Block[] = [];
  for (const action of actions) {
    switch (action) {
      case 'confirm':
        elements.push(button(t(opts.locale, 'ui.action.confirm'), ACTION.confirm, id, 'primary'));
        break;
      case 'reopen':
        elements.push(button(t(opts.locale, 'ui.action.reopen'), ACTION.reopen, id));
        break;
      case 'survey':
        for (let score = 1; score <= 5; score++) elements.push({ ...button(String(score), `${ACTION.rate}_${score}`, `${id}:${score}`), ...(score >= 4 ? { style: 'primary' } : {}) });
        elements.push(button(t(opts.locale, 'ui.action.comment'), ACTION.rateComment, id));
        break;
      case 'take_over':
        elements.push(button(t(opts.locale, 'ui.action.take_over'), ACTION.takeOver, id, 'primary'));
        break;
      case 'reassign':
        elements.push(button(t(opts.locale, 'ui.action.reassign'), ACTION.reassign, id));
        break;
      case 'extend':
        elements.push(button(t(opts.locale, 'ui.action.extend'), ACTION.extend, opts.clock ? `${id}:${opts.clock}` : id));
        break;
      case 'open':
        elements.push(button(t(opts.locale, 'ui.action.open'), ACTION.open, id));
        break;
    }
  }
  if (elements.length) blocks.push({ type: 'actions', block_id: 'notice_actions', elements: elements.slice(0, LIMITS.actionsElements) });
  return { text: truncateMrkdwn(opts.preformatted ? text : escapeMrkdwn(text), LIMITS.messageText), blocks };
}

function isNoticeAction(a: string): a is NoticeAction {
  return ['confirm', 'reopen', 'survey', 'take_over', 'reassign', 'extend', 'open'].includes(a);
}

/** A notice after its buttons were used: its text (mrkdwn as we sent it) stays, the buttons give way to the answer. */
export function answeredNotice(mrkdwnText: string, answer: string): SlackMessage {
  return { text: truncateMrkdwn(mrkdwnText, LIMITS.messageText), blocks: [{ type: 'section', text: mrkdwn(mrkdwnText) }, { type: 'context', elements: [mrkdwn(escapeMrkdwn(answer))] }] };
}

/**
 * The blocks of a file share (a report with its chart): the mrkdwn text in as many sections as its
 * length needs, cut at line breaks, the first tagged with `tagBlockId`. Only section blocks:
 * files.completeUploadExternal rejects `markdown` blocks (python-slack-sdk#1756).
 */
export function fileShareBlocks(mrkdwnText: string, tagBlockId: string): Block[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of mrkdwnText.split('\n')) {
    const joined = current === '' ? line : `${current}\n${line}`;
    if ([...joined].length <= LIMITS.sectionText) {
      current = joined;
      continue;
    }
    if (current !== '') chunks.push(current);
    current = line;
  }
  if (current !== '' || chunks.length === 0) chunks.push(current === '' ? ' ' : current);
  return chunks.slice(0, LIMITS.messageBlocks).map((chunk, i) => ({ type: 'section', ...(i === 0 ? { block_id: tagBlockId } : {}), text: mrkdwn(chunk) }));
}

/** A plain reply (ephemeral or DM) in mrkdwn we wrote ourselves. */
export function textMessage(markdown: string): SlackMessage {
  return { text: truncateMrkdwn(markdown, LIMITS.messageText), blocks: [{ type: 'section', text: mrkdwn(markdown) }] };
}

function listLine(item: TicketListItem, locale: Locale): string {
  const due = item.due ? ` · ${slackTime(item.due)}` : '';
  const overdue = item.overdue ? ` :warning: ${t(locale, 'ui.list.overdue')}` : '';
  return `${PRIORITY_EMOJI[item.priority]} *${item.key}* ${escapeMrkdwn(truncate(item.title, 80))} · ${escapeMrkdwn(item.stateLabel)}${due}${overdue}`;
}

/** Sections of ticket lists (for /ticket mine, /ticket queue and App Home). */
export function listBlocks(sections: Array<{ title: string; items: TicketListItem[] }>, locale: Locale, maxPerSection = 15): Block[] {
  const blocks: Block[] = [];
  for (const s of sections) {
    blocks.push({ type: 'section', text: mrkdwn(`*${escapeMrkdwn(s.title)}*`) });
    if (s.items.length === 0) {
      blocks.push({ type: 'context', elements: [mrkdwn(t(locale, 'ui.list.empty'))] });
      continue;
    }
    const shown = s.items.slice(0, maxPerSection).map((i) => listLine(i, locale));
    if (s.items.length > maxPerSection) shown.push(`_${t(locale, 'ui.list.more', { count: s.items.length - maxPerSection })}_`);
    blocks.push({ type: 'section', text: mrkdwn(shown.join('\n')) });
  }
  return blocks;
}

export function listMessage(sections: Array<{ title: string; items: TicketListItem[] }>, locale: Locale): SlackMessage {
  const blocks = listBlocks(sections, locale).slice(0, LIMITS.messageBlocks);
  return { text: sections.map((s) => s.title).join(' · '), blocks };
}

export interface HomeModel {
  locale: Locale;
  assigned: TicketListItem[];
  requested: TicketListItem[];
  queues: Array<{ department: string; items: TicketListItem[] }>;
  overdue: TicketListItem[];
  stats: Array<{ department: string; line: string }>;
  updated: TimeView;
}

/** App Home: my tickets, my departments' queues, what is overdue, and supervisors' numbers. */
export function homeView(home: HomeModel): { type: 'home'; blocks: Block[] } {
  const { locale } = home;
  const blocks: Block[] = [
    { type: 'header', text: plain(t(locale, 'slack.home.title'), LIMITS.headerText) },
    { type: 'actions', block_id: 'home_actions', elements: [button(t(locale, 'slack.home.new_ticket'), ACTION.newTicket, 'home', 'primary')] },
    { type: 'context', elements: [mrkdwn(t(locale, 'slack.home.updated', { time: slackTime(home.updated) }))] },
  ];
  const sections: Array<{ title: string; items: TicketListItem[] }> = [];
  if (home.overdue.length) sections.push({ title: `:warning: ${t(locale, 'slack.home.overdue')}`, items: home.overdue });
  sections.push({ title: t(locale, 'slack.home.mine_assigned'), items: home.assigned });
  sections.push({ title: t(locale, 'slack.home.mine_requested'), items: home.requested });
  for (const q of home.queues) sections.push({ title: t(locale, 'slack.home.queue', { department: q.department }), items: q.items });
  blocks.push({ type: 'divider' });
  blocks.push(...listBlocks(sections, locale, 10));
  for (const s of home.stats) {
    blocks.push({ type: 'divider' });
    blocks.push({ type: 'section', text: mrkdwn(`*${escapeMrkdwn(t(locale, 'slack.home.stats', { department: s.department }))}*\n${escapeMrkdwn(s.line)}`) });
  }
  return { type: 'home', blocks: blocks.slice(0, LIMITS.modalBlocks) };
}

// ---------------------------------------------------------------------------------------------
// Modals

function option(text: string, value: string) {
  return { text: plain(text, LIMITS.optionText), value };
}

/**
 * private_metadata as JSON of at most 3,000 characters (https://api.slack.com/reference/surfaces/views).
 * Quotes, backslashes and newlines grow in JSON and emoji count twice, so a long draft could pass
 * the limit: the description is cut (by bisection, with "…"), then the source's files and link
 * are dropped — the person still gets the form rather than nothing.
 */
export function fitMetadata(privateMetadata: unknown): string {
  const json = (m: unknown) => JSON.stringify(m ?? {});
  let meta = (privateMetadata ?? {}) as Record<string, unknown>;
  if (json(meta).length <= LIMITS.privateMetadata) return json(meta);
  if (typeof meta.description === 'string') {
    const chars = [...meta.description];
    let lo = 0;
    let hi = chars.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (json({ ...meta, description: chars.slice(0, mid).join('') + '…' }).length <= LIMITS.privateMetadata) lo = mid;
      else hi = mid;
    }
    meta = { ...meta, description: lo > 0 ? chars.slice(0, lo).join('') + '…' : '' };
    if (json(meta).length <= LIMITS.privateMetadata) return json(meta);
  }
  const source = meta.source as Record<string, unknown> | undefined;
  if (source) {
    meta = { ...meta, source: { ...source, files: undefined } };
    if (json(meta).length <= LIMITS.privateMetadata) return json(meta);
    meta = { ...meta, source: { ...source, files: undefined, permalink: undefined } };
    if (json(meta).length <= LIMITS.privateMetadata) return json(meta);
  }
  if (typeof meta.title === 'string') meta = { ...meta, title: truncate(meta.title, 40) };
  const out = json(meta);
  if (out.length > LIMITS.privateMetadata) throw new Error(`private_metadata is ${out.length} characters (limit ${LIMITS.privateMetadata})`);
  return out;
}

function modal(callbackId: string, locale: Locale, titleKey: MessageKey, blocks: Block[], privateMetadata: unknown, submit = true): ModalView {
  const meta = fitMetadata(privateMetadata);
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(t(locale, titleKey), LIMITS.modalTitle),
    ...(submit ? { submit: plain(t(locale, 'slack.modal.submit'), LIMITS.modalButton) } : {}),
    close: plain(t(locale, 'slack.modal.cancel'), LIMITS.modalButton),
    private_metadata: meta,
    blocks: blocks.slice(0, LIMITS.modalBlocks),
  };
}

function textInput(blockId: string, label: string, opts: { multiline?: boolean; optional?: boolean; initial?: string; maxLength?: number; hint?: string } = {}): Block {
  return {
    type: 'input',
    block_id: blockId,
    optional: opts.optional ?? false,
    label: plain(label, LIMITS.inputLabel),
    ...(opts.hint ? { hint: plain(opts.hint, LIMITS.inputLabel) } : {}),
    element: {
      type: 'plain_text_input',
      action_id: 'value',
      multiline: opts.multiline ?? false,
      max_length: opts.maxLength ?? LIMITS.textInput,
      ...(opts.initial ? { initial_value: truncate(opts.initial, opts.maxLength ?? LIMITS.textInput) } : {}),
    },
  };
}

/**
 * A static_select's options within Block Kit's limits: up to 100 as `options`; more (a large
 * department's members) as `option_groups` of 100 each, labelled by their first and last entry,
 * up to 100 groups. Slack's select filters as one types, across the groups.
 */
export function selectOptions(options: Array<{ text: string; value: string }>): { options: Array<ReturnType<typeof option>> } | { option_groups: Array<{ label: PlainText; options: Array<ReturnType<typeof option>> }> } {
  const all = options.map((o) => option(o.text, o.value));
  if (all.length <= LIMITS.selectOptions) return { options: all };
  const groups: Array<{ label: PlainText; options: Array<ReturnType<typeof option>> }> = [];
  for (let i = 0; i < all.length && groups.length < LIMITS.selectOptions; i += LIMITS.selectOptions) {
    const chunk = all.slice(i, i + LIMITS.selectOptions);
    groups.push({ label: plain(`${truncate(chunk[0]!.text.text, 36)} – ${truncate(chunk.at(-1)!.text.text, 36)}`, LIMITS.optionText), options: chunk });
  }
  return { option_groups: groups };
}

function selectInput(blockId: string, label: string, options: Array<{ text: string; value: string }>, opts: { optional?: boolean; initial?: string; placeholder: string; dispatch?: boolean; actionId?: string }): Block {
  const choices = selectOptions(options);
  const initial = ('options' in choices ? choices.options : choices.option_groups.flatMap((g) => g.options)).find((o) => o.value === opts.initial);
  return {
    type: 'input',
    block_id: blockId,
    optional: opts.optional ?? false,
    ...(opts.dispatch ? { dispatch_action: true } : {}),
    label: plain(label, LIMITS.inputLabel),
    element: {
      type: 'static_select',
      action_id: opts.actionId ?? 'value',
      placeholder: plain(opts.placeholder, 150),
      ...choices,
      ...(initial ? { initial_option: initial } : {}),
    },
  };
}

function contextLine(text: string): Block {
  return { type: 'context', elements: [mrkdwn(text)] };
}

export interface Draft {
  title?: string | undefined;
  description?: string | undefined;
}

/** Where a new ticket came from, carried through the modal in private_metadata. */
export interface NewTicketMetadata {
  /** The chosen category path so far (ids, level 1 first). */
  path: string[];
  /** Channel to answer in (ephemeral) and the source message, if any. */
  channel?: string | undefined;
  source?: { channel: string; ts: string; threadTs?: string | undefined; permalink?: string | undefined; author?: string | undefined; files?: Array<{ id: string; name: string; url?: string | undefined }> | undefined } | undefined;
}

const CATEGORY_LABEL: MessageKey[] = ['slack.modal.category1', 'slack.modal.category2', 'slack.modal.category3'];

/** The new-ticket form: cascading categories, priority, title, description, the leaf's fields, files. */
export function newTicketModal(args: { config: Config; locale: Locale; metadata: NewTicketMetadata; draft?: Draft; priority?: Priority }): ModalView {
  const { config, locale, metadata } = args;
  const blocks: Block[] = [];
  let level: CategoryNode[] = config.raw.categories;
  let leaf: string | undefined;
  for (let depth = 0; depth < 3 && level.length; depth++) {
    const chosen = metadata.path[depth];
    const parent = depth === 0 ? 'root' : metadata.path[depth - 1]!;
    blocks.push(
      selectInput(`${BLOCK.category(depth + 1)}_${parent}`, t(locale, CATEGORY_LABEL[depth]!), level.map((c) => ({ text: c.name[locale], value: c.id })), {
        placeholder: t(locale, 'slack.modal.pick'),
        initial: chosen,
        dispatch: true,
        actionId: `${ACTION.category}_${depth + 1}`,
      }),
    );
    const node = level.find((c) => c.id === chosen);
    if (!node) break;
    if (!node.children?.length) {
      leaf = node.id;
      break;
    }
    level = node.children;
  }
  if (!leaf) blocks.push(contextLine(t(locale, 'slack.modal.category_hint')));
  blocks.push(
    selectInput(BLOCK.priority, t(locale, 'slack.modal.priority'), PRIORITIES.map((p) => ({ text: priorityLabel(locale, p), value: p })), {
      placeholder: t(locale, 'slack.modal.pick'),
      initial: args.priority ?? config.raw.intake.default_priority,
    }),
  );
  blocks.push(textInput(BLOCK.title, t(locale, 'slack.modal.title'), { maxLength: 150, initial: args.draft?.title }));
  blocks.push(textInput(BLOCK.description, t(locale, 'slack.modal.description'), { multiline: true, optional: true, initial: args.draft?.description }));
  if (leaf) blocks.push(...fieldInputs(config, locale, config.leaves.get(leaf)?.required ?? []));
  blocks.push({ type: 'input', block_id: BLOCK.files, optional: true, label: plain(t(locale, 'slack.modal.files')), element: { type: 'file_input', action_id: 'value', max_files: 5 } });
  return modal(VIEW.newTicket, locale, 'slack.modal.new.title', blocks, metadata);
}

function fieldInputs(config: Config, locale: Locale, fieldIds: string[]): Block[] {
  return fieldIds.map((id) => {
    const def = config.raw.fields.find((f) => f.id === id);
    const label = def?.name[locale] ?? id;
    if (def?.type === 'select' && def.options?.length)
      return selectInput(BLOCK.field(id), label, def.options.map((o) => ({ text: o.name[locale], value: o.id })), { placeholder: t(locale, 'slack.modal.pick') });
    if (def?.type === 'number') return { type: 'input', block_id: BLOCK.field(id), label: plain(label), element: { type: 'number_input', action_id: 'value', is_decimal_allowed: true } };
    return textInput(BLOCK.field(id), label, { maxLength: 500, ...(def?.placeholder ? { hint: def.placeholder[locale] } : {}) });
  });
}

/** `/ticket <text>` with a category that needs more: ask only for the missing fields. */
export function missingFieldsModal(args: { config: Config; locale: Locale; title: string; fields: string[]; metadata: NewTicketMetadata & { categoryId: string; title: string; description: string } }): ModalView {
  const blocks: Block[] = [contextLine(escapeMrkdwn(t(args.locale, 'slack.modal.missing.intro', { title: truncate(args.title, 150) }))), ...fieldInputs(args.config, args.locale, args.fields)];
  // The quick form's text rides along in private_metadata; cut it so the metadata fits.
  const meta = { ...args.metadata, title: truncate(args.metadata.title, 150), description: truncate(args.metadata.description, 2000) };
  return modal(VIEW.newTicket, args.locale, 'slack.modal.missing.title', blocks, meta);
}

/** Metadata of the small modals opened from a card or DM button. */
export interface TicketModalMetadata {
  ticketId: string;
  /** Where the button was pressed: answer there with an ephemeral message on failure. */
  channel?: string | undefined;
  clock?: string | undefined;
}

function ticketContext(locale: Locale, ticket: { key: string; title: string }): Block {
  return contextLine(escapeMrkdwn(t(locale, 'slack.modal.ticket', { key: ticket.key, title: truncate(ticket.title, 200) })));
}

type TicketRef = { key: string; title: string };

export function assignModal(locale: Locale, ticket: TicketRef, candidates: Array<{ id: string; name: string }>, meta: TicketModalMetadata, callbackId: string = VIEW.assign): ModalView {
  // The department's members (src/app/candidates.ts), as on Feishu; with none known, say so and offer no submit.
  if (candidates.length === 0) return modal(callbackId, locale, 'slack.modal.assign.title', [ticketContext(locale, ticket), contextLine(escapeMrkdwn(t(locale, 'ui.assign.no_members')))], meta, false);
  return modal(callbackId, locale, 'slack.modal.assign.title', [
    ticketContext(locale, ticket),
    selectInput(BLOCK.assignee, t(locale, 'slack.modal.assignee'), candidates.map((c) => ({ text: c.name, value: c.id })), { placeholder: t(locale, 'slack.modal.pick') }),
  ], meta);
}

export function priorityModal(locale: Locale, ticket: TicketRef & { priority: string }, meta: TicketModalMetadata): ModalView {
  return modal(VIEW.priority, locale, 'slack.modal.priority.title', [
    ticketContext(locale, ticket),
    selectInput(BLOCK.priority, t(locale, 'slack.modal.priority'), PRIORITIES.map((p) => ({ text: priorityLabel(locale, p), value: p })), { placeholder: t(locale, 'slack.modal.pick'), initial: ticket.priority }),
    textInput(BLOCK.reason, t(locale, 'slack.modal.reason_optional'), { optional: true, maxLength: 500 }),
  ], meta);
}

/** Reply…: templates in the requester's language; the written message wins over the template. */
export function replyModal(locale: Locale, ticket: TicketRef, templates: Array<{ id: string; name: string }>, meta: TicketModalMetadata, callbackId: string = VIEW.reply, threadFiles: Array<{ id: string; name: string }> = []): ModalView {
  const blocks: Block[] = [ticketContext(locale, ticket), contextLine(t(locale, 'slack.modal.reply.visible'))];
  if (templates.length) blocks.push(selectInput(BLOCK.template, t(locale, 'slack.modal.template'), templates.map((tp) => ({ text: tp.name, value: tp.id })), { placeholder: t(locale, 'slack.modal.pick'), optional: true }));
  blocks.push(textInput(BLOCK.message, t(locale, 'slack.modal.message'), { multiline: true, optional: templates.length > 0, maxLength: 3000, hint: templates.length ? t(locale, 'slack.modal.reply.hint') : undefined }));
  // Files reach the requester as links with their names (issue 17 item 5).
  blocks.push({ type: 'input', block_id: BLOCK.files, optional: true, label: plain(t(locale, 'slack.modal.files')), element: { type: 'file_input', action_id: 'value', max_files: 5 } });
  // Files members posted in the card's thread since the last reply: internal until picked here (issue 17 item 5).
  if (threadFiles.length)
    blocks.push({
      type: 'input',
      block_id: BLOCK.threadFiles,
      optional: true,
      label: plain(t(locale, 'ui.form.thread_files'), LIMITS.inputLabel),
      element: { type: 'checkboxes', action_id: 'value', options: threadFiles.slice(0, 10).map((f) => ({ text: plain(f.name, 75), value: f.id })) },
    });
  return modal(callbackId, locale, callbackId === VIEW.requestInfo ? 'slack.modal.request_info.title' : 'slack.modal.reply.title', blocks, meta);
}

export function handOffModal(locale: Locale, ticket: TicketRef, departments: Array<{ id: string; name: string }>, meta: TicketModalMetadata): ModalView {
  // A select needs at least one option (Block Kit): with nowhere to go, say so and offer no submit.
  if (departments.length === 0) return modal(VIEW.handOff, locale, 'slack.modal.handoff.title', [ticketContext(locale, ticket), contextLine(escapeMrkdwn(t(locale, 'ui.handoff.no_target')))], meta, false);
  return modal(VIEW.handOff, locale, 'slack.modal.handoff.title', [
    ticketContext(locale, ticket),
    selectInput(BLOCK.target, t(locale, 'slack.modal.target'), departments.map((d) => ({ text: d.name, value: d.id })), { placeholder: t(locale, 'slack.modal.pick') }),
    textInput(BLOCK.reason, t(locale, 'slack.modal.reason'), { maxLength: 500 }),
    textInput(BLOCK.note, t(locale, 'slack.modal.note'), { multiline: true, optional: true, maxLength: 2000 }),
  ], meta);
}

export function returnModal(locale: Locale, ticket: TicketRef, reasons: Array<{ id: string; name: string }>, meta: TicketModalMetadata): ModalView {
  const blocks: Block[] = [ticketContext(locale, ticket)];
  if (reasons.length) blocks.push(selectInput(BLOCK.reasonChoice, t(locale, 'slack.modal.return_reason'), reasons.map((r) => ({ text: r.name, value: r.id })), { placeholder: t(locale, 'slack.modal.pick'), optional: true }));
  blocks.push(textInput(BLOCK.reason, reasons.length ? t(locale, 'slack.modal.return_detail') : t(locale, 'slack.modal.return_reason'), { optional: reasons.length > 0, maxLength: 500 }));
  blocks.push(textInput(BLOCK.note, t(locale, 'slack.modal.note'), { multiline: true, optional: true, maxLength: 2000 }));
  return modal(VIEW.return, locale, 'slack.modal.return.title', blocks, meta);
}

export function resolveModal(locale: Locale, ticket: TicketRef, meta: TicketModalMetadata): ModalView {
  return modal(VIEW.resolve, locale, 'slack.modal.resolve.title', [ticketContext(locale, ticket), textInput(BLOCK.note, t(locale, 'slack.modal.resolution'), { multiline: true, maxLength: 3000 })], meta);
}

export function closeModal(locale: Locale, ticket: TicketRef, meta: TicketModalMetadata): ModalView {
  return modal(VIEW.close, locale, 'slack.modal.close.title', [ticketContext(locale, ticket), textInput(BLOCK.reason, t(locale, 'slack.modal.reason_optional'), { optional: true, maxLength: 500 })], meta);
}

export function extendModal(locale: Locale, ticket: TicketRef, clocks: string[], meta: TicketModalMetadata): ModalView {
  return modal(VIEW.extend, locale, 'slack.modal.extend.title', [
    ticketContext(locale, ticket),
    selectInput(BLOCK.clock, t(locale, 'slack.modal.extend.clock'), clocks.map((c) => ({ text: clockLabel(locale, c), value: c })), { placeholder: t(locale, 'slack.modal.pick'), initial: meta.clock ?? clocks[0] }),
    textInput(BLOCK.duration, t(locale, 'slack.modal.extend.by'), { maxLength: 20 }),
    textInput(BLOCK.reason, t(locale, 'slack.modal.reason'), { maxLength: 500 }),
  ], meta);
}

/** Save as answer (issue 18): the article's title, body (prefilled from the resolution note) and tags. */
export function saveAnswerModal(locale: Locale, ticket: TicketRef, initial: { title?: string | undefined; body?: string | undefined; tags?: string | undefined }, meta: TicketModalMetadata): ModalView {
  return modal(VIEW.saveAnswer, locale, 'slack.modal.save_answer.title', [
    ticketContext(locale, ticket),
    contextLine(escapeMrkdwn(t(locale, 'ui.form.save_answer.hint'))),
    textInput(BLOCK.title, t(locale, 'ui.form.article_title'), { maxLength: 200, initial: initial.title ? truncate(initial.title, 200) : undefined }),
    textInput(BLOCK.message, t(locale, 'ui.form.article_body'), { multiline: true, maxLength: 3000, initial: initial.body ? truncate(initial.body, 3000) : undefined }),
    textInput(BLOCK.tags, t(locale, 'ui.form.article_tags'), { optional: true, maxLength: 200, initial: initial.tags }),
  ], meta);
}

export function rateCommentModal(locale: Locale, ticket: TicketRef, meta: TicketModalMetadata): ModalView {
  return modal(VIEW.rateComment, locale, 'slack.modal.survey.title', [
    ticketContext(locale, ticket),
    selectInput(BLOCK.score, t(locale, 'slack.modal.survey.score'), [1, 2, 3, 4, 5].map((s) => ({ text: String(s), value: String(s) })), { placeholder: t(locale, 'slack.modal.pick') }),
    textInput(BLOCK.comment, t(locale, 'slack.modal.survey.comment'), { multiline: true, optional: true, maxLength: 1000 }),
  ], meta);
}

// ---------------------------------------------------------------------------------------------
// Issue 17 (src/chat/workflow-actions.ts): history, Escalate…, Edit…, Change category…

/** A ticket's history, privately: whole lines, cut to what one message holds, with a count of what was cut. */
export function historyMessage(locale: Locale, key: string, title: string, lines: string[]): SlackMessage {
  // Four sections' worth (escaping may lengthen a line; each section is cut at a line end below).
  const fitted = fitHistory(lines, { maxChars: 4 * (LIMITS.sectionText - 200) }, locale, key).map(escapeMrkdwn);
  const blocks: Block[] = [{ type: 'header', text: plain(title, LIMITS.headerText) }];
  let current = '';
  for (const line of fitted) {
    const joined = current === '' ? line : `${current}\n${line}`;
    if ([...joined].length <= LIMITS.sectionText) {
      current = joined;
      continue;
    }
    blocks.push({ type: 'section', text: mrkdwn(current || ' ') });
    current = truncate(line, LIMITS.sectionText);
  }
  blocks.push({ type: 'section', text: mrkdwn(current || ' ') });
  return { text: truncateMrkdwn(escapeMrkdwn(title), LIMITS.messageText), blocks: blocks.slice(0, LIMITS.messageBlocks) };
}

export function escalateModal(locale: Locale, ticket: TicketRef, raiseTo: Array<{ value: string; label: string }>, meta: TicketModalMetadata): ModalView {
  const blocks: Block[] = [ticketContext(locale, ticket), textInput(BLOCK.reason, t(locale, 'ui.form.escalate.reason'), { multiline: true, maxLength: 500 })];
  if (raiseTo.length) blocks.push(selectInput(BLOCK.priority, t(locale, 'ui.form.raise_to'), raiseTo.map((p) => ({ text: p.label, value: p.value })), { placeholder: t(locale, 'slack.modal.pick'), optional: true }));
  return modal(VIEW.escalate, locale, 'slack.modal.escalate.title', blocks, meta);
}

export function editModal(locale: Locale, ticket: TicketRef, draft: { title: string; description: string } | undefined, meta: TicketModalMetadata): ModalView {
  return modal(VIEW.edit, locale, 'slack.modal.edit.title', [
    ticketContext(locale, ticket),
    textInput(BLOCK.title, t(locale, 'slack.modal.title'), { maxLength: 150, initial: draft?.title }),
    textInput(BLOCK.description, t(locale, 'slack.modal.description'), { multiline: true, optional: true, initial: draft?.description }),
  ], meta);
}

/** Metadata of the Change category… modal: the ticket, the path chosen so far, or the category whose fields are asked. */
export interface RecategoriseMetadata extends TicketModalMetadata {
  key?: string | undefined;
  title?: string | undefined;
  path?: string[] | undefined;
  category?: string | undefined;
}

/**
 * Change category…: cascading selects (each choice redraws the modal at the next level), or, once
 * the core asked for the new category's required fields, only those (the category in the metadata).
 */
export function recategoriseModal(config: Config, locale: Locale, ticket: TicketRef, choice: NonNullable<FormChoices['category']>, fields: NonNullable<FormChoices['fields']>, meta: RecategoriseMetadata): ModalView {
  const blocks: Block[] = [ticketContext(locale, ticket)];
  const m: RecategoriseMetadata = { ...meta, key: ticket.key, title: truncate(ticket.title, 150) };
  if (choice.fixed) {
    if (choice.intro) blocks.push(contextLine(escapeMrkdwn(choice.intro)));
    blocks.push(...fieldInputs(config, locale, fields.map((f) => f.id)));
    return modal(VIEW.recategorise, locale, 'slack.modal.recategorise.title', blocks, { ...m, category: choice.current, path: undefined });
  }
  const path = meta.path ?? choice.path;
  let level: CategoryNode[] = config.raw.categories;
  for (let depth = 0; depth < 3 && level.length; depth++) {
    const chosen = path[depth];
    const parent = depth === 0 ? 'root' : path[depth - 1]!;
    blocks.push(
      selectInput(`${BLOCK.category(depth + 1)}_${parent}`, depth === 0 ? t(locale, 'ui.form.new_category') : t(locale, CATEGORY_LABEL[depth]!), level.map((c) => ({ text: c.name[locale], value: c.id })), {
        placeholder: t(locale, 'slack.modal.pick'),
        initial: chosen,
        dispatch: true,
        actionId: `${ACTION.recategoriseCategory}_${depth + 1}`,
      }),
    );
    const node = level.find((c) => c.id === chosen);
    if (!node?.children?.length) break;
    level = node.children;
  }
  return modal(VIEW.recategorise, locale, 'slack.modal.recategorise.title', blocks, { ...m, path, category: undefined });
}
