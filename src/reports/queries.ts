import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { Config } from '../config/model';
import type { BusinessCalendar } from '../domain/calendar';
import {
  BACKLOG_AGE_LIMITS_MS,
  addTo,
  computeMetrics,
  dayKeyer,
  emptyTally,
  finalizeMetrics,
  type MetricsTally,
  type BusinessTimeMeasure,
  type ClockTally,
  type LegFact,
  type MetricsInput,
  type MetricsReport,
  type SurveyFact,
  type TicketFact,
} from '../domain/metrics';
import { PostgresAdapter } from 'kysely';
import type { DbOrTx } from '../storage/database';
import { rollupCurrent, tallyCells, tallyPartsOfDays, tallyTicketsInRanges, type InstantRange, type PartOfDay } from './rollup';
import type { Database } from '../storage/tables';

/**
 * The SQL behind the metrics: each query fetches a narrow projection of the rows a metric needs,
 * filtered in the database, and the pure functions in domain/metrics do the arithmetic. The SQL is
 * plain enough to run unchanged on SQLite and PostgreSQL: timestamps are ISO-8601 UTC text, so a
 * period is a pair of string comparisons.
 */

/** What to measure. Periods are half-open [from, to). */
export interface ReportFilter {
  fromMs: number;
  toMs: number;
  /** Backlog instant; defaults to min(toMs, now). */
  asOfMs?: number | undefined;
  /** Limit to tickets held by these departments (and legs in or from them). Undefined: all. */
  departmentIds?: readonly string[] | undefined;
  /** A category at any level: its leaves are included. */
  categoryId?: string | undefined;
  priority?: string | undefined;
  /** users.id of an assignee. */
  agentId?: string | undefined;
}

/** What the queries need from the application: the database, the config and the calendars. */
export interface ReportSource {
  db: DbOrTx;
  config: Config;
  calendars: ReadonlyMap<string, BusinessCalendar | BusinessTimeMeasure>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const OPEN_STATES = ['new', 'assigned', 'in_progress', 'waiting_on_requester'];
const toMs = (text: string | null): number | null => (text === null ? null : parseInstant(text));

/** Value of `length` decimal digits at `at`, or -1 when any is not a digit. */
function digitsAt(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Date.parse, fast for the form the storage writes (toISOString: YYYY-MM-DDTHH:MM:SS.sssZ):
 * Date.parse costs ~200 ns, and a 30-day report parses a million timestamps. Days after the 28th
 * and anything unusual go to Date.parse itself, so the result is always Date.parse's.
 */
export function parseInstant(text: string): number {
  if (
    text.length === 24 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(10) === 84 && text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58 && text.charCodeAt(19) === 46 && text.charCodeAt(23) === 90
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hour = digitsAt(text, 11, 2);
    const minute = digitsAt(text, 14, 2);
    const second = digitsAt(text, 17, 2);
    const ms = digitsAt(text, 20, 3);
    if (year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && ms >= 0) {
      // Days from 1970-01-01 to the date (proleptic Gregorian, as Date.UTC counts them).
      const y = month <= 2 ? year - 1 : year;
      const era = Math.floor(y / 400);
      const yearOfEra = y - era * 400;
      const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
      const days = era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
      return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms;
    }
  }
  return Date.parse(text);
}

/** Leaf category ids under a category at any level (the category itself when it is a leaf). */
export function leavesUnder(config: Config, categoryId: string): string[] {
  return [...config.leaves.values()].filter((leaf) => leaf.path.some((node) => node.id === categoryId)).map((leaf) => leaf.id);
}

/** Level 1/2/3 ids of every leaf category. */
export function categoryPaths(config: Config): Map<string, string[]> {
  return new Map([...config.leaves.values()].map((leaf) => [leaf.id, leaf.path.map((n) => n.id)]));
}

type TicketScope = ExpressionBuilder<Database & { t: Database['tickets'] }, 't'>;

/**
 * Conditions on the ticket (alias `t`) from the filter; returns false when the filter can match
 * nothing (an unknown category), so callers skip the query.
 */
function ticketConditions(config: Config, filter: ReportFilter, options: { department: boolean }) {
  const leaves = filter.categoryId !== undefined ? leavesUnder(config, filter.categoryId) : undefined;
  if (leaves && leaves.length === 0) return false as const;
  if (options.department && filter.departmentIds && filter.departmentIds.length === 0) return false as const;
  return (eb: TicketScope) => {
    const parts = [];
    if (options.department && filter.departmentIds) parts.push(eb('t.department_id', 'in', [...filter.departmentIds]));
    if (leaves) parts.push(eb('t.category_id', 'in', leaves));
    if (filter.priority !== undefined) parts.push(eb('t.priority', '=', filter.priority));
    if (filter.agentId !== undefined) parts.push(eb('t.assignee_id', '=', filter.agentId));
    return eb.and(parts);
  };
}

function departmentCalendar(config: Config, departmentId: string): string {
  return config.departments.get(departmentId)?.calendar ?? 'always';
}

/**
 * Tickets that can matter to a period: touched in it, open now, or ended after asOf (so possibly
 * open then). Every clock that completes in the period and every resolve/reopen event in it
 * belongs to such a ticket (a ticket is open while its clocks run). Each branch has an index;
 * computeMetrics applies the exact condition per metric.
 */
function activeInPeriod(eb: TicketScope, from: string, to: string, asOf: string) {
  return eb.or([
    eb.and([eb('t.created_at', '>=', from), eb('t.created_at', '<', to)]),
    eb.and([eb('t.first_response_at', '>=', from), eb('t.first_response_at', '<', to)]),
    eb.and([eb('t.resolved_at', '>=', from), eb('t.resolved_at', '<', to)]),
    eb.and([eb('t.closed_at', '>=', from), eb('t.closed_at', '<', to)]),
    eb('t.state', 'in', OPEN_STATES),
    eb('t.resolved_at', '>=', asOf),
    eb('t.closed_at', '>=', asOf),
  ]);
}

export interface TicketFacts {
  tickets: TicketFact[];
  /** Resolutions and reopenings recorded in the audit log in the period. */
  resolvedEvents: number;
  reopenedEvents: number;
}

/** Tickets created, first answered, resolved or closed in the period, or open at asOf, with their audit counts. */
export async function loadTicketFacts(src: ReportSource, filter: ReportFilter, asOfMs: number): Promise<TicketFacts> {
  const where = ticketConditions(src.config, filter, { department: true });
  if (where === false) return { tickets: [], resolvedEvents: 0, reopenedEvents: 0 };
  const from = iso(filter.fromMs);
  const to = iso(filter.toMs);
  const asOf = iso(asOfMs);
  const inPeriod = (column: string) => sql`(${sql.ref(column)} >= ${from} and ${sql.ref(column)} < ${to})`;
  // The look-ups run only for the tickets whose metric needs them (CASE evaluates lazily): the
  // first-response calendar when the first answer is in the period, the resolution calendar when
  // the ticket counts as resolved in it, the survey when it was closed in it. (The row path is the
  // tests' oracle since migration 015 dropped its covering indexes; it reads every ticket.)
  const rows = await src.db
    .selectFrom('tickets as t')
    .select([
      't.id', 't.department_id', 't.category_id', 't.priority', 't.assignee_id', 't.state', 't.created_at', 't.first_response_at',
      't.resolved_at', 't.closed_at', 't.public_reply_count', 't.reopen_count',
      sql<string | null>`case when ${inPeriod('t.first_response_at')} then (select min(c.calendar_id) from clocks c where c.ticket_id = t.id and c.kind = 'first_response') end`.as('frt_calendar'),
      sql<string | null>`case when ${inPeriod('t.resolved_at')} and t.state in ('resolved', 'closed') then (select min(c.calendar_id) from clocks c where c.ticket_id = t.id and c.kind = 'resolution') end`.as('resolution_calendar'),
      sql<number | null>`case when ${inPeriod('t.closed_at')} then (select s.score from surveys s where s.ticket_id = t.id) end`.as('survey_score'),
      sql<number>`(select count(*) from audit_events a where a.ticket_id = t.id and a.action = 'resolved' and a.at >= ${from} and a.at < ${to})`.as('resolved_events'),
      sql<number>`(select count(*) from audit_events a where a.ticket_id = t.id and a.action = 'reopened' and a.at >= ${from} and a.at < ${to})`.as('reopened_events'),
    ])
    .where(where)
    .where((eb) => activeInPeriod(eb, from, to, asOf))
    .orderBy('t.id')
    .execute();
  let resolvedEvents = 0;
  let reopenedEvents = 0;
  const tickets = rows.map((r): TicketFact => {
    resolvedEvents += Number(r.resolved_events);
    reopenedEvents += Number(r.reopened_events);
    const deptCalendar = departmentCalendar(src.config, r.department_id);
    return {
      id: r.id,
      departmentId: r.department_id,
      categoryId: r.category_id,
      priority: r.priority,
      assigneeId: r.assignee_id,
      state: r.state,
      createdAt: parseInstant(r.created_at),
      firstResponseAt: toMs(r.first_response_at),
      resolvedAt: toMs(r.resolved_at),
      closedAt: toMs(r.closed_at),
      publicReplyCount: Number(r.public_reply_count),
      reopenCount: Number(r.reopen_count),
      firstResponseCalendarId: r.frt_calendar ?? deptCalendar,
      resolutionCalendarId: r.resolution_calendar ?? deptCalendar,
      surveyScore: r.survey_score === null ? null : Number(r.survey_score),
    };
  });
  return { tickets, resolvedEvents, reopenedEvents };
}

/**
 * Clock cycles completed in the period (met, or breached — a breach is sticky), tallied per kind
 * and department: the leg's department for leg clocks, the ticket's for the others.
 *
 * Two queries, one per attribution: the clocks of the tickets, and the leg clocks completed in
 * the period. A clock whose leg row is missing counts for its ticket, as before. (Row path: the
 * tests' oracle.)
 */
export async function loadClockTallies(src: ReportSource, filter: ReportFilter, asOfMs: number): Promise<ClockTally[]> {
  const where = ticketConditions(src.config, filter, { department: false });
  if (where === false) return [];
  if (filter.departmentIds && filter.departmentIds.length === 0) return [];
  const from = iso(filter.fromMs);
  const to = iso(filter.toMs);
  const asOf = iso(asOfMs);
  const departmentIds = filter.departmentIds ? [...filter.departmentIds] : undefined;
  const tallies = [
    sql<number>`sum(case when c.met_at is not null and c.breached_at is null then 1 else 0 end)`.as('on_time'),
    sql<number>`sum(case when c.breached_at is not null then 1 else 0 end)`.as('late'),
  ];
  // A cycle completes when it is breached, or met without a breach.
  const completed = sql<boolean>`((c.breached_at >= ${from} and c.breached_at < ${to}) or (c.met_at >= ${from} and c.met_at < ${to} and c.breached_at is null))`;

  // Clocks that count for the ticket's department: no leg, or a leg that is not there.
  let ticketClocks = src.db
    .selectFrom('tickets as t')
    .crossJoin('clocks as c') // CROSS JOIN: SQLite keeps tickets as the outer loop.
    .leftJoin('legs as l', 'l.id', 'c.leg_id')
    .select(['c.kind', 't.department_id', ...tallies])
    .whereRef('c.ticket_id', '=', 't.id')
    .where('l.id', 'is', null)
    .where(where as never)
    .where((eb) => activeInPeriod(eb as never, from, to, asOf))
    .where(completed);
  if (departmentIds) ticketClocks = ticketClocks.where('t.department_id', 'in', departmentIds);

  // Leg clocks count for the leg's department.
  let legClocks = src.db
    .selectFrom('clocks as c')
    .innerJoin('legs as l', 'l.id', 'c.leg_id')
    .innerJoin('tickets as t', 't.id', 'c.ticket_id')
    .select(['c.kind', 'l.department_id', ...tallies])
    .where('c.leg_id', 'is not', null)
    .where(where as never)
    .where((eb) => activeInPeriod(eb as never, from, to, asOf))
    .where((eb) =>
      eb.or([
        eb.and([eb('c.breached_at', '>=', from), eb('c.breached_at', '<', to)]),
        eb.and([eb('c.met_at', '>=', from), eb('c.met_at', '<', to), eb('c.breached_at', 'is', null)]),
      ]),
    );
  if (departmentIds) legClocks = legClocks.where('l.department_id', 'in', departmentIds);

  const [byTicket, byLeg] = await Promise.all([
    ticketClocks.groupBy(['c.kind', 't.department_id']).execute(),
    legClocks.groupBy(['c.kind', 'l.department_id']).execute(),
  ]);
  const sums = new Map<string, ClockTally>();
  for (const r of [...byTicket, ...byLeg]) {
    const key = `${r.kind}\u0000${r.department_id}`;
    const tally = sums.get(key) ?? { kind: r.kind, departmentId: r.department_id, onTime: 0, late: 0 };
    tally.onTime += Number(r.on_time);
    tally.late += Number(r.late);
    sums.set(key, tally);
  }
  return [...sums.values()];
}

/** Legs opened in the period, in or out of the departments in scope. */
export async function loadLegFacts(src: ReportSource, filter: ReportFilter): Promise<LegFact[]> {
  const where = ticketConditions(src.config, filter, { department: false });
  if (where === false) return [];
  let query = src.db
    .selectFrom('legs as l')
    .innerJoin('tickets as t', 't.id', 'l.ticket_id')
    .select(['l.id', 'l.ticket_id', 'l.seq', 'l.department_id', 'l.from_department_id', 'l.state', 'l.return_reason', 'l.opened_at', 'l.accepted_at', 'l.closed_at'])
    .where(where as never)
    .where('l.opened_at', '>=', iso(filter.fromMs))
    .where('l.opened_at', '<', iso(filter.toMs));
  if (filter.departmentIds) {
    if (filter.departmentIds.length === 0) return [];
    const ids = [...filter.departmentIds];
    query = query.where((eb) => eb.or([eb('l.department_id', 'in', ids), eb('l.from_department_id', 'in', ids)]));
  }
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    ticketId: r.ticket_id,
    seq: Number(r.seq),
    departmentId: r.department_id,
    fromDepartmentId: r.from_department_id,
    openedAt: parseInstant(r.opened_at),
    acceptedAt: toMs(r.accepted_at),
    closedAt: toMs(r.closed_at),
    returned: r.state === 'returned' || r.return_reason !== null,
    returnReason: r.return_reason,
    calendarId: departmentCalendar(src.config, r.department_id),
  }));
}

export async function loadSurveyFacts(src: ReportSource, filter: ReportFilter): Promise<(SurveyFact & { departmentId: string; ticketKey: string; categoryId: string })[]> {
  const where = ticketConditions(src.config, filter, { department: true });
  if (where === false) return [];
  const rows = await src.db
    .selectFrom('surveys as s')
    .innerJoin('tickets as t', 't.id', 's.ticket_id')
    .select(['s.ticket_id', 's.score', 's.comment', 's.answered_at', 't.department_id', 't.key', 't.category_id'])
    .where(where as never)
    .where('s.answered_at', '>=', iso(filter.fromMs))
    .where('s.answered_at', '<', iso(filter.toMs))
    .orderBy('s.answered_at', 'desc')
    .execute();
  return rows.map((r) => ({
    ticketId: r.ticket_id,
    score: Number(r.score),
    comment: r.comment,
    answeredAt: parseInstant(r.answered_at),
    departmentId: r.department_id,
    ticketKey: r.key,
    categoryId: r.category_id,
  }));
}

/** Loads everything a report needs and computes it. */
export async function loadMetricsInput(src: ReportSource, filter: ReportFilter, nowMs: number): Promise<MetricsInput> {
  const asOfMs = filter.asOfMs ?? Math.min(filter.toMs, nowMs);
  const [facts, clocks, legs, surveys] = await Promise.all([
    loadTicketFacts(src, filter, asOfMs),
    loadClockTallies(src, filter, asOfMs),
    loadLegFacts(src, filter),
    loadSurveyFacts(src, filter),
  ]);
  return {
    fromMs: filter.fromMs,
    toMs: filter.toMs,
    asOfMs,
    tickets: facts.tickets,
    clocks,
    legs,
    surveys,
    resolvedEvents: facts.resolvedEvents,
    reopenedEvents: facts.reopenedEvents,
    categoryPaths: categoryPaths(src.config),
    calendars: src.calendars,
    timeZone: reportTimeZone(src.config),
  };
}

/**
 * The report, from the rollup whatever the period: the whole report days inside it are added up
 * from the cells (reports/rollup.ts); the parts of days at its edges (a "last 7 days" counted back
 * from now) from the stored contributions of the few tickets with something in those parts, found
 * through the small indexes on each instant, or from that day's cells less the rest of the day
 * when the rest has fewer (tallyPartsOfDays); the backlog and the distinct handed-off tickets are SQL
 * aggregates. The cost grows with days × departments and with one day's tickets, not with all
 * tickets. An agent filter (no cell has an assignee) reads that agent's tickets; a rollup not
 * current (an import under way) reads the tickets with something in the period. Same figures as
 * the row path (loadMetricsFromRows, the tests' oracle).
 */
export async function loadMetrics(src: ReportSource, filter: ReportFilter, nowMs: number): Promise<MetricsReport> {
  const asOfMs = filter.asOfMs ?? Math.min(filter.toMs, nowMs);
  const tally = emptyTally({ fromMs: filter.fromMs, toMs: filter.toMs, asOfMs, timeZone: reportTimeZone(src.config), categoryPaths: categoryPaths(src.config) });
  const leaves = filter.categoryId !== undefined ? leavesUnder(src.config, filter.categoryId) : undefined;
  if ((leaves && leaves.length === 0) || (filter.departmentIds && filter.departmentIds.length === 0)) return finalizeMetrics(tally);
  const cellFilter = { departmentIds: filter.departmentIds, leaves, priority: filter.priority };
  const whole: InstantRange[] = filter.toMs > filter.fromMs ? [[filter.fromMs, filter.toMs]] : [];
  const fromCells = filter.agentId === undefined && whole.length > 0 && (await rollupCurrent(src.db, src.config));
  const plan = fromCells ? splitReportDays(src.config, filter) : { days: undefined, edges: whole };
  const env = src as ReportSource & { calendars: ReadonlyMap<string, BusinessTimeMeasure> };
  const edgeTickets = async () => {
    if (plan.edges.length === 0) return;
    if (fromCells) return tallyPartsOfDays(env, src.db, partsOfDays(src.config, plan.edges), cellFilter, tally);
    const ids =
      filter.agentId !== undefined
        ? (await src.db.selectFrom('tickets').select('id').where('assignee_id', '=', filter.agentId).execute()).map((r) => r.id)
        : await ticketsActiveIn(src.db, plan.edges);
    await tallyTicketsInRanges(env, src.db, ids, plan.edges, cellFilter, tally);
  };
  await Promise.all([
    plan.days ? tallyCells(src.db, { ...plan.days, ...cellFilter }, tally) : undefined,
    edgeTickets(),
    tallyBacklog(src, filter, asOfMs, tally),
    tallyHandoffTickets(src, filter, tally),
  ]);
  return finalizeMetrics(tally);
}

/** The row path, whatever the period: reads every ticket that can matter (the oracle of loadMetrics in tests). */
export async function loadMetricsFromRows(src: ReportSource, filter: ReportFilter, nowMs: number): Promise<MetricsReport> {
  return computeMetrics(await loadMetricsInput(src, filter, nowMs));
}

const HOUR_MS = 3_600_000;
const dayKeyers = new Map<string, (ms: number) => string>();

function reportDayOf(config: Config): (ms: number) => string {
  const zone = reportTimeZone(config);
  let keyer = dayKeyers.get(zone);
  if (!keyer) {
    keyer = dayKeyer(zone);
    dayKeyers.set(zone, keyer);
  }
  return keyer;
}

/**
 * First and last report day of a period that starts and ends at report-day boundaries (on whole
 * UTC hours, as every day key is per hour); undefined otherwise. Then an instant is in the period
 * exactly when its report day is in [firstDay, lastDay].
 */
export function wholeReportDays(config: Config, period: { fromMs: number; toMs: number }): { firstDay: string; lastDay: string } | undefined {
  const { fromMs, toMs } = period;
  if (!(toMs > fromMs) || fromMs % HOUR_MS !== 0 || toMs % HOUR_MS !== 0) return undefined;
  const dayOf = reportDayOf(config);
  if (dayOf(fromMs - HOUR_MS) === dayOf(fromMs) || dayOf(toMs - HOUR_MS) === dayOf(toMs)) return undefined;
  return { firstDay: dayOf(fromMs), lastDay: dayOf(toMs - HOUR_MS) };
}

/**
 * A period as the whole report days inside it and the parts of days left at its edges: the first
 * report-day boundary at or after its start, the last at or before its end (boundaries fall on
 * whole UTC hours, as day keys are per hour). No whole day inside: the whole period is an edge.
 */
export function splitReportDays(config: Config, period: { fromMs: number; toMs: number }): { days: { firstDay: string; lastDay: string } | undefined; edges: InstantRange[] } {
  const { fromMs, toMs } = period;
  if (!(toMs > fromMs)) return { days: undefined, edges: [] };
  const dayOf = reportDayOf(config);
  const isBoundary = (h: number) => dayOf(h - HOUR_MS) !== dayOf(h);
  // A report day is at most 25 hours long (a DST change), so a boundary is found within 26 steps.
  let start = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  for (let i = 0; i < 26 && !isBoundary(start); i++) start += HOUR_MS;
  let end = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  for (let i = 0; i < 26 && !isBoundary(end); i++) end -= HOUR_MS;
  if (!(isBoundary(start) && isBoundary(end) && start >= fromMs && end <= toMs && end > start)) return { days: undefined, edges: [[fromMs, toMs]] };
  const edges: InstantRange[] = [];
  if (fromMs < start) edges.push([fromMs, start]);
  if (end < toMs) edges.push([end, toMs]);
  return { days: { firstDay: dayOf(start), lastDay: dayOf(end - HOUR_MS) }, edges };
}

/**
 * Ranges cut at report-day boundaries: each part with its report day and the rest of that day
 * (boundaries fall on whole UTC hours, as day keys are per hour; a day is at most 25 hours long).
 */
export function partsOfDays(config: Config, ranges: readonly InstantRange[]): PartOfDay[] {
  const dayOf = reportDayOf(config);
  const isBoundary = (h: number) => dayOf(h - HOUR_MS) !== dayOf(h);
  const parts: PartOfDay[] = [];
  for (const [fromMs, toMs] of ranges) {
    let dayStart = Math.floor(fromMs / HOUR_MS) * HOUR_MS;
    for (let i = 0; i < 26 && !isBoundary(dayStart); i++) dayStart -= HOUR_MS;
    while (dayStart < toMs) {
      let dayEnd = dayStart + HOUR_MS;
      for (let i = 0; i < 26 && !isBoundary(dayEnd); i++) dayEnd += HOUR_MS;
      const from = Math.max(fromMs, dayStart);
      const to = Math.min(toMs, dayEnd);
      const rest: InstantRange[] = [];
      if (dayStart < from) rest.push([dayStart, from]);
      if (to < dayEnd) rest.push([to, dayEnd]);
      parts.push({ day: dayOf(from), range: [from, to], rest });
      dayStart = dayEnd;
    }
  }
  return parts;
}

/**
 * Tickets with something a report counts at an instant in one of the ranges: created, first
 * answered, resolved, closed, rated, a resolved/reopened audit row, a clock met or breached, a leg
 * opened. Each branch is a range scan of a small index on that instant (the partial ones hold
 * only rows where it is set), so the cost is the tickets of those hours, not all tickets.
 */
export async function ticketsActiveIn(db: DbOrTx, ranges: readonly InstantRange[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const [fromMs, toMs] of ranges) {
    const from = iso(fromMs);
    const to = iso(toMs);
    const q = db
      .selectFrom('tickets')
      .select('id')
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .union(db.selectFrom('tickets').select('id').where('first_response_at', '>=', from).where('first_response_at', '<', to))
      .union(db.selectFrom('tickets').select('id').where('resolved_at', '>=', from).where('resolved_at', '<', to))
      .union(db.selectFrom('tickets').select('id').where('closed_at', '>=', from).where('closed_at', '<', to))
      .union(db.selectFrom('surveys').select('ticket_id as id').where('answered_at', '>=', from).where('answered_at', '<', to))
      .union(db.selectFrom('audit_events').select('ticket_id as id').where('action', 'in', ['resolved', 'reopened']).where('at', '>=', from).where('at', '<', to))
      .union(db.selectFrom('clocks').select('ticket_id as id').where('met_at', '>=', from).where('met_at', '<', to))
      .union(db.selectFrom('clocks').select('ticket_id as id').where('breached_at', '>=', from).where('breached_at', '<', to))
      .union(db.selectFrom('legs').select('ticket_id as id').where('opened_at', '>=', from).where('opened_at', '<', to));
    for (const r of await q.execute()) if (r.id !== null) ids.add(r.id);
  }
  return [...ids].sort();
}

/** Tickets open at asOf (as openAt in domain/metrics), per department: count, age sum, oldest, age buckets. */
async function tallyBacklog(src: ReportSource, filter: ReportFilter, asOfMs: number, tally: MetricsTally): Promise<void> {
  const where = ticketConditions(src.config, filter, { department: true });
  if (where === false) return;
  const from = iso(filter.fromMs);
  const to = iso(filter.toMs);
  const asOf = iso(asOfMs);
  const limits = BACKLOG_AGE_LIMITS_MS.slice(0, -1);
  // `created_ms` (migration 019): created_at as epoch ms, derived by the database, so the age
  // arithmetic reads integers (from tickets_backlog for the unfinished tickets) instead of
  // converting ISO text row by row. Ages are summed in SQL (small numbers); a sum of the epochs
  // themselves would pass 2^53 and lose precision in JavaScript.
  const tallies = [
    sql<number>`count(*)`.as('open'),
    sql<number>`sum(${asOfMs} - t.created_ms)`.as('age_sum'),
    sql<number>`min(t.created_ms)`.as('first_created'),
    ...limits.map((limit, i) => sql<number>`sum(case when t.created_ms > ${asOfMs - limit} then 1 else 0 end)`.as(`under_${i}`)),
  ];
  // Open at asOf = not resolved and not closed by then: three disjoint cases, each its own
  // aggregate (grouped by department, added up below; a UNION of the rows made SQLite sort them
  // all for the GROUP BY).
  // 1. Neither yet: from `tickets_backlog` alone (every column read here, for the unfinished
  // tickets only), a range of it for one department; activeInPeriod for a ticket with neither
  // time set, on the index's columns only (the open state first: nearly every such ticket has it,
  // so the other terms are rarely evaluated).
  const unfinished = src.db
    .selectFrom('tickets as t')
    .select(['t.department_id', ...tallies])
    .where('t.resolved_at', 'is', null)
    .where('t.closed_at', 'is', null)
    .where(where as never)
    .where((eb) =>
      eb.or([
        eb('t.state', 'in', OPEN_STATES),
        eb.and([eb('t.created_ms', '>=', filter.fromMs), eb('t.created_ms', '<', filter.toMs)]),
        eb.and([eb('t.first_response_at', '>=', from), eb('t.first_response_at', '<', to)]),
      ]),
    )
    .where('t.created_ms', '<=', asOfMs)
    .groupBy('t.department_id');
  // 2 and 3. Resolved after asOf (not closed by then); closed after asOf, never resolved: the small
  // sets of those tickets (tickets_resolved; tickets_closed_unresolved), each ticket looked up by
  // its key. The keys come first in a CROSS JOIN (SQLite keeps that order; PostgreSQL plans it with
  // its statistics), so a department filter cannot turn it into a walk of all that department's
  // tickets. On SQLite the key is the rowid: one b-tree descent a ticket instead of two (id, then row).
  const key = src.db.getExecutor().adapter instanceof PostgresAdapter ? 'id' : 'rowid';
  const lookUp = (keys: (db: typeof src.db) => SelectQueryBuilder<Database, 'tickets', object>) =>
    src.db
      .selectFrom(keys(src.db).select(sql.ref(key).as('k')).as('u'))
      .crossJoin('tickets as t')
      .select(['t.department_id', ...tallies])
      .where(sql<boolean>`${sql.ref(`t.${key}`)} = ${sql.ref('u.k')}`)
      .where(where as never)
      .where((eb) => activeInPeriod(eb as never, from, to, asOf))
      .where('t.created_ms', '<=', asOfMs)
      .groupBy('t.department_id');
  const resolvedLater = lookUp((db) => db.selectFrom('tickets').where('resolved_at', '>', asOf)).where((eb) => eb.or([eb('t.closed_at', 'is', null), eb('t.closed_at', '>', asOf)]));
  const closedLater = lookUp((db) => db.selectFrom('tickets').where('closed_at', '>', asOf).where('resolved_at', 'is', null)).where('t.resolved_at', 'is', null);
  const parts = await Promise.all([unfinished.execute(), resolvedLater.execute(), closedLater.execute()]);
  for (const r of parts.flat()) {
    const open = Number(r.open);
    if (open === 0) continue;
    tally.open += open;
    tally.openAgeSum += Number(r.age_sum);
    tally.openOldest = Math.max(tally.openOldest, asOfMs - Number(r.first_created));
    let below = 0;
    limits.forEach((_, i) => {
      const under = Number((r as Record<string, unknown>)[`under_${i}`]);
      tally.openAges[i]! += under - below;
      below = under;
    });
    tally.openAges[limits.length]! += open - below;
    addTo(tally.openByDepartment, r.department_id, open);
  }
}

/** Distinct tickets with a handoff leg opened in the period, and those with a returned one. */
async function tallyHandoffTickets(src: ReportSource, filter: ReportFilter, tally: MetricsTally): Promise<void> {
  const where = ticketConditions(src.config, filter, { department: false });
  if (where === false) return;
  let query = src.db
    .selectFrom('legs as l')
    .innerJoin('tickets as t', 't.id', 'l.ticket_id')
    .select([
      sql<number>`count(distinct l.ticket_id)`.as('handed_off'),
      sql<number>`count(distinct case when l.state = 'returned' or l.return_reason is not null then l.ticket_id end)`.as('returned'),
    ])
    .where(where as never)
    .where('l.from_department_id', 'is not', null)
    .where('l.opened_at', '>=', iso(filter.fromMs))
    .where('l.opened_at', '<', iso(filter.toMs));
  if (filter.departmentIds) {
    const ids = [...filter.departmentIds];
    query = query.where((eb) => eb.or([eb('l.department_id', 'in', ids), eb('l.from_department_id', 'in', ids)]));
  }
  const row = await query.executeTakeFirst();
  tally.handedOffTickets += Number(row?.handed_off ?? 0);
  tally.returnedTickets += Number(row?.returned ?? 0);
}

/** Days in reports are days in the weekly digest's calendar, else the first department's. */
export function reportTimeZone(config: Config): string {
  const calendarId = config.raw.digest.weekly?.calendar ?? config.raw.departments[0]?.calendar;
  return (calendarId && config.raw.calendars[calendarId]?.timezone) || 'UTC';
}

/** Open tickets with their age, for the backlog page and export (newest last). */
export async function loadOpenTickets(
  src: ReportSource,
  filter: Pick<ReportFilter, 'departmentIds' | 'categoryId' | 'priority' | 'agentId'>,
  limit = 200,
): Promise<{ key: string; departmentId: string; categoryId: string; priority: string; state: string; createdAt: string; assigneeId: string | null; title: string }[]> {
  const where = ticketConditions(src.config, { fromMs: 0, toMs: 0, ...filter }, { department: true });
  if (where === false) return [];
  const rows = await src.db
    .selectFrom('tickets as t')
    .select(['t.key', 't.department_id', 't.category_id', 't.priority', 't.state', 't.created_at', 't.assignee_id', 't.title'])
    .where(where as never)
    .where('t.state', 'not in', ['resolved', 'closed'])
    .orderBy('t.created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ key: r.key, departmentId: r.department_id, categoryId: r.category_id, priority: r.priority, state: r.state, createdAt: r.created_at, assigneeId: r.assignee_id, title: r.title }));
}

