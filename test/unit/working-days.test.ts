import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { ALWAYS, calendarsFromConfig, compileCalendar, targetMs } from '../../src/domain/calendar';
import { startClock } from '../../src/domain/clock';
import { parseDuration, parseTarget } from '../../src/domain/duration';

/**
 * `Nwd`: N working days, ending at the same local time of day on the N-th following day with
 * working hours (cn-office, region CN: 09:00–12:00, 13:30–18:00; official 2026 days).
 */
const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const cnOffice = calendarsFromConfig(loadConfigFile(join(__dirname, '../../config/example.yaml')).raw).get('cn-office')!;
const wd = (from: string, days: number) => iso(cnOffice.addWorkingDays(at(from), days));

describe('parseTarget', () => {
  it('reads Nwd as whole working days and everything else as business time', () => {
    expect(parseTarget('3wd')).toEqual({ kind: 'working_days', days: 3 });
    expect(parseTarget('3d')).toEqual({ kind: 'business', ms: 72 * H });
    expect(parseTarget('1h30m')).toEqual({ kind: 'business', ms: 1.5 * H });
    for (const bad of ['0wd', '1.5wd', '1wd2h', 'wd', '3 wd days']) expect(parseTarget(bad)).toBeUndefined();
  });

  it('plain durations (extensions, repeats, ticks) do not accept wd', () => {
    expect(parseDuration('2wd')).toBeUndefined();
  });
});

describe('addWorkingDays across official holidays and make-up days', () => {
  it('Spring Festival: the make-up Saturday 02-14 counts, 02-15..23 does not', () => {
    expect(wd('2026-02-13T10:00:00+08:00', 1)).toBe('2026-02-14T02:00:00.000Z');
    expect(wd('2026-02-13T10:00:00+08:00', 2)).toBe('2026-02-24T02:00:00.000Z');
    expect(wd('2026-02-13T10:00:00+08:00', 3)).toBe('2026-02-25T02:00:00.000Z');
  });

  it('Labour Day 05-01..05 and the make-up Saturday 05-09', () => {
    expect(wd('2026-04-30T15:00:00+08:00', 1)).toBe('2026-05-06T07:00:00.000Z');
    expect(wd('2026-04-30T15:00:00+08:00', 3)).toBe('2026-05-08T07:00:00.000Z');
    expect(wd('2026-04-30T15:00:00+08:00', 4)).toBe('2026-05-09T07:00:00.000Z');
    expect(wd('2026-04-30T15:00:00+08:00', 5)).toBe('2026-05-11T07:00:00.000Z');
  });

  it('Mid-Autumn and National Day: 09-25..27 and 10-01..07 are skipped, 10-10 counts', () => {
    expect(wd('2026-09-24T11:00:00+08:00', 1)).toBe('2026-09-28T03:00:00.000Z');
    expect(wd('2026-09-30T11:00:00+08:00', 1)).toBe('2026-10-08T03:00:00.000Z');
    expect(wd('2026-09-30T11:00:00+08:00', 3)).toBe('2026-10-10T03:00:00.000Z');
  });

  it('a start outside working hours counts from the next working period', () => {
    // Thu 20:00 → Fri 09:00; one working day later is the make-up Saturday 09:00
    expect(wd('2026-02-12T20:00:00+08:00', 1)).toBe('2026-02-14T01:00:00.000Z');
    // lunch 12:30 → 13:30
    expect(wd('2026-03-10T12:30:00+08:00', 1)).toBe('2026-03-11T05:30:00.000Z');
    // a holiday → the first working morning after it
    expect(wd('2026-10-03T10:00:00+08:00', 1)).toBe('2026-10-09T01:00:00.000Z');
  });

  it('a time of day the last day does not work moves back to that day’s last working period', () => {
    const shortFriday = compileCalendar('short-friday', { timezone: 'Europe/London', week: { 'mon-thu': ['09:00-18:00'], fri: ['09:00-15:00'] }, holidays: [], workdays: [] });
    expect(iso(shortFriday.addWorkingDays(at('2026-03-05T16:00:00Z'), 1))).toBe('2026-03-06T15:00:00.000Z');
    expect(iso(shortFriday.addWorkingDays(at('2026-03-06T10:00:00Z'), 1))).toBe('2026-03-09T10:00:00.000Z');
  });

  it('keeps the local time across a DST change', () => {
    const berlin = compileCalendar('berlin', { timezone: 'Europe/Berlin', week: { 'mon-fri': ['09:00-17:00'] }, holidays: [], workdays: [] });
    // Fri 2026-03-27 10:00 CET (09:00Z) → Mon 03-30 10:00 CEST (08:00Z)
    expect(iso(berlin.addWorkingDays(at('2026-03-27T09:00:00Z'), 1))).toBe('2026-03-30T08:00:00.000Z');
  });

  it('the always calendar counts calendar days', () => {
    expect(iso(ALWAYS.addWorkingDays(at('2026-02-13T10:00:00Z'), 2))).toBe('2026-02-15T10:00:00.000Z');
  });

  it('explains the days counted and skipped', () => {
    const lines = cnOffice.explainWorkingDays(at('2026-04-30T15:00:00+08:00'), 4);
    expect(lines).toEqual([
      'from 2026-04-30 15:00 Asia/Shanghai add 4 working days (cn-office)',
      '2026-05-01..05 holiday skipped (劳动节)',
      '2026-05-06 working day 1',
      '2026-05-07 working day 2',
      '2026-05-08 working day 3',
      '2026-05-09 make-up workday (劳动节): working day 4',
      'due 2026-05-09 15:00 Asia/Shanghai = 2026-05-09T07:00:00.000Z',
    ]);
  });
});

describe('a wd target on a clock', () => {
  it('becomes the working time until the wd due instant, so the clock is due then', () => {
    const start = at('2026-02-13T10:00:00+08:00');
    const ms = targetMs(cnOffice, { kind: 'working_days', days: 2 }, start);
    // Fri 10:00–18:00 (6h30m), make-up Sat (7h30m), Tue 02-24 09:00–10:00 (1h)
    expect(ms).toBe(15 * H);
    const clock = startClock({ kind: 'resolution', targetMs: ms, calendar: cnOffice, policyId: 'p', now: iso(start) });
    expect(clock.dueAt).toBe('2026-02-24T02:00:00.000Z');
    expect(targetMs(cnOffice, { kind: 'business', ms: 3 * H }, start)).toBe(3 * H);
  });
});
