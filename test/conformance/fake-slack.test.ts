import { FakeSlack, asSlackSends } from '../fakes/slack-server';

/** The fake Slack refuses what Slack refuses — each behaviour on its own, through its HTTP API. */

let fake: FakeSlack;
beforeEach(async () => {
  fake = new FakeSlack();
  await fake.start();
  fake.addUser({ id: 'UREQ', name: 'rita' });
  fake.addUser({ id: 'UOUT', name: 'olga' });
  fake.addChannel({ id: 'C0GEN', name: 'general', members: ['UBOT', 'UREQ'] });
  fake.addChannel({ id: 'C0NOBOT', name: 'nobot', members: ['UREQ'] });
});
afterEach(async () => {
  await fake.stop();
});

async function call(method: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(`${fake.apiUrl}${method}`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${fake.botToken}` }, body: JSON.stringify(args) });
  return (await res.json()) as Record<string, any>;
}

const pt = (text: string) => ({ type: 'plain_text', text });
const goodModal = { type: 'modal', callback_id: 'cb', title: pt('T'), close: pt('Close'), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }] };

describe('fake Slack', () => {
  it('validates Block Kit on chat.postMessage, chat.update, chat.postEphemeral (invalid_blocks with messages)', async () => {
    const bad = [{ type: 'header', text: pt('x'.repeat(151)) }];
    const posted = await call('chat.postMessage', { channel: 'C0GEN', text: 'x', blocks: bad });
    expect(posted).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(posted.response_metadata.messages[0]).toMatch(/max 150/);
    const ok = await call('chat.postMessage', { channel: 'C0GEN', text: 'x' });
    expect(ok.ok).toBe(true);
    expect(await call('chat.update', { channel: 'C0GEN', ts: ok.ts, text: 'x', blocks: bad })).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(await call('chat.postEphemeral', { channel: 'C0GEN', user: 'UREQ', text: 'x', blocks: bad })).toMatchObject({ ok: false, error: 'invalid_blocks' });
  });

  it('validates views on views.open / update / publish (invalid_arguments)', async () => {
    const trigger = fake.issueTriggerId();
    expect(await call('views.open', { trigger_id: trigger, view: { ...goodModal, title: pt('x'.repeat(25)) } })).toMatchObject({ ok: false, error: 'invalid_arguments' });
    const opened = await call('views.open', { trigger_id: fake.issueTriggerId(), view: goodModal });
    expect(opened.ok).toBe(true);
    expect(await call('views.update', { view_id: opened.view.id, view: { ...goodModal, private_metadata: 'x'.repeat(3001) } })).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect(await call('views.publish', { user_id: 'UREQ', view: goodModal })).toMatchObject({ ok: false, error: 'invalid_arguments' });
  });

  it('refuses a response_url message with bad blocks', async () => {
    const res = await fetch(fake.responseUrl('r1'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x', blocks: [{ type: 'section' }] }) });
    expect(res.status).toBe(400);
    expect(fake.responses).toHaveLength(0);
  });

  it('expires a trigger_id after 3 seconds, and takes it once', async () => {
    fake.triggerTtlMs = 0;
    const old = fake.issueTriggerId();
    await new Promise((r) => setTimeout(r, 5));
    expect(await call('views.open', { trigger_id: old, view: goodModal })).toMatchObject({ ok: false, error: 'expired_trigger_id' });
    fake.triggerTtlMs = 3_000;
    const fresh = fake.issueTriggerId();
    expect((await call('views.open', { trigger_id: fresh, view: goodModal })).ok).toBe(true);
    expect(await call('views.open', { trigger_id: fresh, view: goodModal })).toMatchObject({ ok: false, error: 'exchanged_trigger_id' });
  });

  it('checks scopes per method, and file_input needs files:read', async () => {
    fake.scopes.delete('users:read');
    expect(await call('users.info', { user: 'UREQ' })).toMatchObject({ ok: false, error: 'missing_scope', needed: 'users:read' });
    fake.scopes.delete('files:read');
    const withFiles = { ...goodModal, submit: pt('Send'), blocks: [{ type: 'input', label: pt('Files'), element: { type: 'file_input', action_id: 'f' } }] };
    expect(await call('views.open', { trigger_id: fake.issueTriggerId(), view: withFiles })).toMatchObject({ ok: false, error: 'missing_scope', needed: 'files:read' });
    fake.scopes.add('files:read');
    expect((await call('views.open', { trigger_id: fake.issueTriggerId(), view: withFiles })).ok).toBe(true);
  });

  it('starts with exactly the manifest scopes (files:read among them)', () => {
    expect(fake.scopes.has('files:read')).toBe(true);
    expect(fake.scopes.has('chat:write')).toBe(true);
  });

  it('answers conversations.replies from the thread parent, whatever ts is asked', async () => {
    const parent = fake.addMessage({ channel: 'C0GEN', text: 'parent', user: 'UREQ' });
    const reply = fake.addMessage({ channel: 'C0GEN', text: 'reply', user: 'UREQ', thread_ts: parent.ts });
    const byReply = await call('conversations.replies', { channel: 'C0GEN', ts: reply.ts, limit: 1 });
    expect(byReply.messages.map((m: { text: string }) => m.text)).toEqual(['parent']);
    const narrowed = await call('conversations.replies', { channel: 'C0GEN', ts: reply.ts, oldest: reply.ts, latest: reply.ts, inclusive: true, limit: 2 });
    expect(narrowed.messages.map((m: { text: string }) => m.text)).toEqual(['parent', 'reply']);
  });

  it('refuses postEphemeral to a user not in the channel, and where the bot is not', async () => {
    expect(await call('chat.postEphemeral', { channel: 'C0GEN', user: 'UOUT', text: 'x' })).toMatchObject({ ok: false, error: 'user_not_in_channel' });
    expect(await call('chat.postEphemeral', { channel: 'C0NOBOT', user: 'UREQ', text: 'x' })).toMatchObject({ ok: false, error: 'not_in_channel' });
    expect((await call('chat.postEphemeral', { channel: 'C0GEN', user: 'UREQ', text: 'x' })).ok).toBe(true);
  });

  it('answers files.info on an unknown file with file_not_found', async () => {
    expect(await call('files.info', { file: 'F0NOPE' })).toMatchObject({ ok: false, error: 'file_not_found' });
    fake.addFile({ id: 'F0YES', name: 'shot.png' });
    expect((await call('files.info', { file: 'F0YES' })).ok).toBe(true);
  });

  it('sends inbound text escaped as Slack does, keeping its own tokens', () => {
    expect(asSlackSends('a & b <c> <@U0123> <!channel> <https://x.y|link>')).toBe('a &amp; b &lt;c&gt; <@U0123> <!channel> <https://x.y|link>');
  });

  it('serves url_private only to the bot token with files:read; anyone else is sent to the sign-in page', async () => {
    fake.addFile({ id: 'F0LOG', name: 'log.txt', bytes: Buffer.from('the log') });
    const info = await call('files.info', { file: 'F0LOG' });
    expect(info).toMatchObject({ ok: true, file: { size: 7, url_private: expect.any(String), url_private_download: expect.any(String) } });
    const get = (auth?: string) => fetch(info.file.url_private_download, { headers: auth ? { authorization: auth } : {}, redirect: 'manual' });
    const ok = await get(`Bearer ${fake.botToken}`);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).toString()).toBe('the log');
    expect((await get()).status).toBe(302);
    expect((await get('Bearer xoxb-other')).status).toBe(302);
    fake.scopes.delete('files:read');
    expect((await get(`Bearer ${fake.botToken}`)).status).toBe(302);
    expect(await call('files.info', { file: 'F0LOG' })).toMatchObject({ ok: false, error: 'missing_scope' });
  });

  it('shares a completed upload as a reply in a thread (channel_id + thread_ts), only in a conversation the bot is in', async () => {
    const parent = await call('chat.postMessage', { channel: 'C0GEN', text: 'card' });
    const start = async () => {
      const up = await call('files.getUploadURLExternal', { filename: 'a.pdf', length: 3 });
      await fetch(up.upload_url, { method: 'POST', headers: { authorization: `Bearer ${fake.botToken}` }, body: 'abc' });
      return up.file_id as string;
    };
    expect(await call('files.completeUploadExternal', { files: [{ id: await start() }], channel_id: 'C0NOBOT' })).toMatchObject({ ok: false, error: 'not_in_channel' });
    const id = await start();
    expect(await call('files.completeUploadExternal', { files: [{ id, title: 'a.pdf' }], channel_id: 'C0GEN', thread_ts: parent.ts })).toMatchObject({ ok: true });
    expect(fake.messages.find((m) => m.files?.[0]?.id === id)).toMatchObject({ channel: 'C0GEN', thread_ts: parent.ts });
  });
});
