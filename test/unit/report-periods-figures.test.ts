import { compareCounts, compareMeans, compareProportions } from '../../src/domain/compare';
import { lastFullWeek, resolvePeriod } from '../../src/domain/periods';
import { figureSentence, verdict, type ComparedFigure } from '../../src/reports/figures';

const H = 3_600_000;

describe('changes beyond the sample size (domain/compare)', () => {
  it('does not colour 97.1 % against 97.7 % on a few dozen tickets, but does on thousands', () => {
    const few = compareProportions(34, 35, 42, 43)!;
    expect(few.absolute).toBeCloseTo(34 / 35 - 42 / 43, 10);
    expect(few.significant).toBe(false);
    const many = compareProportions(9710, 10_000, 9770, 10_000)!;
    expect(many.significant).toBe(true);
    expect(many.direction).toBe('down');
  });

  it('never calls a change on under five items significant, and knows a missing side', () => {
    expect(compareProportions(0, 2, 2, 2)!.significant).toBe(false);
    expect(compareProportions(1, 0, 2, 2)).toBeNull();
    expect(compareMeans({ mean: 10 * H, count: 3 }, { mean: 1 * H, count: 3 })!.significant).toBe(false);
  });

  it('tests means with an exponential spread when none is given, and counts as Poisson', () => {
    // 100 answers at 1.2 h against 100 at 1.46 h: z ≈ −1.37, noise.
    const means = compareMeans({ mean: 1.2 * H, count: 100 }, { mean: 1.46 * H, count: 100 })!;
    expect(means.relative).toBeCloseTo(-0.178, 3);
    expect(means.significant).toBe(false);
    expect(compareMeans({ mean: 1 * H, count: 400 }, { mean: 1.46 * H, count: 400 })!.significant).toBe(true);
    expect(compareCounts(60, 40).significant).toBe(true); // z = 20 / √100 = 2.0 > 1.96
    expect(compareCounts(60, 40).z).toBeCloseTo(2, 5);
    expect(compareCounts(55, 45).significant).toBe(false);
    expect(compareCounts(3, 0).significant).toBe(false);
  });
});

describe('calendar periods (domain/periods)', () => {
  // Wednesday 2026-03-18 12:00 in Shanghai.
  const now = Date.parse('2026-03-18T04:00:00Z');
  const zone = 'Asia/Shanghai';

  it('names this and last week from Monday 00:00 local time', () => {
    const week = resolvePeriod({ kind: 'this_week' }, now, zone)!;
    expect(new Date(week.fromMs).toISOString()).toBe('2026-03-15T16:00:00.000Z');
    expect(week.toMs).toBe(now);
    expect([week.firstDay, week.lastDay]).toEqual(['2026-03-16', '2026-03-18']);
    // Compared with the same elapsed part of last week: Monday 00:00 to Wednesday 12:00.
    expect(new Date(week.previous.fromMs).toISOString()).toBe('2026-03-08T16:00:00.000Z');
    expect(new Date(week.previous.toMs).toISOString()).toBe('2026-03-11T04:00:00.000Z');
    const last = lastFullWeek(now, zone);
    expect([last.firstDay, last.lastDay, last.previousFirstDay, last.previousLastDay]).toEqual(['2026-03-09', '2026-03-15', '2026-03-02', '2026-03-08']);
    expect(last.running).toBe(false);
  });

  it('names calendar months, including February, and custom ranges of local dates', () => {
    const last = resolvePeriod({ kind: 'last_month' }, now, zone)!;
    expect([last.firstDay, last.lastDay, last.previousFirstDay, last.previousLastDay]).toEqual(['2026-02-01', '2026-02-28', '2026-01-01', '2026-01-31']);
    const month = resolvePeriod({ kind: 'this_month' }, now, zone)!;
    expect(month.firstDay).toBe('2026-03-01');
    const custom = resolvePeriod({ kind: 'custom', from: '2026-03-02', to: '2026-03-08' }, now, zone)!;
    expect(new Date(custom.fromMs).toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(new Date(custom.toMs).toISOString()).toBe('2026-03-08T16:00:00.000Z');
    expect([custom.previousFirstDay, custom.previousLastDay]).toEqual(['2026-02-23', '2026-03-01']);
    expect(resolvePeriod({ kind: 'custom', from: '2026-03-08', to: '2026-03-02' }, now, zone)).toBeUndefined();
    expect(resolvePeriod({ kind: 'custom', from: '2026-02-30', to: '2026-03-02' }, now, zone)).toBeUndefined();
  });
});

describe('figures in words', () => {
  const frt = (now: number, before: number, n: number): ComparedFigure => ({
    metric: 'first_response',
    kind: 'duration',
    value: now,
    previous: before,
    basis: n,
    previousBasis: n,
    higherIsBetter: false,
    change: compareMeans({ mean: now, count: n }, { mean: before, count: n }),
  });

  it('says how fast, against which week, and whether it is noise', () => {
    const f = frt(1.2 * H, 1.46 * H, 400);
    expect(figureSentence(f, 'this_week', 'zh-CN')).toBe('平均首次响应 1.2 小时,比上周快 18 %(400 张工单得到答复)');
    expect(figureSentence(f, 'last_week', 'en')).toBe('Avg first response 1.2 h, 18 % faster than the week before (400 tickets answered)');
    expect(verdict(f)).toBe('good');
    const noisy = frt(1.2 * H, 1.46 * H, 20);
    expect(figureSentence(noisy, 'this_week', 'zh-CN')).toBe('平均首次响应 1.2 小时,比上周快 18 %,在正常波动范围内(20 张工单得到答复)');
    expect(verdict(noisy)).toBe('neutral');
  });

  it('gives rates in percentage points', () => {
    const f: ComparedFigure = { metric: 'on_time', kind: 'rate', value: 0.75, previous: 0.8, basis: 4, previousBasis: 5, higherIsBetter: true, change: compareProportions(3, 4, 4, 5) };
    expect(figureSentence(f, 'days', 'en')).toBe('On-time rate 75%, 5 pt lower than the previous period, within normal variation (4 clocks completed)');
  });
});
