import { t } from '../../src/chat/i18n';
import type { Locale } from '../../src/domain/types';
import { actionFormView, newTicketForm, priorityOptions } from '../../src/feishu/forms';
import { feishuForm } from '../support/forms';
import { deflectOffer } from '../../src/chat/deflection';
import { actionFormCard, deflectCard, historyCard, answeredCard, doneCard, escapeMd, imageNoticeCard, infoCard, listCard, newTicketCard, notificationCard, textContent, ticketCard, type Card } from '../../src/feishu/presenters';
import { validateCard } from '../fakes/feishu-card-rules';
import { feishuTestConfig } from '../fakes/feishu-harness';
import { DESCRIPTION, TITLE, nasty, options, withManyCategories, worstCard, worstList } from './worst-case';

/**
 * Every Feishu card the app builds, from worst-case inputs, through the card JSON 2.0 rules the
 * fake Feishu enforces (test/fakes/feishu-card-rules.ts), 30 KB included.
 */

const config = withManyCategories(feishuTestConfig());
const leaf = 'no-code';

function valid(name: string, card: Card): void {
  expect([name, validateCard(card)]).toEqual([name, []]);
}

/** Markdown contents of a card (where <at …> and links would be live). */
function markdown(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(markdown);
  if (typeof node !== 'object' || node === null) return [];
  const o = node as Record<string, unknown>;
  return [...(o.tag === 'markdown' && typeof o.content === 'string' ? [o.content] : []), ...Object.values(o).flatMap(markdown)];
}

describe.each<Locale>(['zh-CN', 'en'])('Feishu cards from worst-case inputs (%s)', (locale) => {
  const model = worstCard(config, leaf, locale);
  const many = options(150).map((o) => ({ value: o.id, label: o.name }));

  it('the ticket card, interactive and not: within 30 KB, long content cut visibly, no live mention', () => {
    const card = ticketCard(model, { interactive: true, priorities: priorityOptions(locale) });
    valid('card', card);
    valid('card elsewhere', ticketCard(model, { interactive: false, priorities: priorityOptions(locale) }));
    const json = JSON.stringify(card);
    expect(json).toContain('…');
    expect(json).toContain(t(locale, 'ui.card.description_more'));
    // Our own mentions are <at id=ou_…>; nothing a person typed becomes a tag or a link.
    expect(markdown(card).filter((m) => /<at id=all|<at id=ou_[^>]*&|\]\(https:\/\/evil|<!channel/.test(m.replace(/<at id=ou_\w+><\/at>/g, '')))).toEqual([]);
    expect(markdown(card).join('\n')).toContain('&lt;at id=all&gt;');
  });

  it('the new-ticket card: 150+ categories per level, a leaf with fields, a long forwarded message as prefill', () => {
    const prefill = { title: TITLE, description: DESCRIPTION, sourceMessageId: 'om_1' };
    valid('new', newTicketCard(newTicketForm(config, locale, { formId: 'f1', path: [], prefill })));
    valid('new at leaf', newTicketCard(newTicketForm(config, locale, { formId: 'f1', path: ['fault', 'login', leaf], prefill, problem: nasty(500), intro: nasty(500) })));
  });

  it('every action form, with 150 options and with none', async () => {
    const ticket = { id: 'tk1', key: 'HD-1042', title: TITLE, departmentId: 'finance' };
    for (const kind of ['reply', 'assign', 'hand_off', 'return', 'resolve', 'extend', 'survey', 'save_answer'] as const) {
      const base = { formId: 'f2', ticket, runningClocks: ['resolution', 'first_response', 'leg_accept', 'leg_resolve'], problem: nasty(300) };
      valid(kind, actionFormCard(await feishuForm(config, locale, kind, { ...base, choices: { assignees: many } })));
      valid(`${kind} with a long template list`, actionFormCard({ ...(await feishuForm(config, locale, kind, base)), templates: many, departments: many, returnReasons: many, assignees: many }));
      valid(`${kind} with the card thread's files`, actionFormCard({ ...(await feishuForm(config, locale, kind, base)), threadFiles: many }));
      valid(`${kind} with nothing to choose`, actionFormCard({ ...(await feishuForm(config, locale, kind, base)), templates: [], departments: [], returnReasons: [], assignees: [] }));
    }
  });

  it('knowledge base (issue 18): suggested articles on the card, Save as answer, the offer, the prefilled form', async () => {
    const card = JSON.stringify(ticketCard(model, { interactive: true, priorities: priorityOptions(locale) }));
    expect(card).toContain(t(locale, 'ui.card.suggested_articles'));
    expect(card).toContain('"k":"send"');
    expect(card).not.toContain('Retired article');
    const resolved = worstCard(config, leaf, locale, { state: 'resolved' });
    valid('resolved card', ticketCard(resolved, { interactive: true, priorities: priorityOptions(locale) }));
    expect(JSON.stringify(ticketCard(resolved, { interactive: true, priorities: priorityOptions(locale) }))).toContain('"f":"save_answer"');
    const offer = deflectOffer(locale, 'd1', Array.from({ length: 3 }, (_, i) => ({ id: `a${i}`, title: nasty(300, `<at id=all> ${i} `), excerpt: nasty(3000) })));
    valid('offer', deflectCard(offer));
    expect(markdown(deflectCard(offer)).join('\n')).not.toContain('<at id=all>');
    const ticket = { id: 'tk1', key: 'HD-1042', title: TITLE, departmentId: 'finance' };
    valid('save answer prefilled', actionFormCard(await feishuForm(config, locale, 'save_answer', { formId: 'f3', ticket, choices: { initial: { title: TITLE, body: DESCRIPTION, tags: nasty(300) } } })));
  });

  it('notifications, answers, lists, info and picture cards', () => {
    const long = `${DESCRIPTION}\n${DESCRIPTION}`;
    valid('notification', notificationCard(locale, long, 'tk1', 7, ['confirm', 'reopen', 'take_over', 'reassign', 'extend', 'open'], true));
    valid('answered', answeredCard(long, nasty(500)));
    valid('done', doneCard(nasty(1000)));
    valid('list', listCard(locale, nasty(200), [{ title: nasty(100), items: worstList(locale, 50) }, { title: nasty(100), items: worstList(locale, 50) }], 100));
    valid('info', infoCard(nasty(200), Array.from({ length: 40 }, () => nasty(200))));
    valid('picture', imageNoticeCard(`${nasty(300)}\n${DESCRIPTION}`, 'img_v2_x', nasty(200)));
  });

  // issue 17 (src/chat/workflow-actions.ts): the card's second row, the history, and its three forms.
  it('the workflow row, a 2,000-line history cut with a count, and the escalate / edit / change-category forms', () => {
    expect(model.workflow).toEqual(['history', 'edit', 'recategorise', 'escalate']);
    valid('card with workflow row', ticketCard(model, { interactive: true, priorities: priorityOptions(locale) }));
    const lines = Array.from({ length: 2000 }, (_, i) => `${i} ${nasty(180)}`);
    const history = historyCard(locale, 'IT-1042', nasty(300), lines);
    valid('history', history);
    expect(JSON.stringify(history)).toContain(t(locale, 'history.cut', { count: 'X', key: 'IT-1042' }).split('X')[1]!.slice(0, 12));
    const ticket = { id: 'tk1', key: 'HD-1042', title: TITLE, departmentId: 'finance', priority: 'low' };
    const form = (choices: object) => actionFormCard(actionFormView(locale, { kind: 'action_form', form: choices === null ? 'edit' : ((choices as { f: 'escalate' | 'edit' | 'recategorise' }).f), ticket, choices: choices as never }, 'f3', config));
    valid('escalate', form({ f: 'escalate', priorities: [{ value: 'high', label: 'High' }, { value: 'urgent', label: nasty(200) }] }));
    valid('escalate at the top', form({ f: 'escalate', priorities: [] }));
    valid('edit', form({ f: 'edit', draft: { title: TITLE, description: DESCRIPTION + DESCRIPTION } }));
    valid('recategorise', form({ f: 'recategorise', category: { current: leaf, path: [] } }));
    valid('recategorise deep', form({ f: 'recategorise', category: { current: leaf, path: ['fault', 'login', leaf] } }));
    valid('recategorise fields', form({ f: 'recategorise', category: { current: leaf, path: ['fault', 'login', leaf], fixed: true, intro: nasty(500) }, fields: ['account', 'device', 'order_id'].map((id) => ({ id, label: nasty(100), type: 'text' })) }));
  });
});

describe('user text in Feishu markdown and text messages (issue 15: mentions pass through)', () => {
  it('card markdown shows <at>, <font> and links as text', () => {
    expect(escapeMd('<at id=all></at> [x](https://evil.example) <font color=red>')).toBe('&lt;at id=all&gt;&lt;/at&gt; \\[x\\]\\(https://evil.example\\) &lt;font color=red&gt;');
  });

  it('a text message never carries a live <at> typed by a person', () => {
    const text = (JSON.parse(textContent('help <at user_id="all"></at> me </AT>')) as { text: string }).text;
    expect(text).not.toMatch(/<\/?at\b/i);
    expect(text.replace(/\u200b/g, '')).toBe('help <at user_id="all"></at> me </AT>');
  });
});
