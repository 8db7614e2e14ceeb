import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import type { AppContext } from '../../src/app/context';
import { dashboardLinks } from '../../src/chat/dashboard';
import { OutboxDispatcher } from '../../src/jobs/outbox-dispatcher';
import { createSlackApp, type SlackApp } from '../../src/slack/app';
import type { Storage } from '../../src/storage/database';
import { createDashboardRouter } from '../../src/web/dashboard/router';
import { createWebServer } from '../../src/web/server';
import { ManualTime, testContext } from '../support/app';
import { openMigratedSqlite } from '../support/storage';
import { asSlackSends, FakeSlack, type EnvelopeType, type FakeView } from './slack-server';
import { storageSlackPorts } from '../../src/wiring/slack-ports';

/** A small company on Slack: IT (members from its channel), Finance (explicit), Legal (private channel the bot is not in). */
export const SLACK_TEST_CONFIG = `
locale: en
admins: [slack:UADMIN]
calendars:
  office:
    timezone: Asia/Shanghai
    week: { mon-sun: ["00:00-24:00"] }
departments:
  - id: it
    name: { en: IT, zh-CN: 信息技术部 }
    channels: { slack: C0IT }
    members: channel
    supervisors: [slack:UBOSS]
    calendar: office
    routing: { strategy: claim }
    handoff: { accept: 30m, resolve: 1d }
  - id: finance
    name: { en: Finance, zh-CN: 财务部 }
    key_prefix: FIN
    channels: { slack: C0FIN }
    members: [slack:UFIN1]
    supervisors: [slack:UFINBOSS]
    calendar: office
    routing: { strategy: claim }
    handoff: { accept: 1h, resolve: 2d }
  - id: legal
    name: { en: Legal, zh-CN: 法务部 }
    channels: { slack: G0LEGAL }
    members: [slack:ULEGAL]
    calendar: office
fields:
  - { id: account, name: { en: Account, zh-CN: 账号 } }
  - { id: device, name: { en: Device, zh-CN: 设备 }, type: select, options: [{ id: laptop, name: { en: Laptop, zh-CN: 笔记本 } }, { id: phone, name: { en: Phone, zh-CN: 手机 } }] }
  - { id: order_id, name: { en: Order ID, zh-CN: 订单号 } }
categories:
  - id: fault
    name: { en: Fault, zh-CN: 故障类 }
    department: it
    children:
      - id: login
        name: { en: Login, zh-CN: 登录问题 }
        children:
          - { id: no-code, name: { en: No verification code, zh-CN: 收不到验证码 }, required: [account, device] }
  - id: after-sales
    name: { en: After-sales, zh-CN: 售后类 }
    department: finance
    children:
      - id: refund
        name: { en: Refund, zh-CN: 退款 }
        children:
          - { id: refund-request, name: { en: Refund request, zh-CN: 申请退款 }, required: [order_id] }
  - id: inquiry
    name: { en: Inquiry, zh-CN: 咨询类 }
    department: it
    children:
      - id: how-to
        name: { en: How to, zh-CN: 使用方法 }
sla:
  - { id: urgent, match: { priority: urgent }, first_response: 15m, resolution: 4h }
  - { id: normal, match: { priority: [low, normal, high] }, first_response: 4h, resolution: 3d }
escalation:
  - { at: 100%, notify: [department_channel, supervisors] }
closing: { confirm_within: 1d, auto_close: true, survey: true }
templates:
  - { id: need-info, name: { en: Need more info, zh-CN: 需要补充信息 }, text: { en: "Could you tell us more?", zh-CN: "请补充更多信息。" } }
intake: { default_category: how-to, default_priority: normal, reaction: ticket }
return_reasons:
  - { id: wrong-department, name: { en: Wrong department, zh-CN: 分派错误 } }
`;

export function slackTestConfig(text: string = SLACK_TEST_CONFIG): Config {
  const parsed = parseConfigText(text);
  if (!parsed.ok) throw new Error(`test config: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return parsed.config;
}

export const SIGNING_SECRET = 'test-signing-secret';

export interface HarnessOptions {
  config?: Config;
  storage?: Storage;
  /** Build the app but do not run its start-up checks. */
  skipStart?: boolean;
  /** Turns the dashboard on with this signing secret: links point at the harness's own server, which serves it. */
  dashboardSecret?: string;
  /**
   * Socket Mode (SLACK_APP_TOKEN set): no HTTP server; commands, interactions and events arrive
   * as envelopes over the fake's WebSocket and their "response" is the app's ack.
   */
  socketMode?: boolean;
}

/** The whole bot on Slack over loopback: fake Web API, our express server with Bolt, SQLite, the outbox dispatcher. */
export class SlackHarness {
  private inflight = 0;
  private seq = 0;
  baseUrl = '';

  private constructor(
    readonly fake: FakeSlack,
    readonly storage: Storage,
    readonly ctx: AppContext,
    readonly slack: SlackApp,
    readonly dispatcher: OutboxDispatcher,
    private readonly server: Server | undefined,
    readonly time: ManualTime,
  ) {}

  get socketMode(): boolean {
    return this.slack.mode === 'socket';
  }

  static async start(opts: HarnessOptions = {}): Promise<SlackHarness> {
    const fake = new FakeSlack();
    await fake.start();
    const people: Array<[string, string, string]> = [
      ['UREQ', 'Rita', 'en-US'],
      ['UZH', '王芳', 'zh-CN'],
      ['UIT1', 'Alan', 'en-US'],
      ['UIT2', 'Bo', 'zh-CN'],
      ['UFIN1', 'Fiona', 'en-GB'],
      ['UBOSS', 'Boss', 'en-US'],
      ['UFINBOSS', 'Finboss', 'en-US'],
      ['UADMIN', 'Ada', 'en-US'],
      ['UOUT', 'Otto', 'en-US'],
      ['ULEGAL', 'Lee', 'en-US'],
    ];
    for (const [id, name, locale] of people) fake.addUser({ id, name, locale, tz: 'Asia/Shanghai' });
    fake.addChannel({ id: 'C0IT', name: 'it-desk', members: ['UBOT', 'UIT1', 'UIT2'] });
    fake.addChannel({ id: 'C0FIN', name: 'finance-desk', members: ['UBOT', 'UFIN1'] });
    fake.addChannel({ id: 'G0LEGAL', name: 'legal', is_private: true, members: ['ULEGAL'] });
    fake.addChannel({ id: 'C0GEN', name: 'general', members: ['UBOT', 'UREQ', 'UZH', 'UIT1', 'UOUT'] });

    const storage = opts.storage ?? (await openMigratedSqlite());
    const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));
    const ctx = testContext(storage, time, opts.config ?? slackTestConfig());
    if (process.env.TEST_LOG_LEVEL) ctx.logger = pino({ level: process.env.TEST_LOG_LEVEL });
    if (opts.socketMode && opts.dashboardSecret) throw new Error('SlackHarness: the dashboard needs the HTTP server, which Socket Mode does without');
    const web = opts.socketMode ? undefined : createWebServer({
      logger: ctx.logger,
      health: { database: async () => ({ ok: true, dialect: storage.dialect }), platforms: () => ({}), scheduler: () => ({ state: 'off' }) },
    });
    const ports = storageSlackPorts(ctx);
    let baseUrl = '';
    const secret = opts.dashboardSecret;
    if (secret) web!.app.use(createDashboardRouter({ ctx, secret }));
    const dashboard = secret ? { linkFor: (userId: string, locale: 'en' | 'zh-CN') => dashboardLinks(ctx, { baseUrl, secret }).linkFor(userId, locale) } : undefined;
    const slack = await createSlackApp({
      ctx,
      env: opts.socketMode
        ? { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.appToken, SLACK_API_URL: fake.apiUrl }
        : { SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: fake.apiUrl },
      ports,
      expressApp: web?.app,
      clientOptions: { retryConfig: { retries: 0 } },
      memberSyncMs: 0,
      dashboard,
    });
    const dispatcher = new OutboxDispatcher({
      db: storage.db,
      dialect: storage.dialect,
      owner: 'test',
      sender: slack.sender,
      time,
      logger: ctx.logger,
      admins: ctx.config.raw.admins,
      defaultLocale: ctx.config.raw.locale,
      newId: ctx.newId,
      targetIntervalMs: 0,
      random: () => 0.5,
    });
    const server = web ? (await web.listen(0, '127.0.0.1')).server : undefined;
    const h = new SlackHarness(fake, storage, ctx, slack, dispatcher, server, time);
    // Tests wait for listeners that run after the HTTP ack, as Slack would not.
    slack.bolt.use(async ({ next }) => {
      h.inflight++;
      try {
        await next();
      } finally {
        h.inflight--;
      }
    });
    h.baseUrl = server ? `http://127.0.0.1:${(server.address() as AddressInfo).port}` : '';
    baseUrl = h.baseUrl;
    if (!opts.skipStart) await slack.start();
    return h;
  }

  async stop(): Promise<void> {
    await this.slack.stop();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.fake.stop();
    await this.storage.close();
  }

  /** Headers Slack would send: v0 HMAC-SHA256 of `v0:timestamp:body`. */
  sign(body: string, timestamp = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET): Record<string, string> {
    const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
    return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
  }

  async post(body: string, contentType: string, opts: { timestamp?: number; secret?: string; retryNum?: number; headers?: Record<string, string> } = {}): Promise<Response> {
    if (!this.server) throw new Error('SlackHarness.post: Socket Mode has no HTTP endpoint (use fake.sendEnvelope)');
    const headers: Record<string, string> = { 'content-type': contentType, ...this.sign(body, opts.timestamp, opts.secret), ...(opts.headers ?? {}) };
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = 'http_timeout';
    }
    return fetch(`${this.baseUrl}/slack/events`, { method: 'POST', headers, body });
  }

  /**
   * Hands a payload to the bot as Slack would in this mode: a signed POST (HTTP mode), or an
   * envelope over the WebSocket (Socket Mode), whose ack stands in for the HTTP response: 200
   * with the ack's payload as the body, empty when the ack carried nothing.
   */
  private async toBot(type: EnvelopeType, payload: Record<string, unknown>, http: { body: string; contentType: string }, opts: { retryNum?: number } = {}): Promise<Response> {
    if (!this.socketMode) return this.post(http.body, http.contentType, { retryNum: opts.retryNum });
    const ack = await this.fake.sendEnvelope(type, payload, { retryAttempt: opts.retryNum });
    const answer = ack.payload && Object.keys(ack.payload).length > 0 ? JSON.stringify(ack.payload) : '';
    return new Response(answer, { status: 200, headers: answer ? { 'content-type': 'application/json' } : {} });
  }

  /** Waits until every listener started by the requests so far has finished. */
  async idle(): Promise<void> {
    for (let i = 0; i < 400; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.inflight === 0) return;
    }
    throw new Error('listeners did not finish');
  }

  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}${this.seq}`;
  }

  /** A slash command; returns the HTTP response and the id of its response_url. */
  async command(user: string, text: string, opts: { channel?: string; triggerId?: string } = {}): Promise<{ res: Response; responseId: string; triggerId: string }> {
    const { payload, responseId, triggerId } = this.commandPayload(user, text, opts);
    const res = await this.toBot('slash_commands', payload, { body: new URLSearchParams(payload).toString(), contentType: 'application/x-www-form-urlencoded' });
    await this.idle();
    return { res, responseId, triggerId };
  }

  /** The fields Slack sends for `/ticket <text>` (form-encoded over HTTP, an object in Socket Mode). */
  commandPayload(user: string, text: string, opts: { channel?: string; triggerId?: string } = {}): { payload: Record<string, string>; responseId: string; triggerId: string } {
    const responseId = this.nextId('cmd');
    const triggerId = opts.triggerId ?? this.fake.issueTriggerId();
    const payload = {
      token: 'legacy',
      team_id: this.fake.teamId,
      channel_id: opts.channel ?? 'C0GEN',
      user_id: user,
      command: '/ticket',
      // Slack escapes &, <, > in command text (mentions and links stay tokens).
      text: asSlackSends(text),
      response_url: this.fake.responseUrl(responseId),
      trigger_id: triggerId,
      api_app_id: 'A0TEST',
    };
    return { payload, responseId, triggerId };
  }

  /** Texts sent to a response_url. */
  responseTexts(responseId: string): string[] {
    return this.fake.responses.filter((r) => r.id === responseId).map((r) => JSON.stringify(r.body));
  }

  async interaction(payload: Record<string, unknown>, opts: { retryNum?: number } = {}): Promise<Response> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await this.toBot('interactive', payload, { body, contentType: 'application/x-www-form-urlencoded' }, opts);
    await this.idle();
    return res;
  }

  /** A button (or select) pressed on a message in a channel or DM. */
  async press(user: string, actionId: string, value: string, where: { channel: string; ts: string; text?: string; blocks?: unknown[] }, opts: { actionTs?: string; selected?: string; retryNum?: number } = {}): Promise<Response> {
    const actionTs = opts.actionTs ?? this.nextId('1700000100.');
    const responseId = this.nextId('act');
    return this.interaction(
      {
        type: 'block_actions',
        team: { id: this.fake.teamId },
        user: { id: user, team_id: this.fake.teamId },
        api_app_id: 'A0TEST',
        trigger_id: this.fake.issueTriggerId(),
        container: { type: 'message', message_ts: where.ts, channel_id: where.channel, is_ephemeral: false },
        channel: { id: where.channel },
        message: { ts: where.ts, text: where.text ?? '', blocks: where.blocks ?? [] },
        response_url: this.fake.responseUrl(responseId),
        actions: [{ action_id: actionId, block_id: 'b', action_ts: actionTs, type: opts.selected ? 'overflow' : 'button', value, ...(opts.selected ? { selected_option: { value: opts.selected } } : {}) }],
      },
      { retryNum: opts.retryNum },
    );
  }

  /** A select changed inside an open modal (dispatch_action). */
  async selectInView(user: string, view: FakeView, actionId: string, blockId: string, selected: string): Promise<Response> {
    return this.interaction({
      type: 'block_actions',
      team: { id: this.fake.teamId },
      user: { id: user },
      trigger_id: this.fake.issueTriggerId(),
      container: { type: 'view', view_id: view.id },
      view: { id: view.id, hash: view.hash, callback_id: view.view.callback_id, private_metadata: view.view.private_metadata, blocks: view.view.blocks, state: { values: {} } },
      actions: [{ action_id: actionId, block_id: blockId, action_ts: this.nextId('1700000200.'), type: 'static_select', selected_option: { value: selected } }],
    });
  }

  /** Submits an open modal with values by block id; returns Slack's view of the answer (JSON or empty). */
  async submit(user: string, view: FakeView, answers: Record<string, string | string[] | undefined>, opts: { retryNum?: number } = {}): Promise<{ status: number; body: any }> {
    const values: Record<string, Record<string, unknown>> = {};
    for (const block of (view.view.blocks as Array<Record<string, any>>) ?? []) {
      if (block.type !== 'input') continue;
      const element = block.element as Record<string, any>;
      const answer = answers[block.block_id];
      const actionId = element.action_id as string;
      let state: Record<string, unknown>;
      switch (element.type) {
        case 'static_select': {
          const chosen = typeof answer === 'string' ? answer : element.initial_option?.value;
          state = { type: 'static_select', selected_option: chosen ? { value: chosen } : null };
          break;
        }
        case 'checkboxes':
        case 'multi_static_select': {
          // Slack sends the picked options (only values the element offered).
          const offered = new Set(((element.options ?? []) as Array<{ value: string }>).map((o) => o.value));
          const picked = Array.isArray(answer) ? answer.filter((v: string) => offered.has(v)) : [];
          state = { type: element.type, selected_options: picked.map((v: string) => ({ value: v })) };
          break;
        }
        case 'users_select':
          state = { type: 'users_select', selected_user: typeof answer === 'string' ? answer : null };
          break;
        case 'file_input': {
          const ids = Array.isArray(answer) ? answer : [];
          // A file_input upload is a file Slack knows (files.info, url_private), shared nowhere yet.
          for (const id of ids) this.fake.addFile({ id, name: `${id}.png` });
          state = { type: 'file_input', files: ids.map((id) => ({ id, name: `${id}.png`, permalink: `https://files.slack.com/${id}` })) };
          break;
        }
        default:
          state = { type: element.type, value: typeof answer === 'string' ? answer : (element.initial_value ?? null) };
      }
      values[block.block_id] = { [actionId]: state };
    }
    const res = await this.interaction(
      {
        type: 'view_submission',
        team: { id: this.fake.teamId },
        user: { id: user },
        trigger_id: this.fake.issueTriggerId(),
        view: { id: view.id, hash: view.hash, callback_id: view.view.callback_id, private_metadata: view.view.private_metadata, blocks: view.view.blocks, state: { values } },
      },
      opts,
    );
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** An Events API callback. */
  async event(event: Record<string, unknown>, opts: { eventId?: string; retryNum?: number } = {}): Promise<Response> {
    const payload = {
      token: 'legacy',
      team_id: this.fake.teamId,
      api_app_id: 'A0TEST',
      type: 'event_callback',
      event_id: opts.eventId ?? this.nextId('Ev'),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.fake.teamId, user_id: this.fake.botUserId, is_bot: true }],
      event: { event_ts: String(Date.now() / 1000), ...event },
    };
    const res = await this.toBot('events_api', payload, { body: JSON.stringify(payload), contentType: 'application/json' }, { retryNum: opts.retryNum });
    await this.idle();
    return res;
  }

  /** A person writes a message (the fake stores it, Slack sends the event). */
  async say(user: string, channel: string, text: string, opts: { threadTs?: string; files?: Array<{ id: string; name: string; bytes?: Buffer }>; eventId?: string; retryNum?: number } = {}): Promise<{ ts: string; res: Response }> {
    // Slack stores and sends message text escaped (&amp; &lt; &gt;), mentions and links as tokens.
    const escaped = asSlackSends(text);
    const msg = this.fake.addMessage({ channel, text: escaped, user, thread_ts: opts.threadTs });
    for (const f of opts.files ?? []) this.fake.addFile(f);
    const res = await this.event(
      {
        type: 'message',
        channel,
        channel_type: channel.startsWith('D') ? 'im' : channel.startsWith('G') ? 'group' : 'channel',
        user,
        text: escaped,
        ts: msg.ts,
        ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
        ...(opts.files ? { subtype: 'file_share', files: opts.files.map((f) => ({ id: f.id, name: f.name, permalink: `https://files.slack.com/${f.id}` })) } : {}),
      },
      { eventId: opts.eventId, retryNum: opts.retryNum },
    );
    return { ts: msg.ts, res };
  }

  /** Delivers the outbox until nothing is left to send now. */
  async deliver(): Promise<number> {
    let sent = 0;
    for (let i = 0; i < 50; i++) {
      const tick = await this.dispatcher.tickOnce();
      sent += tick.sent;
      if (tick.claimed === 0) return sent;
    }
    throw new Error('outbox did not drain');
  }

  /** The most recently opened modal. */
  lastView(): FakeView {
    const views = [...this.fake.views.values()];
    const view = views[views.length - 1];
    if (!view) throw new Error('no modal was opened');
    return view;
  }

  /** The card message of a ticket in a channel. */
  cardIn(channel: string, key: string) {
    return this.fake.messages.find((m) => m.channel === channel && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(`${key} ·`));
  }

  async outboxRows() {
    return this.storage.db.selectFrom('outbox').selectAll().orderBy('created_at').orderBy('id').execute();
  }
}

/** Every text of a message's blocks, for assertions on what a person sees. */
export function blockText(blocks: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(blocks);
  return out.join('\n');
}
