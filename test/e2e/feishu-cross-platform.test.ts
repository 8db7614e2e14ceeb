import { claimTicket, createTicket, ensureUser, handOff, resolveTicket } from '../../src/app';
import { FeishuHarness, cardText, findControl } from '../fakes/feishu-harness';

/**
 * A ticket raised in Slack, handed off to a department that works in Feishu: the leg card shows
 * in Feishu, the Feishu agent's public reply reaches the Slack requester, notes stay internal,
 * the return and the resolution flow back.
 */

let h: FeishuHarness;
beforeEach(async () => {
  h = await FeishuHarness.start();
});
afterEach(async () => {
  await h.stop();
});

async function slackRows(where: { event?: string; target?: string } = {}) {
  let q = h.storage.db.selectFrom('outbox').selectAll().where('platform', '=', 'slack');
  if (where.event) q = q.where('event', '=', where.event);
  if (where.target) q = q.where('target_id', '=', where.target);
  return q.orderBy('created_at').orderBy('id').execute();
}

it('Slack requester → handoff to Feishu finance → Feishu reply reaches Slack; note stays internal; return and resolve flow back', async () => {
  const requester = await ensureUser(h.ctx, { platform: 'slack', workspace: 'T1', platformUserId: 'U_REQ', name: 'Sam', locale: 'en' });
  const slackAgent = await ensureUser(h.ctx, { platform: 'slack', workspace: 'T1', platformUserId: 'UIT1', name: 'Ivy' });
  const created = await createTicket(h.ctx, { meta: { actorId: requester, platform: 'slack', eventKey: 'slack:event:Ev1' }, categoryId: 'broken-screen', title: 'Screen cracked', description: 'Need a refund for the repair' });
  if (!created.ok) throw new Error(created.error.code);
  const key = created.value.ticket.key;
  expect((await h.flush())).toBe(0); // nothing for Feishu yet: IT is on Slack
  expect(await slackRows({ event: 'card.post', target: 'C0IT' })).toHaveLength(1);

  const handed = await handOff(h.ctx, { meta: { actorId: slackAgent, platform: 'slack' }, ticket: key, toDepartmentId: 'finance', reason: 'refund of the repair' });
  expect(handed.ok).toBe(true);
  await h.flush();
  const leg = h.fake.messagesIn('oc_fin').find((m) => m.msg_type === 'interactive')!;
  const legCard = h.fake.parsed(leg);
  expect(cardText(legCard)).toContain(key);
  expect(cardText(legCard)).toContain('Sam'); // the Slack requester, by name
  expect(cardText(legCard)).toContain('信息技术部'); // handed off from IT

  // The Feishu agent accepts (claims) and replies publicly from the card.
  const claim = await h.click('ou_f1', leg.message_id, findControl(legCard, (v) => v.a === 'claim'));
  expect(claim.body.toast.type).toBe('success');
  await h.click('ou_f1', leg.message_id, findControl(legCard, (v) => v.a === 'form' && v.f === 'reply'));
  const form = h.fake.messagesIn(h.fake.p2pChatOf('ou_f1')).at(-1)!;
  const sent = await h.click('ou_f1', form.message_id, findControl(h.fake.parsed(form), (v) => v.a === 'submit'), { formValue: { body: 'We will refund 300 CNY' } });
  expect(sent.body.toast.type).toBe('success');
  const replyRows = await slackRows({ event: 'ticket.reply', target: 'U_REQ' });
  expect(replyRows).toHaveLength(1);
  expect(replyRows[0]!.target_kind).toBe('user');
  expect(replyRows[0]!.locale).toBe('en');
  expect(JSON.parse(replyRows[0]!.payload)).toMatchObject({ messageKey: 'event.ticket.reply', thread: 'requester', params: { body: 'We will refund 300 CNY' } });

  // A note in the leg card's thread stays internal: nothing for the requester on either platform.
  const before = (await slackRows({ target: 'U_REQ' })).length;
  await h.say('ou_f1', 'internal: check the invoice first', { chatId: 'oc_fin', rootId: leg.message_id });
  expect(await h.storage.db.selectFrom('messages').select('body').where('visibility', '=', 'internal').execute()).toEqual([{ body: 'internal: check the invoice first' }]);
  expect((await slackRows({ target: 'U_REQ' })).length).toBe(before);
  expect(JSON.stringify(await slackRows())).not.toContain('check the invoice');

  // Finance returns it: IT's Slack channel is told, the Feishu leg card stops offering actions.
  await h.click('ou_f1', leg.message_id, findControl(legCard, (v) => v.a === 'form' && v.f === 'return'));
  const returnForm = h.fake.messagesIn(h.fake.p2pChatOf('ou_f1')).at(-1)!;
  const returned = await h.click('ou_f1', returnForm.message_id, findControl(h.fake.parsed(returnForm), (v) => v.a === 'submit'), { formValue: { reason: 'repair is not a refund' } });
  expect(returned.body.toast.type).toBe('success');
  expect(await slackRows({ event: 'ticket.leg_returned', target: 'C0IT' })).toHaveLength(1);
  await h.flush();
  expect(cardText(h.fake.parsed(leg))).toContain('请在当前负责部门的卡片上操作');
  expect(findControl(h.fake.parsed(leg), (v) => v.a === 'claim' || v.a === 'form')).toBeUndefined();

  // IT resolves in Slack: the requester is asked in Slack; the Feishu leg card shows the new state.
  expect((await claimTicket(h.ctx, { meta: { actorId: slackAgent, platform: 'slack' }, ticket: key })).ok).toBe(true);
  const resolved = await resolveTicket(h.ctx, { meta: { actorId: slackAgent, platform: 'slack' }, ticket: key, note: 'Screen replaced' });
  expect(resolved.ok).toBe(true);
  expect(await slackRows({ event: 'ticket.resolved', target: 'U_REQ' })).toHaveLength(1);
  await h.flush();
  expect(cardText(h.fake.parsed(leg))).toContain('已解决');
});
