import type { OfficialDays } from '../domain/calendar';

/**
 * Official public holidays and make-up workdays for a calendar's `region`, loaded once with the
 * config so the domain calendar only sees dates and names.
 *
 * - CN: `chinese-days` — the State Council's 放假 and 调休 days, one JSON file, updated each year
 *   when the schedule is published (so next year is missing until then: `config check` warns).
 * - Any other region: `date-holidays` (public holidays computed from rules, no make-up days),
 *   loaded only when such a region is configured (it is the larger package).
 */

interface ChineseDaysJson {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

/** Years before and after this one that rule-based regions are expanded for. */
const RULE_YEARS_BACK = 2;
const RULE_YEARS_AHEAD = 5;

let chineseDays: ChineseDaysJson | undefined;
function loadChineseDays(): ChineseDaysJson {
  // The package's JSON holds every published year; its entries read "Spring Festival,春节,4".
  chineseDays ??= require('chinese-days/dist/chinese-days.json') as ChineseDaysJson;
  return chineseDays;
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

type DateHolidays = {
  getCountries(): Record<string, string>;
  getStates(country: string): Record<string, string> | undefined;
  getHolidays(year: number): { date: string; start: Date; end: Date; name: string; type: string }[];
};
type DateHolidaysCtor = new (country?: string, state?: string) => DateHolidays;

function dateHolidays(): DateHolidaysCtor {
  return require('date-holidays') as DateHolidaysCtor;
}

/** Whether official days can be loaded for `region` (CN, a date-holidays country or country-state). */
export function isKnownRegion(region: string): boolean {
  if (region === 'CN') return true;
  const [country, state] = region.split('-') as [string, string | undefined];
  const Holidays = dateHolidays();
  const probe = new Holidays();
  if (!(country in probe.getCountries())) return false;
  return state === undefined || state in (probe.getStates(country) ?? {});
}

/** The official days of `region`; `nowMs` picks the years a rule-based region is expanded for. */
export function loadOfficialDays(region: string, nowMs: number = Date.now()): OfficialDays {
  if (region === 'CN') {
    const data = loadChineseDays();
    const name = (entry: string) => entry.split(',')[1] ?? entry;
    const holidays = new Map(Object.entries(data.holidays).map(([d, e]) => [d, name(e)]));
    const workdays = new Map(Object.entries(data.workdays).map(([d, e]) => [d, name(e)]));
    const years = [...new Set([...holidays.keys()].map((d) => Number(d.slice(0, 4))))].sort((a, b) => a - b);
    return { region, source: `chinese-days ${packageVersion('chinese-days')}`, holidays, workdays, years };
  }
  const [country, state] = region.split('-') as [string, string | undefined];
  const Holidays = dateHolidays();
  const hd = state === undefined ? new Holidays(country) : new Holidays(country, state);
  const thisYear = new Date(nowMs).getUTCFullYear();
  const holidays = new Map<string, string>();
  const years: number[] = [];
  for (let y = thisYear - RULE_YEARS_BACK; y <= thisYear + RULE_YEARS_AHEAD; y++) {
    years.push(y);
    for (const h of hd.getHolidays(y)) {
      if (h.type !== 'public') continue;
      // Some holidays last several days (설날, Tết): `date` is the first local day, start/end the span.
      const days = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / 86_400_000));
      const first = Date.parse(`${h.date.slice(0, 10)}T00:00:00Z`);
      for (let i = 0; i < days; i++) {
        const date = new Date(first + i * 86_400_000).toISOString().slice(0, 10);
        if (!holidays.has(date)) holidays.set(date, h.name);
      }
    }
  }
  return { region, source: `date-holidays ${packageVersion('date-holidays')}`, holidays, workdays: new Map(), years };
}

/**
 * Warnings for calendars whose region has no data for a year tickets may reach: this year and
 * the next (a due time computed in December lands in January).
 */
export function officialDataWarnings(calendars: Record<string, { region?: string | undefined; official?: OfficialDays | undefined }>, nowMs: number = Date.now()): string[] {
  const thisYear = new Date(nowMs).getUTCFullYear();
  const out: string[] = [];
  for (const [id, c] of Object.entries(calendars)) {
    if (!c.region || !c.official) continue;
    for (const year of [thisYear, thisYear + 1]) {
      if (c.official.years.includes(year)) continue;
      out.push(
        `calendars.${id}: region ${c.region} has no official holidays for ${year} in ${c.official.source} (not published yet?) — ` +
          `${year} counts only weekends until you update the package or list that year's holidays and workdays under the calendar`,
      );
    }
  }
  return out;
}
