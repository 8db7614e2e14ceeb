import { withReasons } from '../../db/migrations/011_return_reason_ids';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { loadMetrics, loadMetricsFromRows, type ReportSource } from '../../src/reports/queries';
import { rebuildRollup, rollupCurrent } from '../../src/reports/rollup';
import { prepareDatabase, type Storage } from '../../src/storage/database';
import { insertReportFixture, NOW_MS, PERIOD, reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

/**
 * Migration 011: Feishu used to store a listed return reason by its display name, so reports
 * counted one reason under two (or three) names. After the migration the report counts it once.
 */
describe.each(storageVariants())('migration 011: return reasons stored by name become ids ($name)', (variant) => {
  let storage: Storage;
  let src: ReportSource;
  const config = reportConfig();

  beforeAll(async () => {
    storage = await variant.open();
    await insertReportFixture(storage.db);
    src = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
    // One return stored by its Chinese name, one by its English name (as Feishu did), one typed by hand.
    await storage.db.updateTable('legs').set({ return_reason: '信息不全' }).where('id', '=', 'l2').execute();
    await storage.db.updateTable('legs').set({ return_reason: 'Missing information' }).where('id', '=', 'l5').execute();
    await storage.db.updateTable('legs').set({ return_reason: 'typed by hand', from_department_id: 'it' }).where('id', '=', 'l4').execute();
    await storage.db.transaction().execute((tx) => rebuildRollup(src, tx, new Date(NOW_MS).toISOString()));
  });
  afterAll(async () => {
    await storage.close();
  });

  it('counts one reason once in reports, from the rows and (rebuilt) from the rollup', async () => {
    const before = await loadMetricsFromRows(src, PERIOD, NOW_MS);
    expect(before.returns.reasons.map((r) => r.reason).sort()).toEqual(['Missing information', 'typed by hand', '信息不全']);

    await withReasons(config.raw.return_reasons).up(storage.db);

    const legs = await storage.db.selectFrom('legs').select(['id', 'return_reason']).where('id', 'in', ['l2', 'l4', 'l5']).orderBy('id').execute();
    expect(legs).toEqual([
      { id: 'l2', return_reason: 'missing-info' },
      { id: 'l4', return_reason: 'typed by hand' },
      { id: 'l5', return_reason: 'missing-info' },
    ]);
    const rows = await loadMetricsFromRows(src, PERIOD, NOW_MS);
    expect(rows.returns.reasons).toEqual([
      { reason: 'missing-info', count: 2 },
      { reason: 'typed by hand', count: 1 },
    ]);
    // The rollup was built with the names: the migration marks it stale, so it is rebuilt at start.
    expect(await rollupCurrent(storage.db, config)).toBe(false);
    await storage.db.transaction().execute((tx) => rebuildRollup(src, tx, new Date(NOW_MS).toISOString()));
    expect((await loadMetrics(src, PERIOD, NOW_MS)).returns.reasons).toEqual(rows.returns.reasons);

    // Running it again changes nothing.
    await withReasons(config.raw.return_reasons).up(storage.db);
    expect(await rollupCurrent(storage.db, config)).toBe(true);
  });

  it('a `migrate` run without the config cannot lose the rewrite: every start does it after migrating (prepareDatabase)', async () => {
    // This database was migrated without the config (as `ticketbot migrate` without one does):
    // 011 is recorded applied and rewrote nothing. Names stored that way are still there.
    const recorded = await storage.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    expect((recorded as Array<{ name: string }>).map((r) => r.name)).toContain('011_return_reason_ids');
    await storage.db.updateTable('legs').set({ return_reason: '信息不全' }).where('id', '=', 'l2').execute();
    await storage.db.updateTable('audit_events').set({ reason: 'Missing information' }).where('action', '=', 'leg_returned').execute();
    const returns = await storage.db.selectFrom('audit_events').select('id').where('action', '=', 'leg_returned').execute();

    const started = await prepareDatabase(storage.db, { returnReasons: config.raw.return_reasons });
    expect(started).toEqual({ applied: [], returnReasonsRewritten: 1 + returns.length });
    expect(await storage.db.selectFrom('legs').select('return_reason').where('id', '=', 'l2').executeTakeFirstOrThrow()).toEqual({ return_reason: 'missing-info' });
    const audit = await storage.db.selectFrom('audit_events').select('reason').where('action', '=', 'leg_returned').execute();
    expect(audit.every((a) => a.reason === 'missing-info')).toBe(true);
    expect(await rollupCurrent(storage.db, config)).toBe(false);

    // The next start finds nothing to do.
    await storage.db.transaction().execute((tx) => rebuildRollup(src, tx, new Date(NOW_MS).toISOString()));
    expect(await prepareDatabase(storage.db, { returnReasons: config.raw.return_reasons })).toEqual({ applied: [], returnReasonsRewritten: 0 });
    expect(await rollupCurrent(storage.db, config)).toBe(true);
  });
});
