import type { AppContext } from '../app/context';
import type { Result } from '../domain/errors';
import type { MetricsReport } from '../domain/metrics';
import type { Locale } from '../domain/types';
import { detectDepartmentAnomalies, type AnomalyAlert } from './anomaly';
import { departmentScopeName, exportTicketsCsv, metricsCsv } from './export';
import type { FigureMetric } from './figures';
import { loadMetrics, loadSurveyFacts, type ReportFilter } from './queries';
import { loadAnswers, loadDueSoon, loadTicketsBehind, loadWorkload, type AgentLoad, type AnswerLine, type BehindLine, type DueLine, type ListScope, type Paged } from './worklists';
import { selfServiceFigures, type SelfServiceFigures } from './self-service';
import { buildWeeklyDigest, pilotComparisons, sourceOf, statsSummary, type DigestMessage, type PilotComparison, type StatsRequest, type StatsView } from './stats';
import { loadWorkflowFigures, type WorkflowFigures } from './workflow';

/**
 * The report work that may run off the main event loop (issue 16): each task is plain data in
 * (structured-clone safe: numbers, strings, arrays, plain objects) and plain data out, so the
 * same `runReportTask` serves the worker thread (src/reports/worker.ts) and the inline path
 * (tests on `:memory:`, workers switched off). The clock is in the task (`nowMs`), never read
 * from the executing side, so a worker and the caller agree on "now".
 */
export type ReportTask =
  | { kind: 'stats'; nowMs: number; request: StatsRequest }
  | { kind: 'digest'; nowMs: number }
  | { kind: 'anomaly'; nowMs: number }
  | { kind: 'metrics'; nowMs: number; filter: ReportFilter }
  | {
      kind: 'overview';
      nowMs: number;
      filter: ReportFilter;
      previous: ReportFilter;
      /** Pilot comparison (only for a viewer of every department). */
      pilots: boolean;
      previousPeriod: { fromMs: number; toMs: number };
    }
  | { kind: 'metrics_csv'; nowMs: number; filter: ReportFilter; locale: Locale; departmentId: string | undefined; perDepartment: string[] }
  | { kind: 'tickets_csv'; filter: ReportFilter; locale: Locale; zone: string }
  // The dashboard's lists: indexed and paged, but at 1,000,000 tickets a "due soon" or backlog walk
  // is still a synchronous statement the acks would wait for on the main thread.
  | { kind: 'work_lists'; nowMs: number; scope: ListScope; period: Period; windowMs: number }
  | { kind: 'tickets_behind'; metric: FigureMetric; scope: ListScope; period: ReportFilter; page: number; pageSize: number }
  | { kind: 'answers'; filter: ReportFilter; page: number; pageSize: number };

type Period = Pick<ReportFilter, 'fromMs' | 'toMs'>;

export interface OverviewData {
  current: MetricsReport;
  previous: MetricsReport;
  pilots: PilotComparison[];
  selfService: SelfServiceFigures;
  workflow: WorkflowFigures;
}

/** The answer of each task kind. `digest`'s PNGs travel as bytes (Uint8Array); see `digestMessages`. */
export interface ReportResults {
  stats: Result<StatsView>;
  digest: DigestMessage[];
  anomaly: AnomalyAlert[];
  metrics: MetricsReport;
  overview: OverviewData;
  metrics_csv: string;
  /** Rows written; the CSV itself goes out in chunks. */
  tickets_csv: number;
  work_lists: { due: DueLine[]; loads: AgentLoad[] };
  tickets_behind: Paged<BehindLine>;
  answers: { surveys: Awaited<ReturnType<typeof loadSurveyFacts>>; answers: Paged<AnswerLine> };
}

export type ReportKind = ReportTask['kind'];
export type TaskOf<K extends ReportKind> = Extract<ReportTask, { kind: K }>;

type ReportCtx = Pick<AppContext, 'db' | 'config' | 'calendars'>;

/** Runs one report task against `ctx`'s database; `emit` receives streamed output (CSV chunks). */
export async function runReportTask(ctx: ReportCtx, task: ReportTask, emit: (chunk: string) => void | Promise<void> = () => {}): Promise<ReportResults[ReportKind]> {
  const at = (nowMs: number) => ({ ...ctx, time: { now: () => new Date(nowMs) } });
  const src = sourceOf(ctx);
  switch (task.kind) {
    case 'stats':
      return statsSummary(at(task.nowMs), task.request);
    case 'digest':
      return buildWeeklyDigest(at(task.nowMs), new Date(task.nowMs));
    case 'anomaly':
      return detectDepartmentAnomalies(ctx, new Date(task.nowMs));
    case 'metrics':
      return loadMetrics(src, task.filter, task.nowMs);
    case 'overview': {
      const { filter, nowMs } = task;
      const [current, previous] = await Promise.all([loadMetrics(src, filter, nowMs), loadMetrics(src, task.previous, nowMs)]);
      const pilots = task.pilots ? await pilotComparisons(src, filter, nowMs) : [];
      const selfService = await selfServiceFigures(ctx.db, { fromMs: filter.fromMs, toMs: filter.toMs, previous: task.previousPeriod, departmentIds: filter.departmentIds, articleLimit: 10 });
      const workflow = await loadWorkflowFigures(ctx.db, ctx.config, { fromMs: filter.fromMs, toMs: filter.toMs, departmentIds: filter.departmentIds });
      return { current, previous, pilots, selfService, workflow } satisfies OverviewData;
    }
    case 'metrics_csv': {
      const { filter, nowMs, locale } = task;
      const selfService = (ids: readonly string[] | undefined) => selfServiceFigures(ctx.db, { fromMs: filter.fromMs, toMs: filter.toMs, departmentIds: ids, articleLimit: 0 });
      const workflow = (ids: readonly string[] | undefined) => loadWorkflowFigures(ctx.db, ctx.config, { fromMs: filter.fromMs, toMs: filter.toMs, departmentIds: ids });
      const scopes = [
        { scope: departmentScopeName(ctx.config, task.departmentId, locale), report: await loadMetrics(src, filter, nowMs), selfService: await selfService(filter.departmentIds), workflow: await workflow(filter.departmentIds) },
      ];
      for (const id of task.perDepartment) {
        scopes.push({ scope: departmentScopeName(ctx.config, id, locale), report: await loadMetrics(src, { ...filter, departmentIds: [id] }, nowMs), selfService: await selfService([id]), workflow: await workflow([id]) });
      }
      return metricsCsv(locale, scopes, ctx.config);
    }
    case 'tickets_csv':
      return exportTicketsCsv(src, task.filter, task.locale, emit, undefined, task.zone);
    case 'work_lists': {
      const [due, loads] = await Promise.all([loadDueSoon(src, task.scope, task.nowMs, task.windowMs), loadWorkload(src, task.scope, task.period, task.nowMs, task.windowMs)]);
      return { due, loads };
    }
    case 'tickets_behind':
      return loadTicketsBehind(src, task.metric, task.scope, task.period, task.page, task.pageSize);
    case 'answers': {
      const { filter } = task;
      const [surveys, answers] = await Promise.all([loadSurveyFacts(src, filter), loadAnswers(src, { departmentIds: filter.departmentIds, categoryId: filter.categoryId }, filter, task.page, task.pageSize)]);
      return { surveys, answers };
    }
  }
}

/** Digest messages as the jobs use them: a chart that crossed a thread boundary is bytes again, made a Buffer. */
export function digestMessages(messages: DigestMessage[]): DigestMessage[] {
  return messages.map((m) => {
    const png = m.chartPng as Uint8Array;
    return Buffer.isBuffer(png) ? m : { ...m, chartPng: Buffer.from(png.buffer, png.byteOffset, png.byteLength) };
  });
}
