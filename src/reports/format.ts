import type { Config } from '../config/model';
import { platformOfUser, type ChatPlatform } from '../domain/platforms';
import { t } from '../chat/i18n';
import type { HeadlineFigure } from '../domain/metrics';
import type { Locale } from '../domain/types';
import { PRIORITIES, type Priority } from '../domain/types';
import { rt } from './i18n';
import { durationText, type TimeBasis } from '../chat/durations';

/** Shared formatting of report values in the reader's language. */

/**
 * A measured duration in words. Metrics are business time, so by default it reads in working
 * hours ("28 working hours", "28 工作小时", never "1天4小时"); pass 'wall' for wall-clock spans such
 * as a ticket's age. The wording is src/chat/durations.ts's, shared with docs, policy and cards.
 */
export function formatDurationText(ms: number | null, locale: Locale, basis: TimeBasis = 'business'): string {
  if (ms === null || !Number.isFinite(ms)) return rt(locale, 'metric.no_data');
  return durationText(Math.round(ms), locale, basis);
}

export function formatRate(rate: number | null, locale: Locale): string {
  if (rate === null) return rt(locale, 'metric.no_data');
  const percent = Math.round(rate * 1000) / 10;
  return `${Number.isInteger(percent) ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

export function formatFigure(f: Pick<HeadlineFigure, 'value' | 'kind'>, locale: Locale): string {
  return f.kind === 'duration' ? formatDurationText(f.value, locale) : formatRate(f.value, locale);
}

export function departmentName(config: Config, id: string, locale: Locale): string {
  return config.departments.get(id)?.name[locale] ?? id;
}

export function categoryName(config: Config, id: string, locale: Locale): string {
  return config.categories.get(id)?.name[locale] ?? id;
}

/** "Fault / Login / Wrong password" of a leaf category. */
export function categoryPathName(config: Config, id: string, locale: Locale): string {
  const leaf = config.leaves.get(id);
  if (!leaf) return categoryName(config, id, locale);
  return leaf.path.map((n) => n.name[locale]).join(' / ');
}

export function priorityName(priority: string, locale: Locale): string {
  return (PRIORITIES as readonly string[]).includes(priority) ? t(locale, `priority.${priority as Priority}`) : priority;
}

export function stateName(state: string, locale: Locale): string {
  const key = `state.${state}` as const;
  return ['state.new', 'state.assigned', 'state.in_progress', 'state.waiting_on_requester', 'state.resolved', 'state.closed'].includes(key)
    ? t(locale, key as Parameters<typeof t>[1])
    : state;
}

export function returnReasonName(config: Config, id: string, locale: Locale): string {
  return config.raw.return_reasons.find((r) => r.id === id)?.name[locale] ?? id;
}

/** A date in a zone as YYYY-MM-DD. */
export function formatDay(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

const localFormats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD HH:mm:ss` (or without seconds) of an instant in a zone: what spreadsheets and people read. */
export function formatLocalDateTime(ms: number, timeZone: string, seconds = true): string {
  let f = localFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    localFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const time = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  return seconds ? `${time}:${p.second}` : time;
}

/** The platform of a users.id (`slack:…`, `feishu:…`). */
export function platformOfUserId(id: string): ChatPlatform | 'other' {
  return platformOfUser(id) ?? 'other';
}

/**
 * A person as people read them: the name from the users table, or "unknown (Feishu)" when the
 * platform never told us the name — never the raw id.
 */
export function personName(id: string, name: string | null | undefined, locale: Locale): string {
  if (name) return name;
  return rt(locale, 'dash.unknown_person', { platform: rt(locale, `dash.platform.${platformOfUserId(id)}`) });
}

/**
 * The time zone a viewer reads times in: the calendar zone of their department when the view
 * covers one department (or several sharing a zone), else the report zone (`fallback`).
 */
export function viewerTimeZone(config: Config, departmentIds: readonly string[] | undefined, fallback: string): string {
  const zones = new Set((departmentIds ?? []).map((id) => {
    const calendar = config.departments.get(id)?.calendar;
    return (calendar && config.raw.calendars[calendar]?.timezone) || fallback;
  }));
  return zones.size === 1 ? [...zones][0]! : fallback;
}
