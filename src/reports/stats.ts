import type { AppContext } from '../app/context';
import { CHAT_PLATFORMS, type ChannelMap, type ChatPlatform } from '../domain/platforms';
import type { Config } from '../config/model';
import { fail, ok, type Result } from '../domain/errors';
import { rolloutInForceAt } from '../domain/policy';
import { DAY_MS, headlineFigures, trendOf, type HeadlineFigure, type HeadlineMetric, type MetricsReport, type Trend } from '../domain/metrics';
import type { Locale, LocalizedText } from '../domain/types';
import { resolvePeriod, type Period, type PeriodRequest } from '../domain/periods';
import type { DailyVolume } from './chart';
import { compareReports, figureSentence, type ComparedFigure } from './figures';
import { formatDurationText, formatFigure, formatDay, viewerTimeZone } from './format';
import { rt } from './i18n';
import { loadWorkflowFigures, type WorkflowFigures } from './workflow';
import { loadMetrics, reportTimeZone, type ReportFilter, type ReportSource } from './queries';
import { selfServiceFigures, selfServiceLines, type SelfServiceFigures } from './self-service';

/**
 * `/ticket stats`, the weekly digest and the pilot comparison: platform-neutral view models the
 * chat layers render, plus a plain-text rendering both platforms can post as is.
 */

export interface StatsFigure extends HeadlineFigure {
  previous: number | null;
  trend: Trend;
}

export interface PilotComparison {
  rolloutId: string;
  pilotDepartmentIds: string[];
  /** First response and on-time rate, pilot departments against the others. */
  pilot: StatsFigure[];
  others: StatsFigure[];
}

export interface StatsView {
  departmentId?: string | undefined;
  scopeName: LocalizedText;
  days: number;
  fromMs: number;
  toMs: number;
  figures: StatsFigure[];
  /** The period in the viewer's zone, with the one it is compared against. */
  period: Period;
  /** Every figure with its change and whether that change is beyond noise (figures.ts). */
  compared: ComparedFigure[];
  volume: { created: number; resolved: number; open: number };
  byDay: DailyVolume[];
  topReturnReason?: { reasonId: string; name: LocalizedText; count: number } | undefined;
  /** The handoff route with the longest average leg: where tickets get stuck between departments. */
  slowestFlow?: { from: LocalizedText; to: LocalizedText; meanMs: number; handoffs: number } | undefined;
  pilots: PilotComparison[];
  /** The self-service rate beside the six (issue 18), with per-article views / solved / still need help. */
  selfService?: SelfServiceFigures | undefined;
  /** Beside the six (issue 17): misrouting per category and manual escalations in the period. */
  workflow?: WorkflowFigures | undefined;
  /** Names of the categories the workflow figures mention. */
  categoryNames?: Record<string, LocalizedText> | undefined;
}

export interface StatsRequest {
  departmentId?: string | undefined;
  days: number;
  /** A calendar period instead of the last `days` days. */
  period?: PeriodRequest | undefined;
}

const ALL_DEPARTMENTS: LocalizedText = { en: rt('en', 'stats.scope_all'), 'zh-CN': rt('zh-CN', 'stats.scope_all') };

export function sourceOf(ctx: Pick<AppContext, 'db' | 'config' | 'calendars'>): ReportSource {
  return { db: ctx.db, config: ctx.config, calendars: ctx.calendars };
}

/** Figures of `current` with their change against `previous`. */
export function compareFigures(current: MetricsReport, previous: MetricsReport): StatsFigure[] {
  const before = new Map(headlineFigures(previous).map((f) => [f.metric, f.value]));
  return headlineFigures(current).map((f) => {
    const prev = before.get(f.metric) ?? null;
    return { ...f, previous: prev, trend: trendOf(f.value, prev, f.kind) };
  });
}

function localizedReason(config: Config, id: string): LocalizedText {
  const known = config.raw.return_reasons.find((r) => r.id === id);
  return known ? known.name : { en: id, 'zh-CN': id };
}

function localizedDepartment(config: Config, id: string): LocalizedText {
  return config.departments.get(id)?.name ?? { en: id, 'zh-CN': id };
}

const PILOT_METRICS: HeadlineMetric[] = ['first_response', 'on_time'];

/** Pilot departments against the rest, for every `rollout` entry [S5.4]. */
export async function pilotComparisons(src: ReportSource, period: { fromMs: number; toMs: number }, nowMs: number): Promise<PilotComparison[]> {
  const out: PilotComparison[] = [];
  const all = [...src.config.departments.keys()];
  const prevPeriod = { fromMs: 2 * period.fromMs - period.toMs, toMs: period.fromMs };
  for (const rollout of src.config.raw.rollout) {
    // The departments where this rollout is the rule in force (a department in two pilots of the same setting counts for the first).
    const pilotIds = rolloutInForceAt(src.config, rollout.id);
    const otherIds = all.filter((d) => !pilotIds.includes(d));
    const figuresFor = async (departmentIds: string[]) => {
      const [current, previous] = await Promise.all([
        loadMetrics(src, { ...period, departmentIds }, nowMs),
        loadMetrics(src, { ...prevPeriod, departmentIds }, nowMs),
      ]);
      return compareFigures(current, previous).filter((f) => PILOT_METRICS.includes(f.metric));
    };
    out.push({ rolloutId: rollout.id, pilotDepartmentIds: [...pilotIds], pilot: await figuresFor(pilotIds), others: await figuresFor(otherIds) });
  }
  return out;
}

/** The six metrics over the last `days` days against the `days` before, for one department or all. */
export async function statsSummary(ctx: Pick<AppContext, 'db' | 'config' | 'calendars' | 'time'>, request: StatsRequest): Promise<Result<StatsView>> {
  const config = ctx.config;
  if (request.departmentId !== undefined && !config.departments.has(request.departmentId)) {
    return fail('ticket.unknown_department', { department: request.departmentId });
  }
  const nowMs = ctx.time.now().getTime();
  const departmentIds = request.departmentId !== undefined ? [request.departmentId] : undefined;
  const zone = viewerTimeZone(config, departmentIds, reportTimeZone(config));
  const period = resolvePeriod(request.period ?? { kind: 'days', days: request.days }, nowMs, zone) ?? resolvePeriod({ kind: 'days', days: request.days }, nowMs, zone)!;
  const { fromMs, toMs } = period;
  const src = sourceOf(ctx);
  const filter: ReportFilter = { fromMs, toMs, departmentIds };
  const [current, previous] = await Promise.all([loadMetrics(src, filter, nowMs), loadMetrics(src, { ...filter, ...period.previous }, nowMs)]);
  const topReason = current.returns.reasons[0];
  const slowest = [...current.flows].filter((f) => f.duration.meanMs !== null).sort((a, b) => b.duration.meanMs! - a.duration.meanMs!)[0];
  const pilots = request.departmentId === undefined ? await pilotComparisons(src, { fromMs, toMs }, nowMs) : [];
  const selfService = await selfServiceFigures(ctx.db, { fromMs, toMs, previous: period.previous, departmentIds });
  const workflow = await loadWorkflowFigures(ctx.db, config, { fromMs, toMs, departmentIds });
  return ok({
    departmentId: request.departmentId,
    scopeName: request.departmentId !== undefined ? localizedDepartment(config, request.departmentId) : ALL_DEPARTMENTS,
    days: Math.round((toMs - fromMs) / DAY_MS),
    fromMs,
    toMs,
    period,
    compared: compareReports(current, previous),
    figures: compareFigures(current, previous),
    volume: { created: current.volume.created, resolved: current.volume.resolved, open: current.backlog.open },
    byDay: current.volume.byDay,
    topReturnReason: topReason ? { reasonId: topReason.reason, name: localizedReason(config, topReason.reason), count: topReason.count } : undefined,
    slowestFlow: slowest
      ? { from: localizedDepartment(config, slowest.fromDepartmentId), to: localizedDepartment(config, slowest.toDepartmentId), meanMs: slowest.duration.meanMs!, handoffs: slowest.handoffs }
      : undefined,
    pilots,
    selfService,
    workflow,
    categoryNames: Object.fromEntries(workflow.misrouting.flatMap((m) => { const n = config.categoryName(m.categoryId); return n ? [[m.categoryId, n]] : []; })),
  });
}

/** Plain-text stats for chat, one fact per line, each figure said in words with its change. */
export function formatStatsText(view: StatsView, locale: Locale): string {
  const p = view.period;
  const title =
    p.kind === 'days'
      ? rt(locale, 'stats.title', { scope: view.scopeName[locale], days: view.days }) + rt(locale, 'stats.dates', { from: p.firstDay, to: p.lastDay })
      : rt(locale, 'stats.period_title', { scope: view.scopeName[locale], from: p.firstDay, to: p.lastDay });
  const lines = [title];
  for (const f of view.compared) {
    // The six headline figures in words; the volume has its own line below.
    if (f.metric === 'backlog' || f.metric === 'reopen_rate' || f.metric === 'created' || f.metric === 'resolved') continue;
    lines.push(`• ${figureSentence(f, p.kind, locale)}`);
  }
  if (view.selfService) lines.push(...selfServiceLines(view.selfService, locale).map((l, i) => (i === 0 ? `• ${l}` : l)));
  lines.push(rt(locale, 'stats.volume', view.volume));
  if (view.topReturnReason) lines.push(rt(locale, 'stats.top_return', { reason: view.topReturnReason.name[locale], count: view.topReturnReason.count }));
  if (view.slowestFlow) {
    lines.push(rt(locale, 'stats.stuck', { from: view.slowestFlow.from[locale], to: view.slowestFlow.to[locale], duration: formatDurationText(view.slowestFlow.meanMs, locale), count: view.slowestFlow.handoffs }));
  }
  if (view.workflow) {
    const w = view.workflow;
    const worst = w.misrouting.filter((m) => m.misrouted > 0).slice(0, 3);
    if (worst.length) {
      const name = (id: string) => view.categoryNames?.[id]?.[locale] ?? id;
      lines.push(rt(locale, 'stats.misrouting', { list: worst.map((m) => `${name(m.categoryId)} ${m.misrouted}/${m.created}`).join(locale === 'en' ? ', ' : '、') }));
    }
    if (w.manualEscalations > 0) lines.push(rt(locale, 'stats.manual_escalations', { count: w.manualEscalations }));
  }
  for (const pilot of view.pilots) {
    for (const metric of PILOT_METRICS) {
      const a = pilot.pilot.find((f) => f.metric === metric);
      const b = pilot.others.find((f) => f.metric === metric);
      if (!a || !b) continue;
      lines.push(rt(locale, 'stats.pilot', { rollout: pilot.rolloutId, pilot: formatFigure(a, locale), others: formatFigure(b, locale), metric: rt(locale, `metric.${metric}`) }));
    }
  }
  return lines.join('\n');
}

export interface DigestMessage {
  platform: ChatPlatform;
  /** The platform's channel from `digest.weekly.channels` (Slack channel id, Feishu chat id, …). */
  channelId: string;
  locale: Locale;
  view: StatsView;
  text: string;
  /** Created/resolved per day, PNG, to upload with the platform's file or image API. */
  chartPng: Buffer;
  chartFileName: string;
}

/** Where the weekly digest goes: `channels:` by platform, or the older `slack_channel` / `feishu_chat_id`. */
export function digestTargets(weekly: { channels?: ChannelMap | undefined; slack_channel?: string | undefined; feishu_chat_id?: string | undefined }): { platform: ChatPlatform; channelId: string }[] {
  const legacy: ChannelMap = { slack: weekly.slack_channel, feishu: weekly.feishu_chat_id };
  return CHAT_PLATFORMS.flatMap((platform) => {
    const channelId = weekly.channels?.[platform] ?? legacy[platform];
    return channelId ? [{ platform, channelId }] : [];
  });
}

/**
 * The weekly digest [S3.4]: the last full calendar week (Monday–Sunday in the digest's calendar
 * zone) against the week before, for every configured target channel, in the desk's language
 * (channels have no language of their own in the config). Each figure is said in words ("首次响应
 * 1.2 小时,比前一周快 18 %"). Returns nothing when no weekly digest is configured.
 */
export async function buildWeeklyDigest(ctx: Pick<AppContext, 'db' | 'config' | 'calendars' | 'time'>, now: Date): Promise<DigestMessage[]> {
  const weekly = ctx.config.raw.digest.weekly;
  if (!weekly) return [];
  const targets = digestTargets(weekly);
  if (targets.length === 0) return [];
  const result = await statsSummary({ ...ctx, time: { now: () => now } }, { days: 7, period: { kind: 'last_week' } });
  if (!result.ok) return [];
  const view = result.value;
  const locale = ctx.config.raw.locale;
  const zone = reportTimeZone(ctx.config);
  const title = rt(locale, 'digest.title', { scope: view.scopeName[locale], from: formatDay(view.fromMs, zone), to: formatDay(view.toMs - 1, zone) });
  const chartPng = await digestChartPng(view, locale);
  const text = [title, ...formatStatsText(view, locale).split('\n').slice(1)].join('\n');
  return targets.map((target) => ({ ...target, locale, view, text, chartPng, chartFileName: `tickets-${formatDay(view.toMs - 1, zone)}.png` }));
}

/**
 * The weekly digest's chart as posted (PNG), also used by `ticketbot digest --preview`. ECharts
 * and resvg load on first use, so commands that never draw (`ticketbot stats`) do not pay for them.
 */
export async function digestChartPng(view: Pick<StatsView, 'byDay'>, locale: Locale): Promise<Buffer> {
  // A lazy require: this CommonJS build has no extension-less dynamic import().
  const { renderVolumeChartSvg, svgToPng } = require('./chart') as typeof import('./chart');
  const svg = renderVolumeChartSvg(view.byDay, { title: rt(locale, 'digest.chart_title'), created: rt(locale, 'digest.chart_created'), resolved: rt(locale, 'digest.chart_resolved') });
  return svgToPng(svg);
}
