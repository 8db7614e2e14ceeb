import { sql } from 'kysely';
import type { AppContext } from '../app/context';
import type { Config } from '../config/model';
import { ANOMALY_DEFAULTS, detectEpisodes, median, type AnomalyOptions, type SeriesPoint } from '../domain/anomaly';
import { CalendarMeasures } from '../domain/metrics';
import type { Locale } from '../domain/types';
import { departmentName, formatDurationText } from './format';
import { rt } from './i18n';
import { sourceOf } from './stats';

/**
 * The anomaly job [S5.2]: hourly series per department (first-response time, open backlog,
 * inflow) over the last five weeks, judged by domain/anomaly. An alert is returned only for an
 * episode that opened at the last complete hour, so an hourly job alerts once per episode; its
 * `key` is stable, for the outbox's idempotency key, in case the job runs twice in an hour.
 */

export type AnomalyMetric = 'first_response' | 'backlog' | 'inflow';

export interface AnomalyAlert {
  key: string;
  departmentId: string;
  metric: AnomalyMetric;
  /** Start of the hour the alert is about. */
  atMs: number;
  episodeStartMs: number;
  value: number;
  baseline: number;
  /** Config refs of the department's supervisors (who to tell). */
  supervisors: string[];
}

const HOUR_MS = 3_600_000;
const HISTORY_MS = 35 * 24 * HOUR_MS;

export interface DepartmentSeries {
  departmentId: string;
  first_response: SeriesPoint[];
  backlog: SeriesPoint[];
  inflow: SeriesPoint[];
}

/** Hourly series for each department from `fromMs` to the hour before `toMs` (both on hour boundaries). */
export async function loadDepartmentSeries(ctx: Pick<AppContext, 'db' | 'config' | 'calendars'>, fromMs: number, toMs: number): Promise<DepartmentSeries[]> {
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const rows = await ctx.db
    .selectFrom('tickets as t')
    .select([
      't.department_id', 't.home_department_id', 't.created_at', 't.first_response_at', 't.resolved_at', 't.closed_at',
      sql<string | null>`(select min(c.calendar_id) from clocks c where c.ticket_id = t.id and c.kind = 'first_response')`.as('frt_calendar'),
    ])
    .where('t.created_at', '<', to)
    .where((eb) => eb.or([eb('t.created_at', '>=', from), eb('t.state', 'not in', ['resolved', 'closed']), eb('t.resolved_at', '>=', from), eb('t.closed_at', '>=', from)]))
    .execute();
  const hours = Math.max(0, Math.round((toMs - fromMs) / HOUR_MS));
  const measures = new CalendarMeasures(sourceOf(ctx).calendars);
  const perDept = new Map<string, { inflow: number[]; backlogDelta: number[]; openBefore: number; frt: number[][] }>();
  const get = (id: string) => {
    let d = perDept.get(id);
    if (!d) {
      d = { inflow: new Array(hours).fill(0), backlogDelta: new Array(hours).fill(0), openBefore: 0, frt: Array.from({ length: hours }, () => []) };
      perDept.set(id, d);
    }
    return d;
  };
  for (const id of ctx.config.departments.keys()) get(id);
  const hourIndex = (ms: number) => Math.floor((ms - fromMs) / HOUR_MS);
  for (const r of rows) {
    const created = Date.parse(r.created_at);
    const endText = [r.resolved_at, r.closed_at].filter((x): x is string => x !== null).sort()[0];
    const ended = endText ? Date.parse(endText) : null;
    // Inflow is what arrived at a department; backlog is what a department holds now.
    const home = get(r.home_department_id);
    if (created >= fromMs) home.inflow[hourIndex(created)]!++;
    const holder = get(r.department_id);
    if (created < fromMs) {
      if (ended === null || ended >= fromMs) holder.openBefore++;
    } else {
      holder.backlogDelta[hourIndex(created)]!++;
    }
    if (ended !== null && ended >= fromMs && ended < toMs) holder.backlogDelta[hourIndex(ended)]!--;
    if (r.first_response_at !== null) {
      const answered = Date.parse(r.first_response_at);
      if (answered >= fromMs && answered < toMs) {
        const calendar = r.frt_calendar ?? ctx.config.departments.get(r.department_id)?.calendar ?? 'always';
        holder.frt[hourIndex(answered)]!.push(measures.get(calendar).between(created, answered));
      }
    }
  }
  return [...perDept].map(([departmentId, d]) => {
    let open = d.openBefore;
    const at = (i: number) => fromMs + i * HOUR_MS;
    return {
      departmentId,
      inflow: d.inflow.map((value, i) => ({ atMs: at(i), value })),
      // Open tickets at the end of each hour.
      backlog: d.backlogDelta.map((delta, i) => {
        open += delta;
        return { atMs: at(i), value: open };
      }),
      first_response: d.frt.map((values, i) => ({ atMs: at(i), value: values.length ? median(values) : null })),
    };
  });
}

/** Alerts for episodes that opened in the last complete hour before `now`. */
export async function detectDepartmentAnomalies(
  ctx: Pick<AppContext, 'db' | 'config' | 'calendars'>,
  now: Date,
  options: Record<AnomalyMetric, AnomalyOptions> = ANOMALY_DEFAULTS,
): Promise<AnomalyAlert[]> {
  const toMs = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const lastHour = toMs - HOUR_MS;
  const series = await loadDepartmentSeries(ctx, toMs - HISTORY_MS, toMs);
  const alerts: AnomalyAlert[] = [];
  for (const s of series) {
    for (const metric of ['first_response', 'backlog', 'inflow'] as const) {
      for (const e of detectEpisodes(s[metric], options[metric])) {
        if (e.alertAtMs !== lastHour) continue;
        alerts.push({
          key: `anomaly:${s.departmentId}:${metric}:${new Date(e.startMs).toISOString()}`,
          departmentId: s.departmentId,
          metric,
          atMs: e.alertAtMs,
          episodeStartMs: e.startMs,
          value: e.value,
          baseline: e.baselineMedian,
          supervisors: [...(ctx.config.departments.get(s.departmentId)?.supervisors ?? [])],
        });
      }
    }
  }
  return alerts;
}

/** The alert in words, with the numbers and a link (e.g. a signed dashboard link). */
export function formatAnomalyText(alert: AnomalyAlert, config: Config, locale: Locale, link: string): string {
  const show = (v: number) => (alert.metric === 'first_response' ? formatDurationText(v, locale) : String(Math.round(v * 10) / 10));
  return rt(locale, 'anomaly.alert', {
    department: departmentName(config, alert.departmentId, locale),
    metric: rt(locale, `anomaly.${alert.metric}`),
    value: show(alert.value),
    baseline: show(alert.baseline),
    link,
  });
}
