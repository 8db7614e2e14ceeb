import { parseTarget, type Target } from '../domain/duration';
import type { Locale } from '../domain/types';
import { t } from './i18n';

/**
 * The one way durations are shown to people (docs, `/ticket policy`, cards, dashboard). Business
 * time reads in working hours — `3d` is "72 working hours / 72 工作小时", never "3 days", because
 * a business-time day is 24 working hours (about three office days) — and `3wd` reads "3 working
 * days / 3 个工作日". Wall-clock time (the `always` calendar) reads in plain hours.
 */
export type TimeBasis = 'business' | 'wall';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** A config duration or target text (`4h`, `3d`, `2wd`), a parsed target, or milliseconds, in words. Unparseable text is shown as written. */
export function durationText(value: string | Target | number, locale: Locale, basis: TimeBasis = 'business'): string {
  const target = typeof value === 'string' ? parseTarget(value) : typeof value === 'number' ? ({ kind: 'business', ms: value } as const) : value;
  if (target === undefined) return String(value);
  if (target.kind === 'working_days') {
    if (basis === 'wall') return t(locale, target.days === 1 ? 'duration.hours.one' : 'duration.hours', { n: target.days * 24 });
    return t(locale, target.days === 1 ? 'duration.working_days.one' : 'duration.working_days', { n: target.days });
  }
  return msText(target.ms, locale, basis);
}

function msText(ms: number, locale: Locale, basis: TimeBasis): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE_MS) return t(locale, 'duration.seconds', { n: Math.round(abs / 1000) });
  const hours = Math.floor(abs / HOUR_MS);
  const minutes = Math.round((abs - hours * HOUR_MS) / MINUTE_MS);
  const parts: string[] = [];
  if (hours > 0) {
    const key = basis === 'business' ? (hours === 1 ? 'duration.working_hours.one' : 'duration.working_hours') : hours === 1 ? 'duration.hours.one' : 'duration.hours';
    parts.push(t(locale, key, { n: hours }));
  }
  if (minutes > 0) parts.push(t(locale, basis === 'business' && hours === 0 ? 'duration.working_minutes' : 'duration.minutes', { n: minutes }));
  return parts.join(' ');
}
