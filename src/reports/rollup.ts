import { createHash } from 'node:crypto';
import { PostgresAdapter, sql, type Selectable } from 'kysely';
import type { Config } from '../config/model';
import {
  addTo,
  CalendarMeasures,
  dayKeyer,
  flowAcc,
  legAcc,
  type BusinessTimeMeasure,
  type ClockTally,
  type MetricsTally,
} from '../domain/metrics';
import type { Db, DbOrTx } from '../storage/database';
import { bulkInsert } from '../storage/bulk';
import { takeRollupDirty, takeRollupNew } from '../storage/repos/dirty';
import type { ClockRow, LegRow, ReportCellRow, SurveyRow, TicketRow } from '../storage/tables';
import { CELL_COUNTERS, CELL_VALUES } from '../../db/migrations/005_report_rollup';

/**
 * The report rollup: every ticket adds a handful of cells — (kind, report day, department, from
 * department, category, priority, label) → a count and, for durations, the values — and a summary
 * adds up the cells of its days instead of reading every ticket. What a ticket adds is a pure
 * function of its rows (contributionOf), so:
 *
 * - the repositories mark a ticket dirty when they write its ticket, leg, clock or audit rows
 *   (markRollupDirty), and the use case runner and the timer handler call flushRollup before
 *   their transaction commits: the ticket's contribution is recomputed from the database and the
 *   difference with the one stored in report_contributions is applied to the cells. Marking too
 *   much is harmless (the difference is empty); the rollup can only miss a write that bypasses
 *   the repositories.
 * - rebuildRollup computes every contribution afresh (after the migration, or when the report
 *   zone or a calendar changed: report_rollup_meta holds the fingerprint of what it was built with).
 *
 * Figures that are not sums over days come from SQL aggregates at read time: the backlog at an
 * instant, and the number of distinct tickets handed off (a ticket handed off on two days counts
 * once). Medians and p90s are exact: the cells keep the durations themselves, which a summary of
 * D days reads as D × departments × categories × priorities blobs.
 */

export interface RollupEnv {
  config: Config;
  calendars: ReadonlyMap<string, BusinessTimeMeasure>;
}

const META_ID = 'cells';
const SEP = '\u0001';

/** What one ticket adds: cell key → count and values. */
export type Contribution = Map<string, { n: number; v: number[] }>;

export interface TicketRollupFacts {
  ticket: Pick<TicketRow, 'id' | 'department_id' | 'category_id' | 'priority' | 'state' | 'created_at' | 'first_response_at' | 'resolved_at' | 'closed_at' | 'public_reply_count' | 'reopen_count'>;
  clocks: Pick<ClockRow, 'kind' | 'leg_id' | 'calendar_id' | 'met_at' | 'breached_at'>[];
  legs: Pick<LegRow, 'id' | 'department_id' | 'from_department_id' | 'state' | 'return_reason' | 'opened_at' | 'accepted_at' | 'closed_at'>[];
  survey: Pick<SurveyRow, 'score' | 'answered_at'> | undefined;
  /** `at` of the ticket's audit rows with action resolved / reopened. */
  resolvedAudits: string[];
  reopenedAudits: string[];
}

/** Days in reports are days in the weekly digest's calendar, else the first department's (as reports/queries). */
export function rollupTimeZone(config: Config): string {
  const calendarId = config.raw.digest.weekly?.calendar ?? config.raw.departments[0]?.calendar;
  return (calendarId && config.raw.calendars[calendarId]?.timezone) || 'UTC';
}

/** What the cells depend on besides the rows: the report zone, the calendars, the departments' calendars. */
export function rollupFingerprint(config: Config): string {
  const basis = {
    v: 1,
    zone: rollupTimeZone(config),
    calendars: config.raw.calendars,
    departments: [...config.departments.values()].map((d) => [d.id, d.calendar]),
  };
  return createHash('sha256').update(JSON.stringify(basis)).digest('hex');
}

interface Helpers {
  dayOf: (ms: number) => string;
  measures: CalendarMeasures;
  deptCalendar: (departmentId: string) => string;
}

const helperCache = new WeakMap<RollupEnv['calendars'], WeakMap<Config, Helpers>>();

function helpers(env: RollupEnv): Helpers {
  let byConfig = helperCache.get(env.calendars);
  if (!byConfig) {
    byConfig = new WeakMap();
    helperCache.set(env.calendars, byConfig);
  }
  let h = byConfig.get(env.config);
  if (!h) {
    const config = env.config;
    h = {
      dayOf: dayKeyer(rollupTimeZone(config)),
      measures: new CalendarMeasures(env.calendars),
      deptCalendar: (id) => config.departments.get(id)?.calendar ?? 'always',
    };
    byConfig.set(env.config, h);
  }
  return h;
}

export function cellKey(kind: string, day: string, departmentId: string, fromDepartmentId: string, categoryId: string, priority: string, label: string): string {
  return `${kind}${SEP}${day}${SEP}${departmentId}${SEP}${fromDepartmentId}${SEP}${categoryId}${SEP}${priority}${SEP}${label}`;
}

const ms = (text: string): number => Date.parse(text);

/**
 * The cells one ticket adds (the same definitions as the row path in reports/queries.ts). With
 * `keep`, only what happened at the instants it keeps (a part of a report day, for periods that do
 * not start or end at a day boundary).
 */
export function contributionOf(env: RollupEnv, f: TicketRollupFacts, keep?: (ms: number) => boolean): Contribution {
  const { dayOf, measures, deptCalendar } = helpers(env);
  const out: Contribution = new Map();
  const t = f.ticket;
  const add = (kind: string, atMs: number, departmentId: string, from: string, label: string, n: number, value?: number) => {
    if (keep && !keep(atMs)) return;
    const key = cellKey(kind, dayOf(atMs), departmentId, from, t.category_id, t.priority, label);
    let c = out.get(key);
    if (!c) {
      c = { n: 0, v: [] };
      out.set(key, c);
    }
    c.n += n;
    if (value !== undefined) c.v.push(value);
  };
  const dept = t.department_id;
  const created = ms(t.created_at);
  add('created', created, dept, '', '', 1);
  const calendarOf = (kind: string) => {
    let min: string | undefined;
    for (const c of f.clocks) if (c.kind === kind && (min === undefined || c.calendar_id < min)) min = c.calendar_id;
    return min ?? deptCalendar(dept);
  };
  if (t.first_response_at !== null) {
    const at = ms(t.first_response_at);
    add('first_response', at, dept, '', '', 1, measures.get(calendarOf('first_response')).between(created, at));
  }
  if (t.resolved_at !== null && (t.state === 'resolved' || t.state === 'closed')) {
    const at = ms(t.resolved_at);
    add('resolved', at, dept, '', '', 1, measures.get(calendarOf('resolution')).between(created, at));
    if (Number(t.public_reply_count) === 1 && Number(t.reopen_count) === 0) add('first_contact', at, dept, '', '', 1);
  }
  if (t.closed_at !== null) {
    const at = ms(t.closed_at);
    add('closed', at, dept, '', '', 1);
    if (f.survey) add('closed_survey', at, dept, '', '', 1);
  }
  if (f.survey) {
    const at = ms(f.survey.answered_at);
    const score = Number(f.survey.score);
    add('survey', at, dept, '', '', 1);
    add('survey_score', at, dept, '', '', score);
    if (score >= 4) add('survey_satisfied', at, dept, '', '', 1);
  }
  for (const at of f.resolvedAudits) add('audit_resolved', ms(at), dept, '', '', 1);
  for (const at of f.reopenedAudits) add('audit_reopened', ms(at), dept, '', '', 1);
  const legDept = new Map(f.legs.map((l) => [l.id, l.department_id]));
  for (const c of f.clocks) addClockEntry(add, c, (c.leg_id !== null && legDept.get(c.leg_id)) || dept);
  for (const l of f.legs) addLegEntries(add, l, measures.get(deptCalendar(l.department_id)));
  return out;
}

type AddEntry = (kind: string, atMs: number, departmentId: string, from: string, label: string, n: number, value?: number) => void;

/**
 * A completed clock cycle (late when breached, else on time when met), counted for `attributed`:
 * a leg clock for its leg's department, a clock whose leg row is missing for the ticket's.
 */
function addClockEntry(add: AddEntry, c: Pick<ClockRow, 'kind' | 'met_at' | 'breached_at'>, attributed: string): void {
  if (c.breached_at !== null) add('clock_late', ms(c.breached_at), attributed, '', c.kind, 1);
  else if (c.met_at !== null) add('clock_on_time', ms(c.met_at), attributed, '', c.kind, 1);
}

/** What a leg adds, all at its opening; durations in its department's calendar (`measure`). */
function addLegEntries(add: AddEntry, l: TicketRollupFacts['legs'][number], measure: BusinessTimeMeasure): void {
  const opened = ms(l.opened_at);
  const from = l.from_department_id ?? '';
  const returned = l.state === 'returned' || l.return_reason !== null;
  add('leg', opened, l.department_id, from, '', 1);
  if (returned) add('leg_returned', opened, l.department_id, from, '', 1);
  if (returned && from !== '') add('return_reason', opened, l.department_id, from, l.return_reason ?? '', 1);
  if (l.accepted_at !== null) add('leg_accept', opened, l.department_id, from, '', 0, measure.between(opened, ms(l.accepted_at)));
  if (l.closed_at !== null) add('leg_duration', opened, l.department_id, from, '', 0, measure.between(opened, ms(l.closed_at)));
}

// ---------------------------------------------------------------------------------------------
// Loading facts

const TICKET_COLUMNS = ['id', 'department_id', 'category_id', 'priority', 'state', 'created_at', 'first_response_at', 'resolved_at', 'closed_at', 'public_reply_count', 'reopen_count'] as const;

/** Facts of the given tickets, in their order (missing tickets are left out). */
export async function loadRollupFacts(db: DbOrTx, ticketIds: readonly string[]): Promise<TicketRollupFacts[]> {
  if (ticketIds.length === 0) return [];
  const ids = [...ticketIds];
  const [tickets, clocks, legs, surveys, audits] = await Promise.all([
    db.selectFrom('tickets').select([...TICKET_COLUMNS]).where('id', 'in', ids).execute(),
    db.selectFrom('clocks').select(['ticket_id', 'kind', 'leg_id', 'calendar_id', 'met_at', 'breached_at']).where('ticket_id', 'in', ids).execute(),
    db.selectFrom('legs').select(['ticket_id', 'id', 'department_id', 'from_department_id', 'state', 'return_reason', 'opened_at', 'accepted_at', 'closed_at']).where('ticket_id', 'in', ids).execute(),
    db.selectFrom('surveys').select(['ticket_id', 'score', 'answered_at']).where('ticket_id', 'in', ids).execute(),
    // The action is filtered here, not in SQL: given `action in (…)` SQLite's planner (no
    // statistics) walks audit_events_action_at — every resolution ever — instead of the tickets'
    // rows through audit_events_ticket.
    db.selectFrom('audit_events').select(['ticket_id', 'action', 'at']).where('ticket_id', 'in', ids).execute(),
  ]);
  const byId = new Map<string, TicketRollupFacts>();
  for (const t of tickets) byId.set(t.id, { ticket: t, clocks: [], legs: [], survey: undefined, resolvedAudits: [], reopenedAudits: [] });
  for (const c of clocks) byId.get(c.ticket_id)?.clocks.push(c);
  for (const l of legs) byId.get(l.ticket_id)?.legs.push(l);
  for (const s of surveys) {
    const f = byId.get(s.ticket_id);
    if (f) f.survey = s;
  }
  for (const a of audits) {
    if (a.action !== 'resolved' && a.action !== 'reopened') continue;
    const f = byId.get(a.ticket_id);
    if (f) (a.action === 'resolved' ? f.resolvedAudits : f.reopenedAudits).push(a.at);
  }
  return ids.flatMap((id) => {
    const f = byId.get(id);
    return f ? [f] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Keeping the cells

const isPostgres = (db: DbOrTx) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * A stored contribution, compactly (it is a row per ticket: at 1,000,000 imported tickets the JSON
 * form was 1.1 GB, more than the tickets): `~2`, the category and priority every key shares, then
 * one entry per key — kind code, day, department, from-department, label, count, values (comma
 * separated) — where an empty day or department means the previous entry's. Entries keep the map's
 * order, so equal contributions encode to equal text. A kind not in CONTRIBUTION_KINDS, or keys
 * that do not share a category and priority, fall back to the JSON form; both forms are read.
 */
const CONTRIBUTION_KINDS = [
  'created', 'first_response', 'resolved', 'first_contact', 'closed', 'closed_survey', 'survey', 'survey_score', 'survey_satisfied', 'audit_resolved',
  'audit_reopened', 'clock_late', 'clock_on_time', 'leg', 'leg_returned', 'return_reason', 'leg_accept', 'leg_duration',
] as const;
const KIND_CODE = new Map<string, string>(CONTRIBUTION_KINDS.map((k, i) => [k, i.toString(36)]));
const ENTRY = '\u0002';
const COMPACT = '~2';

export function encodeContribution(c: Contribution): string {
  let category: string | undefined;
  let priority: string | undefined;
  let out = '';
  let prevDay = '';
  let prevDept = '';
  for (const [key, { n, v }] of c) {
    const [kind, day, dept, from, cat, prio, label] = key.split(SEP) as [string, string, string, string, string, string, string];
    const code = KIND_CODE.get(kind);
    if (category === undefined) {
      category = cat;
      priority = prio;
    }
    if (code === undefined || cat !== category || prio !== priority || day === '' || dept === '') return encodeContributionJson(c);
    out += `${ENTRY}${code}${SEP}${day === prevDay ? '' : day}${SEP}${dept === prevDept ? '' : dept}${SEP}${from}${SEP}${label}${SEP}${n}${v.length ? SEP + v.join(',') : ''}`;
    prevDay = day;
    prevDept = dept;
  }
  return `${COMPACT}${SEP}${category ?? ''}${SEP}${priority ?? ''}${out}`;
}

function encodeContributionJson(c: Contribution): string {
  return JSON.stringify([...c].map(([k, { n, v }]) => (v.length ? [k, n, v] : [k, n])));
}

/** An entry without duration values (shared, so never handed out: decodeContribution gives a fresh array). */
const NO_VALUES: readonly number[] = [];

export function decodeContribution(text: string | undefined): Contribution {
  const out: Contribution = new Map();
  if (text) scanStored(text, () => 1, (_sign, _kind, key, n, values) => out.set(key, { n, v: values === NO_VALUES ? [] : (values as number[]) }));
  return out;
}

/** Values of `a` not in `b`, as multisets. */
function minus(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return [...a];
  const left = [...b];
  const out: number[] = [];
  for (const x of a) {
    const i = left.indexOf(x);
    if (i >= 0) left.splice(i, 1);
    else out.push(x);
  }
  return out;
}

export function encodeValues(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) buf.writeDoubleLE(values[i]!, i * 8);
  return buf;
}

export function decodeValuesInto(buf: Uint8Array | null, out: number[]): void {
  if (!buf || buf.byteLength === 0) return;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < buf.byteLength; i += 8) out.push(view.getFloat64(i, true));
}

type RowKey = Pick<ReportCellRow, 'day' | 'department_id' | 'from_department_id' | 'category_id' | 'priority'>;
type Counter = (typeof CELL_COUNTERS)[number];
type ValuesColumn = (typeof CELL_VALUES)[number];

/** Where each contribution kind lands in a cell row. */
const COUNTER_OF: Record<string, Counter> = {
  created: 'created', first_response: 'first_responses', resolved: 'resolved', first_contact: 'first_contact', closed: 'closed', closed_survey: 'closed_survey',
  survey: 'surveys', survey_score: 'survey_score', survey_satisfied: 'survey_satisfied', audit_resolved: 'audit_resolved', audit_reopened: 'audit_reopened',
  leg: 'legs', leg_returned: 'legs_returned',
};
const VALUES_OF: Record<string, ValuesColumn> = { first_response: 'fr_vals', resolved: 'res_vals', leg_accept: 'accept_vals', leg_duration: 'duration_vals' };
const TALLY_OF: Record<string, string> = { clock_on_time: 'on:', clock_late: 'late:', return_reason: 'reason:' };

function splitKey(key: string): { row: RowKey; rowKey: string; kind: string; label: string } {
  const [kind, day, department_id, from_department_id, category_id, priority, label] = key.split(SEP) as [string, string, string, string, string, string, string];
  return { row: { day, department_id, from_department_id, category_id, priority }, rowKey: [day, department_id, from_department_id, category_id, priority].join(SEP), kind, label };
}

interface RowDelta {
  row: RowKey;
  counters: Partial<Record<Counter, number>>;
  added: Partial<Record<ValuesColumn, number[]>>;
  removed: Partial<Record<ValuesColumn, number[]>>;
  tallies: Map<string, number>;
}

function rowDelta(deltas: Map<string, RowDelta>, key: string): { d: RowDelta; kind: string; label: string } {
  // key = kind SEP day SEP department SEP from SEP category SEP priority SEP label: the row key is
  // the middle five fields as they stand (kind and label hold no SEP), so no split on a hit.
  const first = key.indexOf(SEP);
  const last = key.lastIndexOf(SEP);
  const rowKey = key.slice(first + 1, last);
  let d = deltas.get(rowKey);
  if (!d) {
    d = { row: splitKey(key).row, counters: {}, added: {}, removed: {}, tallies: new Map() };
    deltas.set(rowKey, d);
  }
  return { d, kind: key.slice(0, first), label: key.slice(last + 1) };
}

/** Adds one contribution entry (count and values, with a sign) to a row delta. */
function addEntry(d: RowDelta, kind: string, label: string, dn: number, added: readonly number[], removed: readonly number[]): void {
  const counter = COUNTER_OF[kind];
  if (counter && dn !== 0) d.counters[counter] = (d.counters[counter] ?? 0) + dn;
  const tally = TALLY_OF[kind];
  if (tally && dn !== 0) addTo(d.tallies, tally + label, dn);
  const values = VALUES_OF[kind];
  if (values) {
    if (added.length) (d.added[values] ??= []).push(...added);
    if (removed.length) (d.removed[values] ??= []).push(...removed);
  }
}

const PK = ['day', 'department_id', 'from_department_id', 'category_id', 'priority'] as const;

const CELL_COLUMNS = [...PK, ...CELL_COUNTERS, ...CELL_VALUES, 'tallies'] as const;

function emptyCell(row: RowKey): ReportCellRow {
  const out: Record<string, unknown> = { ...row, tallies: null };
  for (const c of CELL_COUNTERS) out[c] = 0;
  for (const c of CELL_VALUES) out[c] = null;
  return out as unknown as ReportCellRow;
}

/**
 * Applies row deltas in chunks, three statements a chunk whatever its size: create the missing
 * rows, read them all (locked on PostgreSQL, in key order), write the merged rows back.
 */
async function applyRowDeltas(db: DbOrTx, deltas: RowDelta[]): Promise<void> {
  for (let i = 0; i < deltas.length; i += 200) {
    const chunk = deltas.slice(i, i + 200);
    const pg = isPostgres(db);
    // PostgreSQL: create the missing rows first so that all of them can be locked. SQLite holds
    // the write lock for the whole transaction, so a missing row is merged from zero instead.
    if (pg) {
      await db
        .insertInto('report_cells')
        .values(chunk.map((d) => ({ ...d.row, ...Object.fromEntries(CELL_COUNTERS.map((c) => [c, 0])), ...Object.fromEntries(CELL_VALUES.map((c) => [c, null])), tallies: null })))
        .onConflict((oc) => oc.columns([...PK]).doNothing())
        .execute();
    }
    const keys = sql.join(chunk.map((d) => sql`(${d.row.day}, ${d.row.department_id}, ${d.row.from_department_id}, ${d.row.category_id}, ${d.row.priority})`));
    const lock = pg ? sql` for update` : sql``;
    const { rows } = await sql<ReportCellRow>`select * from report_cells where (day, department_id, from_department_id, category_id, priority) in (values ${keys}) order by day, department_id, from_department_id, category_id, priority${lock}`.execute(db);
    const byKey = new Map(rows.map((r) => [[r.day, r.department_id, r.from_department_id, r.category_id, r.priority].join(SEP), r]));
    const merged = chunk.map((d) => {
      const current = byKey.get([d.row.day, d.row.department_id, d.row.from_department_id, d.row.category_id, d.row.priority].join(SEP)) ?? (pg ? undefined : emptyCell(d.row));
      if (!current) throw new Error('report cell vanished inside its own transaction');
      const out: Record<string, unknown> = { ...d.row };
      for (const c of CELL_COUNTERS) out[c] = Number(current[c]) + (d.counters[c] ?? 0);
      for (const c of CELL_VALUES) {
        const added = d.added[c] ?? [];
        const removed = d.removed[c] ?? [];
        if (added.length === 0 && removed.length === 0) {
          out[c] = current[c];
          continue;
        }
        const values: number[] = [];
        decodeValuesInto(current[c], values);
        const kept = minus(values, removed);
        for (const v of added) kept.push(v);
        out[c] = kept.length ? encodeValues(kept) : null;
      }
      if (d.tallies.size) {
        const tallies = new Map(Object.entries(current.tallies ? (JSON.parse(current.tallies) as Record<string, number>) : {}));
        for (const [k, n] of d.tallies) addTo(tallies, k, n);
        for (const [k, n] of tallies) if (n === 0) tallies.delete(k);
        out.tallies = tallies.size ? JSON.stringify(Object.fromEntries([...tallies].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))) : null;
      } else out.tallies = current.tallies;
      return out;
    });
    await db
      .insertInto('report_cells')
      .values(merged as never)
      .onConflict((oc) => oc.columns([...PK]).doUpdateSet(Object.fromEntries(CELL_COLUMNS.filter((c) => !(PK as readonly string[]).includes(c)).map((c) => [c, sql`excluded.${sql.ref(c)}`])) as never))
      .execute();
  }
}

/** New contributions of the tickets against the stored ones: stores the new ones, returns the cell changes. */
async function contributionDeltas(
  env: RollupEnv,
  db: DbOrTx,
  ticketIds: string[],
  deltas: Map<string, RowDelta> = new Map(),
  /** Tickets inserted in this transaction: they have no stored contribution to read. */
  created: ReadonlySet<string> = new Set(),
): Promise<Map<string, RowDelta>> {
  const facts = await loadRollupFacts(db, ticketIds);
  const fresh = new Map(facts.map((f) => [f.ticket.id, contributionOf(env, f)]));
  const stored: { ticket_id: string; cells: string }[] = [];
  const toRead = created.size ? ticketIds.filter((id) => !created.has(id)) : ticketIds;
  for (let i = 0; i < toRead.length; i += 1000) stored.push(...(await db.selectFrom('report_contributions').select(['ticket_id', 'cells']).where('ticket_id', 'in', toRead.slice(i, i + 1000)).execute()));
  const storedText = new Map(stored.map((r) => [r.ticket_id, r.cells]));
  const gone: string[] = [];
  const upserts: { ticket_id: string; cells: string }[] = [];
  for (const id of ticketIds) {
    const next = fresh.get(id) ?? new Map();
    const nextText = next.size ? encodeContribution(next) : undefined;
    const prevText = storedText.get(id);
    if (nextText === prevText) continue;
    const prev = decodeContribution(prevText);
    for (const key of new Set([...prev.keys(), ...next.keys()])) {
      const a = prev.get(key) ?? { n: 0, v: [] };
      const b = next.get(key) ?? { n: 0, v: [] };
      const added = minus(b.v, a.v);
      const removed = minus(a.v, b.v);
      if (a.n === b.n && added.length === 0 && removed.length === 0) continue;
      const { d, kind, label } = rowDelta(deltas, key);
      addEntry(d, kind, label, b.n - a.n, added, removed);
    }
    if (nextText === undefined) gone.push(id);
    else upserts.push({ ticket_id: id, cells: nextText });
  }
  for (let i = 0; i < gone.length; i += 500) await db.deleteFrom('report_contributions').where('ticket_id', 'in', gone.slice(i, i + 500)).execute();
  for (let i = 0; i < upserts.length; i += 500) {
    await db
      .insertInto('report_contributions')
      .values(upserts.slice(i, i + 500))
      .onConflict((oc) => oc.column('ticket_id').doUpdateSet({ cells: sql`excluded.cells` }))
      .execute();
  }
  return deltas;
}

/** Applies cell changes in key order, so two transactions on PostgreSQL lock shared rows in the same order. */
async function applyDeltas(db: DbOrTx, deltas: Map<string, RowDelta>): Promise<void> {
  await applyRowDeltas(db, [...deltas.keys()].sort().map((k) => deltas.get(k)!));
}

/**
 * For bulk loads (ticketbot import): contributions are stored batch by batch, but the cell
 * changes are added up in memory and applied once at the end, so a cell is rewritten once rather
 * than once per batch. Meanwhile the rollup is marked not current (reports read the rows, and a
 * crash before the end leaves it to be rebuilt at the next start).
 */
const BULK_PENDING_CELLS = 30_000;
/**
 * Duration values pending past which the changes are written too: a year has only ~27,000 cells,
 * so the cell bound alone kept every duration of a long import (4 a ticket) until the end. The
 * first write inserts the cells whole; later ones merge into them (read, append, write back).
 */
const BULK_PENDING_VALUES = 1_000_000;

export class BulkRollup {
  private readonly deltas = new Map<string, RowDelta>();
  private pendingValues = 0;
  private wasCurrent = false;

  constructor(
    private readonly env: RollupEnv,
    /** Pending cells past which the changes are written before the end (memory bound). */
    private readonly pendingCells = BULK_PENDING_CELLS,
    /** Called between slices of cells written (the import collects its garbage there). */
    private readonly betweenSlices: () => void = () => {},
  ) {}

  async begin(db: DbOrTx): Promise<void> {
    // An import into an empty desk leaves complete cells: mark them current at the end too (else
    // the next start would rebuild them all from the rows just written).
    this.wasCurrent = (await rollupCurrent(db, this.env.config)) || (await db.selectFrom('tickets').select('id').limit(1).executeTakeFirst()) === undefined;
    await db.deleteFrom('report_rollup_meta').where('id', '=', META_ID).execute();
  }

  /** Inside a batch's transaction, after its tickets are written. */
  async add(db: DbOrTx, ticketIds: string[]): Promise<void> {
    takeRollupDirty(db);
    takeRollupNew(db);
    await contributionDeltas(this.env, db, ticketIds, this.deltas);
  }

  /**
   * Inside a batch's transaction, for tickets created in it whose rows the caller holds: their
   * contributions are computed from those rows (no reload) and stored, with no stored one to
   * read (a new ticket has none).
   */
  async addNew(db: DbOrTx, facts: readonly TicketRollupFacts[]): Promise<void> {
    takeRollupDirty(db);
    takeRollupNew(db);
    const rows: { ticket_id: string; cells: string }[] = [];
    for (const f of facts) {
      const c = contributionOf(this.env, f);
      if (c.size === 0) continue;
      for (const [key, { n, v }] of c) {
        const { d, kind, label } = rowDelta(this.deltas, key);
        addEntry(d, kind, label, n, v, []);
        this.pendingValues += v.length;
      }
      rows.push({ ticket_id: f.ticket.id, cells: encodeContribution(c) });
    }
    await bulkInsert(db, 'report_contributions', rows);
    // Memory stays bounded on a long import: past this many pending cells they are written now.
    if (this.deltas.size > this.pendingCells || this.pendingValues > BULK_PENDING_VALUES) await this.applyPending(db);
  }

  /**
   * Writes the changes added up so far. Cells that do not exist yet (all of them, into an empty
   * desk) are inserted whole; the others are merged as a use case's flush merges them.
   */
  private async applyPending(tx: DbOrTx): Promise<void> {
    const existing = new Set<string>();
    const days = [...this.deltas.values()].map((d) => d.row.day).sort();
    if (days.length) {
      const present = await tx.selectFrom('report_cells').select([...PK]).where('day', '>=', days[0]!).where('day', '<=', days.at(-1)!).execute();
      for (const r of present) existing.add([r.day, r.department_id, r.from_department_id, r.category_id, r.priority].join(SEP));
    }
    const fresh: RowDelta[] = [];
    for (const [key, d] of this.deltas) {
      if (existing.has(key)) continue;
      fresh.push(d);
      this.deltas.delete(key);
    }
    // A slice at a time, dropping each slice's values once written: a year of cells holds every
    // duration of the load (4 per ticket), and whole rows of them at once doubled the heap.
    for (let i = 0; i < fresh.length; i += 1024) {
      const slice = fresh.slice(i, i + 1024);
      await bulkInsert(tx, 'report_cells', cellRowsOf(slice));
      for (let j = i; j < i + slice.length; j++) fresh[j] = undefined as unknown as RowDelta;
      this.betweenSlices();
    }
    // Merged into existing cells (a write part-way through a long import): each read, decoded,
    // appended to and written back, in key order as applyDeltas does, a slice at a time.
    const keys = [...this.deltas.keys()].sort();
    for (let i = 0; i < keys.length; i += 1024) {
      await applyRowDeltas(tx, keys.slice(i, i + 1024).map((k) => this.deltas.get(k)!));
      this.betweenSlices();
    }
    this.deltas.clear();
    this.pendingValues = 0;
  }

  /** Applies the changes and, when the rollup was current before, marks it current again. */
  async finish(db: Db, nowIso: string): Promise<void> {
    await db.transaction().execute(async (tx) => {
      await this.applyPending(tx);
      if (this.wasCurrent) {
        const fingerprint = rollupFingerprint(this.env.config);
        await tx.insertInto('report_rollup_meta').values({ id: META_ID, fingerprint, built_at: nowIso }).onConflict((oc) => oc.column('id').doUpdateSet({ fingerprint, built_at: nowIso })).execute();
      }
    });
    this.deltas.clear();
  }
}

/** Brings the cells up to date with the tickets written through `db` (a transaction) since the last flush. */
export async function flushRollup(env: RollupEnv, db: DbOrTx): Promise<void> {
  const ids = takeRollupDirty(db);
  const created = takeRollupNew(db);
  if (ids.length) await applyDeltas(db, await contributionDeltas(env, db, ids, new Map(), created));
}

/** Whole cell rows from deltas that add to nothing (new cells). */
function cellRowsOf(deltas: Iterable<RowDelta>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const d of deltas) {
    const row: Record<string, unknown> = { ...d.row };
    // Every column named: a multi-row insert on SQLite gives a left-out column NULL, not its default.
    for (const c of CELL_COUNTERS) row[c] = d.counters[c] ?? 0;
    for (const c of CELL_VALUES) {
      const values = d.added[c];
      row[c] = values && values.length ? encodeValues(values) : null;
    }
    row.tallies = d.tallies.size ? JSON.stringify(Object.fromEntries([...d.tallies].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))) : null;
    out.push(row);
  }
  return out;
}

/** Recomputes every cell from the tickets and records the fingerprint; run inside one transaction. */
export async function rebuildRollup(env: RollupEnv, db: DbOrTx, nowIso: string, batch = 2000): Promise<{ tickets: number; cells: number }> {
  await db.deleteFrom('report_cells').execute();
  await db.deleteFrom('report_contributions').execute();
  const deltas = new Map<string, RowDelta>();
  let after = '';
  let tickets = 0;
  for (;;) {
    const ids = (await db.selectFrom('tickets').select('id').where('id', '>', after).orderBy('id').limit(batch).execute()).map((r) => r.id);
    if (ids.length === 0) break;
    after = ids.at(-1)!;
    const rows: { ticket_id: string; cells: string }[] = [];
    for (const f of await loadRollupFacts(db, ids)) {
      const c = contributionOf(env, f);
      for (const [key, { n, v }] of c) {
        const { d, kind, label } = rowDelta(deltas, key);
        addEntry(d, kind, label, n, v, []);
      }
      if (c.size) rows.push({ ticket_id: f.ticket.id, cells: encodeContribution(c) });
    }
    tickets += ids.length;
    for (let i = 0; i < rows.length; i += 200) await db.insertInto('report_contributions').values(rows.slice(i, i + 200)).execute();
  }
  const cellRows = cellRowsOf(deltas.values());
  await bulkInsert(db, 'report_cells', cellRows);
  const fingerprint = rollupFingerprint(env.config);
  await db
    .insertInto('report_rollup_meta')
    .values({ id: META_ID, fingerprint, built_at: nowIso })
    .onConflict((oc) => oc.column('id').doUpdateSet({ fingerprint, built_at: nowIso }))
    .execute();
  return { tickets, cells: cellRows.length };
}

/** Is the rollup built for this config (same zone and calendars)? */
export async function rollupCurrent(db: DbOrTx, config: Config): Promise<boolean> {
  const row = await db.selectFrom('report_rollup_meta').select('fingerprint').where('id', '=', META_ID).executeTakeFirst();
  return row?.fingerprint === rollupFingerprint(config);
}

/** Rebuilds the rollup when it was built for another config (or never); true when it did. */
export async function ensureRollup(env: RollupEnv & { db: Db }, nowIso: string): Promise<boolean> {
  if (await rollupCurrent(env.db, env.config)) return false;
  await env.db.transaction().execute((tx) => rebuildRollup(env, tx, nowIso));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reading the cells

export interface CellFilter {
  firstDay: string;
  lastDay: string;
  departmentIds?: readonly string[] | undefined;
  /** Leaf categories (undefined: all). */
  leaves?: readonly string[] | undefined;
  priority?: string | undefined;
}

/** Adds the cells of whole report days [firstDay, lastDay] to the tally (all but the backlog and distinct handoffs). */
export async function tallyCells(db: DbOrTx, filter: CellFilter, tally: MetricsTally): Promise<void> {
  tallyCellRows(await cellRowsIn(db, filter), tally);
}

/** The stored cells of report days [firstDay, lastDay] that the filter keeps. */
function cellRowsIn(db: DbOrTx, filter: CellFilter): Promise<Selectable<ReportCellRow>[]> {
  let query = db.selectFrom('report_cells').selectAll().where('day', '>=', filter.firstDay).where('day', '<=', filter.lastDay);
  if (filter.leaves) query = query.where('category_id', 'in', [...filter.leaves]);
  if (filter.priority !== undefined) query = query.where('priority', '=', filter.priority);
  if (filter.departmentIds) {
    const ids = [...filter.departmentIds];
    query = query.where((eb) => eb.or([eb('department_id', 'in', ids), eb('from_department_id', 'in', ids)]));
  }
  return query.execute();
}

/** What a cell row adds to a tally (stored cells, and cells made on the fly for parts of days). */
function tallyCellRows(rows: Iterable<Selectable<ReportCellRow>>, tally: MetricsTally): void {
  const clocks = new Map<string, ClockTally>();
  for (const r of rows) {
    const dept = r.department_id;
    const from = r.from_department_id;
    const created = Number(r.created);
    if (created !== 0) {
      addTo(tally.createdByCategory, r.category_id, created);
      addTo(tally.createdByDay, r.day, created);
    }
    decodeValuesInto(r.fr_vals, tally.firstResponses);
    const resolved = Number(r.resolved);
    tally.resolved += resolved;
    if (resolved !== 0) addTo(tally.resolvedByDay, r.day, resolved);
    decodeValuesInto(r.res_vals, tally.resolutions);
    tally.firstContact += Number(r.first_contact);
    tally.closed += Number(r.closed);
    tally.closedWithSurvey += Number(r.closed_survey);
    tally.surveyAnswers += Number(r.surveys);
    tally.surveyScoreSum += Number(r.survey_score);
    tally.surveySatisfied += Number(r.survey_satisfied);
    tally.resolvedEvents += Number(r.audit_resolved);
    tally.reopenedEvents += Number(r.audit_reopened);
    const legs = Number(r.legs);
    const returned = Number(r.legs_returned);
    if (legs !== 0 || r.accept_vals || r.duration_vals) {
      const a = legAcc(tally, dept);
      a.legs += legs;
      a.returned += returned;
      decodeValuesInto(r.accept_vals, a.accept);
      decodeValuesInto(r.duration_vals, a.duration);
      if (from !== '') {
        a.handoffs += legs;
        const f = flowAcc(tally, from, dept);
        f.handoffs += legs;
        f.returns += returned;
        decodeValuesInto(r.accept_vals, f.accept);
        decodeValuesInto(r.duration_vals, f.duration);
      }
    }
    if (r.tallies) {
      for (const [key, n] of Object.entries(JSON.parse(r.tallies) as Record<string, number>)) {
        if (n === 0) continue;
        const colon = key.indexOf(':');
        const what = key.slice(0, colon);
        const label = key.slice(colon + 1);
        if (what === 'reason') {
          addTo(tally.returnReasons, label, n);
          continue;
        }
        const clockKey = `${label}${SEP}${dept}`;
        let c = clocks.get(clockKey);
        if (!c) {
          c = { kind: label, departmentId: dept, onTime: 0, late: 0 };
          clocks.set(clockKey, c);
        }
        if (what === 'late') c.late += n;
        else c.onTime += n;
      }
    }
  }
  tally.clocks.push(...clocks.values());
}

/** Half-open instant ranges [fromMs, toMs). */
export type InstantRange = readonly [fromMs: number, toMs: number];

/**
 * Adds to the tally what the given tickets did inside the ranges (parts of report days that no
 * stored cell covers): their contributions are computed from their rows, restricted to those
 * instants, and added as cells are, with the same filter as tallyCells. The caller finds the
 * tickets (those with something in the ranges, by the small indexes on each instant); tickets
 * with nothing in the ranges add nothing.
 */
export async function tallyTicketsInRanges(
  env: RollupEnv,
  db: DbOrTx,
  ticketIds: readonly string[],
  ranges: readonly InstantRange[],
  filter: Omit<CellFilter, 'firstDay' | 'lastDay'>,
  tally: MetricsTally,
): Promise<void> {
  if (ticketIds.length === 0 || ranges.length === 0) return;
  const keep = (ms: number) => ranges.some(([from, to]) => ms >= from && ms < to);
  const leaves = filter.leaves ? new Set(filter.leaves) : undefined;
  const departments = filter.departmentIds ? new Set(filter.departmentIds) : undefined;
  const deltas = new Map<string, RowDelta>();
  for (let i = 0; i < ticketIds.length; i += 500) {
    for (const f of await loadRollupFacts(db, ticketIds.slice(i, i + 500))) {
      if (leaves && !leaves.has(f.ticket.category_id)) continue;
      if (filter.priority !== undefined && f.ticket.priority !== filter.priority) continue;
      for (const [key, { n, v }] of contributionOf(env, f, keep)) {
        const { d, kind, label } = rowDelta(deltas, key);
        addEntry(d, kind, label, n, v, []);
      }
    }
  }
  const rows: Selectable<ReportCellRow>[] = [];
  for (const row of cellRowsOf(deltas.values()) as unknown as Selectable<ReportCellRow>[]) {
    if (departments && !departments.has(row.department_id) && !departments.has(row.from_department_id)) continue;
    rows.push(row);
  }
  tallyCellRows(rows, tally);
}

// ---------------------------------------------------------------------------------------------
// Parts of report days from the stored contributions

/** The part of one report day a period covers (`range`), and the rest of that day. */
export interface PartOfDay {
  day: string;
  range: InstantRange;
  rest: InstantRange[];
}

const iso = (msValue: number) => new Date(msValue).toISOString();

/**
 * How many instants a report counts lie in the range (each branch of ticketsActiveIn in
 * reports/queries.ts, counted off its index alone): the cost of reading that range's tickets.
 */
async function instantsIn(db: DbOrTx, [fromMs, toMs]: InstantRange): Promise<number> {
  if (!(toMs > fromMs)) return 0;
  const from = iso(fromMs);
  const to = iso(toMs);
  const count = (table: string, column: string, also = sql``) =>
    sql`(select count(*) from ${sql.table(table)} where ${sql.ref(column)} >= ${from} and ${sql.ref(column)} < ${to}${also})`;
  const counts = [
    count('tickets', 'created_at'),
    count('tickets', 'first_response_at'),
    count('tickets', 'resolved_at'),
    count('tickets', 'closed_at'),
    count('surveys', 'answered_at'),
    count('audit_events', 'at', sql` and action in ('resolved', 'reopened')`),
    count('clocks', 'met_at'),
    count('clocks', 'breached_at'),
    count('legs', 'opened_at'),
  ];
  const { rows } = await sql<{ n: number | string }>`select ${sql.join(counts, sql` + `)} as n`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** The instant of a ticket each stored entry of these kinds is at (one such instant a ticket). */
type TicketInstant = 'created' | 'first_response' | 'resolved' | 'closed' | 'answered';
const INSTANT_OF_KIND: Partial<Record<string, TicketInstant>> = {
  created: 'created', first_response: 'first_response', resolved: 'resolved', first_contact: 'resolved', closed: 'closed', closed_survey: 'closed',
  survey: 'answered', survey_score: 'answered', survey_satisfied: 'answered',
};

/** What a ticket did inside the ranges, each with the sign of its range (+1 added, -1 taken away). */
interface InstantsFound {
  single: Partial<Record<TicketInstant, number>>;
  audits: { kind: string; at: string; sign: number }[];
  clocks: { row: Pick<ClockRow, 'kind' | 'met_at' | 'breached_at'>; legDepartment: string | null; sign: number }[];
  legs: { row: TicketRollupFacts['legs'][number]; sign: number }[];
}

/** A ticket's department, category and priority, as its stored 'created' entry has them. */
interface StoredTicket { dept: string; category: string; priority: string }

/**
 * Reads a stored contribution (either form) entry by entry — the one parser of both forms
 * (decodeContribution reads every entry through it): `signOf` says what to do with an entry
 * (0: nothing, else add it with that sign), and only then is the rest of it decoded. Returns
 * the ticket's department, category and priority; undefined when it has no 'created' entry.
 */
function scanStored(
  text: string,
  signOf: (kind: string, category: string, priority: string) => number,
  add: (sign: number, kind: string, key: string, n: number, values: readonly number[]) => void,
): StoredTicket | undefined {
  let ticket: StoredTicket | undefined;
  if (text === '') return ticket;
  if (!text.startsWith(COMPACT + SEP)) {
    // The first form: JSON [cell key, n, values?][].
    for (const [key, n, v] of JSON.parse(text) as [string, number, number[]?][]) {
      const [kind, , dept, , category, priority] = key.split(SEP) as [string, string, string, string, string, string];
      if (kind === 'created') ticket = { dept, category, priority };
      const sign = signOf(kind, category, priority);
      if (sign !== 0) add(sign, kind, key, n, v ?? NO_VALUES);
    }
    return ticket;
  }
  // The compact form: `~2 category priority`, then per entry `code day dept from label n [values]`
  // (day and dept left empty when the previous entry's hold).
  const categoryEnd = text.indexOf(SEP, COMPACT.length + 1);
  const category = text.slice(COMPACT.length + 1, categoryEnd);
  let end = text.indexOf(ENTRY, categoryEnd + 1);
  if (end < 0) end = text.length;
  const priority = text.slice(categoryEnd + 1, end);
  let day = '';
  let dept = '';
  while (end < text.length) {
    const start = end + 1;
    end = text.indexOf(ENTRY, start);
    if (end < 0) end = text.length;
    const s1 = text.indexOf(SEP, start);
    const s2 = text.indexOf(SEP, s1 + 1);
    const s3 = text.indexOf(SEP, s2 + 1);
    if (s2 > s1 + 1) day = text.slice(s1 + 1, s2);
    if (s3 > s2 + 1) dept = text.slice(s2 + 1, s3);
    const kind = CONTRIBUTION_KINDS[parseInt(text.slice(start, s1), 36)]!;
    if (kind === 'created') ticket = { dept, category, priority };
    const sign = signOf(kind, category, priority);
    if (sign === 0) continue;
    const [from, label, n, values] = text.slice(s3 + 1, end).split(SEP) as [string, string, string, string | undefined];
    add(sign, kind, cellKey(kind, day, dept, from, category, priority, label), Number(n), values === undefined ? NO_VALUES : values.split(',').map(Number));
  }
  return ticket;
}


/**
 * Adds to the tally what happened in parts of report days (the edges of a period that does not
 * start or end at a day boundary), with the rollup current. Per part, whichever side has fewer
 * instants to read: the part itself, or the whole day's cells less the rest of the day (for
 * "last 7 days" ending now, the rest of today is in the future: the cells alone). The entries
 * at those instants come from the tickets' stored contributions, not from their rows: an entry
 * at a ticket's creation, first response, resolution, closing or survey answer (one each) is
 * taken whole — its duration included — when that instant, read off its small index, lies in a
 * range; the audit rows, clocks and legs found in the ranges are counted as contributionOf counts
 * them. So no ticket's rows or business time is read or computed again, and the figures equal
 * tallyTicketsInRanges' (the property tests hold both to the row path).
 */
export async function tallyPartsOfDays(
  env: RollupEnv,
  db: DbOrTx,
  parts: readonly PartOfDay[],
  filter: Omit<CellFilter, 'firstDay' | 'lastDay'>,
  tally: MetricsTally,
): Promise<void> {
  const added: InstantRange[] = [];
  const takenAway: InstantRange[] = [];
  const fromCells: PartOfDay[] = [];
  const counts = await Promise.all(parts.map((part) => Promise.all([part.range, ...part.rest].map((r) => instantsIn(db, r)))));
  parts.forEach((part, i) => {
    const [inPart, ...inRest] = counts[i]!;
    if (inRest.reduce((a, b) => a + b, 0) < inPart!) {
      fromCells.push(part);
      takenAway.push(...part.rest);
    } else added.push(part.range);
  });
  const deltas = new Map<string, RowDelta>();
  for (const rows of await Promise.all(fromCells.map((part) => cellRowsIn(db, { ...filter, firstDay: part.day, lastDay: part.day })))) for (const row of rows) addCellRow(deltas, row);
  await addEntriesInRanges(env, db, added, takenAway, filter, deltas);
  const departments = filter.departmentIds ? new Set(filter.departmentIds) : undefined;
  const rows: Selectable<ReportCellRow>[] = [];
  for (const d of deltas.values()) {
    for (const c of CELL_VALUES) {
      const removed = d.removed[c];
      if (removed?.length) d.added[c] = minus(d.added[c] ?? [], removed);
    }
  }
  for (const row of cellRowsOf(deltas.values()) as unknown as Selectable<ReportCellRow>[]) {
    if (departments && !departments.has(row.department_id) && !departments.has(row.from_department_id)) continue;
    rows.push(row);
  }
  tallyCellRows(rows, tally);
}

/** A stored cell as a row delta (added to whatever the key holds). */
function addCellRow(deltas: Map<string, RowDelta>, r: Selectable<ReportCellRow>): void {
  const rowKey = [r.day, r.department_id, r.from_department_id, r.category_id, r.priority].join(SEP);
  let d = deltas.get(rowKey);
  if (!d) {
    d = { row: { day: r.day, department_id: r.department_id, from_department_id: r.from_department_id, category_id: r.category_id, priority: r.priority }, counters: {}, added: {}, removed: {}, tallies: new Map() };
    deltas.set(rowKey, d);
  }
  for (const c of CELL_COUNTERS) d.counters[c] = (d.counters[c] ?? 0) + Number(r[c]);
  for (const c of CELL_VALUES) decodeValuesInto(r[c], (d.added[c] ??= []));
  if (r.tallies) for (const [k, n] of Object.entries(JSON.parse(r.tallies) as Record<string, number>)) addTo(d.tallies, k, n);
}

/** Adds the entries at instants in `added` and takes away those in `takenAway` (see tallyPartsOfDays). */
async function addEntriesInRanges(
  env: RollupEnv,
  db: DbOrTx,
  added: readonly InstantRange[],
  takenAway: readonly InstantRange[],
  filter: Omit<CellFilter, 'firstDay' | 'lastDay'>,
  deltas: Map<string, RowDelta>,
): Promise<void> {
  const signed: [InstantRange, number][] = [...added.map((r): [InstantRange, number] => [r, 1]), ...takenAway.map((r): [InstantRange, number] => [r, -1])];
  if (signed.length === 0) return;
  const signOf = (text: string): number => {
    const at = ms(text);
    for (const [[from, to], sign] of signed) if (at >= from && at < to) return sign;
    return 0;
  };
  const rows = await Promise.all(
    signed.map(([[fromMs, toMs]]) => {
      const from = iso(fromMs);
      const to = iso(toMs);
      const tickets = (column: 'created_at' | 'first_response_at' | 'resolved_at' | 'closed_at') =>
        db.selectFrom('tickets').select(['id', 'department_id', `${column} as at`]).where(column, '>=', from).where(column, '<', to).execute();
      const clocks = (column: 'met_at' | 'breached_at') =>
        db
          .selectFrom('clocks as c')
          .leftJoin('legs as l', (j) => j.onRef('l.id', '=', 'c.leg_id').onRef('l.ticket_id', '=', 'c.ticket_id'))
          .select(['c.ticket_id', 'c.kind', 'c.met_at', 'c.breached_at', 'l.department_id as leg_department_id'])
          .where(`c.${column}`, '>=', from)
          .where(`c.${column}`, '<', to)
          .execute();
      return Promise.all([
        tickets('created_at'),
        tickets('first_response_at'),
        tickets('resolved_at'),
        tickets('closed_at'),
        db.selectFrom('surveys').select(['ticket_id as id', 'answered_at as at']).where('answered_at', '>=', from).where('answered_at', '<', to).execute(),
        db.selectFrom('audit_events').select(['ticket_id', 'action', 'at']).where('action', 'in', ['resolved', 'reopened']).where('at', '>=', from).where('at', '<', to).execute(),
        clocks('met_at'),
        clocks('breached_at'),
        db
          .selectFrom('legs')
          .select(['ticket_id', 'id', 'department_id', 'from_department_id', 'state', 'return_reason', 'opened_at', 'accepted_at', 'closed_at'])
          .where('opened_at', '>=', from)
          .where('opened_at', '<', to)
          .execute(),
      ] as const);
    }),
  );
  const created = rows.flatMap((r) => r[0]);
  const firstResponse = rows.flatMap((r) => r[1]);
  const resolved = rows.flatMap((r) => r[2]);
  const closed = rows.flatMap((r) => r[3]);
  const surveys = rows.flatMap((r) => r[4]);
  const audits = rows.flatMap((r) => r[5]);
  const met = rows.flatMap((r) => r[6]);
  const breached = rows.flatMap((r) => r[7]);
  const legs = rows.flatMap((r) => r[8]);

  // With a department filter, what counts for no department in it is left out here rather than at
  // the end (the rows' filter), so those tickets' contributions are not read. A ticket's own
  // entries are in its department (known when a ticket row was read), a leg's in its department
  // and the one it came from, a leg clock's in its leg's.
  const departments = filter.departmentIds ? new Set(filter.departmentIds) : undefined;
  const counted = (departmentId: string | undefined, from = '') => !departments || departmentId === undefined || departments.has(departmentId) || departments.has(from);
  const ticketDepartment = new Map<string, string>();
  for (const list of [created, firstResponse, resolved, closed]) for (const r of list) ticketDepartment.set(r.id, r.department_id);
  const found = new Map<string, InstantsFound>();
  const of = (id: string) => {
    let f = found.get(id);
    if (!f) {
      f = { single: {}, audits: [], clocks: [], legs: [] };
      found.set(id, f);
    }
    return f;
  };
  const single = (instant: TicketInstant, list: readonly { id: string; at: string | null }[]) => {
    for (const r of list) {
      const sign = r.at === null ? 0 : signOf(r.at);
      if (sign !== 0 && counted(ticketDepartment.get(r.id))) of(r.id).single[instant] = sign;
    }
  };
  single('created', created);
  single('first_response', firstResponse);
  single('resolved', resolved);
  single('closed', closed);
  single('answered', surveys);
  for (const a of audits) {
    const sign = signOf(a.at);
    if (sign !== 0 && counted(ticketDepartment.get(a.ticket_id))) of(a.ticket_id).audits.push({ kind: a.action === 'resolved' ? 'audit_resolved' : 'audit_reopened', at: a.at, sign });
  }
  // A breached clock counts (late) at its breach only, so a met one is taken here when not breached.
  for (const [list, late] of [[met, false], [breached, true]] as const) {
    for (const c of list) {
      const at = late ? c.breached_at : c.breached_at === null ? c.met_at : null;
      const sign = at === null ? 0 : signOf(at);
      if (sign !== 0 && counted(c.leg_department_id || ticketDepartment.get(c.ticket_id))) of(c.ticket_id).clocks.push({ row: c, legDepartment: c.leg_department_id, sign });
    }
  }
  for (const l of legs) {
    const sign = signOf(l.opened_at);
    if (sign !== 0 && counted(l.department_id, l.from_department_id ?? '')) of(l.ticket_id).legs.push({ row: l, sign });
  }
  if (found.size === 0) return;

  const { dayOf, measures, deptCalendar } = helpers(env);
  const leaves = filter.leaves ? new Set(filter.leaves) : undefined;
  const ids = [...found.keys()].sort();
  const stored = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 1000) {
    for (const r of await db.selectFrom('report_contributions').select(['ticket_id', 'cells']).where('ticket_id', 'in', ids.slice(i, i + 1000)).execute()) stored.set(r.ticket_id, r.cells);
  }
  const add = (sign: number, kind: string, key: string, n: number, values: readonly number[]) => {
    const { d, label } = rowDelta(deltas, key);
    addEntry(d, kind, label, sign * n, sign > 0 ? values : NO_VALUES, sign < 0 ? values : NO_VALUES);
  };
  // The ticket in hand, read by the closures below (made once: tsx wraps every closure it makes).
  let f: InstantsFound = { single: {}, audits: [], clocks: [], legs: [] };
  let sign = 0;
  let category = '';
  let priority = '';
  const storedSign = (kind: string, entryCategory: string, entryPriority: string): number => {
    const instant = INSTANT_OF_KIND[kind];
    if (instant === undefined || (leaves && !leaves.has(entryCategory)) || (filter.priority !== undefined && entryPriority !== filter.priority)) return 0;
    return f.single[instant] ?? 0;
  };
  const addAt: AddEntry = (kind, atMs, departmentId, from, label, n, value) =>
    add(sign, kind, cellKey(kind, dayOf(atMs), departmentId, from, category, priority, label), n, value === undefined ? NO_VALUES : [value]);
  for (const id of ids) {
    f = found.get(id)!;
    // No stored contribution (not expected while the rollup is current): none in the cells either,
    // so the ticket is left out here too, as from the whole days.
    const ticket = scanStored(stored.get(id) ?? '', storedSign, add);
    if (!ticket) continue;
    ({ category, priority } = ticket);
    if (leaves && !leaves.has(category)) continue;
    if (filter.priority !== undefined && priority !== filter.priority) continue;
    for (const a of f.audits) add(a.sign, a.kind, cellKey(a.kind, dayOf(ms(a.at)), ticket.dept, '', category, priority, ''), 1, NO_VALUES);
    for (const c of f.clocks) {
      sign = c.sign;
      addClockEntry(addAt, c.row, c.legDepartment || ticket.dept);
    }
    for (const l of f.legs) {
      sign = l.sign;
      addLegEntries(addAt, l.row, measures.get(deptCalendar(l.row.department_id)));
    }
  }
}
