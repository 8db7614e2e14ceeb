/**
 * Writes every Block Kit payload and Feishu card the app builds (from the worst-case inputs of the
 * conformance suite, both languages) as JSON files, for the manual checks in
 * docs/real-platform-checklist.md: paste them into Slack's Block Kit Builder and Feishu's CardKit
 * builder, or post them to a test channel / chat.
 *
 *   npx tsx test/conformance/dump-views.ts [out-dir]     (default: ./platform-views)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locale } from '../../src/domain/types';
import { newTicketForm, priorityOptions } from '../../src/feishu/forms';
import { feishuForm } from '../support/forms';
import * as F from '../../src/feishu/presenters';
import * as S from '../../src/slack/presenters';
import { VIEW } from '../../src/slack/ids';
import { deflectOffer } from '../../src/chat/deflection';
import { feishuTestConfig } from '../fakes/feishu-harness';
import { slackTestConfig } from '../fakes/slack-harness';
import { DESCRIPTION, NOW, TITLE, options, withManyCategories, worstCard, worstList } from './worst-case';

const out = process.argv[2] ?? 'platform-views';
mkdirSync(join(out, 'slack'), { recursive: true });
mkdirSync(join(out, 'feishu'), { recursive: true });
const write = (dir: string, name: string, value: unknown) => writeFileSync(join(out, dir, `${name}.json`), JSON.stringify(value, null, 2));

const slackConfig = withManyCategories(slackTestConfig());
const feishuConfig = withManyCategories(feishuTestConfig());
async function dumpAll(): Promise<void> {
for (const locale of ['en', 'zh-CN'] as Locale[]) {
  const card = worstCard(slackConfig, 'no-code', locale);
  const ref = { key: 'IT-1042', title: TITLE };
  const meta = { ticketId: 'tk1', channel: 'C0IT', clock: 'resolution' };
  const many = options(150);
  const items = worstList(locale);
  const slack: Record<string, unknown> = {
    'message.ticket-card': S.ticketCard(card),
    'message.ticket-card-no-actions': S.ticketCard(card, { withActions: false }),
    'message.notice-confirm': S.noticeMessage(DESCRIPTION, { locale, ticketId: 'tk1', actions: ['confirm', 'reopen'] }),
    'message.notice-survey': S.noticeMessage(DESCRIPTION, { locale, ticketId: 'tk1', actions: ['survey'] }),
    'message.notice-escalation': S.noticeMessage(DESCRIPTION, { locale, ticketId: 'tk1', actions: ['take_over', 'reassign', 'extend', 'open'], clock: 'resolution' }),
    'message.answered-notice': S.answeredNotice(DESCRIPTION, TITLE),
    'message.list': S.listMessage([{ title: TITLE, items }], locale),
    'message.file-share': { blocks: S.fileShareBlocks(`${DESCRIPTION}\n`.repeat(5), 'report_1') },
    'home.app-home': S.homeView({ locale, assigned: items, requested: items, overdue: items, queues: [{ department: 'IT', items }], stats: [{ department: 'IT', line: DESCRIPTION }], updated: { iso: NOW.toISOString(), text: '2026-03-02 14:00' } }),
    'modal.new-ticket': S.newTicketModal({ config: slackConfig, locale, metadata: { path: [] }, draft: { title: TITLE, description: DESCRIPTION } }),
    'modal.new-ticket-leaf': S.newTicketModal({ config: slackConfig, locale, metadata: { path: ['fault', 'login', 'no-code'] } }),
    'modal.missing-fields': S.missingFieldsModal({ config: slackConfig, locale, title: TITLE, fields: ['account', 'device'], metadata: { path: [], categoryId: 'no-code', title: TITLE, description: DESCRIPTION } }),
    'modal.assign': S.assignModal(locale, ref, many, meta),
    'modal.assign-nobody': S.assignModal(locale, ref, [], meta),
    'modal.priority': S.priorityModal(locale, { ...ref, priority: 'low' }, meta),
    'modal.reply': S.replyModal(locale, ref, many, meta),
    'modal.request-info': S.replyModal(locale, ref, many, meta, VIEW.requestInfo),
    'modal.hand-off': S.handOffModal(locale, ref, many, meta),
    'modal.hand-off-nowhere': S.handOffModal(locale, ref, [], meta),
    'modal.return': S.returnModal(locale, ref, many, meta),
    'modal.resolve': S.resolveModal(locale, ref, meta),
    'modal.close': S.closeModal(locale, ref, meta),
    'modal.extend': S.extendModal(locale, ref, ['resolution', 'first_response'], meta),
    'modal.survey-comment': S.rateCommentModal(locale, ref, meta),
    'modal.save-answer': S.saveAnswerModal(locale, ref, { title: TITLE, body: DESCRIPTION }, meta),
    'message.kb-offer': S.deflectMessage(deflectOffer(locale, 'd1', [0, 1, 2].map((i) => ({ id: `a${i}`, title: `${TITLE} ${i}`, excerpt: DESCRIPTION.slice(0, 160) })))),
    'message.ticket-card-resolved': S.ticketCard(worstCard(slackConfig, 'no-code', locale, { state: 'resolved' })),
  };
  for (const [name, value] of Object.entries(slack)) write('slack', `${name}.${locale}`, value);

  const fcard = worstCard(feishuConfig, 'no-code', locale);
  const fmany = many.map((o) => ({ value: o.id, label: o.name }));
  const ticket = { id: 'tk1', key: 'HD-1042', title: TITLE, departmentId: 'finance' };
  const feishu: Record<string, unknown> = {
    'ticket-card': F.ticketCard(fcard, { interactive: true, priorities: priorityOptions(locale) }),
    'ticket-card-elsewhere': F.ticketCard(fcard, { interactive: false, priorities: priorityOptions(locale) }),
    'new-ticket': F.newTicketCard(newTicketForm(feishuConfig, locale, { formId: 'f1', path: [], prefill: { title: TITLE, description: DESCRIPTION } })),
    'new-ticket-leaf': F.newTicketCard(newTicketForm(feishuConfig, locale, { formId: 'f1', path: ['fault', 'login', 'no-code'], prefill: { title: TITLE, description: DESCRIPTION } })),
    notification: F.notificationCard(locale, DESCRIPTION, 'tk1', 7, ['confirm', 'reopen', 'take_over', 'reassign', 'extend', 'open'], true),
    answered: F.answeredCard(DESCRIPTION, TITLE),
    done: F.doneCard(TITLE),
    list: F.listCard(locale, TITLE, [{ title: TITLE, items: worstList(locale, 50) }], 100),
    info: F.infoCard(TITLE, [DESCRIPTION]),
    picture: F.imageNoticeCard(`${TITLE}\n${DESCRIPTION}`, 'img_v2_REPLACE_WITH_AN_UPLOADED_KEY', TITLE),
  };
  feishu['kb-offer'] = F.deflectCard(deflectOffer(locale, 'd1', [0, 1, 2].map((i) => ({ id: `a${i}`, title: `${TITLE} ${i}`, excerpt: DESCRIPTION.slice(0, 160) }))));
  feishu['ticket-card-resolved'] = F.ticketCard(worstCard(feishuConfig, 'no-code', locale, { state: 'resolved' }), { interactive: true, priorities: priorityOptions(locale) });
  for (const kind of ['reply', 'assign', 'hand_off', 'return', 'resolve', 'extend', 'survey', 'save_answer'] as const)
    feishu[`form-${kind}`] = F.actionFormCard(await feishuForm(feishuConfig, locale, kind, { formId: 'f2', ticket, runningClocks: ['resolution'], choices: { assignees: fmany } }));
  for (const [name, value] of Object.entries(feishu)) write('feishu', `${name}.${locale}`, value);
}
}
void dumpAll().then(() => process.stdout.write(`wrote the views to ${out}/slack and ${out}/feishu\n`));
