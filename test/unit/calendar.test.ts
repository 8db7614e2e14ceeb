import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { ALWAYS, calendarsFromConfig, compileCalendar, type BusinessCalendar } from '../../src/domain/calendar';
import type { CalendarConfig } from '../../src/config/schema';
import { parseInstant } from '../../src/domain/zone';

const H = 3_600_000;
const M = 60_000;
const at = (iso: string) => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test date ${iso}`);
  return ms;
};
const iso = (ms: number) => new Date(ms).toISOString();
const cal = (timezone: string, week: Record<string, string[]>, extra: Partial<CalendarConfig> = {}): BusinessCalendar =>
  compileCalendar('test', { timezone, week, holidays: [], workdays: [], ...extra });

const example = calendarsFromConfig(loadConfigFile(join(__dirname, '../../config/example.yaml')).raw);
const cnOffice = example.get('cn-office')!;

describe('cn-office (Asia/Shanghai, lunch break, region CN: official 2026 holidays and make-up days)', () => {
  it('is built from the example config together with always', () => {
    expect([...example.keys()].sort()).toEqual(['always', 'cn-office', 'cn-ops-24x7', 'cn-warehouse']);
    expect(cnOffice.timezone).toBe('Asia/Shanghai');
  });

  it('excludes the lunch break', () => {
    // Thu 11:00 local + 2h: 11:00–12:00, lunch, 13:30–14:30
    expect(iso(cnOffice.add(at('2026-10-08T11:00:00+08:00'), 2 * H))).toBe('2026-10-08T06:30:00.000Z');
    expect(cnOffice.between(at('2026-10-08T11:00:00+08:00'), at('2026-10-08T14:30:00+08:00'))).toBe(2 * H);
    expect(cnOffice.isWorkingAt(at('2026-10-08T12:30:00+08:00'))).toBe(false);
    expect(cnOffice.isWorkingAt(at('2026-10-08T13:30:00+08:00'))).toBe(true);
    expect(cnOffice.isWorkingAt(at('2026-10-08T12:00:00+08:00'))).toBe(false);
  });

  it('skips the National Day week: 2h from the eve lands on 2026-10-08 10:00', () => {
    const from = at('2026-09-30T17:00:00+08:00');
    expect(iso(cnOffice.add(from, 2 * H))).toBe('2026-10-08T02:00:00.000Z');
    const lines = cnOffice.explainAdd(from, 2 * H);
    expect(lines).toContain('2026-10-01..07 holiday skipped (国庆节)');
    expect(lines).toContain('2026-09-30 17:00–18:00 Asia/Shanghai: 1h');
    expect(lines).toContain('2026-10-08 09:00–10:00 Asia/Shanghai: 1h');
    expect(lines[lines.length - 1]).toBe('due 2026-10-08 10:00 Asia/Shanghai = 2026-10-08T02:00:00.000Z');
  });

  it('works the make-up Sunday 2026-09-20 and Saturday 2026-10-10 with Monday hours; 09-27 is Mid-Autumn', () => {
    expect(iso(cnOffice.add(at('2026-09-18T17:00:00+08:00'), 2 * H))).toBe('2026-09-20T02:00:00.000Z');
    // Thu 09-24 17:00 + 2h: 1h, Mid-Autumn 09-25..27 (Fri–Sun), Mon 09-28 09:00–10:00
    expect(iso(cnOffice.add(at('2026-09-24T17:00:00+08:00'), 2 * H))).toBe('2026-09-28T02:00:00.000Z');
    expect(iso(cnOffice.add(at('2026-10-09T17:00:00+08:00'), 90 * M))).toBe('2026-10-10T01:30:00.000Z');
    expect(cnOffice.isWorkingAt(at('2026-10-10T10:00:00+08:00'))).toBe(true);
    expect(cnOffice.isWorkingAt(at('2026-10-10T12:30:00+08:00'))).toBe(false);
    expect(cnOffice.isWorkingAt(at('2026-10-03T10:00:00+08:00'))).toBe(false);
    expect(cnOffice.isWorkingAt(at('2026-10-11T10:00:00+08:00'))).toBe(false);
    expect(cnOffice.explainNotes(at('2026-10-09T17:00:00+08:00'), 90 * M)).toContain('2026-10-10 make-up workday (国庆节)');
  });

  it('counts the week of 2026-09-30..10-10 as four working days', () => {
    // 09-30, 10-08, 10-09 and the make-up 10-10, 7h30m each
    expect(cnOffice.between(at('2026-09-30T00:00:00+08:00'), at('2026-10-11T00:00:00+08:00'))).toBe(30 * H);
  });

  it('explains the lunch break in the notes a clock log uses', () => {
    expect(cnOffice.explainNotes(at('2026-10-08T09:00:00+08:00'), 4 * H)).toEqual(['lunch 12:00–13:30 excluded']);
  });

  it('crosses the year end into the 2026 new-year holiday and its make-up Sunday', () => {
    // 2025-12-31 17:00 + 2h: 1h on Wed, 2026-01-01..03 元旦, Sun 01-04 make-up workday 09:00–10:00
    expect(iso(cnOffice.add(at('2025-12-31T17:00:00+08:00'), 2 * H))).toBe('2026-01-04T02:00:00.000Z');
    expect(cnOffice.between(at('2025-12-31T17:00:00+08:00'), at('2026-01-05T10:00:00+08:00'))).toBe(2 * H + 7.5 * H);
  });
});

describe('a deadline across a year end', () => {
  const office = cal('Europe/London', { 'mon-fri': ['09:00-17:00'] }, { holidays: ['2026-12-25..2026-12-28', '2027-01-01'] });
  it('skips Christmas and New Year', () => {
    // Thu 2026-12-24 16:00 + 32h: 1h on 12-24, 24h on 12-29..31, holiday and weekend, 7h on 2027-01-04
    expect(iso(office.add(at('2026-12-24T16:00:00Z'), 32 * H))).toBe('2027-01-04T16:00:00.000Z');
    expect(iso(office.add(at('2026-12-24T16:00:00Z'), 25 * H))).toBe('2026-12-31T17:00:00.000Z');
    expect(office.between(at('2026-12-24T00:00:00Z'), at('2027-01-05T00:00:00Z'))).toBe(5 * 8 * H);
  });
});

describe('Europe/Berlin DST', () => {
  const office = cal('Europe/Berlin', { 'mon-fri': ['09:00-17:00'] });
  const always = cal('Europe/Berlin', { 'mon-sun': ['00:00-24:00'] });

  it('spring forward (2026-03-29) over a weekend', () => {
    // Fri 16:00 CET + 2h → Mon 10:00 CEST
    expect(iso(office.add(at('2026-03-27T15:00:00Z'), 2 * H))).toBe('2026-03-30T08:00:00.000Z');
  });

  it('fall back (2026-10-25) over a weekend', () => {
    // Fri 16:00 CEST + 2h → Mon 10:00 CET
    expect(iso(office.add(at('2026-10-23T14:00:00Z'), 2 * H))).toBe('2026-10-26T09:00:00.000Z');
  });

  it('a 24h calendar day lasts 23h in spring and 25h in autumn', () => {
    expect(always.between(at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'))).toBe(23 * H);
    expect(always.between(at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'))).toBe(25 * H);
    expect(always.explainAdd(at('2026-03-28T23:00:00Z'), 23 * H).join('\n')).toContain('DST change: 00:00–24:00 lasts 23h');
  });

  it('a deadline in the repeated hour (02:00–03:00 on 2026-10-25) lands on the right occurrence', () => {
    const midnight = at('2026-10-24T22:00:00Z'); // 00:00 CEST
    expect(iso(always.add(midnight, 2.5 * H))).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST, first pass
    expect(iso(always.add(midnight, 3.5 * H))).toBe('2026-10-25T01:30:00.000Z'); // 02:30 CET, second pass
  });

  it('intervals ending or starting in the skipped hour (02:00–03:00 on 2026-03-29) end or start at 03:00 CEST', () => {
    const endsInGap = cal('Europe/Berlin', { sun: ['01:00-02:30', '03:30-05:00'] });
    // 01:00 CET = 00:00Z; 02:30 does not exist → 03:00 CEST = 01:00Z
    expect(endsInGap.between(at('2026-03-29T00:00:00Z'), at('2026-03-29T01:00:00Z'))).toBe(1 * H);
    expect(iso(endsInGap.add(at('2026-03-28T12:00:00Z'), 1 * H))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(endsInGap.add(at('2026-03-28T12:00:00Z'), 1 * H + 1))).toBe('2026-03-29T01:30:00.001Z');
    const startsInGap = cal('Europe/Berlin', { sun: ['02:30-04:00'] });
    expect(iso(startsInGap.add(at('2026-03-28T12:00:00Z'), 30 * M))).toBe('2026-03-29T01:30:00.000Z');
    expect(startsInGap.between(at('2026-03-29T00:00:00Z'), at('2026-03-29T04:00:00Z'))).toBe(1 * H);
  });
});

describe('America/New_York DST', () => {
  const office = cal('America/New_York', { 'mon-fri': ['09:00-17:00'] });
  const sundayNight = cal('America/New_York', { sun: ['00:00-06:00'] });

  it('spring forward (2026-03-08) over a weekend', () => {
    expect(iso(office.add(at('2026-03-06T21:00:00Z'), 2 * H))).toBe('2026-03-09T14:00:00.000Z');
  });

  it('fall back (2026-11-01) over a weekend', () => {
    expect(iso(office.add(at('2026-10-30T20:00:00Z'), 2 * H))).toBe('2026-11-02T15:00:00.000Z');
  });

  it('a deadline in the repeated hour 01:00–02:00 on 2026-11-01', () => {
    // 00:00–06:00 lasts 7h that night
    expect(sundayNight.between(at('2026-11-01T00:00:00Z'), at('2026-11-02T00:00:00Z'))).toBe(7 * H);
    expect(iso(sundayNight.add(at('2026-10-31T12:00:00Z'), 1.5 * H))).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT
    expect(iso(sundayNight.add(at('2026-10-31T12:00:00Z'), 2.5 * H))).toBe('2026-11-01T06:30:00.000Z'); // 01:30 EST
  });

  it('a deadline that would fall in the skipped hour 02:00–03:00 on 2026-03-08', () => {
    expect(sundayNight.between(at('2026-03-08T00:00:00Z'), at('2026-03-09T00:00:00Z'))).toBe(5 * H);
    // 00:00 EST + 2h of real time is 03:00 EDT
    expect(iso(sundayNight.add(at('2026-03-07T12:00:00Z'), 2 * H))).toBe('2026-03-08T07:00:00.000Z');
  });
});

describe('America/Sao_Paulo', () => {
  const office = cal('America/Sao_Paulo', { 'mon-fri': ['09:00-18:00'] });
  const always = cal('America/Sao_Paulo', { 'mon-sun': ['00:00-24:00'] });

  it('uses UTC-3 in 2026 (no DST since 2019)', () => {
    expect(iso(office.add(at('2026-05-15T20:00:00Z'), 2 * H))).toBe('2026-05-18T13:00:00.000Z');
    expect(office.isWorkingAt(at('2026-05-18T12:00:00Z'))).toBe(true); // 09:00 local
    expect(office.isWorkingAt(at('2026-05-18T11:59:59Z'))).toBe(false);
  });

  it('handled DST changes at midnight (2018): 00:00 skipped on 2018-11-04, 23:00 repeated on 2018-02-17', () => {
    expect(always.between(at('2018-11-03T03:00:00Z'), at('2018-11-05T02:00:00Z'))).toBe(47 * H);
    expect(always.between(at('2018-02-17T02:00:00Z'), at('2018-02-18T03:00:00Z'))).toBe(25 * H);
    expect(iso(office.add(at('2018-11-02T20:00:00Z'), 2 * H))).toBe('2018-11-05T12:00:00.000Z');
  });
});

describe('one working day a week', () => {
  const wednesdays = cal('Europe/Berlin', { wed: ['09:00-17:00'] });
  const year = 52 * 8 * H;

  it('a year of business time lands on the 52nd Wednesday, across both DST changes', () => {
    expect(iso(wednesdays.add(at('2026-01-05T10:00:00Z'), year))).toBe('2026-12-30T16:00:00.000Z');
    expect(wednesdays.between(at('2026-01-05T10:00:00Z'), at('2026-12-30T16:00:00Z'))).toBe(year);
  });

  it('a holiday or a make-up day inside a jumped span moves the result by a week', () => {
    const withHoliday = cal('Europe/Berlin', { wed: ['09:00-17:00'] }, { holidays: ['2026-06-17'] });
    expect(iso(withHoliday.add(at('2026-01-05T10:00:00Z'), year))).toBe('2027-01-06T16:00:00.000Z');
    const withMakeup = cal('Europe/Berlin', { wed: ['09:00-17:00'] }, { workdays: ['2026-06-20'] });
    expect(iso(withMakeup.add(at('2026-01-05T10:00:00Z'), year))).toBe('2026-12-23T16:00:00.000Z');
  });

  it('answers a one-year duration well under a millisecond', () => {
    const shanghai = cal('Asia/Shanghai', { thu: ['10:00-16:00'] });
    for (const c of [wednesdays, shanghai]) {
      const from = at('2026-02-02T03:00:00Z');
      for (let i = 0; i < 300; i++) c.add(from + i * M, year); // warm the offset table and the JIT
      // The median of batches keeps a busy machine's hiccups out of the figure.
      const batches = Array.from({ length: 15 }, (_, b) => {
        const start = process.hrtime.bigint();
        for (let i = 0; i < 20; i++) c.add(from + (b * 20 + i) * M, year);
        return Number(process.hrtime.bigint() - start) / 1e6 / 20;
      }).sort((x, y) => x - y);
      expect(batches[7]).toBeLessThan(0.25);
    }
  });
});

describe('week keys, 24:00 and configuration', () => {
  it('24:00 ends a day and ranges may wrap over the weekend', () => {
    const evenings = cal('UTC', { 'fri-mon': ['18:00-24:00'] });
    // Mon 23:00 + 2h: 1h Monday, Tuesday–Thursday closed, Fri 18:00–19:00
    expect(iso(evenings.add(at('2026-06-01T23:00:00Z'), 2 * H))).toBe('2026-06-05T19:00:00.000Z');
    expect(evenings.isWorkingAt(at('2026-06-06T23:59:59Z'))).toBe(true);
    expect(evenings.isWorkingAt(at('2026-06-03T20:00:00Z'))).toBe(false);
    // Fri 18:00 to Tue 00:00: four evenings
    expect(evenings.between(at('2026-06-05T00:00:00Z'), at('2026-06-09T00:00:00Z'))).toBe(24 * H);
  });

  it('a single-day key overrides a range for that day', () => {
    const shortFriday = cal('UTC', { 'mon-fri': ['09:00-17:00'], fri: ['09:00-12:00'] });
    expect(shortFriday.between(at('2026-06-01T00:00:00Z'), at('2026-06-08T00:00:00Z'))).toBe((4 * 8 + 3) * H);
  });

  it('explicit make-up day hours', () => {
    const c = cal('Asia/Shanghai', { 'mon-fri': ['09:00-18:00'] }, { workdays: ['2026-10-10'], workday_hours: ['10:00-12:00'] });
    expect(c.between(at('2026-10-10T00:00:00+08:00'), at('2026-10-11T00:00:00+08:00'))).toBe(2 * H);
  });

  it('adding zero returns the start, even outside working time', () => {
    expect(cnOffice.add(at('2026-10-03T03:00:00Z'), 0)).toBe(at('2026-10-03T03:00:00Z'));
  });

  it('starting outside working time begins at the next interval', () => {
    expect(iso(cnOffice.add(at('2026-10-08T12:15:00+08:00'), 30 * M))).toBe('2026-10-08T06:00:00.000Z');
    expect(cnOffice.between(at('2026-10-08T12:15:00+08:00'), at('2026-10-08T12:45:00+08:00'))).toBe(0);
    expect(cnOffice.between(at('2026-10-08T14:00:00+08:00'), at('2026-10-08T10:00:00+08:00'))).toBe(0);
  });

  it('rejects what it cannot answer', () => {
    expect(() => cnOffice.add(0, -1)).toThrow(RangeError);
    expect(() => cal('Mars/Olympus', { mon: ['09:00-17:00'] })).toThrow(/unknown time zone/);
    expect(() => cal('UTC', { mon: ['17:00-09:00'] })).toThrow(/bad time range/);
    expect(() => cal('UTC', {}, { holidays: ['2026-02-30'] })).toThrow(/bad date/);
    const never = cal('UTC', {});
    expect(() => never.add(at('2026-01-01T00:00:00Z'), H)).toThrow(/no working time/);
    expect(never.between(at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'))).toBe(0);
    const onlyMakeup = cal('UTC', {}, { workdays: ['2026-03-01'], workday_hours: ['09:00-10:00'] });
    expect(iso(onlyMakeup.add(at('2026-01-01T00:00:00Z'), 30 * M))).toBe('2026-03-01T09:30:00.000Z');
  });
});

describe('always', () => {
  it('is wall-clock time', () => {
    expect(ALWAYS.id).toBe('always');
    expect(ALWAYS.add(1000, 5000)).toBe(6000);
    expect(ALWAYS.between(1000, 6000)).toBe(5000);
    expect(ALWAYS.between(6000, 1000)).toBe(0);
    expect(ALWAYS.isWorkingAt(0)).toBe(true);
  });
});

describe('parseInstant', () => {
  it('reads absolute and zone-local ISO times', () => {
    expect(parseInstant('2026-10-08T10:00:00Z', 'Asia/Shanghai')).toBe(at('2026-10-08T10:00:00Z'));
    expect(parseInstant('2026-10-08T10:00:00+08:00', 'UTC')).toBe(at('2026-10-08T02:00:00Z'));
    expect(parseInstant('2026-10-08T10:00', 'Asia/Shanghai')).toBe(at('2026-10-08T02:00:00Z'));
    expect(parseInstant('2026-10-08', 'America/New_York')).toBe(at('2026-10-08T04:00:00Z'));
    expect(parseInstant('2026-03-08T02:30', 'America/New_York')).toBe(at('2026-03-08T07:00:00Z')); // skipped → 03:00 EDT
    expect(parseInstant('2026-02-30T10:00:00Z', 'UTC')).toBeUndefined();
    expect(parseInstant('yesterday', 'UTC')).toBeUndefined();
    expect(parseInstant('2026-10-08T25:00:00Z', 'UTC')).toBeUndefined();
  });
});
