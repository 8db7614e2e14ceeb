import fc from 'fast-check';
import { compileCalendar } from '../../src/domain/calendar';
import { CachedBusinessTime, computeMetrics, headlineFigures, summarizeDurations, trendOf, type TicketFact } from '../../src/domain/metrics';

const H = 3_600_000;

describe('summarizeDurations', () => {
  it('gives mean, median (mean of the middle pair) and nearest-rank p90', () => {
    expect(summarizeDurations([4, 1, 3, 2])).toEqual({ count: 4, meanMs: 2.5, medianMs: 2.5, p90Ms: 4 });
    expect(summarizeDurations([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110])).toEqual({ count: 11, meanMs: 60, medianMs: 60, p90Ms: 100 });
    expect(summarizeDurations([])).toEqual({ count: 0, meanMs: null, medianMs: null, p90Ms: null });
  });

  it('selects the same median and p90 as sorting does (many ties, any order, any length)', () => {
    const bySorting = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const n = sorted.length;
      const mid = n >> 1;
      const sum = sorted.reduce((a, b) => a + b, 0);
      return { count: n, meanMs: sum / n, medianMs: n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2, p90Ms: sorted[Math.min(n - 1, Math.max(0, Math.ceil(0.9 * n) - 1))]! };
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 400_000_000 })), { minLength: 1, maxLength: 300 }), (values) => {
        expect(summarizeDurations(values)).toEqual(bySorting(values));
      }),
      { numRuns: 500 },
    );
  });
});

describe('CachedBusinessTime', () => {
  const office = compileCalendar('office', {
    timezone: 'Europe/Berlin',
    week: { 'mon-fri': ['09:00-12:00', '13:00-17:30'] },
    holidays: ['2026-03-27..2026-03-30'],
    workdays: [],
  });

  it('measures the same as the calendar for any span, including a DST change and holidays', () => {
    const cached = new CachedBusinessTime(office);
    const start = Date.parse('2026-03-01T00:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 * 24 * H }), fc.integer({ min: 0, max: 20 * 24 * H }), (offset, length) => {
        const from = start + offset;
        expect(cached.between(from, from + length)).toBe(office.between(from, from + length));
      }),
      { numRuns: 300 },
    );
  });
});

describe('computeMetrics (pure)', () => {
  const base: Omit<TicketFact, 'id' | 'createdAt'> = {
    departmentId: 'it', categoryId: 'leaf', priority: 'normal', assigneeId: null, state: 'closed', firstResponseAt: null, resolvedAt: null, closedAt: null,
    publicReplyCount: 1, reopenCount: 0, firstResponseCalendarId: 'always', resolutionCalendarId: 'always', surveyScore: null,
  };
  const input = (tickets: TicketFact[]) => ({
    fromMs: 0, toMs: 10 * H, asOfMs: 10 * H, tickets, clocks: [], legs: [], surveys: [], resolvedEvents: 0, reopenedEvents: 0,
    categoryPaths: new Map([['leaf', ['top', 'mid', 'leaf']]]), calendars: new Map(), timeZone: 'UTC',
  });

  it('does not count a ticket that was reopened after its resolution as resolved', () => {
    const r = computeMetrics(input([
      { ...base, id: 'a', createdAt: 0, resolvedAt: 2 * H, state: 'in_progress', reopenCount: 1 },
      { ...base, id: 'b', createdAt: 0, resolvedAt: 4 * H, state: 'resolved' },
    ]));
    expect(r.volume.resolved).toBe(1);
    expect(r.resolution.meanMs).toBe(4 * H);
    expect(r.backlog.open).toBe(0);
  });

  it('reports null rates (not zero) when there is nothing to measure', () => {
    const r = computeMetrics(input([]));
    expect(headlineFigures(r).map((f) => f.value)).toEqual([null, null, null, null, null, null]);
  });
});

describe('trendOf', () => {
  it('treats small changes as flat and knows missing values', () => {
    expect(trendOf(0.8, 0.7, 'rate')).toBe('up');
    expect(trendOf(0.801, 0.8, 'rate')).toBe('flat');
    expect(trendOf(100, 200, 'duration')).toBe('down');
    expect(trendOf(101, 100, 'duration')).toBe('flat');
    expect(trendOf(null, 100, 'duration')).toBe('none');
  });
});
