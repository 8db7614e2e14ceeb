import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { FEISHU_EVENTS_PATH } from '../../src/feishu/app';
import { buildFeishuRequest } from '../../src/feishu/verify';
import { createWebServer } from '../../src/web/server';
import { t } from '../../src/chat/i18n';
import { FeishuHarness, SECRETS } from '../fakes/feishu-harness';
import { SlackHarness } from '../fakes/slack-harness';

/** No stack trace, no absolute path, no Express HTML page: what an error answer must never contain. */
function expectNoDetails(text: string): void {
  expect(text).not.toMatch(/\n\s+at |\/work\/|node_modules|<html|<pre>|Error:/i);
}

describe('HTTP errors on /feishu/events are JSON without details, before any signature check', () => {
  let h: FeishuHarness;
  beforeAll(async () => {
    h = await FeishuHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  async function raw(body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string; type: string | null }> {
    const res = await fetch(h.url + FEISHU_EVENTS_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
  }

  it('a body over 1 MB: 413 body_too_large', async () => {
    const r = await raw('x'.repeat(1024 * 1024 + 10), {});
    expect(r.status).toBe(413);
    expect(r.type).toContain('application/json');
    expect(JSON.parse(r.text)).toEqual({ error: 'body_too_large' });
    expectNoDetails(r.text);
  });

  it('a broken gzip body: 400 malformed_body', async () => {
    const r = await raw(Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({ error: 'malformed_body' });
    expectNoDetails(r.text);
  });

  it('an unknown Content-Encoding: 415 unsupported_content_encoding', async () => {
    const r = await raw(Buffer.from('{}'), { 'content-encoding': 'zstd-bogus' });
    expect(r.status).toBe(415);
    expect(JSON.parse(r.text)).toEqual({ error: 'unsupported_content_encoding' });
    expectNoDetails(r.text);
  });

  it('a well-formed gzip body is still verified and answered', async () => {
    const req = buildFeishuRequest(SECRETS, h.envelope('im.chat.member.user.added_v1', { chat_id: 'oc_nowhere', users: [] }), { timestampSec: Math.floor(h.time.now().getTime() / 1000) });
    // The signature covers the bytes after decoding; gzip only wraps them in transit.
    const r = await raw(gzipSync(req.body), { ...req.headers, 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
  });

  it('a signed card action whose form value is an object is answered, never stored as "[object Object]"', async () => {
    const started = Date.now();
    const res = await h.post(
      h.actionEvent('ou_req', 'om_none', { a: 'submit', f: 'new', fid: 'f-object', cat: 'broken-screen' }, { formValue: { title: { text: 'nested' }, description: ['a', 'b'] } }),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(200);
    expect(res.body.toast).toEqual({ type: 'error', content: t('zh-CN', 'error.malformed_request') });
    const titles = await h.storage.db.selectFrom('tickets').select(['title', 'description']).execute();
    for (const t of titles) expect(`${t.title} ${t.description}`).not.toContain('[object Object]');
  });
});

describe('Slack: signed but odd requests', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  const commandBody = (text: string, trigger: string) =>
    new URLSearchParams({ team_id: h.fake.teamId, channel_id: 'C0GEN', user_id: 'UREQ', command: '/ticket', text, trigger_id: trigger, response_url: h.fake.responseUrl(trigger) }).toString();

  it('refuses requests dated more than five minutes in the future or the past (401, nothing stored)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const before = await h.storage.db.selectFrom('tickets').select('id').execute();
    const future = await h.post(commandBody('printer on fire', 'tr-future'), 'application/x-www-form-urlencoded', { timestamp: now + 6 * 60 });
    expect(future.status).toBe(401);
    expectNoDetails(await future.text());
    const past = await h.post(commandBody('printer on fire', 'tr-past'), 'application/x-www-form-urlencoded', { timestamp: now - 6 * 60 });
    expect(past.status).toBe(401);
    await h.idle();
    expect(await h.storage.db.selectFrom('tickets').select('id').execute()).toHaveLength(before.length);
    // A small skew either way is fine.
    const skewed = await h.post(commandBody('printer skewed', 'tr-skew'), 'application/x-www-form-urlencoded', { timestamp: now + 60 });
    expect(skewed.status).toBe(200);
  });

  it.each([
    ['payload=null', new URLSearchParams({ payload: 'null' }).toString()],
    ['a number as payload', new URLSearchParams({ payload: '42' }).toString()],
    ['block_actions with no actions', new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: 'UREQ' }, team: { id: 'T0TEST' }, trigger_id: 'tr-empty', actions: [] }) }).toString()],
    [
      'a view whose metadata has a non-string title',
      new URLSearchParams({
        payload: JSON.stringify({
          type: 'view_submission',
          user: { id: 'UREQ' },
          team: { id: 'T0TEST' },
          trigger_id: 'tr-view',
          view: { id: 'V1', callback_id: 'tb_new_ticket', private_metadata: JSON.stringify({ title: { evil: true }, path: 7 }), state: { values: {} } },
        }),
      }).toString(),
    ],
  ])('%s: acked (200) within 3 s, never a 500', async (_name, body) => {
    const started = Date.now();
    const res = await h.post(body, 'application/x-www-form-urlencoded');
    const text = await res.text();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(200);
    expectNoDetails(text);
    await h.idle();
  });
});

describe('Slack: a malformed payload gets a localised answer', () => {
  it('a block action whose value is not text is acked and answered through response_url', async () => {
    const h = await SlackHarness.start();
    try {
      const payload = {
        type: 'block_actions', user: { id: 'UREQ' }, team: { id: 'T0TEST' }, trigger_id: 'tr-bad', response_url: h.fake.responseUrl('bad-action'),
        container: { type: 'message', message_ts: '1.1', channel_id: 'C0GEN' }, channel: { id: 'C0GEN' },
        actions: [{ action_id: 'tb_claim', action_ts: '2.2', value: { not: 'text' }, type: 'button' }],
      };
      const res = await h.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
      expect(res.status).toBe(200);
      await h.idle();
      for (let i = 0; i < 100 && h.responseTexts('bad-action').length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(h.responseTexts('bad-action').join('')).toContain(t('en', 'error.malformed_request').slice(0, 30));
    } finally {
      await h.stop();
    }
  });
});

describe('Slack: a view whose metadata has the wrong shape', () => {
  it('is answered in the modal, in the desk\'s language, within 3 s', async () => {
    const h = await SlackHarness.start();
    try {
      const payload = {
        type: 'view_submission', user: { id: 'UREQ' }, team: { id: 'T0TEST' }, trigger_id: 'tr-meta',
        view: { id: 'V9', hash: 'h', callback_id: 'tb_view_new_ticket', private_metadata: JSON.stringify({ path: [], title: { evil: true } }), state: { values: {} } },
      };
      const started = Date.now();
      const res = await h.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { response_action?: string; view?: unknown };
      expect(body.response_action).toBe('update');
      expect(JSON.stringify(body.view)).toContain(t('en', 'error.malformed_request'));
      await h.idle();
    } finally {
      await h.stop();
    }
  });
});

describe('/metrics and /healthz with a token', () => {
  it('needs the token for metrics and for health details; unknown paths get JSON 404s', async () => {
    const web = createWebServer({
      logger: pino({ level: 'silent' }),
      metricsToken: 's3cret-token',
      health: { database: async () => ({ ok: true, dialect: 'sqlite' }), platforms: () => ({ slack: { on: false, reason: 'x' } }), scheduler: () => ({ state: 'running' }) },
      metrics: async () => 'ticketbot_up 1\n',
    });
    web.finish();
    const { server, port } = await web.listen(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('ticketbot_up 1');
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });
      const details = await (await fetch(`${base}/healthz`, { headers: { authorization: 'Bearer s3cret-token' } })).json();
      expect(details).toMatchObject({ ok: true, database: { ok: true }, scheduler: { state: 'running' } });
      const missing = await fetch(`${base}/nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: 'not_found' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
