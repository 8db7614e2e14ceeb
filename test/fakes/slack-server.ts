import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe as describeViolations, elementTypes, validateMessage, validateView, type Violation } from './block-kit-rules';

/**
 * The few parts of the `ws` package (8.x, installed with @larksuiteoapi/node-sdk) the fake uses:
 * it ships no types and @types/ws is not installed, so a narrow local type stands in.
 */
interface WsSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}
interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, callback: (ws: WsSocket) => void): void;
  close(callback?: () => void): void;
}
const { WebSocketServer } = require('ws') as { WebSocketServer: new (options: { noServer: true; clientTracking: false }) => WsServer };
const WS_OPEN = 1;

/**
 * A loopback fake of Slack's Web API (and of response_url endpoints). It speaks the shapes the
 * real API uses — form or JSON bodies, `Authorization: Bearer`, `{ ok, error }` answers, 429 with
 * Retry-After — records every call, and keeps just enough state (messages, views, users,
 * channels, uploaded files) for the bot to behave as it would against Slack.
 *
 * File uploads follow Slack's external flow: files.getUploadURLExternal hands out an upload URL on
 * this same server (POST the bytes there, raw or multipart), then files.completeUploadExternal
 * finishes the file and, with a channel_id, shares it in one message carrying `blocks` (or
 * `initial_comment`, which makes Slack ignore `blocks`).
 */

export interface FakeUser {
  id: string;
  name: string;
  locale?: string;
  tz?: string;
  is_bot?: boolean;
  bot_id?: string;
  email?: string;
}

export interface FakeChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_im?: boolean;
  /** Members; the bot posts only where it is a member (or the channel is public). */
  members: string[];
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string | undefined;
  text?: string | undefined;
  blocks?: unknown[] | undefined;
  metadata?: { event_type: string; event_payload: Record<string, unknown> } | undefined;
  user?: string | undefined;
  bot_id?: string | undefined;
  /** Files shared by the message (files.completeUploadExternal with a channel). */
  files?: FakeFileRef[] | undefined;
  edits: number;
}

export interface FakeFileRef {
  id: string;
  name: string;
  title: string;
  mimetype: string;
}

/** A file announced by files.getUploadURLExternal; `bytes` once uploaded, `completed` once finished. */
export interface FakeFile {
  id: string;
  name: string;
  /** The length announced in files.getUploadURLExternal. */
  length: number;
  alt_txt?: string | undefined;
  title?: string | undefined;
  uploadUrl: string;
  bytes?: Buffer | undefined;
  completed: boolean;
  /** Channels the file was shared in, with the ts of the share message. */
  shares: Array<{ channel: string; ts: string }>;
}

export interface FakeView {
  id: string;
  trigger_id?: string | undefined;
  user?: string | undefined;
  view: Record<string, unknown>;
  hash: string;
}

export interface RecordedCall {
  method: string;
  args: Record<string, any>;
  token: string | undefined;
  at: number;
}

/** A scripted failure for the next call(s) of a method. */
export type FakeFailure =
  | { kind: 'error'; error: string; times?: number }
  | { kind: 'ratelimited'; retryAfterSec: number; times?: number }
  | { kind: 'http'; status: number; times?: number }
  /** The call takes effect but its answer is lost (a 5xx after the work, as when a gateway times out). */
  | { kind: 'lost'; status?: number; times?: number };

/** What Slack sends over a Socket Mode connection for each delivery (docs: "Using Socket Mode"). */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  /** events_api only: Slack's redeliveries count up from 0, with the reason of the last failure. */
  retry_attempt?: number;
  retry_reason?: string;
}

/** The app's acknowledgement of an envelope: `payload` carries a response (modal errors, command answer). */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface FakeSlackOptions {
  botToken?: string;
  /** The app-level token (`xapp-…`) that apps.connections.open requires. */
  appToken?: string;
  appId?: string;
  teamId?: string;
  teamName?: string;
  botUserId?: string;
  botId?: string;
}

export class FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly appId: string;
  readonly teamId: string;
  readonly teamName: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly calls: RecordedCall[] = [];
  /** Posts to response_url endpoints (slash command and action responses). */
  readonly responses: Array<{ id: string; body: Record<string, any> }> = [];
  readonly users = new Map<string, FakeUser>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages: FakeMessage[] = [];
  readonly views = new Map<string, FakeView>();
  readonly published = new Map<string, Record<string, any>>();
  /** Ephemeral messages shown (chat.postEphemeral that Slack accepted). */
  readonly ephemerals: Array<{ channel: string; user: string; text?: string; blocks?: unknown[] }> = [];
  /** Files by id (see FakeFile); POSTs to upload URLs are recorded in `calls` as UPLOAD_METHOD. */
  readonly files = new Map<string, FakeFile>();
  private failures = new Map<string, FakeFailure[]>();
  /**
   * Scopes the bot token has; methods check them as Slack does (`missing_scope` + `needed`).
   * Defaults to exactly what manifests/slack/manifest.yaml requests, so a scope missing there
   * fails the tests that need it.
   */
  readonly scopes: Set<string> = new Set(manifestBotScopes());
  /** trigger_ids handed out (issueTriggerId) and when; views.open/push refuse them after triggerTtlMs. */
  private readonly triggers = new Map<string, { issuedMs: number; used: boolean }>();
  /** Slack: "trigger_id … expires in 3 seconds" (https://api.slack.com/interactivity/handling#modal_responses). */
  triggerTtlMs = 3_000;
  /** Block Kit violations the fake refused, newest last (for test diagnostics). */
  readonly refused: Array<{ method: string; violations: Violation[] }> = [];
  private server: Server | undefined;
  private port = 0;
  private tsCounter = 0;
  private viewCounter = 0;
  private fileCounter = 0;
  private waiters: Array<() => void> = [];
  /** Socket Mode: envelopes sent to the app and acks it sent back, in order. */
  readonly envelopes: SocketEnvelope[] = [];
  readonly acks: SocketAck[] = [];
  private wss: WsServer | undefined;
  private readonly sockets = new Set<WsSocket>();
  /** Tickets handed out by apps.connections.open; each URL connects once, as Slack's do. */
  private readonly tickets = new Set<string>();
  private readonly pendingAcks = new Map<string, (ack: SocketAck) => void>();
  private envelopeCounter = 0;

  constructor(options: FakeSlackOptions = {}) {
    this.botToken = options.botToken ?? 'xoxb-test-token';
    this.appToken = options.appToken ?? 'xapp-1-A0TEST-1-test';
    this.appId = options.appId ?? 'A0TEST';
    this.teamId = options.teamId ?? 'T0TEST';
    this.teamName = options.teamName ?? 'Test Workspace';
    this.botUserId = options.botUserId ?? 'UBOT';
    this.botId = options.botId ?? 'BBOT';
    this.users.set(this.botUserId, { id: this.botUserId, name: 'ticketbot', is_bot: true, bot_id: this.botId });
  }

  /** Base URL for WebClient's `slackApiUrl` (ends with /api/). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A response_url the fake records, as Slack includes in commands and actions. */
  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/respond/${id}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Upgraded sockets are no longer the HTTP server's: end them here (an app still connected sees the link drop).
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    const wss = this.wss;
    this.wss = undefined;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Open Socket Mode connections (after their hello). */
  get socketCount(): number {
    return [...this.sockets].filter((ws) => ws.readyState === WS_OPEN).length;
  }

  /**
   * Delivers a payload over the newest Socket Mode connection, as Slack does, and resolves with
   * the app's ack (`{ envelope_id, payload? }`); rejects when no ack comes within `timeoutMs`
   * (Slack's deadline is 3 s). `retryAttempt` makes it a redelivery (events_api carries
   * retry_attempt / retry_reason); `envelopeId` lets a test send the very same envelope again.
   */
  async sendEnvelope(type: EnvelopeType, payload: Record<string, unknown>, opts: { envelopeId?: string; retryAttempt?: number; retryReason?: string; timeoutMs?: number } = {}): Promise<SocketAck> {
    const ws = [...this.sockets].filter((s) => s.readyState === WS_OPEN).at(-1);
    if (!ws) throw new Error(`FakeSlack.sendEnvelope: no open Socket Mode connection for ${type}`);
    this.envelopeCounter += 1;
    const envelopeId = opts.envelopeId ?? `${randomBytes(4).toString('hex')}-${String(this.envelopeCounter).padStart(4, '0')}`;
    if (this.pendingAcks.has(envelopeId)) throw new Error(`FakeSlack.sendEnvelope: envelope ${envelopeId} is still waiting for its ack`);
    const envelope: SocketEnvelope = {
      envelope_id: envelopeId,
      type,
      payload,
      // Slack lets commands and interactions answer in the ack (modal errors, command text); events not.
      accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryAttempt ? (opts.retryReason ?? 'timeout') : '' } : {}),
    };
    const timeoutMs = opts.timeoutMs ?? 3_000;
    const acked = new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(envelopeId);
        reject(new Error(`FakeSlack.sendEnvelope: no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAcks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        this.pendingAcks.delete(envelopeId);
        resolve(ack);
      });
    });
    this.envelopes.push(envelope);
    ws.send(JSON.stringify(envelope));
    return acked;
  }

  /** A WebSocket upgrade at /socket with a ticket from apps.connections.open; anything else is refused. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    const wss = this.wss;
    if (url.pathname !== SOCKET_PATH || !this.tickets.delete(ticket) || !wss) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', () => this.sockets.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let ack: SocketAck;
        try {
          ack = JSON.parse(data.toString('utf8')) as SocketAck;
        } catch {
          return;
        }
        if (typeof ack?.envelope_id !== 'string') return;
        this.acks.push(ack);
        this.pendingAcks.get(ack.envelope_id)?.(ack);
        this.notify();
      });
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: this.sockets.size,
          debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 },
          connection_info: { app_id: this.appId },
        }),
      );
      this.notify();
    });
  }

  addUser(user: FakeUser): void {
    this.users.set(user.id, user);
  }

  /**
   * A file a person shared (files.info then knows it, and its url_private serves `bytes` to the
   * bot token), as a completed upload. Announcing the same id again keeps the first bytes.
   */
  addFile(file: { id: string; name: string; bytes?: Buffer }): void {
    const known = this.files.get(file.id);
    if (known && !file.bytes) return;
    const bytes = file.bytes ?? Buffer.from(`contents of ${file.name}`);
    this.files.set(file.id, { id: file.id, name: file.name, length: bytes.length, uploadUrl: '', bytes, completed: true, shares: [] });
  }

  /** A trigger_id as Slack puts in commands, shortcuts and block actions; valid for `triggerTtlMs`. */
  issueTriggerId(): string {
    const id = `${Date.now()}.${String(this.triggers.size + 1).padStart(6, '0')}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { issuedMs: Date.now(), used: false });
    return id;
  }

  /** views.open / push: a trigger we issued, used once, within its 3 seconds. Unknown ids (hand-made in tests) pass. */
  private triggerError(triggerId: unknown): string | undefined {
    if (typeof triggerId !== 'string' || triggerId === '') return 'invalid_arguments';
    const t = this.triggers.get(triggerId);
    if (!t) return undefined;
    if (t.used) return 'exchanged_trigger_id';
    if (Date.now() - t.issuedMs > this.triggerTtlMs) return 'expired_trigger_id';
    t.used = true;
    return undefined;
  }

  /** A refusal of bad Block Kit the way Slack answers it: an error plus response_metadata.messages. */
  private refuse(method: string, error: string, violations: Violation[]): Record<string, unknown> {
    this.refused.push({ method, violations });
    return { ok: false, error, response_metadata: { messages: describeViolations(violations) } };
  }

  /** `missing_scope` unless the token has one of the scopes (https://api.slack.com/methods — each method's "Required scopes"). */
  private scopeError(method: string, args: Record<string, any>): Record<string, unknown> | undefined {
    const needed = METHOD_SCOPES[method];
    if (needed && needed.length > 0 && !needed.some((s) => this.scopes.has(s))) return { ok: false, error: 'missing_scope', needed: needed.join(','), provided: [...this.scopes].join(',') };
    // file_input in a view needs files:read (https://api.slack.com/reference/block-kit/block-elements#file_input).
    if (method.startsWith('views.') && elementTypes(args.view).has('file_input') && !this.scopes.has('files:read')) return { ok: false, error: 'missing_scope', needed: 'files:read', provided: [...this.scopes].join(',') };
    return undefined;
  }

  addChannel(channel: FakeChannel): void {
    this.channels.set(channel.id, channel);
  }

  /** Makes the next `times` (default 1) calls of `method` fail as scripted. */
  failNext(method: string, failure: FakeFailure): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  messagesIn(channel: string, threadTs?: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && (threadTs === undefined ? true : m.thread_ts === threadTs || m.ts === threadTs));
  }

  /** Resolves once a call has arrived for which `predicate` holds (polling the record, no sleeps). */
  async waitFor(predicate: (fake: FakeSlack) => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error('FakeSlack.waitFor: timed out');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Adds a message as if a person had written it (for conversations.history / permalinks). */
  addMessage(message: Omit<FakeMessage, 'edits' | 'ts'> & { ts?: string }): FakeMessage {
    const stored: FakeMessage = { ...message, ts: message.ts ?? this.nextTs(), edits: 0 };
    // A person writing to the bot opens their DM with it, as in Slack.
    if (message.channel.startsWith('D') && !this.channels.has(message.channel) && message.user)
      this.channels.set(message.channel, { id: message.channel, name: message.channel, is_im: true, members: [message.user, this.botUserId] });
    this.messages.push(stored);
    return stored;
  }

  nextTs(): string {
    // Like Slack's: seconds of the wall clock, then a per-server sequence that keeps them unique.
    this.tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const raw = body.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith(UPLOAD_PATH)) return this.receiveUpload(req, res, url.pathname.slice(UPLOAD_PATH.length), body);
    if (url.pathname.startsWith(DOWNLOAD_PATH)) return this.serveDownload(req, res, url.pathname.slice(DOWNLOAD_PATH.length));
    if (url.pathname.startsWith('/respond/')) {
      const body = parseBody(raw, req.headers['content-type']);
      // A response_url takes a message like chat.postMessage and refuses bad blocks the same way.
      const violations = body.delete_original ? [] : validateMessage({ text: body.text, blocks: body.blocks });
      this.notify();
      if (violations.length) return sendJson(res, 400, this.refuse('response_url', 'invalid_blocks', violations));
      this.responses.push({ id: url.pathname.slice('/respond/'.length), body });
      return sendJson(res, 200, { ok: true });
    }
    if (!url.pathname.startsWith('/api/')) return sendJson(res, 404, { ok: false, error: 'unknown_method' });
    const method = url.pathname.slice('/api/'.length);
    const args = parseBody(raw, req.headers['content-type']);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : (args.token as string | undefined);
    this.calls.push({ method, args, token, at: Date.now() });
    try {
      const failure = this.takeFailure(method);
      if (failure?.kind === 'ratelimited') {
        res.setHeader('Retry-After', String(failure.retryAfterSec));
        return sendJson(res, 429, { ok: false, error: 'ratelimited' });
      }
      if (failure?.kind === 'http') return sendJson(res, failure.status, { ok: false, error: 'service_unavailable' });
      if (failure?.kind === 'error') return sendJson(res, 200, { ok: false, error: failure.error });
      // Socket Mode: only the app-level token opens connections, and it is good for nothing else.
      if (method === 'apps.connections.open') {
        if (token === this.appToken) return sendJson(res, 200, this.openConnection());
        return sendJson(res, 200, { ok: false, error: token === this.botToken ? 'not_allowed_token_type' : token ? 'invalid_auth' : 'not_authed' });
      }
      if (token === this.appToken) return sendJson(res, 200, { ok: false, error: 'not_allowed_token_type' });
      if (token !== this.botToken) return sendJson(res, 200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
      const answer = this.scopeError(method, args) ?? this.blockKitError(method, args) ?? this.answer(method, args);
      if (failure?.kind === 'lost') return sendJson(res, failure.status ?? 504, { ok: false, error: 'gateway_timeout' });
      return sendJson(res, 200, answer);
    } finally {
      this.notify();
    }
  }

  /** Step 2 of an external upload: the bytes, raw or as multipart form data, to the URL handed out. */
  private receiveUpload(req: IncomingMessage, res: ServerResponse, secret: string, body: Buffer): void {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const file = [...this.files.values()].find((f) => f.uploadUrl.endsWith(`${UPLOAD_PATH}${secret}`));
    this.calls.push({ method: UPLOAD_METHOD, args: { file_id: file?.id, bytes: body.length, content_type: req.headers['content-type'] }, token, at: Date.now() });
    try {
      const failure = this.takeFailure(UPLOAD_METHOD);
      if (failure?.kind === 'http' || failure?.kind === 'ratelimited' || failure?.kind === 'error') return sendText(res, failure.kind === 'http' ? failure.status : 500, 'upload failed');
      if (!file || file.completed) return sendText(res, 404, 'not found');
      if (token !== this.botToken) return sendText(res, 403, token ? 'invalid_auth' : 'not_authed');
      const bytes = uploadedBytes(body, req.headers['content-type']);
      // Stricter than Slack, which fails the file later: the bytes must be as many as announced.
      if (bytes.length !== file.length) return sendText(res, 400, `length mismatch: announced ${file.length}, got ${bytes.length}`);
      file.bytes = bytes;
      if (failure?.kind === 'lost') return sendText(res, failure.status ?? 504, 'gateway timeout');
      return sendText(res, 200, `OK - ${bytes.length}`);
    } finally {
      this.notify();
    }
  }

  /**
   * GET of a file's url_private / url_private_download: the bytes, to a bot token with files:read
   * only. Anyone else gets what Slack gives a browser without a session: a redirect to the sign-in
   * page (never the bytes, never a plain 401). Recorded in `calls` as DOWNLOAD_METHOD.
   */
  private serveDownload(req: IncomingMessage, res: ServerResponse, rest: string): void {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const id = /^[A-Z0-9]+-([A-Z0-9]+)\//.exec(rest)?.[1];
    const file = id ? this.files.get(id) : undefined;
    this.calls.push({ method: DOWNLOAD_METHOD, args: { file_id: id }, token, at: Date.now() });
    try {
      const failure = this.takeFailure(DOWNLOAD_METHOD);
      if (failure) return sendText(res, failure.kind === 'http' ? failure.status : 503, 'download failed');
      if (req.method !== 'GET') return sendText(res, 405, 'method not allowed');
      if (token !== this.botToken || !this.scopes.has('files:read')) {
        res.writeHead(302, { location: `https://${this.teamName.toLowerCase().replace(/\W+/g, '')}.slack.com/?redir=%2Ffiles-pri%2F${encodeURIComponent(rest)}` });
        return void res.end();
      }
      if (!file || !file.completed || !file.bytes) return sendText(res, 404, 'file not found');
      res.writeHead(200, { 'content-type': mimeOf(file.name), 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
    } finally {
      this.notify();
    }
  }

  private openConnection(): Record<string, unknown> {
    const ticket = randomBytes(12).toString('hex');
    this.tickets.add(ticket);
    return { ok: true, url: `ws://127.0.0.1:${this.port}${SOCKET_PATH}?ticket=${ticket}&app_id=${this.appId}` };
  }

  /** Files finished with files.completeUploadExternal, in upload order. */
  completedFiles(): FakeFile[] {
    return [...this.files.values()].filter((f) => f.completed);
  }

  /** Every method that takes blocks or a view checks them (block-kit-rules.ts); Slack refuses the call. */
  private blockKitError(method: string, args: Record<string, any>): Record<string, unknown> | undefined {
    if (method === 'chat.postMessage' || method === 'chat.update' || method === 'chat.postEphemeral') {
      const v = validateMessage({ text: args.text, blocks: args.blocks });
      if (v.length) return this.refuse(method, v.some((x) => x.path.startsWith('blocks')) ? 'invalid_blocks' : 'no_text', v);
    }
    if (method === 'files.completeUploadExternal' && Array.isArray(args.blocks)) {
      const v = validateMessage({ blocks: args.blocks });
      if (v.length) return this.refuse(method, 'invalid_blocks', v);
    }
    if (method === 'views.open' || method === 'views.push' || method === 'views.update' || method === 'views.publish') {
      const v = validateView(args.view);
      if (method === 'views.publish' && (args.view as { type?: string } | undefined)?.type !== 'home') v.push({ path: 'view.type', rule: 'views.publish takes home views', doc: 'https://api.slack.com/methods/views.publish' });
      if (v.length) return this.refuse(method, 'invalid_arguments', v);
    }
    return undefined;
  }

  private takeFailure(method: string): FakeFailure | undefined {
    const list = this.failures.get(method);
    const head = list?.[0];
    if (!list || !head) return undefined;
    const remaining = (head.times ?? 1) - 1;
    if (remaining <= 0) list.shift();
    else list[0] = { ...head, times: remaining };
    return head;
  }

  private answer(method: string, args: Record<string, any>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: `https://${this.teamName.toLowerCase().replace(/\W+/g, '')}.slack.com/`, team: this.teamName, user: 'ticketbot', team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update': {
        const msg = this.messages.find((m) => m.channel === args.channel && m.ts === args.ts);
        if (!msg) return { ok: false, error: 'message_not_found' };
        msg.text = args.text ?? msg.text;
        // Like Slack: an update without blocks removes the blocks.
        msg.blocks = args.blocks;
        if (args.metadata) msg.metadata = args.metadata;
        msg.edits += 1;
        return { ok: true, channel: msg.channel, ts: msg.ts, text: msg.text };
      }
      case 'chat.postEphemeral': {
        // https://api.slack.com/methods/chat.postEphemeral: the user must be in the channel, and
        // the bot must be able to post there; otherwise nothing is shown to anyone.
        const channel = this.channels.get(args.channel);
        if (!channel || (channel.is_private && !channel.members.includes(this.botUserId))) return { ok: false, error: 'channel_not_found' };
        if (!channel.members.includes(this.botUserId) && !channel.is_im) return { ok: false, error: 'not_in_channel' };
        if (!channel.members.includes(String(args.user))) return { ok: false, error: 'user_not_in_channel' };
        this.ephemerals.push({ channel: channel.id, user: String(args.user), text: args.text, blocks: args.blocks });
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'chat.getPermalink': {
        const msg = this.messages.find((m) => m.channel === args.channel && m.ts === args.message_ts);
        if (!msg) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: msg.channel, permalink: `https://example.slack.com/archives/${msg.channel}/p${msg.ts.replace('.', '')}` };
      }
      case 'views.open':
      case 'views.push': {
        const triggerError = this.triggerError(args.trigger_id);
        if (triggerError) return { ok: false, error: triggerError };
        this.viewCounter += 1;
        const id = `V${String(this.viewCounter).padStart(6, '0')}`;
        const view: FakeView = { id, trigger_id: args.trigger_id, view: args.view, hash: `h${this.viewCounter}` };
        this.views.set(id, view);
        return { ok: true, view: { id, hash: view.hash, ...args.view } };
      }
      case 'views.update': {
        const view = this.views.get(args.view_id);
        if (!view) return { ok: false, error: 'not_found' };
        if (args.hash && args.hash !== view.hash) return { ok: false, error: 'hash_conflict' };
        view.view = args.view;
        view.hash = `${view.hash}+`;
        return { ok: true, view: { id: view.id, hash: view.hash, ...args.view } };
      }
      case 'views.publish':
        this.published.set(args.user_id, args.view);
        return { ok: true, view: { id: `VH${args.user_id}`, ...args.view } };
      case 'users.info': {
        const user = this.users.get(args.user);
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: user.id,
            team_id: this.teamId,
            name: user.name,
            real_name: user.name,
            is_bot: user.is_bot ?? false,
            tz: user.tz ?? 'Asia/Shanghai',
            ...(args.include_locale === true || args.include_locale === 'true' ? { locale: user.locale ?? 'en-US' } : {}),
            profile: { real_name: user.name, display_name: user.name, email: user.email, ...(user.bot_id ? { bot_id: user.bot_id } : {}) },
          },
        };
      }
      case 'conversations.info': {
        const channel = this.channels.get(args.channel);
        if (!channel || (channel.is_private && !channel.members.includes(this.botUserId))) return { ok: false, error: 'channel_not_found' };
        return { ok: true, channel: { id: channel.id, name: channel.name, is_private: !!channel.is_private, is_im: !!channel.is_im, is_member: channel.members.includes(this.botUserId) } };
      }
      case 'conversations.members': {
        const channel = this.channels.get(args.channel);
        if (!channel || (channel.is_private && !channel.members.includes(this.botUserId))) return { ok: false, error: 'channel_not_found' };
        return { ok: true, members: channel.members, response_metadata: { next_cursor: '' } };
      }
      case 'conversations.open': {
        const userId = String(args.users ?? '').split(',')[0] ?? '';
        if (!this.users.has(userId)) return { ok: false, error: 'user_not_found' };
        const id = `D${userId}`;
        if (!this.channels.has(id)) this.channels.set(id, { id, name: id, is_im: true, members: [userId, this.botUserId] });
        return { ok: true, channel: { id } };
      }
      case 'conversations.history': {
        const channel = this.channels.get(args.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const oldest = args.oldest ? Number(args.oldest) : 0;
        const limit = args.limit ? Number(args.limit) : 100;
        const found = this.messages
          .filter((m) => m.channel === args.channel && !m.thread_ts && Number(m.ts) >= oldest)
          .sort((a, b) => Number(b.ts) - Number(a.ts))
          .slice(0, limit)
          .map((m) => publicMessage(m, args.include_all_metadata === true || args.include_all_metadata === 'true'));
        return { ok: true, messages: found, has_more: false };
      }
      case 'conversations.replies': {
        // https://api.slack.com/methods/conversations.replies: `ts` may be the parent or any reply;
        // the answer is the thread from its parent (first), then replies within oldest/latest, cut at `limit`.
        const channel = this.channels.get(args.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const asked = this.messages.find((m) => m.channel === args.channel && m.ts === args.ts);
        if (!asked) return { ok: false, error: 'thread_not_found' };
        const rootTs = asked.thread_ts ?? asked.ts;
        const parent = this.messages.find((m) => m.channel === args.channel && m.ts === rootTs);
        const inclusive = args.inclusive === true || args.inclusive === 'true' || args.inclusive === '1';
        const oldest = args.oldest !== undefined ? Number(args.oldest) : -Infinity;
        const latest = args.latest !== undefined ? Number(args.latest) : Infinity;
        const within = (ts: number) => (inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest);
        const replies = this.messages.filter((m) => m.channel === args.channel && m.thread_ts === rootTs && m.ts !== rootTs && within(Number(m.ts))).sort((a, b) => Number(a.ts) - Number(b.ts));
        const limit = args.limit !== undefined ? Number(args.limit) : 1000;
        const all = [...(parent ? [parent] : []), ...replies];
        const found = all.slice(0, limit).map((m) => publicMessage(m, args.include_all_metadata === true || args.include_all_metadata === 'true'));
        return { ok: true, messages: found, has_more: all.length > limit };
      }
      case 'files.info': {
        const file = this.files.get(args.file);
        // Unknown files are an error, as in Slack (tests announce people's files with addFile).
        if (!file) return { ok: false, error: 'file_not_found' };
        if (!file.completed) return { ok: false, error: 'file_not_found' };
        return { ok: true, file: this.fileObject(file) };
      }
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (typeof args.filename !== 'string' || args.filename === '' || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        this.fileCounter += 1;
        const id = `F${String(this.fileCounter).padStart(8, '0')}`;
        const uploadUrl = `http://127.0.0.1:${this.port}${UPLOAD_PATH}${randomBytes(12).toString('hex')}`;
        this.files.set(id, { id, name: args.filename, length, alt_txt: args.alt_txt, uploadUrl, completed: false, shares: [] });
        return { ok: true, upload_url: uploadUrl, file_id: id };
      }
      case 'files.completeUploadExternal':
        return this.completeUpload(args);
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private completeUpload(args: Record<string, any>): Record<string, unknown> {
    const list = typeof args.files === 'string' ? (JSON.parse(args.files) as unknown) : args.files;
    if (!Array.isArray(list) || list.length === 0) return { ok: false, error: 'invalid_arguments' };
    const files: FakeFile[] = [];
    for (const entry of list as Array<{ id?: string; title?: string }>) {
      const file = entry.id ? this.files.get(entry.id) : undefined;
      // Unknown ids, and files whose bytes never arrived, cannot be completed.
      if (!file || !file.bytes || file.completed) return { ok: false, error: 'file_not_found' };
      files.push(file);
    }
    const channelId: string | undefined = args.channel_id;
    if (channelId !== undefined) {
      // Slack takes conversation ids only (a user id fails: slackapi/bolt-js#2115).
      if (!/^[CGDZ][A-Z0-9]+$/.test(channelId)) return { ok: false, error: 'invalid_arguments' };
      const channel = this.channels.get(channelId);
      if (!channel || (channel.is_private && !channel.members.includes(this.botUserId))) return { ok: false, error: 'channel_not_found' };
      if (!channel.members.includes(this.botUserId)) return { ok: false, error: 'not_in_channel' };
    }
    for (const [i, file] of files.entries()) {
      file.completed = true;
      file.title = (list as Array<{ title?: string }>)[i]!.title ?? file.name;
    }
    if (channelId !== undefined) {
      // One message shares every file; initial_comment wins over blocks, as in Slack.
      const comment: string | undefined = args.initial_comment;
      const blocks = comment === undefined && Array.isArray(args.blocks) ? args.blocks : undefined;
      const message = this.addMessage({
        channel: channelId,
        thread_ts: args.thread_ts,
        text: comment ?? '',
        blocks,
        files: files.map((f) => ({ id: f.id, name: f.name, title: f.title ?? f.name, mimetype: mimeOf(f.name) })),
        bot_id: this.botId,
        user: this.botUserId,
      });
      for (const f of files) f.shares.push({ channel: channelId, ts: message.ts });
    }
    // Slack shares asynchronously: the answer lists the files, not yet their shares.
    return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
  }

  private fileObject(file: FakeFile): Record<string, unknown> {
    const shares: Record<string, Record<string, Array<{ ts: string }>>> = {};
    for (const share of file.shares) {
      const kind = this.channels.get(share.channel)?.is_private || share.channel.startsWith('D') ? 'private' : 'public';
      ((shares[kind] ??= {})[share.channel] ??= []).push({ ts: share.ts });
    }
    const download = `http://127.0.0.1:${this.port}${DOWNLOAD_PATH}${this.teamId}-${file.id}/${encodeURIComponent(file.name)}`;
    return {
      id: file.id,
      name: file.name,
      title: file.title,
      mimetype: mimeOf(file.name),
      size: file.bytes?.length ?? 0,
      user: this.botUserId,
      permalink: `https://files.slack.com/files-pri/${this.teamId}-${file.id}/${file.name}`,
      url_private: download,
      url_private_download: `${download}?download=1`,
      shares,
    };
  }

  private postMessage(args: Record<string, any>): Record<string, unknown> {
    let channelId: string = args.channel;
    // Posting to a user id opens (or reuses) the DM with them, as Slack does.
    if (this.users.has(channelId) && !this.channels.has(channelId)) {
      channelId = `D${channelId}`;
      if (!this.channels.has(channelId)) this.channels.set(channelId, { id: channelId, name: channelId, is_im: true, members: [args.channel, this.botUserId] });
    }
    const channel = this.channels.get(channelId);
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!channel.members.includes(this.botUserId)) return { ok: false, error: channel.is_private ? 'channel_not_found' : 'not_in_channel' };
    if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
    const message = this.addMessage({ channel: channelId, thread_ts: args.thread_ts, text: args.text, blocks: args.blocks, metadata: args.metadata, bot_id: this.botId, user: this.botUserId });
    return { ok: true, channel: channelId, ts: message.ts, message: publicMessage(message, true) };
  }
}

function publicMessage(m: FakeMessage, withMetadata: boolean): Record<string, unknown> {
  return {
    type: 'message',
    ts: m.ts,
    text: m.text,
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.user ? { user: m.user } : {}),
    ...(m.bot_id ? { bot_id: m.bot_id } : {}),
    ...(m.files ? { files: m.files, upload: true, display_as_bot: false } : {}),
    ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
  };
}

/**
 * Scopes each method needs, any one of them (each method's page on https://api.slack.com/methods,
 * "Required scopes"; for conversations.* the one matching the conversation type is enough here).
 */
export const METHOD_SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'users.info': ['users:read'],
  'conversations.info': ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
  'conversations.members': ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
  'conversations.open': ['im:write', 'mpim:write'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
  'files.info': ['files:read'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'reactions.get': ['reactions:read'],
};

/** The bot scopes manifests/slack/manifest.yaml requests. */
export function manifestBotScopes(): string[] {
  const manifest = parseYaml(readFileSync(join(__dirname, '..', '..', 'manifests', 'slack', 'manifest.yaml'), 'utf8')) as { oauth_config: { scopes: { bot: string[] } } };
  return manifest.oauth_config.scopes.bot;
}

/**
 * Text as Slack delivers it in events and commands (https://api.slack.com/reference/surfaces/formatting#escaping):
 * `&`, `<`, `>` escaped, except the `<…>` tokens Slack itself writes for mentions and links.
 */
export function asSlackSends(text: string): string {
  const tokens: string[] = [];
  const held = text.replace(/<(?:[@#!][^<>\s]*|(?:https?|mailto):[^<>\s]*)(?:\|[^<>]*)?>/g, (tok) => {
    tokens.push(tok);
    return `\u0000${tokens.length - 1}\u0000`;
  });
  const escaped = held.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => tokens[Number(i)]!);
}

/** Socket Mode connections (URLs from apps.connections.open) live under this path of the fake. */
const SOCKET_PATH = '/socket';

/** Upload URLs live under this path of the fake; POSTs to them are recorded as this method. */
const UPLOAD_PATH = '/upload/v1/';
export const UPLOAD_METHOD = 'upload_url';
/** Files' url_private live under this path of the fake (Slack: https://files.slack.com/files-pri/T-F/name); GETs are recorded as this method. */
const DOWNLOAD_PATH = '/files-pri/';
export const DOWNLOAD_METHOD = 'url_private';

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function mimeOf(name: string): string {
  const lower = name.toLowerCase();
  if (lower.endsWith('.png')) return 'image/png';
  if (lower.endsWith('.jpg') || lower.endsWith('.jpeg')) return 'image/jpeg';
  if (lower.endsWith('.pdf')) return 'application/pdf';
  return 'application/octet-stream';
}

/** The file's bytes: the body itself, or the first part of a multipart form that has a filename. */
function uploadedBytes(body: Buffer, contentType: string | undefined): Buffer {
  const boundary = /multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const headerEnd = body.indexOf('\r\n\r\n', at);
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (headerEnd === -1 || next === -1) break;
    const headers = body.subarray(at, headerEnd).toString('utf8');
    if (/filename=/i.test(headers)) return body.subarray(headerEnd + 4, next - 2); // minus the CRLF before the delimiter
    at = next;
  }
  return Buffer.alloc(0);
}

/** Form fields that carry JSON; `files` only when it looks like JSON (files.completeUploadExternal). */
const JSON_FIELDS = new Set(['blocks', 'view', 'metadata', 'attachments', 'payload', 'files']);

/** Form fields that carry JSON (blocks, view, metadata…) are decoded, as Slack does. */
function parseBody(raw: string, contentType: string | undefined): Record<string, any> {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Record<string, any>;
  const out: Record<string, any> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    out[key] = JSON_FIELDS.has(key) && /^\s*[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return out;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
