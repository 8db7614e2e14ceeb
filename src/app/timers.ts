import type { LadderLevel, LadderTarget } from '../domain/escalation';
import { evaluateLadder } from '../domain/escalation';
import { markBreachIfDue } from '../domain/clock';
import type { Tx } from '../storage/database';
import type { TicketRow, TimerRow } from '../storage/tables';
import { findClock, firedKeys, recordFiring, upsertClock } from '../storage/repos/clocks';
import { findTicket } from '../storage/repos/tickets';
import { SYSTEM_ACTOR, type AppContext, type CommandMeta } from './context';
import { calendarOf, nextActionAt, policyFor, toState } from './clocks';
import { closeInScope } from './closing';
import { audit, actorName, department, notify, refreshCards, type Recipient } from './support';
import { inTicketCommand } from './ticketCommand';
import type { MessageKey } from '../chat/i18n';
import { formatDuration } from '../domain/duration';
import { flushRollup } from '../reports/rollup';

/** The scheduler's contract: handle one due timer inside `tx`, say when to look again. */
export type TimerHandler = (tx: Tx, timer: TimerRow, now: string) => Promise<{ nextActionAt: string | null }>;

const SYSTEM_META: CommandMeta = { actorId: SYSTEM_ACTOR, platform: 'cli' };

/**
 * Handles clock timers (breach, reminders, escalation ladder) and auto-close timers. Each firing
 * is recorded with its unique key in the same transaction as the outbox rows it writes, so a
 * level fires once however many replicas look at it.
 */
export function createTimerHandler(ctx: AppContext): TimerHandler {
  const handle = async (tx: Tx, timer: TimerRow, now: string): Promise<{ nextActionAt: string | null }> => {
    if (timer.kind === 'clock' && timer.clock_id) return handleClockTimer(ctx, tx, timer.clock_id, now);
    if (timer.kind === 'close' && timer.ticket_id) return handleAutoClose(ctx, tx, timer.ticket_id, now);
    ctx.logger.warn({ timerId: timer.id, kind: timer.kind }, 'timer of unknown kind ignored');
    return { nextActionAt: null };
  };
  return async (tx, timer, now) => {
    const result = await handle(tx, timer, now);
    // The report rollup follows every ticket the timer wrote (a breach), in the same transaction.
    await flushRollup(ctx, tx);
    return result;
  };
}

async function handleClockTimer(ctx: AppContext, tx: Tx, clockId: string, now: string): Promise<{ nextActionAt: string | null }> {
  const row = await findClock(tx, clockId);
  const ticket = row ? await findTicket(tx, row.ticket_id) : undefined;
  if (!row || !ticket || ticket.state === 'closed') return { nextActionAt: null };
  let state = toState(row);
  if (state.status !== 'running') return { nextActionAt: null };
  const opKey = `timer:${clockId}:${state.cycle}`;

  const breached = markBreachIfDue(state, now);
  if (breached.breachedAt !== state.breachedAt) {
    state = breached;
    await upsertClock(tx, { ...row, breached_at: state.breachedAt, log: JSON.stringify(state.log.slice(-10)), updated_at: now });
    await audit(ctx, tx, SYSTEM_META, ticket.id, now, { action: 'breached', data: { clock: state.kind, due: state.dueAt } });
    await refreshCards(ctx, tx, ticket, `${opKey}:breach`, now);
  }

  const ladder = policyFor(ctx, ticket).ladder;
  const calendar = calendarOf(ctx, state.calendarId);
  const { due } = evaluateLadder({ clockId, clock: state, ladder, calendar, now, fired: await firedKeys(tx, clockId) });
  for (const firing of due) {
    const level = ladder.find((l) => l.index === firing.level);
    if (!level) continue;
    const fresh = await recordFiring(tx, { key: firing.key, clock_id: clockId, ticket_id: ticket.id, cycle: state.cycle, level: firing.level, repeat: firing.repeat, fired_at: now });
    if (!fresh) continue; // another replica fired it
    await fireLevel(ctx, tx, ticket, level, firing.key, state.kind, state.dueAt, now);
    await audit(ctx, tx, SYSTEM_META, ticket.id, now, { action: 'escalated', data: { clock: state.kind, level: firing.level, repeat: firing.repeat } });
  }
  return { nextActionAt: await nextActionAt(ctx, tx, ticket, clockId, state, now) };
}

/** Before the deadline it is a reminder, at it the channel is told, past it supervisors get an escalation. */
function messageFor(level: LadderLevel): { key: MessageKey; event: string } {
  const relative = level.at.kind === 'percent' ? level.at.value - 100 : level.at.ms;
  if (relative < 0) return { key: 'event.ticket.reminder', event: 'ticket.reminder' };
  if (relative === 0) return { key: 'event.ticket.due_now', event: 'ticket.due_now' };
  return { key: 'event.ticket.escalation', event: 'ticket.escalation' };
}

async function fireLevel(ctx: AppContext, tx: Tx, ticket: TicketRow, level: LadderLevel, firingKey: string, clockKind: string, dueAt: string | null, now: string): Promise<void> {
  const dept = department(ctx, ticket.department_id);
  const { key, event } = messageFor(level);
  const params = {
    key: ticket.key,
    clock: clockKind,
    due: dueAt ?? '',
    assignee: ticket.assignee_id ? await actorName(tx, ticket.assignee_id) : '-',
    level: level.index,
    remaining: dueAt ? formatDuration(Math.max(0, Date.parse(dueAt) - Date.parse(now))) : '',
  };
  const calendar = calendarOf(ctx, dept.calendar);
  const nowMs = Date.parse(now);
  // Quiet hours: outside the department's working time, non-urgent DMs wait for the next working minute.
  const deferDmUntil = level.urgent || calendar.isWorkingAt(nowMs) ? undefined : new Date(calendar.add(nowMs, 1) - 1).toISOString();
  const people: Recipient[] = [];
  const channels: Recipient[] = [];
  const supervisors: Recipient[] = [];
  for (const target of level.notify) collectTarget(ctx, target, ticket, people, channels, supervisors);
  const base = {
    event,
    messageKey: key,
    params,
    scope: firingKey,
    urgent: level.urgent,
    ...(level.urgent && level.urgentVia.length ? { urgentVia: level.urgentVia } : {}),
    ...(deferDmUntil ? { deferDmUntil } : {}),
  };
  const supervisorIds = new Set(supervisors.map((s) => (s.kind === 'ref' ? s.ref : '')));
  // One message per person per event: a supervisor who is also the assignee gets the escalation only.
  const plainPeople = people.filter((p) => !(p.kind === 'user' && supervisorIds.has(p.userId)));
  if (plainPeople.length) await notify(ctx, tx, ticket, firingKey, now, plainPeople, { ...base, thread: 'none' });
  if (channels.length) await notify(ctx, tx, ticket, firingKey, now, channels, { ...base, thread: 'card' });
  if (supervisors.length) await notify(ctx, tx, ticket, firingKey, now, supervisors, { ...base, event: 'ticket.escalation', messageKey: 'event.ticket.escalation', thread: 'none', actions: ['take_over', 'reassign', 'extend', 'open'] });
}

function collectTarget(ctx: AppContext, target: LadderTarget, ticket: TicketRow, people: Recipient[], channels: Recipient[], supervisors: Recipient[]): void {
  const dept = department(ctx, ticket.department_id);
  switch (target.kind) {
    case 'assignee':
      if (ticket.assignee_id) people.push({ kind: 'user', userId: ticket.assignee_id });
      else channels.push({ kind: 'department', departmentId: dept.id });
      return;
    case 'department_channel':
      channels.push({ kind: 'department', departmentId: dept.id });
      return;
    case 'supervisors':
      for (const ref of dept.supervisors) supervisors.push({ kind: 'ref', ref });
      return;
    case 'on_call': {
      const onCall = dept.routing.on_call?.[0];
      if (onCall) people.push({ kind: 'ref', ref: onCall });
      return;
    }
    case 'user':
      people.push({ kind: 'ref', ref: target.ref });
      return;
  }
}

/** The closing rule: a resolved ticket nobody answered closes itself (never a sensitive one). */
async function handleAutoClose(ctx: AppContext, tx: Tx, ticketId: string, now: string): Promise<{ nextActionAt: string | null }> {
  const ticket = await findTicket(tx, ticketId);
  if (!ticket || ticket.state !== 'resolved' || ticket.sensitive === 1) return { nextActionAt: null };
  const meta: CommandMeta = { ...SYSTEM_META, eventKey: undefined };
  await inTicketCommand(ctx, tx, now, meta, ticket.id, 'close', (scope) =>
    closeInScope(ctx, { ...scope, opKey: `autoclose:${ticket.id}:${ticket.resolved_at}` }, 'auto_closed', 'no answer within the closing window'),
  );
  return { nextActionAt: null };
}
