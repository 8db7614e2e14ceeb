import type { CalendarConfig } from '../config/schema';
import type { Target } from './duration';
import { DAY_MS, formatDay, formatMinutes, parseDay, weekdayOfDay, zoneRules, type ZoneRules } from './zone';

/**
 * Business calendars: when is working time, how much of it lies between two instants, and which
 * instant lies a given amount of working time after another.
 *
 * Days are walked in the calendar's own zone and every interval is converted to UTC on its own,
 * so DST changes land right: an interval that contains the skipped hour is an hour shorter, one
 * that contains the repeated hour an hour longer (see ZoneRules.toUtc for the exact mapping).
 * Long durations jump whole weeks across spans without holidays, make-up days or offset changes,
 * so the cost grows with the number of exceptions, not with the duration.
 */
export interface BusinessCalendar {
  readonly id: string;
  readonly timezone: string;
  /** Instant (epoch ms) that lies `businessMs` of working time after `fromMs`. businessMs 0 → fromMs. */
  add(fromMs: number, businessMs: number): number;
  /** Working time in ms between two instants (0 if to <= from). */
  between(fromMs: number, toMs: number): number;
  /** Human lines explaining add(): the days used, holidays skipped, breaks excluded. */
  explainAdd(fromMs: number, businessMs: number): string[];
  /** The few notable facts behind add() (breaks, holidays, make-up days, DST), for a clock's log. */
  explainNotes(fromMs: number, businessMs: number): string[];
  isWorkingAt(ms: number): boolean;
  /**
   * Instant that ends `days` working days after `fromMs` (the `wd` unit): the same local time of
   * day on the `days`-th following day with working hours. A start outside working hours counts
   * from the start of the next working period. When that time of day is not working time on the
   * last day (shorter hours, a break), the due time moves back to the end of that day's last
   * working period before it, or forward to the day's first period if none ends before it.
   */
  addWorkingDays(fromMs: number, days: number): number;
  /** Human lines explaining addWorkingDays(): the start used, the working days counted, what was skipped. */
  explainWorkingDays(fromMs: number, days: number): string[];
}

export type { CalendarConfig };

/**
 * Public holidays and make-up workdays of a region (e.g. CN) for the years a dataset covers, by
 * local date `YYYY-MM-DD` with the name of the holiday they belong to. Loaded at config time (see
 * src/config/holidays.ts) so the domain stays free of I/O; a calendar's own `holidays` and
 * `workdays` override these.
 */
export interface OfficialDays {
  /** Region code, e.g. CN or DE-BY. */
  readonly region: string;
  /** Where the dates come from, e.g. "chinese-days 1.5.7". */
  readonly source: string;
  readonly holidays: ReadonlyMap<string, string>;
  readonly workdays: ReadonlyMap<string, string>;
  /** Years the dataset has data for. */
  readonly years: readonly number[];
}

const WEEKDAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const MINUTE_MS = 60_000;
/** Lines of an explanation beyond which the middle is elided; a due time needs no more to be understood. */
const MAX_EXPLAIN_LINES = 24;

/** A working interval in minutes after local midnight; `end` may be 1440 (24:00). */
interface Interval {
  readonly start: number;
  readonly end: number;
}

/** Inclusive range of day numbers. */
interface DayRange {
  readonly start: number;
  readonly end: number;
}

type TraceEvent =
  | { kind: 'work'; day: number; fromUtc: number; toUtc: number; interval: Interval; full: boolean; makeup: boolean }
  | { kind: 'skip'; reason: 'holiday' | 'closed'; fromDay: number; toDay: number }
  | { kind: 'count'; day: number; n: number; makeup: boolean }
  | { kind: 'break'; start: number; end: number }
  | { kind: 'weeks'; fromDay: number; weeks: number; ms: number };

class CompiledCalendar implements BusinessCalendar {
  private readonly zone: ZoneRules;
  private readonly week: readonly (readonly Interval[])[];
  private readonly weekMs: number;
  private readonly holidays: readonly DayRange[];
  private readonly workdays: readonly number[];
  private readonly workdaySet: ReadonlySet<number>;
  private readonly makeupIntervals: readonly Interval[];
  /** Names of official holidays and make-up days by day number, for explanations. */
  private readonly dayNames: ReadonlyMap<number, string>;

  constructor(
    readonly id: string,
    cfg: CalendarConfig,
    official: OfficialDays | undefined,
  ) {
    this.zone = zoneRules(cfg.timezone);
    this.week = compileWeek(id, cfg.week);
    this.weekMs = this.week.reduce((sum, day) => sum + totalMinutes(day), 0) * MINUTE_MS;
    const ownHolidays = compileHolidays(id, cfg.holidays ?? []);
    const ownWorkdays = (cfg.workdays ?? []).map((d) => parseDayOrThrow(id, d));
    const isOwnHoliday = (day: number) => {
      const r = ownHolidays[firstRangeEndingAtOrAfter(ownHolidays, day)];
      return r !== undefined && r.start <= day;
    };
    const names = new Map<number, string>();
    const officialHolidays: string[] = [];
    const officialWorkdays: number[] = [];
    // The calendar's own lists override the dataset: an own workday is never an official holiday,
    // an own holiday never an official make-up day.
    for (const [date, name] of official?.holidays ?? []) {
      const day = parseDayOrThrow(id, date);
      if (ownWorkdays.includes(day)) continue;
      officialHolidays.push(date);
      names.set(day, name);
    }
    for (const [date, name] of official?.workdays ?? []) {
      const day = parseDayOrThrow(id, date);
      if (isOwnHoliday(day)) continue;
      officialWorkdays.push(day);
      names.set(day, name);
    }
    this.dayNames = names;
    this.holidays = compileHolidays(id, [...(cfg.holidays ?? []), ...officialHolidays]);
    const workdays = [...ownWorkdays, ...officialWorkdays];
    this.workdays = [...new Set(workdays)].sort((a, b) => a - b);
    this.workdaySet = new Set(this.workdays);
    // Without explicit hours a make-up day works like a Monday (or the first weekday that works).
    this.makeupIntervals = cfg.workday_hours
      ? mergeIntervals(cfg.workday_hours.map((r) => parseTimeRange(id, r)))
      : (this.week.find((d) => d.length > 0) ?? []);
  }

  get timezone(): string {
    return this.zone.timeZone;
  }

  add(fromMs: number, businessMs: number): number {
    return this.walkAdd(fromMs, businessMs, undefined);
  }

  between(fromMs: number, toMs: number): number {
    if (!(toMs > fromMs)) return 0;
    const lastDay = this.localDay(toMs);
    let day = this.localDay(fromMs);
    let total = 0;
    let firstDay = true;
    while (day <= lastDay) {
      // Whole weeks strictly before the last day count at their nominal length.
      if (!firstDay && this.weekMs > 0) {
        const weeks = this.jumpableWeeks(day, Math.floor((lastDay - day) / 7));
        if (weeks > 0) {
          total += weeks * this.weekMs;
          day += weeks * 7;
          continue;
        }
      }
      firstDay = false;
      const intervals = this.intervalsOn(day);
      if (intervals.length === 0) {
        const next = this.nextDayWithHours(day);
        if (next === undefined) break;
        day = next;
        continue;
      }
      for (const iv of intervals) {
        const s = Math.max(this.toUtc(day, iv.start), fromMs);
        const e = Math.min(this.toUtc(day, iv.end), toMs);
        if (e > s) total += e - s;
      }
      day++;
    }
    return total;
  }

  isWorkingAt(ms: number): boolean {
    const day = this.localDay(ms);
    for (const iv of this.intervalsOn(day)) {
      if (ms >= this.toUtc(day, iv.start) && ms < this.toUtc(day, iv.end)) return true;
    }
    return false;
  }

  addWorkingDays(fromMs: number, days: number): number {
    return this.walkWorkingDays(fromMs, days, undefined);
  }

  explainWorkingDays(fromMs: number, days: number): string[] {
    const trace: TraceEvent[] = [];
    const due = this.walkWorkingDays(fromMs, days, trace);
    const tz = this.timezone;
    const lines = [`from ${this.formatLocal(fromMs)} ${tz} add ${days} working day${days === 1 ? '' : 's'} (${this.id})`];
    const start = this.nextWorkingInstant(fromMs);
    if (start !== fromMs) lines.push(`starts outside working hours: counts from ${this.formatLocal(start)}`);
    for (const e of trace) {
      if (e.kind === 'skip') lines.push(`${formatDayRange(e.fromDay, e.toDay)} ${e.reason === 'holiday' ? 'holiday skipped' : 'no working hours'}${this.namesIn(e.fromDay, e.toDay)}`);
      if (e.kind === 'count') lines.push(`${formatDay(e.day)}${e.makeup ? ` make-up workday${this.nameOf(e.day)}:` : ''} working day ${e.n}`);
    }
    lines.push(`due ${this.formatLocal(due)} ${tz} = ${new Date(due).toISOString()}`);
    return elide(lines, MAX_EXPLAIN_LINES);
  }

  explainAdd(fromMs: number, businessMs: number): string[] {
    const trace: TraceEvent[] = [];
    const due = this.walkAdd(fromMs, businessMs, trace);
    const tz = this.timezone;
    const lines = [`from ${this.formatLocal(fromMs)} ${tz} add ${formatHours(businessMs)} of business time (${this.id})`];
    lines.push(...this.describeTrace(trace));
    const breaks = uniqueBreaks(trace).map((b) => `${breakLabel(b)} ${formatMinutes(b.start)}–${formatMinutes(b.end)} excluded`);
    lines.push(...breaks, `due ${this.formatLocal(due)} ${tz} = ${new Date(due).toISOString()}`);
    return elide(lines, MAX_EXPLAIN_LINES);
  }

  explainNotes(fromMs: number, businessMs: number): string[] {
    const trace: TraceEvent[] = [];
    this.walkAdd(fromMs, businessMs, trace);
    const notes = uniqueBreaks(trace).map((b) => `${breakLabel(b)} ${formatMinutes(b.start)}–${formatMinutes(b.end)} excluded`);
    for (const e of trace) {
      if (e.kind === 'skip' && e.reason === 'holiday') notes.push(`${formatDayRange(e.fromDay, e.toDay)} holiday skipped${this.namesIn(e.fromDay, e.toDay)}`);
      const makeup = e.kind === 'work' && e.makeup ? `${formatDay(e.day)} make-up workday${this.nameOf(e.day)}` : undefined;
      if (makeup && !notes.includes(makeup)) notes.push(makeup);
      if (e.kind === 'work' && e.full && dstNote(e)) notes.push(`${formatDay(e.day)} ${dstNote(e)}`);
    }
    return notes;
  }

  // ---- the walk -------------------------------------------------------------------------------

  private walkAdd(fromMs: number, businessMs: number, trace: TraceEvent[] | undefined): number {
    if (!Number.isFinite(fromMs) || !Number.isFinite(businessMs)) throw new RangeError('add() needs finite numbers');
    if (businessMs < 0) throw new RangeError(`add() needs a non-negative duration, got ${businessMs} ms`);
    if (businessMs === 0) return fromMs;
    let remaining = businessMs;
    let cursor = fromMs;
    let day = this.localDay(fromMs);
    let firstDay = true;
    for (;;) {
      // Keep at least 1 ms for the walk so the due time lands inside a real interval.
      if (!firstDay && remaining > this.weekMs && this.weekMs > 0) {
        const weeks = this.jumpableWeeks(day, Math.floor((remaining - 1) / this.weekMs));
        if (weeks > 0) {
          trace?.push({ kind: 'weeks', fromDay: day, weeks, ms: weeks * this.weekMs });
          remaining -= weeks * this.weekMs;
          day += weeks * 7;
        }
      }
      firstDay = false;
      const intervals = this.intervalsOn(day);
      if (intervals.length === 0) {
        const next = this.nextDayWithHours(day);
        if (next === undefined) throw new RangeError(`calendar "${this.id}" has no working time after ${formatDay(day)}`);
        trace?.push({ kind: 'skip', reason: this.isHoliday(day) ? 'holiday' : 'closed', fromDay: day, toDay: next - 1 });
        day = next;
        continue;
      }
      const makeup = this.workdaySet.has(day);
      for (let i = 0; i < intervals.length; i++) {
        const iv = intervals[i]!;
        const start = this.toUtc(day, iv.start);
        const end = this.toUtc(day, iv.end);
        if (end <= cursor) continue;
        const s = Math.max(start, cursor);
        if (remaining <= end - s) {
          trace?.push({ kind: 'work', day, fromUtc: s, toUtc: s + remaining, interval: iv, full: s === start && remaining === end - s, makeup });
          return s + remaining;
        }
        trace?.push({ kind: 'work', day, fromUtc: s, toUtc: end, interval: iv, full: s === start, makeup });
        remaining -= end - s;
        cursor = end;
        const next = intervals[i + 1];
        if (next && trace) trace.push({ kind: 'break', start: iv.end, end: next.start });
      }
      day++;
    }
  }

  /** The first working instant at or after `ms` (ms itself when it is working time). */
  private nextWorkingInstant(ms: number): number {
    return this.isWorkingAt(ms) ? ms : this.walkAdd(ms, 1, undefined) - 1;
  }

  private walkWorkingDays(fromMs: number, days: number, trace: TraceEvent[] | undefined): number {
    if (!Number.isFinite(fromMs) || !Number.isInteger(days) || days < 0) throw new RangeError(`addWorkingDays() needs a whole number of days >= 0, got ${days}`);
    if (days === 0) return fromMs;
    const start = this.nextWorkingInstant(fromMs);
    const local = this.zone.toLocal(start);
    const startDay = Math.floor(local / DAY_MS);
    const minuteOfDay = (local - startDay * DAY_MS) / MINUTE_MS;
    let day = startDay;
    for (let n = 1; n <= days; ) {
      day++;
      if (this.intervalsOn(day).length === 0) {
        const next = this.nextDayWithHours(day);
        if (next === undefined) throw new RangeError(`calendar "${this.id}" has no working time after ${formatDay(day)}`);
        // nextDayWithHours skips a whole holiday range, but a weekend day without hours comes back as day + 1.
        const to = Math.max(next - 1, day);
        const prev = trace?.[trace.length - 1];
        const reason = this.isHoliday(day) ? 'holiday' : 'closed';
        if (prev && prev.kind === 'skip' && prev.reason === reason && prev.toDay + 1 === day) trace![trace!.length - 1] = { ...prev, toDay: to };
        else trace?.push({ kind: 'skip', reason, fromDay: day, toDay: to });
        day = to;
        continue;
      }
      trace?.push({ kind: 'count', day, n, makeup: this.workdaySet.has(day) });
      n++;
    }
    return this.toUtc(day, clampToWorking(this.intervalsOn(day), minuteOfDay));
  }

  /** ` (春节)` for a day that carries a name, '' otherwise. */
  private nameOf(day: number): string {
    const name = this.dayNames.get(day);
    return name ? ` (${name})` : '';
  }

  /** ` (春节)` for a range of days that carry names, '' when none does. */
  private namesIn(fromDay: number, toDay: number): string {
    const names = new Set<string>();
    for (let d = fromDay; d <= toDay && d - fromDay < 400; d++) {
      const name = this.dayNames.get(d);
      if (name) names.add(name);
    }
    return names.size ? ` (${[...names].join(', ')})` : '';
  }

  /**
   * How many of `maxWeeks` whole weeks from local day `day` hold exactly the nominal weekly working
   * time: none of their days is a holiday or make-up day and no UTC offset change falls near them.
   */
  private jumpableWeeks(day: number, maxWeeks: number): number {
    if (maxWeeks <= 0) return 0;
    let weeks = maxWeeks;
    const exception = this.firstExceptionAtOrAfter(day);
    if (exception !== undefined) weeks = Math.min(weeks, Math.floor((exception - day) / 7));
    if (weeks <= 0) return 0;
    // Day numbers and UTC days differ by at most a day; a margin of two keeps the span clear.
    const t = this.zone.firstTransitionBetween((day - 2) * DAY_MS, (day + weeks * 7 + 2) * DAY_MS);
    if (t) weeks = Math.min(weeks, Math.floor((Math.floor(t.at / DAY_MS) - 1 - day) / 7));
    return Math.max(0, weeks);
  }

  private intervalsOn(day: number): readonly Interval[] {
    if (this.workdaySet.has(day)) return this.makeupIntervals;
    if (this.isHoliday(day)) return [];
    return this.week[weekdayOfDay(day)]!;
  }

  /** The next day after `day` that may have working hours, skipping whole holiday ranges. */
  private nextDayWithHours(day: number): number | undefined {
    const nextWorkday = this.firstWorkdayAtOrAfter(day + 1);
    if (this.weekMs === 0) return nextWorkday;
    const holiday = this.holidayContaining(day);
    let next = holiday ? holiday.end + 1 : day + 1;
    if (nextWorkday !== undefined && nextWorkday < next) next = nextWorkday;
    return next;
  }

  private isHoliday(day: number): boolean {
    return this.holidayContaining(day) !== undefined;
  }

  private holidayContaining(day: number): DayRange | undefined {
    const i = firstRangeEndingAtOrAfter(this.holidays, day);
    const r = this.holidays[i];
    return r && r.start <= day ? r : undefined;
  }

  private firstWorkdayAtOrAfter(day: number): number | undefined {
    let lo = 0;
    let hi = this.workdays.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.workdays[mid]! < day) lo = mid + 1;
      else hi = mid;
    }
    return this.workdays[lo];
  }

  private firstExceptionAtOrAfter(day: number): number | undefined {
    const h = this.holidays[firstRangeEndingAtOrAfter(this.holidays, day)];
    const holidayDay = h ? Math.max(h.start, day) : undefined;
    const workday = this.firstWorkdayAtOrAfter(day);
    if (holidayDay === undefined) return workday;
    if (workday === undefined) return holidayDay;
    return Math.min(holidayDay, workday);
  }

  private localDay(utcMs: number): number {
    return Math.floor(this.zone.toLocal(utcMs) / DAY_MS);
  }

  private toUtc(day: number, minute: number): number {
    return this.zone.toUtc(day * DAY_MS + minute * MINUTE_MS);
  }

  // ---- explanations ---------------------------------------------------------------------------

  private formatLocal(utcMs: number): string {
    const local = this.zone.toLocal(utcMs);
    const day = Math.floor(local / DAY_MS);
    return `${formatDay(day)} ${formatTimeOfDay(local - day * DAY_MS)}`;
  }

  /** Local time of `utcMs` relative to midnight of `day` (24:00 for the next midnight). */
  private timeOnDay(day: number, utcMs: number): string {
    return formatTimeOfDay(this.zone.toLocal(utcMs) - day * DAY_MS);
  }

  private describeTrace(trace: readonly TraceEvent[]): string[] {
    const lines: string[] = [];
    // Consecutive fully worked days with the same hours collapse into one line.
    let run: { firstDay: number; lastDay: number; hours: string; dayMs: number } | undefined;
    const flushRun = () => {
      if (!run) return;
      const count = run.lastDay - run.firstDay + 1;
      const total = count > 1 ? `${count} days × ${formatHours(run.dayMs)}` : formatHours(run.dayMs);
      lines.push(`${formatDayRange(run.firstDay, run.lastDay)} ${run.hours} ${this.timezone}: ${total}`);
      run = undefined;
    };
    const byDay = new Map<number, Extract<TraceEvent, { kind: 'work' }>[]>();
    const order: (TraceEvent | number)[] = [];
    for (const e of trace) {
      if (e.kind === 'break') continue;
      if (e.kind === 'work') {
        if (!byDay.has(e.day)) {
          byDay.set(e.day, []);
          order.push(e.day);
        }
        byDay.get(e.day)!.push(e);
      } else {
        const prev = order[order.length - 1];
        if (e.kind === 'skip' && typeof prev === 'object' && prev.kind === 'skip' && prev.reason === e.reason && prev.toDay + 1 === e.fromDay)
          order[order.length - 1] = { ...prev, toDay: e.toDay };
        else order.push(e);
      }
    }
    for (const item of order) {
      if (typeof item !== 'number') {
        flushRun();
        if (item.kind === 'skip')
          lines.push(`${formatDayRange(item.fromDay, item.toDay)} ${item.reason === 'holiday' ? `holiday skipped${this.namesIn(item.fromDay, item.toDay)}` : 'no working hours'}`);
        else if (item.kind === 'weeks') {
          const weeks = `${item.weeks} whole week${item.weeks === 1 ? '' : 's'}`;
          lines.push(`${formatDayRange(item.fromDay, item.fromDay + item.weeks * 7 - 1)}: ${weeks} × ${formatHours(this.weekMs)} = ${formatHours(item.ms)}`);
        }
        continue;
      }
      const day = item;
      const segments = byDay.get(day)!;
      const hours = segments.map((s) => `${this.timeOnDay(day, s.fromUtc)}–${this.timeOnDay(day, s.toUtc)}`).join(', ');
      const dayMs = segments.reduce((sum, s) => sum + s.toUtc - s.fromUtc, 0);
      const full = segments.every((s) => s.full) && segments.length === this.intervalsOn(day).length;
      // A make-up day gets a line of its own naming the holiday it belongs to: "2026-02-14 make-up workday (春节)".
      if (segments[0]!.makeup) {
        flushRun();
        lines.push(`${formatDay(day)} make-up workday${this.nameOf(day)}`);
      }
      const extras = segments.map(dstNote).filter(Boolean);
      if (full && extras.length === 0 && !segments[0]!.makeup) {
        if (run && run.lastDay === day - 1 && run.hours === hours) {
          run.lastDay = day;
          continue;
        }
        flushRun();
        run = { firstDay: day, lastDay: day, hours, dayMs };
        continue;
      }
      flushRun();
      lines.push(`${formatDay(day)} ${hours} ${this.timezone}: ${formatHours(dayMs)}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    }
    flushRun();
    return lines;
  }
}

/** Wall-clock time: every instant is working time. */
class AlwaysCalendar implements BusinessCalendar {
  readonly id = 'always';
  readonly timezone = 'UTC';
  add(fromMs: number, businessMs: number): number {
    if (businessMs < 0) throw new RangeError(`add() needs a non-negative duration, got ${businessMs} ms`);
    return fromMs + businessMs;
  }
  between(fromMs: number, toMs: number): number {
    return Math.max(0, toMs - fromMs);
  }
  explainAdd(fromMs: number, businessMs: number): string[] {
    const due = this.add(fromMs, businessMs);
    return [`${formatHours(businessMs)} of wall-clock time (calendar always)`, `due ${new Date(due).toISOString()}`];
  }
  explainNotes(): string[] {
    return [];
  }
  isWorkingAt(): boolean {
    return true;
  }
  addWorkingDays(fromMs: number, days: number): number {
    if (!Number.isInteger(days) || days < 0) throw new RangeError(`addWorkingDays() needs a whole number of days >= 0, got ${days}`);
    return fromMs + days * DAY_MS;
  }
  explainWorkingDays(fromMs: number, days: number): string[] {
    return [`${days} day${days === 1 ? '' : 's'} of wall-clock time (calendar always)`, `due ${new Date(this.addWorkingDays(fromMs, days)).toISOString()}`];
  }
}

export const ALWAYS: BusinessCalendar = new AlwaysCalendar();

/**
 * Compiles a calendar from config; throws on malformed entries (config validation catches them first).
 * A calendar with a `region` needs its official days, which config loading puts in `cfg.official`.
 */
export function compileCalendar(id: string, cfg: CalendarConfig): BusinessCalendar {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: cfg.timezone });
  } catch {
    throw new Error(`calendar "${id}": unknown time zone "${cfg.timezone}"`);
  }
  if (cfg.region !== undefined && cfg.official === undefined) throw new Error(`calendar "${id}": region ${cfg.region} given but its official days were not loaded`);
  return new CompiledCalendar(id, cfg, cfg.official);
}

/** A target as business ms for a clock starting at `startMs`: working days become the working time until their due instant. */
export function targetMs(calendar: BusinessCalendar, target: Target, startMs: number): number {
  if (target.kind === 'business') return target.ms;
  return calendar.between(startMs, calendar.addWorkingDays(startMs, target.days));
}

/** Every calendar of the config by id, plus `always`. */
export function calendarsFromConfig(cfg: { calendars: Record<string, CalendarConfig> }): Map<string, BusinessCalendar> {
  const map = new Map<string, BusinessCalendar>([['always', ALWAYS]]);
  for (const [id, c] of Object.entries(cfg.calendars)) map.set(id, compileCalendar(id, c));
  return map;
}

// ---- compiling config ---------------------------------------------------------------------------

/**
 * Weekly hours. A day takes its intervals from the most specific key naming it, so
 * `{ mon-fri: [...], fri: [...] }` gives Friday its own hours; keys of equal span are merged.
 */
function compileWeek(id: string, week: Record<string, string[]>): Interval[][] {
  const chosen: ({ span: number; intervals: Interval[] } | undefined)[] = new Array(7).fill(undefined);
  for (const [key, ranges] of Object.entries(week)) {
    const days = expandWeekKey(id, key);
    const intervals = ranges.map((r) => parseTimeRange(id, r));
    for (const d of days) {
      const current = chosen[d];
      if (!current || days.length < current.span) chosen[d] = { span: days.length, intervals: [...intervals] };
      else if (days.length === current.span) current.intervals.push(...intervals);
    }
  }
  return chosen.map((c) => mergeIntervals(c?.intervals ?? []));
}

/** `mon` → [0]; `mon-fri` → [0..4]; `fri-mon` wraps over the weekend. */
function expandWeekKey(id: string, key: string): number[] {
  const [a, b] = key.split('-');
  const first = WEEKDAY_KEYS.indexOf(a as (typeof WEEKDAY_KEYS)[number]);
  const last = b === undefined ? first : WEEKDAY_KEYS.indexOf(b as (typeof WEEKDAY_KEYS)[number]);
  if (first < 0 || last < 0) throw new Error(`calendar "${id}": bad week key "${key}"`);
  const days: number[] = [];
  for (let d = first; ; d = (d + 1) % 7) {
    days.push(d);
    if (d === last) break;
  }
  return days;
}

function parseTimeRange(id: string, text: string): Interval {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  const start = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  const end = m ? Number(m[3]) * 60 + Number(m[4]) : NaN;
  if (!(start >= 0 && end <= 1440 && start < end) || Number(m?.[2]) > 59 || Number(m?.[4]) > 59)
    throw new Error(`calendar "${id}": bad time range "${text}"`);
  return { start, end };
}

function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, iv.end) };
    else out.push(iv);
  }
  return out;
}

function compileHolidays(id: string, entries: string[]): DayRange[] {
  const ranges = entries.map((text) => {
    const [a, b] = text.split('..');
    const start = parseDayOrThrow(id, a!);
    const end = b === undefined ? start : parseDayOrThrow(id, b);
    if (end < start) throw new Error(`calendar "${id}": holiday range "${text}" ends before it starts`);
    return { start, end };
  });
  ranges.sort((x, y) => x.start - y.start);
  const merged: DayRange[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else merged.push(r);
  }
  return merged;
}

function parseDayOrThrow(id: string, text: string): number {
  const day = parseDay(text);
  if (day === undefined) throw new Error(`calendar "${id}": bad date "${text}"`);
  return day;
}

/** Index of the first range (sorted, disjoint) whose end is >= day; length if none. */
function firstRangeEndingAtOrAfter(ranges: readonly DayRange[], day: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.end < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The minute of day `minute`, moved into working time of a day with `intervals` (see addWorkingDays). */
function clampToWorking(intervals: readonly Interval[], minute: number): number {
  let best: number | undefined;
  for (const iv of intervals) {
    if (minute >= iv.start && minute <= iv.end) return minute;
    if (iv.end <= minute) best = iv.end;
  }
  return best ?? intervals[0]!.start;
}

function totalMinutes(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, iv) => sum + iv.end - iv.start, 0);
}

// ---- formatting -----------------------------------------------------------------------------------

/** Business time reads best in hours: 37h30m rather than 1d13h30m. */
export function formatHours(ms: number): string {
  if (ms === 0) return '0h';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / MINUTE_MS);
  const rest = ms % MINUTE_MS;
  const parts = [hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', rest ? (rest % 1000 ? `${rest}ms` : `${rest / 1000}s`) : ''];
  return parts.join('');
}

function formatTimeOfDay(msOfDay: number): string {
  const minutes = Math.floor(msOfDay / MINUTE_MS);
  const rest = msOfDay - minutes * MINUTE_MS;
  if (rest === 0) return formatMinutes(minutes);
  const seconds = rest / 1000;
  return `${formatMinutes(minutes)}:${String(Math.floor(seconds)).padStart(2, '0')}${Number.isInteger(seconds) ? '' : `.${String(rest % 1000).padStart(3, '0')}`}`;
}

/** `2026-10-01..07`, `2026-09-28..10-02`, `2026-12-28..2027-01-03`, or one date. */
export function formatDayRange(from: number, to: number): string {
  const a = formatDay(from);
  if (to <= from) return a;
  const b = formatDay(to);
  if (a.slice(0, 7) === b.slice(0, 7)) return `${a}..${b.slice(8)}`;
  if (a.slice(0, 4) === b.slice(0, 4)) return `${a}..${b.slice(5)}`;
  return `${a}..${b}`;
}

/** A break around midday is a lunch break; anything else is just a break. */
function breakLabel(b: { start: number; end: number }): string {
  return b.start >= 11 * 60 && b.start <= 14 * 60 ? 'lunch' : 'break';
}

function uniqueBreaks(trace: readonly TraceEvent[]): { start: number; end: number }[] {
  const seen = new Map<string, { start: number; end: number }>();
  for (const e of trace) if (e.kind === 'break') seen.set(`${e.start}-${e.end}`, { start: e.start, end: e.end });
  return [...seen.values()];
}

/** Set when a fully used interval's real length differs from its wall-clock length. */
function dstNote(e: { fromUtc: number; toUtc: number; interval: Interval; full: boolean }): string {
  if (!e.full) return '';
  const nominal = (e.interval.end - e.interval.start) * MINUTE_MS;
  const real = e.toUtc - e.fromUtc;
  return real === nominal ? '' : `DST change: ${formatMinutes(e.interval.start)}–${formatMinutes(e.interval.end)} lasts ${formatHours(real)}`;
}

function elide(lines: string[], max: number): string[] {
  if (lines.length <= max) return lines;
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  return [...lines.slice(0, head), `… ${lines.length - head - tail} more lines …`, ...lines.slice(lines.length - tail)];
}
