import { selfServiceDefinition } from '../../reports/definitions';
import { formatRate } from '../../reports/format';
import { rt } from '../../reports/i18n';
import type { SelfServiceFigures } from '../../reports/self-service';
import { esc, type PageFrame } from './pages';

/**
 * The overview's self-service block (issue 18): the rate beside the six, with its one definition
 * (reports/definitions.ts) behind the "?", and per article views / solved / still need help.
 */
export function selfServiceSection(frame: Pick<PageFrame, 'locale' | 'period'>, f: SelfServiceFigures): string {
  const { locale } = frame;
  const def = `<details class="def"><summary title="${esc(rt(locale, 'dash.definition'))}" aria-label="${esc(rt(locale, 'dash.definition'))}">?</summary><p>${esc(selfServiceDefinition(locale))}</p></details>`;
  const card = `<div class="cards"><div class="card" data-metric="self_service"><div class="name"><span class="label">${esc(rt(locale, 'metric.self_service'))}</span>${def}</div>
<div class="value"><span class="figure">${esc(formatRate(f.rate, locale))}</span></div>
<div class="prev">${esc(rt(locale, 'dash.compared_with', { from: frame.period.previousFirstDay, to: frame.period.previousLastDay }))}: ${esc(formatRate(f.previousRate, locale))}</div>
<div class="basis">${esc(rt(locale, 'stats.self_service', { rate: formatRate(f.rate, locale), solved: f.solved, answered: f.solved + f.escalated, offered: f.offered, previous: formatRate(f.previousRate, locale) }))}</div></div></div>`;
  const heads = (['dash.self_service.article', 'dash.self_service.views', 'dash.self_service.solved', 'dash.self_service.still'] as const).map((k, i) => `<th${i ? ' class="num"' : ''}>${esc(rt(locale, k))}</th>`);
  const rows = f.articles.map(
    (a) =>
      `<tr><td data-label="${esc(rt(locale, 'dash.self_service.article'))}">${esc(a.title)}</td><td class="num" data-label="${esc(rt(locale, 'dash.self_service.views'))}">${a.views}</td><td class="num" data-label="${esc(rt(locale, 'dash.self_service.solved'))}">${a.solved}</td><td class="num" data-label="${esc(rt(locale, 'dash.self_service.still'))}">${a.stillNeedHelp}</td></tr>`,
  );
  const table = rows.length
    ? `<div class="table"><table class="cards-on-phone" id="kb-articles"><thead><tr>${heads.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
    : `<p class="empty">${esc(rt(locale, 'dash.self_service.none'))}</p>`;
  const manage = `<p><a id="kb-link" href="/dashboard/kb?lang=${encodeURIComponent(locale)}">${esc(rt(locale, 'dash.kb.title'))} →</a></p>`;
  return `<section id="self-service"><h2>${esc(rt(locale, 'dash.self_service.title'))}</h2>${card}${table}${manage}</section>`;
}
