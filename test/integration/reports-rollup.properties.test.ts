import fc from 'fast-check';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { loadMetrics, loadMetricsFromRows, wholeReportDays, type ReportFilter, type ReportSource } from '../../src/reports/queries';
import { decodeContribution, flushRollup, rebuildRollup } from '../../src/reports/rollup';
import type { Db, Storage, Tx } from '../../src/storage/database';
import { upsertClock } from '../../src/storage/repos/clocks';
import { insertAudit } from '../../src/storage/repos/journal';
import { insertLeg, insertTicket, updateLeg, updateTicket } from '../../src/storage/repos/tickets';
import type { ClockRow, LegRow, TicketRow } from '../../src/storage/tables';
import { reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

/**
 * The rollup against a straight recomputation: random ticket histories are written through the
 * repositories (as the use cases write them: a transaction per step, the rollup flushed before
 * each commit), then every summary of whole report days must equal the one computed from the rows,
 * and the incrementally kept cells must equal freshly rebuilt ones. Periods are whole report days
 * (cells only) or start and end anywhere (cells for the whole days inside, the tickets' rows for
 * the parts of days at the edges).
 */

const MIN = 60_000;
const DAY = 86_400_000;
/** Monday 2026-03-02 00:00 in Asia/Shanghai, the report zone of reportConfig(). */
const START = Date.parse('2026-03-01T16:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const DEPTS = ['it', 'finance'] as const;
const LEAVES = ['wrong-password', 'no-code', 'crash', 'refund-request'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const minutes = (max: number) => fc.integer({ min: 1, max });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const ticketArb = fc.record({
  dept: fc.constantFrom(...DEPTS),
  leaf: fc.constantFrom(...LEAVES),
  priority: fc.constantFrom(...PRIORITIES),
  createdMin: fc.integer({ min: 0, max: 12 * 24 * 60 }),
  frMin: maybe(minutes(3 * 24 * 60)),
  resolveMin: maybe(minutes(4 * 24 * 60)),
  closeMin: maybe(minutes(2 * 24 * 60)),
  reopened: fc.boolean(),
  replies: fc.integer({ min: 0, max: 2 }),
  frCalendar: fc.constantFrom('cn-office', 'always'),
  frBreached: fc.boolean(),
  handoff: maybe(fc.record({ afterMin: minutes(24 * 60), acceptMin: maybe(minutes(600)), returned: fc.boolean(), closeMin: maybe(minutes(2000)), breached: fc.boolean() })),
  survey: maybe(fc.record({ score: fc.integer({ min: 1, max: 5 }), afterMin: minutes(600) })),
  // A later step: moved, recategorised, reprioritised, reopened, or a late breach.
  change: maybe(
    fc.record({ dept: maybe(fc.constantFrom(...DEPTS)), leaf: maybe(fc.constantFrom(...LEAVES)), priority: maybe(fc.constantFrom(...PRIORITIES)), reopen: fc.boolean(), breachResolution: fc.boolean() }),
  ),
});
type TicketSpec = typeof ticketArb extends fc.Arbitrary<infer T> ? T : never;

const filterArb = fc.record({
  firstDay: fc.integer({ min: 0, max: 16 }),
  days: fc.integer({ min: 1, max: 9 }),
  nowDay: fc.integer({ min: 0, max: 20 }),
  dept: maybe(fc.constantFrom(...DEPTS)),
  category: maybe(fc.constantFrom('fault', 'login', 'crash', 'after-sales', 'refund-request', 'unknown')),
  priority: maybe(fc.constantFrom(...PRIORITIES)),
  // Periods not on report-day boundaries ("last 7 days" counted back from now): shifts of the
  // start and end by any number of milliseconds within a day, hours and minutes most often.
  fromShift: maybe(fc.oneof(fc.integer({ min: -23, max: 23 }).map((h) => h * 3_600_000), fc.integer({ min: -DAY + 1, max: DAY - 1 }))),
  toShift: maybe(fc.oneof(fc.integer({ min: -23, max: 23 }).map((h) => h * 3_600_000), fc.integer({ min: -DAY + 1, max: DAY - 1 }))),
});

async function write(db: Db, src: ReportSource, step: (tx: Tx) => Promise<void>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await step(tx);
    await flushRollup(src, tx);
  });
}

async function writeTicket(db: Db, src: ReportSource, i: number, s: TicketSpec): Promise<void> {
  const id = `t${String(i).padStart(3, '0')}`;
  const created = START + s.createdMin * MIN;
  const fr = s.frMin === null ? null : created + s.frMin * MIN;
  const resolved = fr !== null && s.resolveMin !== null ? fr + s.resolveMin * MIN : null;
  const closed = resolved !== null && s.closeMin !== null ? resolved + s.closeMin * MIN : null;
  // A reopened ticket keeps its last resolution time but is not resolved any more.
  const state = resolved !== null && s.reopened && closed === null ? 'in_progress' : closed !== null ? 'closed' : resolved !== null ? 'resolved' : fr !== null ? 'in_progress' : 'new';
  const ticket: TicketRow = {
    id, key: `K-${i}`, department_id: s.dept, home_department_id: s.dept, category_id: s.leaf, priority: s.priority, title: 't', description: 'd', state,
    requester_id: 'u', assignee_id: null, sensitive: 0, locale: 'en', source_platform: 'slack', source_ref: null, current_leg_id: null,
    public_reply_count: s.replies, reopen_count: s.reopened ? 1 : 0, version: 1, created_at: iso(created), updated_at: iso(created),
    first_response_at: fr === null ? null : iso(fr), resolved_at: resolved === null ? null : iso(resolved), closed_at: closed === null ? null : iso(closed),
  };
  const clockRow = (kind: string, met: number | null, breachedAt: number | null, calendar: string, legId: string | null = null): ClockRow => ({
    id: `${id}:${kind}`, ticket_id: id, leg_id: legId, kind, cycle: 1, target_ms: 3_600_000, calendar_id: calendar, policy_id: null, started_at: iso(created), elapsed_ms: 0,
    running_since: null, paused_at: null, due_at: null, met_at: met === null ? null : iso(met), breached_at: breachedAt === null ? null : iso(breachedAt), status: met === null ? 'running' : 'met', log: '[]', updated_at: iso(created),
  });
  const firstLeg: LegRow = {
    id: `${id}:1`, ticket_id: id, seq: 1, department_id: s.dept, from_department_id: null, state: 'accepted', assignee_id: null, reason: null, note: null, return_reason: null,
    opened_by: 'system', opened_at: iso(created), accepted_at: iso(created), closed_at: null,
  };
  const audit = (action: string, at: number) => ({ id: `${id}:${action}:${at}`, ticket_id: id, at: iso(at), actor_id: 'system', action, from_state: null, to_state: null, reason: null, data: null, event_key: null, message_ref: null });
  await write(db, src, async (tx) => {
    await insertTicket(tx, { ...ticket, state: 'new', first_response_at: null, resolved_at: null, closed_at: null, public_reply_count: 0, reopen_count: 0 });
    await insertLeg(tx, firstLeg);
    await upsertClock(tx, clockRow('first_response', null, null, s.frCalendar));
    await upsertClock(tx, clockRow('resolution', null, null, s.frCalendar === 'always' ? 'always' : 'cn-office'));
  });
  // The ticket worked to its final state in one more step.
  await write(db, src, async (tx) => {
    const current = await tx.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await updateTicket(tx, current, { state: ticket.state, first_response_at: ticket.first_response_at, resolved_at: ticket.resolved_at, closed_at: ticket.closed_at, public_reply_count: ticket.public_reply_count, reopen_count: ticket.reopen_count });
    const breach = s.frBreached ? created + 30 * MIN : null;
    await upsertClock(tx, clockRow('first_response', fr, breach !== null && (fr === null || breach < fr) ? breach : null, s.frCalendar));
    await upsertClock(tx, clockRow('resolution', resolved, null, s.frCalendar === 'always' ? 'always' : 'cn-office'));
    if (resolved !== null) await insertAudit(tx, audit('resolved', resolved));
    if (resolved !== null && s.reopened) await insertAudit(tx, audit('reopened', resolved + MIN));
    if (s.handoff && fr !== null) {
      const other = s.dept === 'it' ? 'finance' : 'it';
      const opened = fr + s.handoff.afterMin * MIN;
      const leg1 = await tx.selectFrom('legs').selectAll().where('id', '=', `${id}:1`).executeTakeFirstOrThrow();
      await updateLeg(tx, leg1, { state: 'done', closed_at: iso(opened) });
      const accepted = s.handoff.returned || s.handoff.acceptMin === null ? null : opened + s.handoff.acceptMin * MIN;
      const legClosed = s.handoff.closeMin === null ? null : opened + s.handoff.closeMin * MIN;
      await insertLeg(tx, {
        ...firstLeg, id: `${id}:2`, seq: 2, department_id: other, from_department_id: s.dept, state: s.handoff.returned ? 'returned' : accepted !== null ? 'accepted' : 'open',
        return_reason: s.handoff.returned ? (s.handoff.breached ? 'missing-info' : 'wrong-dept') : null, opened_at: iso(opened), accepted_at: accepted === null ? null : iso(accepted), closed_at: legClosed === null ? null : iso(legClosed),
      });
      // A clock completes while its ticket is open (it stops at the resolution), and a breach comes before the met.
      const end = resolved ?? Infinity;
      const met = accepted !== null && accepted < end ? accepted : null;
      const legBreach = s.handoff.breached && opened + 20 * MIN < end && (met === null || opened + 20 * MIN < met) ? opened + 20 * MIN : null;
      await upsertClock(tx, { ...clockRow('leg_accept', met, legBreach, 'cn-office', `${id}:2`), started_at: iso(opened) });
    }
    if (s.survey && closed !== null) {
      await tx.insertInto('surveys').values({ ticket_id: id, user_id: 'u', score: s.survey.score, comment: null, answered_at: iso(closed + s.survey.afterMin * MIN) }).execute();
      await insertAudit(tx, audit('rated', closed + s.survey.afterMin * MIN));
    }
  });
  const change = s.change;
  if (change) {
    await write(db, src, async (tx) => {
      const current = await tx.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const reopen = change.reopen && (current.state === 'resolved' || current.state === 'closed');
      await updateTicket(tx, current, {
        ...(change.dept ? { department_id: change.dept } : {}),
        ...(change.leaf ? { category_id: change.leaf } : {}),
        ...(change.priority ? { priority: change.priority } : {}),
        ...(reopen ? { state: 'in_progress', closed_at: null, reopen_count: current.reopen_count + 1 } : {}),
      });
      if (reopen) await insertAudit(tx, audit('reopened', Date.parse(current.resolved_at!) + 2 * MIN));
      const clock = await tx.selectFrom('clocks').selectAll().where('id', '=', `${id}:resolution`).executeTakeFirstOrThrow();
      // A late breach of a clock still running, or breached before it was met.
      if (change.breachResolution && (clock.met_at === null || created + DAY < Date.parse(clock.met_at))) {
        await upsertClock(tx, { ...clock, breached_at: iso(created + DAY) });
      }
    });
  }
}

async function clear(db: Db): Promise<void> {
  for (const table of ['tickets', 'legs', 'clocks', 'surveys', 'audit_events', 'report_cells', 'report_contributions', 'report_rollup_meta'] as const) await db.deleteFrom(table).execute();
}

/** Cells as comparable text: zero counters and empty value lists left out, values sorted. */
async function cellSnapshot(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('report_cells').selectAll().execute();
  return rows
    .map((r) => {
      const parts: string[] = [];
      for (const [column, value] of Object.entries(r).sort(([a], [b]) => a.localeCompare(b))) {
        if (['day', 'department_id', 'from_department_id', 'category_id', 'priority'].includes(column) || value === null) continue;
        if (column.endsWith('_vals')) {
          const values = [...new Float64Array(new Uint8Array(value as Uint8Array).slice().buffer)].sort((a, b) => a - b);
          if (values.length) parts.push(`${column}=${values.join(',')}`);
        } else if (column === 'tallies') {
          const tallies = Object.entries(JSON.parse(value as string) as Record<string, number>).filter(([, n]) => n !== 0);
          if (tallies.length) parts.push(`tallies=${JSON.stringify(tallies.sort())}`);
        } else if (Number(value) !== 0) parts.push(`${column}=${Number(value)}`);
      }
      return parts.length ? `${r.day}|${r.department_id}|${r.from_department_id}|${r.category_id}|${r.priority} ${parts.join(' ')}` : '';
    })
    .filter((line) => line !== '')
    .sort();
}

describe.each(storageVariants())('report rollup on $name', (variant) => {
  let storage: Storage;
  const config = reportConfig();
  const src = (db: Db): ReportSource => ({ db, config, calendars: calendarsFromConfig(config.raw) });

  beforeAll(async () => {
    storage = await variant.open();
  });
  afterAll(async () => {
    await storage.close();
  });

  it('gives the figures of a straight recomputation, and the cells of a rebuild, on random histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ticketArb, { minLength: 1, maxLength: 12 }), fc.array(filterArb, { minLength: 1, maxLength: 4 }), async (tickets, filters) => {
        await clear(storage.db);
        const s = src(storage.db);
        await storage.db.transaction().execute((tx) => rebuildRollup(s, tx, iso(START)));
        for (const [i, t] of tickets.entries()) await writeTicket(storage.db, s, i, t);
        for (const f of filters) {
          const fromMs = START + f.firstDay * DAY + (f.fromShift ?? 0);
          const toMs = Math.max(fromMs + 1, START + (f.firstDay + f.days) * DAY + (f.toShift ?? 0));
          const filter: ReportFilter = {
            fromMs,
            toMs,
            ...(f.dept ? { departmentIds: [f.dept] } : {}),
            ...(f.category ? { categoryId: f.category } : {}),
            ...(f.priority ? { priority: f.priority } : {}),
          };
          if (f.fromShift === null && f.toShift === null) expect(wholeReportDays(config, filter)).toBeDefined();
          const nowMs = START + f.nowDay * DAY + 7 * 3_600_000;
          expect(await loadMetrics(s, filter, nowMs)).toEqual(await loadMetricsFromRows(s, filter, nowMs));
          // A rollup not current (an import under way): the tickets of the whole period, same figures.
          if (f === filters[0]) {
            const meta = await storage.db.selectFrom('report_rollup_meta').selectAll().execute();
            await storage.db.deleteFrom('report_rollup_meta').execute();
            expect(await loadMetrics(s, filter, nowMs)).toEqual(await loadMetricsFromRows(s, filter, nowMs));
            if (meta.length) await storage.db.insertInto('report_rollup_meta').values(meta).execute();
          }
        }
        const kept = await cellSnapshot(storage.db);
        await storage.db.transaction().execute((tx) => rebuildRollup(s, tx, iso(START)));
        expect(kept).toEqual(await cellSnapshot(storage.db));
      }),
      { numRuns: variant.name === 'postgres' ? 15 : 30 },
    );
  }, 120_000);

  // Histories packed into a day and a half, and periods cut at any minute of them: most cuts fall
  // between a ticket's events, so the parts of days at the edges are exercised on every run.
  const denseTicketArb = ticketArb.map((t) => ({
    ...t,
    createdMin: t.createdMin % (36 * 60),
    frMin: t.frMin === null ? null : 1 + ((t.frMin - 1) % 600),
    resolveMin: t.resolveMin === null ? null : 1 + ((t.resolveMin - 1) % 900),
    closeMin: t.closeMin === null ? null : 1 + ((t.closeMin - 1) % 600),
  }));
  const cutArb = fc.record({
    fromMin: fc.integer({ min: 0, max: 2 * 24 * 60 }),
    lengthMin: fc.integer({ min: 1, max: 3 * 24 * 60 }),
    nowMin: fc.integer({ min: 0, max: 4 * 24 * 60 }),
    dept: maybe(fc.constantFrom(...DEPTS)),
    category: maybe(fc.constantFrom('fault', 'login', 'after-sales')),
  });

  it('gives the figures of a straight recomputation for periods cut at any minute', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(denseTicketArb, { minLength: 1, maxLength: 12 }), fc.array(cutArb, { minLength: 1, maxLength: 4 }), async (tickets, cuts) => {
        await clear(storage.db);
        const s = src(storage.db);
        await storage.db.transaction().execute((tx) => rebuildRollup(s, tx, iso(START)));
        for (const [i, t] of tickets.entries()) await writeTicket(storage.db, s, i, t);
        for (const c of cuts) {
          const fromMs = START + c.fromMin * MIN;
          const filter: ReportFilter = { fromMs, toMs: fromMs + c.lengthMin * MIN, ...(c.dept ? { departmentIds: [c.dept] } : {}), ...(c.category ? { categoryId: c.category } : {}) };
          const nowMs = START + c.nowMin * MIN;
          expect(await loadMetrics(s, filter, nowMs)).toEqual(await loadMetricsFromRows(s, filter, nowMs));
          // Contributions stored in the first, JSON form (a desk written before the compact one): the same.
          if (c === cuts[0]) {
            for (const r of await storage.db.selectFrom('report_contributions').selectAll().execute()) {
              const json = JSON.stringify([...decodeContribution(r.cells)].map(([k, { n, v }]) => (v.length ? [k, n, v] : [k, n])));
              await storage.db.updateTable('report_contributions').set({ cells: json }).where('ticket_id', '=', r.ticket_id).execute();
            }
            expect(await loadMetrics(s, filter, nowMs)).toEqual(await loadMetricsFromRows(s, filter, nowMs));
          }
        }
      }),
      { numRuns: variant.name === 'postgres' ? 15 : 30 },
    );
  }, 120_000);
});
