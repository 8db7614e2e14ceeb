import { createHash } from 'node:crypto';
import { PostgresAdapter, sql } from 'kysely';
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
import { takeRollupDirty } from '../storage/repos/dirty';
import type { ClockRow, LegRow, SurveyRow, TicketRow } from '../storage/tables';

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
  return [kind, day, departmentId, fromDepartmentId, categoryId, priority, label].join(SEP);
}

const ms = (text: string): number => Date.parse(text);

/** The cells one ticket adds (the same definitions as the row path in reports/queries.ts). */
export function contributionOf(env: RollupEnv, f: TicketRollupFacts): Contribution {
  const { dayOf, measures, deptCalendar } = helpers(env);
  const out: Contribution = new Map();
  const t = f.ticket;
  const add = (kind: string, atMs: number, departmentId: string, from: string, label: string, n: number, value?: number) => {
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
  for (const c of f.clocks) {
    // Leg clocks count for the leg's department; a clock whose leg row is missing, for the ticket's.
    const attributed = (c.leg_id !== null && legDept.get(c.leg_id)) || dept;
    if (c.breached_at !== null) add('clock_late', ms(c.breached_at), attributed, '', c.kind, 1);
    else if (c.met_at !== null) add('clock_on_time', ms(c.met_at), attributed, '', c.kind, 1);
  }
  for (const l of f.legs) {
    const opened = ms(l.opened_at);
    const from = l.from_department_id ?? '';
    const measure = measures.get(deptCalendar(l.department_id));
    const returned = l.state === 'returned' || l.return_reason !== null;
    add('leg', opened, l.department_id, from, '', 1);
    if (returned) add('leg_returned', opened, l.department_id, from, '', 1);
    if (returned && from !== '') add('return_reason', opened, l.department_id, from, l.return_reason ?? '', 1);
    if (l.accepted_at !== null) add('leg_accept', opened, l.department_id, from, '', 0, measure.between(opened, ms(l.accepted_at)));
    if (l.closed_at !== null) add('leg_duration', opened, l.department_id, from, '', 0, measure.between(opened, ms(l.closed_at)));
  }
  return out;
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
    db.selectFrom('audit_events').select(['ticket_id', 'action', 'at']).where('ticket_id', 'in', ids).where('action', 'in', ['resolved', 'reopened']).execute(),
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

function encodeContribution(c: Contribution): string {
  return JSON.stringify([...c].map(([k, { n, v }]) => (v.length ? [k, n, v] : [k, n])));
}

function decodeContribution(text: string | undefined): Contribution {
  const out: Contribution = new Map();
  if (!text) return out;
  for (const [k, n, v] of JSON.parse(text) as [string, number, number[]?][]) out.set(k, { n, v: v ?? [] });
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

function splitKey(key: string) {
  const [kind, day, department_id, from_department_id, category_id, priority, label] = key.split(SEP) as [string, string, string, string, string, string, string];
  return { kind, day, department_id, from_department_id, category_id, priority, label };
}

/** Adds `dn` and the value changes to one cell (creating it), under the cell's row lock on PostgreSQL. */
async function applyCellDelta(db: DbOrTx, key: string, dn: number, added: number[], removed: number[]): Promise<void> {
  const k = splitKey(key);
  const pk = ['day', 'kind', 'department_id', 'from_department_id', 'category_id', 'priority', 'label'] as const;
  if (added.length === 0 && removed.length === 0) {
    await db
      .insertInto('report_cells')
      .values({ ...k, n: dn, vals: null })
      .onConflict((oc) => oc.columns([...pk]).doUpdateSet({ n: sql`report_cells.n + excluded.n` }))
      .execute();
    return;
  }
  await db
    .insertInto('report_cells')
    .values({ ...k, n: 0, vals: null })
    .onConflict((oc) => oc.columns([...pk]).doNothing())
    .execute();
  let select = db
    .selectFrom('report_cells')
    .select(['vals'])
    .where('day', '=', k.day)
    .where('kind', '=', k.kind)
    .where('department_id', '=', k.department_id)
    .where('from_department_id', '=', k.from_department_id)
    .where('category_id', '=', k.category_id)
    .where('priority', '=', k.priority)
    .where('label', '=', k.label);
  if (isPostgres(db)) select = select.forUpdate();
  const row = await select.executeTakeFirstOrThrow();
  const values: number[] = [];
  decodeValuesInto(row.vals, values);
  const kept = minus(values, removed);
  for (const v of added) kept.push(v);
  await db
    .updateTable('report_cells')
    .set({ n: sql`n + ${dn}`, vals: kept.length ? encodeValues(kept) : null })
    .where('day', '=', k.day)
    .where('kind', '=', k.kind)
    .where('department_id', '=', k.department_id)
    .where('from_department_id', '=', k.from_department_id)
    .where('category_id', '=', k.category_id)
    .where('priority', '=', k.priority)
    .where('label', '=', k.label)
    .execute();
}

/** Applies new contributions against the stored ones. */
async function refreshTickets(env: RollupEnv, db: DbOrTx, ticketIds: string[]): Promise<void> {
  const facts = await loadRollupFacts(db, ticketIds);
  const fresh = new Map(facts.map((f) => [f.ticket.id, contributionOf(env, f)]));
  const stored = await db.selectFrom('report_contributions').select(['ticket_id', 'cells']).where('ticket_id', 'in', ticketIds).execute();
  const storedText = new Map(stored.map((r) => [r.ticket_id, r.cells]));
  const deltas = new Map<string, { dn: number; added: number[]; removed: number[] }>();
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
      const d = deltas.get(key) ?? { dn: 0, added: [], removed: [] };
      d.dn += b.n - a.n;
      d.added.push(...added);
      d.removed.push(...removed);
      deltas.set(key, d);
    }
    if (nextText === undefined) await db.deleteFrom('report_contributions').where('ticket_id', '=', id).execute();
    else
      await db
        .insertInto('report_contributions')
        .values({ ticket_id: id, cells: nextText })
        .onConflict((oc) => oc.column('ticket_id').doUpdateSet({ cells: nextText }))
        .execute();
  }
  // A fixed order, so two transactions on PostgreSQL lock shared cells in the same order.
  for (const key of [...deltas.keys()].sort()) {
    const d = deltas.get(key)!;
    await applyCellDelta(db, key, d.dn, d.added, d.removed);
  }
}

/** Brings the cells up to date with the tickets written through `db` (a transaction) since the last flush. */
export async function flushRollup(env: RollupEnv, db: DbOrTx): Promise<void> {
  const ids = takeRollupDirty(db);
  if (ids.length) await refreshTickets(env, db, ids);
}

/** Recomputes every cell from the tickets and records the fingerprint; run inside one transaction. */
export async function rebuildRollup(env: RollupEnv, db: DbOrTx, nowIso: string, batch = 2000): Promise<{ tickets: number; cells: number }> {
  await db.deleteFrom('report_cells').execute();
  await db.deleteFrom('report_contributions').execute();
  const cells: Contribution = new Map();
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
        let cell = cells.get(key);
        if (!cell) {
          cell = { n: 0, v: [] };
          cells.set(key, cell);
        }
        cell.n += n;
        for (const x of v) cell.v.push(x);
      }
      if (c.size) rows.push({ ticket_id: f.ticket.id, cells: encodeContribution(c) });
    }
    tickets += ids.length;
    for (let i = 0; i < rows.length; i += 200) await db.insertInto('report_contributions').values(rows.slice(i, i + 200)).execute();
  }
  const cellRows = [...cells].map(([key, { n, v }]) => ({ ...splitKey(key), n, vals: v.length ? encodeValues(v) : null }));
  for (let i = 0; i < cellRows.length; i += 200) await db.insertInto('report_cells').values(cellRows.slice(i, i + 200)).execute();
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
  let query = db
    .selectFrom('report_cells')
    .select(['kind', 'day', 'department_id', 'from_department_id', 'category_id', 'label', 'n', 'vals'])
    .where('day', '>=', filter.firstDay)
    .where('day', '<=', filter.lastDay);
  if (filter.leaves) query = query.where('category_id', 'in', [...filter.leaves]);
  if (filter.priority !== undefined) query = query.where('priority', '=', filter.priority);
  if (filter.departmentIds) {
    const ids = [...filter.departmentIds];
    query = query.where((eb) => eb.or([eb('department_id', 'in', ids), eb('from_department_id', 'in', ids)]));
  }
  const clocks = new Map<string, ClockTally>();
  for (const r of await query.execute()) {
    const n = Number(r.n);
    const dept = r.department_id;
    const from = r.from_department_id;
    switch (r.kind) {
      case 'created':
        if (n === 0) break;
        addTo(tally.createdByCategory, r.category_id, n);
        addTo(tally.createdByDay, r.day, n);
        break;
      case 'first_response':
        decodeValuesInto(r.vals, tally.firstResponses);
        break;
      case 'resolved':
        tally.resolved += n;
        if (n !== 0) addTo(tally.resolvedByDay, r.day, n);
        decodeValuesInto(r.vals, tally.resolutions);
        break;
      case 'first_contact':
        tally.firstContact += n;
        break;
      case 'closed':
        tally.closed += n;
        break;
      case 'closed_survey':
        tally.closedWithSurvey += n;
        break;
      case 'survey':
        tally.surveyAnswers += n;
        break;
      case 'survey_score':
        tally.surveyScoreSum += n;
        break;
      case 'survey_satisfied':
        tally.surveySatisfied += n;
        break;
      case 'audit_resolved':
        tally.resolvedEvents += n;
        break;
      case 'audit_reopened':
        tally.reopenedEvents += n;
        break;
      case 'clock_on_time':
      case 'clock_late': {
        if (n === 0) break;
        const key = `${r.label}${SEP}${dept}`;
        let c = clocks.get(key);
        if (!c) {
          c = { kind: r.label, departmentId: dept, onTime: 0, late: 0 };
          clocks.set(key, c);
        }
        if (r.kind === 'clock_late') c.late += n;
        else c.onTime += n;
        break;
      }
      case 'leg':
        if (n === 0) break;
        legAcc(tally, dept).legs += n;
        if (from !== '') {
          legAcc(tally, dept).handoffs += n;
          flowAcc(tally, from, dept).handoffs += n;
        }
        break;
      case 'leg_returned':
        if (n === 0) break;
        legAcc(tally, dept).returned += n;
        if (from !== '') flowAcc(tally, from, dept).returns += n;
        break;
      case 'return_reason':
        if (n !== 0) addTo(tally.returnReasons, r.label, n);
        break;
      case 'leg_accept':
      case 'leg_duration': {
        if (!r.vals || r.vals.byteLength === 0) break;
        const field = r.kind === 'leg_accept' ? 'accept' : 'duration';
        decodeValuesInto(r.vals, legAcc(tally, dept)[field]);
        if (from !== '') decodeValuesInto(r.vals, flowAcc(tally, from, dept)[field]);
        break;
      }
    }
  }
  tally.clocks.push(...clocks.values());
}
