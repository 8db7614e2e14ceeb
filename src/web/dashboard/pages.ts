import type { Config } from '../../config/model';
import { BACKLOG_AGE_LIMITS_MS, type MetricsReport } from '../../domain/metrics';
import type { Locale } from '../../domain/types';
import { categoryName, categoryPathName, departmentName, formatDurationText, formatFigure, formatRate, priorityName, returnReasonName, stateName } from '../../reports/format';
import { rt, type ReportKey } from '../../reports/i18n';
import type { PilotComparison, StatsFigure } from '../../reports/stats';

/**
 * Server-rendered dashboard pages. Charts are drawn in the browser by ECharts from option objects
 * embedded as JSON; everything else is plain HTML, readable without JavaScript and on a phone.
 */

export const PAGES = ['overview', 'backlog', 'categories', 'flow', 'satisfaction', 'feedback'] as const;
export type PageName = (typeof PAGES)[number];

export interface PageFrame {
  config: Config;
  locale: Locale;
  page: PageName;
  nonce: string;
  /** Builds a dashboard URL keeping the token and filters, with some parameters changed. */
  href(path: string, changes?: Record<string, string | undefined>): string;
  days: number;
  departmentId: string | undefined;
  categoryId: string | undefined;
  allowedDepartments: string[];
  validUntil: string;
}

export interface ChartSpec {
  id: string;
  option: unknown;
}

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside a <script> element: `<` is escaped so no text can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1f2933;background:#f5f7fa}
header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:space-between;padding:12px 16px;background:#243b53;color:#fff}
header h1{font-size:18px;margin:0}header a{color:#fff}header small{opacity:.8}
nav{display:flex;flex-wrap:wrap;gap:4px;padding:8px 16px;background:#fff;border-bottom:1px solid #d9e2ec}
nav a{padding:6px 10px;border-radius:6px;text-decoration:none;color:#243b53}nav a.active{background:#243b53;color:#fff}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;padding:12px 16px}
form.filters label{display:flex;flex-direction:column;font-size:13px;color:#486581}
select,button{font:inherit;padding:6px 8px;border:1px solid #bcccdc;border-radius:6px;background:#fff}
button{background:#243b53;color:#fff;border-color:#243b53;cursor:pointer}
main{padding:0 16px 24px}section{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px 16px;margin:12px 0}
h2{font-size:16px;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px}
.card .name{font-size:13px;color:#486581}.card .value{font-size:24px;font-weight:600;margin:4px 0}
.card .prev{font-size:12px;color:#627d98}.good{color:#2f8132}.bad{color:#c0392b}
.chart{width:100%;height:320px}
.table{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}th{color:#486581;font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
.actions{display:flex;flex-wrap:wrap;gap:8px;padding:0 16px}.actions a{font-size:14px}
.empty{color:#627d98}
@media (max-width:600px){header h1{font-size:16px}.card .value{font-size:20px}.chart{height:260px}}
`;

function table(frame: PageFrame, head: { key: ReportKey; num?: boolean }[], rows: (string | { html: string } | number)[][]): string {
  if (rows.length === 0) return `<p class="empty">${esc(rt(frame.locale, 'dash.no_rows'))}</p>`;
  const cell = (v: string | { html: string } | number, num?: boolean) =>
    `<td${num ? ' class="num"' : ''}>${typeof v === 'object' ? v.html : esc(v)}</td>`;
  return `<div class="table"><table><thead><tr>${head.map((h) => `<th${h.num ? ' class="num"' : ''}>${esc(rt(frame.locale, h.key))}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v, i) => cell(v, head[i]?.num)).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

export function layout(frame: PageFrame, body: string, charts: ChartSpec[]): string {
  const { locale } = frame;
  const other: Locale = locale === 'en' ? 'zh-CN' : 'en';
  const nav = PAGES.map((p) => `<a href="${esc(frame.href(`/dashboard${p === 'overview' ? '' : `/${p}`}`))}" class="${p === frame.page ? 'active' : ''}" data-page="${p}">${esc(rt(locale, `dash.nav.${p}`))}</a>`).join('');
  const deptOptions = [`<option value="">${esc(rt(locale, 'dash.filter.all'))}</option>`, ...frame.allowedDepartments.map((d) => `<option value="${esc(d)}"${d === frame.departmentId ? ' selected' : ''}>${esc(departmentName(frame.config, d, locale))}</option>`)].join('');
  const catOptions = [
    `<option value="">${esc(rt(locale, 'dash.filter.all'))}</option>`,
    ...frame.config.raw.categories.flatMap((top) => [top, ...(top.children ?? [])].map((c) => `<option value="${esc(c.id)}"${c.id === frame.categoryId ? ' selected' : ''}>${c === top ? '' : '— '}${esc(c.name[locale])}</option>`)),
  ].join('');
  const dayOptions = [7, 30, 90].map((d) => `<option value="${d}"${d === frame.days ? ' selected' : ''}>${esc(rt(locale, 'dash.filter.days', { days: d }))}</option>`).join('');
  const hidden = new URL(frame.href('/dashboard'), 'http://x').searchParams;
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(rt(locale, 'dash.title'))} · ${esc(rt(locale, `dash.nav.${frame.page}`))}</title>
<style nonce="${frame.nonce}">${STYLE}</style></head>
<body data-page="${frame.page}" data-locale="${locale}">
<header><h1>${esc(rt(locale, 'dash.title'))}</h1><small>${esc(rt(locale, 'dash.valid_until', { time: frame.validUntil }))}</small>
<a id="lang-switch" href="${esc(frame.href(`/dashboard${frame.page === 'overview' ? '' : `/${frame.page}`}`, { lang: other }))}">${esc(rt(locale, 'dash.language'))}</a></header>
<nav>${nav}</nav>
<form class="filters" method="get" action="/dashboard${frame.page === 'overview' ? '' : `/${frame.page}`}">
${['t', 'lang'].map((k) => (hidden.get(k) ? `<input type="hidden" name="${k}" value="${esc(hidden.get(k))}">` : '')).join('')}
<label>${esc(rt(locale, 'dash.filter.period'))}<select name="days">${dayOptions}</select></label>
<label>${esc(rt(locale, 'dash.filter.department'))}<select name="dept">${deptOptions}</select></label>
<label>${esc(rt(locale, 'dash.filter.category'))}<select name="cat">${catOptions}</select></label>
<button type="submit">${esc(rt(locale, 'dash.filter.apply'))}</button></form>
<div class="actions"><a href="${esc(frame.href('/dashboard/export.csv', { kind: 'tickets' }))}" download>${esc(rt(locale, 'dash.export_tickets'))}</a>
<a href="${esc(frame.href('/dashboard/export.csv', { kind: 'metrics' }))}" download>${esc(rt(locale, 'dash.export_metrics'))}</a></div>
<main>${body}</main>
<script type="application/json" id="charts">${scriptJson(charts)}</script>
<script src="/dashboard/assets/echarts.min.js"></script>
<script nonce="${frame.nonce}">
(function(){var specs=JSON.parse(document.getElementById('charts').textContent);var made=[];
specs.forEach(function(s){var el=document.getElementById(s.id);if(!el||!window.echarts)return;var c=echarts.init(el);c.setOption(s.option);made.push(c);});
window.addEventListener('resize',function(){made.forEach(function(c){c.resize();});});document.body.setAttribute('data-charts',String(made.length));})();
</script></body></html>`;
}

function trendClass(f: StatsFigure): string {
  if (f.trend === 'up' || f.trend === 'down') {
    const better = (f.trend === 'up') === f.higherIsBetter;
    return better ? 'good' : 'bad';
  }
  return '';
}

export function overviewPage(frame: PageFrame, figures: StatsFigure[], report: MetricsReport, pilots: PilotComparison[]): { body: string; charts: ChartSpec[] } {
  const { locale } = frame;
  const cards = figures
    .map(
      (f) => `<div class="card" data-metric="${f.metric}"><div class="name">${esc(rt(locale, `metric.${f.metric}`))}</div>
<div class="value"><span class="figure">${esc(formatFigure(f, locale))}</span> <span class="${trendClass(f)}">${esc(rt(locale, `trend.${f.trend}`))}</span></div>
<div class="prev">${esc(rt(locale, 'dash.previous', { value: formatFigure({ value: f.previous, kind: f.kind }, locale) }))}</div></div>`,
    )
    .join('');
  const volume = `<div class="cards">${[
    ['metric.created', report.volume.created],
    ['metric.resolved', report.volume.resolved],
    ['metric.backlog', report.backlog.open],
    ['metric.reopen_rate', formatRate(report.reopen.rate, locale)],
  ]
    .map(([k, v]) => `<div class="card"><div class="name">${esc(rt(locale, k as ReportKey))}</div><div class="value">${esc(v)}</div></div>`)
    .join('')}</div>`;
  const pilotRows = pilots.flatMap((p) =>
    p.pilot.map((f, i) => [
      p.rolloutId,
      rt(locale, `metric.${f.metric}`),
      `${formatFigure(f, locale)} (${p.pilotDepartmentIds.map((d) => departmentName(frame.config, d, locale)).join(', ')})`,
      formatFigure(p.others[i] ?? { value: null, kind: f.kind }, locale),
    ]),
  );
  const pilotSection = pilots.length
    ? `<section id="pilot"><h2>${esc(rt(locale, 'dash.pilot'))}</h2>${table(frame, [{ key: 'dash.col.rollout' }, { key: 'csv.metric' }, { key: 'dash.col.pilot_group' }, { key: 'dash.col.other_group' }], pilotRows)}</section>`
    : '';
  return {
    body: `<div class="cards" id="figures">${cards}</div>${volume}<section><h2>${esc(rt(locale, 'dash.volume_chart'))}</h2><div class="chart" id="chart-volume"></div></section>${pilotSection}`,
    charts: [
      {
        id: 'chart-volume',
        option: {
          tooltip: { trigger: 'axis' },
          legend: { top: 0, data: [rt(locale, 'metric.created'), rt(locale, 'metric.resolved')] },
          grid: { left: 40, right: 16, top: 36, bottom: 32 },
          xAxis: { type: 'category', data: report.volume.byDay.map((d) => d.day.slice(5)) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [
            { name: rt(locale, 'metric.created'), type: 'bar', data: report.volume.byDay.map((d) => d.created) },
            { name: rt(locale, 'metric.resolved'), type: 'line', data: report.volume.byDay.map((d) => d.resolved) },
          ],
        },
      },
    ],
  };
}

export interface OpenTicketRow {
  key: string;
  departmentId: string;
  categoryId: string;
  priority: string;
  state: string;
  createdAt: string;
  assigneeName: string | null;
  title: string;
}

export function backlogPage(frame: PageFrame, report: MetricsReport, open: OpenTicketRow[], nowMs: number): { body: string; charts: ChartSpec[] } {
  const { locale, config } = frame;
  const ageNames = BACKLOG_AGE_LIMITS_MS.map((_, i) => rt(locale, `dash.age.${i}` as ReportKey));
  const rows = open.map((t) => [
    t.key,
    t.title,
    departmentName(config, t.departmentId, locale),
    priorityName(t.priority, locale),
    stateName(t.state, locale),
    t.assigneeName ?? '—',
    formatDurationText(nowMs - Date.parse(t.createdAt), locale, 'wall'),
  ]);
  return {
    body: `<section><h2>${esc(rt(locale, 'dash.backlog_by_department'))}</h2><div class="chart" id="chart-backlog-dept"></div></section>
<section><h2>${esc(rt(locale, 'dash.backlog_by_age'))}</h2><div class="chart" id="chart-backlog-age"></div></section>
<section><h2>${esc(rt(locale, 'dash.oldest'))}</h2>${table(
      frame,
      [{ key: 'csv.key' }, { key: 'csv.title' }, { key: 'csv.department' }, { key: 'csv.priority' }, { key: 'dash.col.state' }, { key: 'dash.col.assignee' }, { key: 'dash.col.age', num: true }],
      rows,
    )}</section>`,
    charts: [
      {
        id: 'chart-backlog-dept',
        option: {
          tooltip: {},
          grid: { left: 100, right: 16, top: 16, bottom: 24 },
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'category', data: report.backlog.byDepartment.map((d) => departmentName(config, d.departmentId, locale)) },
          series: [{ type: 'bar', data: report.backlog.byDepartment.map((d) => d.open) }],
        },
      },
      {
        id: 'chart-backlog-age',
        option: {
          tooltip: {},
          grid: { left: 40, right: 16, top: 16, bottom: 32 },
          xAxis: { type: 'category', data: ageNames },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', data: report.backlog.ages.map((a) => a.count), itemStyle: { color: '#f0a202' } }],
        },
      },
    ],
  };
}

export function categoriesPage(frame: PageFrame, report: MetricsReport): { body: string; charts: ChartSpec[] } {
  const { locale, config } = frame;
  const levels = [report.categories.level1, report.categories.level2, report.categories.level3];
  const sections = levels
    .map(
      (shares, i) =>
        `<section><h2>${esc(rt(locale, 'dash.level', { level: i + 1 }))}</h2>${i === 0 ? '<div class="chart" id="chart-categories"></div>' : ''}${table(
          frame,
          [{ key: 'csv.category_path' }, { key: 'dash.col.count', num: true }, { key: 'dash.col.share', num: true }],
          shares.map((s) => [i === 2 ? categoryPathName(config, s.categoryId, locale) : categoryName(config, s.categoryId, locale), s.count, formatRate(s.share, locale)]),
        )}</section>`,
    )
    .join('');
  return {
    body: sections,
    charts: [
      {
        id: 'chart-categories',
        option: {
          tooltip: { trigger: 'item' },
          series: [{ type: 'pie', radius: ['35%', '65%'], data: report.categories.level1.map((s) => ({ name: categoryName(config, s.categoryId, locale), value: s.count })) }],
        },
      },
    ],
  };
}

export function flowPage(frame: PageFrame, report: MetricsReport): { body: string; charts: ChartSpec[] } {
  const { locale, config } = frame;
  const dn = (id: string) => departmentName(config, id, locale);
  const flowRows = report.flows.map((f) => [dn(f.fromDepartmentId), dn(f.toDepartmentId), f.handoffs, f.returns, formatDurationText(f.acceptTime.meanMs, locale), formatDurationText(f.duration.meanMs, locale)]);
  const effRows = report.departments.map((d) => [dn(d.departmentId), d.legs, d.returned, formatDurationText(d.acceptTime.meanMs, locale), formatDurationText(d.legDuration.meanMs, locale), formatRate(d.legOnTime.rate, locale), formatRate(d.onTime.rate, locale)]);
  const reasonRows = report.returns.reasons.map((r) => [returnReasonName(config, r.reason, locale), r.count]);
  const pairs = report.flows.map((f) => `${dn(f.fromDepartmentId)} → ${dn(f.toDepartmentId)}`);
  return {
    body: `<section><h2>${esc(rt(locale, 'dash.flow_chart'))}</h2><div class="chart" id="chart-flow"></div>${table(
      frame,
      [{ key: 'dash.col.from' }, { key: 'dash.col.to' }, { key: 'dash.col.handoffs', num: true }, { key: 'dash.col.returns', num: true }, { key: 'dash.col.accept_time', num: true }, { key: 'dash.col.leg_duration', num: true }],
      flowRows,
    )}</section>
<section><h2>${esc(rt(locale, 'dash.efficiency'))}</h2>${table(
      frame,
      [{ key: 'csv.department' }, { key: 'dash.col.legs', num: true }, { key: 'dash.col.returns', num: true }, { key: 'dash.col.accept_time', num: true }, { key: 'dash.col.leg_duration', num: true }, { key: 'dash.col.leg_on_time', num: true }, { key: 'metric.on_time', num: true }],
      effRows,
    )}</section>
<section><h2>${esc(rt(locale, 'dash.return_reasons'))}</h2>${table(frame, [{ key: 'dash.col.reason' }, { key: 'dash.col.count', num: true }], reasonRows)}</section>`,
    charts: [
      {
        id: 'chart-flow',
        option: {
          tooltip: { trigger: 'axis' },
          legend: { data: [rt(locale, 'dash.col.handoffs'), rt(locale, 'dash.col.returns')] },
          grid: { left: 140, right: 16, top: 32, bottom: 24 },
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'category', data: pairs },
          series: [
            { name: rt(locale, 'dash.col.handoffs'), type: 'bar', data: report.flows.map((f) => f.handoffs) },
            { name: rt(locale, 'dash.col.returns'), type: 'bar', data: report.flows.map((f) => f.returns), itemStyle: { color: '#c0392b' } },
          ],
        },
      },
    ],
  };
}

export interface CommentRow {
  ticketKey: string;
  departmentId: string;
  score: number;
  comment: string | null;
  answeredAt: number;
}

export function satisfactionPage(frame: PageFrame, report: MetricsReport, comments: CommentRow[]): { body: string; charts: ChartSpec[] } {
  const { locale, config } = frame;
  const dist = [1, 2, 3, 4, 5].map((s) => comments.filter((c) => c.score === s).length);
  const summary = rt(locale, 'dash.csat_summary', {
    answers: report.csat.answers,
    mean: report.csat.meanScore === null ? rt(locale, 'metric.no_data') : report.csat.meanScore.toFixed(2),
    rate: formatRate(report.csat.responseRate.rate, locale),
  });
  const rows = comments
    .filter((c) => c.comment)
    .map((c) => [c.ticketKey, departmentName(config, c.departmentId, locale), c.score, c.comment ?? '', new Date(c.answeredAt).toISOString().slice(0, 16).replace('T', ' ')]);
  return {
    body: `<section><h2>${esc(rt(locale, 'metric.csat'))}: ${esc(formatRate(report.csat.satisfied.rate, locale))}</h2><p>${esc(summary)}</p><div class="chart" id="chart-csat"></div></section>
<section><h2>${esc(rt(locale, 'dash.col.comment'))}</h2>${table(frame, [{ key: 'csv.key' }, { key: 'csv.department' }, { key: 'dash.col.score', num: true }, { key: 'dash.col.comment' }, { key: 'dash.col.when' }], rows)}</section>`,
    charts: [{ id: 'chart-csat', option: { tooltip: {}, grid: { left: 40, right: 16, top: 16, bottom: 32 }, xAxis: { type: 'category', data: ['1', '2', '3', '4', '5'] }, yAxis: { type: 'value', minInterval: 1 }, series: [{ type: 'bar', data: dist }] } }],
  };
}

export interface FeedbackRowView {
  text: string;
  author: string;
  departmentId: string | null;
  createdAt: string;
}

export function feedbackPage(frame: PageFrame, rows: FeedbackRowView[]): { body: string; charts: ChartSpec[] } {
  const { locale, config } = frame;
  return {
    body: `<section><h2>${esc(rt(locale, 'dash.nav.feedback'))}</h2>${table(
      frame,
      [{ key: 'dash.col.text' }, { key: 'dash.col.author' }, { key: 'csv.department' }, { key: 'dash.col.when' }],
      rows.map((r) => [r.text, r.author, r.departmentId ? departmentName(config, r.departmentId, locale) : '—', r.createdAt.slice(0, 16).replace('T', ' ')]),
    )}</section>`,
    charts: [],
  };
}

export function deniedPage(locale: Locale, reason: 'expired' | 'invalid' | 'scope'): string {
  const message = rt(locale, reason === 'expired' ? 'dash.denied_expired' : reason === 'scope' ? 'dash.denied_scope' : 'dash.denied_invalid');
  return `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(rt(locale, 'dash.denied_title'))}</title>
<style>body{font:16px/1.5 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:36rem;margin:15vh auto;padding:0 16px;color:#1f2933}h1{font-size:22px}</style></head>
<body data-denied="${reason}"><h1>${esc(rt(locale, 'dash.denied_title'))}</h1><p id="denied-message">${esc(message)}</p></body></html>`;
}
