import { historyView, type HistoryInput } from '../../chat/history';
import { workflowDefinition } from '../../reports/definitions';
import { rt } from '../../reports/i18n';
import type { WorkflowFigures } from '../../reports/workflow';
import { esc, type PageFrame, type Rendered } from './pages';

/**
 * The dashboard's ticket page (issue 17 item 5): the history of one ticket, the same localised
 * lines `ticketbot show KEY --lang` prints and the card's History shows (src/chat/history.ts),
 * plus the priority criteria "?" beside the priority. Reached from the key in every ticket list.
 */
export function ticketPath(key: string): string {
  return `/dashboard/ticket/${encodeURIComponent(key)}`;
}

export function ticketHistoryPage(frame: PageFrame, input: HistoryInput, criteria: string[]): Rendered {
  const view = historyView(frame.config, input, frame.locale, frame.zone);
  const t = input.ticket;
  const list = (lines: string[]) => `<ul class="history">${lines.map((l) => `<li>${esc(l.trim())}</li>`).join('')}</ul>`;
  const help = criteria.length
    ? `<details class="def"><summary title="${esc(rt(frame.locale, 'docs.priority_criteria'))}" aria-label="${esc(rt(frame.locale, 'docs.priority_criteria'))}">?</summary><ul>${criteria.map((c) => `<li>${esc(c.trim())}</li>`).join('')}</ul></details>`
    : '';
  const body = `<section class="ticket-history"><h2>${esc(view.title)}</h2>
<p><strong>${esc(t.title)}</strong> · ${esc(rt(frame.locale, 'dash.ticket.priority'))}: ${esc(t.priority)}${help}</p>
<h3>${esc(view.trailTitle)}</h3>${list(view.trail)}
${view.clocks.length ? `<h3>${esc(view.clocksTitle)}</h3>${list(view.clocks)}` : ''}
<p><a href="${esc(frame.href('/dashboard/tickets', { page: undefined }))}">${esc(rt(frame.locale, 'dash.back'))}</a></p></section>`;
  return { body, charts: [] };
}

/**
 * The workflow figures beside the six on the overview (issue 17): misrouting per category and
 * manual escalations, each with its "?" (the one definition text, reports/definitions.ts), and the
 * published priority criteria behind a "?" of their own. Appended to the overview by the router.
 */
export function workflowSection(frame: PageFrame, figures: WorkflowFigures, criteria: string[]): string {
  const locale = frame.locale;
  const q = (label: string, text: string | string[]) =>
    `<details class="def"><summary title="${esc(label)}" aria-label="${esc(label)}">?</summary>${Array.isArray(text) ? `<ul>${text.map((c) => `<li>${esc(c.trim())}</li>`).join('')}</ul>` : `<p>${esc(text)}</p>`}</details>`;
  const worst = figures.misrouting.filter((m) => m.misrouted > 0).slice(0, 5);
  const name = (id: string) => frame.config.categoryName(id)?.[locale] ?? id;
  const misrouting = worst.length ? `<ul>${worst.map((m) => `<li>${esc(name(m.categoryId))}: ${m.misrouted}/${m.created} (${Math.round((m.rate ?? 0) * 100)}%)</li>`).join('')}</ul>` : '<p>—</p>';
  return `<section class="workflow-figures">
<h3>${esc(rt(locale, 'docs.extra.misrouting_rate'))}${q(rt(locale, 'docs.extra.misrouting_rate'), workflowDefinition('misrouting_rate', locale))}</h3>${misrouting}
<h3>${esc(rt(locale, 'docs.extra.manual_escalations'))}${q(rt(locale, 'docs.extra.manual_escalations'), workflowDefinition('manual_escalations', locale))}</h3><p>${figures.manualEscalations}</p>
${criteria.length ? `<h3>${esc(rt(locale, 'docs.priority_criteria'))}${q(rt(locale, 'docs.priority_criteria'), criteria)}</h3>` : ''}
</section>`;
}
