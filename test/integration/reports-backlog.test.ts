import { calendarsFromConfig } from '../../src/domain/calendar';
import { loadMetrics, loadMetricsFromRows, type ReportFilter, type ReportSource } from '../../src/reports/queries';
import { rebuildRollup } from '../../src/reports/rollup';
import { sql } from 'kysely';
import type { Storage } from '../../src/storage/database';
import { insertTicket } from '../../src/storage/repos/tickets';
import type { TicketRow } from '../../src/storage/tables';
import { reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

/**
 * The backlog at an instant, case by case, against the row path: each of its three cases
 * (neither time set; resolved after the instant; closed after it without a resolution), tickets
 * on either side of the instant and of every age bucket's limit, to the millisecond.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Report-day boundary (Asia/Shanghai midnight) and the instant the backlog is counted at. */
const AS_OF = Date.parse('2026-03-31T16:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

let n = 0;
function ticket(dept: string, created: number, times: { fr?: number; resolved?: number; closed?: number; state?: string } = {}): TicketRow {
  n++;
  const state = times.state ?? (times.closed !== undefined ? 'closed' : times.resolved !== undefined ? 'resolved' : times.fr !== undefined ? 'in_progress' : 'new');
  return {
    id: `b${String(n).padStart(3, '0')}`, key: `B-${n}`, department_id: dept, home_department_id: dept, category_id: n % 2 ? 'crash' : 'refund-request', priority: n % 3 ? 'normal' : 'high',
    title: 't', description: 'd', state, requester_id: 'u', assignee_id: n % 4 ? null : 'agent-1', sensitive: 0, locale: 'en', source_platform: 'slack', source_ref: null,
    current_leg_id: null, public_reply_count: 0, reopen_count: 0, version: 1, created_at: iso(created), updated_at: iso(created),
    first_response_at: times.fr === undefined ? null : iso(times.fr), resolved_at: times.resolved === undefined ? null : iso(times.resolved), closed_at: times.closed === undefined ? null : iso(times.closed),
  };
}

function history(): TicketRow[] {
  const rows: TicketRow[] = [];
  for (const dept of ['it', 'finance']) {
    // Unfinished: on both sides of each age limit and of the instant itself.
    for (const limit of [DAY, 3 * DAY, 7 * DAY, 40 * DAY]) for (const d of [-1, 0, 1]) rows.push(ticket(dept, AS_OF - limit + d));
    for (const d of [-1, 0, 1]) rows.push(ticket(dept, AS_OF + d));
    rows.push(ticket(dept, AS_OF - 2 * DAY, { fr: AS_OF - DAY }));
    // Neither time set, not open by its state, created long before the period: not in it at all.
    rows.push(ticket(dept, AS_OF - 60 * DAY, { state: 'resolved' }));
    // Resolved at, just before, and after the instant; closed before, at or after it.
    for (const d of [-1, 0, 1, 5 * HOUR]) rows.push(ticket(dept, AS_OF - 2 * DAY - d, { fr: AS_OF - 2 * DAY, resolved: AS_OF + d }));
    for (const d of [-1, 0, 1, 5 * HOUR]) rows.push(ticket(dept, AS_OF - 8 * DAY, { fr: AS_OF - 7 * DAY, resolved: AS_OF + HOUR, closed: AS_OF + d }));
    rows.push(ticket(dept, AS_OF - 50 * DAY, { fr: AS_OF - 49 * DAY, resolved: AS_OF + HOUR, closed: AS_OF + 2 * HOUR }));
    // Closed without a resolution: before, at and after the instant.
    for (const d of [-1, 0, 1, 3 * DAY]) rows.push(ticket(dept, AS_OF - DAY - d, { fr: AS_OF - DAY, closed: AS_OF + d }));
    rows.push(ticket(dept, AS_OF - 45 * DAY, { closed: AS_OF + DAY }));
  }
  return rows;
}

describe.each(storageVariants())('backlog at an instant on $name', (variant) => {
  let storage: Storage;
  const config = reportConfig();
  let src: ReportSource;

  beforeAll(async () => {
    storage = await variant.open();
    src = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
    await storage.db.transaction().execute(async (tx) => {
      for (const row of history()) await insertTicket(tx, row);
    });
    await storage.db.transaction().execute((tx) => rebuildRollup(src, tx, iso(AS_OF - 90 * DAY)));
  });
  afterAll(async () => {
    await storage.close();
  });

  const filters: [string, ReportFilter][] = [
    ['all departments, 30 whole days', { fromMs: AS_OF - 30 * DAY, toMs: AS_OF }],
    ['one department', { fromMs: AS_OF - 30 * DAY, toMs: AS_OF, departmentIds: ['finance'] }],
    ['a category and a priority', { fromMs: AS_OF - 7 * DAY, toMs: AS_OF, categoryId: 'crash', priority: 'normal' }],
    ['an agent', { fromMs: AS_OF - 30 * DAY, toMs: AS_OF, agentId: 'agent-1' }],
    ['a period not on day boundaries', { fromMs: AS_OF - 3 * DAY - 5 * HOUR, toMs: AS_OF - 7 * HOUR }],
    ['an instant before the period end', { fromMs: AS_OF - 30 * DAY, toMs: AS_OF, asOfMs: AS_OF - DAY }],
  ];

  it.each(filters)('%s: the figures of the row path', async (_name, filter) => {
    const report = await loadMetrics(src, filter, AS_OF + 10 * DAY);
    expect(report).toEqual(await loadMetricsFromRows(src, filter, AS_OF + 10 * DAY));
    if (filter.categoryId === undefined && filter.agentId === undefined) expect(report.backlog.open).toBeGreaterThan(10);
  });

  it('counts each case, the instant and every age limit to the millisecond', async () => {
    const report = await loadMetrics(src, { fromMs: AS_OF - 30 * DAY, toMs: AS_OF, departmentIds: ['it'] }, AS_OF + 10 * DAY);
    // Per department: unfinished 12 + 2 (created at or before the instant) + 1; resolved after it
    // and not closed by then 2 + 2 + 1; closed after it without a resolution 2 + 1.
    expect(report.backlog.open).toBe(23);
    // An age exactly at a limit is in the next bucket (age < limit): unfinished 3 / 4 / 3 / 5,
    // resolved after 0 / 2 / 0 / 3, closed without a resolution 0 / 1 / 1 / 1.
    expect(report.backlog.ages.map((b) => b.count)).toEqual([3, 7, 4, 9]);
    expect(report.backlog.oldestAgeMs).toBe(50 * DAY);
  });

  it('derives created_ms from created_at in the database (migration 019), and PostgreSQL vacuumed the rewritten table', async () => {
    const rows = await storage.db.selectFrom('tickets').select(['created_at', 'created_ms']).execute();
    expect(rows.length).toBeGreaterThan(50);
    for (const r of rows) expect(Number(r.created_ms)).toBe(Date.parse(r.created_at));
    if (storage.dialect === 'postgres') {
      // migrate() runs 019's VACUUM once the migration committed: index-only backlog scans need the visibility map.
      const vacuumed = await sql<{ relname: string }>`select relname from pg_stat_user_tables where schemaname = current_schema() and relname = 'tickets' and last_vacuum is not null`.execute(storage.db);
      expect(vacuumed.rows).toEqual([{ relname: 'tickets' }]);
    }
  });
});
