import { t } from '../../chat/i18n';
import type { Config } from '../../config/model';
import { BACKLOG_AGE_LIMITS_MS, HEADLINE_METRICS, type MetricsReport } from '../../domain/metrics';
import type { Period, PeriodKind } from '../../domain/periods';
import type { Locale } from '../../domain/types';
import { metricDefinition } from '../../reports/definitions';
import { absoluteChangeText, figureValueText, durationAmount, relativeChangeText, verdict, type ComparedFigure, type FigureMetric } from '../../reports/figures';
import {
  categoryName,
  categoryPathName,
  departmentName,
  formatDurationText,
  formatFigure,
  formatLocalDateTime,
  formatRate,
  personName,
  platformOfUserId,
  priorityName,
  returnReasonName,
  stateName,
} from '../../reports/format';
import { rt, type ReportKey } from '../../reports/i18n';
import type { PilotComparison } from '../../reports/stats';
import type { AgentLoad, AnswerLine, BehindLine, DueLine, Paged, PersonRef, ThreadLink, TicketLine } from '../../reports/worklists';

/**
 * Server-rendered dashboard pages. Charts are drawn in the browser by ECharts from option objects
 * embedded as JSON; everything else is plain HTML, readable without JavaScript and on a phone
 * (tables turn into cards under 600 px). Nothing here writes an inline style: the page's CSP
 * allows only the nonce'd <style> element, so tooltips are ECharts' canvas ("richText") ones and
 * definitions are <details> elements.
 */

export const PAGES = ['overview', 'work', 'backlog', 'categories', 'flow', 'satisfaction', 'feedback'] as const;
export type PageName = (typeof PAGES)[number] | 'tickets';

export interface PageFrame {
  config: Config;
  locale: Locale;
  page: PageName;
  nonce: string;
  /** Builds a dashboard URL keeping the filters, with some parameters changed. */
  href(path: string, changes?: Record<string, string | undefined>): string;
  period: Period;
  /** The `period` parameter as chosen ('days' for the last 7/30/90 days). */
  periodChoice: string;
  customFrom: string | undefined;
  customTo: string | undefined;
  departmentId: string | undefined;
  categoryId: string | undefined;
  allowedDepartments: string[];
  /** Zone the viewer reads times in (their department's calendar). */
  zone: string;
  sessionUntil: string;
  nowMs: number;
}

export interface ChartSpec {
  id: string;
  option: unknown;
}

export interface Rendered {
  body: string;
  charts: ChartSpec[];
}

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside a <script> element: `<` is escaped so no text can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export const FONT_PATH = '/dashboard/assets/noto-sans-sc.ttf';
const FONT_STACK = 'system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC Web",sans-serif';
/** The same stack for the charts' canvas text. */
const CHART_FONT = 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC Web", sans-serif';

const STYLE = `
@font-face{font-family:"Noto Sans SC Web";src:local("Noto Sans SC"),local("NotoSansSC-Regular"),url(${FONT_PATH}) format("truetype");font-display:swap;unicode-range:U+2E80-9FFF,U+F900-FAFF,U+FF00-FFEF,U+3000-303F}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 ${FONT_STACK};color:#1f2933;background:#f5f7fa}
header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:space-between;padding:12px 16px;background:#243b53;color:#fff}
header h1{font-size:18px;margin:0}header a{color:#fff}header small{opacity:.85}
nav{display:flex;flex-wrap:wrap;gap:4px;padding:8px 16px;background:#fff;border-bottom:1px solid #d9e2ec}
nav a{padding:6px 10px;border-radius:6px;text-decoration:none;color:#243b53}nav a.active{background:#243b53;color:#fff}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;padding:12px 16px}
form.filters label{display:flex;flex-direction:column;font-size:13px;color:#486581}
select,button,input{font:inherit;padding:6px 8px;border:1px solid #bcccdc;border-radius:6px;background:#fff}
button{background:#243b53;color:#fff;border-color:#243b53;cursor:pointer}
.scope{font-size:14px;color:#243b53;font-weight:600;align-self:center}
.periodline{padding:0 16px;font-size:14px;color:#486581}.periodline strong{color:#1f2933}
main{padding:0 16px 24px}section{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px 16px;margin:12px 0}
h2{font-size:16px;margin:0 0 8px}p.hint{font-size:13px;color:#627d98;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px;position:relative}
.card .name{font-size:13px;color:#486581;display:flex;gap:6px;align-items:flex-start;justify-content:space-between}
.card .value{font-size:26px;font-weight:600;margin:4px 0}.card .value a{color:inherit;text-decoration:none;border-bottom:1px dotted #9fb3c8}
.card .unit{font-size:15px;font-weight:400;color:#486581;margin-left:2px}
.card .change,.card .prev,.card .basis{font-size:12px;color:#627d98}
.card .change.good{color:#2f8132;font-weight:600}.card .change.bad{color:#c0392b;font-weight:600}
details.def summary{list-style:none;cursor:pointer;width:20px;height:20px;border-radius:50%;border:1px solid #9fb3c8;text-align:center;line-height:18px;font-size:12px;color:#486581}
details.def summary::-webkit-details-marker{display:none}
details.def[open]{position:static}details.def p{position:absolute;left:8px;right:8px;top:32px;z-index:5;margin:0;background:#243b53;color:#fff;padding:8px 10px;border-radius:6px;font-size:13px;line-height:1.4}
.chart{width:100%;height:320px}
.table{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}th{color:#486581;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}td.nowrap{white-space:nowrap}
.unknown{border-bottom:1px dashed #c0392b;cursor:help}.late{color:#c0392b;font-weight:600}.ok{color:#2f8132}
.actions{display:flex;flex-wrap:wrap;gap:8px 16px;padding:0 16px}.actions a{font-size:14px}
.pager{display:flex;gap:12px;align-items:center;margin-top:8px;font-size:14px}
.empty{color:#627d98}
@media (max-width:600px){
header h1{font-size:16px}.cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.card{padding:10px}.card .value{font-size:22px}.chart{height:280px}
table.cards-on-phone thead{display:none}
table.cards-on-phone,table.cards-on-phone tbody,table.cards-on-phone tr,table.cards-on-phone td{display:block;width:100%}
table.cards-on-phone tr{border:1px solid #d9e2ec;border-radius:8px;margin:0 0 10px;padding:6px 10px;background:#fff}
table.cards-on-phone td{border:0;padding:3px 0;text-align:left;white-space:normal;display:flex;gap:12px;justify-content:space-between}
table.cards-on-phone td::before{content:attr(data-label);color:#627d98;font-size:13px;flex:0 0 40%;text-align:left}
table.cards-on-phone td.num{text-align:right}
}
`;

type Cell = string | number | { html: string };
interface Column {
  label: string;
  num?: boolean;
  nowrap?: boolean;
}

const col = (frame: PageFrame, key: ReportKey, extra: Partial<Column> = {}): Column => ({ label: rt(frame.locale, key), ...extra });
/** A column of times: its header names the zone, so no time is shown without one. */
const timeCol = (frame: PageFrame, key: ReportKey): Column => ({ label: `${rt(frame.locale, key)} (${frame.zone})`, nowrap: true });

function table(frame: PageFrame, head: Column[], rows: Cell[][], id?: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(rt(frame.locale, 'dash.no_rows'))}</p>`;
  const cell = (v: Cell, c: Column | undefined) => {
    const cls = [c?.num ? 'num' : '', c?.nowrap ? 'nowrap' : ''].filter(Boolean).join(' ');
    return `<td data-label="${esc(c?.label ?? '')}"${cls ? ` class="${cls}"` : ''}>${typeof v === 'object' ? v.html : esc(v)}</td>`;
  };
  return `<div class="table"><table class="cards-on-phone"${id ? ` id="${id}"` : ''}><thead><tr>${head.map((h) => `<th${h.num ? ' class="num"' : ''}>${esc(h.label)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v, i) => cell(v, head[i])).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

/** A person: their name, or "unknown (Feishu)" with a hint for the admin — never a raw id. */
export function person(frame: PageFrame, ref: PersonRef | null): { html: string } {
  if (ref === null) return { html: `<span class="empty">${esc(rt(frame.locale, 'dash.unassigned'))}</span>` };
  if (ref.name) return { html: esc(ref.name) };
  const platform = rt(frame.locale, `dash.platform.${platformOfUserId(ref.id)}`);
  return { html: `<span class="unknown" title="${esc(rt(frame.locale, 'dash.unknown_hint', { platform }))}">${esc(personName(ref.id, null, frame.locale))}</span>` };
}

function ticketKey(frame: PageFrame, line: Pick<TicketLine, 'id' | 'key'>, links: ReadonlyMap<string, ThreadLink>): { html: string } {
  const link = links.get(line.id);
  // issue 17: every key also leads to the ticket's history page (ticket-page.ts).
  const history = ` <a class="ticket-history" href="${esc(frame.href(`/dashboard/ticket/${encodeURIComponent(line.key)}`, { page: undefined, metric: undefined }))}">${esc(rt(frame.locale, 'dash.history'))}</a>`;
  if (!link) return { html: `<span class="ticket-key">${esc(line.key)}</span>${history}` };
  const title = rt(frame.locale, 'dash.open_thread', { platform: rt(frame.locale, `dash.platform.${link.platform}`) });
  return { html: `<a class="ticket-key" href="${esc(link.url)}" target="_blank" rel="noopener noreferrer" title="${esc(title)}">${esc(line.key)}</a>${history}` };
}

const localTime = (frame: PageFrame, iso: string) => formatLocalDateTime(Date.parse(iso), frame.zone, false);

function pager(frame: PageFrame, page: number, pageSize: number, total: number, path: string): string {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return '';
  const link = (p: number, key: ReportKey, rel: string) => `<a rel="${rel}" href="${esc(frame.href(path, { page: String(p + 1) }))}">${esc(rt(frame.locale, key))}</a>`;
  return `<div class="pager">${page > 0 ? link(page - 1, 'dash.prev_page', 'prev') : ''}<span>${esc(rt(frame.locale, 'dash.page', { page: page + 1, pages }))}</span>${page + 1 < pages ? link(page + 1, 'dash.next_page', 'next') : ''}</div>`;
}

const PERIOD_CHOICES: { value: string; key: ReportKey; days?: number }[] = [
  { value: 'this_week', key: 'dash.filter.this_week' },
  { value: 'last_week', key: 'dash.filter.last_week' },
  { value: 'this_month', key: 'dash.filter.this_month' },
  { value: 'last_month', key: 'dash.filter.last_month' },
  { value: '7', key: 'dash.filter.days', days: 7 },
  { value: '30', key: 'dash.filter.days', days: 30 },
  { value: '90', key: 'dash.filter.days', days: 90 },
  { value: 'custom', key: 'dash.filter.custom' },
];

/** Pages where the period or category filter means nothing (the backlog is "now"; feedback has no category). */
const NO_PERIOD: PageName[] = ['backlog'];
const NO_CATEGORY: PageName[] = ['feedback'];

const pagePath = (page: PageName) => `/dashboard${page === 'overview' ? '' : `/${page}`}`;

export function layout(frame: PageFrame, body: string, charts: ChartSpec[]): string {
  const { locale, config } = frame;
  const other: Locale = locale === 'en' ? 'zh-CN' : 'en';
  // The knowledge base's pages (src/web/dashboard/kb.ts) share the session: every dashboard viewer is a supervisor or an admin.
  const nav =
    PAGES.map((p) => `<a href="${esc(frame.href(pagePath(p), { page: undefined, metric: undefined }))}" class="${p === frame.page ? 'active' : ''}" data-page="${p}">${esc(rt(locale, `dash.nav.${p}`))}</a>`).join('') +
    `<a href="/dashboard/kb?lang=${esc(encodeURIComponent(locale))}" data-page="kb" id="nav-kb">${esc(rt(locale, 'dash.kb.title'))}</a>`;
  const single = frame.allowedDepartments.length === 1;
  // A supervisor of one department sees its name, not "All" and a list of one.
  const deptControl = single
    ? `<span class="scope" id="scope-name">${esc(rt(locale, 'dash.scope_one', { name: departmentName(config, frame.allowedDepartments[0]!, locale) }))}</span>`
    : `<label>${esc(rt(locale, 'dash.filter.department'))}<select name="dept">${[`<option value="">${esc(rt(locale, 'dash.filter.all'))}</option>`, ...frame.allowedDepartments.map((d) => `<option value="${esc(d)}"${d === frame.departmentId ? ' selected' : ''}>${esc(departmentName(config, d, locale))}</option>`)].join('')}</select></label>`;
  const catControl = NO_CATEGORY.includes(frame.page)
    ? ''
    : `<label>${esc(rt(locale, 'dash.filter.category'))}<select name="cat">${[
        `<option value="">${esc(rt(locale, 'dash.filter.all'))}</option>`,
        ...config.raw.categories.flatMap((top) => [top, ...(top.children ?? [])].map((c) => `<option value="${esc(c.id)}"${c.id === frame.categoryId ? ' selected' : ''}>${c === top ? '' : '— '}${esc(c.name[locale])}</option>`)),
      ].join('')}</select></label>`;
  const periodControl = NO_PERIOD.includes(frame.page)
    ? ''
    : `<label>${esc(rt(locale, 'dash.filter.period'))}<select name="period">${PERIOD_CHOICES.map((c) => `<option value="${c.value}"${c.value === frame.periodChoice ? ' selected' : ''}>${esc(rt(locale, c.key, { days: c.days }))}</option>`).join('')}</select></label>
<label>${esc(rt(locale, 'dash.filter.from'))}<input type="date" name="from" value="${esc(frame.customFrom ?? frame.period.firstDay)}"></label>
<label>${esc(rt(locale, 'dash.filter.to'))}<input type="date" name="to" value="${esc(frame.customTo ?? frame.period.lastDay)}"></label>`;
  const p = frame.period;
  const periodLine = NO_PERIOD.includes(frame.page)
    ? `<p class="periodline" id="period">${esc(rt(locale, 'dash.times_in', { zone: frame.zone }))}</p>`
    : `<p class="periodline" id="period"><strong>${esc(rt(locale, 'dash.period', { from: p.firstDay, to: p.lastDay }))}</strong> · ${esc(rt(locale, 'dash.compared_with', { from: p.previousFirstDay, to: p.previousLastDay }))} · ${esc(rt(locale, 'dash.times_in', { zone: frame.zone }))}</p>`;
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(rt(locale, 'dash.title'))} · ${esc(rt(locale, frame.page === 'tickets' ? 'dash.nav.overview' : `dash.nav.${frame.page}`))}</title>
<style nonce="${frame.nonce}">${STYLE}</style></head>
<body data-page="${frame.page}" data-locale="${locale}">
<header><h1>${esc(rt(locale, 'dash.title'))}</h1><small id="session">${esc(rt(locale, 'dash.session_until', { time: frame.sessionUntil }))}</small>
<a id="lang-switch" href="${esc(frame.href(pagePath(frame.page), { lang: other }))}">${esc(rt(locale, 'dash.language'))}</a></header>
<nav>${nav}</nav>
<form class="filters" method="get" action="${pagePath(frame.page)}">
<input type="hidden" name="lang" value="${esc(locale)}">${frame.page === 'tickets' ? `<input type="hidden" name="metric" value="${esc(new URL(frame.href('/x'), 'http://x').searchParams.get('metric') ?? '')}">` : ''}
${periodControl}
${deptControl}
${catControl}
<button type="submit">${esc(rt(locale, 'dash.filter.apply'))}</button></form>
${periodLine}
<div class="actions"><a href="${esc(frame.href('/dashboard/export.csv', { kind: 'tickets', page: undefined, metric: undefined }))}" download>${esc(rt(locale, 'dash.export_tickets'))}</a>
<a href="${esc(frame.href('/dashboard/export.csv', { kind: 'metrics', page: undefined, metric: undefined }))}" download>${esc(rt(locale, 'dash.export_metrics'))}</a></div>
<main>${body}</main>
<script type="application/json" id="charts">${scriptJson(charts)}</script>
<script src="/dashboard/assets/echarts.min.js"></script>
<script nonce="${frame.nonce}">
(function(){var specs=JSON.parse(document.getElementById('charts').textContent);var made=[];
function draw(){specs.forEach(function(s){var el=document.getElementById(s.id);if(!el||!window.echarts)return;var o=s.option;
o.textStyle={fontFamily:${JSON.stringify(CHART_FONT)}};o.tooltip=Object.assign({renderMode:'richText',confine:true},o.tooltip||{});o.animation=false;
var c=echarts.init(el);c.setOption(o);made.push(c);});
window.addEventListener('resize',function(){made.forEach(function(c){c.resize();});});document.body.setAttribute('data-charts',String(made.length));}
/* Laying the page out starts loading the CJK fallback font when the text needs it; the charts wait for it so canvas labels are not blank. */
void document.body.offsetWidth;if(document.fonts&&document.fonts.ready){document.fonts.ready.then(draw,draw);}else{draw();}})();
</script></body></html>`;
}

// ---------------------------------------------------------------------------------------------
// Overview

function changeTitle(frame: PageFrame, f: ComparedFigure): string {
  if (!f.change) return '';
  const test = rt(frame.locale, `fig.test.${f.change.test}`);
  return rt(frame.locale, f.change.significant ? 'fig.significant' : 'fig.not_significant', { test });
}

function card(frame: PageFrame, f: ComparedFigure, periodKind: PeriodKind): string {
  const { locale } = frame;
  const v = verdict(f);
  let number: string;
  let unit = '';
  if (f.value === null) number = rt(locale, 'metric.no_data');
  else if (f.kind === 'duration') {
    const a = durationAmount(f.value, locale);
    number = a.number;
    unit = a.unit;
  } else number = figureValueText(f, locale);
  const arrow = !f.change || f.change.direction === 'same' ? '' : f.change.direction === 'up' ? '▲' : '▼';
  const change = f.change && f.previous !== null ? `${arrow} ${absoluteChangeText(f, locale)}${relativeChangeText(f) ? ` (${relativeChangeText(f)})` : ''}` : '';
  const isHeadline = (HEADLINE_METRICS as readonly string[]).includes(f.metric);
  const name = isHeadline ? rt(locale, `metric.${f.metric as (typeof HEADLINE_METRICS)[number]}`) : rt(locale, `fig.name.${f.metric}`);
  const def = isHeadline ? `<details class="def"><summary title="${esc(rt(locale, 'dash.definition'))}" aria-label="${esc(rt(locale, 'dash.definition'))}">?</summary><p>${esc(metricDefinition(f.metric as (typeof HEADLINE_METRICS)[number], locale))}</p></details>` : '';
  const prev = f.previous === null ? rt(locale, 'metric.no_data') : figureValueText({ kind: f.kind, value: f.previous }, locale);
  void periodKind;
  return `<div class="card" data-metric="${f.metric}" data-verdict="${v}"><div class="name"><span class="label">${esc(name)}</span>${def}</div>
<div class="value"><a href="${esc(frame.href('/dashboard/tickets', { metric: f.metric, page: undefined }))}" title="${esc(rt(locale, 'dash.show_tickets'))}"><span class="figure">${esc(number)}</span>${unit ? `<span class="unit">${esc(unit)}</span>` : ''}</a></div>
<div class="change ${v}" title="${esc(changeTitle(frame, f))}">${esc(change)}</div>
<div class="prev">${esc(rt(locale, 'dash.compared_with', { from: frame.period.previousFirstDay, to: frame.period.previousLastDay }))}: ${esc(prev)}</div>
<div class="basis">${esc(rt(locale, `fig.basis.${f.metric}`, { n: f.basis }))}</div></div>`;
}

export function overviewPage(frame: PageFrame, figures: ComparedFigure[], report: MetricsReport, pilots: PilotComparison[], extraHtml = ''): Rendered {
  const { locale } = frame;
  const head = figures.filter((f) => (HEADLINE_METRICS as readonly string[]).includes(f.metric));
  const volume = figures.filter((f) => !(HEADLINE_METRICS as readonly string[]).includes(f.metric));
  const pilotRows = pilots.flatMap((p) =>
    p.pilot.map((f, i) => [
      p.rolloutId,
      rt(locale, `metric.${f.metric}`),
      `${formatFigure(f, locale)} (${p.pilotDepartmentIds.map((d) => departmentName(frame.config, d, locale)).join(', ')})`,
      formatFigure(p.others[i] ?? { value: null, kind: f.kind }, locale),
    ]),
  );
  const pilotSection = pilots.length
    ? `<section id="pilot"><h2>${esc(rt(locale, 'dash.pilot'))}</h2>${table(frame, [col(frame, 'dash.col.rollout'), col(frame, 'csv.metric'), col(frame, 'dash.col.pilot_group'), col(frame, 'dash.col.other_group')], pilotRows)}</section>`
    : '';
  return {
    body: `<div class="cards" id="figures">${head.map((f) => card(frame, f, frame.period.kind)).join('')}</div>
<div class="cards" id="volume">${volume.map((f) => card(frame, f, frame.period.kind)).join('')}</div>
<section><h2>${esc(rt(locale, 'dash.volume_chart'))}</h2><div class="chart" id="chart-volume"></div></section>${pilotSection}${extraHtml}`,
    charts: [
      {
        id: 'chart-volume',
        option: {
          tooltip: { trigger: 'axis' },
          legend: { bottom: 0, data: [rt(locale, 'metric.created'), rt(locale, 'metric.resolved')] },
          grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
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

// ---------------------------------------------------------------------------------------------
// Due soon and workload

export function workPage(frame: PageFrame, due: DueLine[], loads: AgentLoad[], links: ReadonlyMap<string, ThreadLink>, windowMs: number): Rendered {
  const { locale, config } = frame;
  const dueRows = due.map((d) => {
    const left = Date.parse(d.dueAt) - frame.nowMs;
    const when = left < 0 ? { html: `<span class="late">${esc(rt(locale, 'dash.overdue_by', { d: formatDurationText(-left, locale, 'wall') }))}</span>` } : rt(locale, 'dash.due_in', { d: formatDurationText(left, locale, 'wall') });
    return [ticketKey(frame, d, links), d.title, departmentName(config, d.departmentId, locale), t(locale, `clock.${d.clockKind}` as Parameters<typeof t>[1]), localTime(frame, d.dueAt), when, person(frame, d.assignee)] as Cell[];
  });
  const loadRows = loads.map((l) => [
    person(frame, l.agent),
    l.open,
    l.dueSoon > 0 ? { html: `<span class="late">${l.dueSoon}</span>` } : 0,
    l.resolved,
    l.onTime + l.late > 0 ? `${formatRate(l.onTime / (l.onTime + l.late), locale)} (${l.onTime}/${l.onTime + l.late})` : rt(locale, 'metric.no_data'),
  ]);
  return {
    body: `<section id="due-soon"><h2>${esc(rt(locale, 'dash.due_soon'))}</h2><p class="hint">${esc(rt(locale, 'dash.due_soon_hint', { window: formatDurationText(windowMs, locale, 'wall') }))}</p>${table(
      frame,
      [col(frame, 'dash.col.ticket'), col(frame, 'dash.col.title'), col(frame, 'csv.department'), col(frame, 'dash.col.clock'), timeCol(frame, 'dash.col.due'), col(frame, 'dash.col.state', { nowrap: true }), col(frame, 'dash.col.assignee')],
      dueRows,
      'due-table',
    )}</section>
<section id="workload"><h2>${esc(rt(locale, 'dash.workload'))}</h2>${table(
      frame,
      [col(frame, 'dash.col.agent'), col(frame, 'dash.col.open', { num: true }), col(frame, 'dash.col.due_soon', { num: true }), col(frame, 'dash.col.resolved_period', { num: true }), col(frame, 'dash.col.on_time', { num: true })],
      loadRows,
      'workload-table',
    )}</section>`,
    charts: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Backlog

export function backlogPage(frame: PageFrame, report: MetricsReport, open: TicketLine[], links: ReadonlyMap<string, ThreadLink>): Rendered {
  const { locale, config } = frame;
  const ageNames = BACKLOG_AGE_LIMITS_MS.map((_, i) => rt(locale, `dash.age.${i}` as ReportKey));
  const byDept = report.backlog.byDepartment.filter((d) => frame.allowedDepartments.includes(d.departmentId));
  const rows = open.map((tk) => [
    ticketKey(frame, tk, links),
    tk.title,
    departmentName(config, tk.departmentId, locale),
    priorityName(tk.priority, locale),
    stateName(tk.state, locale),
    person(frame, tk.assignee),
    formatDurationText(frame.nowMs - Date.parse(tk.createdAt), locale, 'wall'),
  ] as Cell[]);
  return {
    body: `<section><h2>${esc(rt(locale, 'dash.backlog_by_department'))}</h2><div class="chart" id="chart-backlog-dept"></div></section>
<section><h2>${esc(rt(locale, 'dash.backlog_by_age'))}</h2><div class="chart" id="chart-backlog-age"></div></section>
<section><h2>${esc(rt(locale, 'dash.oldest'))}</h2>${table(
      frame,
      [col(frame, 'csv.key'), col(frame, 'csv.title'), col(frame, 'csv.department'), col(frame, 'csv.priority'), col(frame, 'dash.col.state'), col(frame, 'dash.col.assignee'), col(frame, 'dash.col.age', { num: true })],
      rows,
    )}</section>`,
    charts: [
      {
        id: 'chart-backlog-dept',
        option: {
          tooltip: {},
          grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'category', data: byDept.map((d) => departmentName(config, d.departmentId, locale)) },
          series: [{ type: 'bar', data: byDept.map((d) => d.open) }],
        },
      },
      {
        id: 'chart-backlog-age',
        option: {
          tooltip: {},
          grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
          xAxis: { type: 'category', data: ageNames, axisLabel: { interval: 0 } },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', data: report.backlog.ages.map((a) => a.count), itemStyle: { color: '#f0a202' } }],
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Categories

export function categoriesPage(frame: PageFrame, report: MetricsReport): Rendered {
  const { locale, config } = frame;
  const levels = [report.categories.level1, report.categories.level2, report.categories.level3];
  const sections = levels
    .map(
      (shares, i) =>
        `<section><h2>${esc(rt(locale, 'dash.level', { level: i + 1 }))}</h2>${i === 0 ? '<div class="chart" id="chart-categories"></div>' : ''}${table(
          frame,
          [col(frame, 'csv.category_path'), col(frame, 'dash.col.count', { num: true }), col(frame, 'dash.col.share', { num: true })],
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
          legend: { bottom: 0, type: 'scroll' },
          series: [{ type: 'pie', radius: ['30%', '55%'], center: ['50%', '45%'], label: { formatter: '{b}: {d}%' }, data: report.categories.level1.map((s) => ({ name: categoryName(config, s.categoryId, locale), value: s.count })) }],
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Flow between departments

export function flowPage(frame: PageFrame, report: MetricsReport): Rendered {
  const { locale, config } = frame;
  const dn = (id: string) => departmentName(config, id, locale);
  const mine = (id: string) => frame.allowedDepartments.includes(id);
  // A supervisor sees flows into or out of their departments, and only their departments' rows.
  const flows = report.flows.filter((f) => mine(f.fromDepartmentId) || mine(f.toDepartmentId));
  const flowRows = flows.map((f) => [dn(f.fromDepartmentId), dn(f.toDepartmentId), f.handoffs, f.returns, formatDurationText(f.acceptTime.meanMs, locale), formatDurationText(f.duration.meanMs, locale)]);
  // Accept time means "how long a handoff waited to be accepted": a department that received no
  // handoff has none (its own first legs are accepted when they are created).
  const effRows = report.departments
    .filter((d) => mine(d.departmentId))
    .map((d) => [dn(d.departmentId), d.legs, d.returned, d.handoffsReceived === 0 ? '—' : formatDurationText(d.acceptTime.meanMs, locale), formatDurationText(d.legDuration.meanMs, locale), formatRate(d.legOnTime.rate, locale), formatRate(d.onTime.rate, locale)]);
  const reasonRows = report.returns.reasons.map((r) => [returnReasonName(config, r.reason, locale), r.count]);
  const pairs = flows.map((f) => `${dn(f.fromDepartmentId)} →\n${dn(f.toDepartmentId)}`);
  return {
    body: `<section><h2>${esc(rt(locale, 'dash.flow_chart'))}</h2><div class="chart" id="chart-flow"></div>${table(
      frame,
      [col(frame, 'dash.col.from'), col(frame, 'dash.col.to'), col(frame, 'dash.col.handoffs', { num: true }), col(frame, 'dash.col.returns', { num: true }), col(frame, 'dash.col.accept_time', { num: true }), col(frame, 'dash.col.leg_duration', { num: true })],
      flowRows,
    )}</section>
<section><h2>${esc(rt(locale, 'dash.efficiency'))}</h2>${table(
      frame,
      [col(frame, 'csv.department'), col(frame, 'dash.col.legs', { num: true }), col(frame, 'dash.col.returns', { num: true }), col(frame, 'dash.col.accept_time', { num: true }), col(frame, 'dash.col.leg_duration', { num: true }), col(frame, 'dash.col.leg_on_time', { num: true }), col(frame, 'metric.on_time', { num: true })],
      effRows,
    )}</section>
<section><h2>${esc(rt(locale, 'dash.return_reasons'))}</h2>${table(frame, [col(frame, 'dash.col.reason'), col(frame, 'dash.col.count', { num: true })], reasonRows)}</section>`,
    charts: [
      {
        id: 'chart-flow',
        option: {
          tooltip: { trigger: 'axis' },
          // Legend below the plot, the plot sized to its labels: nothing overlaps at 390 px.
          legend: { bottom: 0, data: [rt(locale, 'dash.col.handoffs'), rt(locale, 'dash.col.returns')] },
          // A fixed label column: containLabel measures before a web font arrives and then clips.
          grid: { left: 96, right: 16, top: 8, bottom: 56 },
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'category', data: pairs, axisLabel: { width: 88, overflow: 'break' } },
          series: [
            { name: rt(locale, 'dash.col.handoffs'), type: 'bar', barMaxWidth: 28, data: flows.map((f) => f.handoffs) },
            { name: rt(locale, 'dash.col.returns'), type: 'bar', data: flows.map((f) => f.returns), barMaxWidth: 28, itemStyle: { color: '#c0392b' } },
          ],
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Satisfaction

export function satisfactionPage(frame: PageFrame, report: MetricsReport, answers: Paged<AnswerLine>, page: number, pageSize: number, links: ReadonlyMap<string, ThreadLink>): Rendered {
  const { locale, config } = frame;
  const dist = report.csat.answers;
  const summary = rt(locale, 'dash.csat_summary', {
    answers: dist,
    mean: report.csat.meanScore === null ? rt(locale, 'metric.no_data') : report.csat.meanScore.toFixed(2),
    rate: formatRate(report.csat.responseRate.rate, locale),
  });
  const rows = answers.rows.map((a) => [ticketKey(frame, a, links), departmentName(config, a.departmentId, locale), a.score, a.comment ?? '—', person(frame, a.requester), person(frame, a.assignee), localTime(frame, a.answeredAt)] as Cell[]);
  return {
    body: `<section><h2>${esc(rt(locale, 'metric.csat'))}: ${esc(formatRate(report.csat.satisfied.rate, locale))}</h2><p>${esc(summary)}</p><div class="chart" id="chart-csat"></div></section>
<section id="answers"><h2>${esc(rt(locale, 'dash.lowest_first'))}</h2>${table(
      frame,
      [col(frame, 'csv.key'), col(frame, 'csv.department'), col(frame, 'dash.col.score', { num: true }), col(frame, 'dash.col.comment'), col(frame, 'dash.col.requester'), col(frame, 'dash.col.assignee'), timeCol(frame, 'dash.col.when')],
      rows,
      'answers-table',
    )}${pager(frame, page, pageSize, answers.total, '/dashboard/satisfaction')}</section>`,
    charts: [],
  };
}

export function scoreChart(locale: Locale, distribution: number[]): ChartSpec {
  return {
    id: 'chart-csat',
    option: {
      tooltip: {},
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: ['1', '2', '3', '4', '5'], name: rt(locale, 'dash.col.score') },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', data: distribution }],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Feedback

export interface FeedbackRowView {
  text: string;
  author: PersonRef;
  departmentId: string | null;
  createdAt: string;
}

export function feedbackPage(frame: PageFrame, rows: FeedbackRowView[]): Rendered {
  const { locale, config } = frame;
  return {
    body: `<section><h2>${esc(rt(locale, 'dash.nav.feedback'))}</h2>${table(
      frame,
      [col(frame, 'dash.col.text'), col(frame, 'dash.col.author'), col(frame, 'csv.department'), timeCol(frame, 'dash.col.when')],
      rows.map((r) => [r.text, person(frame, r.author), r.departmentId ? departmentName(config, r.departmentId, locale) : '—', localTime(frame, r.createdAt)]),
    )}</section>`,
    charts: [],
  };
}

// ---------------------------------------------------------------------------------------------
// The tickets behind a figure

export function ticketsPage(frame: PageFrame, metric: FigureMetric, list: Paged<BehindLine>, page: number, pageSize: number, links: ReadonlyMap<string, ThreadLink>): Rendered {
  const { locale, config } = frame;
  const isHeadline = (HEADLINE_METRICS as readonly string[]).includes(metric);
  const name = isHeadline ? rt(locale, `metric.${metric as (typeof HEADLINE_METRICS)[number]}`) : rt(locale, `fig.name.${metric}`);
  const detail = (d: BehindLine['detail']): Cell => {
    switch (d.kind) {
      case 'duration':
        return formatDurationText(d.ms, locale);
      case 'clock':
        return { html: `${esc(t(locale, `clock.${d.clock}` as Parameters<typeof t>[1]))}: <span class="${d.late ? 'late' : 'ok'}">${esc(rt(locale, d.late ? 'dash.clock_late' : 'dash.clock_on_time'))}</span>` };
      case 'score':
        return d.score;
      case 'flag':
        return rt(locale, d.yes ? 'docs.yes' : 'docs.no');
      default:
        return '';
    }
  };
  const rows = list.rows.map((r) => [ticketKey(frame, r, links), r.title, departmentName(config, r.departmentId, locale), stateName(r.state, locale), person(frame, r.assignee), localTime(frame, r.createdAt), detail(r.detail)] as Cell[]);
  const definition = isHeadline ? `<p class="hint">${esc(metricDefinition(metric as (typeof HEADLINE_METRICS)[number], locale))}</p>` : '';
  return {
    body: `<section id="behind"><h2>${esc(rt(locale, 'dash.tickets_behind', { metric: name }))}</h2>${definition}<p class="hint">${esc(rt(locale, 'dash.tickets_behind_hint', { count: list.total, from: frame.period.firstDay, to: frame.period.lastDay }))}</p>${table(
      frame,
      [col(frame, 'csv.key'), col(frame, 'csv.title'), col(frame, 'csv.department'), col(frame, 'dash.col.state'), col(frame, 'dash.col.assignee'), timeCol(frame, 'dash.col.created'), { label: name }],
      rows,
      'behind-table',
    )}${pager(frame, page, pageSize, list.total, '/dashboard/tickets')}<p><a href="${esc(frame.href('/dashboard', { metric: undefined, page: undefined }))}">${esc(rt(locale, 'dash.back'))}</a></p></section>`,
    charts: [],
  };
}

export function deniedPage(locale: Locale, reason: 'expired' | 'invalid' | 'scope'): string {
  const message = rt(locale, reason === 'expired' ? 'dash.denied_expired' : reason === 'scope' ? 'dash.denied_scope' : 'dash.denied_invalid');
  return `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(rt(locale, 'dash.denied_title'))}</title>
<style>body{font:16px/1.5 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:36rem;margin:15vh auto;padding:0 16px;color:#1f2933}h1{font-size:22px}</style></head>
<body data-denied="${reason}"><h1>${esc(rt(locale, 'dash.denied_title'))}</h1><p id="denied-message">${esc(message)}</p></body></html>`;
}
