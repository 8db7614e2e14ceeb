import { createSlackApp, SlackTokenRejected } from '../../src/slack/app';
import { ACTION } from '../../src/slack/ids';
import { storageSlackPorts } from '../../src/wiring/slack-ports';
import { FakeSlack } from '../fakes/slack-server';
import { SlackHarness, blockText } from '../fakes/slack-harness';

/**
 * The bot in Socket Mode, its default production mode: Bolt opens the connection with the
 * app-level token (apps.connections.open on the fake), Slack's commands, button presses and events
 * arrive as envelopes over a loopback WebSocket and are acked there; the answers still go through
 * the fake Web API and response_url, and the outbox delivers what the core wrote.
 */

const dm = (user: string) => `D${user}`;

describe('Slack end to end over Socket Mode', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start({ socketMode: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const tickets = () => h.storage.db.selectFrom('tickets').selectAll().orderBy('created_at').execute();
  const ticket = async (key: string) => h.storage.db.selectFrom('tickets').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
  const audit = async (ticketId: string, action: string) => h.storage.db.selectFrom('audit_events').selectAll().where('ticket_id', '=', ticketId).where('action', '=', action).execute();
  /** The acks of the envelopes sent since `from` (an index into fake.envelopes). */
  const acksSince = (from: number) => {
    const ids = new Set(h.fake.envelopes.slice(from).map((e) => e.envelope_id));
    return h.fake.acks.filter((a) => ids.has(a.envelope_id));
  };

  it('connects with the app-level token, not the bot token, and runs the start-up checks', () => {
    expect(h.slack.mode).toBe('socket');
    const opens = h.fake.callsOf('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]!.token).toBe(h.fake.appToken);
    expect(h.fake.socketCount).toBe(1);
    // Everything else is called with the bot token.
    expect(h.fake.calls.filter((c) => c.method !== 'apps.connections.open').every((c) => c.token === h.fake.botToken)).toBe(true);
    // start() went on past the connection to the channel checks, as in HTTP mode.
    expect(h.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'UADMIN')[0]?.args.text).toContain('G0LEGAL');
  });

  it('acks a slash command over the socket and answers through its response_url', async () => {
    const from = h.fake.envelopes.length;
    const { res, responseId } = await h.command('UREQ', 'help');
    expect(res.status).toBe(200);
    expect(h.fake.envelopes.slice(from)).toEqual([expect.objectContaining({ type: 'slash_commands', accepts_response_payload: true })]);
    const acks = acksSince(from);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.envelope_id).toBe(h.fake.envelopes[from]!.envelope_id);
    const [answer] = h.responseTexts(responseId);
    expect(answer).toContain('/ticket mine');
    expect(await tickets()).toHaveLength(0);
  });

  it('raises a quick ticket with /ticket <text> and lets a member claim it with the card button', async () => {
    const { responseId } = await h.command('UREQ', 'Printer on floor 3 jams');
    const all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ key: 'IT-1001', state: 'new', requester_id: 'slack:UREQ', title: 'Printer on floor 3 jams', assignee_id: null });
    expect(h.responseTexts(responseId).join('\n')).toContain('IT-1001 raised: Printer on floor 3 jams');

    await h.deliver();
    const card = h.cardIn('C0IT', 'IT-1001')!;
    expect(card).toBeDefined();
    expect(JSON.stringify(card.blocks)).toContain(`"action_id":"${ACTION.claim}"`);

    const t = await ticket('IT-1001');
    const from = h.fake.envelopes.length;
    const res = await h.press('UIT1', ACTION.claim, t.id, { channel: 'C0IT', ts: card.ts });
    expect(res.status).toBe(200);
    expect(h.fake.envelopes.slice(from).map((e) => e.type)).toEqual(['interactive']);
    expect(acksSince(from)).toHaveLength(1);
    expect((await ticket('IT-1001')).assignee_id).toBe('slack:UIT1');
    expect(await audit(t.id, 'claimed')).toHaveLength(1);

    await h.deliver();
    const updated = h.fake.messages.find((m) => m.ts === card.ts)!;
    expect(updated.edits).toBeGreaterThan(0);
    expect(blockText(updated.blocks)).toContain('<@UIT1>');
    expect(JSON.stringify(updated.blocks)).not.toContain(`"action_id":"${ACTION.claim}"`);
    expect(h.fake.messagesIn(dm('UREQ')).map((m) => blockText(m.blocks) || m.text).join('\n')).toContain('IT-1001 claimed by Alan');

    const mine = await h.command('UREQ', 'mine');
    expect(h.responseTexts(mine.responseId).join('\n')).toContain('IT-1001');
  });

  it('takes a redelivered envelope once: slash command, button press and event', async () => {
    // The same slash command envelope twice: one ticket, one confirmation, both acked.
    const before = (await tickets()).length;
    const { payload, responseId } = h.commandPayload('UREQ', 'VPN drops every hour');
    const first = await h.fake.sendEnvelope('slash_commands', payload, { envelopeId: 'env-cmd-1' });
    await h.idle();
    const again = await h.fake.sendEnvelope('slash_commands', payload, { envelopeId: 'env-cmd-1', retryAttempt: 1 });
    await h.idle();
    expect([first.envelope_id, again.envelope_id]).toEqual(['env-cmd-1', 'env-cmd-1']);
    const afterCommand = await tickets();
    expect(afterCommand).toHaveLength(before + 1);
    const created = afterCommand.at(-1)!;
    expect(created.title).toBe('VPN drops every hour');
    expect(h.responseTexts(responseId).filter((r) => r.includes(`${created.key} raised`))).toHaveLength(1);

    // The same Claim press twice: claimed once, and the repeat says nothing.
    await h.deliver();
    const card = h.cardIn('C0IT', created.key)!;
    const press = { type: 'block_actions', team: { id: h.fake.teamId }, user: { id: 'UIT2', team_id: h.fake.teamId }, api_app_id: 'A0TEST', trigger_id: 'trigger.redelivered', container: { type: 'message', message_ts: card.ts, channel_id: 'C0IT', is_ephemeral: false }, channel: { id: 'C0IT' }, message: { ts: card.ts, text: '', blocks: [] }, response_url: h.fake.responseUrl('act-redelivered'), actions: [{ action_id: ACTION.claim, block_id: 'b', action_ts: '1700000300.000001', type: 'button', value: created.id }] };
    await h.fake.sendEnvelope('interactive', press, { envelopeId: 'env-press-1' });
    await h.idle();
    const responsesBefore = h.fake.responses.length;
    await h.fake.sendEnvelope('interactive', press, { envelopeId: 'env-press-1', retryAttempt: 1 });
    await h.idle();
    expect((await ticket(created.key)).assignee_id).toBe('slack:UIT2');
    expect(await audit(created.id, 'claimed')).toHaveLength(1);
    expect(h.fake.responses.length).toBe(responsesBefore);

    // An event Slack redelivers (same event_id, retry_attempt 1): one ticket from the DM.
    const count = (await tickets()).length;
    const { ts } = await h.say('UZH', dm('UZH'), 'Monitor flickers', { eventId: 'EvSocketDM' });
    await h.event({ type: 'message', channel: dm('UZH'), channel_type: 'im', user: 'UZH', text: 'Monitor flickers', ts }, { eventId: 'EvSocketDM', retryNum: 1 });
    const redelivered = h.fake.envelopes.at(-1)!;
    expect(redelivered).toMatchObject({ type: 'events_api', retry_attempt: 1, retry_reason: 'timeout', accepts_response_payload: false });
    expect(acksSince(h.fake.envelopes.length - 2)).toHaveLength(2);
    expect((await tickets()).length).toBe(count + 1);
    expect((await tickets()).at(-1)).toMatchObject({ title: 'Monitor flickers', requester_id: 'slack:UZH' });
  });

  it('returns modal errors in the ack payload of a view submission', async () => {
    await h.command('UREQ', '');
    const view = h.lastView();
    expect(view.view.callback_id).toBe('tb_view_new_ticket');
    const from = h.fake.envelopes.length;
    const submitted = await h.submit('UREQ', view, { title: 'Needs a category' });
    expect(submitted.body?.response_action).toBe('errors');
    expect(acksSince(from)[0]!.payload).toMatchObject({ response_action: 'errors' });
  });
});

describe('Socket Mode start-up with a bad app-level token', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    // Only for its context and storage; its own app is not started.
    h = await SlackHarness.start({ socketMode: true, skipStart: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses the bot token on apps.connections.open, as Slack does', async () => {
    const call = (token: string) => fetch(`${h.fake.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
    expect(await call(h.fake.botToken)).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(await call('xapp-1-unknown')).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await call(h.fake.appToken)).toMatchObject({ ok: true, url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=/) });
  });

  it('fails to start with an error naming SLACK_APP_TOKEN when Slack rejects it', async () => {
    const fake = new FakeSlack({ appToken: 'xapp-1-right' });
    await fake.start();
    const slack = await createSlackApp({
      ctx: h.ctx,
      env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: 'xapp-1-wrong', SLACK_API_URL: fake.apiUrl },
      ports: storageSlackPorts(h.ctx),
      clientOptions: { retryConfig: { retries: 0 } },
      memberSyncMs: 0,
    });
    try {
      const started = slack.start();
      await expect(started).rejects.toThrow(SlackTokenRejected);
      await expect(started).rejects.toThrow('Slack: SLACK_APP_TOKEN was rejected by apps.connections.open (invalid_auth)');
      expect(fake.callsOf('apps.connections.open').map((c) => c.token)).toEqual(['xapp-1-wrong']);
      expect(fake.socketCount).toBe(0);
    } finally {
      await slack.stop();
      await fake.stop();
    }
  });

  it('refuses a token that is not an app-level token before connecting', async () => {
    const fake = new FakeSlack();
    await fake.start();
    try {
      await expect(
        createSlackApp({ ctx: h.ctx, env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.botToken, SLACK_API_URL: fake.apiUrl }, ports: storageSlackPorts(h.ctx), clientOptions: { retryConfig: { retries: 0 } }, memberSyncMs: 0 }),
      ).rejects.toThrow('Slack: SLACK_APP_TOKEN is not an app-level token (xapp-…)');
      expect(fake.callsOf('apps.connections.open')).toHaveLength(0);
    } finally {
      await fake.stop();
    }
  });
});
