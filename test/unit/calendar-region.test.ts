import { join } from 'node:path';
import { loadConfigFile, parseConfigText } from '../../src/config/load';
import { loadOfficialDays, officialDataWarnings } from '../../src/config/holidays';
import { calendarsFromConfig, compileCalendar } from '../../src/domain/calendar';

/**
 * `region: CN` takes the official 2026 schedule (State Council, via chinese-days): 元旦 01-01..03
 * (make-up Sun 01-04), 春节 02-15..23 (make-up Sat 02-14, Sat 02-28), 清明 04-04..06, 劳动节
 * 05-01..05 (make-up Sat 05-09), 端午 06-19..21, 中秋 09-25..27, 国庆节 10-01..07 (make-up Sun
 * 09-20, Sat 10-10). cn-office works 09:00–12:00 and 13:30–18:00 (7h30m a day).
 */
const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const example = loadConfigFile(join(__dirname, '../../config/example.yaml'));
const cnOffice = calendarsFromConfig(example.raw).get('cn-office')!;
const due = (from: string, hours: number) => iso(cnOffice.add(at(from), hours * H));

describe('region CN: official 2026 dates in the example cn-office calendar', () => {
  it('Spring Festival: works the make-up Saturday 02-14, skips 02-15..23, works the make-up Saturday 02-28', () => {
    expect(due('2026-02-13T17:00:00+08:00', 2)).toBe('2026-02-14T02:00:00.000Z');
    expect(due('2026-02-14T17:00:00+08:00', 2)).toBe('2026-02-24T02:00:00.000Z');
    expect(due('2026-02-27T17:00:00+08:00', 2)).toBe('2026-02-28T02:00:00.000Z');
    // 02-13 (Fri), 02-14 (make-up Sat) and 02-24 (Tue) are the only working days of 02-13..24
    expect(cnOffice.between(at('2026-02-13T00:00:00+08:00'), at('2026-02-25T00:00:00+08:00'))).toBe(3 * 7.5 * H);
    expect(cnOffice.isWorkingAt(at('2026-02-23T10:00:00+08:00'))).toBe(false);
    expect(cnOffice.isWorkingAt(at('2026-02-28T10:00:00+08:00'))).toBe(true);
  });

  it('sla due --explain names the make-up day and the holiday', () => {
    const lines = cnOffice.explainAdd(at('2026-02-13T17:00:00+08:00'), 10 * H);
    expect(lines).toContain('2026-02-14 make-up workday (春节)');
    expect(lines).toContain('2026-02-15..23 holiday skipped (春节)');
    expect(lines[lines.length - 1]).toBe('due 2026-02-24 10:30 Asia/Shanghai = 2026-02-24T02:30:00.000Z');
  });

  it('Qingming 04-04..06 (Sat–Mon)', () => {
    expect(due('2026-04-03T17:00:00+08:00', 2)).toBe('2026-04-07T02:00:00.000Z');
    expect(cnOffice.explainNotes(at('2026-04-03T17:00:00+08:00'), 2 * H)).toContain('2026-04-04..06 holiday skipped (清明)');
  });

  it('Labour Day 05-01..05 and its make-up Saturday 05-09', () => {
    expect(due('2026-04-30T17:00:00+08:00', 2)).toBe('2026-05-06T02:00:00.000Z');
    expect(due('2026-05-08T17:00:00+08:00', 2)).toBe('2026-05-09T02:00:00.000Z');
    expect(cnOffice.explainNotes(at('2026-05-08T17:00:00+08:00'), 2 * H)).toContain('2026-05-09 make-up workday (劳动节)');
  });

  it('Dragon Boat 06-19..21 (Fri–Sun)', () => {
    expect(due('2026-06-18T17:00:00+08:00', 2)).toBe('2026-06-22T02:00:00.000Z');
    expect(cnOffice.isWorkingAt(at('2026-06-19T10:00:00+08:00'))).toBe(false);
  });

  it('Mid-Autumn 09-25..27 is a holiday (09-27 is not a make-up day); 09-20 is the make-up Sunday', () => {
    expect(due('2026-09-24T17:00:00+08:00', 2)).toBe('2026-09-28T02:00:00.000Z');
    expect(cnOffice.isWorkingAt(at('2026-09-27T10:00:00+08:00'))).toBe(false);
    expect(due('2026-09-18T17:00:00+08:00', 2)).toBe('2026-09-20T02:00:00.000Z');
  });

  it('National Day 10-01..07 and the make-up Saturday 10-10', () => {
    expect(due('2026-09-30T17:00:00+08:00', 2)).toBe('2026-10-08T02:00:00.000Z');
    expect(due('2026-10-09T17:00:00+08:00', 2)).toBe('2026-10-10T02:00:00.000Z');
    expect(cnOffice.isWorkingAt(at('2026-10-11T10:00:00+08:00'))).toBe(false);
  });

  it('the warehouse calendar (mon-sat) gets the same region days', () => {
    const wh = calendarsFromConfig(example.raw).get('cn-warehouse')!;
    expect(wh.isWorkingAt(at('2026-02-16T10:00:00+08:00'))).toBe(false);
    expect(wh.isWorkingAt(at('2026-02-14T10:00:00+08:00'))).toBe(true);
  });
});

describe("a calendar's own holidays and workdays override the region's", () => {
  const official = loadOfficialDays('CN');
  const cal = compileCalendar('own', {
    timezone: 'Asia/Shanghai',
    week: { 'mon-fri': ['09:00-17:00'] },
    region: 'CN',
    official,
    holidays: ['2026-02-14'], // the company does not work the make-up Saturday
    workdays: ['2026-02-23'], // but opens on the last Spring Festival day
  });
  it('drops the make-up day and adds the workday', () => {
    expect(cal.isWorkingAt(at('2026-02-14T10:00:00+08:00'))).toBe(false);
    expect(cal.isWorkingAt(at('2026-02-23T10:00:00+08:00'))).toBe(true);
    expect(cal.isWorkingAt(at('2026-02-20T10:00:00+08:00'))).toBe(false);
    expect(iso(cal.add(at('2026-02-13T16:00:00+08:00'), 2 * H))).toBe('2026-02-23T02:00:00.000Z');
  });
});

describe('other regions come from date-holidays', () => {
  it('US: Independence Day 2026 is observed on Friday 07-03', () => {
    const config = parseConfigText(
      [
        'calendars:',
        '  us: { timezone: America/New_York, week: { mon-fri: ["09:00-17:00"] }, region: US }',
        'departments: [{ id: d, name: { en: D, zh-CN: D }, calendar: us }]',
        'categories: [{ id: c, name: { en: C, zh-CN: C }, department: d }]',
      ].join('\n'),
    );
    if (!config.ok) throw new Error(JSON.stringify(config.problems));
    const us = calendarsFromConfig(config.raw).get('us')!;
    expect(iso(us.add(at('2026-07-02T16:00:00-04:00'), 2 * H))).toBe('2026-07-06T14:00:00.000Z');
    expect(us.explainAdd(at('2026-07-02T16:00:00-04:00'), 2 * H)).toContain('2026-07-03..04 holiday skipped (Independence Day (substitute day), Independence Day)');
  });

  it('a holiday of several days counts every day of its span (KR: date-holidays gives 설날 2026-02-17 for three days)', () => {
    const kr = loadOfficialDays('KR', at('2026-11-27T00:00:00Z'));
    expect(['2026-02-17', '2026-02-18', '2026-02-19'].map((d) => kr.holidays.get(d))).toEqual(['설날', '설날', '설날']);
    expect(kr.holidays.has('2026-02-20')).toBe(false);
    expect(kr.years).toEqual(expect.arrayContaining([2026, 2027]));
  });

  it('an unknown region is a config problem', () => {
    const result = parseConfigText(
      ['calendars:', '  x: { timezone: UTC, week: { mon-fri: ["09:00-17:00"] }, region: QQ }', 'departments: []', 'categories: []'].join('\n'),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContainEqual({ path: 'calendars.x.region', message: expect.stringContaining('no holiday data') });
  });
});

describe('config check warns when a region has no data for a year tickets may reach', () => {
  it('CN in November 2026: 2027 is not published in the installed chinese-days', () => {
    const cn = loadOfficialDays('CN');
    expect(cn.years).toContain(2026);
    const nov2026 = at('2026-11-27T00:00:00Z');
    const warnings = officialDataWarnings({ office: { region: 'CN', official: cn } }, nov2026);
    expect(warnings).toHaveLength(cn.years.includes(2027) ? 0 : 1);
    if (!cn.years.includes(2027)) expect(warnings[0]).toMatch(/^calendars\.office: region CN has no official holidays for 2027 in chinese-days 1\.5\.7/);
    expect(officialDataWarnings({ office: { region: 'CN', official: cn } }, at('2025-03-01T00:00:00Z'))).toEqual([]);
    expect(officialDataWarnings({ office: { region: 'CN', official: cn } }, at('2031-03-01T00:00:00Z'))).toHaveLength(2);
  });
});
