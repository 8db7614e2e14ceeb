import { calendarsFromConfig } from '../../src/domain/calendar';
import type { MetricsReport } from '../../src/domain/metrics';
import { loadMetrics, loadMetricsFromRows, wholeReportDays, type ReportFilter, type ReportSource } from '../../src/reports/queries';
import { rebuildRollup } from '../../src/reports/rollup';
import type { Storage } from '../../src/storage/database';
import { ANN, insertReportFixture, NOW_MS, PERIOD, reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

const H = 3_600_000;
const M = 60_000;

// Every figure twice: from the rows, and from the report rollup (PERIOD is whole report days).
const modes = storageVariants().flatMap((v) => (['rows', 'rollup'] as const).map((mode) => ({ ...v, mode })));

describe.each(modes)('metrics from $name ($mode)', (variant) => {
  let storage: Storage;
  let src: ReportSource;
  const config = reportConfig();

  beforeAll(async () => {
    storage = await variant.open();
    await insertReportFixture(storage.db);
    src = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
    if (variant.mode === 'rollup') {
      expect(wholeReportDays(config, PERIOD)).toBeDefined();
      await storage.db.transaction().execute((tx) => rebuildRollup(src, tx, new Date(NOW_MS).toISOString()));
    }
  });
  afterAll(async () => {
    await storage.close();
  });

  const load = (extra: Partial<ReportFilter> = {}): Promise<MetricsReport> => (variant.mode === 'rollup' ? loadMetrics : loadMetricsFromRows)(src, { ...PERIOD, ...extra }, NOW_MS);

  it('measures first response and resolution in business time (weekend, lunch break and reopen included)', async () => {
    const r = await load();
    // T1 Fri 17:00 → Mon 09:30 = 1h + 0.5h; T2 1h; T3 15m; T6 urgent on wall-clock time 10m.
    expect(r.firstResponse).toEqual({ count: 4, meanMs: (2.5 * H + 25 * M) / 4, medianMs: (15 * M + 1 * H) / 2, p90Ms: 1.5 * H });
    // T1 1h + 3h + 1.5h; T2 (until its last resolution) 6.5h + 3.5h; T3 7.5h + 1h; T6 2h wall-clock.
    expect(r.resolution).toEqual({ count: 4, meanMs: (5.5 + 10 + 8.5 + 2) * H / 4, medianMs: (5.5 + 8.5) / 2 * H, p90Ms: 10 * H });
  });

  it('counts first-contact resolution, reopen, on-time and return rates', async () => {
    const r = await load();
    expect(r.firstContactResolution).toEqual({ numerator: 2, denominator: 4, rate: 0.5 });
    expect(r.reopen).toEqual({ numerator: 1, denominator: 5, rate: 0.2 });
    expect(r.onTime).toMatchObject({ numerator: 11, denominator: 14 });
    expect(r.onTime.byKind).toEqual({
      first_response: { numerator: 4, denominator: 5, rate: 0.8 },
      leg_accept: { numerator: 2, denominator: 3, rate: 2 / 3 },
      leg_resolve: { numerator: 1, denominator: 1, rate: 1 },
      resolution: { numerator: 4, denominator: 5, rate: 0.8 },
    });
    expect(r.returns).toEqual({ numerator: 1, denominator: 2, rate: 0.5, reasons: [{ reason: 'missing-info', count: 1 }] });
  });

  it('computes satisfaction over answered surveys and the response rate over closed tickets', async () => {
    const r = await load();
    expect(r.csat).toEqual({
      answers: 2,
      satisfied: { numerator: 1, denominator: 2, rate: 0.5 },
      meanScore: 4,
      responseRate: { numerator: 2, denominator: 3, rate: 2 / 3 },
    });
  });

  it('reports volume, category shares per level and the backlog with its age', async () => {
    const r = await load();
    expect(r.volume).toMatchObject({ created: 6, resolved: 4, closed: 3 });
    expect(r.volume.byDay).toHaveLength(14);
    expect(r.volume.byDay[0]).toEqual({ day: '2026-03-02', created: 0, resolved: 0 });
    expect(r.volume.byDay.find((d) => d.day === '2026-03-04')).toEqual({ day: '2026-03-04', created: 1, resolved: 1 });
    expect(r.categories.level1.map((c) => [c.categoryId, c.count])).toEqual([['fault', 5], ['after-sales', 1]]);
    expect(r.categories.level2.map((c) => [c.categoryId, c.count])).toEqual([['login', 4], ['function-fault', 1], ['refund', 1]]);
    expect(r.categories.level3.map((c) => [c.categoryId, c.count])).toEqual([['wrong-password', 3], ['crash', 1], ['no-code', 1], ['refund-request', 1]]);
    expect(r.categories.level1[0]!.share).toBeCloseTo(5 / 6);
    expect(r.backlog.open).toBe(3);
    expect(r.backlog.ages.map((b) => b.count)).toEqual([0, 0, 2, 1]);
    expect(r.backlog.oldestAgeMs).toBe(PERIOD.toMs - Date.parse('2026-02-20T02:00:00Z'));
    expect(r.backlog.byDepartment).toEqual([{ departmentId: 'it', open: 2 }, { departmentId: 'finance', open: 1 }]);
  });

  it('reports per-department efficiency and the flow between departments', async () => {
    const r = await load();
    const it = r.departments.find((d) => d.departmentId === 'it')!;
    const finance = r.departments.find((d) => d.departmentId === 'finance')!;
    expect(it).toMatchObject({ legs: 2, handoffsReceived: 0, returned: 0, onTime: { numerator: 6, denominator: 8 }, legOnTime: { rate: null } });
    expect(it.legDuration).toMatchObject({ count: 2, meanMs: 1 * H });
    expect(finance).toMatchObject({ legs: 3, handoffsReceived: 3, returned: 1, onTime: { numerator: 5, denominator: 6 }, legOnTime: { numerator: 3, denominator: 4 } });
    expect(finance.acceptTime).toMatchObject({ count: 2, meanMs: 0.75 * H });
    // L2 returned after 1h; L3 Wed 14:00 → Thu 10:00 = 4h + 1h.
    expect(finance.legDuration).toMatchObject({ count: 2, meanMs: 3 * H, medianMs: 3 * H, p90Ms: 5 * H });
    expect(r.flows).toEqual([
      { fromDepartmentId: 'it', toDepartmentId: 'finance', handoffs: 3, returns: 1, acceptTime: { count: 2, meanMs: 0.75 * H, medianMs: 0.75 * H, p90Ms: 1 * H }, duration: { count: 2, meanMs: 3 * H, medianMs: 3 * H, p90Ms: 5 * H } },
    ]);
  });

  it('filters by department, category, priority and agent', async () => {
    const finance = await load({ departmentIds: ['finance'] });
    expect(finance.firstResponse).toMatchObject({ count: 1, meanMs: 15 * M });
    expect(finance.volume.created).toBe(2);
    expect(finance.backlog.open).toBe(1);
    expect(finance.flows).toHaveLength(1);
    expect(finance.onTime).toMatchObject({ numerator: 5, denominator: 6 });

    const login = await load({ categoryId: 'login' });
    expect(login.volume.created).toBe(4);
    expect(login.categories.level2).toEqual([{ categoryId: 'login', count: 4, share: 1 }]);

    const urgent = await load({ priority: 'urgent' });
    expect(urgent.firstResponse).toMatchObject({ count: 1, meanMs: 10 * M });
    expect(urgent.csat.meanScore).toBe(3);

    const ann = await load({ agentId: ANN });
    expect(ann.firstResponse).toMatchObject({ count: 2, meanMs: 1.25 * H });
    expect(ann.resolution).toMatchObject({ count: 2, meanMs: 7.75 * H });

    const none = await load({ categoryId: 'no-such-category' });
    expect(none.volume.created).toBe(0);
    expect(none.firstResponse.meanMs).toBeNull();
  });
});
