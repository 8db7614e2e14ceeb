import { historyView, type HistoryInput } from '../../chat/history';
import { rt } from '../../reports/i18n';
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
