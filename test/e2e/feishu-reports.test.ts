import { insertOutbox, pendingOutboxRow } from '../../src/storage/repos/journal';
import { t } from '../../src/chat/i18n';
import { dashboardLinks } from '../../src/chat/dashboard';
import type { Locale } from '../../src/domain/types';
import { renderVolumeChartSvg, svgToPng } from '../../src/reports/chart';
import { rt } from '../../src/reports/i18n';
import { verifyDashboardToken } from '../../src/web/dashboard/signing';
import type { OutboxRecord } from '../../src/jobs/outbox-dispatcher';
import type { OutboxRow } from '../../src/storage/tables';
import { FeishuHarness, cardText, findControl } from '../fakes/feishu-harness';

/** Reports on Feishu: the weekly digest with its chart, anomaly DMs, `/ticket dashboard`, `/ticket stats`. */

const SECRET = 'feishu-dashboard-test-secret';
const BASE_URL = 'https://tickets.example.com';
const DIGEST_CHAT = 'oc_mgmt';
const SIX_METRICS = ['first_response', 'resolution', 'first_contact_resolution', 'on_time', 'return_rate', 'csat'] as const;

let h: FeishuHarness;
afterEach(async () => {
  await h.stop();
});

function chartPng(): Buffer {
  const days = ['2026-02-23', '2026-02-24', '2026-02-25', '2026-02-26', '2026-02-27', '2026-02-28', '2026-03-01'].map((day, i) => ({ day, created: 3 + i, resolved: 2 + (i % 3) }));
  return svgToPng(renderVolumeChartSvg(days, { title: '每日工单', created: '新建', resolved: '已解决' }, { width: 400, height: 200 }));
}

let seq = 0;
/** An outbox row as the scheduler's report jobs write it (ticket-less). */
async function insertRow(r: Pick<OutboxRow, 'event' | 'target_kind' | 'target_id' | 'payload'> & { locale?: string }): Promise<OutboxRecord> {
  const now = h.time.now().toISOString();
  const id = `rep-${++seq}`;
  const row = pendingOutboxRow(
    { id, idempotency_key: `${r.event}:${id}`, platform: 'feishu', target_kind: r.target_kind, target_id: r.target_id, event: r.event, payload: r.payload, locale: r.locale ?? 'zh-CN', order_key: `report:feishu:${r.target_id}` },
    now,
  );
  await insertOutbox(h.storage.db, [row]);
  return h.storage.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

const DIGEST_TEXT = '工单周报 · 全部部门 · 2026-02-23 – 2026-03-01\n• 平均首次响应:12 分钟\n• 按时率:92%\n新建 25,已解决 21,当前待处理 7。';

function digestRow(png: Buffer) {
  return insertRow({
    event: 'report.weekly_digest',
    target_kind: 'channel',
    target_id: DIGEST_CHAT,
    payload: JSON.stringify({
      messageKey: 'notice.text',
      params: { text: DIGEST_TEXT },
      thread: 'none',
      image: { fileName: 'tickets-2026-03-01.png', pngBase64: png.toString('base64'), altKey: 'report.weekly_digest_alt' },
    }),
  });
}

async function status(id: string): Promise<string> {
  return (await h.storage.db.selectFrom('outbox').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}

describe('weekly digest with its chart', () => {
  beforeEach(async () => {
    h = await FeishuHarness.start();
  });

  it('uploads the PNG (multipart, image_type=message) and posts one card with the text and that image_key', async () => {
    const png = chartPng();
    const row = await digestRow(png);
    expect(await h.flush()).toBe(1);

    expect(h.fake.images).toHaveLength(1);
    const upload = h.fake.images[0]!;
    expect(upload.image_type).toBe('message');
    expect(upload.data.equals(png)).toBe(true);
    expect(upload.file_name).toBe('tickets-2026-03-01.png');
    // The upload carried the tenant token like every other call.
    const call = h.fake.callsTo('POST', '/open-apis/im/v1/images')[0]!;
    expect(call.auth).toMatch(/^Bearer t-\d+$/);

    const sent = h.fake.messagesIn(DIGEST_CHAT);
    expect(sent).toHaveLength(1);
    const msg = sent[0]!;
    expect(msg.msg_type).toBe('interactive');
    expect(msg.uuid).toBe(row.id);
    const card = h.fake.parsed(msg);
    const text = cardText(card);
    for (const line of DIGEST_TEXT.split('\n')) expect(text).toContain(line);
    expect(JSON.stringify(card)).toContain(`"img_key":"${upload.image_key}"`);
    expect(text).toContain(t('zh-CN', 'report.weekly_digest_alt'));
    expect(await status(row.id)).toBe('sent');
  });

  it('a 5xx on the send is retried: still one upload and exactly one message', async () => {
    const row = await digestRow(chartPng());
    h.fake.failNext('POST', '/open-apis/im/v1/messages', { status: 500, code: 1, msg: 'internal error' });
    await h.flush();
    expect(h.fake.messagesIn(DIGEST_CHAT)).toHaveLength(0);
    expect(await status(row.id)).not.toBe('sent');

    h.time.advance(60 * 60 * 1000);
    await h.flush();
    expect(await status(row.id)).toBe('sent');
    expect(h.fake.messagesIn(DIGEST_CHAT)).toHaveLength(1);
    expect(h.fake.images).toHaveLength(1);
    expect(JSON.stringify(h.fake.parsed(h.fake.messagesIn(DIGEST_CHAT)[0]!))).toContain(h.fake.images[0]!.image_key);

    // Sent again (a crash between sending and marking it sent): Feishu's uuid dedup holds.
    const again = await h.app.sender.send({ ...row, attempts: 2 });
    expect(again.ok).toBe(true);
    expect(h.fake.messagesIn(DIGEST_CHAT)).toHaveLength(1);
  });

  it('a 5xx on the upload is retried: one image, one message', async () => {
    const row = await digestRow(chartPng());
    h.fake.failNext('POST', '/open-apis/im/v1/images', { status: 503, code: 1, msg: 'service unavailable' });
    await h.flush();
    expect(h.fake.images).toHaveLength(0);
    expect(h.fake.messagesIn(DIGEST_CHAT)).toHaveLength(0);

    h.time.advance(60 * 60 * 1000);
    await h.flush();
    expect(await status(row.id)).toBe('sent');
    expect(h.fake.images).toHaveLength(1);
    expect(h.fake.messagesIn(DIGEST_CHAT)).toHaveLength(1);
  });

  it('an image Feishu cannot read is refused for good, not retried forever', async () => {
    const row = await insertRow({
      event: 'report.weekly_digest',
      target_kind: 'channel',
      target_id: DIGEST_CHAT,
      payload: JSON.stringify({ messageKey: 'notice.text', params: { text: DIGEST_TEXT }, thread: 'none', image: { fileName: 'x.png', pngBase64: Buffer.from('not a picture').toString('base64') } }),
    });
    const outcome = await h.app.sender.send(row);
    expect(outcome).toEqual({ ok: false, error: expect.stringContaining('234011'), permanent: true });
    expect(h.fake.messagesIn(DIGEST_CHAT)).toHaveLength(0);
  });
});

describe('ticket-less notices', () => {
  beforeEach(async () => {
    h = await FeishuHarness.start();
  });

  it('an anomaly alert (ticket_id null, target a user) arrives as a DM, once', async () => {
    const text = '异常提醒 · 服务台:过去一小时首次响应 45 分钟(平时 10 分钟)。看板:/ticket dashboard';
    const row = await insertRow({ event: 'report.anomaly', target_kind: 'user', target_id: 'ou_boss', payload: JSON.stringify({ messageKey: 'notice.text', params: { text }, thread: 'none' }) });
    expect(await h.flush()).toBe(1);
    const dm = h.fake.messagesIn(h.fake.p2pChatOf('ou_boss'));
    expect(dm).toHaveLength(1);
    expect(dm[0]!.msg_type).toBe('text');
    expect(h.fake.parsed(dm[0]!)).toEqual({ text });
    expect(dm[0]!.uuid).toBe(row.id);
    const post = h.fake.callsTo('POST', '/open-apis/im/v1/messages').at(-1)!;
    expect(post.query.receive_id_type).toBe('open_id');
    expect(h.fake.images).toHaveLength(0);
    expect(await status(row.id)).toBe('sent');
  });
});

describe('/ticket dashboard', () => {
  const withDashboard = () => FeishuHarness.start({ dashboard: (ctx) => dashboardLinks(ctx, { baseUrl: BASE_URL, secret: SECRET }) });

  function linkIn(text: string): URL {
    const m = /https?:\/\/\S+/.exec(text);
    if (!m) throw new Error(`no link in "${text}"`);
    return new URL(m[0]);
  }

  it('a supervisor asking in a group gets a signed link by DM, and only a pointer in the group', async () => {
    h = await withDashboard();
    await h.say('ou_boss', '/工单 dashboard', { chatId: 'oc_help', mentionBot: true });

    const dms = h.fake.messagesIn(h.fake.p2pChatOf('ou_boss'));
    expect(dms).toHaveLength(1);
    const text = String(h.fake.parsed(dms[0]!).text);
    const url = linkIn(text);
    expect(text).toBe(t('zh-CN', 'dashboard.link', { url: url.toString() }));
    expect(url.origin + url.pathname).toBe(`${BASE_URL}/dashboard`);
    const token = url.searchParams.get('t');
    expect(token).toBeTruthy();
    const verified = verifyDashboardToken(token!, SECRET, h.time.now().getTime());
    expect(verified.ok && verified.claims.departments).toEqual(['helpdesk', 'finance']);

    const group = h.fake.messagesIn('oc_help');
    expect(group.map((m) => h.fake.parsed(m).text)).toEqual([t('zh-CN', 'dashboard.sent')]);
    // The token went straight to Feishu: nothing of it is kept in the database.
    const outbox = await h.storage.db.selectFrom('outbox').select('payload').execute();
    expect(outbox.filter((r) => r.payload.includes(token!))).toEqual([]);
  });

  it('in the chat with the bot: the link only, no pointer', async () => {
    h = await withDashboard();
    await h.say('ou_boss', '/ticket dashboard');
    const dms = h.fake.messagesIn(h.fake.p2pChatOf('ou_boss'));
    expect(dms).toHaveLength(1);
    expect(String(h.fake.parsed(dms[0]!).text)).toContain(`${BASE_URL}/dashboard?t=`);
  });

  it('the bot menu item sends the link too', async () => {
    h = await withDashboard();
    await h.menu('ou_boss', 'ticket_dashboard');
    const dms = h.fake.messagesIn(h.fake.p2pChatOf('ou_boss'));
    expect(dms).toHaveLength(1);
    expect(String(h.fake.parsed(dms[0]!).text)).toContain(`${BASE_URL}/dashboard?t=`);
  });

  it('a plain agent is told the dashboard is for supervisors, and gets no link', async () => {
    h = await withDashboard();
    await h.say('ou_a1', '/工单 dashboard', { chatId: 'oc_help', mentionBot: true });
    // Answers to commands are private on every platform: in a group, by DM, with only a pointer in the group.
    expect(h.fake.messagesIn(h.fake.p2pChatOf('ou_a1')).map((m) => h.fake.parsed(m).text)).toEqual([t('zh-CN', 'dashboard.denied')]);
    expect(h.fake.messagesIn('oc_help').map((m) => h.fake.parsed(m).text)).toEqual([t('zh-CN', 'chat.sent_privately')]);
  });

  it('without the dashboard option the command says it is off', async () => {
    h = await FeishuHarness.start();
    await h.say('ou_boss', '/ticket dashboard');
    const dms = h.fake.messagesIn(h.fake.p2pChatOf('ou_boss'));
    expect(dms.map((m) => h.fake.parsed(m).text)).toEqual([t('zh-CN', 'dashboard.off')]);
  });
});

describe('/ticket stats', () => {
  beforeEach(async () => {
    h = await FeishuHarness.start();
  });

  /** A ticket raised through the form, so there is something to count. */
  async function raiseOne(): Promise<void> {
    await h.say('ou_req', '/工单 忘记密码');
    const formMsg = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).at(-1)!;
    const submit = findControl(h.fake.parsed(formMsg), (v) => v.a === 'submit')!;
    await h.click('ou_req', formMsg.message_id, submit, { formValue: { priority: 'normal', title: '忘记密码', field_account: 'zhang3' } });
    await h.flush();
  }

  async function statsCard(from: string, command: string, locale: Locale): Promise<string> {
    const before = h.fake.messagesIn(h.fake.p2pChatOf(from)).length;
    await h.say(from, command);
    const replies = h.fake.messagesIn(h.fake.p2pChatOf(from)).slice(before);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.msg_type).toBe('interactive');
    const text = cardText(h.fake.parsed(replies[0]!));
    for (const m of SIX_METRICS) expect(text).toContain(rt(locale, `metric.${m}`));
    return text;
  }

  it('answers with the six metrics, volume and period, in the asker’s language', async () => {
    await raiseOne();
    h.time.advance(60 * 60 * 1000);
    // A member asking without a department gets their own (all departments are for admins only).
    const zh = await statsCard('ou_a1', '/工单 stats 30d', 'zh-CN');
    expect(zh).toContain(rt('zh-CN', 'stats.title', { scope: '服务台', days: 30 }));
    expect(zh).toContain(rt('zh-CN', 'stats.volume', { created: 1, resolved: 0, open: 1 }));
    for (const m of SIX_METRICS) expect(zh).not.toContain(rt('en', `metric.${m}`));

    await h.say('ou_a2', '/ticket lang en');
    const en = await statsCard('ou_a2', '/ticket stats', 'en');
    expect(en).toContain(rt('en', 'stats.title', { scope: 'Helpdesk', days: 7 }));
    expect(en).toContain(rt('en', 'stats.volume', { created: 1, resolved: 0, open: 1 }));
  });

  it('takes a department by id or localized name, in any order with the period', async () => {
    await raiseOne();
    h.time.advance(60 * 1000); // the period ends now; the ticket was raised a minute ago
    const fin = await statsCard('ou_boss', '/工单 stats 财务部 30d', 'zh-CN');
    expect(fin).toContain(rt('zh-CN', 'stats.title', { scope: '财务部', days: 30 }));
    expect(fin).toContain(rt('zh-CN', 'stats.volume', { created: 0, resolved: 0, open: 0 }));
    const help = await statsCard('ou_boss', '/工单 stats 7d helpdesk', 'zh-CN');
    expect(help).toContain(rt('zh-CN', 'stats.title', { scope: '服务台', days: 7 }));
    expect(help).toContain(rt('zh-CN', 'stats.volume', { created: 1, resolved: 0, open: 1 }));
  });

  it('an unknown department is answered in the asker’s language, with the known ones', async () => {
    await h.say('ou_a1', '/工单 stats 法务部');
    const reply = h.fake.messagesIn(h.fake.p2pChatOf('ou_a1')).at(-1)!;
    expect(h.fake.parsed(reply).text).toBe(rt('zh-CN', 'stats.unknown_department', { department: '法务部', known: 'helpdesk (服务台), finance (财务部), it (信息技术部)' }));
  });
});
