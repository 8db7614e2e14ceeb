import { changePriority } from '../../src/app';
import { createTimerHandler } from '../../src/app/timers';
import { Scheduler } from '../../src/jobs/scheduler';
import { CODE_RATE_LIMITED, type FakeMessage } from '../fakes/feishu-server';
import { FeishuHarness, cardText, findControl } from '../fakes/feishu-harness';

/** Outbound: rate limits, token expiry, card version order, the 14-day edit window, 加急 escalations. */

let h: FeishuHarness;
beforeEach(async () => {
  h = await FeishuHarness.start();
});
afterEach(async () => {
  await h.stop();
});

async function raise(): Promise<FakeMessage> {
  await h.say('ou_req', '/工单 忘记密码');
  const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
  const submit = findControl(h.fake.parsed(formMsg), (v) => v.a === 'submit')!;
  await h.click('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
  await h.flush();
  return h.fake.messagesIn('oc_help').at(-1)!;
}

function outboxRows() {
  return h.storage.db.selectFrom('outbox').selectAll().orderBy('created_at').orderBy('id').execute();
}

it('sends outbox rows with uuid = row id: a retried row does not post twice', async () => {
  await h.say('ou_req', '/工单 new');
  const cardRow = await seedCardRow();
  await h.flush();
  const post = h.fake.callsTo('POST', '/open-apis/im/v1/messages').find((c) => (c.body as { receive_id?: string }).receive_id === 'oc_help')!;
  expect((post.body as { uuid?: string }).uuid).toBe(cardRow.id);
  // Sending the card row again (as after a crash between send and mark) hits Feishu's uuid dedup.
  const again = await h.app.sender.send({ ...cardRow, attempts: 1 });
  expect(again.ok).toBe(true);
  expect(h.fake.messagesIn('oc_help')).toHaveLength(1);
});

it('backs off on a rate limit (HTTP 429 / 99991400) for as long as Feishu says, then sends once', async () => {
  await h.say('ou_req', '/工单 new');
  const cardRow = await seedCardRow();
  h.fake.failNext('POST', '/open-apis/im/v1/messages', { status: 429, code: CODE_RATE_LIMITED, msg: 'request trigger frequency limit', headers: { 'x-ogw-ratelimit-reset': '3' } });
  const limited = await h.app.sender.send(cardRow);
  expect(limited).toEqual({ ok: false, error: expect.stringContaining('99991400'), retryAfterMs: 3000 });
  expect(h.fake.messagesIn('oc_help')).toHaveLength(0);
  const retried = await h.app.sender.send(cardRow);
  expect(retried.ok).toBe(true);
  expect(h.fake.messagesIn('oc_help')).toHaveLength(1);
});

/** A ticket created through the form, its card.post row still pending. */
async function seedCardRow() {
  const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
  let current: unknown = h.fake.parsed(formMsg);
  for (const [lvl, option] of [[1, 'fault'], [2, 'login'], [3, 'wrong-password']] as const) {
    const res = await h.click('ou_req', formMsg.message_id, findControl(current, (v) => v.a === 'cat' && v.lvl === lvl), { option });
    current = res.body.card.data;
  }
  await h.click('ou_req', formMsg.message_id, findControl(current, (v) => v.a === 'submit'), { formValue: { priority: 'normal', title: 't', field_account: 'a' } });
  return (await outboxRows()).find((r) => r.event === 'card.post')!;
}

it('refreshes an expired tenant token (99991663) and retries the call once', async () => {
  await raise();
  const tokensBefore = h.fake.callsTo('POST', '/open-apis/auth/v3/tenant_access_token/internal').length;
  h.fake.expireTokens();
  const triage = h.fake.messagesIn('oc_help').at(-1)!;
  await h.click('ou_a1', triage.message_id, findControl(h.fake.parsed(triage), (v) => v.a === 'claim'));
  await h.flush();
  // Each call that met the expired token refreshed it once (parallel sends may each refresh).
  const tokensAfter = h.fake.callsTo('POST', '/open-apis/auth/v3/tenant_access_token/internal').length;
  expect(tokensAfter).toBeGreaterThan(tokensBefore);
  expect(h.fake.calls.filter((c) => c.path === '/open-apis/im/v1/messages/' + triage.message_id && c.method === 'PATCH')).toHaveLength(2);
  expect(cardText(h.fake.parsed(triage))).toContain('<at id=ou_a1></at>');
  const failed = await h.storage.db.selectFrom('outbox').select('id').where('status', '!=', 'sent').execute();
  expect(failed).toHaveLength(0);
});

it('never lets an old card update overwrite a newer one', async () => {
  const triage = await raise();
  await changePriority(h.ctx, { meta: { actorId: 'feishu:ou_a1', platform: 'feishu' }, ticket: 'HD-1001', priority: 'high' });
  await h.flush();
  const refreshes = (await outboxRows()).filter((r) => r.event === 'card.refresh');
  const patchesBefore = triage.patches;
  const contentBefore = triage.content;
  // Replay the oldest refresh (as a late retry would): the card already shows a newer version.
  const stale = { ...refreshes[0]!, ticket_version: 1 };
  expect((await h.app.sender.send(stale)).ok).toBe(true);
  expect(triage.patches).toBe(patchesBefore);
  expect(triage.content).toBe(contentBefore);
});

it('posts a fresh, linked card once the 14-day edit window has passed, and updates that one afterwards', async () => {
  const triage = await raise();
  h.time.advance(15 * 24 * 3600 * 1000);
  await changePriority(h.ctx, { meta: { actorId: 'feishu:ou_a1', platform: 'feishu' }, ticket: 'HD-1001', priority: 'high' });
  await h.flush();
  const cards = h.fake.messagesIn('oc_help').filter((m) => m.msg_type === 'interactive' && !m.root_id);
  expect(cards).toHaveLength(2);
  expect(triage.patches).toBe(0);
  const fresh = cards[1]!;
  expect(cardText(h.fake.parsed(fresh))).toContain('高');
  await changePriority(h.ctx, { meta: { actorId: 'feishu:ou_a1', platform: 'feishu' }, ticket: 'HD-1001', priority: 'urgent' });
  await h.flush();
  expect(fresh.patches).toBe(1);
  // A thread reply under the fresh card is still a note on the ticket.
  await h.say('ou_a1', '新卡片下的备注', { chatId: 'oc_help', rootId: fresh.message_id });
  expect(await h.storage.db.selectFrom('messages').select('body').where('visibility', '=', 'internal').execute()).toEqual([{ body: '新卡片下的备注' }]);
});

it('escalates to the supervisor with buttons that act and 加急 by app and SMS (opted in), never phone', async () => {
  const triage = await raise();
  const scheduler = new Scheduler({ db: h.storage.db, dialect: h.storage.dialect, owner: 't', tickMs: 10, batchSize: 50, leaseMs: 60_000, time: h.time, logger: h.ctx.logger, handler: createTimerHandler(h.ctx) });
  h.time.advance(91 * 60 * 1000); // first response due after 1h; the urgent level is at 150%
  await scheduler.tickOnce();
  await h.flush();
  const dm = h.fake.messagesIn(h.fake.p2pChatOf('ou_boss')).at(-1)!;
  expect(dm.msg_type).toBe('interactive');
  expect(cardText(h.fake.parsed(dm))).toContain('HD-1001');
  expect(dm.urgent.map((u) => u.kind).sort()).toEqual(['urgent_app', 'urgent_sms']);
  expect(dm.urgent[0]!.users).toEqual(['ou_boss']);
  // The department chat was told in the card's thread at 100%.
  expect(h.fake.messagesIn('oc_help').some((m) => m.root_id === triage.message_id)).toBe(true);
  const takeOver = await h.click('ou_boss', dm.message_id, findControl(h.fake.parsed(dm), (v) => v.a === 'take_over'));
  expect(takeOver.body.toast.type).toBe('success');
  const ticket = await h.storage.db.selectFrom('tickets').select('assignee_id').executeTakeFirstOrThrow();
  expect(ticket.assignee_id).toBe('feishu:ou_boss');
});
