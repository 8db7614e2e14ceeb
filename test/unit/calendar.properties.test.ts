import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { TZDate } from '@date-fns/tz';
import { compileCalendar, type BusinessCalendar } from '../../src/domain/calendar';
import type { CalendarConfig } from '../../src/config/schema';

/** Property tests of business calendars; the suite also runs under TZ=Asia/Shanghai (npm test). */

const H = 3_600_000;
const CONFIGS: Record<string, CalendarConfig> = {
  'cn-office': {
    timezone: 'Asia/Shanghai',
    week: { 'mon-fri': ['09:00-12:00', '13:30-18:00'] },
    holidays: ['2026-01-01..2026-01-03', '2026-10-01..2026-10-07', '2027-02-10..2027-02-16'],
    workdays: ['2026-09-27', '2026-10-10', '2027-02-07'],
  },
  'berlin-office': { timezone: 'Europe/Berlin', week: { 'mon-fri': ['08:00-12:00', '13:00-17:00'] }, holidays: ['2026-12-24..2026-12-26'], workdays: [] },
  'ny-24x7': { timezone: 'America/New_York', week: { 'mon-sun': ['00:00-24:00'] }, holidays: [], workdays: [] },
  'ny-night': { timezone: 'America/New_York', week: { 'sat-sun': ['00:00-03:30', '22:00-24:00'] }, holidays: [], workdays: [] },
  'sao-paulo': { timezone: 'America/Sao_Paulo', week: { 'mon-fri': ['09:00-18:00'], sat: ['00:00-02:00'] }, holidays: ['2018-11-15'], workdays: [] },
  'one-day': { timezone: 'Australia/Sydney', week: { tue: ['10:00-14:00'] }, holidays: ['2026-04-07'], workdays: ['2026-08-01'] },
};
const calendars: Record<string, BusinessCalendar> = Object.fromEntries(Object.entries(CONFIGS).map(([id, c]) => [id, compileCalendar(id, c)]));
const ids = Object.keys(CONFIGS);

const instant = fc.integer({ min: Date.UTC(2017, 0, 1), max: Date.UTC(2029, 0, 1) });
const duration = fc.oneof(fc.integer({ min: 1, max: 12 * H }), fc.integer({ min: 1, max: 3000 * H }));
const calendarId = fc.constantFrom(...ids);

describe('business calendar properties', () => {
  it('between(from, add(from, d)) === d', () => {
    fc.assert(
      fc.property(calendarId, instant, duration, (id, from, d) => {
        const c = calendars[id]!;
        expect(c.between(from, c.add(from, d))).toBe(d);
      }),
      { numRuns: 400 },
    );
  });

  it('due times lie inside working intervals (the millisecond before is working time)', () => {
    fc.assert(
      fc.property(calendarId, instant, duration, (id, from, d) => {
        const c = calendars[id]!;
        const due = c.add(from, d);
        expect(due).toBeGreaterThan(from);
        expect(c.isWorkingAt(due - 1)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('between is additive and add is monotonic', () => {
    fc.assert(
      fc.property(calendarId, instant, fc.integer({ min: 0, max: 2000 * H }), fc.integer({ min: 0, max: 2000 * H }), (id, a, x, y) => {
        const c = calendars[id]!;
        const [b, e] = [a + Math.min(x, y), a + Math.max(x, y)];
        expect(c.between(a, b) + c.between(b, e)).toBe(c.between(a, e));
        expect(c.add(a, Math.min(x, y))).toBeLessThanOrEqual(c.add(a, Math.max(x, y)));
      }),
      { numRuns: 300 },
    );
  });

  it('working days (wd): monotonic, after the start, on a day with working hours, one working day apart', () => {
    fc.assert(
      fc.property(calendarId, instant, fc.integer({ min: 1, max: 40 }), (id, from, n) => {
        const c = calendars[id]!;
        const due = c.addWorkingDays(from, n);
        const next = c.addWorkingDays(from, n + 1);
        expect(due).toBeGreaterThan(from);
        expect(next).toBeGreaterThan(due);
        // the due instant touches working time: inside a working period or at its end
        expect(c.isWorkingAt(due) || c.isWorkingAt(due - 1)).toBe(true);
        // a clock started with the wd target as business time is due at the same working moment
        const target = c.between(from, due);
        expect(c.between(from, c.add(from, target))).toBe(target);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with a day-by-day reference built on @date-fns/tz', () => {
    // Interval ends of berlin-office never fall in a DST change, so the reference needs no gap rules.
    const ref = referenceBerlinOffice();
    const c = calendars['berlin-office']!;
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 1000 * H }), (from, d) => {
        expect(c.add(from, d)).toBe(ref.add(from, d));
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same answers whatever TZ the process has', () => {
    const cases = fc.sample(fc.tuple(calendarId, instant, duration), { numRuns: 60, seed: 42 });
    const here = cases.map(([id, from, d]) => [calendars[id]!.add(from, d), calendars[id]!.between(from, from + d)]);
    const script = `
      const { compileCalendar } = require(${JSON.stringify(join(__dirname, '../../src/domain/calendar.ts'))});
      const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const cals = Object.fromEntries(Object.entries(input.configs).map(([id, c]) => [id, compileCalendar(id, c)]));
      const out = input.cases.map(([id, from, d]) => [cals[id].add(from, d), cals[id].between(from, from + d)]);
      console.log(JSON.stringify({ offset: new Date(0).getTimezoneOffset(), out }));`;
    for (const tz of ['Pacific/Chatham', 'America/Los_Angeles']) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
        cwd: join(__dirname, '../..'),
        env: { ...process.env, TZ: tz },
        input: JSON.stringify({ configs: CONFIGS, cases }),
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      const result = JSON.parse(run.stdout) as { offset: number; out: number[][] };
      expect(result.offset).not.toBe(new Date(0).getTimezoneOffset()); // the child really ran in another zone
      expect(result.out).toEqual(here);
    }
  });
});

/** A slow, independent implementation: walk local dates with TZDate, no week jumps, no offset table. */
function referenceBerlinOffice() {
  const tz = 'Europe/Berlin';
  const holidays = new Set(['2026-12-24', '2026-12-25', '2026-12-26']);
  const intervals: [number, number][] = [
    [8 * 60, 12 * 60],
    [13 * 60, 17 * 60],
  ];
  return {
    add(from: number, d: number): number {
      const start = new TZDate(from, tz);
      let remaining = d;
      for (let i = 0; ; i++) {
        const day = new TZDate(start.getFullYear(), start.getMonth(), start.getDate() + i, tz);
        const weekday = day.getDay();
        const key = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`;
        if (weekday === 0 || weekday === 6 || holidays.has(key)) continue;
        for (const [a, b] of intervals) {
          const s = new TZDate(day.getFullYear(), day.getMonth(), day.getDate(), 0, a, tz).getTime();
          const e = new TZDate(day.getFullYear(), day.getMonth(), day.getDate(), 0, b, tz).getTime();
          const from2 = Math.max(s, from);
          if (e <= from2) continue;
          if (remaining <= e - from2) return from2 + remaining;
          remaining -= e - from2;
        }
      }
    },
  };
}
