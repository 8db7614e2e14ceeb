import type { DeflectOffer } from '../chat/deflection';
import type { PersonView, TicketCardView, TicketListItem } from '../chat/views';
import { t } from '../chat/i18n';
import { fitHistory, workflowLabel } from '../chat/workflow-actions';
import type { Locale } from '../domain/types';
import type { ActionValue, FormKind } from './action-values';

/**
 * Pure builders of Feishu card JSON 2.0. Every card is sent with `config.update_multi: true` so a
 * PATCH updates it for everyone in the chat. User-written text goes in plain_text elements so it
 * is never read as markdown or as an @mention.
 */

export type Card = Record<string, unknown>;

const DESCRIPTION_MAX = 600;
/** Fields and legs shown on a card, and how much of each (the card must stay within 30 KB). */
const FIELDS_MAX = 30;
const FIELD_VALUE_MAX = 200;
const LEGS_MAX = 8;
const LEG_DETAIL_MAX = 200;
/** Ticket titles (the core's limit, and the title input's max_length). */
const TITLE_MAX = 150;

export interface Option {
  value: string;
  label: string;
}

const plain = (content: string) => ({ tag: 'plain_text', content });
const md = (content: string): Card => ({ tag: 'markdown', content });
const text = (content: string): Card => ({ tag: 'div', text: plain(content) });
const hr = (): Card => ({ tag: 'hr' });

function card(header: Card | undefined, elements: Card[]): Card {
  return { schema: '2.0', config: { update_multi: true, enable_forward: false }, ...(header ? { header } : {}), body: { elements } };
}

function button(label: string, value: ActionValue, type: 'primary' | 'default' | 'danger' = 'default'): Card {
  return { tag: 'button', text: plain(label), type, behaviors: [{ type: 'callback', value }] };
}

/** Buttons in one row that wraps on narrow screens. */
function buttonRow(buttons: Card[]): Card {
  return { tag: 'column_set', flex_mode: 'flow', horizontal_spacing: '8px', columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })) };
}

/** Option labels are cut: 150 long labels alone would pass the 30 KB card limit. */
const OPTION_LABEL_MAX = 40;

function options(list: Option[]): Card[] {
  return list.map((o) => ({ text: plain(shorten(o.label, OPTION_LABEL_MAX)), value: o.value }));
}

/** Header templates (https://open.feishu.cn/document/feishu-cards/card-json-v2-structure — header.template). */
const PRIORITY_COLOUR: Record<string, string> = { urgent: 'red', high: 'orange', normal: 'blue', low: 'grey' };
/** text_tag colours have their own list: `neutral`, not `grey` (card-json-v2-structure — text_tag_list). */
const PRIORITY_TAG_COLOUR: Record<string, string> = { urgent: 'red', high: 'orange', normal: 'blue', low: 'neutral' };

function headerColour(view: Pick<TicketCardView, 'state' | 'priority'>): string {
  if (view.state === 'resolved') return 'green';
  if (view.state === 'closed') return 'grey';
  return PRIORITY_COLOUR[view.priority] ?? 'blue';
}

/** Feishu users are @mentioned (rendered with their name); people from Slack are shown by name. */
function who(p: PersonView | null, fallback: string): string {
  if (!p) return fallback;
  if (p.platform === 'feishu') return `<at id=${p.platformUserId}></at>`;
  return escapeMd(p.name);
}

/**
 * User text shown in card markdown: `<` and `>` as entities, so `<at id=all>`, `<font>` or
 * `<link>` typed by a person is shown, never rendered (an @all would ping the whole chat); the
 * markdown characters (links `[x](url)`, emphasis) are backslash-escaped.
 * https://open.feishu.cn/document/feishu-cards/card-json-v2-components/content-components/rich-text
 */
export function escapeMd(s: string): string {
  return s.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([*_~`[\]()#])/g, '\\$1');
}

/** Cuts to `max` characters (code points, so an emoji is never split) with "…". */
function shorten(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

export interface TicketCardOptions {
  /** False on the card of a department that no longer holds the ticket: it shows state, not buttons. */
  interactive: boolean;
  /** Options of the priority select. */
  priorities: Option[];
}

/** The triage card (or a leg card) of a ticket in a department chat. */
export function ticketCard(view: TicketCardView, opts: TicketCardOptions): Card {
  const L = view.labels;
  const lc = view.locale;
  const header = {
    title: plain(`${view.key} · ${shorten(view.title, 80)}`),
    subtitle: plain(view.categoryPath),
    template: headerColour(view),
    text_tag_list: [
      { tag: 'text_tag', text: plain(view.priorityLabel), color: PRIORITY_TAG_COLOUR[view.priority] ?? 'blue' },
      { tag: 'text_tag', text: plain(view.stateLabel), color: view.state === 'resolved' ? 'green' : view.state === 'closed' ? 'neutral' : 'wathet' },
    ],
  };
  const elements: Card[] = [];
  const people = [
    `**${L.requester}**: ${who(view.requester, '-')}`,
    `**${L.assignee}**: ${who(view.assignee, t(lc, 'word.unassigned'))}`,
    `**${L.department}**: ${escapeMd(view.department.name)}`,
    `**${L.created}**: ${view.createdAt.text}`,
  ];
  elements.push(md(people.join('\n')));
  if (view.withSince) elements.push(md(`**${escapeMd(view.withSince)}**`));
  if (view.ruleNotes.length) elements.push(md(view.ruleNotes.map((n) => `⚙️ ${escapeMd(n)}`).join('\n')));
  if (view.files) elements.push(md(escapeMd(view.files)));
  if (view.sensitive) elements.push(md(`⚠️ ${L.sensitive}`));
  if (view.fields.length) {
    // A card holds at most 30 KB: many or long fields are cut, and what is left out is counted.
    elements.push(md(`**${L.fields}**`));
    const shown = view.fields.slice(0, FIELDS_MAX).map((f) => `${shorten(f.label, 60)}: ${shorten(f.value, FIELD_VALUE_MAX)}`);
    if (view.fields.length > FIELDS_MAX) shown.push(t(lc, 'ui.card.fields_more', { count: view.fields.length - FIELDS_MAX }));
    elements.push(text(shown.join('\n')));
  }
  if (view.description.trim() !== '') {
    elements.push(md(`**${t(lc, 'feishu.card.description')}**`));
    elements.push(text(view.description.length > DESCRIPTION_MAX ? `${shorten(view.description, DESCRIPTION_MAX)} ${t(lc, 'ui.card.description_more')}` : view.description));
  }
  if (view.clocks.length) {
    const lines = view.clocks.map((c) => {
      const when = c.due ? c.due.text : '-';
      const flag = c.overdue ? ` · **${t(lc, 'ui.clock.overdue')}**` : c.status !== 'running' ? ` · ${c.statusLabel}` : '';
      return `- ${c.label}: ${when}${flag}`;
    });
    elements.push(md(`**${L.due}**\n${lines.join('\n')}`));
  }
  if (view.legs.length > 1) {
    // The latest legs (as on Slack), each reason cut: 40 hand-offs must still fit in 30 KB.
    const recent = view.legs.slice(-LEGS_MAX);
    const lines = recent.map((l) => `${l.seq}. ${escapeMd(l.department)} · ${l.stateLabel} · ${l.since.text}${l.detail ? ` · ${escapeMd(shorten(l.detail, LEG_DETAIL_MAX))}` : ''}`);
    if (view.legs.length > recent.length) lines.unshift('…');
    elements.push(md(`**${L.legs}**\n${lines.join('\n')}`));
  }
  if (view.sourceLink) elements.push(md(`[${L.source}](${view.sourceLink})`));
  elements.push(...knowledgeElements(view, opts.interactive));
  if (opts.interactive) {
    const buttons: Card[] = [];
    for (const action of view.actions) {
      const base = { t: view.ticketId, v: view.version };
      if (action === 'claim') buttons.push(button(t(lc, 'ui.action.claim'), { a: 'claim', ...base }, 'primary'));
      else if (action === 'assign') buttons.push(button(t(lc, 'ui.action.assign'), { a: 'form', f: 'assign', ...base }));
      else if (action === 'reply') buttons.push(button(t(lc, 'ui.action.reply'), { a: 'form', f: 'reply', ...base }));
      else if (action === 'hand_off') buttons.push(button(t(lc, 'ui.action.hand_off'), { a: 'form', f: 'hand_off', ...base }));
      else if (action === 'return') buttons.push(button(t(lc, 'ui.action.return'), { a: 'form', f: 'return', ...base }));
      else if (action === 'resolve') buttons.push(button(t(lc, 'ui.action.resolve'), { a: 'form', f: 'resolve', ...base }, 'primary'));
    }
    if (view.knowledge?.saveAnswerLabel) buttons.push(button(view.knowledge.saveAnswerLabel, { a: 'form', f: 'save_answer', t: view.ticketId, v: view.version }));
    if (buttons.length) {
      elements.push(hr());
      elements.push(buttonRow(buttons));
    }
    if (view.workflow.length) elements.push(buttonRow(view.workflow.map((a) => button(workflowLabel(lc, a), a === 'history' ? { a: 'history', t: view.ticketId, v: view.version } : { a: 'form', f: a, t: view.ticketId, v: view.version }))));
    if (view.actions.includes('priority')) {
      elements.push({
        tag: 'select_static',
        placeholder: plain(t(lc, 'feishu.card.priority_placeholder')),
        initial_option: view.priority,
        options: options(opts.priorities),
        behaviors: [{ type: 'callback', value: { a: 'priority', t: view.ticketId, v: view.version } satisfies ActionValue }],
      });
    }
    elements.push(md(`<font color='grey'>${t(lc, 'feishu.card.thread_hint')}</font>`));
  } else if (view.state !== 'closed') {
    elements.push(md(`<font color='grey'>${t(lc, 'feishu.card.elsewhere')}</font>`));
  }
  return card(header, elements);
}

/** Suggested articles on a card (issue 18), each with "Send as reply" while the ticket can be replied to. */
function knowledgeElements(view: TicketCardView, interactive: boolean): Card[] {
  const kb = view.knowledge;
  if (!kb?.articles.length) return [];
  const out: Card[] = [md(`💡 **${escapeMd(kb.title)}**`)];
  for (const a of kb.articles) {
    out.push(text(`• ${shorten(a.title, 200)}`));
    if (interactive && kb.sendLabel) out.push(button(kb.sendLabel, { a: 'kb', k: 'send', t: view.ticketId, r: a.id, v: view.version }));
  }
  return out;
}

/** Articles offered before a ticket is raised: "Solved" under each, "Still need help" at the end. */
export function deflectCard(offer: DeflectOffer): Card {
  const elements: Card[] = [];
  for (const a of offer.articles.slice(0, 3)) {
    elements.push(md(`**${escapeMd(shorten(a.title, 200))}**`));
    elements.push(text(shorten(a.excerpt, 1000)));
    elements.push(button(offer.solvedLabel, { a: 'kb', k: 'solved', d: offer.deflectionId, r: a.id }, 'primary'));
  }
  elements.push(hr());
  elements.push(text(offer.hint));
  elements.push(button(offer.stillLabel, { a: 'kb', k: 'still', d: offer.deflectionId }));
  return card({ title: plain(offer.title), template: 'wathet' }, elements);
}

// ---------------------------------------------------------------------------------------------
// Forms

export interface FieldInput {
  id: string;
  label: string;
  type: 'text' | 'number' | 'select';
  options?: Option[] | undefined;
  placeholder?: string | undefined;
}

export interface NewTicketFormView {
  locale: Locale;
  formId: string;
  /** One select per level reached so far; `selected` is the chosen option. */
  levels: { options: Option[]; selected?: string | undefined }[];
  path: string[];
  /** Set once a leaf category is chosen: the rest of the form appears. */
  leaf?: { id: string; fields: FieldInput[] } | undefined;
  priorities: Option[];
  defaultPriority: string;
  prefill?: { title?: string | undefined; description?: string | undefined; sourceMessageId?: string | undefined } | undefined;
  /** Shown above the form, e.g. "Please fill in: Account". */
  problem?: string | undefined;
  intro?: string | undefined;
}

/** Card JSON 2.0 input: max_length is 1–1,000 (https://open.feishu.cn/document/feishu-cards/card-json-v2-components/interactive-components/input). */
export const INPUT_MAX_LENGTH = 1000;

function input(name: string, label: string, opts: { required?: boolean; multiline?: boolean; initial?: string | undefined; placeholder?: string | undefined; maxLength?: number } = {}): Card {
  const maxLength = Math.min(opts.maxLength ?? INPUT_MAX_LENGTH, INPUT_MAX_LENGTH);
  // A prefill longer than max_length would be refused with the card: it is cut (visibly) instead.
  const initial = opts.initial ? shorten(opts.initial, maxLength) : undefined;
  return {
    tag: 'input',
    name,
    label: plain(label),
    label_position: 'top',
    required: opts.required ?? false,
    ...(opts.multiline ? { input_type: 'multiline_text', rows: 3, auto_resize: true } : {}),
    ...(initial ? { default_value: initial } : {}),
    ...(opts.placeholder ? { placeholder: plain(opts.placeholder) } : {}),
    max_length: maxLength,
  };
}

function select(name: string, placeholder: string, list: Option[], opts: { required?: boolean; initial?: string | undefined } = {}): Card {
  return {
    tag: 'select_static',
    name,
    placeholder: plain(placeholder),
    options: options(list),
    required: opts.required ?? false,
    ...(opts.initial ? { initial_option: opts.initial } : {}),
  };
}

function form(name: string, elements: Card[], submitLabel: string, submit: ActionValue): Card {
  return {
    tag: 'form',
    name,
    elements: [...elements, { tag: 'button', name: 'submit', text: plain(submitLabel), type: 'primary', form_action_type: 'submit', behaviors: [{ type: 'callback', value: submit }] }],
  };
}

/** The new-ticket card: cascading category selects (each change updates the card), then the form. */
export function newTicketCard(f: NewTicketFormView): Card {
  const lc = f.locale;
  const elements: Card[] = [];
  if (f.intro) elements.push(md(f.intro));
  elements.push(md(`<font color='grey'>${t(lc, 'feishu.form.new.hint')}</font>`));
  const levelLabels = [t(lc, 'feishu.form.category.1'), t(lc, 'feishu.form.category.2'), t(lc, 'feishu.form.category.3')];
  f.levels.forEach((level, i) => {
    const value: ActionValue = {
      a: 'cat',
      lvl: i + 1,
      path: f.path.slice(0, i),
      fid: f.formId,
      // Each select carries the prefill (its callback rebuilds the card): cut to what the inputs
      // accept, so three levels of a long forwarded message stay far below the 30 KB card limit.
      ...(f.prefill?.title ? { ttl: shorten(f.prefill.title, TITLE_MAX) } : {}),
      ...(f.prefill?.description ? { pre: shorten(f.prefill.description, INPUT_MAX_LENGTH) } : {}),
      ...(f.prefill?.sourceMessageId ? { src: f.prefill.sourceMessageId } : {}),
    };
    elements.push({
      tag: 'select_static',
      placeholder: plain(levelLabels[i] ?? levelLabels[2]!),
      options: options(level.options),
      ...(level.selected ? { initial_option: level.selected } : {}),
      behaviors: [{ type: 'callback', value }],
    });
  });
  if (f.problem) elements.push(md(`<font color='red'>${escapeMd(f.problem)}</font>`));
  if (f.leaf) {
    const inner: Card[] = [
      select('priority', t(lc, 'feishu.form.priority'), f.priorities, { required: true, initial: f.defaultPriority }),
      input('title', t(lc, 'feishu.form.title'), { required: true, initial: f.prefill?.title, maxLength: TITLE_MAX }),
      input('description', t(lc, 'feishu.form.description'), { multiline: true, initial: f.prefill?.description, maxLength: INPUT_MAX_LENGTH }),
    ];
    for (const field of f.leaf.fields) {
      const label = t(lc, 'feishu.form.required', { name: field.label });
      if (field.type === 'select' && field.options) inner.push(select(`field_${field.id}`, label, field.options, { required: true }));
      else inner.push(input(`field_${field.id}`, label, { required: true, placeholder: field.placeholder }));
    }
    const submit: ActionValue = { a: 'submit', f: 'new', fid: f.formId, cat: f.leaf.id, ...(f.prefill?.sourceMessageId ? { src: f.prefill.sourceMessageId } : {}) };
    elements.push(form('new_ticket', inner, t(lc, 'feishu.button.submit'), submit));
  }
  return card({ title: plain(t(lc, 'feishu.form.new.title')), template: 'blue' }, elements);
}

export interface ActionFormView {
  locale: Locale;
  kind: Exclude<FormKind, 'new'>;
  formId: string;
  ticketId: string;
  ticketKey: string;
  ticketTitle: string;
  templates?: Option[];
  departments?: Option[];
  returnReasons?: Option[];
  clocks?: Option[];
  assignees?: Option[];
  priorities?: Option[];
  /** Values the form opens with (Save as answer). */
  initial?: { title?: string | undefined; body?: string | undefined; tags?: string | undefined } | undefined;
  problem?: string | undefined;
  /** Edit…: the current text. */
  draft?: { title: string; description: string } | undefined;
  /** Change category…: the cascade so far (levels from the config), or the fixed category whose `fields` are asked. */
  category?: { levels: NewTicketFormView['levels']; path: string[]; leafId?: string | undefined; fixed?: boolean | undefined; intro?: string | undefined } | undefined;
  fields?: FieldInput[] | undefined;
  /** Reply… / Request info…: files of the card's thread that may go with the reply. */
  threadFiles?: Option[] | undefined;
}

const FORM_TITLE: Record<ActionFormView['kind'], Parameters<typeof t>[1]> = {
  reply: 'feishu.form.reply.title',
  assign: 'feishu.form.assign.title',
  hand_off: 'feishu.form.handoff.title',
  return: 'feishu.form.return.title',
  resolve: 'feishu.form.resolve.title',
  extend: 'feishu.form.extend.title',
  survey: 'feishu.form.survey.title',
  rate: 'feishu.form.survey.title',
  request_info: 'feishu.form.request_info.title',
  priority: 'feishu.form.priority.title',
  close: 'feishu.form.close.title',
  save_answer: 'feishu.form.save_answer.title',
  escalate: 'feishu.form.escalate.title',
  edit: 'feishu.form.edit.title',
  recategorise: 'feishu.form.recategorise.title',
};

/** A form for one action on one ticket, sent to the acting user's chat with the bot. */
export function actionFormCard(f: ActionFormView): Card {
  const lc = f.locale;
  const inner: Card[] = [];
  switch (f.kind) {
    case 'reply':
    case 'request_info':
      if (f.templates?.length) inner.push(select('template', t(lc, 'feishu.form.template'), f.templates));
      inner.push(input('body', t(lc, 'feishu.form.message'), { multiline: true, maxLength: INPUT_MAX_LENGTH }));
      // Card forms carry no files: the files members posted in the card's thread are offered instead (issue 17 item 5).
      if (f.threadFiles?.length) inner.push({ tag: 'multi_select_static', name: 'thread_files', placeholder: plain(t(lc, 'ui.form.thread_files')), options: options(f.threadFiles.slice(0, 10)), required: false });
      break;
    case 'priority':
      inner.push(select('priority', t(lc, 'feishu.form.priority'), f.priorities ?? [], { required: true }));
      inner.push(input('reason', t(lc, 'feishu.form.reason_optional'), { maxLength: 500 }));
      break;
    case 'close':
      inner.push(input('reason', t(lc, 'feishu.form.reason_optional'), { maxLength: 500 }));
      break;
    case 'assign':
      // The department's members by name; values are our user ids (Slack members included).
      // A select_person without options would list the members of the chat the form is in.
      if (f.assignees?.length) inner.push(select('assignee', t(lc, 'feishu.form.assignee'), f.assignees, { required: true }));
      break;
    case 'hand_off':
      inner.push(select('department', t(lc, 'feishu.form.target_department'), f.departments ?? [], { required: true }));
      inner.push(input('reason', t(lc, 'feishu.form.reason'), { required: true, maxLength: 500 }));
      inner.push(input('note', t(lc, 'feishu.form.note'), { multiline: true, maxLength: INPUT_MAX_LENGTH }));
      break;
    case 'return':
      if (f.returnReasons?.length) inner.push(select('reason_id', t(lc, 'feishu.form.reason'), f.returnReasons));
      inner.push(input('reason', f.returnReasons?.length ? t(lc, 'feishu.form.reason_other') : t(lc, 'feishu.form.reason'), { required: !f.returnReasons?.length, maxLength: 500 }));
      inner.push(input('note', t(lc, 'feishu.form.note'), { multiline: true, maxLength: INPUT_MAX_LENGTH }));
      break;
    case 'resolve':
      inner.push(input('note', t(lc, 'feishu.form.resolution_note'), { required: true, multiline: true, maxLength: INPUT_MAX_LENGTH }));
      break;
    case 'extend':
      inner.push(select('clock', t(lc, 'feishu.form.clock'), f.clocks ?? [], { required: true }));
      inner.push(input('duration', t(lc, 'feishu.form.duration'), { required: true, maxLength: 10 }));
      inner.push(input('reason', t(lc, 'feishu.form.reason'), { required: true, maxLength: 500 }));
      break;
    case 'save_answer':
      inner.push(text(t(lc, 'ui.form.save_answer.hint')));
      inner.push(input('title', t(lc, 'ui.form.article_title'), { required: true, maxLength: 200, initial: f.initial?.title }));
      inner.push(input('body', t(lc, 'ui.form.article_body'), { required: true, multiline: true, maxLength: INPUT_MAX_LENGTH, initial: f.initial?.body }));
      inner.push(input('tags', t(lc, 'ui.form.article_tags'), { maxLength: 200, initial: f.initial?.tags }));
      break;
    case 'survey':
    case 'rate':
      inner.push(select('score', t(lc, 'feishu.form.score'), [1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: '★'.repeat(n) })), { required: true }));
      inner.push(input('comment', t(lc, 'feishu.form.comment'), { multiline: true, maxLength: INPUT_MAX_LENGTH }));
      break;
    case 'escalate':
      inner.push(input('reason', t(lc, 'ui.form.escalate.reason'), { required: true, multiline: true, maxLength: 500 }));
      if (f.priorities?.length) inner.push(select('priority', t(lc, 'ui.form.raise_to'), f.priorities));
      break;
    case 'edit':
      inner.push(input('title', t(lc, 'feishu.form.title'), { required: true, initial: f.draft?.title, maxLength: TITLE_MAX }));
      inner.push(input('description', t(lc, 'feishu.form.description'), { multiline: true, initial: f.draft?.description, maxLength: INPUT_MAX_LENGTH }));
      break;
    case 'recategorise':
      for (const field of f.fields ?? []) {
        const label = t(lc, 'feishu.form.required', { name: field.label });
        if (field.type === 'select' && field.options) inner.push(select(`field_${field.id}`, label, field.options, { required: true }));
        else inner.push(input(`field_${field.id}`, label, { required: true, placeholder: field.placeholder }));
      }
      break;
  }
  const elements: Card[] = [text(`${f.ticketKey} · ${f.ticketTitle}`)];
  if (f.kind === 'recategorise') return recategoriseCard(f, elements, inner);
  if (f.problem) elements.push(md(`<font color='red'>${escapeMd(f.problem)}</font>`));
  // A select needs options: with no other department (no member) there is nothing to submit.
  const empty = f.kind === 'hand_off' && !f.departments?.length ? 'ui.handoff.no_target' : f.kind === 'assign' && !f.assignees?.length ? 'ui.assign.no_members' : undefined;
  if (empty) {
    elements.push(text(t(lc, empty)));
    return card({ title: plain(t(lc, FORM_TITLE[f.kind], { key: f.ticketKey })), template: 'blue' }, elements);
  }
  elements.push(form(`${f.kind}_form`, inner, t(lc, 'feishu.button.submit'), { a: 'submit', f: f.kind, fid: f.formId, t: f.ticketId }));
  return card({ title: plain(t(lc, FORM_TITLE[f.kind], { key: f.ticketKey })), template: 'blue' }, elements);
}

/**
 * Change category…: the category selects (each change redraws the card, as in the new-ticket form),
 * then the submit; or, once the core asked for the new category's required fields, only those.
 */
function recategoriseCard(f: ActionFormView, elements: Card[], inner: Card[]): Card {
  const lc = f.locale;
  const c = f.category ?? { levels: [], path: [] };
  if (c.intro) elements.push(md(escapeMd(c.intro)));
  if (f.problem) elements.push(md(`<font color='red'>${escapeMd(f.problem)}</font>`));
  if (!c.fixed) {
    const labels = [t(lc, 'ui.form.new_category'), t(lc, 'feishu.form.category.2'), t(lc, 'feishu.form.category.3')];
    c.levels.forEach((level, i) => {
      const value: ActionValue = { a: 'rcat', lvl: i + 1, path: c.path.slice(0, i), fid: f.formId, t: f.ticketId, k: f.ticketKey, ttl: shorten(f.ticketTitle, 100) };
      elements.push({
        tag: 'select_static',
        placeholder: plain(labels[i] ?? labels[2]!),
        options: options(level.options),
        ...(level.selected ? { initial_option: level.selected } : {}),
        behaviors: [{ type: 'callback', value }],
      });
    });
  }
  elements.push(form('recategorise_form', inner, t(lc, 'feishu.button.submit'), { a: 'submit', f: 'recategorise', fid: f.formId, t: f.ticketId, ...(c.leafId ? { cat: c.leafId } : {}) }));
  return card({ title: plain(t(lc, FORM_TITLE[f.kind], { key: f.ticketKey })), template: 'blue' }, elements);
}

/** A ticket's history, privately: whole lines cut to what a card holds, with a count of what was cut. */
export function historyCard(locale: Locale, key: string, title: string, lines: string[]): Card {
  return infoCard(title, fitHistory(lines, { maxChars: HISTORY_MAX_CHARS }, locale, key));
}

/** A card holds 30 KB: at 3 bytes a Chinese character, 7,000 characters leave room for the JSON around them. */
const HISTORY_MAX_CHARS = 7000;

/** What a form turns into once submitted: no second submit is possible from it. */
export function doneCard(message: string): Card {
  return card(undefined, [md(`✅ ${escapeMd(message)}`)]);
}

// ---------------------------------------------------------------------------------------------
// Notifications and command replies

export type NotificationAction = 'confirm' | 'reopen' | 'take_over' | 'reassign' | 'extend' | 'open';

/** A notification with buttons (Fixed? yes/no; escalation: take over / reassign / extend / open). */
export function notificationCard(locale: Locale, message: string, ticketId: string, version: number | undefined, actions: NotificationAction[], urgent = false): Card {
  const v = version === undefined ? {} : { v: version };
  const buttons = actions.map((action) => {
    switch (action) {
      case 'confirm':
        return button(t(locale, 'ui.action.confirm'), { a: 'confirm', t: ticketId, ...v }, 'primary');
      case 'reopen':
        return button(t(locale, 'ui.action.reopen'), { a: 'reopen', t: ticketId, ...v }, 'danger');
      case 'take_over':
        return button(t(locale, 'ui.action.take_over'), { a: 'take_over', t: ticketId, ...v }, 'primary');
      case 'reassign':
        return button(t(locale, 'ui.action.reassign'), { a: 'form', f: 'assign', t: ticketId, ...v });
      case 'extend':
        return button(t(locale, 'ui.action.extend'), { a: 'form', f: 'extend', t: ticketId, ...v });
      case 'open':
        return button(t(locale, 'ui.action.open'), { a: 'show', t: ticketId });
    }
  });
  const elements: Card[] = [text(message)];
  if (buttons.length) elements.push(buttonRow(buttons));
  return card(urgent ? { title: plain('⚠️'), template: 'red' } : undefined, elements);
}

/** Answer of a button in a notification: the message stays, the buttons go, the answer is shown. */
export function answeredCard(message: string, answer: string): Card {
  return card(undefined, [text(message), md(`✅ ${escapeMd(answer)}`)]);
}

export interface ListSection {
  title: string;
  items: TicketListItem[];
}

/** `/ticket mine` and `/ticket queue`: sections of one-line tickets. */
export function listCard(locale: Locale, title: string, sections: ListSection[], more?: number): Card {
  const elements: Card[] = [];
  for (const s of sections) {
    elements.push(md(`**${escapeMd(s.title)}**`));
    if (s.items.length === 0) elements.push(md(t(locale, 'ui.list.empty')));
    else elements.push(text(s.items.map((i) => listLine(locale, i)).join('\n')));
  }
  if (more && more > 0) elements.push(md(t(locale, 'ui.list.more', { count: more })));
  return card({ title: plain(title), template: 'blue' }, elements);
}

export function listLine(locale: Locale, i: TicketListItem): string {
  const params = { key: i.key, priority: i.priorityLabel, state: i.stateLabel, title: i.title, due: i.due?.text };
  const line = i.due ? t(locale, 'feishu.list.item_due', params) : t(locale, 'feishu.list.item', params);
  return i.overdue ? `${line} (${t(locale, 'ui.clock.overdue')})` : line;
}

/**
 * A notice with a picture (the weekly digest and its chart): the text's first line as the title,
 * the rest as plain text, then the uploaded image (`image_key` from POST /im/v1/images).
 */
export function imageNoticeCard(message: string, imageKey: string, alt: string): Card {
  const [first = '', ...rest] = message.split('\n');
  const titled = rest.length > 0 && first.trim() !== '';
  const body = (titled ? rest.join('\n') : message).trim();
  const elements: Card[] = body ? [text(body)] : [];
  elements.push({ tag: 'img', img_key: imageKey, alt: plain(alt), scale_type: 'fit_horizontal', preview: true });
  return card(titled ? { title: plain(shorten(first.trim(), 120)), template: 'blue' } : undefined, elements);
}

/** A titled card of plain lines (help, policy, stats). */
export function infoCard(title: string, lines: string[]): Card {
  return card({ title: plain(title), template: 'blue' }, [text(lines.join('\n'))]);
}

/**
 * Content of a `text` message. Feishu reads `<at user_id="all"></at>` in text messages as a
 * mention (https://open.feishu.cn/document/server-docs/im-v1/message-content-description/create_json#text),
 * so an at-tag typed by a person is broken with a zero-width space: shown, never pinging.
 */
export function textContent(text: string): string {
  return JSON.stringify({ text: text.replace(/<(\/?at\b)/gi, '<\u200b$1') });
}

/** The toast answered to a card action (shown for a few seconds to the person who clicked). */
export function toast(type: 'success' | 'error' | 'info' | 'warning', content: string): { toast: { type: string; content: string } } {
  return { toast: { type, content } };
}
