/**
 * Time-zone arithmetic for business calendars: the UTC offset at an instant and the instant of a
 * local wall-clock time, DST-correct.
 *
 * Why not ask Intl for every conversion: `formatToParts` costs microseconds and a due-time
 * computation needs many conversions. Instead each zone's offset transitions are found once per
 * year (Intl sampled weekly, then bisected to the second) and conversions become arithmetic.
 * Limitation: two transitions less than a week apart that cancel out are not seen (no zone has
 * had that since the tz database's early history).
 */

export const DAY_MS = 86_400_000;
const SAMPLE_STEP_MS = 7 * DAY_MS;

export interface OffsetTransition {
  /** First instant (epoch ms) of the new offset. */
  readonly at: number;
  readonly offsetBefore: number;
  readonly offsetAfter: number;
}

interface YearSegment {
  readonly start: number;
  readonly end: number;
  readonly startOffset: number;
  readonly transitions: readonly OffsetTransition[];
}

export class ZoneRules {
  private readonly segments = new Map<number, YearSegment>();
  private lastSegment: YearSegment | undefined;
  private readonly formatter: Intl.DateTimeFormat | undefined;

  constructor(readonly timeZone: string) {
    // UTC needs no lookups at all; it is the zone of the `always` calendar and of many tests.
    this.formatter = isUtc(timeZone)
      ? undefined
      : new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Milliseconds to add to a UTC instant to get the local wall-clock time (as if it were UTC). */
  offsetAt(utcMs: number): number {
    if (!this.formatter) return 0;
    const seg = this.segmentFor(utcMs);
    let offset = seg.startOffset;
    for (const t of seg.transitions) {
      if (t.at > utcMs) break;
      offset = t.offsetAfter;
    }
    return offset;
  }

  /** Local wall-clock time of an instant, as epoch ms of the same wall time in UTC. */
  toLocal(utcMs: number): number {
    return utcMs + this.offsetAt(utcMs);
  }

  /**
   * The instant a local wall-clock time denotes. A time that occurs twice (the repeated hour when
   * clocks go back) maps to its first occurrence; a time that does not exist (the skipped hour)
   * maps to the moment clocks jump, i.e. the next valid instant. Both choices keep the mapping
   * monotonic, so intervals never overlap and an interval spanning a change has its real length.
   */
  toUtc(localMs: number): number {
    if (!this.formatter) return localMs;
    const before = this.offsetAt(localMs - DAY_MS);
    const after = this.offsetAt(localMs + DAY_MS);
    if (before === after) return localMs - before;
    const candidates = [localMs - before, localMs - after].filter((u) => this.offsetAt(u) === localMs - u);
    if (candidates.length > 0) return Math.min(...candidates);
    // In a gap: the local time lies in [t.at + offsetBefore, t.at + offsetAfter) of a forward jump.
    for (const t of this.transitionsBetween(localMs - 2 * DAY_MS, localMs + 2 * DAY_MS)) {
      if (localMs >= t.at + t.offsetBefore && localMs < t.at + t.offsetAfter) return t.at;
    }
    return localMs - after;
  }

  /** Transitions with `from <= at < to`, in order. */
  transitionsBetween(fromMs: number, toMs: number): OffsetTransition[] {
    if (!this.formatter || toMs <= fromMs) return [];
    const out: OffsetTransition[] = [];
    for (let year = utcYear(fromMs); year <= utcYear(toMs); year++) {
      for (const t of this.segment(year).transitions) if (t.at >= fromMs && t.at < toMs) out.push(t);
    }
    return out;
  }

  /** The first transition with `from <= at < to`, without looking further than needed. */
  firstTransitionBetween(fromMs: number, toMs: number): OffsetTransition | undefined {
    if (!this.formatter || toMs <= fromMs) return undefined;
    for (let year = utcYear(fromMs); year <= utcYear(toMs); year++) {
      for (const t of this.segment(year).transitions) if (t.at >= fromMs && t.at < toMs) return t;
    }
    return undefined;
  }

  private segmentFor(utcMs: number): YearSegment {
    const last = this.lastSegment;
    if (last && utcMs >= last.start && utcMs < last.end) return last;
    const seg = this.segment(utcYear(utcMs));
    this.lastSegment = seg;
    return seg;
  }

  private segment(year: number): YearSegment {
    const cached = this.segments.get(year);
    if (cached) return cached;
    const start = Date.UTC(year, 0, 1);
    const end = Date.UTC(year + 1, 0, 1);
    const startOffset = this.intlOffset(start);
    const transitions: OffsetTransition[] = [];
    let lo = start;
    let loOffset = startOffset;
    while (lo < end) {
      const hi = Math.min(lo + SAMPLE_STEP_MS, end);
      const hiOffset = this.intlOffset(hi);
      // More than one change may hide in a window: find them one by one from the left.
      while (hiOffset !== loOffset) {
        const t = this.bisect(lo, hi, loOffset);
        if (t.at < end) transitions.push(t);
        lo = t.at;
        loOffset = t.offsetAfter;
      }
      lo = hi;
      loOffset = hiOffset;
    }
    const seg: YearSegment = { start, end, startOffset, transitions };
    this.segments.set(year, seg);
    return seg;
  }

  /** First whole second in (lo, hi] whose offset differs from `loOffset`. */
  private bisect(lo: number, hi: number, loOffset: number): OffsetTransition {
    let a = lo;
    let b = hi;
    while (b - a > 1000) {
      const mid = a + Math.floor((b - a) / 2000) * 1000;
      if (this.intlOffset(mid) === loOffset) a = mid;
      else b = mid;
    }
    return { at: b, offsetBefore: loOffset, offsetAfter: this.intlOffset(b) };
  }

  private intlOffset(utcMs: number): number {
    const whole = Math.floor(utcMs / 1000) * 1000;
    let y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0;
    for (const p of this.formatter!.formatToParts(whole)) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value) % 24; break;
        case 'minute': mi = Number(p.value); break;
        case 'second': s = Number(p.value); break;
      }
    }
    const local = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
    local.setUTCFullYear(y); // Date.UTC maps years 0–99 to 1900–1999
    return local.getTime() - whole;
  }
}

function isUtc(tz: string): boolean {
  return tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Etc/GMT' || tz === 'GMT';
}

function utcYear(ms: number): number {
  return new Date(ms).getUTCFullYear();
}

const zones = new Map<string, ZoneRules>();

/** Shared, memoised rules of a zone (the memo only caches what Intl would answer). */
export function zoneRules(timeZone: string): ZoneRules {
  let z = zones.get(timeZone);
  if (!z) {
    z = new ZoneRules(timeZone);
    zones.set(timeZone, z);
  }
  return z;
}

/** Day number (days since 1970-01-01) of the local date of an instant in a zone. */
export function localDayNumber(utcMs: number, timeZone: string): number {
  return Math.floor(zoneRules(timeZone).toLocal(utcMs) / DAY_MS);
}

/** Weekday of a day number, Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday). */
export function weekdayOfDay(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** `YYYY-MM-DD` of a day number. */
export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Day number of `YYYY-MM-DD`, or undefined if it is not a real date. */
export function parseDay(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms / DAY_MS;
}

/** `HH:MM` of minutes after midnight (1440 → 24:00). */
export function formatMinutes(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
}

const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 instant. With `Z` or an offset it is absolute; without one it is a wall-clock
 * time in `defaultZone` (so `2026-10-08T09:00` means 9 o'clock in the calendar's office). Returns
 * undefined for text that is not a real date and time.
 */
export function parseInstant(text: string, defaultZone: string): number | undefined {
  const m = INSTANT_RE.exec(text.trim());
  if (!m) return undefined;
  const [y, mo] = [Number(m[1]), Number(m[2])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const day = parseDay(`${m[1]}-${m[2]}-${m[3]}`);
  if (day === undefined || y < 1 || mo < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const local = day * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms;
  const zone = m[8];
  if (zone === undefined) return zoneRules(defaultZone).toUtc(local);
  if (zone === 'Z' || zone === 'z') return local;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  if (offsetMin > 18 * 60) return undefined;
  return local - sign * offsetMin * 60_000;
}
