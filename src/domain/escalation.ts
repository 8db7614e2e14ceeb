import type { EscalationLevelConfig } from '../config/schema';
import type { BusinessCalendar } from './calendar';
import { elapsedAt, type ClockState } from './clock';
import { parseDuration } from './duration';
import type { ClockKind } from './types';

/**
 * Escalation ladders: who is told when a clock gets close to or past its target.
 *
 * Levels are measured in the clock's business time, so a level at 75% of a 4h target fires after
 * 3 business hours however many nights and weekends lie between. `evaluateLadder` is a pure
 * answer to "what is due now and when should I look again"; the caller records each firing key
 * in the same transaction as the notifications, which makes every firing happen once.
 */

export type LadderTarget = { kind: 'assignee' | 'department_channel' | 'supervisors' | 'on_call' } | { kind: 'user'; ref: string };

export type UrgentChannel = 'app' | 'sms' | 'phone';

export interface LadderLevel {
  /** Position in the ladder (0-based); part of the firing key. */
  index: number;
  at: { kind: 'percent'; value: number } | { kind: 'offset'; ms: number };
  notify: LadderTarget[];
  repeatMs?: number;
  maxRepeats?: number;
  urgent: boolean;
  urgentVia: UrgentChannel[];
  /** Clocks this level watches; all when absent. */
  clocks?: ClockKind[];
}

export interface Firing {
  level: number;
  /** 0 for the level's first firing, k for its k-th repeat. */
  repeat: number;
  /** When the level (this repeat) became due. */
  dueAt: string;
  /** `${clockId}:${cycle}:${level}:${repeat}` — unique per firing, the idempotency key. */
  key: string;
}

const NAMED_TARGETS = new Set(['assignee', 'department_channel', 'supervisors', 'on_call']);

export function compileLadder(levels: EscalationLevelConfig[]): LadderLevel[] {
  return levels.map((cfg, index) => {
    const notify = (Array.isArray(cfg.notify) ? cfg.notify : [cfg.notify]).map(
      (t): LadderTarget => (NAMED_TARGETS.has(t) ? { kind: t as 'assignee' } : { kind: 'user', ref: t }),
    );
    const level: LadderLevel = {
      index,
      at: parseAt(cfg.at, index),
      notify,
      urgent: cfg.urgent ?? false,
      // An urgent level without channels uses the in-app one: SMS and phone cost money.
      urgentVia: cfg.urgent ? (cfg.urgent_via ?? ['app']) : [],
    };
    if (cfg.repeat !== undefined) {
      const repeatMs = parseDuration(cfg.repeat);
      if (repeatMs === undefined) throw new Error(`escalation level ${index}: repeat "${cfg.repeat}" is not a duration`);
      // A zero interval would repeat forever at one instant; treat it as no repeat.
      if (repeatMs > 0) level.repeatMs = repeatMs;
    }
    if (cfg.max_repeats !== undefined) level.maxRepeats = cfg.max_repeats;
    if (cfg.clocks !== undefined) level.clocks = [...cfg.clocks];
    return level;
  });
}

function parseAt(text: string, index: number): LadderLevel['at'] {
  if (text.endsWith('%')) {
    const value = Number(text.slice(0, -1));
    if (!Number.isFinite(value) || value < 0) throw new Error(`escalation level ${index}: bad percentage "${text}"`);
    return { kind: 'percent', value };
  }
  const sign = text[0] === '-' ? -1 : text[0] === '+' ? 1 : 0;
  const ms = sign === 0 ? undefined : parseDuration(text.slice(1));
  if (ms === undefined) throw new Error(`escalation level ${index}: "${text}" is neither a percentage nor a signed offset`);
  return { kind: 'offset', ms: sign * ms };
}

/** Elapsed business time at which a level first fires; never negative (a level before the start fires at the start). */
export function levelThresholdMs(level: LadderLevel, targetMs: number): number {
  const raw = level.at.kind === 'percent' ? Math.ceil((targetMs * level.at.value) / 100) : targetMs + level.at.ms;
  return Math.max(0, raw);
}

export function firingKey(clockId: string, cycle: number, level: number, repeat: number): string {
  return `${clockId}:${cycle}:${level}:${repeat}`;
}

/**
 * Levels due at `now` that are not yet in `fired`, and when the next one will be due.
 *
 * Nothing is due while the clock is paused, met or stopped. When several repeats of a level are
 * overdue at once (after an outage, or a clock resumed long past its target) only the latest one
 * fires: a burst of identical reminders helps nobody, and the earlier repeat numbers are skipped
 * for good. `nextAt` assumes the clock keeps running; it is finite even for endless repeats.
 */
export function evaluateLadder(p: {
  clockId: string;
  clock: ClockState;
  ladder: LadderLevel[];
  calendar: BusinessCalendar;
  now: string;
  fired: ReadonlySet<string>;
}): { due: Firing[]; nextAt: string | null } {
  const { clock, calendar } = p;
  if (clock.status !== 'running' || clock.runningSince === null) return { due: [], nextAt: null };
  const nowMs = Date.parse(p.now);
  const sinceMs = Date.parse(clock.runningSince);
  const elapsed = elapsedAt(clock, calendar, p.now);
  // The instant the clock's elapsed time reached `e`; thresholds passed before the last pause
  // have no exact instant left, so they count from the resume.
  const instantOf = (e: number) => (e <= clock.elapsedMs ? sinceMs : calendar.add(sinceMs, e - clock.elapsedMs));
  const due: Firing[] = [];
  let nextElapsed = Infinity;
  for (const level of p.ladder) {
    if (level.clocks && !level.clocks.includes(clock.kind)) continue;
    const first = levelThresholdMs(level, clock.targetMs);
    if (elapsed < first) {
      nextElapsed = Math.min(nextElapsed, first);
      continue;
    }
    const repeat = latestRepeat(level, elapsed - first);
    const key = firingKey(p.clockId, clock.cycle, level.index, repeat);
    if (!p.fired.has(key)) {
      due.push({ level: level.index, repeat, dueAt: new Date(instantOf(first + repeat * (level.repeatMs ?? 0))).toISOString(), key });
    }
    if (level.repeatMs !== undefined && (level.maxRepeats === undefined || repeat < level.maxRepeats)) {
      nextElapsed = Math.min(nextElapsed, first + (repeat + 1) * level.repeatMs);
    }
  }
  const nextAt = nextElapsed === Infinity ? null : new Date(calendar.add(nowMs, nextElapsed - elapsed)).toISOString();
  return { due, nextAt };
}

/** The highest repeat number reached `sinceFirst` ms after a level's first firing. */
function latestRepeat(level: LadderLevel, sinceFirst: number): number {
  if (level.repeatMs === undefined) return 0;
  const reached = Math.floor(sinceFirst / level.repeatMs);
  return level.maxRepeats === undefined ? reached : Math.min(reached, level.maxRepeats);
}
