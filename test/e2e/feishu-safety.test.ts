import { encryptFeishu, feishuSignature } from '../../src/feishu/verify';
import { FeishuHarness, SECRETS, cardText, findControl } from '../fakes/feishu-harness';

/** Inbound safety in HTTP mode: forged, stale and undecryptable requests; re-pushes; double effects; echo. */

let h: FeishuHarness;
afterEach(async () => {
  await h.stop();
});

async function nothingStored(): Promise<void> {
  expect(await h.count('inbox')).toBe(0);
  expect(await h.count('tickets')).toBe(0);
  expect(await h.count('messages')).toBe(0);
  expect(h.fake.callsTo('POST', '/open-apis/im/v1/messages')).toHaveLength(0);
}

describe('requests that are not from Feishu', () => {
  beforeEach(async () => {
    h = await FeishuHarness.start();
  });

  it('answers the URL challenge, encrypted with our key and carrying our token', async () => {
    const res = await h.post({ challenge: 'ch-123', token: SECRETS.verificationToken, type: 'url_verification' });
    expect(res).toEqual({ status: 200, body: { challenge: 'ch-123' } });
    const bad = await h.post({ challenge: 'ch-123', token: 'guess', type: 'url_verification' });
    expect(bad.status).toBe(401);
  });

  it('rejects a forged signature with 401 and stores nothing', async () => {
    const res = await h.post(h.messageEvent('ou_req', '/工单 new'), { secrets: { ...SECRETS, encryptKey: 'attacker-key' } });
    expect(res.status).toBe(401);
    await nothingStored();
  });

  it('rejects a replay older than five minutes with 401 and stores nothing', async () => {
    const stale = Math.floor(h.time.now().getTime() / 1000) - 6 * 60;
    expect((await h.say('ou_req', 'x')).status).toBe(200); // a fresh one works
    const replay = await h.post(h.messageEvent('ou_a1', '内部备注'), { timestampSec: stale });
    expect(replay.status).toBe(401);
    expect(await h.count('messages')).toBe(0);
  });

  it('rejects a signed body that does not decrypt, and a wrong verification token', async () => {
    const body = JSON.stringify({ encrypt: encryptFeishu('not-our-key', JSON.stringify(h.messageEvent('ou_req', '/工单'))) });
    const ts = String(Math.floor(h.time.now().getTime() / 1000));
    const headers = { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': 'n1', 'x-lark-signature': feishuSignature(ts, 'n1', SECRETS.encryptKey, body) };
    expect((await h.post({}, { rawBody: body, headers })).status).toBe(401);
    const wrongToken = h.messageEvent('ou_req', '/工单');
    (wrongToken.header as { token: string }).token = 'forged';
    expect((await h.post(wrongToken)).status).toBe(401);
    await nothingStored();
  });
});

describe('re-pushes and double clicks', () => {
  beforeEach(async () => {
    h = await FeishuHarness.start();
  });

  async function raise(): Promise<{ triageId: string }> {
    await h.say('ou_req', '/工单 忘记密码');
    const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
    const submit = findControl(h.fake.parsed(formMsg), (v) => v.a === 'submit')!;
    const event = h.actionEvent('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
    const first = await h.post(event);
    const repush = await h.post(event);
    const doubleSubmit = await h.click('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
    for (const r of [first, repush, doubleSubmit]) expect(r.body.toast.type).toBe('success');
    expect(await h.count('tickets')).toBe(1);
    await h.flush();
    return { triageId: h.fake.messagesIn('oc_help').at(-1)!.message_id };
  }

  it('a form submitted twice (re-push or double click) raises one ticket and posts one card', async () => {
    await raise();
    expect(h.fake.messagesIn('oc_help')).toHaveLength(1);
  });

  it('a re-pushed thread note is stored once', async () => {
    const { triageId } = await raise();
    const note = h.messageEvent('ou_a1', '内部备注一条', { chatId: 'oc_help', rootId: triageId });
    for (let i = 0; i < 3; i++) expect((await h.post(note)).status).toBe(200);
    const rows = await h.storage.db.selectFrom('messages').select('body').where('visibility', '=', 'internal').execute();
    expect(rows).toHaveLength(1);
  });

  it('ignores the bot\'s own messages (no echo loop)', async () => {
    const { triageId } = await raise();
    const echo = h.messageEvent('ou_a1', 'mirrored text', { chatId: 'oc_help', rootId: triageId });
    (echo.event as { sender: { sender_type: string } }).sender.sender_type = 'app';
    await h.post(echo);
    expect(await h.storage.db.selectFrom('messages').select('id').execute()).toHaveLength(0);
  });

  it('a priority change by select is applied once per card version and patched once', async () => {
    const { triageId } = await raise();
    const triage = h.fake.message(triageId)!;
    const select = findControl(h.fake.parsed(triage), (v) => v.a === 'priority')!;
    await h.click('ou_a1', triageId, select, { option: 'urgent' });
    await h.click('ou_a1', triageId, select, { option: 'urgent' });
    const changes = await h.storage.db.selectFrom('audit_events').select('id').where('action', '=', 'priority_changed').execute();
    expect(changes).toHaveLength(1);
    await h.flush();
    expect(triage.patches).toBe(1);
    expect(cardText(h.fake.parsed(triage))).toContain('紧急');
  });
});

describe('the 3-second ack', () => {
  /** Raises a ticket through the form and returns its card in the department chat. */
  async function raiseTicketCard() {
    await h.say('ou_req', '/工单 忘记密码');
    const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
    const submit = findControl(h.fake.parsed(formMsg), (v) => v.a === 'submit')!;
    await h.click('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
    await h.flush();
    const triage = h.fake.messagesIn('oc_help').at(-1)!;
    return triage;
  }

  it('answers a card action that takes too long with a "working on it" toast and finishes after', async () => {
    h = await FeishuHarness.start({ ackBudgetMs: 100 });
    const triage = await raiseTicketCard();
    // The supervisor is seen for the first time: their contact lookup is slow today.
    h.fake.delay('GET', '/open-apis/contact/v3/users/*', 400);
    const started = Date.now();
    const res = await h.click('ou_boss', triage.message_id, findControl(h.fake.parsed(triage), (v) => v.a === 'claim'));
    expect(Date.now() - started).toBeLessThan(350);
    expect(res.body.toast.content).toBe('正在处理…');
    const claimed = () => h.storage.db.selectFrom('tickets').select('assignee_id').executeTakeFirstOrThrow();
    for (let i = 0; i < 100 && (await claimed()).assignee_id === null; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await claimed()).assignee_id).toBe('feishu:ou_boss');
  });

  it('acks at once while every work slot is busy, and does the queued work after', async () => {
    h = await FeishuHarness.start({ ackBudgetMs: 2000, workConcurrency: 1 });
    const triage = await raiseTicketCard();
    // The supervisor's first action waits on a slow contact lookup and holds the only slot.
    h.fake.delay('GET', '/open-apis/contact/v3/users/*', 600);
    const slow = h.click('ou_boss', triage.message_id, findControl(h.fake.parsed(triage), (v) => v.a === 'claim'));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const queued = await h.click('ou_a1', triage.message_id, findControl(h.fake.parsed(triage), (v) => v.a === 'priority')!, { option: 'urgent' });
    expect(Date.now() - started).toBeLessThan(400);
    expect(queued.body.toast.content).toBe('正在处理…');
    expect((await slow).status).toBe(200);
    const ticket = () => h.storage.db.selectFrom('tickets').select(['assignee_id', 'priority']).executeTakeFirstOrThrow();
    for (let i = 0; i < 200 && (await ticket()).priority !== 'urgent'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await ticket()).toEqual({ assignee_id: 'feishu:ou_boss', priority: 'urgent' });
  });
});
