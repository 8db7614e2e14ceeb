import { createSlackApp } from '../../src/slack/app';
import { ACTION, BLOCK } from '../../src/slack/ids';
import { FakeSlack } from '../fakes/slack-server';
import { SlackHarness, blockText } from '../fakes/slack-harness';
import { storageSlackPorts } from '../../src/wiring/slack-ports';

/**
 * The whole ticket workflow through Slack: real signed HTTP requests to /slack/events, a loopback
 * fake of the Web API, SQLite, and the outbox dispatcher delivering what the core wrote.
 */

const dm = (user: string) => `D${user}`;

describe('Slack end to end (en)', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  const tickets = () => h.storage.db.selectFrom('tickets').selectAll().orderBy('created_at').execute();
  const ticket = async (key: string) => (await h.storage.db.selectFrom('tickets').selectAll().where('key', '=', key).executeTakeFirstOrThrow());
  const audit = async (ticketId: string, action: string) => h.storage.db.selectFrom('audit_events').selectAll().where('ticket_id', '=', ticketId).where('action', '=', action).execute();
  const dmTexts = (user: string) => h.fake.messagesIn(dm(user)).map((m) => blockText(m.blocks) || m.text || '');
  const buttonValue = (blocks: unknown, actionId: string): string => {
    const found = JSON.stringify(blocks).match(new RegExp(`"action_id":"${actionId}","value":"([^"]+)"`));
    if (!found) throw new Error(`no ${actionId} button`);
    return found[1]!;
  };

  it('tells the admin at start which private channel it cannot post in, and how to fix it', () => {
    const toAdmin = h.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'UADMIN');
    expect(toAdmin).toHaveLength(1);
    expect(toAdmin[0]!.args.text).toContain('G0LEGAL');
    expect(toAdmin[0]!.args.text).toContain('/invite @ticketbot');
    // IT's members come from its channel.
    expect(h.fake.callsOf('conversations.members').map((c) => c.args.channel)).toEqual(['C0IT']);
  });

  it('rejects a forged signature and a stale timestamp with 401 and stores nothing', async () => {
    const body = new URLSearchParams({ team_id: 'T0TEST', channel_id: 'C0GEN', user_id: 'UREQ', command: '/ticket', text: 'forged ticket', trigger_id: 't.forged', response_url: h.fake.responseUrl('forged') }).toString();
    const forged = await h.post(body, 'application/x-www-form-urlencoded', { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    const stale = await h.post(body, 'application/x-www-form-urlencoded', { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(401);
    await h.idle();
    expect(await tickets()).toHaveLength(0);
    expect(await h.storage.db.selectFrom('inbox').selectAll().execute()).toHaveLength(0);
    expect(await h.storage.db.selectFrom('users').selectAll().where('id', '=', 'slack:UREQ').execute()).toHaveLength(0);
  });

  it('answers an unknown subcommand with the help text', async () => {
    const { res, responseId } = await h.command('UREQ', 'frobnicate');
    expect(res.status).toBe(200);
    const [answer] = h.responseTexts(responseId);
    expect(answer).toContain('I do not know \\"frobnicate\\"');
    expect(answer).toContain('/ticket mine');
    expect(await tickets()).toHaveLength(0);
  });

  it('raises a ticket through the cascading form, with field errors shown in the modal', async () => {
    await h.command('UREQ', '');
    let view = h.lastView();
    expect(view.view.callback_id).toBe('tb_view_new_ticket');
    expect(blockText(view.view.blocks)).toContain('Category');
    // Level 1 → level 2 appears; level 2 → level 3; the leaf shows its required fields.
    await h.selectInView('UREQ', view, `${ACTION.category}_1`, 'category_1_root', 'fault');
    view = h.fake.views.get(view.id)!;
    expect(JSON.stringify(view.view.blocks)).toContain('category_2_fault');
    await h.selectInView('UREQ', view, `${ACTION.category}_2`, 'category_2_fault', 'login');
    view = h.fake.views.get(view.id)!;
    await h.selectInView('UREQ', view, `${ACTION.category}_3`, 'category_3_login', 'no-code');
    view = h.fake.views.get(view.id)!;
    const blockIds = (view.view.blocks as Array<{ block_id?: string }>).map((b) => b.block_id);
    expect(blockIds).toEqual(expect.arrayContaining([BLOCK.field('account'), BLOCK.field('device'), BLOCK.files]));

    const answers = { category_1_root: 'fault', category_2_fault: 'login', category_3_login: 'no-code', title: 'No SMS code', description: 'Cannot log in to the VPN', priority: 'high', field_account: 'rita@example.com' };
    const missing = await h.submit('UREQ', view, answers);
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({ response_action: 'errors', errors: { field_device: 'Please fill in: Device.' } });
    expect(await tickets()).toHaveLength(0);

    const done = await h.submit('UREQ', view, { ...answers, field_device: 'laptop', files: ['F1'] });
    expect(done.body).toBeNull();
    // Slack retries the same request: still one ticket.
    await h.submit('UREQ', view, { ...answers, field_device: 'laptop', files: ['F1'] }, { retryNum: 1 });
    const all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ key: 'IT-1001', priority: 'high', state: 'new', requester_id: 'slack:UREQ', title: 'No SMS code' });
    const attachments = await h.storage.db.selectFrom('messages').select('attachments').where('ticket_id', '=', all[0]!.id).executeTakeFirstOrThrow();
    expect(JSON.parse(attachments.attachments)).toEqual([{ name: 'F1.png', url: 'https://files.slack.com/F1', platform: 'slack', fileId: 'F1' }]);

    await h.deliver();
    const card = h.cardIn('C0IT', 'IT-1001')!;
    expect(card).toBeDefined();
    const text = blockText(card.blocks);
    expect(text).toContain('IT-1001 · No SMS code');
    expect(text).toContain('Fault › Login › No verification code');
    expect(text).toContain('*Device*\nLaptop');
    expect(card.metadata?.event_type).toBe('ticketbot_outbox');
    expect(dmTexts('UREQ').join('\n')).toContain('IT-1001 created: No SMS code');
  });

  it('lets only members claim, and a double click claims once', async () => {
    const t = await ticket('IT-1001');
    const card = h.cardIn('C0IT', 'IT-1001')!;
    const where = { channel: 'C0IT', ts: card.ts };

    const before = h.fake.responses.length;
    await h.press('UOUT', ACTION.claim, t.id, where);
    const refusal = h.fake.responses.slice(before).map((r) => JSON.stringify(r.body)).join('\n');
    expect(refusal).toContain('Only members of the department that owns IT-1001 can do that');
    expect((await ticket('IT-1001')).assignee_id).toBeNull();

    const responsesBefore = h.fake.responses.length;
    await Promise.all([h.press('UIT1', ACTION.claim, t.id, where), h.press('UIT1', ACTION.claim, t.id, where)]);
    expect((await ticket('IT-1001')).assignee_id).toBe('slack:UIT1');
    expect(await audit(t.id, 'claimed')).toHaveLength(1);
    // The second click of the same person says nothing.
    expect(h.fake.responses.length).toBe(responsesBefore);

    await h.deliver();
    const updated = h.fake.messages.find((m) => m.ts === card.ts)!;
    expect(updated.edits).toBeGreaterThan(0);
    expect(blockText(updated.blocks)).toContain('<@UIT1>');
    expect(JSON.stringify(updated.blocks)).not.toContain(`"action_id":"${ACTION.claim}"`);
    expect(dmTexts('UREQ').join('\n')).toContain('IT-1001 claimed by Alan');
  });

  it('keeps card-thread messages as internal notes and ignores its own messages', async () => {
    const t = await ticket('IT-1001');
    const card = h.cardIn('C0IT', 'IT-1001')!;
    const dmBefore = h.fake.messagesIn(dm('UREQ')).length;
    await h.say('UIT1', 'C0IT', 'Checked the SMS gateway logs', { threadTs: card.ts, files: [{ id: 'F2', name: 'log.txt' }] });
    // The bot's own message in the thread is not a note.
    await h.event({ type: 'message', channel: 'C0IT', channel_type: 'channel', bot_id: h.fake.botId, user: h.fake.botUserId, text: 'mirror', ts: h.fake.nextTs(), thread_ts: card.ts });
    const notes = await h.storage.db.selectFrom('messages').selectAll().where('ticket_id', '=', t.id).where('visibility', '=', 'internal').execute();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ body: 'Checked the SMS gateway logs', author_id: 'slack:UIT1' });
    expect(JSON.parse(notes[0]!.attachments)[0]).toMatchObject({ fileId: 'F2' });
    await h.deliver();
    expect(h.fake.messagesIn(dm('UREQ')).length).toBe(dmBefore);
  });

  it('replies with a template in the requester DM thread and mirrors the answer into the card thread', async () => {
    const t = await ticket('IT-1001');
    const card = h.cardIn('C0IT', 'IT-1001')!;
    await h.press('UIT1', ACTION.reply, t.id, { channel: 'C0IT', ts: card.ts });
    const modal = h.lastView();
    expect(modal.view.callback_id).toBe('tb_view_reply');
    const submitted = await h.submit('UIT1', modal, { template: 'need-info' });
    expect(submitted.body).toBeNull();
    await h.deliver();
    const requesterThread = h.fake.messagesIn(dm('UREQ')).find((m) => !m.thread_ts)!;
    const replies = h.fake.messages.filter((m) => m.channel === dm('UREQ') && m.thread_ts === requesterThread.ts);
    expect(replies.map((m) => m.text).join('\n')).toContain('Alan on IT-1001: Could you tell us more?');

    await h.say('UREQ', dm('UREQ'), 'It happens only on my laptop', { threadTs: requesterThread.ts });
    await h.deliver();
    const cardThread = h.fake.messages.filter((m) => m.channel === 'C0IT' && m.thread_ts === card.ts).map((m) => m.text);
    expect(cardThread.join('\n')).toContain('Requester on IT-1001: It happens only on my laptop');
    const stored = await h.storage.db.selectFrom('messages').selectAll().where('ticket_id', '=', t.id).where('author_role', '=', 'requester').where('body', '!=', '').execute();
    expect(stored.map((m) => m.body)).toEqual(['It happens only on my laptop']);
  });

  it('hands off with a leg card and takes a return with its reason', async () => {
    const t = await ticket('IT-1001');
    const card = h.cardIn('C0IT', 'IT-1001')!;
    await h.press('UIT1', ACTION.handOff, t.id, { channel: 'C0IT', ts: card.ts });
    const modal = h.lastView();
    expect(JSON.stringify(modal.view.blocks)).toContain('Finance');
    expect(JSON.stringify(modal.view.blocks)).not.toContain('"value":"it"');
    await h.submit('UIT1', modal, { target: 'finance', reason: 'Needs a refund check', note: 'see thread' });
    await h.deliver();
    expect((await ticket('IT-1001')).department_id).toBe('finance');
    const legCard = h.cardIn('C0FIN', 'IT-1001')!;
    expect(legCard).toBeDefined();
    expect(blockText(legCard.blocks)).toContain('from IT: Needs a refund check');
    expect(h.fake.messages.filter((m) => m.channel === 'C0IT' && m.thread_ts === card.ts).map((m) => m.text).join('\n')).toContain('IT-1001 handed off from IT to Finance: Needs a refund check');
    expect(blockText(h.fake.messages.find((m) => m.ts === card.ts)!.blocks)).toContain('With Finance since');

    // Someone in IT can no longer act on it; Finance returns it with a reason.
    await h.press('UFIN1', ACTION.return, t.id, { channel: 'C0FIN', ts: legCard.ts });
    const ret = h.lastView();
    const noReason = await h.submit('UFIN1', ret, {});
    expect(noReason.body.response_action).toBe('errors');
    await h.submit('UFIN1', ret, { reason_choice: 'wrong-department', reason: 'Not a refund' });
    await h.deliver();
    const back = await ticket('IT-1001');
    expect(back.department_id).toBe('it');
    expect(back.assignee_id).toBe('slack:UIT1');
    const legs = await h.storage.db.selectFrom('legs').selectAll().where('ticket_id', '=', t.id).orderBy('seq').execute();
    expect(legs.map((l) => l.state)).toEqual(['handed_off', 'returned', 'accepted']);
    expect(legs[1]!.return_reason).toBe('wrong-department');
  });

  it('resolves, reopens on "Not yet", closes on "Yes" and takes the survey', async () => {
    const t = await ticket('IT-1001');
    const card = h.cardIn('C0IT', 'IT-1001')!;
    const resolve = async (note: string) => {
      await h.press('UIT1', ACTION.resolve, t.id, { channel: 'C0IT', ts: card.ts });
      const modal = h.lastView();
      const empty = await h.submit('UIT1', modal, { note: '' });
      expect(empty.body.response_action).toBe('errors');
      await h.submit('UIT1', modal, { note });
      await h.deliver();
    };
    const lastDm = () => h.fake.messagesIn(dm('UREQ')).at(-1)!;

    await resolve('Re-registered the phone number');
    expect((await ticket('IT-1001')).state).toBe('resolved');
    let question = lastDm();
    expect(question.text).toContain('IT-1001 was resolved by Alan: Re-registered the phone number');
    await h.press('UREQ', ACTION.reopen, buttonValue(question.blocks, ACTION.reopen), { channel: dm('UREQ'), ts: question.ts, blocks: question.blocks });
    expect((await ticket('IT-1001')).state).toBe('in_progress');
    expect(blockText(h.fake.messages.find((m) => m.ts === question.ts)!.blocks)).toContain('You answered: Not yet');

    await resolve('Replaced the SIM');
    question = lastDm();
    await h.press('UREQ', ACTION.confirm, buttonValue(question.blocks, ACTION.confirm), { channel: dm('UREQ'), ts: question.ts, blocks: question.blocks });
    expect((await ticket('IT-1001')).state).toBe('closed');
    await h.deliver();
    const survey = h.fake.messagesIn(dm('UREQ')).find((m) => m.text?.includes('How did we do on IT-1001'))!;
    expect(survey).toBeDefined();
    await h.press('UREQ', `${ACTION.rate}_5`, buttonValue(survey.blocks, `${ACTION.rate}_5`), { channel: dm('UREQ'), ts: survey.ts, blocks: survey.blocks });
    const answers = await h.storage.db.selectFrom('surveys').selectAll().execute();
    expect(answers).toEqual([expect.objectContaining({ ticket_id: t.id, score: 5 })]);
    const finalCard = h.fake.messages.find((m) => m.ts === card.ts)!;
    expect(blockText(finalCard.blocks)).toContain('Closed');
    // A closed card acts no more; it only offers to keep the answer (issue 18: Save as answer).
    const controls = (finalCard.blocks as Array<{ type: string; elements?: Array<{ action_id?: string }> }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
    expect(controls.map((e) => e.action_id)).toEqual([ACTION.saveAnswer]);
  });

  it('raises tickets from a DM (once, despite a retry), a reaction and the message shortcut', async () => {
    const before = (await tickets()).length;
    const eventId = 'EvDM1';
    await h.say('UREQ', dm('UREQ'), 'Printer on floor 3 jams', { eventId });
    await h.event({ type: 'message', channel: dm('UREQ'), channel_type: 'im', user: 'UREQ', text: 'Printer on floor 3 jams', ts: h.fake.messagesIn(dm('UREQ')).at(-1)!.ts }, { eventId, retryNum: 1 });
    expect((await tickets()).length).toBe(before + 1);
    await h.deliver();
    const created = (await tickets()).at(-1)!;
    const source = JSON.parse(created.source_ref!);
    // The confirmation lands in the thread of the requester's own message.
    expect(h.fake.messages.some((m) => m.channel === dm('UREQ') && m.thread_ts === source.messageId && m.text?.includes(`${created.key} created`))).toBe(true);

    const original = h.fake.addMessage({ channel: 'C0GEN', user: 'UZH', text: 'The wiki is down again', files: undefined } as never);
    await h.event({ type: 'reaction_added', user: 'UIT1', reaction: 'ticket', item: { type: 'message', channel: 'C0GEN', ts: original.ts }, item_user: 'UZH' });
    const fromReaction = (await tickets()).at(-1)!;
    expect(fromReaction.title).toBe('The wiki is down again');
    expect(JSON.parse(fromReaction.source_ref!)).toMatchObject({ channel: 'C0GEN', messageId: original.ts, authorId: 'UZH', permalink: expect.stringContaining('/archives/C0GEN/') });
    // Another emoji does nothing.
    await h.event({ type: 'reaction_added', user: 'UIT1', reaction: 'thumbsup', item: { type: 'message', channel: 'C0GEN', ts: original.ts } });
    expect((await tickets()).length).toBe(before + 2);

    const shortcutSource = h.fake.addMessage({ channel: 'C0GEN', user: 'UOUT', text: 'Refund for order 77 please\nIt was charged twice' } as never);
    await h.interaction({ type: 'message_action', callback_id: 'ticket_from_message', trigger_id: 'trigger.sc', user: { id: 'UREQ' }, channel: { id: 'C0GEN' }, team: { id: 'T0TEST' }, message: { ts: shortcutSource.ts, text: shortcutSource.text, user: 'UOUT' }, response_url: h.fake.responseUrl('sc') });
    const modal = h.lastView();
    expect(JSON.stringify(modal.view.blocks)).toContain('Refund for order 77 please');
    const submitted = await h.submit('UREQ', modal, { category_1_root: 'after-sales' });
    expect(submitted.body.response_action).toBe('errors');
    expect(Object.keys(submitted.body.errors)).toEqual(['category_1_root']);
  });

  it('answers mine, queue, show, policy, stats, feedback and lang', async () => {
    const text = async (user: string, command: string) => h.responseTexts((await h.command(user, command)).responseId).join('\n');
    expect(await text('UREQ', 'mine')).toContain('Raised by you');
    const queue = await text('UIT1', 'queue');
    expect(queue).toContain('Open tickets of IT');
    expect(await text('UOUT', 'queue')).toContain('you are in none');
    expect(await text('UREQ', 'show IT-1001')).toContain('IT-1001 · No SMS code');
    // Refused and missing read the same: nobody learns which keys exist.
    expect(await text('UOUT', 'show IT-1001')).toContain('There is no ticket IT-1001 that you can see');
    expect(await text('UREQ', 'show IT-9999')).toContain('There is no ticket IT-9999 that you can see');
    const policy = await text('UREQ', 'policy');
    expect(policy).toContain('working hours'); // business time never reads as "1d"
    expect(policy).not.toMatch(/\d+[dh]\b/);
    expect(await text('UBOSS', 'stats it 30d')).toContain('30');
    expect(await text('UBOSS', 'stats nowhere')).toContain('Unknown department');
    expect(await text('UIT1', 'feedback Add a template for VPN issues')).toContain('Thanks!');
    expect(await h.storage.db.selectFrom('feedback').selectAll().execute()).toHaveLength(1);
    expect(await text('UREQ', 'lang zh')).toContain('语言已切换为中文');
    expect(await text('UREQ', 'frobnicate')).toContain('我不认识');
    expect(await text('UREQ', 'lang en')).toContain('Language set to English');
  });

  it('publishes App Home with my tickets, my queues and supervisor stats', async () => {
    await h.event({ type: 'app_home_opened', user: 'UBOSS', tab: 'home' });
    const home = h.fake.published.get('UBOSS')!;
    const text = blockText(home.blocks);
    expect(text).toContain('Queue: IT');
    expect(text).toContain('IT: last 7 days');
    await h.event({ type: 'app_home_opened', user: 'UREQ', tab: 'home' });
    expect(blockText(h.fake.published.get('UREQ')!.blocks)).toContain('Raised by me');
  });

  it('fails to start with a clear error when the token is rejected', async () => {
    const fake = new FakeSlack({ botToken: 'xoxb-right' });
    await fake.start();
    try {
      await expect(
        createSlackApp({ ctx: h.ctx, env: { SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: fake.apiUrl }, ports: storageSlackPorts(h.ctx), clientOptions: { retryConfig: { retries: 0 } } }),
      ).rejects.toThrow('Slack: SLACK_BOT_TOKEN was rejected by auth.test (invalid_auth)');
    } finally {
      await fake.stop();
    }
  });
});
