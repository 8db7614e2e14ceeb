import type { ClockKind } from './types';

/**
 * The desk's metrics, computed from facts the storage layer hands over (see semantics.md
 * "Metrics"). Pure: no database, no clock, no config reads. Durations are business time measured
 * on the calendar the ticket's SLA clock used (the clock row's `calendar_id`), or the holding
 * department's calendar when the ticket had no such clock.
 */

export const DAY_MS = 86_400_000;

/** Anything that measures business milliseconds between two instants (a BusinessCalendar does). */
export interface BusinessTimeMeasure {
  between(fromMs: number, toMs: number): number;
}

/** Wall-clock time, for the `always` calendar or an unknown one. */
export const WALL_CLOCK: BusinessTimeMeasure = { between: (a, b) => Math.max(0, b - a) };

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * Wraps a calendar so that a span costs a few array reads: for every UTC day touched, the working
 * time of each of its 24 hours is asked of the calendar once and kept as running totals; an hour
 * that is only partly working keeps its 60 minutes the same way, and only a minute that is partly
 * working (a calendar boundary off the minute) asks the calendar again. Correct because business
 * time is additive over adjacent spans, and a span inside a wholly working (or wholly idle) hour
 * or minute is all working (or none).
 */
export class CachedBusinessTime implements BusinessTimeMeasure {
  /** Per UTC day: working ms from midnight to the start of each hour (index 24 = the day's total). */
  private readonly days = new Map<number, Float64Array>();
  /** Per partly working hour (hours since the epoch): working ms from the hour to each minute. */
  private readonly hours = new Map<number, Float64Array>();

  constructor(private readonly calendar: BusinessTimeMeasure) {}

  between(fromMs: number, toMs: number): number {
    if (!(toMs > fromMs)) return 0;
    const firstDay = Math.floor(fromMs / DAY_MS);
    const lastDay = Math.floor(toMs / DAY_MS);
    if (firstDay === lastDay) return this.sinceMidnight(firstDay, toMs) - this.sinceMidnight(firstDay, fromMs);
    let total = this.dayProfile(firstDay)[24]! - this.sinceMidnight(firstDay, fromMs);
    for (let day = firstDay + 1; day < lastDay; day++) total += this.dayProfile(day)[24]!;
    return total + this.sinceMidnight(lastDay, toMs);
  }

  /** Working ms from the start of UTC day `day` to `ms` (an instant in that day). */
  private sinceMidnight(day: number, ms: number): number {
    const profile = this.dayProfile(day);
    const offset = ms - day * DAY_MS;
    const hour = Math.floor(offset / HOUR_MS);
    const before = profile[hour]!;
    const into = offset - hour * HOUR_MS;
    const worked = profile[hour + 1]! - before;
    if (into === 0 || worked === 0) return before;
    if (worked === HOUR_MS) return before + into;
    const hourStart = day * DAY_MS + hour * HOUR_MS;
    const minutes = this.hourProfile(day * 24 + hour, hourStart);
    const minute = Math.floor(into / MINUTE_MS);
    const intoMinute = into - minute * MINUTE_MS;
    const minuteWorked = minutes[minute + 1]! - minutes[minute]!;
    if (intoMinute === 0 || minuteWorked === 0) return before + minutes[minute]!;
    if (minuteWorked === MINUTE_MS) return before + minutes[minute]! + intoMinute;
    const minuteStart = hourStart + minute * MINUTE_MS;
    return before + minutes[minute]! + this.calendar.between(minuteStart, minuteStart + intoMinute);
  }

  private dayProfile(day: number): Float64Array {
    let profile = this.days.get(day);
    if (!profile) {
      profile = new Float64Array(25);
      const start = day * DAY_MS;
      const total = this.calendar.between(start, start + DAY_MS);
      for (let h = 0; h < 24; h++) {
        // A day with no working time (or only working time) needs no further questions.
        const worked = total === 0 ? 0 : total === DAY_MS ? HOUR_MS : this.calendar.between(start + h * HOUR_MS, start + (h + 1) * HOUR_MS);
        profile[h + 1] = profile[h]! + worked;
      }
      this.days.set(day, profile);
    }
    return profile;
  }

  private hourProfile(hour: number, hourStart: number): Float64Array {
    let profile = this.hours.get(hour);
    if (!profile) {
      profile = new Float64Array(61);
      for (let m = 0; m < 60; m++) profile[m + 1] = profile[m]! + this.calendar.between(hourStart + m * MINUTE_MS, hourStart + (m + 1) * MINUTE_MS);
      this.hours.set(hour, profile);
    }
    return profile;
  }
}

/** Business-time measures by calendar id; ids it does not know are measured in wall-clock time. */
export class CalendarMeasures {
  private readonly cached = new Map<string, BusinessTimeMeasure>();

  constructor(private readonly calendars: ReadonlyMap<string, BusinessTimeMeasure>) {}

  get(calendarId: string | null | undefined): BusinessTimeMeasure {
    const id = calendarId ?? 'always';
    let measure = this.cached.get(id);
    if (!measure) {
      const calendar = this.calendars.get(id);
      measure = calendar ? new CachedBusinessTime(calendar) : WALL_CLOCK;
      this.cached.set(id, measure);
    }
    return measure;
  }
}

// ---------------------------------------------------------------------------------------------
// Input facts

/** One ticket, projected to what the metrics need. Times are epoch milliseconds. */
export interface TicketFact {
  id: string;
  departmentId: string;
  categoryId: string;
  priority: string;
  assigneeId: string | null;
  state: string;
  createdAt: number;
  firstResponseAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  /** Public replies by agents (notes, claims and automatic messages do not count). */
  publicReplyCount: number;
  reopenCount: number;
  /**
   * Calendar of the first-response clock, or the department's when it had none. The loader looks
   * it up only when the first response is in the period (the only time it is used).
   */
  firstResponseCalendarId: string;
  /**
   * Calendar of the resolution clock, or the department's when it had none. Looked up only when
   * the ticket counts as resolved in the period.
   */
  resolutionCalendarId: string;
  /** The survey answer, when the requester gave one. Looked up only when it was closed in the period. */
  surveyScore: number | null;
}

/** Completed clock cycles, counted per kind and department (for legs: the leg's department). */
export interface ClockTally {
  kind: ClockKind | string;
  departmentId: string;
  /** Met and never breached. */
  onTime: number;
  /** Breached (sticky, whether met later or not). */
  late: number;
}

/** One leg opened in the period. */
export interface LegFact {
  id: string;
  ticketId: string;
  seq: number;
  departmentId: string;
  /** The department that handed it off; null for a ticket's first leg. */
  fromDepartmentId: string | null;
  openedAt: number;
  acceptedAt: number | null;
  closedAt: number | null;
  returned: boolean;
  returnReason: string | null;
  /** Calendar of the receiving department, for business durations. */
  calendarId: string;
}

export interface SurveyFact {
  ticketId: string;
  score: number;
  comment: string | null;
  answeredAt: number;
}

export interface MetricsInput {
  /** Half-open period [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  /** Backlog is measured at this instant (usually min(now, toMs)). */
  asOfMs: number;
  /**
   * Every ticket that was created, first answered, resolved or closed in the period, or open at
   * `asOfMs`; the functions below pick what each metric needs.
   */
  tickets: TicketFact[];
  clocks: ClockTally[];
  legs: LegFact[];
  surveys: SurveyFact[];
  /** Audit counts in the period: resolutions and reopenings. */
  resolvedEvents: number;
  reopenedEvents: number;
  /** Category path (level 1, 2, 3 ids) of each leaf category. */
  categoryPaths: ReadonlyMap<string, readonly string[]>;
  calendars: ReadonlyMap<string, BusinessTimeMeasure>;
  /** Zone for the per-day volume series. */
  timeZone: string;
}

// ---------------------------------------------------------------------------------------------
// Output

export interface DurationSummary {
  count: number;
  meanMs: number | null;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface Ratio {
  numerator: number;
  denominator: number;
  /** numerator ÷ denominator, null when nothing was counted. */
  rate: number | null;
}

export interface CategoryShare {
  categoryId: string;
  count: number;
  share: number;
}

export interface BacklogAgeBucket {
  /** Upper bound of the bucket's age in ms (Infinity for the last one). */
  maxAgeMs: number;
  count: number;
}

export interface DepartmentEfficiency {
  departmentId: string;
  legs: number;
  handoffsReceived: number;
  returned: number;
  acceptTime: DurationSummary;
  legDuration: DurationSummary;
  /** Leg accept + leg resolve clocks of legs in this department. */
  legOnTime: Ratio;
  /** Every clock kind attributed to this department. */
  onTime: Ratio;
}

export interface DepartmentFlow {
  fromDepartmentId: string;
  toDepartmentId: string;
  handoffs: number;
  returns: number;
  acceptTime: DurationSummary;
  /** Opened to closed (done or returned), over closed legs. */
  duration: DurationSummary;
}

export interface MetricsReport {
  fromMs: number;
  toMs: number;
  asOfMs: number;
  firstResponse: DurationSummary;
  resolution: DurationSummary;
  firstContactResolution: Ratio;
  onTime: Ratio & { byKind: Record<string, Ratio> };
  returns: Ratio & { reasons: { reason: string; count: number }[] };
  csat: {
    answers: number;
    satisfied: Ratio;
    meanScore: number | null;
    /** Surveys answered ÷ tickets closed in the period. */
    responseRate: Ratio;
  };
  volume: { created: number; resolved: number; closed: number; byDay: { day: string; created: number; resolved: number }[] };
  categories: { level1: CategoryShare[]; level2: CategoryShare[]; level3: CategoryShare[] };
  backlog: { open: number; meanAgeMs: number | null; oldestAgeMs: number | null; ages: BacklogAgeBucket[]; byDepartment: { departmentId: string; open: number }[] };
  reopen: Ratio;
  departments: DepartmentEfficiency[];
  flows: DepartmentFlow[];
}

/** Backlog age buckets: under 1 day, 1–3 days, 3–7 days, older. Wall-clock age (how long people wait). */
export const BACKLOG_AGE_LIMITS_MS = [DAY_MS, 3 * DAY_MS, 7 * DAY_MS, Infinity] as const;

// ---------------------------------------------------------------------------------------------
// Small statistics

/**
 * Mean, median (middle or mean of the two middle values) and p90 (nearest rank). The order
 * statistics are found by selection (O(n)) rather than by sorting: a month of a large desk has a
 * million durations. Durations are whole milliseconds, so the sum does not depend on the order.
 */
export function summarizeDurations(values: readonly number[]): DurationSummary {
  const n = values.length;
  if (n === 0) return { count: 0, meanMs: null, medianMs: null, p90Ms: null };
  const a = new Float64Array(values);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i]!;
  const p90Index = Math.min(n - 1, Math.max(0, Math.ceil(0.9 * n) - 1));
  const mid = n >> 1;
  // After select(k), a[k] is the k-th smallest and everything before it is no larger.
  select(a, p90Index, 0, n - 1);
  const p90 = a[p90Index]!;
  select(a, mid, 0, p90Index);
  let median = a[mid]!;
  if (n % 2 === 0) {
    let below = a[0]!;
    for (let i = 1; i < mid; i++) if (a[i]! > below) below = a[i]!;
    median = (below + median) / 2;
  }
  return { count: n, meanMs: sum / n, medianMs: median, p90Ms: p90 };
}

/** Quickselect (Hoare partition, median of three) of the k-th smallest of a[lo..hi] into a[k]. */
function select(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    if (hi - lo < 16) {
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= lo && a[j]! > v) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
      return;
    }
    const m = (lo + hi) >> 1;
    // Median of three as the pivot.
    if (a[m]! < a[lo]!) swap(a, m, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[m]!) swap(a, hi, m);
    const pivot = a[m]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // Now a[lo..j] <= pivot <= a[i..hi], and anything between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx]!;
}

export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, rate: denominator > 0 ? numerator / denominator : null };
}

function inPeriod(ms: number | null, fromMs: number, toMs: number): ms is number {
  return ms !== null && ms >= fromMs && ms < toMs;
}

/** Is the ticket open (neither resolved nor closed) at `atMs`? */
export function openAt(t: Pick<TicketFact, 'createdAt' | 'resolvedAt' | 'closedAt'>, atMs: number): boolean {
  return t.createdAt <= atMs && (t.resolvedAt === null || t.resolvedAt > atMs) && (t.closedAt === null || t.closedAt > atMs);
}

/** Calendar day (YYYY-MM-DD) of an instant in a zone; remembered per hour because Intl is slow. */
export function dayKeyer(timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const byHour = new Map<number, string>();
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    let day = byHour.get(hour);
    if (day === undefined) {
      day = format.format(new Date(hour * 3_600_000));
      byHour.set(hour, day);
    }
    return day;
  };
}

// ---------------------------------------------------------------------------------------------
// The report: facts are first tallied (counts, sums and the duration values, in any order), then
// the tally is turned into the report. The rollup (src/reports/rollup.ts) builds the same tally
// from stored cells, so both paths share every line that makes a figure.

interface DurationsAcc { accept: number[]; duration: number[] }

/** Everything a report is made of, before sorting and dividing. Order of additions never matters. */
export interface MetricsTally {
  fromMs: number;
  toMs: number;
  asOfMs: number;
  timeZone: string;
  categoryPaths: ReadonlyMap<string, readonly string[]>;
  /** Tickets created in the period, per leaf category and per report day. */
  createdByCategory: Map<string, number>;
  createdByDay: Map<string, number>;
  /** Tickets resolved in the period (and not reopened since), per report day. */
  resolvedByDay: Map<string, number>;
  firstResponses: number[];
  resolutions: number[];
  resolved: number;
  firstContact: number;
  closed: number;
  closedWithSurvey: number;
  clocks: ClockTally[];
  /** Distinct tickets with a handoff leg opened in the period, and those of them with a returned leg. */
  handedOffTickets: number;
  returnedTickets: number;
  returnReasons: Map<string, number>;
  surveyAnswers: number;
  surveySatisfied: number;
  surveyScoreSum: number;
  /** Backlog at asOfMs. */
  open: number;
  openAgeSum: number;
  openOldest: number;
  openAges: number[];
  openByDepartment: Map<string, number>;
  resolvedEvents: number;
  reopenedEvents: number;
  /** Legs opened in the period per receiving department. */
  legsByDepartment: Map<string, { legs: number; handoffs: number; returned: number } & DurationsAcc>;
  /** Handoff legs opened in the period per (from, to). */
  flows: Map<string, { from: string; to: string; handoffs: number; returns: number } & DurationsAcc>;
}

export function emptyTally(p: { fromMs: number; toMs: number; asOfMs: number; timeZone: string; categoryPaths: ReadonlyMap<string, readonly string[]> }): MetricsTally {
  return {
    ...p,
    createdByCategory: new Map(),
    createdByDay: new Map(),
    resolvedByDay: new Map(),
    firstResponses: [],
    resolutions: [],
    resolved: 0,
    firstContact: 0,
    closed: 0,
    closedWithSurvey: 0,
    clocks: [],
    handedOffTickets: 0,
    returnedTickets: 0,
    returnReasons: new Map(),
    surveyAnswers: 0,
    surveySatisfied: 0,
    surveyScoreSum: 0,
    open: 0,
    openAgeSum: 0,
    openOldest: 0,
    openAges: BACKLOG_AGE_LIMITS_MS.map(() => 0),
    openByDepartment: new Map(),
    resolvedEvents: 0,
    reopenedEvents: 0,
    legsByDepartment: new Map(),
    flows: new Map(),
  };
}

export const addTo = (m: Map<string, number>, key: string, n: number): void => {
  m.set(key, (m.get(key) ?? 0) + n);
};

export function legAcc(tally: MetricsTally, departmentId: string) {
  let a = tally.legsByDepartment.get(departmentId);
  if (!a) {
    a = { legs: 0, handoffs: 0, returned: 0, accept: [], duration: [] };
    tally.legsByDepartment.set(departmentId, a);
  }
  return a;
}

export function flowAcc(tally: MetricsTally, from: string, to: string) {
  const key = `${from}\u0000${to}`;
  let a = tally.flows.get(key);
  if (!a) {
    a = { from, to, handoffs: 0, returns: 0, accept: [], duration: [] };
    tally.flows.set(key, a);
  }
  return a;
}

/** Tallies raw facts (the row path). */
export function tallyFacts(input: MetricsInput): MetricsTally {
  const { fromMs, toMs, asOfMs } = input;
  const measures = new CalendarMeasures(input.calendars);
  const tally = emptyTally({ fromMs, toMs, asOfMs, timeZone: input.timeZone, categoryPaths: input.categoryPaths });
  const dayOf = dayKeyer(input.timeZone);

  for (const t of input.tickets) {
    if (inPeriod(t.createdAt, fromMs, toMs)) {
      addTo(tally.createdByCategory, t.categoryId, 1);
      addTo(tally.createdByDay, dayOf(t.createdAt), 1);
    }
    if (inPeriod(t.firstResponseAt, fromMs, toMs)) {
      tally.firstResponses.push(measures.get(t.firstResponseCalendarId).between(t.createdAt, t.firstResponseAt));
    }
    // "Resolved in the period" means its last resolution is in the period and it was not reopened since.
    if (inPeriod(t.resolvedAt, fromMs, toMs) && (t.state === 'resolved' || t.state === 'closed')) {
      tally.resolved++;
      addTo(tally.resolvedByDay, dayOf(t.resolvedAt), 1);
      tally.resolutions.push(measures.get(t.resolutionCalendarId).between(t.createdAt, t.resolvedAt));
      if (t.publicReplyCount === 1 && t.reopenCount === 0) tally.firstContact++;
    }
    if (inPeriod(t.closedAt, fromMs, toMs)) {
      tally.closed++;
      if (t.surveyScore !== null) tally.closedWithSurvey++;
    }
    if (openAt(t, asOfMs)) {
      const age = asOfMs - t.createdAt;
      tally.open++;
      tally.openAgeSum += age;
      tally.openOldest = Math.max(tally.openOldest, age);
      tally.openAges[BACKLOG_AGE_LIMITS_MS.findIndex((limit) => age < limit)]!++;
      addTo(tally.openByDepartment, t.departmentId, 1);
    }
  }
  tally.clocks = [...input.clocks];

  // Tickets with at least one handoff in the period, and how many of them had a leg returned.
  const handedOff = new Set<string>();
  const returned = new Set<string>();
  for (const leg of input.legs) {
    const measure = measures.get(leg.calendarId);
    const accept = leg.acceptedAt !== null ? measure.between(leg.openedAt, leg.acceptedAt) : null;
    const duration = leg.closedAt !== null ? measure.between(leg.openedAt, leg.closedAt) : null;
    const a = legAcc(tally, leg.departmentId);
    a.legs++;
    if (leg.fromDepartmentId !== null) a.handoffs++;
    if (leg.returned) a.returned++;
    if (accept !== null) a.accept.push(accept);
    if (duration !== null) a.duration.push(duration);
    if (leg.fromDepartmentId === null) continue;
    handedOff.add(leg.ticketId);
    const f = flowAcc(tally, leg.fromDepartmentId, leg.departmentId);
    f.handoffs++;
    if (leg.returned) {
      f.returns++;
      returned.add(leg.ticketId);
      addTo(tally.returnReasons, leg.returnReason ?? '', 1);
    }
    if (accept !== null) f.accept.push(accept);
    if (duration !== null) f.duration.push(duration);
  }
  tally.handedOffTickets = handedOff.size;
  tally.returnedTickets = returned.size;

  // One answer per ticket: the table's key guarantees it, the set guards against joined duplicates.
  const seen = new Set<string>();
  for (const s of input.surveys) {
    if (seen.has(s.ticketId)) continue;
    seen.add(s.ticketId);
    tally.surveyAnswers++;
    tally.surveyScoreSum += s.score;
    if (s.score >= 4) tally.surveySatisfied++;
  }
  tally.resolvedEvents = input.resolvedEvents;
  tally.reopenedEvents = input.reopenedEvents;
  return tally;
}

export function computeMetrics(input: MetricsInput): MetricsReport {
  return finalizeMetrics(tallyFacts(input));
}

/** Turns a tally into the report: every sort, median and division happens here. */
export function finalizeMetrics(t: MetricsTally): MetricsReport {
  let created = 0;
  for (const n of t.createdByCategory.values()) created += n;
  return {
    fromMs: t.fromMs,
    toMs: t.toMs,
    asOfMs: t.asOfMs,
    firstResponse: summarizeDurations(t.firstResponses),
    resolution: summarizeDurations(t.resolutions),
    firstContactResolution: ratio(t.firstContact, t.resolved),
    onTime: onTimeOf(t.clocks),
    returns: {
      ...ratio(t.returnedTickets, t.handedOffTickets),
      reasons: [...t.returnReasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    },
    csat: {
      answers: t.surveyAnswers,
      satisfied: ratio(t.surveySatisfied, t.surveyAnswers),
      meanScore: t.surveyAnswers > 0 ? t.surveyScoreSum / t.surveyAnswers : null,
      responseRate: ratio(t.closedWithSurvey, t.closed),
    },
    volume: { created, resolved: t.resolved, closed: t.closed, byDay: volumeByDay(t) },
    categories: categorySharesOf(t.createdByCategory, created, t.categoryPaths),
    backlog: {
      open: t.open,
      meanAgeMs: t.open ? t.openAgeSum / t.open : null,
      oldestAgeMs: t.open ? t.openOldest : null,
      ages: BACKLOG_AGE_LIMITS_MS.map((maxAgeMs, i) => ({ maxAgeMs, count: t.openAges[i]! })),
      byDepartment: [...t.openByDepartment].map(([departmentId, n]) => ({ departmentId, open: n })).sort((a, b) => b.open - a.open || a.departmentId.localeCompare(b.departmentId)),
    },
    reopen: ratio(t.reopenedEvents, t.resolvedEvents),
    departments: departmentEfficiency(t),
    flows: [...t.flows.values()]
      .filter((a) => a.handoffs > 0)
      .map((a) => ({ fromDepartmentId: a.from, toDepartmentId: a.to, handoffs: a.handoffs, returns: a.returns, acceptTime: summarizeDurations(a.accept), duration: summarizeDurations(a.duration) }))
      .sort((a, b) => b.handoffs - a.handoffs || a.fromDepartmentId.localeCompare(b.fromDepartmentId) || a.toDepartmentId.localeCompare(b.toDepartmentId)),
  };
}

function onTimeOf(clocks: readonly ClockTally[]): MetricsReport['onTime'] {
  const byKind: Record<string, Ratio> = {};
  const sums = new Map<string, { onTime: number; late: number }>();
  let onTime = 0;
  let late = 0;
  for (const c of clocks) {
    const s = sums.get(c.kind) ?? { onTime: 0, late: 0 };
    s.onTime += c.onTime;
    s.late += c.late;
    sums.set(c.kind, s);
    onTime += c.onTime;
    late += c.late;
  }
  for (const [kind, s] of [...sums].sort(([a], [b]) => a.localeCompare(b))) byKind[kind] = ratio(s.onTime, s.onTime + s.late);
  return { ...ratio(onTime, onTime + late), byKind };
}

function volumeByDay(t: MetricsTally): MetricsReport['volume']['byDay'] {
  const dayOf = dayKeyer(t.timeZone);
  // Every day of the period appears, so a chart shows quiet days as zero rather than skipping them.
  const days = new Map<string, { created: number; resolved: number }>();
  for (let ms = t.fromMs; ms < t.toMs; ms += HOUR_MS) {
    const day = dayOf(ms);
    if (!days.has(day)) days.set(day, { created: 0, resolved: 0 });
  }
  const bucket = (day: string) => {
    let b = days.get(day);
    if (!b) {
      b = { created: 0, resolved: 0 };
      days.set(day, b);
    }
    return b;
  };
  for (const [day, n] of t.createdByDay) bucket(day).created += n;
  for (const [day, n] of t.resolvedByDay) bucket(day).resolved += n;
  return [...days].map(([day, v]) => ({ day, ...v }));
}

function categorySharesOf(byCategory: ReadonlyMap<string, number>, total: number, paths: ReadonlyMap<string, readonly string[]>): MetricsReport['categories'] {
  const levels = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  for (const [categoryId, count] of byCategory) {
    if (count === 0) continue;
    const path = paths.get(categoryId) ?? [categoryId];
    path.slice(0, 3).forEach((id, level) => levels[level]!.set(id, (levels[level]!.get(id) ?? 0) + count));
  }
  const shares = (m: Map<string, number>): CategoryShare[] =>
    [...m].map(([categoryId, count]) => ({ categoryId, count, share: total > 0 ? count / total : 0 })).sort((a, b) => b.count - a.count || a.categoryId.localeCompare(b.categoryId));
  return { level1: shares(levels[0]!), level2: shares(levels[1]!), level3: shares(levels[2]!) };
}

const LEG_CLOCKS = new Set(['leg_accept', 'leg_resolve']);

function departmentEfficiency(t: MetricsTally): DepartmentEfficiency[] {
  interface Acc { legs: number; handoffs: number; returned: number; accept: number[]; duration: number[]; legOnTime: number; legLate: number; onTime: number; late: number }
  const acc = new Map<string, Acc>();
  const get = (id: string): Acc => {
    let a = acc.get(id);
    if (!a) {
      a = { legs: 0, handoffs: 0, returned: 0, accept: [], duration: [], legOnTime: 0, legLate: 0, onTime: 0, late: 0 };
      acc.set(id, a);
    }
    return a;
  };
  for (const [departmentId, l] of t.legsByDepartment) {
    if (l.legs === 0) continue;
    const a = get(departmentId);
    a.legs += l.legs;
    a.handoffs += l.handoffs;
    a.returned += l.returned;
    for (const v of l.accept) a.accept.push(v);
    for (const v of l.duration) a.duration.push(v);
  }
  for (const c of t.clocks) {
    const a = get(c.departmentId);
    a.onTime += c.onTime;
    a.late += c.late;
    if (LEG_CLOCKS.has(c.kind)) {
      a.legOnTime += c.onTime;
      a.legLate += c.late;
    }
  }
  return [...acc]
    .map(([departmentId, a]) => ({
      departmentId,
      legs: a.legs,
      handoffsReceived: a.handoffs,
      returned: a.returned,
      acceptTime: summarizeDurations(a.accept),
      legDuration: summarizeDurations(a.duration),
      legOnTime: ratio(a.legOnTime, a.legOnTime + a.legLate),
      onTime: ratio(a.onTime, a.onTime + a.late),
    }))
    .sort((a, b) => a.departmentId.localeCompare(b.departmentId));
}

// ---------------------------------------------------------------------------------------------
// The six headline figures, for chat, digest and dashboard

export const HEADLINE_METRICS = ['first_response', 'resolution', 'first_contact_resolution', 'on_time', 'return_rate', 'csat'] as const;
export type HeadlineMetric = (typeof HEADLINE_METRICS)[number];

export interface HeadlineFigure {
  metric: HeadlineMetric;
  /** ms for durations, 0..1 for rates; null when there was nothing to measure. */
  value: number | null;
  kind: 'duration' | 'rate';
  /** Is a higher value better? (Used to colour a trend.) */
  higherIsBetter: boolean;
  /** How many items the figure is based on. */
  basis: number;
}

export function headlineFigures(r: MetricsReport): HeadlineFigure[] {
  return [
    { metric: 'first_response', value: r.firstResponse.meanMs, kind: 'duration', higherIsBetter: false, basis: r.firstResponse.count },
    { metric: 'resolution', value: r.resolution.meanMs, kind: 'duration', higherIsBetter: false, basis: r.resolution.count },
    { metric: 'first_contact_resolution', value: r.firstContactResolution.rate, kind: 'rate', higherIsBetter: true, basis: r.firstContactResolution.denominator },
    { metric: 'on_time', value: r.onTime.rate, kind: 'rate', higherIsBetter: true, basis: r.onTime.denominator },
    { metric: 'return_rate', value: r.returns.rate, kind: 'rate', higherIsBetter: false, basis: r.returns.denominator },
    { metric: 'csat', value: r.csat.satisfied.rate, kind: 'rate', higherIsBetter: true, basis: r.csat.answers },
  ];
}

export type Trend = 'up' | 'down' | 'flat' | 'none';

/** Direction of change against the previous value; changes under 2% (relative) or 0.5 points count as flat. */
export function trendOf(current: number | null, previous: number | null, kind: 'duration' | 'rate'): Trend {
  if (current === null || previous === null) return 'none';
  const diff = current - previous;
  const flat = kind === 'rate' ? Math.abs(diff) < 0.005 : Math.abs(diff) <= Math.abs(previous) * 0.02;
  if (flat) return 'flat';
  return diff > 0 ? 'up' : 'down';
}
