import type { BusinessCalendar } from './calendar';
import { formatHours } from './calendar';
import type { ClockKind, ClockStatus } from './types';

/**
 * SLA clocks as stored state. Every function is pure: it takes a clock and the current time and
 * returns the next state (the same object when nothing changes, so callers can skip a write).
 *
 * Elapsed business time is accumulated at each pause so a clock never needs its history replayed;
 * `runningSince` marks the start of the current running period. Time is passed in as ISO strings.
 *
 * Breach rule: a clock is met on time when it is met at or before `dueAt`; it is breached once
 * the time is strictly after `dueAt`. `breachedAt` records the instant the target was exceeded
 * (the due time, not when a scheduler noticed) and is sticky: nothing clears it within a cycle.
 */
export type { ClockStatus };

export interface ClockState {
  kind: ClockKind;
  /** 1 for the first cycle; the next-response clock starts a new cycle for each requester message. */
  cycle: number;
  targetMs: number;
  calendarId: string;
  policyId: string | null;
  startedAt: string;
  /** Business time accumulated before `runningSince`. */
  elapsedMs: number;
  runningSince: string | null;
  pausedAt: string | null;
  /** Null while paused (the due time is unknown until the clock resumes). */
  dueAt: string | null;
  metAt: string | null;
  breachedAt: string | null;
  status: ClockStatus;
  /** Short reasons for the due time, newest last. */
  log: string[];
}

/** The log keeps only the latest lines: it explains the current due time, it is not an audit trail. */
export const MAX_LOG_LINES = 10;

export function startClock(p: {
  kind: ClockKind;
  targetMs: number;
  calendar: BusinessCalendar;
  policyId: string | null;
  now: string;
  cycle?: number;
  reason?: string;
}): ClockState {
  const nowMs = toMs(p.now);
  if (!(p.targetMs >= 0)) throw new RangeError(`a clock target must be >= 0, got ${p.targetMs}`);
  const base: ClockState = {
    kind: p.kind,
    cycle: p.cycle ?? 1,
    targetMs: p.targetMs,
    calendarId: p.calendar.id,
    policyId: p.policyId,
    startedAt: iso(nowMs),
    elapsedMs: 0,
    runningSince: iso(nowMs),
    pausedAt: null,
    dueAt: null,
    metAt: null,
    breachedAt: null,
    status: 'running',
    log: [],
  };
  const started = withLog(base, `started ${iso(nowMs)}${p.reason ? ` (${p.reason})` : ''}${p.policyId ? ` by policy ${p.policyId}` : ''}`);
  return scheduleDue(started, p.calendar, nowMs);
}

/** Business time elapsed on the clock at `now` (the stored part plus the running part). */
export function elapsedAt(c: ClockState, calendar: BusinessCalendar, now: string): number {
  if (c.status !== 'running' || c.runningSince === null) return c.elapsedMs;
  return c.elapsedMs + calendar.between(toMs(c.runningSince), toMs(now));
}

export function pauseClock(c: ClockState, calendar: BusinessCalendar, now: string): ClockState {
  if (c.status !== 'running') return c;
  const checked = markBreachIfDue(c, now);
  const elapsedMs = elapsedAt(c, calendar, now);
  return withLog(
    { ...checked, elapsedMs, runningSince: null, pausedAt: iso(toMs(now)), dueAt: null, status: 'paused' },
    `paused ${iso(toMs(now))} with ${formatHours(elapsedMs)} of ${formatHours(c.targetMs)} used`,
  );
}

export function resumeClock(c: ClockState, calendar: BusinessCalendar, now: string): ClockState {
  if (c.status !== 'paused') return c;
  const nowMs = toMs(now);
  const resumed = withLog({ ...c, runningSince: iso(nowMs), pausedAt: null, status: 'running' }, `resumed ${iso(nowMs)}`);
  return scheduleDue(resumed, calendar, nowMs);
}

/** The clock's goal was reached (e.g. the first public agent reply). */
export function meetClock(c: ClockState, calendar: BusinessCalendar, now: string): ClockState {
  if (c.status === 'met' || c.status === 'stopped') return c;
  const nowMs = toMs(now);
  const elapsedMs = elapsedAt(c, calendar, now);
  const late = elapsedMs > c.targetMs || (c.dueAt !== null && nowMs > toMs(c.dueAt));
  const breachedAt = c.breachedAt ?? (late ? (c.dueAt !== null && toMs(c.dueAt) < nowMs ? c.dueAt : iso(nowMs)) : null);
  return withLog(
    { ...c, elapsedMs, runningSince: null, pausedAt: null, metAt: iso(nowMs), breachedAt, status: 'met' },
    `met ${iso(nowMs)} after ${formatHours(elapsedMs)}${breachedAt ? ' (late)' : ' (on time)'}`,
  );
}

/** The clock ends without its goal (ticket closed, leg returned or handed off). */
export function stopClock(c: ClockState, calendar: BusinessCalendar, now: string, reason?: string): ClockState {
  if (c.status === 'met' || c.status === 'stopped') return c;
  const checked = markBreachIfDue(c, now);
  const elapsedMs = elapsedAt(c, calendar, now);
  return withLog(
    { ...checked, elapsedMs, runningSince: null, pausedAt: null, status: 'stopped' },
    `stopped ${iso(toMs(now))}${reason ? ` (${reason})` : ''}`,
  );
}

/**
 * New target (priority or policy changed), keeping the elapsed time. Elapsed time up to now is
 * measured in the calendar the clock ran on (`previousCalendar`, defaulting to the new one) and
 * continues in the new calendar. A breach already recorded stays; a new target that is already
 * exceeded is a breach now. Met and stopped clocks are history and do not change.
 */
export function retargetClock(
  c: ClockState,
  p: { targetMs: number; calendar: BusinessCalendar; policyId: string | null; now: string; reason: string; previousCalendar?: BusinessCalendar },
): ClockState {
  if (c.status === 'met' || c.status === 'stopped') return c;
  if (!(p.targetMs >= 0)) throw new RangeError(`a clock target must be >= 0, got ${p.targetMs}`);
  const nowMs = toMs(p.now);
  const checked = markBreachIfDue(c, p.now);
  const elapsedMs = elapsedAt(c, p.previousCalendar ?? p.calendar, p.now);
  const retargeted: ClockState = withLog(
    {
      ...checked,
      targetMs: p.targetMs,
      calendarId: p.calendar.id,
      policyId: p.policyId,
      elapsedMs,
      runningSince: c.status === 'running' ? iso(nowMs) : null,
      breachedAt: checked.breachedAt ?? (elapsedMs > p.targetMs ? iso(nowMs) : null),
    },
    `retargeted ${iso(nowMs)} to ${formatHours(p.targetMs)} (${p.reason}); ${formatHours(elapsedMs)} already used`,
  );
  return retargeted.status === 'running' ? scheduleDue(retargeted, p.calendar, nowMs) : retargeted;
}

/** Records the breach once the due time has passed; returns the same object if nothing changed. */
export function markBreachIfDue(c: ClockState, now: string): ClockState {
  if (c.status !== 'running' || c.breachedAt !== null || c.dueAt === null) return c;
  if (toMs(now) <= toMs(c.dueAt)) return c;
  return withLog({ ...c, breachedAt: c.dueAt }, `breached ${c.dueAt}`);
}

/** When a scheduler should next look at the clock to record a breach (1 ms after due), or null. */
export function breachCheckAt(c: ClockState): string | null {
  if (c.status !== 'running' || c.breachedAt !== null || c.dueAt === null) return null;
  return iso(toMs(c.dueAt) + 1);
}

/**
 * Starts the next cycle (the next-response clock on a new requester message after a reply).
 * A clock still running or paused keeps its cycle: next response is measured from the oldest
 * unanswered message, so later messages do not restart it.
 */
export function restartClock(c: ClockState, calendar: BusinessCalendar, now: string, reason: string): ClockState {
  if (c.status === 'running' || c.status === 'paused') return c;
  return startClock({ kind: c.kind, targetMs: c.targetMs, calendar, policyId: c.policyId, now, cycle: c.cycle + 1, reason });
}

/** Sets dueAt of a running clock from its remaining business time and logs why. */
function scheduleDue(c: ClockState, calendar: BusinessCalendar, nowMs: number): ClockState {
  const remaining = c.targetMs - c.elapsedMs;
  if (remaining <= 0) {
    return withLog({ ...c, dueAt: iso(nowMs) }, `due ${iso(nowMs)}: target of ${formatHours(c.targetMs)} already used up`);
  }
  const due = calendar.add(nowMs, remaining);
  const notes = calendar.explainNotes(nowMs, remaining).slice(0, 3);
  const measure = calendar.id === 'always' ? 'wall-clock time' : `business in ${calendar.id}`;
  const line = [`due ${iso(due)}: ${formatHours(remaining)} ${measure}`, ...notes].join('; ');
  return withLog({ ...c, dueAt: iso(due) }, line);
}

function withLog(c: ClockState, line: string): ClockState {
  const log = [...c.log, line];
  return { ...c, log: log.length > MAX_LOG_LINES ? log.slice(log.length - MAX_LOG_LINES) : log };
}

function toMs(isoText: string): number {
  const ms = Date.parse(isoText);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 time: "${isoText}"`);
  return ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
