import { webApi } from '@slack/bolt';
import { addNote, createTicket, ensureUser, handOff, replyToRequester, requesterReply } from '../../src/app';
import type { Attachment } from '../../src/app/context';
import { getTicketView } from '../../src/app/queries';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { OutboxDispatcher } from '../../src/jobs/outbox-dispatcher';
import { SlackSender } from '../../src/slack/sender';
import { storageSlackPorts } from '../../src/wiring/slack-ports';
import { ACTION, BLOCK } from '../../src/slack/ids';
import { FEISHU_TEST_CONFIG, FeishuHarness, TENANT, cardText, findControl } from '../fakes/feishu-harness';
import { FeishuParity, SlackParity, type ParityDriver } from '../fakes/parity-drivers';
import { DOWNLOAD_METHOD, FakeSlack, UPLOAD_METHOD } from '../fakes/slack-server';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * Issue 17 item 5: files go both ways between requester and department as files, across
 * platforms — a Slack requester and a Feishu department (and back), web-form uploads — through
 * the outbox (`ticket.file` rows: a reference to the source, read and uploaded at delivery time).
 * Both fakes run at once: the Feishu harness (departments helpdesk and finance on Feishu, IT on
 * Slack) and a fake Slack with the real Slack sender and its own dispatcher.
 */

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('a screenshot of the error')]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('the invoice '.repeat(40))]);

function config(extra = ''): Config {
  const parsed = parseConfigText(FEISHU_TEST_CONFIG + extra);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return parsed.config;
}

interface Both {
  h: FeishuHarness;
  slack: FakeSlack;
  slackOut: OutboxDispatcher;
  requester: string;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

async function startBoth(variant: StorageVariant, extra = ''): Promise<Both> {
  const h = await FeishuHarness.start({ storage: await variant.open(), config: config(extra) });
  const slack = new FakeSlack();
  await slack.start();
  slack.addUser({ id: 'U0REQ', name: 'Sam', locale: 'en-US' });
  slack.addChannel({ id: 'C0IT', name: 'it', members: ['UBOT', 'UIT1'] });
  const client = new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const sender = new SlackSender({ ctx: h.ctx, client, ports: storageSlackPorts(h.ctx), teamId: slack.teamId, loadTicketView: (id) => getTicketView(h.ctx, id) });
  const slackOut = new OutboxDispatcher({
    db: h.storage.db,
    dialect: h.storage.dialect,
    owner: 'test-slack',
    sender,
    time: h.time,
    logger: h.ctx.logger,
    admins: h.ctx.config.raw.admins,
    defaultLocale: h.ctx.config.raw.locale,
    newId: h.ctx.newId,
    targetIntervalMs: 0,
  });
  const requester = await ensureUser(h.ctx, { platform: 'slack', workspace: slack.teamId, platformUserId: 'U0REQ', name: 'Sam', locale: 'en' });
  const flush = async () => {
    for (let i = 0; i < 10; i++) {
      const s = await slackOut.tickOnce();
      const f = await h.flush();
      if (s.claimed === 0 && f === 0) break;
    }
  };
  return { h, slack, slackOut, requester, flush, stop: async () => (await slack.stop(), await h.stop()) };
}

/** The Feishu card of a ticket in a chat, and the bot's messages in its thread. */
async function cardThread(b: Both, key: string, chat: string) {
  const ticket = await b.h.storage.db.selectFrom('tickets').select('id').where('key', '=', key).executeTakeFirstOrThrow();
  const link = await b.h.storage.db.selectFrom('chat_links').select('message_id').where('platform', '=', 'feishu').where('ticket_id', '=', ticket.id).where('role', '=', 'card').where('channel', '=', chat).executeTakeFirstOrThrow();
  return { root: link.message_id, replies: b.h.fake.messagesIn(chat).filter((m) => m.root_id === link.message_id) };
}

/** The bytes a Feishu file or image message shows (what the app uploaded under its key). */
function feishuBytes(b: Both, m: { msg_type: string; content: string }): Buffer | undefined {
  const c = JSON.parse(m.content) as { file_key?: string; image_key?: string };
  if (m.msg_type === 'file') return b.h.fake.files.find((f) => f.file_key === c.file_key)?.data;
  if (m.msg_type === 'image') return b.h.fake.images.find((i) => i.image_key === c.image_key)?.data;
  return undefined;
}

/** A file message a Feishu member posts in a thread (the bytes are then readable as its resource). */
async function feishuFile(b: Both, from: string, chat: string, root: string, file: { key: string; name: string; bytes: Buffer }): Promise<string> {
  const messageId = `om_user_${file.key}`;
  const content = JSON.stringify({ file_key: file.key, file_name: file.name });
  b.h.fake.resources.set(file.key, file.bytes);
  b.h.fake.addUserMessage({ message_id: messageId, chat_id: chat, content, msg_type: 'file', root_id: root, parent_id: root });
  const res = await b.h.post(
    b.h.envelope('im.message.receive_v1', {
      sender: { sender_id: { open_id: from }, sender_type: 'user', tenant_key: TENANT },
      message: { message_id: messageId, root_id: root, parent_id: root, chat_id: chat, chat_type: 'group', message_type: 'file', content },
    }),
  );
  expect(res.status).toBe(200);
  return messageId;
}

/** Files the fake Slack saw shared in a conversation's thread, with their bytes. */
function slackShares(b: Both, channel: string) {
  return b.slack.messages.filter((m) => m.channel === channel && m.files?.length).map((m) => ({ thread: m.thread_ts, name: m.files![0]!.name, bytes: b.slack.files.get(m.files![0]!.id)?.bytes }));
}

describe.each(storageVariants())('files both ways across platforms ($name)', (variant: StorageVariant) => {
  let b: Both;
  afterEach(async () => {
    await b?.stop();
  });

  it('Slack requester → Feishu department: the screenshot is in the card thread as an image; the member\'s file reaches the Slack requester as a file; a note\'s file never does', async () => {
    b = await startBoth(variant);
    const shot: Attachment = { name: 'screen.png', platform: 'slack', fileId: 'F0SHOT', channel: 'DU0REQ', url: 'https://files.slack.com/files-pri/T0TEST-F0SHOT/screen.png' };
    b.slack.addFile({ id: 'F0SHOT', name: 'screen.png', bytes: PNG });
    const created = await createTicket(b.h.ctx, { meta: { actorId: b.requester, platform: 'slack', eventKey: 'slack:event:EvNew' }, categoryId: 'wrong-password', title: 'Cannot log in', description: 'see screenshot', fields: { account: 'sam' }, attachments: [shot] });
    if (!created.ok) throw new Error(created.error.code);
    const key = created.value.ticket.key;
    await b.flush();

    // Feishu: the card, then the picture in its thread (uploaded as an image: it is one).
    const card = await cardThread(b, key, 'oc_help');
    const image = card.replies.find((m) => m.msg_type === 'image');
    expect(image).toBeDefined();
    expect(feishuBytes(b, image!)).toEqual(PNG);
    expect(b.slack.callsOf(DOWNLOAD_METHOD).every((c) => c.token === b.slack.botToken)).toBe(true);

    // The Feishu member posts two files in the card thread: both are internal notes.
    const log = await feishuFile(b, 'ou_a1', 'oc_help', card.root, { key: 'file_v3_driver', name: 'driver-setup.pdf', bytes: PDF });
    await feishuFile(b, 'ou_a1', 'oc_help', card.root, { key: 'file_v3_secret', name: 'admin-passwords.xlsx', bytes: Buffer.from('root:hunter2') });
    const notes = await b.h.storage.db.selectFrom('messages').select(['visibility', 'attachments']).where('visibility', '=', 'internal').execute();
    expect(notes).toHaveLength(2);
    await b.flush();
    expect(slackShares(b, 'DU0REQ')).toEqual([]);

    // A public reply with the first file: the Slack requester gets the text and the PDF itself, in their thread.
    const member = await b.h.storage.db.selectFrom('users').select('id').where('platform_user_id', '=', 'ou_a1').executeTakeFirstOrThrow();
    const reply = await replyToRequester(b.h.ctx, {
      meta: { actorId: member.id, platform: 'feishu', eventKey: 'feishu:test:reply' },
      ticket: key,
      body: 'Install this driver',
      attachments: [{ name: 'driver-setup.pdf', platform: 'feishu', fileId: 'file_v3_driver', messageId: log, kind: 'file', channel: 'oc_help' }],
    });
    expect(reply.ok).toBe(true);
    await b.flush();
    const root = b.slack.messages.find((m) => m.channel === 'DU0REQ' && !m.thread_ts)!;
    expect(slackShares(b, 'DU0REQ')).toEqual([{ thread: root.ts, name: 'driver-setup.pdf', bytes: PDF }]);
    // Not copied back into the Feishu thread it came from.
    expect((await cardThread(b, key, 'oc_help')).replies.filter((m) => m.msg_type === 'file')).toHaveLength(0);

    // The card lists the files of public messages (the screenshot, the driver), never a note's.
    const shown = cardText(b.h.fake.parsed(b.h.fake.message(card.root)!));
    expect(shown).toContain('📎 附件:screen.png、driver-setup.pdf');
    expect(shown).not.toContain('admin-passwords');

    // The note's file never reached the requester: no share, no outbox row, no text naming it.
    expect([...b.slack.files.values()].some((f) => f.bytes?.equals(Buffer.from('root:hunter2')))).toBe(false);
    const toRequester = await b.h.storage.db.selectFrom('outbox').select('payload').where('platform', '=', 'slack').where('target_id', '=', 'U0REQ').execute();
    expect(JSON.stringify(toRequester)).not.toContain('admin-passwords');
    expect(JSON.stringify(b.slack.messages)).not.toContain('admin-passwords');

    // The requester answers on Slack with a PDF: it reaches the Feishu card thread as a pdf file.
    b.slack.addFile({ id: 'F0INV', name: 'invoice.pdf', bytes: PDF });
    const answered = await requesterReply(b.h.ctx, { meta: { actorId: b.requester, platform: 'slack', eventKey: 'slack:event:EvAns' }, ticket: key, body: 'here is the invoice', attachments: [{ name: 'invoice.pdf', platform: 'slack', fileId: 'F0INV', channel: root.channel }] });
    expect(answered.ok).toBe(true);
    await b.flush();
    const files = (await cardThread(b, key, 'oc_help')).replies.filter((m) => m.msg_type === 'file');
    expect(files).toHaveLength(1);
    expect(feishuBytes(b, files[0]!)).toEqual(PDF);
    expect(b.h.fake.files.find((f) => f.data.equals(PDF))?.file_type).toBe('pdf');
  });

  it('a web-form upload reaches the department\'s card thread as a file, on Feishu and on Slack', async () => {
    b = await startBoth(variant);
    const web = await ensureUser(b.h.ctx, { platform: 'api', workspace: 'portal', platformUserId: 'web:rita@example.com', name: 'Rita' });
    for (const [id, category] of [['f000000000000000000000001', 'wrong-password'], ['f000000000000000000000002', 'broken-screen']] as const) {
      await b.h.storage.db.insertInto('intake_files').values({ id, integration_id: 'portal', name: `${id}.pdf`, content_type: 'application/pdf', size: PDF.length, data: PDF.toString('base64'), created_at: b.h.time.now().toISOString() }).execute();
      const created = await createTicket(b.h.ctx, { meta: { actorId: web, platform: 'api', eventKey: `web:${id}` }, categoryId: category, title: 'From the portal', description: 'attached', fields: { account: 'rita' }, attachments: [{ name: `${id}.pdf`, platform: 'api', fileId: id, url: `https://bot.example.com/files/${id}?sig` }] });
      expect(created.ok).toBe(true);
    }
    await b.flush();
    const tickets = await b.h.storage.db.selectFrom('tickets').select(['key', 'department_id']).orderBy('created_at').execute();
    const feishu = (await cardThread(b, tickets.find((t) => t.department_id === 'helpdesk')!.key, 'oc_help')).replies.filter((m) => m.msg_type === 'file');
    expect(feishu.map((m) => feishuBytes(b, m))).toEqual([PDF]);
    const slackCard = b.slack.messages.find((m) => m.channel === 'C0IT' && !m.thread_ts && !m.files)!;
    expect(slackShares(b, 'C0IT')).toEqual([{ thread: slackCard.ts, name: 'f000000000000000000000002.pdf', bytes: PDF }]);
  });

  it('a file over files.copy_max_mb goes as its name and link with the reason, on both platforms', async () => {
    b = await startBoth(variant, '\nfiles: { copy_max_mb: 0.0002 }\n');
    const big = Buffer.alloc(400, 7);
    b.slack.addFile({ id: 'F0BIG', name: 'dump.bin', bytes: big });
    const created = await createTicket(b.h.ctx, { meta: { actorId: b.requester, platform: 'slack', eventKey: 'slack:event:EvBig' }, categoryId: 'wrong-password', title: 'Crash', description: 'dump attached', fields: { account: 'sam' }, attachments: [{ name: 'dump.bin', platform: 'slack', fileId: 'F0BIG', url: 'https://files.slack.com/files-pri/T0TEST-F0BIG/dump.bin' }] });
    if (!created.ok) throw new Error(created.error.code);
    await b.flush();
    const card = await cardThread(b, created.value.ticket.key, 'oc_help');
    expect(card.replies.filter((m) => m.msg_type === 'file' || m.msg_type === 'image')).toHaveLength(0);
    const said = card.replies.filter((m) => m.msg_type === 'text').map((m) => String(JSON.parse(m.content).text));
    expect(said).toContainEqual('📎 dump.bin — https://files.slack.com/files-pri/T0TEST-F0BIG/dump.bin\n未复制到此处:文件大小 1 KB,超过复制上限 1 KB,请通过链接查看。');
    // Never downloaded whole: files.info told the size.
    expect(b.slack.callsOf(DOWNLOAD_METHOD)).toHaveLength(0);

    // Feishu → Slack: the member's big file reaches the Slack requester as a line, in English.
    const member = await b.h.storage.db.selectFrom('users').select('id').where('platform_user_id', '=', 'ou_a1').executeTakeFirstOrThrow();
    const note = await feishuFile(b, 'ou_a1', 'oc_help', card.root, { key: 'file_v3_big', name: 'trace.log', bytes: big });
    const reply = await replyToRequester(b.h.ctx, { meta: { actorId: member.id, platform: 'feishu', eventKey: 'feishu:test:big' }, ticket: created.value.ticket.key, body: 'see the trace', attachments: [{ name: 'trace.log', platform: 'feishu', fileId: 'file_v3_big', messageId: note, kind: 'file', channel: 'oc_help' }] });
    expect(reply.ok).toBe(true);
    await b.flush();
    expect(slackShares(b, 'DU0REQ')).toEqual([]);
    expect(b.slack.messages.map((m) => m.text ?? '').join('\n')).toContain('📎 trace.log\nNot copied here: the file is 1 KB, over the 1 KB limit for copied files. Open it with the link.');

    // A file Feishu no longer gives (234003: not in that message): the name and the reason at once, no retries.
    const gone = await feishuFile(b, 'ou_a1', 'oc_help', card.root, { key: 'file_v3_gone', name: 'gone.txt', bytes: Buffer.from('x') });
    b.h.fake.resources.delete('file_v3_gone');
    const again = await replyToRequester(b.h.ctx, { meta: { actorId: member.id, platform: 'feishu', eventKey: 'feishu:test:gone' }, ticket: created.value.ticket.key, body: 'and this', attachments: [{ name: 'gone.txt', platform: 'feishu', fileId: 'file_v3_gone', messageId: gone, kind: 'file', channel: 'oc_help' }] });
    expect(again.ok).toBe(true);
    await b.flush();
    expect(b.slack.messages.map((m) => m.text ?? '').join('\n')).toContain('📎 gone.txt\nCould not be copied here: the original file is no longer available.');
    const rows = await b.h.storage.db.selectFrom('outbox').select(['status', 'attempts']).where('platform', '=', 'slack').where('event', '=', 'ticket.file').execute();
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
  });

  it('a handoff takes the ticket\'s public files into the new department\'s card thread (Slack IT → Feishu finance); a note\'s file stays behind', async () => {
    b = await startBoth(variant);
    const agent = await ensureUser(b.h.ctx, { platform: 'slack', workspace: b.slack.teamId, platformUserId: 'UIT1', name: 'Ivy' });
    b.slack.addFile({ id: 'F0SCR', name: 'screen.png', bytes: PNG });
    b.slack.addFile({ id: 'F0NOTE', name: 'internal.txt', bytes: Buffer.from('internal only') });
    const created = await createTicket(b.h.ctx, { meta: { actorId: b.requester, platform: 'slack', eventKey: 'slack:event:EvScr' }, categoryId: 'broken-screen', title: 'Screen cracked', description: 'photo attached', attachments: [{ name: 'screen.png', platform: 'slack', fileId: 'F0SCR', channel: 'DU0REQ' }] });
    if (!created.ok) throw new Error(created.error.code);
    const key = created.value.ticket.key;
    expect((await addNote(b.h.ctx, { meta: { actorId: agent, platform: 'slack', eventKey: 'slack:event:EvNote' }, ticket: key, body: 'internal', attachments: [{ name: 'internal.txt', platform: 'slack', fileId: 'F0NOTE', channel: 'C0IT' }] })).ok).toBe(true);
    await b.flush();
    expect(slackShares(b, 'C0IT').map((f) => f.name)).toEqual(['screen.png']);
    expect((await handOff(b.h.ctx, { meta: { actorId: agent, platform: 'slack', eventKey: 'slack:event:EvHand' }, ticket: key, toDepartmentId: 'finance', reason: 'refund' })).ok).toBe(true);
    await b.flush();
    const leg = await cardThread(b, key, 'oc_fin');
    const images = leg.replies.filter((m) => m.msg_type === 'image' || m.msg_type === 'file');
    expect(images.map((m) => feishuBytes(b, m))).toEqual([PNG]);
  });

  it('a failing upload is retried and the file is shown once, on both platforms', async () => {
    b = await startBoth(variant);
    b.slack.addFile({ id: 'F0ONE', name: 'one.pdf', bytes: PDF });
    // Feishu's file upload fails once (a 500), then works.
    b.h.fake.failNext('POST', '/open-apis/im/v1/files', { status: 500, code: -1, msg: 'internal error' });
    const created = await createTicket(b.h.ctx, { meta: { actorId: b.requester, platform: 'slack', eventKey: 'slack:event:EvOne' }, categoryId: 'wrong-password', title: 'One', description: 'x', fields: { account: 'sam' }, attachments: [{ name: 'one.pdf', platform: 'slack', fileId: 'F0ONE' }] });
    if (!created.ok) throw new Error(created.error.code);
    const key = created.value.ticket.key;
    await b.flush();
    const row = await b.h.storage.db.selectFrom('outbox').selectAll().where('platform', '=', 'feishu').where('event', '=', 'ticket.file').executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
    expect(row.attempts).toBe(1);
    b.h.time.advance(10 * 60_000);
    await b.flush();
    const files = (await cardThread(b, key, 'oc_help')).replies.filter((m) => m.msg_type === 'file');
    expect(files).toHaveLength(1);
    expect(feishuBytes(b, files[0]!)).toEqual(PDF);

    // Slack: the bytes' POST fails once; then Slack completes the share but the answer is lost.
    const member = await b.h.storage.db.selectFrom('users').select('id').where('platform_user_id', '=', 'ou_a1').executeTakeFirstOrThrow();
    const card = await cardThread(b, key, 'oc_help');
    const note = await feishuFile(b, 'ou_a1', 'oc_help', card.root, { key: 'file_v3_fix', name: 'fix.pdf', bytes: PDF });
    b.slack.failNext(UPLOAD_METHOD, { kind: 'http', status: 500 });
    b.slack.failNext('files.completeUploadExternal', { kind: 'lost' });
    const reply = await replyToRequester(b.h.ctx, { meta: { actorId: member.id, platform: 'feishu', eventKey: 'feishu:test:fix' }, ticket: key, body: 'fixed', attachments: [{ name: 'fix.pdf', platform: 'feishu', fileId: 'file_v3_fix', messageId: note, kind: 'file', channel: 'oc_help' }] });
    expect(reply.ok).toBe(true);
    for (let i = 0; i < 4; i++) {
      await b.flush();
      b.h.time.advance(10 * 60_000);
    }
    expect(slackShares(b, 'DU0REQ').map((s) => s.name)).toEqual(['fix.pdf']);
    const slackRow = await b.h.storage.db.selectFrom('outbox').selectAll().where('platform', '=', 'slack').where('event', '=', 'ticket.file').executeTakeFirstOrThrow();
    expect(slackRow.status).toBe('sent');
    expect(slackRow.attempts).toBe(3);
  });
});

/**
 * A member's file in the card's thread is an internal note; Reply… / Request info… offer the files
 * posted there since the last reply, and only the picked ones reach the requester — the same on
 * both platforms (Feishu card forms cannot carry files; Slack's modal also has its file input).
 */
describe.each(storageVariants())('Reply… offers the card thread\'s files ($name)', (variant: StorageVariant) => {
  const SLACK_IDS = { requester: 'UREQ', member: 'UIT1' };
  const FEISHU_IDS = { requester: 'ou_req', member: 'ou_a1' };

  async function cardOf(d: ParityDriver, key: string) {
    const ticket = await d.storage.db.selectFrom('tickets').select('id').where('key', '=', key).executeTakeFirstOrThrow();
    const link = await d.storage.db.selectFrom('chat_links').select(['channel', 'message_id']).where('platform', '=', d.platform).where('ticket_id', '=', ticket.id).where('role', '=', 'card').executeTakeFirstOrThrow();
    return { channel: link.channel, root: link.message_id };
  }

  it('slack: two files posted in the card thread; the Reply… modal offers both, the one picked reaches the requester as a file, the other never', async () => {
    const d = await SlackParity.start(await variant.open());
    try {
      await d.command('requester', 'Printer on floor 3 jams');
      await d.deliver();
      const card = await cardOf(d, 'IT-1001');
      await d.h.say(SLACK_IDS.member, card.channel, 'the driver', { threadTs: card.root, files: [{ id: 'F0DRV', name: 'driver.pdf', bytes: PDF }] });
      await d.h.say(SLACK_IDS.member, card.channel, 'our admin sheet', { threadTs: card.root, files: [{ id: 'F0ADM', name: 'admin-sheet.xlsx', bytes: Buffer.from('secret sheet') }] });
      await d.deliver();
      const posted = d.h.cardIn('C0IT', 'IT-1001')!;
      const value = (posted.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === ACTION.reply).value;
      await d.h.press(SLACK_IDS.member, ACTION.reply, value, { channel: posted.channel, ts: posted.ts, blocks: posted.blocks });
      const view = d.h.lastView();
      const offered = ((view.view as any).blocks as any[]).find((b) => b.block_id === BLOCK.threadFiles)?.element;
      expect(offered?.type).toBe('checkboxes');
      expect(offered.options.map((o: any) => o.text.text)).toEqual(['driver.pdf', 'admin-sheet.xlsx']);
      const res = await d.h.submit(SLACK_IDS.member, view, { [BLOCK.message]: 'Install this', [BLOCK.threadFiles]: [offered.options[0].value] });
      expect(res.body).toBeNull();
      await d.deliver();
      const dm = `D${SLACK_IDS.requester}`;
      const shared = d.h.fake.messages.filter((m) => m.channel === dm && m.files?.length).map((m) => d.h.fake.files.get(m.files![0]!.id)?.bytes);
      expect(shared).toEqual([PDF]);
      expect(d.everythingSeenBy('requester')).not.toContain('admin-sheet');
      // The picked file is now part of the public reply; the other stays internal.
      const messages = await d.storage.db.selectFrom('messages').select(['visibility', 'attachments']).orderBy('created_at').execute();
      expect(messages.filter((m) => m.visibility === 'public' && m.attachments.includes('driver.pdf'))).toHaveLength(1);
      expect(messages.filter((m) => m.visibility === 'public' && m.attachments.includes('admin-sheet'))).toHaveLength(0);
      // The card lists the reply's file, not the note that stayed internal.
      const shown = JSON.stringify(d.h.cardIn('C0IT', 'IT-1001')!.blocks);
      expect(shown).toContain('📎 Files: driver.pdf');
      expect(shown).not.toContain('admin-sheet');
    } finally {
      await d.stop();
    }
  });

  it('feishu: two files posted in the card thread; the Reply… form offers both, the one picked reaches the requester as a file, the other never', async () => {
    const d = await FeishuParity.start(await variant.open());
    const h = d.h;
    try {
      await d.command('requester', 'Printer on floor 3 jams');
      await d.deliver();
      const card = await cardOf(d, 'IT-1001');
      for (const f of [{ key: 'file_v3_drv', name: 'driver.pdf', bytes: PDF }, { key: 'file_v3_adm', name: 'admin-sheet.xlsx', bytes: Buffer.from('secret sheet') }]) {
        const messageId = `om_user_${f.key}`;
        const content = JSON.stringify({ file_key: f.key, file_name: f.name });
        h.fake.resources.set(f.key, f.bytes);
        h.fake.addUserMessage({ message_id: messageId, chat_id: card.channel, content, msg_type: 'file', root_id: card.root, parent_id: card.root });
        await h.post(h.envelope('im.message.receive_v1', { sender: { sender_id: { open_id: FEISHU_IDS.member }, sender_type: 'user', tenant_key: TENANT }, message: { message_id: messageId, root_id: card.root, parent_id: card.root, chat_id: card.channel, chat_type: 'group', message_type: 'file', content } }));
      }
      await d.deliver();
      const cardMsg = h.fake.message(card.root)!;
      await h.click(FEISHU_IDS.member, card.root, findControl(h.fake.parsed(cardMsg), (v) => v.a === 'form' && v.f === 'reply'));
      const form = h.fake.messagesIn(h.fake.p2pChatOf(FEISHU_IDS.member)).at(-1)!;
      const picker = JSON.stringify(h.fake.parsed(form));
      expect(picker).toContain('"tag":"multi_select_static"');
      const values = [...picker.matchAll(/"value":"([^"]+:\d+)"/g)].map((m) => m[1]!);
      expect(values).toHaveLength(2);
      expect(picker.indexOf('driver.pdf')).toBeLessThan(picker.indexOf('admin-sheet.xlsx'));
      const sent = await h.click(FEISHU_IDS.member, form.message_id, findControl(h.fake.parsed(form), (v) => v.a === 'submit'), { formValue: { body: 'Install this', thread_files: [values[0]!] } });
      expect(sent.body.toast.type).toBe('success');
      await d.deliver();
      const requesterChat = h.fake.p2pChatOf(FEISHU_IDS.requester);
      const files = h.fake.messagesIn(requesterChat).filter((m) => m.msg_type === 'file');
      expect(files.map((m) => h.fake.files.find((f) => f.file_key === JSON.parse(m.content).file_key)?.data)).toEqual([PDF]);
      expect(d.everythingSeenBy('requester')).not.toContain('admin-sheet');
      expect(h.fake.files.some((f) => f.data.equals(Buffer.from('secret sheet')))).toBe(false);
      // The form does not offer them again: the reply was the last public one.
      await h.click(FEISHU_IDS.member, card.root, findControl(h.fake.parsed(cardMsg), (v) => v.a === 'form' && v.f === 'reply'));
      expect(JSON.stringify(h.fake.parsed(h.fake.messagesIn(h.fake.p2pChatOf(FEISHU_IDS.member)).at(-1)!))).not.toContain('multi_select_static');
    } finally {
      await d.stop();
    }
  });
});
