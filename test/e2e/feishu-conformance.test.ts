import { FeishuHarness, cardText, findControl } from '../fakes/feishu-harness';
import { CODE_CARD_INVALID, CODE_SCOPE_MISSING, type FakeMessage } from '../fakes/feishu-server';

/** Issue 19's Feishu defects, end to end against the stricter fake (card JSON 2.0 rules, scopes, bot in chat). */

let h: FeishuHarness;
beforeEach(async () => {
  h = await FeishuHarness.start();
});
afterEach(async () => {
  await h.stop();
});

async function submitTicket(): Promise<void> {
  await h.say('ou_req', '/工单 忘记密码');
  const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
  const submit = findControl(h.fake.parsed(formMsg), (v) => v.a === 'submit')!;
  await h.click('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
}

async function raise(): Promise<FakeMessage> {
  await submitTicket();
  await h.flush();
  return h.fake.messagesIn('oc_help').at(-1)!;
}

it("assign offers the department's members, not the members of the clicker's private chat", async () => {
  const triage = await raise();
  await h.click('ou_a1', triage.message_id, findControl(h.fake.parsed(triage), (v) => v.a === 'form' && v.f === 'assign'));
  const form = h.fake.messagesIn(h.fake.p2pChatOf('ou_a1')).at(-1)!;
  const json = JSON.stringify(h.fake.parsed(form));
  expect(json).not.toContain('select_person');
  expect(json).toContain('"value":"feishu:ou_a1"');
  expect(json).toContain('"value":"feishu:ou_a2"');
  await h.click('ou_a1', form.message_id, findControl(h.fake.parsed(form), (v) => v.a === 'submit' && v.f === 'assign'), { formValue: { assignee: 'feishu:ou_a2' } });
  expect((await h.storage.db.selectFrom('tickets').select('assignee_id').executeTakeFirstOrThrow()).assignee_id).toBe('feishu:ou_a2');
});

it('every form a card offers passes card JSON 2.0 (max_length ≤ 1,000), or the fake would refuse it', async () => {
  const triage = await raise();
  for (const f of ['reply', 'hand_off', 'return', 'resolve', 'assign']) {
    const control = findControl(h.fake.parsed(triage), (v) => v.a === 'form' && v.f === f);
    if (!control) continue;
    const before = h.fake.messagesIn(h.fake.p2pChatOf('ou_a1')).length;
    const res = await h.click('ou_a1', triage.message_id, control);
    expect([f, res.body?.toast?.type]).toEqual([f, 'info']);
    expect(h.fake.messagesIn(h.fake.p2pChatOf('ou_a1')).length).toBe(before + 1);
  }
  expect(h.fake.refusedCards).toEqual([]);
});

it('a card Feishu refuses (230099) and a missing scope (99991672) are permanent: not retried', async () => {
  await submitTicket();
  const row = (await h.storage.db.selectFrom('outbox').selectAll().execute()).find((r) => r.event === 'card.post')!;
  h.fake.failNext('POST', '/open-apis/im/v1/messages', { status: 400, code: CODE_CARD_INVALID, msg: 'Failed to create card content' });
  expect(await h.app.sender.send(row)).toMatchObject({ ok: false, permanent: true });
  h.fake.failNext('POST', '/open-apis/im/v1/messages', { status: 400, code: CODE_SCOPE_MISSING, msg: 'Access denied. One of the following scopes is required: [im:message]' });
  expect(await h.app.sender.send(row)).toMatchObject({ ok: false, permanent: true });
});

it('people are stored with their names: the manifest grants the contact scope contact/v3/users needs', async () => {
  await raise();
  const user = await h.storage.db.selectFrom('users').select(['name', 'email']).where('id', '=', 'feishu:ou_req').executeTakeFirstOrThrow();
  expect(user).toEqual({ name: '张三', email: 'ou_req@example.com' });
  expect(cardText(h.fake.parsed(h.fake.messagesIn('oc_help').at(-1)!))).toContain('HD-');
});
