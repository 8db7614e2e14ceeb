import fc from 'fast-check';
import { ACTION, MESSAGE_SHORTCUT, VIEW } from '../../src/slack/ids';
import { CARD_BUTTONS, FORM_KINDS } from '../../src/feishu/action-values';
import { FeishuHarness, TENANT } from '../fakes/feishu-harness';
import { SlackHarness } from '../fakes/slack-harness';

/**
 * Random but validly signed payloads of every kind against the running app (HTTP mode, loopback,
 * real signatures and, for Feishu, encryption). Every request must be answered (< 500) within 3 s,
 * with no stack trace or path in the answer; the process must not see an unhandled rejection; the
 * database must be consistent afterwards. `npm test` runs a bounded number of cases; `npm run fuzz`
 * runs many more (FUZZ_RUNS).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };
const ACK_LIMIT_MS = 3000;

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => void unhandled.push(err);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));

/** Text that likes to break things: mentions, markup, control characters, CJK, long runs. */
const nastyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.constantFrom('<!channel>', '<!here> hi', '<@UIT1>', '<http://evil|click>', '*bold* _it_ ~s~', '`code`', '```\nblock\n```', '收不到验证码', '\u0000\u0007', 'a'.repeat(3000), '', '   ', 'IT-1', 'new', 'show IT-1', 'queue it', 'stats 7d', 'lang zh', 'help'),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const slackUser = fc.constantFrom('UREQ', 'UIT1', 'UIT2', 'UBOSS', 'UADMIN', 'UOUT', 'UNKNOWN9');
const channel = fc.constantFrom('C0GEN', 'C0IT', 'C0FIN', 'DUREQ', 'CNOPE');
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function expectWellAnswered(status: number, text: string, elapsedMs: number): void {
  expect(status).toBeLessThan(500);
  expect(elapsedMs).toBeLessThan(ACK_LIMIT_MS);
  expect(text).not.toMatch(/\n\s+at |\/work\/|node_modules|<pre>/);
}

describe('fuzz: Slack (HTTP mode, signed)', () => {
  let h: SlackHarness;
  let seq = 0;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await expectConsistent(h.storage.db);
    expect(unhandled).toEqual([]);
    const health = await fetch(`${h.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    await h.stop();
  });

  const command = fc.record({ user: slackUser, channel, text: nastyText });
  const blockAction = fc.record({
    user: slackUser,
    channel,
    actionId: fc.constantFrom(...Object.values(ACTION), 'tb_unknown'),
    value: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '|', 'nope|x', 'T1|first_response'), anyJson),
    selected: maybe(fc.oneof(fc.string({ maxLength: 20 }), anyJson)),
    container: fc.oneof(fc.constant(undefined), fc.record({ type: fc.constant('message'), message_ts: fc.string({ maxLength: 12 }), channel_id: channel }), anyJson),
    extraActions: fc.boolean(),
    noActions: fc.boolean(),
  });
  const viewSubmission = fc.record({
    user: slackUser,
    callbackId: fc.constantFrom(...Object.values(VIEW), 'tb_view_unknown'),
    metadata: fc.oneof(fc.string({ maxLength: 60 }), anyJson.map((v) => JSON.stringify(v)), fc.constant(JSON.stringify({ ticketId: 'nope', title: { evil: 1 }, path: 7 }))),
    values: fc.dictionary(fc.string({ maxLength: 12 }), fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 3 }), { maxKeys: 4 }),
  });
  const event = fc.record({
    type: fc.constantFrom('message', 'app_home_opened', 'reaction_added', 'member_joined_channel', 'member_left_channel', 'app_mention', 'unknown_event'),
    user: slackUser,
    channel,
    text: nastyText,
    ts: fc.string({ maxLength: 16 }),
    thread_ts: maybe(fc.string({ maxLength: 16 })),
    subtype: maybe(fc.constantFrom('bot_message', 'message_changed', 'file_share', 'thread_broadcast')),
    reaction: maybe(fc.constantFrom('ticket', 'eyes', '工单')),
    extra: anyJson,
  });
  const shortcut = fc.record({ user: slackUser, channel, text: nastyText, ts: fc.string({ maxLength: 16 }) });

  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  async function send(body: string): Promise<void> {
    const started = Date.now();
    const res = await h.post(body, 'application/x-www-form-urlencoded');
    const text = await res.text();
    expectWellAnswered(res.status, text, Date.now() - started);
    await h.idle();
  }

  it('slash commands', async () => {
    await fc.assert(
      fc.asyncProperty(command, async (c) => {
        const id = `fz${++seq}`;
        await send(form({ team_id: h.fake.teamId, channel_id: c.channel, user_id: c.user, command: '/ticket', text: c.text, trigger_id: `trig.${id}`, response_url: h.fake.responseUrl(id) }));
      }),
      params,
    );
  });

  it('block actions', async () => {
    await fc.assert(
      fc.asyncProperty(blockAction, async (a) => {
        const id = `fz${++seq}`;
        const action = { action_id: a.actionId, block_id: 'b', action_ts: `${seq}.1`, type: 'button', value: a.value, ...(a.selected !== undefined ? { selected_option: { value: a.selected } } : {}) };
        const payload = {
          type: 'block_actions',
          user: { id: a.user },
          team: { id: h.fake.teamId },
          trigger_id: `trig.${id}`,
          response_url: h.fake.responseUrl(id),
          channel: { id: a.channel },
          container: a.container,
          actions: a.noActions ? [] : a.extraActions ? [action, action] : [action],
        };
        await send(form({ payload: JSON.stringify(payload) }));
      }),
      params,
    );
  });

  it('view submissions', async () => {
    await fc.assert(
      fc.asyncProperty(viewSubmission, async (v) => {
        const id = `fz${++seq}`;
        const payload = {
          type: 'view_submission',
          user: { id: v.user },
          team: { id: h.fake.teamId },
          trigger_id: `trig.${id}`,
          view: { id: `V${id}`, hash: 'h', callback_id: v.callbackId, private_metadata: v.metadata, state: { values: v.values } },
        };
        await send(form({ payload: JSON.stringify(payload) }));
      }),
      params,
    );
  });

  it('events and message shortcuts', async () => {
    await fc.assert(
      fc.asyncProperty(event, shortcut, async (e, s) => {
        const id = `fz${++seq}`;
        const { extra, ...fields } = e;
        const eventBody = { token: 'legacy', team_id: h.fake.teamId, api_app_id: 'A0TEST', type: 'event_callback', event_id: `Ev${id}`, event_time: 1, event: { ...fields, item: { type: 'message', channel: e.channel, ts: e.ts }, extra } };
        const started = Date.now();
        const res = await h.post(JSON.stringify(eventBody), 'application/json');
        expectWellAnswered(res.status, await res.text(), Date.now() - started);
        await h.idle();
        const payload = {
          type: 'message_action',
          callback_id: MESSAGE_SHORTCUT,
          user: { id: s.user },
          team: { id: h.fake.teamId },
          channel: { id: s.channel },
          trigger_id: `trig.s${id}`,
          response_url: h.fake.responseUrl(`s${id}`),
          message_ts: s.ts,
          message: { ts: s.ts, text: s.text, user: s.user },
        };
        await send(form({ payload: JSON.stringify(payload) }));
      }),
      params,
    );
  });

  it('any JSON as an interactive payload', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (p) => {
        await send(form({ payload: JSON.stringify(p) }));
      }),
      params,
    );
  });

});

describe('fuzz: Feishu (HTTP mode, signed and encrypted)', () => {
  let h: FeishuHarness;
  let seq = 0;
  beforeAll(async () => {
    h = await FeishuHarness.start();
  });
  afterAll(async () => {
    await expectConsistent(h.storage.db);
    expect(unhandled).toEqual([]);
    await h.stop();
  });

  const openId = fc.constantFrom('ou_req', 'ou_a1', 'ou_f1', 'ou_out', 'ou_boss', 'ou_unknown');
  const actionValue = fc.oneof(
    fc.record({ a: fc.constantFrom(...CARD_BUTTONS), t: fc.string({ maxLength: 20 }), v: maybe(fc.integer()) }),
    fc.record({ a: fc.constant('form'), f: fc.constantFrom(...FORM_KINDS), t: fc.string({ maxLength: 20 }) }),
    fc.record({ a: fc.constant('submit'), f: fc.constantFrom(...FORM_KINDS), fid: fc.string({ minLength: 1, maxLength: 12 }), t: maybe(fc.string({ maxLength: 20 })), cat: maybe(fc.constantFrom('wrong-password', 'no-code', 'refund-request', 'broken-screen', 'nope')) }),
    fc.record({ a: fc.constant('cat'), lvl: fc.integer({ min: 0, max: 4 }), path: fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fid: fc.string({ maxLength: 8 }) }),
    anyJson,
  );
  const formValue = fc.dictionary(fc.constantFrom('title', 'description', 'priority', 'template', 'reason', 'department', 'assignee', 'duration', 'score', 'field_account', 'field_device', 'x'), fc.oneof(nastyText, fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), anyJson), { maxKeys: 6 });
  const cardAction = fc.record({ from: openId, value: actionValue, formValue: maybe(formValue), option: maybe(fc.string({ maxLength: 10 })), chatId: fc.constantFrom('oc_help', 'oc_fin', 'oc_p2p_x', '') });
  const message = fc.record({ from: openId, text: nastyText, chatId: maybe(fc.constantFrom('oc_help', 'oc_fin', 'oc_other')), mention: fc.boolean() });
  const otherEvent = fc.record({
    type: fc.constantFrom('application.bot.menu_v6', 'im.chat.member.user.added_v1', 'im.chat.member.user.deleted_v1', 'im.chat.member.bot.added_v1', 'im.message.receive_v1', 'card.action.trigger', 'unknown.event_v1'),
    event: anyJson,
    menuKey: fc.constantFrom('ticket_new', 'ticket_mine', 'ticket_queue', 'ticket_dashboard', 'ticket_help', 'nope'),
    shaped: fc.boolean(),
  });

  async function post(envelope: unknown): Promise<void> {
    const started = Date.now();
    const res = await h.post(envelope);
    expectWellAnswered(res.status, JSON.stringify(res.body ?? ''), Date.now() - started);
    expect(res.status).toBe(200);
    if (res.body?.toast) expect(typeof res.body.toast.content).toBe('string');
  }

  it('card actions of every kind', async () => {
    await fc.assert(
      fc.asyncProperty(cardAction, async (c) => {
        const env = h.actionEvent(c.from, `om_fz_${++seq}`, c.value, { ...(c.formValue ? { formValue: c.formValue as Record<string, unknown> } : {}), ...(c.option ? { option: c.option } : {}), chatId: c.chatId });
        await post(env);
      }),
      params,
    );
  });

  it('messages and other events', async () => {
    await fc.assert(
      fc.asyncProperty(message, otherEvent, async (m, e) => {
        await post(h.messageEvent(m.from, m.text, { ...(m.chatId ? { chatId: m.chatId } : {}), mentionBot: m.mention }));
        const event = e.shaped && e.type === 'application.bot.menu_v6' ? { operator: { operator_id: { open_id: 'ou_req' } }, event_key: e.menuKey, timestamp: 1 } : e.shaped ? { chat_id: 'oc_help', tenant_key: TENANT } : e.event;
        await post(h.envelope(e.type, event));
      }),
      params,
    );
  });
});

/** What must hold in the database whatever came in. */
async function expectConsistent(db: SlackHarness['storage']['db']): Promise<void> {
  const tickets = await db.selectFrom('tickets').select(['id', 'key', 'title', 'description', 'current_leg_id', 'state']).execute();
  const legs = new Set((await db.selectFrom('legs').select('id').execute()).map((l) => l.id));
  for (const t of tickets) {
    expect(t.current_leg_id === null || legs.has(t.current_leg_id)).toBe(true);
    expect(`${t.title} ${t.description}`).not.toContain('[object Object]');
    expect(t.title.trim()).not.toBe('');
  }
  expect(new Set(tickets.map((t) => t.key)).size).toBe(tickets.length);
  const outbox = await db.selectFrom('outbox').select(['payload']).execute();
  for (const o of outbox) expect(() => JSON.parse(o.payload)).not.toThrow();
  const messages = await db.selectFrom('messages').selectAll().execute();
  for (const m of messages) expect(JSON.stringify(m)).not.toContain('[object Object]');
}
