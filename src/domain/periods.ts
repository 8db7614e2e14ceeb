import { DAY_MS, formatDay, localDayNumber, parseDay, weekdayOfDay, zoneRules } from './zone';

/**
 * Report periods as people name them, in a department's time zone: this or last calendar week
 * (weeks start on Monday, as in China and ISO 8601), this or last calendar month, a custom range
 * of local dates, or the last N days. Every period comes with the one it is compared against.
 *
 * - A finished period (last week, last month, a custom range) is compared with the equally long
 *   unit right before it (the week before, the month before, the same number of days before).
 * - A running period (this week, this month) ends now; it is compared with the same elapsed part
 *   of the previous unit (Monday–Wednesday noon against last Monday–Wednesday noon), so counts are
 *   comparable.
 */

export const PERIOD_KINDS = ['this_week', 'last_week', 'this_month', 'last_month', 'days', 'custom'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface PeriodRequest {
  kind: PeriodKind;
  /** For `days`. */
  days?: number;
  /** For `custom`: local dates YYYY-MM-DD, both included. */
  from?: string;
  to?: string;
}

export interface Period {
  kind: PeriodKind;
  /** Half-open [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  previous: { fromMs: number; toMs: number };
  timeZone: string;
  /** First and last local day covered, YYYY-MM-DD (for "2026-03-09 – 2026-03-15"). */
  firstDay: string;
  lastDay: string;
  previousFirstDay: string;
  previousLastDay: string;
  /** Still running (ends now). */
  running: boolean;
}

/** Longest custom range, so a typo cannot ask for ten years of data. */
export const MAX_CUSTOM_DAYS = 366;

function startOfLocalDay(day: number, timeZone: string): number {
  return zoneRules(timeZone).toUtc(day * DAY_MS);
}

function monthStartDay(day: number, monthsBack = 0): number {
  const d = new Date(day * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - monthsBack, 1) / DAY_MS;
}

function build(kind: PeriodKind, fromMs: number, toMs: number, previous: { fromMs: number; toMs: number }, timeZone: string, running: boolean): Period {
  const last = (ms: number) => formatDay(localDayNumber(ms - 1, timeZone));
  const first = (ms: number) => formatDay(localDayNumber(ms, timeZone));
  return {
    kind,
    fromMs,
    toMs,
    previous,
    timeZone,
    firstDay: first(fromMs),
    lastDay: last(toMs),
    previousFirstDay: first(previous.fromMs),
    previousLastDay: last(previous.toMs),
    running,
  };
}

/** The period a request names at `nowMs`, or undefined when a custom range is not valid. */
export function resolvePeriod(request: PeriodRequest, nowMs: number, timeZone: string): Period | undefined {
  const today = localDayNumber(nowMs, timeZone);
  const at = (day: number) => startOfLocalDay(day, timeZone);
  switch (request.kind) {
    case 'this_week':
    case 'last_week': {
      const monday = today - weekdayOfDay(today);
      if (request.kind === 'last_week') return build('last_week', at(monday - 7), at(monday), { fromMs: at(monday - 14), toMs: at(monday - 7) }, timeZone, false);
      const elapsed = nowMs - at(monday);
      return build('this_week', at(monday), nowMs, { fromMs: at(monday - 7), toMs: Math.min(at(monday - 7) + elapsed, at(monday)) }, timeZone, true);
    }
    case 'this_month':
    case 'last_month': {
      const start = monthStartDay(today);
      const prev = monthStartDay(today, 1);
      if (request.kind === 'last_month') return build('last_month', at(prev), at(start), { fromMs: at(monthStartDay(today, 2)), toMs: at(prev) }, timeZone, false);
      const elapsed = nowMs - at(start);
      return build('this_month', at(start), nowMs, { fromMs: at(prev), toMs: Math.min(at(prev) + elapsed, at(start)) }, timeZone, true);
    }
    case 'custom': {
      const from = request.from === undefined ? undefined : parseDay(request.from);
      const to = request.to === undefined ? undefined : parseDay(request.to);
      if (from === undefined || to === undefined || to < from || to - from + 1 > MAX_CUSTOM_DAYS) return undefined;
      const length = to - from + 1;
      const endMs = Math.min(at(to + 1), Math.max(nowMs, at(from) + 1));
      return build('custom', at(from), endMs, { fromMs: at(from - length), toMs: at(from) }, timeZone, endMs === nowMs);
    }
    case 'days':
    default: {
      const days = request.days ?? 7;
      const span = days * DAY_MS;
      return build('days', nowMs - span, nowMs, { fromMs: nowMs - 2 * span, toMs: nowMs - span }, timeZone, true);
    }
  }
}

/** The last full calendar week (Monday to Sunday) before `nowMs` in a zone: the weekly digest's period. */
export function lastFullWeek(nowMs: number, timeZone: string): Period {
  return resolvePeriod({ kind: 'last_week' }, nowMs, timeZone)!;
}
