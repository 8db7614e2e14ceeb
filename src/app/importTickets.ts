import { createHash } from 'node:crypto';
import type { Config } from '../config/model';
import { ALWAYS, targetMs, type BusinessCalendar } from '../domain/calendar';
import type { Target } from '../domain/duration';
import { markBreachIfDue, meetClock, startClock, stopClock, type ClockState } from '../domain/clock';
import { resolvePolicy } from '../domain/policy';
import { PRIORITIES, type ClockKind, type Priority } from '../domain/types';
import { parseInstant } from '../domain/zone';
import type { BulkRollup, TicketRollupFacts } from '../reports/rollup';
import { bulkInsert } from '../storage/bulk';
import type { Db } from '../storage/database';
import { nextKeyNumber } from '../storage/repos/tickets';
import type { AuditEventRow, ClockRow, LegRow, SurveyRow, TicketRow } from '../storage/tables';

/**
 * `ticketbot import`: past tickets from another system, so reports, the dashboard and anomaly
 * baselines have a history from day one. Each CSV row becomes a ticket with its first leg, its
 * SLA clocks as the engine would have left them had the ticket been worked live (started at
 * created_at, met at the first reply / resolution, breaches where the due time passed), its
 * survey answer and audit rows. Nothing is scheduled (no timers) and nothing is sent (no outbox
 * rows). Rows are written in bulk, a transaction per batch; the report rollup's changes are
 * added up and applied once at the end (reports/rollup.ts BulkRollup).
 *
 * Idempotent by `id`: the ticket's id is `import:<id>` and its key the old id, so a second import
 * of the same file finds them and adds nothing. A row without an id is known by a hash of its
 * cells (the same row imported again is found; its key is a new one of the department's).
 */

export const IMPORT_REQUIRED_COLUMNS = ['created_at', 'category', 'priority', 'requester'] as const;
export const IMPORT_OPTIONAL_COLUMNS = ['id', 'title', 'description', 'assignee', 'first_reply_at', 'resolved_at', 'closed_at', 'reopens', 'score'] as const;

/** A checked CSV row. */
export interface ImportRow {
  line: number;
  /** The old system's key (kept as the ticket key), when the file has one. */
  oldId: string | null;
  /** Ticket id: `import:<id>`, or for a row without an id `import:~<hash of the row>`, so a re-import finds it. */
  ticketId: string;
  createdAt: number;
  categoryId: string;
  departmentId: string;
  priority: Priority;
  requester: string;
  title: string;
  description: string;
  assignee: string | null;
  firstReplyAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  reopens: number;
  score: number | null;
}

export class BadRow extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Checks a header row; returns the column index by name, or the problem. */
export function importColumns(header: readonly string[]): Map<string, number> | string {
  const column = new Map(header.map((name, i) => [name.trim().toLowerCase(), i]));
  const missing = IMPORT_REQUIRED_COLUMNS.filter((name) => !column.has(name));
  if (missing.length) return `missing column(s): ${missing.join(', ')} (required: ${IMPORT_REQUIRED_COLUMNS.join(', ')})`;
  return column;
}

/** Checks one record; throws BadRow naming the line. Times without Z or an offset are in the department calendar's zone. */
export function checkImportRow(config: Config, calendars: ReadonlyMap<string, BusinessCalendar>, column: Map<string, number>, record: readonly string[], line: number): ImportRow {
  const cell = (name: string) => {
    const idx = column.get(name);
    return idx === undefined ? '' : (record[idx] ?? '').trim();
  };
  const bad = (message: string) => new BadRow(line, message);
  const categoryId = cell('category');
  const leaf = config.leaves.get(categoryId);
  if (!leaf) throw bad(`unknown leaf category "${categoryId}"`);
  const priority = cell('priority');
  if (!(PRIORITIES as readonly string[]).includes(priority)) throw bad(`unknown priority "${priority}" (use ${PRIORITIES.join(', ')})`);
  const requester = cell('requester');
  if (requester === '') throw bad('requester is empty');
  const dept = config.departments.get(leaf.department)!;
  const zone = (calendars.get(dept.calendar) ?? ALWAYS).timezone;
  const time = (name: string): number | null => {
    const text = cell(name);
    if (text === '') return null;
    const ms = parseInstant(text, zone);
    if (ms === undefined) throw bad(`${name}: not an ISO-8601 date-time: "${text}"`);
    return ms;
  };
  const createdAt = time('created_at');
  if (createdAt === null) throw bad('created_at is empty');
  const firstReplyAt = time('first_reply_at');
  const resolvedAt = time('resolved_at');
  const closedAt = time('closed_at');
  for (const [name, at] of [['first_reply_at', firstReplyAt], ['resolved_at', resolvedAt], ['closed_at', closedAt]] as const) {
    if (at !== null && at < createdAt) throw bad(`${name} is before created_at`);
  }
  if (resolvedAt !== null && closedAt !== null && closedAt < resolvedAt) throw bad('closed_at is before resolved_at');
  const reopensText = cell('reopens');
  const reopens = reopensText === '' ? 0 : Number(reopensText);
  if (!Number.isInteger(reopens) || reopens < 0) throw bad(`reopens: not a whole number >= 0: "${reopensText}"`);
  const scoreText = cell('score');
  const score = scoreText === '' ? null : Number(scoreText);
  if (score !== null && !(Number.isInteger(score) && score >= 1 && score <= 5)) throw bad(`score: expected 1 to 5, got "${scoreText}"`);
  if (score !== null && closedAt === null && resolvedAt === null) throw bad('score given for a ticket that was never resolved or closed');
  const oldId = cell('id');
  if (oldId.length > 64) throw bad('id is longer than 64 characters');
  return {
    line,
    oldId: oldId === '' ? null : oldId,
    ticketId: oldId !== '' ? `import:${oldId}` : `import:~${createHash('sha256').update(record.map((c) => c.trim()).join('\u001f')).digest('hex').slice(0, 24)}`,
    createdAt,
    categoryId,
    departmentId: dept.id,
    priority: priority as Priority,
    requester,
    title: cell('title') || (oldId ? `Imported ${oldId}` : `Imported line ${line}`),
    description: cell('description'),
    assignee: cell('assignee') || null,
    firstReplyAt,
    resolvedAt,
    closedAt,
    reopens,
    score,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

function clockRow(id: string, ticketId: string, s: ClockState, now: string): ClockRow {
  return {
    id, ticket_id: ticketId, leg_id: null, kind: s.kind, cycle: s.cycle, target_ms: s.targetMs, calendar_id: s.calendarId, policy_id: s.policyId,
    started_at: s.startedAt, elapsed_ms: s.elapsedMs, running_since: s.runningSince, paused_at: s.pausedAt, due_at: s.dueAt, met_at: s.metAt,
    breached_at: s.breachedAt, status: s.status, log: JSON.stringify(s.log.slice(-10)), updated_at: now,
  };
}

export interface ImportedRows {
  ticket: TicketRow;
  leg: LegRow;
  clocks: ClockRow[];
  survey: SurveyRow | null;
  audits: AuditEventRow[];
}

/** resolvePolicy depends only on the config, priority, category and department: once per combination. */
const policies = new WeakMap<Config, Map<string, ReturnType<typeof resolvePolicy>>>();
function policyOf(config: Config, row: ImportRow): ReturnType<typeof resolvePolicy> {
  let byKey = policies.get(config);
  if (!byKey) policies.set(config, (byKey = new Map()));
  const key = `${row.priority}\u0001${row.categoryId}\u0001${row.departmentId}`;
  let policy = byKey.get(key);
  if (!policy) byKey.set(key, (policy = resolvePolicy(config, { priority: row.priority, categoryId: row.categoryId, departmentId: row.departmentId })));
  return policy;
}

/** The rows of one imported ticket: its clocks as the SLA engine computes them. */
export function planImportedTicket(config: Config, calendars: ReadonlyMap<string, BusinessCalendar>, row: ImportRow, ticketId: string, key: string, nowMs: number): ImportedRows {
  const now = iso(nowMs);
  const created = iso(row.createdAt);
  const ended = row.closedAt ?? row.resolvedAt;
  const state = row.closedAt !== null ? 'closed' : row.resolvedAt !== null ? 'resolved' : row.firstReplyAt !== null ? 'in_progress' : row.assignee ? 'assigned' : 'new';
  const policy = policyOf(config, row);
  const calendar = calendars.get(policy.calendarId) ?? ALWAYS;
  const clocks: ClockRow[] = [];
  const wanted: [ClockKind, Target | undefined, number | null][] = [
    ['first_response', policy.firstResponse, row.firstReplyAt],
    ['resolution', policy.resolution, row.resolvedAt],
  ];
  for (const [kind, target, metAt] of wanted) {
    if (target === undefined) continue;
    // A `wd` target becomes business time from the ticket's creation, as a live clock would.
    let s = startClock({ kind, targetMs: targetMs(calendar, target, row.createdAt), calendar, policyId: policy.id, now: created, reason: 'imported' });
    if (metAt !== null) s = meetClock(s, calendar, iso(metAt));
    else if (ended !== null) s = stopClock(markBreachIfDue(s, iso(ended)), calendar, iso(ended), 'imported: ended without it');
    else s = markBreachIfDue(s, now);
    clocks.push(clockRow(`${ticketId}:${kind}`, ticketId, s, now));
  }
  const legId = `${ticketId}:leg1`;
  const ticket: TicketRow = {
    id: ticketId, key, department_id: row.departmentId, home_department_id: row.departmentId, category_id: row.categoryId, priority: row.priority,
    title: row.title, description: row.description, state, requester_id: row.requester, assignee_id: row.assignee, sensitive: 0, locale: config.raw.locale,
    source_platform: 'import', source_ref: row.oldId, current_leg_id: legId, public_reply_count: row.firstReplyAt !== null ? 1 : 0, reopen_count: row.reopens,
    version: 1, created_at: created, updated_at: now,
    first_response_at: row.firstReplyAt === null ? null : iso(row.firstReplyAt),
    resolved_at: row.resolvedAt === null ? null : iso(row.resolvedAt),
    closed_at: row.closedAt === null ? null : iso(row.closedAt),
  };
  const leg: LegRow = {
    id: legId, ticket_id: ticketId, seq: 1, department_id: row.departmentId, from_department_id: null, state: ended !== null ? 'done' : 'accepted',
    assignee_id: row.assignee, reason: null, note: null, return_reason: null, opened_by: 'import', opened_at: created, accepted_at: created,
    closed_at: ended === null ? null : iso(ended),
  };
  const audit = (action: string, at: string, data?: Record<string, unknown>): AuditEventRow => ({
    id: `${ticketId}:${action}`, ticket_id: ticketId, at, actor_id: 'import', action, from_state: null, to_state: null, reason: null,
    data: data ? JSON.stringify(data) : null, event_key: null, message_ref: null,
  });
  const audits = [audit('imported', created, { line: row.line, ...(row.oldId ? { id: row.oldId } : {}) })];
  if (row.resolvedAt !== null) audits.push(audit('resolved', iso(row.resolvedAt)));
  if (row.closedAt !== null) audits.push(audit('closed', iso(row.closedAt)));
  const survey = row.score !== null && ended !== null ? { ticket_id: ticketId, user_id: row.requester, score: row.score, comment: null, answered_at: iso(ended) } : null;
  return { ticket, leg, clocks, survey, audits };
}

export interface ImportBatchResult {
  imported: number;
  /** Rows whose id was imported before. */
  existing: number;
  /** Rows refused by the database check (a key another ticket has). */
  refused: BadRow[];
}

/** What the report rollup reads of an imported ticket, from the rows about to be written. */
export function rollupFactsOf(p: ImportedRows): TicketRollupFacts {
  return {
    ticket: p.ticket,
    clocks: p.clocks,
    legs: [p.leg],
    survey: p.survey ?? undefined,
    resolvedAudits: p.audits.filter((a) => a.action === 'resolved').map((a) => a.at),
    reopenedAudits: p.audits.filter((a) => a.action === 'reopened').map((a) => a.at),
  };
}

/** Tickets planned and written at a time inside a batch's transaction. */
const PLAN_SLICE = 256;

/** Writes one batch of checked rows in one transaction (rollup included). */
export async function importBatch(env: { db: Db; config: Config; calendars: ReadonlyMap<string, BusinessCalendar> }, bulk: BulkRollup, rows: readonly ImportRow[], nowMs: number): Promise<ImportBatchResult> {
  return env.db.transaction().execute(async (tx) => {
    const ids = rows.map((r) => r.ticketId);
    const keys = rows.flatMap((r) => (r.oldId !== null ? [r.oldId.toUpperCase()] : []));
    const known = new Set<string>();
    const takenKeys = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      for (const r of await tx.selectFrom('tickets').select('id').where('id', 'in', ids.slice(i, i + 500)).execute()) known.add(r.id);
    }
    for (let i = 0; i < keys.length; i += 500) {
      for (const r of await tx.selectFrom('tickets').select(['id', 'key']).where('key', 'in', keys.slice(i, i + 500)).execute()) takenKeys.set(r.key, r.id);
    }
    const result: ImportBatchResult = { imported: 0, existing: 0, refused: [] };
    const accepted: { row: ImportRow; key: string }[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      if (known.has(row.ticketId) || seen.has(row.ticketId)) {
        result.existing++;
        continue;
      }
      let key: string;
      if (row.oldId !== null) {
        key = row.oldId.toUpperCase();
        const holder = takenKeys.get(key) ?? (seen.has(`key:${key}`) ? '(this file)' : undefined);
        if (holder !== undefined && holder !== row.ticketId) {
          result.refused.push(new BadRow(row.line, `id "${row.oldId}": key ${key} belongs to another ticket`));
          continue;
        }
        seen.add(`key:${key}`);
      } else {
        const dept = env.config.departments.get(row.departmentId)!;
        key = `${dept.keyPrefix}-${await nextKeyNumber(tx, dept.keyPrefix)}`;
      }
      seen.add(row.ticketId);
      accepted.push({ row, key });
    }
    // Planned, written and let go a slice at a time: the rows of a whole batch held at once
    // outlive the young generation and are promoted, which is most of the import's heap growth.
    for (let i = 0; i < accepted.length; i += PLAN_SLICE) {
      const planned = accepted.slice(i, i + PLAN_SLICE).map(({ row, key }) => planImportedTicket(env.config, env.calendars, row, row.ticketId, key, nowMs));
      // Multi-row inserts as prepared text (storage/bulk.ts); the rollup from the rows in hand.
      await bulkInsert(tx, 'tickets', planned.map((p) => p.ticket));
      await bulkInsert(tx, 'legs', planned.map((p) => p.leg));
      await bulkInsert(tx, 'clocks', planned.flatMap((p) => p.clocks));
      await bulkInsert(tx, 'surveys', planned.flatMap((p) => (p.survey ? [p.survey] : [])));
      await bulkInsert(tx, 'audit_events', planned.flatMap((p) => p.audits));
      await bulk.addNew(tx, planned.map(rollupFactsOf));
    }
    result.imported = accepted.length;
    return result;
  });
}
