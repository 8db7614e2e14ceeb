import { t } from '../../src/chat/i18n';
import type { Locale } from '../../src/domain/types';
import {
  answeredNotice, assignModal, closeModal, extendModal, fileShareBlocks, handOffModal, homeView, listMessage, missingFieldsModal, newTicketModal,
  noticeMessage, priorityModal, deflectMessage, saveAnswerModal, rateCommentModal, replyModal, resolveModal, returnModal, textMessage, ticketCard, type ModalView, type SlackMessage,
  editModal, escalateModal, historyMessage, recategoriseModal,
} from '../../src/slack/presenters';
import { ACTION, VIEW } from '../../src/slack/ids';
import { deflectOffer } from '../../src/chat/deflection';
import { validateMessage, validateView } from '../fakes/block-kit-rules';
import { slackTestConfig } from '../fakes/slack-harness';
import { DESCRIPTION, NOW, TITLE, nasty, options, withManyCategories, worstCard, worstList } from './worst-case';

/**
 * Every Block Kit message, modal and App Home view the app builds, from worst-case inputs, through
 * the same rules the fake Slack enforces (test/fakes/block-kit-rules.ts). Long content is cut with
 * a visible "…" and a pointer to the rest, never refused.
 */

const config = withManyCategories(slackTestConfig());
const leaf = 'no-code';

function mrkdwnTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(mrkdwnTexts);
  if (typeof node !== 'object' || node === null) return [];
  const o = node as Record<string, unknown>;
  return [...(o.type === 'mrkdwn' && typeof o.text === 'string' ? [o.text] : []), ...Object.values(o).flatMap(mrkdwnTexts)];
}

function valid(name: string, m: SlackMessage): void {
  expect([name, validateMessage(m)]).toEqual([name, []]);
}
function validModal(name: string, v: ModalView | { type: 'home'; blocks: unknown[] }): void {
  expect([name, validateView(v)]).toEqual([name, []]);
}

describe.each<Locale>(['en', 'zh-CN'])('Slack presenters from worst-case inputs (%s)', (locale) => {
  const card = worstCard(config, leaf, locale);
  const ref = { key: 'IT-1042', title: TITLE };
  const meta = { ticketId: 'tk1', channel: 'C0IT', clock: 'resolution' };

  it('the ticket card, with and without buttons, cuts long content visibly and points to the rest', () => {
    const full = ticketCard(card);
    valid('card', full);
    valid('card without actions', ticketCard(card, { withActions: false }));
    const json = JSON.stringify(full.blocks);
    expect(json).toContain('…');
    expect(json).toContain(t(locale, 'ui.card.description_more'));
    // 60 fields do not fit: what is left out is counted, with the same pointer.
    expect(json).toContain(t(locale, 'ui.card.fields_more', { count: 30 }));
    // No live mention from user text in anything Slack reads as mrkdwn (plain_text is never parsed).
    const live = mrkdwnTexts(full.blocks).concat(full.text).filter((s) => s.includes('<!channel>') || s.includes('<@U0123>'));
    expect(live).toHaveLength(0);
  });

  it('notices with every button, long texts and answered notices', () => {
    for (const actions of [['confirm', 'reopen'], ['survey'], ['take_over', 'reassign', 'extend', 'open']]) valid(`notice ${actions}`, noticeMessage(DESCRIPTION + DESCRIPTION, { locale, ticketId: 'tk1', actions, clock: 'resolution' }));
    valid('answered', answeredNotice(DESCRIPTION + DESCRIPTION, nasty(3000)));
    valid('text', textMessage(DESCRIPTION + DESCRIPTION));
    valid('file share', { text: 'x', blocks: fileShareBlocks(`${DESCRIPTION}\n`.repeat(60), 'report_1') });
  });

  it('lists and App Home with 150 tickets per section', () => {
    const items = worstList(locale);
    valid('list', listMessage([{ title: nasty(200), items }, { title: nasty(200), items }], locale));
    validModal('home', homeView({ locale, assigned: items, requested: items, overdue: items, queues: Array.from({ length: 40 }, (_, i) => ({ department: nasty(80, `D${i}`), items })), stats: Array.from({ length: 40 }, () => ({ department: nasty(80), line: nasty(3000) })), updated: { iso: NOW.toISOString(), text: '2026-03-02 14:00' } }));
  });

  it('the new-ticket modal: 150 categories, a leaf with fields, a 3,000-character draft, five files', () => {
    const source = { channel: 'C0GEN', ts: '1700000000.000100', permalink: `https://x.slack.com/${'p'.repeat(300)}`, author: 'U1', files: Array.from({ length: 5 }, (_, i) => ({ id: `F${i}`, name: nasty(80), url: `https://files/${'f'.repeat(200)}` })) };
    validModal('new', newTicketModal({ config, locale, metadata: { path: [], channel: 'C0GEN', source }, draft: { title: TITLE, description: DESCRIPTION } }));
    validModal('new at leaf', newTicketModal({ config, locale, metadata: { path: ['fault', 'login', leaf], channel: 'C0GEN', source }, draft: { title: TITLE, description: DESCRIPTION } }));
    validModal('missing fields', missingFieldsModal({ config, locale, title: TITLE, fields: ['account', 'device', 'order_id'], metadata: { path: [], channel: 'C0GEN', source, categoryId: leaf, title: TITLE, description: DESCRIPTION } }));
  });

  it('the ticket modals with 150 options, and with none', () => {
    const many = options(150);
    for (const [name, view] of Object.entries({
      assign: assignModal(locale, ref, many, meta),
      assignNobody: assignModal(locale, ref, [], meta),
      assignHuge: assignModal(locale, ref, options(10_050), meta),
      priority: priorityModal(locale, { ...ref, priority: 'low' }, meta),
      reply: replyModal(locale, ref, many, meta),
      replyPlain: replyModal(locale, ref, [], meta),
      requestInfo: replyModal(locale, ref, many, meta, VIEW.requestInfo),
      // Files of the card's thread with worst-case names: 150 offered, the checkboxes hold 10.
      replyThreadFiles: replyModal(locale, ref, many, meta, VIEW.reply, many),
      handOff: handOffModal(locale, ref, many, meta),
      handOffNowhere: handOffModal(locale, ref, [], meta),
      return: returnModal(locale, ref, many, meta),
      returnPlain: returnModal(locale, ref, [], meta),
      resolve: resolveModal(locale, ref, meta),
      close: closeModal(locale, ref, meta),
      extend: extendModal(locale, ref, ['resolution', 'first_response', 'leg_accept', 'leg_resolve'], meta),
      rate: rateCommentModal(locale, ref, meta),
    })) validModal(name, view);
  });

  it('knowledge base (issue 18): suggested articles on the card, Save as answer, the offer, the prefilled form', () => {
    const json = JSON.stringify(ticketCard(card).blocks);
    expect(json).toContain(t(locale, 'ui.card.suggested_articles'));
    expect(json).toContain(`${ACTION.kbSend}_2`);
    expect(json).not.toContain('Retired article');
    const resolved = worstCard(config, leaf, locale, { state: 'resolved' });
    valid('resolved card', ticketCard(resolved));
    expect(JSON.stringify(ticketCard(resolved).blocks)).toContain(ACTION.saveAnswer);
    expect(JSON.stringify(ticketCard(resolved, { withActions: false }).blocks)).not.toContain(ACTION.saveAnswer);
    const offer = deflectOffer(locale, 'd1', Array.from({ length: 3 }, (_, i) => ({ id: `a${i}`, title: nasty(300, `<!channel> ${i} `), excerpt: nasty(3000) })));
    valid('offer', deflectMessage(offer));
    expect(mrkdwnTexts(deflectMessage(offer).blocks).filter((s) => s.includes('<!channel>'))).toHaveLength(0);
    validModal('save answer', saveAnswerModal(locale, ref, { title: TITLE, body: DESCRIPTION + DESCRIPTION, tags: 'a,b' }, meta));
    validModal('save answer empty', saveAnswerModal(locale, ref, {}, meta));
  });

  it('Assign offers every member of the department: over 100 as option groups (Block Kit), none known says so', () => {
    const offered = (view: ReturnType<typeof assignModal>) => {
      const el = (view.blocks as Array<{ element?: { type: string; options?: Array<{ value: string }>; option_groups?: Array<{ options: Array<{ value: string }> }> } }>).find((b) => b.element)?.element;
      return el ? { type: el.type, values: el.options ? el.options.map((o) => o.value) : el.option_groups!.flatMap((g) => g.options.map((o) => o.value)) } : undefined;
    };
    const many = options(150);
    expect(offered(assignModal(locale, ref, many, meta))).toEqual({ type: 'static_select', values: many.map((o) => o.id) });
    expect(offered(assignModal(locale, ref, many.slice(0, 3), meta))).toEqual({ type: 'static_select', values: many.slice(0, 3).map((o) => o.id) });
    expect(offered(assignModal(locale, ref, options(10_050), meta))!.values).toHaveLength(10_000);
    const nobody = assignModal(locale, ref, [], meta);
    expect(JSON.stringify(nobody.blocks)).toContain(t(locale, 'ui.assign.no_members'));
    expect(JSON.stringify(nobody.blocks)).not.toContain('users_select');
    expect(nobody.submit).toBeUndefined();
  });

  it('a hand-off with no other department says so instead of an empty select', () => {
    const view = handOffModal(locale, ref, [], meta);
    expect(JSON.stringify(view.blocks)).toContain(t(locale, 'ui.handoff.no_target'));
    expect(JSON.stringify(view.blocks)).not.toContain('static_select');
    expect(view.submit).toBeUndefined();
  });

  // issue 17 (src/chat/workflow-actions.ts): the card's second row, the history, and its three forms.
  it('the workflow row, a 2,000-line history cut with a count, and the escalate / edit / change-category modals', () => {
    const card = worstCard(config, leaf, locale);
    expect(card.workflow).toEqual(['history', 'edit', 'recategorise', 'escalate']);
    valid('card with workflow row', ticketCard(card));
    const lines = Array.from({ length: 2000 }, (_, i) => `${i} ${nasty(180)}`);
    const history = historyMessage(locale, 'IT-1042', nasty(300), lines);
    valid('history', history);
    expect(JSON.stringify(history.blocks)).toContain(t(locale, 'history.cut', { count: 'X', key: 'IT-1042' }).split('X')[1]!.slice(0, 12));
    const ref = { key: 'IT-1042', title: TITLE };
    const meta = { ticketId: 'tk1', channel: 'C0GEN' };
    const fields = ['account', 'device', 'order_id'].map((id) => ({ id, label: id, type: 'text' }));
    for (const [name, view] of Object.entries({
      escalate: escalateModal(locale, ref, [{ value: 'high', label: 'High' }, { value: 'urgent', label: nasty(200) }], meta),
      escalateTop: escalateModal(locale, ref, [], meta),
      edit: editModal(locale, ref, { title: TITLE, description: DESCRIPTION + DESCRIPTION }, meta),
      recategorise: recategoriseModal(config, locale, ref, { current: leaf, path: [] }, [], meta),
      recategoriseDeep: recategoriseModal(config, locale, ref, { current: leaf, path: ['fault', 'login'] }, [], { ...meta, path: ['fault', 'login'] }),
      recategoriseFields: recategoriseModal(config, locale, ref, { current: leaf, path: ['fault', 'login', leaf], fixed: true, intro: nasty(500) }, fields, meta),
    })) validModal(name, view);
  });
});
