import type { Config } from '../config/model';

/** Longest period `/ticket stats` reports on. */
export const STATS_MAX_DAYS = 365;
export const STATS_DEFAULT_DAYS = 7;

export interface StatsArgs {
  days: number;
  /** The department words as typed ('' when none were given). */
  departmentText: string;
  /** The department they name, if any does. */
  departmentId?: string | undefined;
}

/** A department named by id, key prefix, or its name in either language (case-insensitive). */
export function findDepartment(config: Pick<Config, 'departments'>, text: string): string | undefined {
  const typed = text.trim();
  const wanted = typed.toLowerCase();
  if (wanted === '') return undefined;
  for (const d of config.departments.values()) {
    if (d.id.toLowerCase() === wanted || d.keyPrefix.toLowerCase() === wanted || d.name.en.toLowerCase() === wanted || d.name['zh-CN'] === typed) return d.id;
  }
  return undefined;
}

/**
 * The words after `/ticket stats`: a period (`7d`, `30d`, also `30天`; 7 days by default, at most
 * a year) and an optional department, in any order. `/ticket stats finance 30d` → 30 days of finance.
 */
export function parseStatsArgs(config: Pick<Config, 'departments'>, words: readonly string[]): StatsArgs {
  let days = STATS_DEFAULT_DAYS;
  const rest: string[] = [];
  for (const w of words) {
    const period = /^(\d{1,4})\s*(?:d|天)$/i.exec(w);
    if (period) days = Math.min(STATS_MAX_DAYS, Math.max(1, Number(period[1])));
    else rest.push(w);
  }
  const departmentText = rest.join(' ');
  return { days, departmentText, departmentId: departmentText ? findDepartment(config, departmentText) : undefined };
}
