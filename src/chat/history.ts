import type { Config } from '../config/model';
import type { Locale } from '../domain/types';
import type { AuditEventRow, ClockRow, LegRow, TicketRow } from '../storage/tables';
import { clockWhyText } from './clock-why';
import { t, type MessageKey } from './i18n';
import { clockLabel, formatTime, priorityLabel, returnReasonLabel, stateLabel } from './views';

/**
 * The history of a ticket as localised lines [issue 17 item 5]: who did what when (from the audit
 * trail, rule applications included), handoffs and returns with their reasons, and each clock with
 * its due time and the stored explanation of why it is due then. One neutral function: used by
 * `ticketbot show KEY`, the dashboard's ticket page, and (phase 2) the card's History button and
 * `/ticket show KEY --history`.
 */
export interface HistoryInput {
  ticket: TicketRow;
  legs: LegRow[];
  clocks: ClockRow[];
  events: AuditEventRow[];
  /** users.id → display name (unknown ids are shown as they are). */
  names?: Record<string, string>;
}

export interface HistoryView {
  title: string;
  trailTitle: string;
  trail: string[];
  clocksTitle: string;
  clocks: string[];
}

export function historyView(config: Config, h: HistoryInput, locale: Locale, timeZone: string): HistoryView {
  const at = (iso: string) => formatTime(iso, timeZone).text;
  const who = (id: string) => (id === 'system' ? 'ticketbot' : (h.names?.[id] ?? id.slice(id.indexOf(':') + 1)));
  const dept = (id: unknown) => config.departments.get(String(id))?.name[locale] ?? String(id ?? '');
  const category = (id: unknown) => config.categoryName(String(id))?.[locale] ?? String(id ?? '');
  const fieldWord = (f: string) => {
    const key = `ui.rule.field.${f}`;
    return isKey(key) ? t(locale, key) : f;
  };
  const trail = h.events.map((e) => {
    const d = parseData(e.data);
    const base = { at: at(e.at), actor: who(e.actor_id) };
    const withReason = (line: string) => (e.reason && !['handed_off', 'leg_returned', 'escalated_by_person', 'rule_applied'].includes(e.action) ? line + t(locale, 'history.reason', { reason: e.reason }) : line);
    switch (e.action) {
      case 'created':
        return t(locale, 'history.created', { ...base, category: category(d.category ?? h.ticket.category_id), priority: priorityLabel(locale, String(d.priority ?? '')) });
      case 'rule_applied': {
        const field = String(d.field ?? '');
        const value = field === 'priority' ? priorityLabel(locale, String(d.value)) : field === 'department' ? dept(d.value) : String(d.value ?? '');
        return t(locale, 'history.rule_applied', { ...base, rule: String(d.rule ?? ''), field: fieldWord(field), value });
      }
      case 'assigned':
      case 'claimed':
      case 'reassigned':
        return withReason(t(locale, 'history.assigned', { ...base, assignee: d.assignee ? who(String(d.assignee)) : base.actor }));
      case 'priority_changed':
        return withReason(t(locale, 'history.priority_changed', { ...base, from: priorityLabel(locale, String(d.from)), to: priorityLabel(locale, String(d.to)) }));
      case 'handed_off':
        return t(locale, 'history.handed_off', { ...base, from: dept(d.from), to: dept(d.to), reason: e.reason ?? '' });
      case 'leg_returned':
        return t(locale, 'history.leg_returned', { ...base, to: dept(d.to ?? d.from), reason: returnReasonLabel(config, locale, e.reason ?? '') });
      case 'recategorised':
        return withReason(t(locale, 'history.recategorised', { ...base, from: category(d.from), to: category(d.to) }));
      case 'escalated_by_person':
        return t(locale, 'history.escalated_by_person', { ...base, reason: e.reason ?? '' }) + (d.raisedTo ? ` (${priorityLabel(locale, String(d.from))} → ${priorityLabel(locale, String(d.raisedTo))})` : '');
      case 'escalated':
        return t(locale, 'history.escalated', { ...base, level: String(d.level ?? ''), clock: clockLabel(locale, String(d.clock ?? '')) });
      default:
        if (e.to_state && e.from_state !== e.to_state) return withReason(t(locale, 'history.state', { ...base, from: stateLabel(locale, e.from_state ?? ''), to: stateLabel(locale, e.to_state) }));
        return withReason(t(locale, 'history.other', { ...base, action: e.action }));
    }
  });
  const clocks: string[] = [];
  for (const c of h.clocks) {
    const name = clockLabel(locale, c.kind) + (c.cycle > 1 ? ` #${c.cycle}` : '');
    const status = c.status;
    clocks.push(c.due_at ? t(locale, 'history.clock', { clock: name, status, due: at(c.due_at) }) : t(locale, 'history.clock.no_due', { clock: name, status }));
    const why = parseLog(c.log).at(-1);
    if (why) clocks.push(t(locale, 'history.clock.why', { why: clockWhyText(why, locale, at) }));
  }
  return { title: t(locale, 'history.title', { key: h.ticket.key }), trailTitle: t(locale, 'history.trail'), trail, clocksTitle: t(locale, 'history.clocks'), clocks };
}

/** The view as plain lines (CLI, chat text fallbacks). */
export function historyLines(view: HistoryView): string[] {
  return [view.title, '', view.trailTitle, ...view.trail.map((l) => `  ${l}`), ...(view.clocks.length ? ['', view.clocksTitle, ...view.clocks.map((l) => `  ${l}`)] : [])];
}

function isKey(key: string): key is MessageKey {
  return ['ui.rule.field.priority', 'ui.rule.field.assign', 'ui.rule.field.department', 'ui.rule.field.sensitive', 'ui.rule.field.add_watchers'].includes(key);
}

function parseData(raw: string | null): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A clock's stored explanation log (a JSON array of lines); unreadable → none. */
export function parseLog(raw: string): string[] {
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
