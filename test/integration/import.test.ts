import { sql } from 'kysely';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { loadMetrics, loadMetricsFromRows, wholeReportDays } from '../../src/reports/queries';
import { ensureRollup, rollupCurrent } from '../../src/reports/rollup';
import { formatImportSummary, runImport } from '../../src/cli/import';
import type { Storage } from '../../src/storage/database';
import { REPORT_CONFIG_YAML, reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';
import { deferIndexes, restoreDeferredIndexes, secondaryIndexes } from '../../src/storage/deferredIndexes';

const LOADED = ['tickets', 'legs', 'clocks', 'surveys', 'audit_events', 'report_contributions'];

const NOW = Date.parse('2026-03-20T00:00:00Z');

// Columns in any order; times with an offset, with Z, and local to the department calendar (Asia/Shanghai).
const CSV = [
  'priority,category,created_at,id,requester,first_reply_at,resolved_at,closed_at,reopens,score,title,assignee',
  'normal,no-code,2026-03-02T09:00:00+08:00,OLD-1,slack:U1,2026-03-02T10:00:00+08:00,2026-03-03T09:00:00+08:00,,0,,Login code missing,slack:UA',
  'urgent,refund-request,2026-03-02T09:00:00Z,old-2,slack:U2,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z,2026-03-02T12:00:00Z,1,5,"App crash, again",',
  'normal,no-such-category,2026-03-02T09:00:00Z,OLD-3,slack:U3,,,,,,,',
  'low,crash,yesterday,OLD-4,slack:U4,,,,,,,',
  'low,refund-request,2026-03-05 09:00,,feishu:ou_5,,,,,,,',
].join('\n');

describe.each(storageVariants())('ticketbot import on $name', (variant) => {
  let storage: Storage;
  let dir: string;
  let file: string;
  let configFile: string;
  beforeAll(async () => {
    storage = await variant.open();
    dir = mkdtempSync(join(tmpdir(), 'ticketbot-import-'));
    file = join(dir, 'history.csv');
    configFile = join(dir, 'ticketbot.yaml');
    writeFileSync(file, CSV);
    writeFileSync(configFile, REPORT_CONFIG_YAML);
    // A running desk: its rollup is current before the import, and must be after it.
    const config = reportConfig();
    await ensureRollup({ db: storage.db, config, calendars: calendarsFromConfig(config.raw) }, new Date(NOW).toISOString());
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run checks every row, names the bad lines and writes nothing', async () => {
    const summary = await runImport(file, { configFile, dryRun: true, now: NOW });
    expect(summary).toMatchObject({ rows: 5, imported: 0, existing: 0 });
    expect(summary.bad).toEqual([
      { line: 4, message: 'unknown leaf category "no-such-category"' },
      { line: 5, message: 'created_at: not an ISO-8601 date-time: "yesterday"' },
    ]);
    expect(formatImportSummary(summary, true)[0]).toMatch(/^checked 5 row\(s\) in .* 3 good, 2 bad \(dry run: nothing written\)$/);
    expect(await storage.db.selectFrom('tickets').select('id').execute()).toEqual([]);
  });

  it('imports the good rows with clocks as if worked live, no timers and no messages; a second import adds nothing', async () => {
    const first = await runImport(file, { configFile, dryRun: false, now: NOW, storage });
    expect(first).toMatchObject({ rows: 5, imported: 3, existing: 0 });
    expect(first.bad.map((b) => b.line)).toEqual([4, 5]);

    const tickets = await storage.db.selectFrom('tickets').selectAll().orderBy('created_at').orderBy('key').execute();
    expect(tickets.map((t) => [t.key, t.state, t.department_id, t.priority, t.first_response_at, t.closed_at, t.reopen_count, t.source_ref])).toEqual([
      ['OLD-1', 'resolved', 'it', 'normal', '2026-03-02T02:00:00.000Z', null, 0, 'OLD-1'],
      ['OLD-2', 'closed', 'finance', 'urgent', '2026-03-02T10:00:00.000Z', '2026-03-02T12:00:00.000Z', 1, 'old-2'],
      [expect.stringMatching(/^FINANCE-\d+$/), 'new', 'finance', 'low', null, null, 0, null],
    ]);
    expect(tickets[2]!.created_at).toBe('2026-03-05T01:00:00.000Z'); // 09:00 in the department's zone
    const clocks = await storage.db.selectFrom('clocks').select(['ticket_id', 'kind', 'status', 'due_at', 'met_at', 'breached_at']).orderBy('ticket_id').orderBy('kind').execute();
    const of = (key: string, kind: string) => clocks.find((c) => c.ticket_id === tickets.find((t) => t.key === key)!.id && c.kind === kind);
    // Normal: 4 business hours from Mon 09:00 Shanghai; answered after 1 h — on time.
    expect(of('OLD-1', 'first_response')).toMatchObject({ status: 'met', met_at: '2026-03-02T02:00:00.000Z', breached_at: null });
    // Urgent (piloted in finance): 15 minutes of wall-clock time; answered after an hour — breached at the due time.
    expect(of('OLD-2', 'first_response')).toMatchObject({ status: 'met', due_at: '2026-03-02T09:15:00.000Z', breached_at: '2026-03-02T09:15:00.000Z' });
    expect(of('OLD-2', 'resolution')).toMatchObject({ status: 'met', met_at: '2026-03-02T11:00:00.000Z', breached_at: null });
    // Still open at the import: running, breached if its due time has passed, but no timer.
    expect(of(tickets[2]!.key, 'first_response')).toMatchObject({ status: 'running', breached_at: expect.any(String) });
    expect(await storage.db.selectFrom('timers').select('id').execute()).toEqual([]);
    expect(await storage.db.selectFrom('outbox').select('id').execute()).toEqual([]);
    expect(await storage.db.selectFrom('surveys').select(['score']).execute()).toEqual([{ score: 5 }]);
    if (storage.dialect === 'postgres') {
      // Statistics and the visibility map are fresh after the load (the planner's and index-only scans' inputs).
      const vacuumed = await sql<{ relname: string }>`select relname from pg_stat_user_tables where schemaname = current_schema() and last_vacuum is not null and last_analyze is not null`.execute(storage.db);
      expect(vacuumed.rows.map((r) => r.relname)).toEqual(expect.arrayContaining(['tickets', 'clocks', 'legs', 'report_cells']));
    }

    const again = await runImport(file, { configFile, dryRun: false, now: NOW, storage });
    expect(again).toMatchObject({ rows: 5, imported: 0, existing: 3 });
    expect(await storage.db.selectFrom('tickets').select('id').execute()).toHaveLength(3);
  });

  it('leaves the report rollup equal to a recomputation from the rows', async () => {
    const config = reportConfig();
    const src = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
    expect(await rollupCurrent(storage.db, config)).toBe(true);
    const period = { fromMs: Date.parse('2026-03-01T16:00:00Z'), toMs: Date.parse('2026-03-08T16:00:00Z') };
    expect(wholeReportDays(config, period)).toBeDefined();
    const fromRollup = await loadMetrics(src, period, NOW);
    expect(fromRollup).toEqual(await loadMetricsFromRows(src, period, NOW));
    expect(fromRollup.volume).toMatchObject({ created: 3, resolved: 2, closed: 1 });
    expect(fromRollup.csat.answers).toBe(1);
  });

  it('a second import into a desk with tickets keeps its indexes; indexes an interrupted import left dropped are built again', async () => {
    // `storage` holds the tickets of the first test: nothing is dropped.
    expect(await runImport(file, { configFile, dryRun: false, now: NOW, storage })).toMatchObject({ existing: 3, deferredIndexes: 0 });
    const before = await secondaryIndexes(storage.db, LOADED);
    // As a killed import leaves them: dropped, with their definitions recorded.
    expect((await deferIndexes(storage.db, ['clocks', 'legs'], new Date(NOW).toISOString())).length).toBeGreaterThan(2);
    expect((await secondaryIndexes(storage.db, LOADED)).length).toBeLessThan(before.length);
    expect((await restoreDeferredIndexes(storage.db)).length).toBeGreaterThan(2);
    expect(await secondaryIndexes(storage.db, LOADED)).toEqual(before);
    expect(await restoreDeferredIndexes(storage.db)).toEqual([]);
  });

  it('into an empty desk (rollup never built) leaves the cells complete and marked current, also when written as it goes', async () => {
    const empty = await variant.open();
    try {
      const config = reportConfig();
      const src = { db: empty.db, config, calendars: calendarsFromConfig(config.raw) };
      expect(await rollupCurrent(empty.db, config)).toBe(false);
      const indexesBefore = await secondaryIndexes(empty.db, LOADED);
      expect(indexesBefore.length).toBeGreaterThan(10);
      // pendingCells 1: the cell changes are written batch by batch (as on a long import), not only at the end.
      // Into empty tables the secondary indexes are dropped for the load and built after it, as they were.
      const seen: string[] = [];
      const summary = await runImport(file, { configFile, dryRun: false, now: NOW, storage: empty, pendingCells: 1, onIndex: (name) => seen.push(name) });
      expect(summary).toMatchObject({ imported: 3, deferredIndexes: indexesBefore.length });
      expect(seen.sort()).toEqual(indexesBefore.map((i) => i.name).sort());
      expect(await secondaryIndexes(empty.db, LOADED)).toEqual(indexesBefore);
      expect(await empty.db.selectFrom('deferred_indexes').selectAll().execute()).toEqual([]);
      expect(await rollupCurrent(empty.db, config)).toBe(true);
      const period = { fromMs: Date.parse('2026-03-01T16:00:00Z'), toMs: Date.parse('2026-03-08T16:00:00Z') };
      expect(await loadMetrics(src, period, NOW)).toEqual(await loadMetricsFromRows(src, period, NOW));
    } finally {
      await empty.close();
    }
  });
});
