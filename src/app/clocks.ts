import { ALWAYS, targetMs, type BusinessCalendar } from '../domain/calendar';
import type { Target } from '../domain/duration';
import {
  meetClock,
  pauseClock,
  restartClock,
  resumeClock,
  retargetClock,
  startClock,
  stopClock,
  type ClockState,
} from '../domain/clock';
import { evaluateLadder } from '../domain/escalation';
import { legLimits, resolvePolicy, type ResolvedPolicy } from '../domain/policy';
import type { ClockKind, Priority } from '../domain/types';
import type { Tx } from '../storage/database';
import type { ClockRow, LegRow, TicketRow } from '../storage/tables';
import { firedKeys, listClocks, upsertClock, upsertTimer } from '../storage/repos/clocks';
import type { AppContext } from './context';

/**
 * The core's side of the SLA engine: which clocks a ticket has, when they start, pause, meet and
 * retarget, and the one timer row per clock that the scheduler wakes up for.
 */

export function calendarOf(ctx: AppContext, id: string): BusinessCalendar {
  return ctx.calendars.get(id) ?? ALWAYS;
}

export function policyFor(ctx: AppContext, ticket: Pick<TicketRow, 'priority' | 'category_id' | 'department_id' | 'home_department_id'>): ResolvedPolicy {
  return resolvePolicy(ctx.config, {
    priority: ticket.priority as Priority,
    categoryId: ticket.category_id,
    departmentId: ticket.home_department_id,
  });
}

export function toState(row: ClockRow): ClockState {
  return {
    kind: row.kind as ClockKind,
    cycle: row.cycle,
    targetMs: Number(row.target_ms),
    calendarId: row.calendar_id,
    policyId: row.policy_id,
    startedAt: row.started_at,
    elapsedMs: Number(row.elapsed_ms),
    runningSince: row.running_since,
    pausedAt: row.paused_at,
    dueAt: row.due_at,
    metAt: row.met_at,
    breachedAt: row.breached_at,
    status: row.status as ClockState['status'],
    log: JSON.parse(row.log) as string[],
  };
}

function toRow(id: string, ticketId: string, legId: string | null, s: ClockState, now: string): ClockRow {
  return {
    id,
    ticket_id: ticketId,
    leg_id: legId,
    kind: s.kind,
    cycle: s.cycle,
    target_ms: s.targetMs,
    calendar_id: s.calendarId,
    policy_id: s.policyId,
    started_at: s.startedAt,
    elapsed_ms: s.elapsedMs,
    running_since: s.runningSince,
    paused_at: s.pausedAt,
    due_at: s.dueAt,
    met_at: s.metAt,
    breached_at: s.breachedAt,
    status: s.status,
    log: JSON.stringify(s.log.slice(-10)),
    updated_at: now,
  };
}

/** Saves a clock and points its timer at the next thing to do: a ladder level or the deadline. */
async function saveClock(ctx: AppContext, tx: Tx, ticket: TicketRow, row: ClockRow, state: ClockState, now: string, isNew = false): Promise<void> {
  const saved = toRow(row.id, row.ticket_id, row.leg_id, state, now);
  await upsertClock(tx, saved);
  await upsertTimer(tx, {
    id: `clock:${row.id}`,
    kind: 'clock',
    ticket_id: ticket.id,
    clock_id: row.id,
    next_action_at: await nextActionAt(ctx, tx, ticket, row.id, state, now, isNew ? new Set() : undefined),
    payload: null,
    updated_at: now,
  });
}

/** When the scheduler should look at this clock next; null when it is not running. */
export async function nextActionAt(
  ctx: AppContext,
  tx: Tx,
  ticket: TicketRow,
  clockId: string,
  state: ClockState,
  now: string,
  fired?: ReadonlySet<string>,
): Promise<string | null> {
  if (state.status !== 'running') return null;
  const ladder = policyFor(ctx, ticket).ladder;
  const { nextAt } = evaluateLadder({ clockId, clock: state, ladder, calendar: calendarOf(ctx, state.calendarId), now, fired: fired ?? (await firedKeys(tx, clockId)) });
  const deadline = state.breachedAt === null ? state.dueAt : null;
  const candidates = [nextAt, deadline].filter((x): x is string => x !== null);
  if (candidates.length === 0) return null;
  return candidates.sort()[0]!;
}

async function newClock(
  ctx: AppContext,
  tx: Tx,
  ticket: TicketRow,
  p: { id: string; legId: string | null; kind: ClockKind; target: Target; calendarId: string; policyId: string | null; now: string; reason: string },
): Promise<void> {
  const calendar = calendarOf(ctx, p.calendarId);
  const state = startClock({ kind: p.kind, targetMs: targetMs(calendar, p.target, Date.parse(p.now)), calendar, policyId: p.policyId, now: p.now, reason: p.reason });
  const row = toRow(p.id, ticket.id, p.legId, state, p.now);
  await saveClock(ctx, tx, ticket, row, state, p.now, true);
}

/** Starts first response and resolution from the matching policy. */
export async function startTicketClocks(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  const policy = policyFor(ctx, ticket);
  const reason = `policy ${policy.id ?? '(none)'} for ${ticket.priority}`;
  if (policy.firstResponse !== undefined)
    await newClock(ctx, tx, ticket, { id: `${ticket.id}:first_response`, legId: null, kind: 'first_response', target: policy.firstResponse, calendarId: policy.calendarId, policyId: policy.id, now, reason });
  if (policy.resolution !== undefined)
    await newClock(ctx, tx, ticket, { id: `${ticket.id}:resolution`, legId: null, kind: 'resolution', target: policy.resolution, calendarId: policy.calendarId, policyId: policy.id, now, reason });
}

/** Starts a handed-off leg's acceptance and resolution limits (the target department's OLA). */
export async function startLegClocks(ctx: AppContext, tx: Tx, ticket: TicketRow, leg: LegRow, now: string): Promise<void> {
  const limits = legLimits(ctx.config, leg.department_id);
  const reason = `handoff limits of ${leg.department_id}`;
  if (limits.accept !== undefined)
    await newClock(ctx, tx, ticket, { id: `${leg.id}:leg_accept`, legId: leg.id, kind: 'leg_accept', target: limits.accept, calendarId: limits.calendarId, policyId: null, now, reason });
  if (limits.resolve !== undefined)
    await newClock(ctx, tx, ticket, { id: `${leg.id}:leg_resolve`, legId: leg.id, kind: 'leg_resolve', target: limits.resolve, calendarId: limits.calendarId, policyId: null, now, reason });
}

type ClockChange = (state: ClockState, calendar: BusinessCalendar) => ClockState | null;

/** Applies `change` to the ticket's clocks that pass `filter`; a null result leaves the clock as is. */
async function changeClocks(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string, filter: (row: ClockRow) => boolean, change: ClockChange): Promise<void> {
  for (const row of await listClocks(tx, ticket.id)) {
    if (!filter(row)) continue;
    const before = toState(row);
    const after = change(before, calendarOf(ctx, before.calendarId));
    if (after) await saveClock(ctx, tx, ticket, row, after, now);
  }
}

const isKind = (...kinds: ClockKind[]) => (row: ClockRow) => kinds.includes(row.kind as ClockKind);
const running = (s: ClockState) => s.status === 'running';
const paused = (s: ClockState) => s.status === 'paused';

/** A public reply by a human agent meets first response and the pending next response. */
export async function onAgentPublicReply(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, isKind('first_response', 'next_response'), (s, cal) => (running(s) || paused(s) ? meetClock(s, cal, now) : null));
}

/** A requester message after first response starts the next-response clock (a new cycle). */
export async function onRequesterMessage(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  const policy = policyFor(ctx, ticket);
  const nextResponse = policy.nextResponse;
  if (nextResponse === undefined) return;
  const clocks = await listClocks(tx, ticket.id);
  const frt = clocks.find((c) => c.kind === 'first_response');
  if (frt && frt.status !== 'met') return; // first response still pending: that clock covers it
  const nrt = clocks.find((c) => c.kind === 'next_response');
  if (!nrt) {
    await newClock(ctx, tx, ticket, { id: `${ticket.id}:next_response`, legId: null, kind: 'next_response', target: nextResponse, calendarId: policy.calendarId, policyId: policy.id, now, reason: 'requester wrote' });
    return;
  }
  const state = toState(nrt);
  if (state.status === 'running') return; // the oldest unanswered message sets the clock
  const cal = calendarOf(ctx, state.calendarId);
  await saveClock(ctx, tx, ticket, nrt, restartClock({ ...state, targetMs: targetMs(cal, nextResponse, Date.parse(now)) }, cal, now, 'requester wrote'), now);
}

/** Waiting on the requester pauses first response and resolution (when the policy says so). */
export async function pauseForRequester(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  if (!policyFor(ctx, ticket).pauseWhenWaiting) return;
  await changeClocks(ctx, tx, ticket, now, isKind('first_response', 'resolution', 'leg_resolve'), (s, cal) => (running(s) ? pauseClock(s, cal, now) : null));
}

export async function resumeFromRequester(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, isKind('first_response', 'resolution', 'leg_resolve'), (s, cal) => (paused(s) ? resumeClock(s, cal, now) : null));
}

/** Resolving meets resolution and the current leg's limit; next response pauses. */
export async function onResolved(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, isKind('resolution'), (s, cal) => (running(s) || paused(s) ? meetClock(s, cal, now) : null));
  await changeClocks(ctx, tx, ticket, now, (r) => r.kind === 'leg_resolve' && r.leg_id === ticket.current_leg_id, (s, cal) => (running(s) || paused(s) ? meetClock(s, cal, now) : null));
  await changeClocks(ctx, tx, ticket, now, isKind('next_response'), (s, cal) => (running(s) ? pauseClock(s, cal, now) : null));
}

/** Reopening resumes resolution in a new cycle, keeping the elapsed time. */
export async function onReopened(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, isKind('resolution'), (s, cal) =>
    s.status === 'met' ? resumeClock({ ...s, status: 'paused', metAt: null, pausedAt: now, cycle: s.cycle + 1, log: [...s.log, `reopened ${now}`] }, cal, now) : null,
  );
}

/** Closing stops whatever still runs. */
export async function onClosed(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, () => true, (s, cal) => (running(s) || paused(s) ? stopClock(s, cal, now) : null));
}

/** A priority or policy change retargets the ticket's clocks, keeping their elapsed time. */
export async function retargetTicketClocks(ctx: AppContext, tx: Tx, ticket: TicketRow, now: string, reason: string): Promise<void> {
  const policy = policyFor(ctx, ticket);
  const targets: Partial<Record<ClockKind, Target | undefined>> = {
    first_response: policy.firstResponse,
    next_response: policy.nextResponse,
    resolution: policy.resolution,
  };
  await changeClocks(ctx, tx, ticket, now, isKind('first_response', 'next_response', 'resolution'), (s) => {
    const target = targets[s.kind];
    if (target === undefined || s.status === 'met' || s.status === 'stopped') return null;
    const calendar = calendarOf(ctx, policy.calendarId);
    // Working days count from the clock's start, as if the new target had applied from the beginning.
    return retargetClock(s, { targetMs: targetMs(calendar, target, Date.parse(s.startedAt)), calendar, policyId: policy.id, now, reason });
  });
}

/** A leg accepted meets its acceptance limit. */
export async function onLegAccepted(ctx: AppContext, tx: Tx, ticket: TicketRow, legId: string, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, (r) => r.leg_id === legId && r.kind === 'leg_accept', (s, cal) => (running(s) ? meetClock(s, cal, now) : null));
}

/** A leg that ends (returned or handed on) meets what is still open on it: the department answered. */
export async function onLegEnded(ctx: AppContext, tx: Tx, ticket: TicketRow, legId: string, now: string): Promise<void> {
  await changeClocks(ctx, tx, ticket, now, (r) => r.leg_id === legId, (s, cal) => (running(s) || paused(s) ? meetClock(s, cal, now) : null));
}

/** Extends a running clock's target by `byMs` (a supervisor's decision, audited by the caller). */
export async function extendClock(ctx: AppContext, tx: Tx, ticket: TicketRow, kind: ClockKind, byMs: number, now: string, reason: string): Promise<boolean> {
  let changed = false;
  await changeClocks(
    ctx,
    tx,
    ticket,
    now,
    (r) => r.kind === kind && (r.leg_id === null || r.leg_id === ticket.current_leg_id),
    (s, cal) => {
      if (s.status !== 'running' && s.status !== 'paused') return null;
      changed = true;
      return retargetClock(s, { targetMs: s.targetMs + byMs, calendar: cal, policyId: s.policyId, now, reason });
    },
  );
  return changed;
}
