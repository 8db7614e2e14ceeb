import { createTimerHandler } from '../../src/app/timers';
import { Scheduler } from '../../src/jobs/scheduler';
import { URGENT_EVENT } from '../../src/feishu/sender';
import { FeishuHarness, findControl } from '../fakes/feishu-harness';

/** Each 加急 is its own outbox row: a failed SMS is retried alone, never re-sending the message or the in-app urgent. */

let h: FeishuHarness;
beforeEach(async () => {
  h = await FeishuHarness.start();
});
afterEach(async () => {
  await h.stop();
});

it('a failed 加急 SMS is retried alone: one message, one in-app urgent, one SMS', async () => {
  await h.say('ou_req', '/工单 忘记密码');
  const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
  const submit = findControl(h.fake.parsed(formMsg), (v) => v.a === 'submit')!;
  await h.click('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
  await h.flush();
  const scheduler = new Scheduler({ db: h.storage.db, dialect: h.storage.dialect, owner: 't', tickMs: 10, batchSize: 50, leaseMs: 60_000, time: h.time, logger: h.ctx.logger, handler: createTimerHandler(h.ctx) });
  h.time.advance(91 * 60 * 1000); // the urgent level (app + SMS) is at 150% of the 1h first response
  await scheduler.tickOnce();
  h.fake.failNext('PATCH', '/open-apis/im/v1/messages/*/urgent_sms', { status: 500, code: 99991400, msg: 'sms gateway busy' });
  await h.flush();

  const dmChat = h.fake.p2pChatOf('ou_boss');
  const dm = h.fake.messagesIn(dmChat).at(-1)!;
  expect(dm.urgent.map((u) => u.kind)).toEqual(['urgent_app']);
  const urgentRows = await h.storage.db.selectFrom('outbox').select(['event', 'status', 'payload', 'attempts']).where('event', '=', URGENT_EVENT).execute();
  expect(urgentRows.map((r) => [JSON.parse(r.payload).kind, r.status]).sort()).toEqual([
    ['app', 'sent'],
    ['sms', 'pending'],
  ]);

  // The retry, once its back-off has passed, sends the SMS only.
  const messagesBefore = h.fake.messagesIn(dmChat).length;
  h.time.advance(10 * 60 * 1000);
  await h.flush();
  expect(h.fake.messagesIn(dmChat)).toHaveLength(messagesBefore);
  expect(dm.urgent.map((u) => u.kind).sort()).toEqual(['urgent_app', 'urgent_sms']);
  const after = await h.storage.db.selectFrom('outbox').select(['status']).where('event', '=', URGENT_EVENT).execute();
  expect(after.every((r) => r.status === 'sent')).toBe(true);
});
