/** Durations in config and CLI: `30s`, `15m`, `4h`, `1d`, and combinations like `1h30m`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/;

/** Parses a duration to milliseconds; returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '') return undefined;
  let total = 0;
  while (rest.length > 0) {
    const m = DURATION_RE.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** Formats milliseconds compactly: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return sign + parts.join('');
}

/**
 * A clock target: business time (`4h`, `3d` = 72 working hours) or whole working days (`3wd`),
 * which end at the same local time of day that many working days later (see
 * BusinessCalendar.addWorkingDays); a `wd` target becomes business time when its clock starts.
 */
export type Target = { readonly kind: 'business'; readonly ms: number } | { readonly kind: 'working_days'; readonly days: number };

const WORKING_DAYS_RE = /^(\d+)wd$/;

/** Parses an SLA or handoff target: any duration, or `Nwd` (a whole number of working days, not combined with other units). */
export function parseTarget(text: string): Target | undefined {
  const wd = WORKING_DAYS_RE.exec(text.trim());
  if (wd) {
    const days = Number(wd[1]);
    return days > 0 ? { kind: 'working_days', days } : undefined;
  }
  const ms = parseDuration(text);
  return ms === undefined ? undefined : { kind: 'business', ms };
}
