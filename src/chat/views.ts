import { durationText } from './durations';
import type { TicketView } from '../app/queries';
import type { Config } from '../config/model';
import { CLOCK_KINDS, PRIORITIES, TICKET_STATES, type ClockKind, type Locale, type Priority, type TicketState } from '../domain/types';
import { t, type MessageKey } from './i18n';
import { startsFrom, type Action } from '../domain/ticket';
import { cardKnowledge, type CardKnowledge } from './deflection';
import { workflowActions, type WorkflowAction } from './workflow-actions';

/**
 * Platform-neutral view models of what the bot shows: a ticket card, a list item, a message.
 * Every label is already localized; presenters (Slack Block Kit, Feishu cards) only lay them out.
 */

/** A moment to show: the instant (for platforms that render it in each reader's zone) and a fallback text. */
export interface TimeView {
  iso: string;
  /** "2026-03-02 14:00 GMT+8", in the given zone with the zone named. */
  text: string;
}

export interface PersonView {
  /** Our user id, e.g. `slack:U0123`. */
  id: string;
  name: string;
  platform: string;
  platformUserId: string;
}

export interface ClockLine {
  kind: ClockKind;
  label: string;
  status: 'running' | 'paused' | 'met' | 'stopped';
  statusLabel: string;
  due: TimeView | null;
  overdue: boolean;
}

export interface LegLine {
  seq: number;
  department: string;
  stateLabel: string;
  since: TimeView;
  /** "handed off from IT: wrong category" or "returned: missing receipt". */
  detail: string | null;
}

/** Buttons a card can carry; presenters map each to their own controls. */
export const CARD_ACTIONS = ['claim', 'assign', 'priority', 'reply', 'hand_off', 'return', 'resolve'] as const;
export const CARD_MENU_ACTIONS = ['request_info', 'mark_sensitive', 'unmark_sensitive', 'close'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];
export type CardMenuAction = (typeof CARD_MENU_ACTIONS)[number];

export interface TicketCardView {
  locale: Locale;
  ticketId: string;
  key: string;
  version: number;
  title: string;
  description: string;
  state: TicketState;
  stateLabel: string;
  priority: Priority;
  priorityLabel: string;
  sensitive: boolean;
  categoryPath: string;
  department: { id: string; name: string };
  requester: PersonView | null;
  assignee: PersonView | null;
  fields: Array<{ id: string; label: string; value: string }>;
  clocks: ClockLine[];
  legs: LegLine[];
  /** "With Finance since 10:42" while the ticket is away from its home department. */
  withSince: string | null;
  /** "priority set by rule outage-is-urgent", one per field an automation rule set and no person changed since. */
  ruleNotes: string[];
  /** "Watchers: Wendy, Fei" (rules' add_watchers, issue 17); null when nobody watches. */
  watchers: string | null;
  /** "📎 Files: screen.png, invoice.pdf": files of the ticket's public messages (never internal notes'); null when none. */
  files: string | null;
  sourceLink: string | null;
  createdAt: TimeView;
  actions: CardAction[];
  menu: CardMenuAction[];
  /** Issue 17's second row: History, Edit…, Change category…, Escalate… (src/chat/workflow-actions.ts). */
  workflow: WorkflowAction[];
  /** Localized labels of the card's parts and controls. */
  labels: Record<CardLabel, string>;
  /** Suggested articles, "Send as reply" and "Save as answer" (issue 18, src/chat/deflection.ts). */
  knowledge?: CardKnowledge | undefined;
}

export const CARD_LABELS = [
  'requester',
  'assignee',
  'priority',
  'state',
  'category',
  'department',
  'fields',
  'due',
  'legs',
  'source',
  'created',
  'sensitive',
  'more',
] as const;
export type CardLabel = (typeof CARD_LABELS)[number];

const ACTION_LABEL: Record<CardAction | CardMenuAction, MessageKey> = {
  claim: 'ui.action.claim',
  assign: 'ui.action.assign',
  priority: 'ui.action.priority',
  reply: 'ui.action.reply',
  hand_off: 'ui.action.hand_off',
  return: 'ui.action.return',
  resolve: 'ui.action.resolve',
  request_info: 'ui.action.request_info',
  mark_sensitive: 'ui.action.mark_sensitive',
  unmark_sensitive: 'ui.action.unmark_sensitive',
  close: 'ui.action.close',
};

export function actionLabel(locale: Locale, action: CardAction | CardMenuAction): string {
  return t(locale, ACTION_LABEL[action]);
}

export function priorityLabel(locale: Locale, priority: string): string {
  return isPriority(priority) ? t(locale, `priority.${priority}`) : priority;
}

export function stateLabel(locale: Locale, state: string): string {
  return isState(state) ? t(locale, `state.${state}`) : state;
}

export function clockLabel(locale: Locale, kind: string): string {
  return isClockKind(kind) ? t(locale, `clock.${kind}`) : kind;
}

export function isPriority(v: string): v is Priority {
  return (PRIORITIES as readonly string[]).includes(v);
}
function isState(v: string): v is TicketState {
  return (TICKET_STATES as readonly string[]).includes(v);
}
function isClockKind(v: string): v is ClockKind {
  return (CLOCK_KINDS as readonly string[]).includes(v);
}

/** "2026-03-02 14:00 GMT+8": a moment in a zone, with the zone named. */
export function formatTime(iso: string, timeZone: string): TimeView {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(new Date(iso));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return { iso, text: `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}` };
}

function person(view: TicketView, userId: string | null): PersonView | null {
  if (!userId) return null;
  const row = view.users.get(userId);
  const colon = userId.indexOf(':');
  return {
    id: userId,
    name: row?.name ?? row?.platform_user_id ?? userId.slice(colon + 1),
    platform: row?.platform ?? userId.slice(0, colon),
    platformUserId: row?.platform_user_id ?? userId.slice(colon + 1),
  };
}

export interface CardViewOptions {
  config: Config;
  /** Zone the card's times are written in (the department calendar's zone for a channel card). */
  timeZone: string;
  now: Date;
}

/** The card of a ticket as everyone in a department channel sees it. */
export function ticketCardView(view: TicketView, locale: Locale, opts: CardViewOptions): TicketCardView {
  const { ticket } = view;
  const state = (isState(ticket.state) ? ticket.state : 'new') as TicketState;
  const nowIso = opts.now.toISOString();
  const deptName = (id: string) => opts.config.departments.get(id)?.name[locale] ?? id;
  const fieldName = (id: string) => opts.config.raw.fields.find((f) => f.id === id);
  const currentLeg = view.legs.find((l) => l.id === ticket.current_leg_id);
  const clocks: ClockLine[] = view.clocks
    .filter((c) => c.status === 'running' || c.status === 'paused' || c.breached_at !== null)
    .filter((c) => c.leg_id === null || c.leg_id === ticket.current_leg_id)
    .map((c) => {
      const status = (['running', 'paused', 'met', 'stopped'].includes(c.status) ? c.status : 'stopped') as ClockLine['status'];
      return {
        kind: (isClockKind(c.kind) ? c.kind : 'resolution') as ClockKind,
        label: clockLabel(locale, c.kind),
        status,
        statusLabel: t(locale, `ui.clock.${status}`),
        due: c.due_at ? formatTime(c.due_at, opts.timeZone) : null,
        overdue: c.breached_at !== null || (status === 'running' && c.due_at !== null && c.due_at < nowIso),
      };
    });
  const legs: LegLine[] = view.legs.map((l) => {
    let detail: string | null = null;
    if (l.return_reason) detail = t(locale, 'ui.leg.returned', { reason: returnReasonLabel(opts.config, locale, l.return_reason) });
    else if (l.from_department_id) detail = t(locale, 'ui.leg.from', { from: deptName(l.from_department_id), reason: l.reason ? returnReasonLabel(opts.config, locale, l.reason) : '' });
    return {
      seq: l.seq,
      department: deptName(l.department_id),
      stateLabel: t(locale, legStateKey(l.state)),
      since: formatTime(l.opened_at, opts.timeZone),
      detail,
    };
  });
  const away = ticket.department_id !== ticket.home_department_id && currentLeg;
  const source = parseSource(ticket.source_ref);
  const actions: CardAction[] = [];
  const menu: CardMenuAction[] = [];
  // The buttons follow the core's rule of which action may start from which state.
  const can = (action: Action) => startsFrom(action, state);
  if (can('claim') && !ticket.assignee_id) actions.push('claim');
  if (can('assign')) actions.push('assign');
  if (can('change_priority')) actions.push('priority');
  if (can('reply')) actions.push('reply');
  if (can('hand_off')) actions.push('hand_off');
  if (can('return_leg') && currentLeg?.from_department_id) actions.push('return');
  if (can('resolve') && ticket.assignee_id) actions.push('resolve');
  if (can('request_info')) menu.push('request_info');
  if (can('mark_sensitive')) menu.push(ticket.sensitive ? 'unmark_sensitive' : 'mark_sensitive');
  if (can('close')) menu.push('close');
  const labels = Object.fromEntries(CARD_LABELS.map((l) => [l, t(locale, `ui.card.${l}`)])) as Record<CardLabel, string>;
  return {
    locale,
    ticketId: ticket.id,
    key: ticket.key,
    version: ticket.version,
    title: ticket.title,
    description: ticket.description,
    state,
    stateLabel: stateLabel(locale, state),
    priority: isPriority(ticket.priority) ? ticket.priority : 'normal',
    priorityLabel: priorityLabel(locale, ticket.priority),
    sensitive: ticket.sensitive === 1,
    categoryPath: view.categoryPath.map((c) => c.name[locale]).join(' › '),
    department: { id: ticket.department_id, name: deptName(ticket.department_id) },
    requester: person(view, ticket.requester_id),
    assignee: person(view, ticket.assignee_id),
    fields: view.fields.map((f) => {
      const def = fieldName(f.field_id);
      const option = def?.options?.find((o) => o.id === f.value);
      return { id: f.field_id, label: def?.name[locale] ?? f.field_id, value: option ? option.name[locale] : f.value };
    }),
    clocks,
    legs,
    withSince: away ? t(locale, 'ui.card.with_since', { department: deptName(ticket.department_id), since: formatTime(currentLeg.opened_at, opts.timeZone).text }) : null,
    ruleNotes: (view.ruleNotes ?? []).map((n) => t(locale, 'ui.rule.note', { field: t(locale, ruleFieldKey(n.field)), rule: n.ruleId })),
    watchers: view.watchers?.length ? t(locale, 'ui.watchers', { names: view.watchers.join(locale === 'en' ? ', ' : '、') }) : null,
    files: publicFileNames(view, locale),
    sourceLink: source?.permalink ?? null,
    createdAt: formatTime(ticket.created_at, opts.timeZone),
    actions,
    menu,
    workflow: workflowActions(state),
    labels,
    knowledge: cardKnowledge(view, state, locale),
  };
}

function ruleFieldKey(field: string): MessageKey {
  switch (field) {
    case 'priority':
      return 'ui.rule.field.priority';
    case 'assign':
      return 'ui.rule.field.assign';
    case 'department':
      return 'ui.rule.field.department';
    case 'add_watchers':
      return 'ui.rule.field.add_watchers';
    default:
      return 'ui.rule.field.sensitive';
  }
}

function legStateKey(state: string): MessageKey {
  switch (state) {
    case 'pending':
      return 'ui.leg.pending';
    case 'accepted':
      return 'ui.leg.accepted';
    case 'handed_off':
      return 'ui.leg.handed_off';
    case 'returned':
      return 'ui.leg.returned_state';
    case 'resolved':
      return 'ui.leg.resolved';
    default:
      return 'ui.leg.closed';
  }
}

function parseSource(raw: string | null): { permalink?: string } | null {
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as { permalink?: unknown };
    return typeof parsed.permalink === 'string' ? { permalink: parsed.permalink } : {};
  } catch {
    return null;
  }
}

/** One line of a queue or "my tickets" list. */
export interface TicketListItem {
  key: string;
  title: string;
  priority: Priority;
  priorityLabel: string;
  stateLabel: string;
  due: TimeView | null;
  overdue: boolean;
}

export function ticketListItem(
  row: { key: string; title: string; priority: string; state: string; due: string | null; overdue: boolean },
  locale: Locale,
  timeZone: string,
): TicketListItem {
  return {
    key: row.key,
    title: row.title,
    priority: isPriority(row.priority) ? row.priority : 'normal',
    priorityLabel: priorityLabel(locale, row.priority),
    stateLabel: stateLabel(locale, row.state),
    due: row.due ? formatTime(row.due, timeZone) : null,
    overdue: row.overdue,
  };
}

/**
 * Outbox parameters as written by the core are raw ids and instants (`priority: high`,
 * `clock: first_response`, `due: 2026-…Z`); this turns them into the reader's words and zone.
 */
export function localizeParams(params: Record<string, string | number>, locale: Locale, timeZone: string): Record<string, string | number> {
  const out: Record<string, string | number> = { ...params };
  if (typeof params.priority === 'string') out.priority = priorityLabel(locale, params.priority);
  if (typeof params.clock === 'string') out.clock = clockLabel(locale, params.clock);
  if (typeof params.due === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(params.due)) out.due = formatTime(params.due, timeZone).text;
  if (typeof params.state === 'string') out.state = stateLabel(locale, params.state);
  // A clock extension (`by: 1d`) is business time: "24 working hours", never "1d".
  if (typeof params.by === 'string') out.by = durationText(params.by, locale);
  return out;
}

/**
 * A return reason as stored (the configured reason's id, or the text typed) in the reader's words.
 * Rows written before reasons were stored by id hold a configured name: shown as that reason too.
 */
export function returnReasonLabel(config: Pick<Config, 'raw'>, locale: Locale, stored: string): string {
  const reason = config.raw.return_reasons.find((r) => r.id === stored || r.name.en === stored || r.name['zh-CN'] === stored);
  return reason ? reason.name[locale] : stored;
}

/** The clocks an "Extend" form offers, one rule for every platform: those running or paused (else resolution). */
export function extendableClocks(view: Pick<TicketView, 'clocks'>): ClockKind[] {
  const kinds = [...new Set(view.clocks.filter((c) => c.status === 'running' || c.status === 'paused').map((c) => c.kind))].filter(isClockKind);
  return kinds.length ? kinds : ['resolution'];
}

/** The names of the files on the ticket's public messages (issue 17 item 5), for the card: at most 5, then "+N". */
function publicFileNames(view: TicketView, locale: Locale): string | null {
  const names: string[] = [];
  for (const m of view.messages ?? []) {
    if (m.visibility !== 'public') continue;
    try {
      for (const a of JSON.parse(m.attachments) as Array<{ name?: unknown }>) if (typeof a.name === 'string' && a.name !== '') names.push(a.name);
    } catch {
      continue;
    }
  }
  if (names.length === 0) return null;
  const shown = names.slice(0, 5).map((n) => [...n].slice(0, 60).join('')).join(locale === 'en' ? ', ' : '、');
  return t(locale, 'ui.card.files', { names: names.length > 5 ? `${shown} +${names.length - 5}` : shown });
}
