import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import type { AppContext } from '../../src/app/context';
import type { DashboardLinks } from '../../src/chat/dashboard';
import { createFeishuApp, FEISHU_EVENTS_PATH, type FeishuApp } from '../../src/feishu/app';
import { buildFeishuRequest } from '../../src/feishu/verify';
import { OutboxDispatcher } from '../../src/jobs/outbox-dispatcher';
import type { Storage } from '../../src/storage/database';
import { openMigratedSqlite } from '../support/storage';
import { ManualTime, testContext } from '../support/app';
import { validateCard } from './feishu-card-rules';
import { startFakeFeishu, type FakeFeishu, type WsAck } from './feishu-server';
import { storageFeishuPorts } from '../../src/wiring/feishu-ports';

/** A config with departments on Feishu (and one on Slack, for the cross-platform test). */
export const FEISHU_TEST_CONFIG = `
locale: zh-CN
admins: [feishu:ou_admin]
calendars:
  cn-247:
    timezone: Asia/Shanghai
    week: { mon-sun: ["00:00-24:00"] }
departments:
  - id: helpdesk
    name: { en: Helpdesk, zh-CN: 服务台 }
    key_prefix: HD
    feishu: { chat_id: oc_help }
    members: channel
    supervisors: [feishu:ou_boss]
    calendar: cn-247
    routing: { strategy: claim }
    handoff: { accept: 30m, resolve: 1d }
  - id: finance
    name: { en: Finance, zh-CN: 财务部 }
    key_prefix: FIN
    feishu: { chat_id: oc_fin }
    members: channel
    supervisors: [feishu:ou_boss]
    calendar: cn-247
    routing: { strategy: claim }
    handoff: { accept: 1h, resolve: 2d }
  - id: it
    name: { en: IT, zh-CN: 信息技术部 }
    slack: { channel: C0IT }
    members: [slack:UIT1]
    supervisors: [slack:UBOSS]
    calendar: cn-247
    routing: { strategy: claim }
    handoff: { accept: 30m, resolve: 1d }
fields:
  - { id: account, name: { en: Account, zh-CN: 账号 } }
  - { id: device, name: { en: Device, zh-CN: 设备 } }
  - { id: order_id, name: { en: Order ID, zh-CN: 订单号 } }
categories:
  - id: fault
    name: { en: Fault, zh-CN: 故障类 }
    department: helpdesk
    children:
      - id: login
        name: { en: Login, zh-CN: 登录问题 }
        children:
          - { id: no-code, name: { en: No verification code, zh-CN: 收不到验证码 }, required: [account, device] }
          - { id: wrong-password, name: { en: Wrong password, zh-CN: 密码错误 }, required: [account] }
  - id: after-sales
    name: { en: After-sales, zh-CN: 售后类 }
    department: finance
    children:
      - id: refund
        name: { en: Refund, zh-CN: 退款 }
        children:
          - { id: refund-request, name: { en: Refund request, zh-CN: 申请退款 }, required: [order_id] }
  - id: laptop
    name: { en: Laptop, zh-CN: 电脑 }
    department: it
    children:
      - id: hardware
        name: { en: Hardware, zh-CN: 硬件 }
        children:
          - { id: broken-screen, name: { en: Broken screen, zh-CN: 屏幕损坏 } }
sla:
  - { id: all, first_response: 1h, resolution: 1d }
escalation:
  - { at: 100%, notify: [department_channel] }
  - { at: 150%, notify: supervisors, urgent: true, urgent_via: [app, sms] }
closing: { confirm_within: 3d, auto_close: true, survey: true }
templates:
  - id: need-info
    name: { en: Need more info, zh-CN: 需要补充信息 }
    text: { en: "Could you tell us more?", zh-CN: "请补充更多信息。" }
intake:
  default_category: wrong-password
  default_priority: normal
return_reasons:
  - { id: wrong-department, name: { en: Wrong department, zh-CN: 分派错误 } }
`;

/** `cli_` + 16 hex digits: the Lark SDK's WSClient will not connect with anything else. */
export const LONG_CONNECTION_APP_ID = 'cli_a1b2c3d4e5f60718';

export const SECRETS = { encryptKey: 'test-encrypt-key-0123', verificationToken: 'test-verification-token' };
export const TENANT = 'tenant_fake';

export function feishuTestConfig(locale: 'zh-CN' | 'en' = 'zh-CN'): Config {
  const parsed = parseConfigText(FEISHU_TEST_CONFIG.replace('locale: zh-CN', `locale: ${locale}`));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return parsed.config;
}

export interface PostOptions {
  timestampSec?: number;
  encrypt?: boolean;
  secrets?: typeof SECRETS;
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * The app in HTTP mode on loopback (or on the long connection, the production default, with
 * `longConnection`), the fake open platform, a manual clock, SQLite in memory and the real outbox
 * dispatcher with the Feishu sender. Tests talk to it like Feishu does.
 */
export class FeishuHarness {
  private eventSeq = 0;
  private server: Server | undefined;
  url = '';
  /** The acks of every frame pushed over the long connection (long-connection mode only). */
  readonly wsAcks: WsAck[] = [];
  dispatcher!: OutboxDispatcher;

  private constructor(
    readonly storage: Storage,
    readonly time: ManualTime,
    readonly ctx: AppContext,
    readonly fake: FakeFeishu,
    readonly app: Extract<FeishuApp, { enabled: true }>,
  ) {}

  /** `dashboard` builds the `/ticket dashboard` links from the harness's context (omit it: off). */
  /**
   * `longConnection` leaves FEISHU_MODE unset (the SDK's WSClient against the fake's long-connection
   * endpoint, no HTTP server): `post` and everything built on it then push frames over the socket.
   */
  static async start(
    opts: {
      ackBudgetMs?: number;
      workConcurrency?: number;
      locale?: 'zh-CN' | 'en';
      dashboard?: (ctx: AppContext) => DashboardLinks;
      longConnection?: boolean;
      /** Another configuration (the parity suite runs one config on both platforms). */
      config?: Config;
      /** Another database (PostgreSQL: see test/support/storage.ts storageVariants); closed by stop(). */
      storage?: Storage;
    } = {},
  ): Promise<FeishuHarness> {
    const storage = opts.storage ?? (await openMigratedSqlite());
    const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));
    const ctx = testContext(storage, time, opts.config ?? feishuTestConfig(opts.locale));
    if (process.env.TEST_LOG_LEVEL) ctx.logger = pino({ level: process.env.TEST_LOG_LEVEL });
    const fake = await startFakeFeishu(opts.longConnection ? { appId: LONG_CONNECTION_APP_ID } : {});
    fake.nowMs = () => time.now().getTime();
    for (const [openId, name] of [
      ['ou_req', '张三'],
      ['ou_req_en', 'Emma'],
      ['ou_a1', '李四'],
      ['ou_a2', 'Alan'],
      ['ou_f1', '王五'],
      ['ou_out', '路人'],
      ['ou_boss', '赵主管'],
    ] as const)
      fake.addUser({ open_id: openId, name, email: `${openId}@example.com` });
    fake.chatMembers.set('oc_help', ['ou_a1', 'ou_a2']);
    fake.chatMembers.set('oc_fin', ['ou_f1']);
    // The bot was added to the department chats (and the reports tests' digest chat); others refuse it.
    for (const chat of ['oc_help', 'oc_fin', 'oc_mgmt']) fake.botChats.add(chat);
    const web = opts.longConnection ? undefined : express();
    const app = createFeishuApp({
      ctx,
      env: web
        ? { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_MODE: 'http', FEISHU_ENCRYPT_KEY: SECRETS.encryptKey, FEISHU_VERIFICATION_TOKEN: SECRETS.verificationToken }
        : { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret },
      ports: storageFeishuPorts(storage.db, () => time.now().toISOString()),
      ...(web ? { expressApp: web } : {}),
      domain: fake.url,
      ...(opts.ackBudgetMs ? { ackBudgetMs: opts.ackBudgetMs } : {}),
      ...(opts.workConcurrency ? { workConcurrency: opts.workConcurrency } : {}),
      ...(opts.dashboard ? { dashboard: opts.dashboard(ctx) } : {}),
    });
    if (!app.enabled) throw new Error(app.reason);
    const h = new FeishuHarness(storage, time, ctx, fake, app);
    if (web) {
      await new Promise<void>((resolve) => {
        h.server = web.listen(0, '127.0.0.1', () => resolve());
      });
      h.url = `http://127.0.0.1:${(h.server!.address() as AddressInfo).port}`;
    }
    h.dispatcher = new OutboxDispatcher({
      db: storage.db,
      dialect: storage.dialect,
      owner: 'test',
      sender: app.sender,
      time,
      logger: ctx.logger,
      admins: ctx.config.raw.admins,
      defaultLocale: ctx.config.raw.locale,
      newId: ctx.newId,
      targetIntervalMs: 0,
    });
    await app.start();
    // WSClient.start() resolves before the socket is up (it does not await its own connect).
    if (opts.longConnection) await h.waitFor(() => fake.socketCount === 1, 'the long connection to open');
    return h;
  }

  get longConnection(): boolean {
    return this.app.mode === 'ws';
  }

  async stop(): Promise<void> {
    await this.app.stop();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.fake.stop();
    await this.storage.close();
  }

  /** Polls (real time) until `cond` holds; throws after `timeoutMs`. */
  async waitFor(cond: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * POSTs a payload to /feishu/events, signed and encrypted as Feishu does. On the long connection
   * it is pushed as an `event` frame instead and the ack is returned as `{ status: code, body }`
   * (the ack's code is 200, or 500 when the handler threw); the HTTP-only options do not apply there.
   */
  async post(payload: unknown, o: PostOptions = {}): Promise<{ status: number; body: any }> {
    if (this.longConnection) {
      if (Object.keys(o).length > 0) throw new Error(`FeishuHarness.post: ${Object.keys(o).join(', ')} only apply to HTTP mode`);
      return this.push(payload as object);
    }
    const req = buildFeishuRequest(o.secrets ?? SECRETS, payload, { timestampSec: o.timestampSec ?? Math.floor(this.time.now().getTime() / 1000), encrypt: o.encrypt ?? true });
    const res = await fetch(this.url + FEISHU_EVENTS_PATH, { method: 'POST', headers: { ...req.headers, ...o.headers }, body: o.rawBody ?? req.body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Pushes an envelope over the long connection (long-connection mode only). */
  async push(envelope: object, o: Parameters<FakeFeishu['pushEvent']>[1] = {}): Promise<{ status: number; body: any }> {
    const ack = await this.fake.pushEvent(envelope, o);
    this.wsAcks.push(ack);
    return { status: ack.code, body: ack.body };
  }

  envelope(eventType: string, event: unknown, eventId = `ev_${++this.eventSeq}`): Record<string, unknown> {
    return {
      schema: '2.0',
      header: { event_id: eventId, event_type: eventType, create_time: String(this.time.now().getTime()), token: SECRETS.verificationToken, app_id: this.fake.appId, tenant_key: TENANT },
      event,
    };
  }

  /** A text message from a user: in the DM with the bot unless `chatId` names a group. */
  messageEvent(from: string, text: string, o: { chatId?: string; rootId?: string; parentId?: string; mentionBot?: boolean; messageId?: string } = {}): Record<string, unknown> {
    const group = o.chatId !== undefined && !o.chatId.startsWith('oc_p2p_');
    const content = o.mentionBot ? `@_user_1 ${text}` : text;
    const messageId = o.messageId ?? `om_in_${++this.eventSeq}`;
    const chatId = o.chatId ?? this.fake.p2pChatOf(from);
    this.fake.addUserMessage({ message_id: messageId, chat_id: chatId, content: JSON.stringify({ text }), root_id: o.rootId, parent_id: o.parentId });
    return this.envelope('im.message.receive_v1', {
      sender: { sender_id: { open_id: from }, sender_type: 'user', tenant_key: TENANT },
      message: {
        message_id: messageId,
        ...(o.rootId ? { root_id: o.rootId } : {}),
        ...(o.parentId ? { parent_id: o.parentId } : {}),
        chat_id: chatId,
        chat_type: group ? 'group' : 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: content }),
        ...(o.mentionBot ? { mentions: [{ key: '@_user_1', id: { open_id: this.fake.botOpenId }, name: 'ticketbot' }] } : {}),
      },
    });
  }

  async say(from: string, text: string, o: Parameters<FeishuHarness['messageEvent']>[2] = {}): Promise<{ status: number; body: any }> {
    return this.post(this.messageEvent(from, text, o));
  }

  actionEvent(from: string, messageId: string, value: unknown, o: { option?: string; formValue?: Record<string, unknown>; chatId?: string } = {}): Record<string, unknown> {
    const seq = ++this.eventSeq;
    return this.envelope('card.action.trigger', {
      operator: { open_id: from, tenant_key: TENANT },
      token: `c-token-${seq}`,
      action: { value, tag: o.formValue ? 'button' : o.option ? 'select_static' : 'button', ...(o.option ? { option: o.option } : {}), ...(o.formValue ? { form_value: o.formValue, name: 'submit' } : {}) },
      host: 'im_message',
      context: { open_message_id: messageId, open_chat_id: o.chatId ?? this.fake.message(messageId)?.chat_id ?? '' },
    });
  }

  async click(from: string, messageId: string, value: unknown, o: Parameters<FeishuHarness['actionEvent']>[3] = {}): Promise<{ status: number; body: any }> {
    const res = await this.post(this.actionEvent(from, messageId, value, o));
    // A card returned in the callback answer is checked like a sent one (Feishu shows an error instead of it).
    const card = res.body?.card?.type === 'raw' ? res.body.card.data : undefined;
    if (card !== undefined) {
      const violations = validateCard(card);
      if (violations.length) {
        this.fake.refusedCards.push({ path: 'card.action.trigger response', violations });
        throw new Error(`the card returned to a click breaks card JSON 2.0: ${violations.map((v) => `${v.path}: ${v.rule}`).join('; ')}`);
      }
    }
    return res;
  }

  async menu(from: string, key: string): Promise<{ status: number; body: any }> {
    return this.post(this.envelope('application.bot.menu_v6', { operator: { operator_id: { open_id: from }, operator_name: from }, event_key: key, timestamp: Date.now() }));
  }

  /** Sends every pending outbox row (and what sending makes pending) through the Feishu sender. */
  async flush(): Promise<number> {
    let sent = 0;
    for (let i = 0; i < 20; i++) {
      const r = await this.dispatcher.tickOnce();
      sent += r.sent;
      if (r.claimed === 0) break;
    }
    return sent;
  }

  async count(table: 'tickets' | 'inbox' | 'outbox' | 'messages' | 'audit_events' | 'users'): Promise<number> {
    const row = await this.storage.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/** Finds a control in a card by a predicate on its callback value (buttons, selects, form submits). */
export function findControl(card: unknown, pred: (value: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  const walk = (node: unknown): void => {
    if (found || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const obj = node as Record<string, unknown>;
    const behaviors = obj.behaviors as { value?: Record<string, unknown> }[] | undefined;
    const value = behaviors?.[0]?.value;
    if (value && pred(value)) {
      found = value;
      return;
    }
    Object.values(obj).forEach(walk);
  };
  walk(card);
  return found;
}

/** Every plain_text / markdown string in a card, joined (for "does the card say X" checks). */
export function cardText(card: unknown): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const obj = node as Record<string, unknown>;
    if (typeof obj.content === 'string') out.push(obj.content);
    Object.values(obj).forEach(walk);
  };
  walk(card);
  return out.join('\n');
}
