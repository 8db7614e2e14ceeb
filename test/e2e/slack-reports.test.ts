import { insertOutbox, pendingOutboxRow } from '../../src/storage/repos/journal';
import type { OutboxRow } from '../../src/storage/tables';
import { renderVolumeChartSvg, svgToPng } from '../../src/reports/chart';
import { UPLOAD_METHOD, type FakeMessage } from '../fakes/slack-server';
import { SlackHarness, blockText } from '../fakes/slack-harness';

/**
 * Reports on Slack: the weekly digest (text and chart in one message, delivered once even when an
 * answer is lost), anomaly DMs without a ticket, and `/ticket dashboard` links.
 */

const PNG = svgToPng(
  renderVolumeChartSvg(
    [
      { day: '2026-11-17', created: 4, resolved: 2 },
      { day: '2026-11-18', created: 6, resolved: 5 },
      { day: '2026-11-19', created: 3, resolved: 4 },
    ],
    { title: 'Tickets', created: 'Created', resolved: 'Resolved' },
    { width: 320, height: 160 },
  ),
);

const DIGEST_TEXT = 'Weekly digest · 16–22 Nov\nCreated 13 · Resolved 11\nR&D backlog: 3 < 5';
/** The text as Slack mrkdwn: &, < and > escaped. */
const DIGEST_MRKDWN = 'Weekly digest · 16–22 Nov\nCreated 13 · Resolved 11\nR&amp;D backlog: 3 &lt; 5';

let seq = 0;
async function insertRow(h: SlackHarness, r: Pick<OutboxRow, 'event' | 'target_kind' | 'target_id' | 'payload'> & { locale?: string }): Promise<string> {
  seq += 1;
  const id = `rep${seq}`;
  const now = h.time.now().toISOString();
  await insertOutbox(h.storage.db, [pendingOutboxRow({ id, idempotency_key: `${r.event}:${seq}`, platform: 'slack', locale: 'en', order_key: `report:slack:${r.target_id}`, ...r }, now)]);
  return id;
}

function digestPayload(text = DIGEST_TEXT, png: Buffer = PNG): string {
  return JSON.stringify({
    messageKey: 'notice.text',
    params: { text },
    thread: 'none',
    image: { fileName: 'tickets-2026-11-23.png', pngBase64: png.toString('base64'), altKey: 'report.weekly_digest_alt' },
  });
}

const insertDigest = (h: SlackHarness, channel: string, opts: { locale?: string; payload?: string } = {}) =>
  insertRow(h, { event: 'report.weekly_digest', target_kind: 'channel', target_id: channel, payload: opts.payload ?? digestPayload(), locale: opts.locale ?? 'en' });

const row = (h: SlackHarness, id: string) => h.storage.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** Messages a row produced: tagged by metadata (chat.postMessage) or by its first block's id (file share). */
function messagesOf(h: SlackHarness, outboxId: string): FakeMessage[] {
  return h.fake.messages.filter((m) => m.metadata?.event_payload.outbox_id === outboxId || JSON.stringify(m.blocks ?? []).includes(`"block_id":"ticketbot_outbox:${outboxId}"`));
}

describe('Slack weekly digest with its chart', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('uploads the PNG once and posts one channel message with the text and the image', async () => {
    const id = await insertDigest(h, 'C0IT');
    expect(await h.deliver()).toBe(1);

    const [getUrl] = h.fake.callsOf('files.getUploadURLExternal');
    expect(h.fake.callsOf('files.getUploadURLExternal')).toHaveLength(1);
    expect(getUrl!.token).toBe(h.fake.botToken);
    expect(getUrl!.args).toMatchObject({ filename: 'tickets-2026-11-23.png', length: String(PNG.length), alt_txt: 'Tickets created and resolved per day' });
    const uploads = h.fake.callsOf(UPLOAD_METHOD);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.token).toBe(h.fake.botToken);
    const files = h.fake.completedFiles();
    expect(files).toHaveLength(1);
    expect(files[0]!.bytes!.equals(PNG)).toBe(true);

    // One message in the channel: the text, and the chart shared with it.
    const inChannel = h.fake.messagesIn('C0IT');
    expect(inChannel).toHaveLength(1);
    const message = inChannel[0]!;
    expect(messagesOf(h, id)).toEqual([message]);
    expect(blockText(message.blocks)).toBe(DIGEST_MRKDWN);
    expect(message.files).toEqual([{ id: files[0]!.id, name: 'tickets-2026-11-23.png', title: 'Tickets created and resolved per day', mimetype: 'image/png' }]);
    expect(message.bot_id).toBe(h.fake.botId);
    expect(h.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0IT')).toHaveLength(0);
    expect(await row(h, id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('labels the chart in the row language', async () => {
    const id = await insertDigest(h, 'C0FIN', { locale: 'zh-CN' });
    expect(await h.deliver()).toBe(1);
    const call = h.fake.callsOf('files.getUploadURLExternal').at(-1)!;
    expect(call.args.alt_txt).toBe('每日新建和解决的工单数');
    expect(messagesOf(h, id)).toHaveLength(1);
    expect(messagesOf(h, id)[0]!.channel).toBe('C0FIN');
  });

  it('posts once when the answer of completeUploadExternal is lost after the share was made', async () => {
    const id = await insertDigest(h, 'C0GEN');
    const completesBefore = h.fake.callsOf('files.completeUploadExternal').length;
    h.fake.failNext('files.completeUploadExternal', { kind: 'lost', status: 504 });
    expect(await h.deliver()).toBe(0);
    const failed = await row(h, id);
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, last_error: 'http 504' });
    // Slack did share the file: the message exists although the bot never learnt it.
    expect(messagesOf(h, id)).toHaveLength(1);

    h.time.advance(10 * 60_000);
    expect(await h.deliver()).toBe(1);
    expect(messagesOf(h, id)).toHaveLength(1);
    expect(h.fake.messagesIn('C0GEN').filter((m) => m.files)).toHaveLength(1);
    // The retry found the earlier share by its tag and uploaded nothing again.
    expect(h.fake.callsOf('files.completeUploadExternal')).toHaveLength(completesBefore + 1);
    expect(h.fake.callsOf('conversations.history').at(-1)!.args).toMatchObject({ channel: 'C0GEN', include_all_metadata: 'true' });
    expect(await row(h, id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('uploads again and posts once when completeUploadExternal failed before taking effect', async () => {
    h.fake.addChannel({ id: 'C0OPS', name: 'ops', members: ['UBOT'] });
    const id = await insertDigest(h, 'C0OPS');
    const uploadsBefore = h.fake.callsOf(UPLOAD_METHOD).length;
    h.fake.failNext('files.completeUploadExternal', { kind: 'http', status: 503 });
    expect(await h.deliver()).toBe(0);
    expect(messagesOf(h, id)).toHaveLength(0);
    h.time.advance(10 * 60_000);
    expect(await h.deliver()).toBe(1);
    expect(h.fake.callsOf(UPLOAD_METHOD)).toHaveLength(uploadsBefore + 2);
    expect(messagesOf(h, id)).toHaveLength(1);
    expect(h.fake.messagesIn('C0OPS')).toHaveLength(1);
    expect(await row(h, id)).toMatchObject({ status: 'sent' });
  });

  it('posts the text without the chart when the app lacks files:write', async () => {
    h.fake.addChannel({ id: 'C0OLD', name: 'old-install', members: ['UBOT'] });
    const id = await insertDigest(h, 'C0OLD');
    h.fake.failNext('files.getUploadURLExternal', { kind: 'error', error: 'missing_scope' });
    expect(await h.deliver()).toBe(1);
    const [message] = messagesOf(h, id);
    expect(messagesOf(h, id)).toHaveLength(1);
    expect(blockText(message!.blocks)).toBe(DIGEST_MRKDWN);
    expect(message!.files).toBeUndefined();
  });

  it('parks a row whose image is not a PNG without posting anything', async () => {
    h.fake.addChannel({ id: 'C0BAD', name: 'bad', members: ['UBOT'] });
    const id = await insertDigest(h, 'C0BAD', { payload: digestPayload(DIGEST_TEXT, Buffer.from('not a png at all')) });
    const urlsBefore = h.fake.callsOf('files.getUploadURLExternal').length;
    await h.deliver();
    expect(await row(h, id)).toMatchObject({ status: 'failed', last_error: expect.stringContaining('not a PNG') });
    expect(h.fake.callsOf('files.getUploadURLExternal')).toHaveLength(urlsBefore);
    expect(h.fake.messagesIn('C0BAD')).toHaveLength(0);
  });
});

describe('Slack notices without a ticket', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('delivers an anomaly alert to the supervisor as a DM', async () => {
    const text = 'IT: first responses took 3h in the last hour (usually 40m).\nhttps://bot.example.com/dashboard?t=abc&lang=en';
    const id = await insertRow(h, { event: 'report.anomaly', target_kind: 'user', target_id: 'UBOSS', payload: JSON.stringify({ messageKey: 'notice.text', params: { text }, thread: 'none' }) });
    expect(await h.deliver()).toBe(1);
    const dm = h.fake.messagesIn('DUBOSS');
    expect(dm).toHaveLength(1);
    expect(dm[0]!.text).toBe('IT: first responses took 3h in the last hour (usually 40m).\nhttps://bot.example.com/dashboard?t=abc&amp;lang=en');
    expect(dm[0]!.metadata).toEqual({ event_type: 'ticketbot_outbox', event_payload: { outbox_id: id } });
    expect(dm[0]!.blocks).toHaveLength(1);
    expect(await row(h, id)).toMatchObject({ status: 'sent' });

    // A retry after an unknown outcome finds the DM instead of sending it twice.
    const again = await insertRow(h, { event: 'report.anomaly', target_kind: 'user', target_id: 'UBOSS', payload: JSON.stringify({ messageKey: 'notice.text', params: { text: 'Finance: backlog is 3× usual.' }, thread: 'none' }) });
    h.fake.failNext('chat.postMessage', { kind: 'lost' });
    expect(await h.deliver()).toBe(0);
    h.time.advance(10 * 60_000);
    expect(await h.deliver()).toBe(1);
    expect(messagesOf(h, again)).toHaveLength(1);
    expect(h.fake.messagesIn('DUBOSS')).toHaveLength(2);
  });
});

describe('/ticket dashboard on Slack', () => {
  const SECRET = 'slack-dashboard-test-secret';
  let h: SlackHarness;
  let off: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start({ dashboardSecret: SECRET });
    off = await SlackHarness.start();
  });
  afterAll(async () => {
    await h.stop();
    await off.stop();
  });

  const dmLinks = (harness: SlackHarness, user: string) =>
    harness.fake.messagesIn(`D${user}`).flatMap((m) => [...(m.text ?? '').matchAll(/<(http[^>|]+)>/g)].map((x) => x[1]!.replace(/&amp;/g, '&')));

  it('DMs a supervisor a signed link that opens the dashboard, and says so in the channel', async () => {
    const { responseId } = await h.command('UBOSS', 'dashboard');
    const answers = h.responseTexts(responseId);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toContain('I sent you the dashboard link in a direct message.');
    expect(answers[0]).toContain('"response_type":"ephemeral"');

    const links = dmLinks(h, 'UBOSS');
    expect(links).toHaveLength(1);
    const url = new URL(links[0]!);
    expect(`${url.origin}${url.pathname}`).toBe(`${h.baseUrl}/dashboard`);
    expect(url.searchParams.get('t')).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(url.searchParams.get('lang')).toBe('en');
    const post = h.fake.callsOf('chat.postMessage').find((c) => c.args.channel === 'DUBOSS')!;
    expect(post.args).toMatchObject({ unfurl_links: 'false', unfurl_media: 'false' });
    expect(post.args.text).toContain('valid for 15 minutes');

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    // The link is only as good as its signature.
    url.searchParams.set('t', `${url.searchParams.get('t')!.slice(0, -2)}xx`);
    expect((await fetch(url)).status).toBe(403);
    // A private reply: the token never went through the outbox.
    const outbox = await h.outboxRows();
    expect(outbox.filter((r) => r.payload.includes(links[0]!.split('t=')[1]!.split('&')[0]!))).toEqual([]);
  });

  it('answers a plain agent that the dashboard is for supervisors and admins', async () => {
    const { responseId } = await h.command('UIT1', 'dashboard');
    expect(h.responseTexts(responseId).join('\n')).toContain('The dashboard is for supervisors and admins.');
    expect(dmLinks(h, 'UIT1')).toEqual([]);
  });

  it('answers that the dashboard is off when the bot has no dashboard', async () => {
    const { responseId } = await off.command('UBOSS', 'dashboard');
    expect(off.responseTexts(responseId).join('\n')).toContain('The dashboard is off');
    expect(dmLinks(off, 'UBOSS')).toEqual([]);
  });

  it('answers in the user language', async () => {
    const { responseId } = await off.command('UZH', 'dashboard');
    expect(off.responseTexts(responseId).join('\n')).toContain('看板未启用');
  });
});
