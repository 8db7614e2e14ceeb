import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfigText } from '../../src/config/load';

/** Dates and weekdays in calendars: `config check` and the start read them through one path. */
const example = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');
const OFFICE_WEEK = 'week: { mon-fri: ["09:00-12:00", "13:30-18:00"] }   # lunch break is not working time';
/** The example's commented-out company days of cn-office (its official days come from region CN). */
const OFFICE_HOLIDAYS = '# holidays: ["2026-12-24"]';
const OFFICE_WORKDAYS = '# workdays: ["2026-12-26"]';

function problems(text: string): string[] {
  const r = parseConfigText(text);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('calendar dates and weekdays in the config', () => {
  it('an impossible date is an error with its key path', () => {
    expect(problems(example.replace(OFFICE_HOLIDAYS, 'holidays: ["2026-02-30"]'))).toEqual(['calendars.cn-office.holidays[0]: 2026-02-30 is not a date that exists']);
    expect(problems(example.replace(OFFICE_WORKDAYS, 'workdays: ["2026-09-27", "2026-13-01"]'))).toEqual(['calendars.cn-office.workdays[1]: 2026-13-01 is not a date that exists']);
  });

  it('a reversed range is an error with its key path', () => {
    expect(problems(example.replace(OFFICE_HOLIDAYS, 'holidays: ["2026-01-01", "2026-10-07..2026-10-01"]'))).toEqual([
      'calendars.cn-office.holidays[1]: the range ends (2026-10-01) before it starts (2026-10-07)',
    ]);
  });

  it('a weekday given twice is an error; a single day refining one range is fine', () => {
    expect(problems(example.replace(OFFICE_WEEK, 'week: { mon-fri: ["09:00-18:00"], thu-sat: ["10:00-12:00"] }'))).toEqual([
      'calendars.cn-office.week.thu-sat: thu is already given by "mon-fri" (name each day once; a single day may refine one range)',
    ]);
    expect(problems(example.replace(OFFICE_WEEK, 'week: { sat: ["09:00-12:00"], sat-sat: ["13:00-15:00"], mon-fri: ["09:00-18:00"] }'))).toEqual([
      'calendars.cn-office.week.sat-sat: sat is already given by "sat" (name each day once; a single day may refine one range)',
    ]);
    expect(problems(example.replace(OFFICE_WEEK, 'week: { mon-fri: ["09:00-18:00"], fri: ["09:00-12:00"] }'))).toEqual([]);
  });

  it('the start refuses the same file with the same key paths (one validation path)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-dates-'));
    const file = join(dir, 'ticketbot.yaml');
    writeFileSync(file, example.replace(OFFICE_HOLIDAYS, 'holidays: ["2026-02-30", "2026-10-07..2026-10-01"]'));
    let thrown: unknown;
    try {
      loadConfigFile(file);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => p.path)).toEqual(['calendars.cn-office.holidays[0]', 'calendars.cn-office.holidays[1]']);
  });
});
