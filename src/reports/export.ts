import { sql } from 'kysely';
import type { Config } from '../config/model';
import { CalendarMeasures, headlineFigures, type MetricsReport } from '../domain/metrics';
import type { Locale } from '../domain/types';
import { categoryPathName, departmentName, formatLocalDateTime, personName, priorityName, stateName } from './format';
import { rt, type ReportKey } from './i18n';
import type { WorkflowFigures } from './workflow';
import { leavesUnder, reportTimeZone, type ReportFilter, type ReportSource } from './queries';

/**
 * CSV export of tickets and of metrics: UTF-8 with a byte-order mark (Excel then reads Chinese
 * text correctly), RFC 4180 quoting, CRLF line ends. Tickets are read in pages so a large export
 * never holds the whole table in memory.
 */

export const CSV_BOM = '\uFEFF';
const CRLF = '\r\n';

/** Quotes a field when it holds a delimiter, quote, line break or edge space. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Free text typed by people (titles, comments) is neutralised against spreadsheet formula
 * injection: a leading = + - @ would make Excel evaluate the cell.
 */
export function csvText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

export const csvLine = (fields: string[]) => fields.join(',') + CRLF;

const TIME_COLUMNS: ReportKey[] = ['csv.created_at', 'csv.first_response_at', 'csv.resolved_at', 'csv.closed_at'];

/**
 * Column headers: each time twice — local wall-clock time in the reader's zone as
 * `YYYY-MM-DD HH:mm:ss` (Excel and WPS parse it as a date) and ISO 8601 UTC for machines; units in
 * the headers.
 */
function ticketHeader(locale: Locale, timeZone: string): string[] {
  const times = TIME_COLUMNS.flatMap((k) => [rt(locale, 'csv.local_time', { name: rt(locale, k), zone: timeZone }), rt(locale, 'csv.iso_time', { name: rt(locale, k) })]);
  const keys = (list: ReportKey[]) => list.map((k) => rt(locale, k));
  return [
    ...keys(['csv.key', 'csv.title', 'csv.department', 'csv.home_department', 'csv.category_path', 'csv.priority', 'csv.state', 'csv.requester', 'csv.assignee']),
    ...times,
    ...keys(['csv.first_response_business_min', 'csv.resolution_business_min', 'csv.public_replies', 'csv.reopens', 'csv.handoffs', 'csv.returns', 'csv.score_1_5', 'csv.comment']),
  ];
}


export interface ExportProgress {
  (done: number, total: number): void;
}

const PAGE_SIZE = 2000;

/** Writes the tickets created in the period as CSV through `write`; returns how many rows. */
export async function exportTicketsCsv(
  src: ReportSource,
  filter: ReportFilter,
  locale: Locale,
  write: (chunk: string) => void | Promise<void>,
  onProgress?: ExportProgress,
  timeZone: string = reportTimeZone(src.config),
): Promise<number> {
  const config = src.config;
  const leaves = filter.categoryId !== undefined ? leavesUnder(config, filter.categoryId) : undefined;
  const local = (iso: string | null) => (iso === null ? null : formatLocalDateTime(Date.parse(iso), timeZone));
  await write(CSV_BOM + csvLine(ticketHeader(locale, timeZone).map(csvField)));
  if ((leaves && leaves.length === 0) || (filter.departmentIds && filter.departmentIds.length === 0)) return 0;

  const from = new Date(filter.fromMs).toISOString();
  const to = new Date(filter.toMs).toISOString();
  let base = src.db.selectFrom('tickets as t').where('t.created_at', '>=', from).where('t.created_at', '<', to);
  if (filter.departmentIds) base = base.where('t.department_id', 'in', [...filter.departmentIds]);
  if (leaves) base = base.where('t.category_id', 'in', leaves);
  if (filter.priority !== undefined) base = base.where('t.priority', '=', filter.priority);
  if (filter.agentId !== undefined) base = base.where('t.assignee_id', '=', filter.agentId);

  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  const measures = new CalendarMeasures(src.calendars);
  const deptCalendar = (id: string) => config.departments.get(id)?.calendar ?? 'always';
  let done = 0;
  let after: { created: string; id: string } | undefined;
  onProgress?.(0, total);
  for (;;) {
    let page = base
      .leftJoin('users as req', 'req.id', 't.requester_id')
      .leftJoin('users as asg', 'asg.id', 't.assignee_id')
      .leftJoin('surveys as s', 's.ticket_id', 't.id')
      .select([
        't.id', 't.key', 't.title', 't.department_id', 't.home_department_id', 't.category_id', 't.priority', 't.state', 't.requester_id', 't.assignee_id',
        't.created_at', 't.first_response_at', 't.resolved_at', 't.closed_at', 't.public_reply_count', 't.reopen_count',
        'req.name as requester_name', 'asg.name as assignee_name', 's.score', 's.comment',
        sql<string | null>`(select min(c.calendar_id) from clocks c where c.ticket_id = t.id and c.kind = 'first_response')`.as('frt_calendar'),
        sql<string | null>`(select min(c.calendar_id) from clocks c where c.ticket_id = t.id and c.kind = 'resolution')`.as('resolution_calendar'),
        sql<number>`(select count(*) from legs l where l.ticket_id = t.id and l.from_department_id is not null)`.as('handoffs'),
        sql<number>`(select count(*) from legs l where l.ticket_id = t.id and (l.state = 'returned' or l.return_reason is not null))`.as('returns'),
      ])
      .orderBy('t.created_at')
      .orderBy('t.id')
      .limit(PAGE_SIZE);
    if (after) {
      const cursor = after;
      page = page.where((eb) => eb.or([eb('t.created_at', '>', cursor.created), eb.and([eb('t.created_at', '=', cursor.created), eb('t.id', '>', cursor.id)])]));
    }
    const rows = await page.execute();
    if (rows.length === 0) break;
    let chunk = '';
    for (const r of rows) {
      const created = Date.parse(r.created_at);
      const frtMinutes = r.first_response_at === null ? null : Math.round(measures.get(r.frt_calendar ?? deptCalendar(r.department_id)).between(created, Date.parse(r.first_response_at)) / 60_000);
      const resolutionMinutes =
        r.resolved_at === null || (r.state !== 'resolved' && r.state !== 'closed')
          ? null
          : Math.round(measures.get(r.resolution_calendar ?? deptCalendar(r.department_id)).between(created, Date.parse(r.resolved_at)) / 60_000);
      chunk += csvLine([
        csvField(r.key),
        csvText(r.title),
        csvField(departmentName(config, r.department_id, locale)),
        csvField(departmentName(config, r.home_department_id, locale)),
        csvField(categoryPathName(config, r.category_id, locale)),
        csvField(priorityName(r.priority, locale)),
        csvField(stateName(r.state, locale)),
        csvText(personName(r.requester_id, r.requester_name, locale)),
        csvText(r.assignee_id === null ? '' : personName(r.assignee_id, r.assignee_name, locale)),
        csvField(local(r.created_at)),
        csvField(r.created_at),
        csvField(local(r.first_response_at)),
        csvField(r.first_response_at),
        csvField(local(r.resolved_at)),
        csvField(r.resolved_at),
        csvField(local(r.closed_at)),
        csvField(r.closed_at),
        csvField(frtMinutes),
        csvField(resolutionMinutes),
        csvField(Number(r.public_reply_count)),
        csvField(Number(r.reopen_count)),
        csvField(Number(r.handoffs)),
        csvField(Number(r.returns)),
        csvField(r.score === null ? null : Number(r.score)),
        csvText(r.comment),
      ]);
    }
    await write(chunk);
    done += rows.length;
    onProgress?.(done, total);
    const last = rows[rows.length - 1]!;
    after = { created: last.created_at, id: last.id };
    if (rows.length < PAGE_SIZE) break;
  }
  return done;
}

/** The metrics as CSV: one row per figure, for the whole scope and then per department. */
export function metricsCsv(
  locale: Locale,
  scopes: { scope: string; report: MetricsReport; selfService?: { solved: number; escalated: number; rate: number | null } | undefined; workflow?: WorkflowFigures | undefined }[],
  config?: Config,
): string {
  const header = (['csv.scope', 'csv.metric', 'csv.value', 'csv.unit', 'csv.basis'] as const).map((k) => csvField(rt(locale, k)));
  let out = CSV_BOM + csvLine(header);
  for (const { scope, report, selfService, workflow } of scopes) {
    const rows: [string, number | null, ReportKey, number][] = headlineFigures(report).map((f) => [
      rt(locale, `metric.${f.metric}`),
      f.value === null ? null : f.kind === 'duration' ? Math.round(f.value / 60_000) : percent(f.value),
      f.kind === 'duration' ? 'csv.unit.minutes' : 'csv.unit.percent',
      f.basis,
    ]);
    rows.push(
      [`${rt(locale, 'metric.first_response')} (${rt(locale, 'metric.median')})`, minutes(report.firstResponse.medianMs), 'csv.unit.minutes', report.firstResponse.count],
      [`${rt(locale, 'metric.first_response')} (${rt(locale, 'metric.p90')})`, minutes(report.firstResponse.p90Ms), 'csv.unit.minutes', report.firstResponse.count],
      [`${rt(locale, 'metric.resolution')} (${rt(locale, 'metric.median')})`, minutes(report.resolution.medianMs), 'csv.unit.minutes', report.resolution.count],
      [`${rt(locale, 'metric.resolution')} (${rt(locale, 'metric.p90')})`, minutes(report.resolution.p90Ms), 'csv.unit.minutes', report.resolution.count],
      [`${rt(locale, 'metric.csat')} (${rt(locale, 'metric.mean_score')})`, report.csat.meanScore === null ? null : Math.round(report.csat.meanScore * 100) / 100, 'csv.unit.score', report.csat.answers],
      [`${rt(locale, 'metric.csat')} (${rt(locale, 'metric.response_rate')})`, rateOrNull(report.csat.responseRate.rate), 'csv.unit.percent', report.csat.responseRate.denominator],
      [rt(locale, 'metric.reopen_rate'), rateOrNull(report.reopen.rate), 'csv.unit.percent', report.reopen.denominator],
      [rt(locale, 'metric.created'), report.volume.created, 'csv.unit.count', report.volume.created],
      [rt(locale, 'metric.resolved'), report.volume.resolved, 'csv.unit.count', report.volume.resolved],
      [rt(locale, 'metric.backlog'), report.backlog.open, 'csv.unit.count', report.backlog.open],
    );
    // Beside the six (issue 18): basis = offers answered "Solved" or "Still need help".
    if (selfService) rows.push([rt(locale, 'metric.self_service'), rateOrNull(selfService.rate), 'csv.unit.percent', selfService.solved + selfService.escalated]);
    // Beside the six (issue 17): basis of a misrouting rate = tickets raised in that category.
    if (workflow) {
      rows.push([rt(locale, 'docs.extra.manual_escalations'), workflow.manualEscalations, 'csv.unit.count', workflow.manualEscalations]);
      const created = workflow.misrouting.reduce((n, r) => n + r.created, 0);
      const misrouted = workflow.misrouting.reduce((n, r) => n + r.misrouted, 0);
      rows.push([rt(locale, 'csv.misrouting_all'), created ? percent(misrouted / created) : null, 'csv.unit.percent', created]);
      for (const r of workflow.misrouting) {
        const category = config ? categoryPathName(config, r.categoryId, locale) : r.categoryId;
        rows.push([rt(locale, 'csv.misrouting_category', { category }), rateOrNull(r.rate), 'csv.unit.percent', r.created]);
      }
    }
    for (const [name, value, unit, basis] of rows) out += csvLine([csvText(scope), csvText(name), csvField(value), csvField(rt(locale, unit)), csvField(basis)]);
  }
  return out;
}

/** A share as a percentage with two decimals (78.57 for 11/14), matching the page's "78.6%". */
const percent = (v: number) => Math.round(v * 10_000) / 100;
const minutes = (ms: number | null) => (ms === null ? null : Math.round(ms / 60_000));
const rateOrNull = (r: number | null) => (r === null ? null : percent(r));

export function departmentScopeName(config: Config, departmentId: string | undefined, locale: Locale): string {
  return departmentId === undefined ? rt(locale, 'stats.scope_all') : departmentName(config, departmentId, locale);
}
