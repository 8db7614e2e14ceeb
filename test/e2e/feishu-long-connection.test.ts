import { createFeishuApp } from '../../src/feishu/app';
import { storageFeishuPorts } from '../../src/wiring/feishu-ports';
import { FeishuHarness, LONG_CONNECTION_APP_ID, cardText, findControl } from '../fakes/feishu-harness';
import type { FakeMessage } from '../fakes/feishu-server';

/**
 * The long connection, the production default (FEISHU_MODE unset): the Lark SDK's WSClient asks the
 * fake's /callback/ws/endpoint for a socket URL, connects, and gets events and card callbacks as
 * protobuf frames; what the app answers travels back in the SDK's ack frames.
 */

let h: FeishuHarness;
beforeEach(async () => {
  h = await FeishuHarness.start({ longConnection: true });
});
afterEach(async () => {
  await h.stop();
});

const FORM = { priority: 'normal', title: '忘记密码', field_account: 'zhang3' };

function formCard(): FakeMessage {
  const cards = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).filter((m) => m.msg_type === 'interactive');
  expect(cards).toHaveLength(1);
  return cards[0]!;
}

it('connects with the app credentials over one socket, and pings in the frame format', async () => {
  expect(h.app.mode).toBe('ws');
  expect(h.url).toBe(''); // no HTTP server: nothing but the socket brings events in
  const endpoint = h.fake.callsTo('POST', '/callback/ws/endpoint');
  expect(endpoint).toHaveLength(1);
  expect(endpoint[0]!.body).toEqual({ AppID: LONG_CONNECTION_APP_ID, AppSecret: h.fake.appSecret });
  expect(h.fake.socketCount).toBe(1);
  expect(h.fake.wsConnections).toBe(1);
  expect(h.fake.wsRefused).toBe(0);
  // The SDK pings as soon as the socket opens; the fake decodes it and answers with a pong.
  await h.waitFor(() => h.fake.wsPings >= 1, 'a ping frame');
});

it('a wrong app secret gets no socket, and start() fails naming the variables', async () => {
  const other = createFeishuApp({
    ctx: h.ctx,
    env: { FEISHU_APP_ID: LONG_CONNECTION_APP_ID, FEISHU_APP_SECRET: 'not-the-secret' },
    ports: storageFeishuPorts(h.storage.db, () => h.time.now().toISOString()),
    domain: h.fake.url,
  });
  if (!other.enabled) throw new Error(other.reason);
  const before = h.fake.callsTo('POST', '/callback/ws/endpoint').length;
  await expect(other.start()).rejects.toThrow(/^Feishu: the long connection was refused \(.*\); check FEISHU_APP_ID, FEISHU_APP_SECRET and FEISHU_DOMAIN$/);
  expect(h.fake.callsTo('POST', '/callback/ws/endpoint').length).toBe(before + 1);
  expect(h.fake.wsConnections).toBe(1);
  expect(h.fake.socketCount).toBe(1);
  await other.stop();
});

it('a /工单 message pushed over the socket gets the new-ticket form to the user, once per event_id', async () => {
  const event = h.messageEvent('ou_req', '/工单 忘记密码');
  const ack = await h.push(event);
  expect(ack).toEqual({ status: 200, body: {} });
  const form = formCard();
  expect(findControl(h.fake.parsed(form), (v) => v.a === 'submit' && v.f === 'new')).toBeDefined();
  expect(cardText(h.fake.parsed(form))).toContain('新建工单');
  expect(cardText(h.fake.parsed(form))).toContain('账号(必填)'); // the default category's required field

  // Feishu re-pushes an event it thinks was lost: a new frame, the same event_id.
  expect(await h.push(event)).toEqual({ status: 200, body: {} });
  formCard(); // still one
  expect(h.wsAcks.map((a) => a.headers.type)).toEqual(['event', 'event']);
});

it('a form submitted by a card action frame raises one ticket and posts the triage card; a re-push has one effect', async () => {
  await h.say('ou_req', '/工单 忘记密码');
  const form = formCard();
  const submit = findControl(h.fake.parsed(form), (v) => v.a === 'submit' && v.f === 'new');
  expect(submit).toBeDefined();

  // card.action.trigger comes over the long connection as an `event` frame; the answer (toast and
  // new card) goes back base64-encoded in the ack, which is all Feishu shows the user.
  const action = h.actionEvent('ou_req', form.message_id, submit, { formValue: FORM });
  const first = await h.push(action);
  expect(first.status).toBe(200);
  expect(first.body.toast.type).toBe('success');
  expect(cardText(first.body.card.data)).toContain('HD-1001');
  expect(await h.count('tickets')).toBe(1);

  const repush = await h.push(action);
  expect(repush.status).toBe(200);
  expect(repush.body.toast.type).toBe('success');
  expect(await h.count('tickets')).toBe(1);

  await h.flush();
  const triage = h.fake.messagesIn('oc_help');
  expect(triage).toHaveLength(1);
  expect(triage[0]!.msg_type).toBe('interactive');
  expect(cardText(h.fake.parsed(triage[0]!))).toContain('HD-1001 · 忘记密码');
  expect(findControl(h.fake.parsed(triage[0]!), (v) => v.a === 'claim')).toBeDefined();
});

it('SDK 1.74.0 drops `card` frames (the old message-card callback) without an ack: card actions must come as events', async () => {
  await h.say('ou_req', '/工单 忘记密码');
  const form = formCard();
  const submit = findControl(h.fake.parsed(form), (v) => v.a === 'submit' && v.f === 'new');
  const action = h.actionEvent('ou_req', form.message_id, submit, { formValue: FORM });
  await expect(h.fake.pushEvent(action, { type: 'card', timeoutMs: 300 })).rejects.toThrow(/no ack/);
  expect(await h.count('tickets')).toBe(0);
});

it('app.stop() closes the socket and the client does not come back', async () => {
  await h.app.stop();
  await h.waitFor(() => h.fake.socketCount === 0, 'the socket to close');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(h.fake.wsConnections).toBe(1);
  expect(h.fake.callsTo('POST', '/callback/ws/endpoint')).toHaveLength(1);
  await expect(h.fake.pushEvent(h.messageEvent('ou_req', '/工单'))).rejects.toThrow(/no open long connection/);
});
