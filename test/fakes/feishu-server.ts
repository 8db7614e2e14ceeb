import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type Request, type Response } from 'express';
import * as protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCard, type Violation } from './feishu-card-rules';

/**
 * The few parts of the `ws` package (8.x, installed with @larksuiteoapi/node-sdk) the fake uses:
 * it ships no types and @types/ws is not installed, so a narrow local type stands in.
 */
interface WsSocket {
  readonly readyState: number;
  send(data: Uint8Array): void;
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
 * The long connection's wire format: protobuf `pbbp2.Frame`, field numbers as in the Lark SDK's
 * bundled codec (@larksuiteoapi/node-sdk lib/index.js, `pbbp2`). Encoded here independently so
 * the fake checks the SDK's codec rather than borrowing it.
 */
const pbbp2 = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: { fields: { key: { rule: 'required', type: 'string', id: 1 }, value: { rule: 'required', type: 'string', id: 2 } } },
        Frame: {
          fields: {
            SeqID: { rule: 'required', type: 'uint64', id: 1 },
            LogID: { rule: 'required', type: 'uint64', id: 2 },
            service: { rule: 'required', type: 'int32', id: 3 },
            method: { rule: 'required', type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
}).lookupType('pbbp2.Frame');

/** Frame.method: control frames (ping/pong) and data frames (events, and their acks). */
const FRAME_CONTROL = 0;
const FRAME_DATA = 1;
const WS_SERVICE_ID = 33554678;
const WS_PATH = '/ws/v2';

export interface WsFrame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: { key: string; value: string }[];
  payload?: Uint8Array;
}

/** What the app answered a data frame with: the SDK acks `{ code, data?: base64(JSON of the handler's return) }`. */
export interface WsAck {
  /** 200, or 500 when the app's handler threw. */
  code: number;
  /** The handler's return value, decoded (undefined when it returned nothing). */
  body: any;
  headers: Record<string, string>;
}

export function encodeWsFrame(frame: WsFrame): Uint8Array {
  return pbbp2.encode(pbbp2.fromObject(frame)).finish();
}

export function decodeWsFrame(data: Uint8Array): WsFrame {
  return pbbp2.toObject(pbbp2.decode(data), { longs: Number, defaults: true, arrays: true }) as WsFrame;
}

/**
 * A loopback fake of the Feishu open platform, as much of it as ticketbot calls. Point the Lark SDK
 * at it with `domain: fake.url`. It records every call, keeps the messages it was sent, honours
 * `uuid` idempotency, enforces tenant tokens and the 14-day card edit window, takes multipart image
 * uploads (and refuses cards showing an image it never received), and can be told to answer the
 * next matching call with an error (rate limit, token expiry, anything).
 */

export const CODE_RATE_LIMITED = 99991400;
export const CODE_TOKEN_INVALID = 99991663;
/** What this fake answers a PATCH of a card older than 14 days with (the real code is undocumented). */
export const CODE_CARD_EDIT_WINDOW_CLOSED = 230031;
const EDIT_WINDOW_MS = 14 * 24 * 3600 * 1000;

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  auth: string | undefined;
}

export interface FakeMessage {
  message_id: string;
  chat_id: string;
  msg_type: string;
  content: string;
  root_id: string | undefined;
  parent_id: string | undefined;
  thread_id: string | undefined;
  uuid: string | undefined;
  created_ms: number;
  /** The latest content (after PATCHes). */
  patches: number;
  urgent: { kind: string; users: string[] }[];
  /** Sent by a person (test input), not by the bot. */
  from_user?: boolean;
}

/** An image uploaded with POST /open-apis/im/v1/images (multipart). */
export interface FakeImage {
  image_key: string;
  image_type: string;
  /** The bytes of the `image` part. */
  data: Buffer;
  file_name: string | undefined;
  content_type: string | undefined;
  uploaded_ms: number;
}

/** Image upload errors (open.feishu.cn im-v1/image/create). */
export const CODE_IMAGE_BAD_REQUEST = 234001;
export const CODE_IMAGE_TOO_LARGE = 234006;
export const CODE_IMAGE_FORMAT = 234011;
/** A file uploaded with POST /open-apis/im/v1/files (multipart). */
export interface FakeUploadedFile {
  file_key: string;
  file_type: string;
  file_name: string;
  data: Buffer;
  uploaded_ms: number;
}
/** im/v1/files: at most 30 MB, never empty (open.feishu.cn im-v1/file/create, 使用限制). */
const FILE_MAX_BYTES = 30 * 1024 * 1024;
const FILE_TYPES = new Set(['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream']);
/** A resource key that is not in the message asked about (im-v1/message-resource/get: file_key and message_id must match). */
export const CODE_RESOURCE_NOT_IN_MESSAGE = 234003;
/** What this fake answers a file/image message whose key this app never uploaded with. */
export const CODE_BAD_FILE_KEY = 230001;
/** What this fake answers a card whose `img_key` was never uploaded by this app with. */
export const CODE_CARD_BAD_IMAGE = 230099;
const IMAGE_MAX_BYTES = 10 * 1024 * 1024;

export interface FakeUser {
  open_id: string;
  name: string;
  en_name?: string;
  email?: string;
  department_ids?: string[];
}

interface Injected {
  match: (method: string, path: string) => boolean;
  status: number;
  code: number;
  msg: string;
  headers?: Record<string, string>;
}

export interface FakeFeishuOptions {
  /**
   * The app id the fake accepts. The SDK's WSClient.start() refuses (logs, returns, never connects)
   * an id that is not `cli_` + 16 hex digits, so long-connection tests need a real-looking one.
   */
  appId?: string;
}

export class FakeFeishu {
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly users = new Map<string, FakeUser>();
  /** Images uploaded by the app, oldest first. */
  readonly images: FakeImage[] = [];
  /** Files uploaded by the app (im/v1/files), oldest first. */
  readonly files: FakeUploadedFile[] = [];
  /** Bytes of the files and images in people's messages, by key (GET …/messages/:id/resources/:key). */
  readonly resources = new Map<string, Buffer>();
  readonly chatMembers = new Map<string, string[]>();
  /** What the scope-list API reports as granted (`ticketbot feishu setup` reads it). */
  readonly grantedScopes = new Set<string>();
  /**
   * Scopes the tenant token carries for API calls, checked per API as Feishu does (99991672).
   * Defaults to every scope in manifests/feishu/scopes.json, so a scope missing there fails the
   * tests of the feature that needs it.
   */
  readonly tokenScopes = new Set<string>(manifestFeishuScopes());
  /** Group chats the bot is in; p2p chats (oc_p2p_…) always work. A user's message in a group adds the bot (it saw it). */
  readonly botChats = new Set<string>();
  /** Cards the fake refused, newest last (for test diagnostics). */
  readonly refusedCards: Array<{ path: string; violations: Violation[] }> = [];
  readonly appliedScopes: number[] = [];
  readonly appId: string;
  readonly appSecret = 'fake-secret';
  botOpenId = 'ou_bot';
  /** The fake's clock (ms); tests move it with the app's clock. */
  nowMs: () => number = () => Date.now();
  private validTokens = new Set<string>();
  private tokenSeq = 0;
  private messageSeq = 0;
  private injected: Injected[] = [];
  private delays: { match: (method: string, path: string) => boolean; ms: number }[] = [];
  private server: Server | undefined;
  url = '';
  /** Long connection: one-time tickets from /callback/ws/endpoint, open sockets, frames seen. */
  private wss: WsServer | undefined;
  private wsTickets = new Set<string>();
  private readonly sockets = new Set<WsSocket>();
  private wsSeq = 0;
  private pendingWsAcks = new Map<string, (ack: WsAck) => void>();
  /** Ping frames the app sent over the long connection. */
  wsPings = 0;
  /** Sockets ever accepted (reconnects count again). */
  wsConnections = 0;
  /** Upgrades refused (no ticket, a used ticket, a wrong path). */
  wsRefused = 0;

  constructor(opts: FakeFeishuOptions = {}) {
    this.appId = opts.appId ?? 'cli_fake_app';
  }

  async start(): Promise<this> {
    const app = express();
    app.use(express.json({ limit: '5mb' }));
    // Uploads up to a little over Feishu's 30 MB file limit reach the handler, which answers as Feishu does.
    app.use(express.raw({ type: () => true, limit: '40mb' }));
    app.all(/.*/, (req, res) => {
      const wait = this.delays.find((d) => d.match(req.method, req.path))?.ms ?? 0;
      if (wait > 0) setTimeout(() => this.handle(req, res), wait);
      else this.handle(req, res);
    });
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false });
    this.server!.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Upgraded sockets are no longer the HTTP server's: end them here (a client still connected sees the link drop).
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    const wss = this.wss;
    this.wss = undefined;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Open long connections. */
  get socketCount(): number {
    return [...this.sockets].filter((ws) => ws.readyState === WS_OPEN).length;
  }

  /**
   * Pushes a schema 2.0 envelope over the newest long connection as one data frame (type `event`,
   * the JSON as payload, sum 1 / seq 0, as Feishu does for events and card.action.trigger
   * callbacks alike) and resolves with the app's ack frame; rejects if none comes in `timeoutMs`.
   * `type: 'card'` sends the frame type the SDK reserves for the old message-card callback.
   * `messageId` lets a test re-push the very same frame.
   */
  async pushEvent(envelope: object, opts: { type?: 'event' | 'card'; messageId?: string; timeoutMs?: number } = {}): Promise<WsAck> {
    const ws = [...this.sockets].filter((s) => s.readyState === WS_OPEN).at(-1);
    if (!ws) throw new Error('FakeFeishu.pushEvent: no open long connection');
    const seq = ++this.wsSeq;
    const messageId = opts.messageId ?? `ws_msg_${seq}_${randomBytes(3).toString('hex')}`;
    if (this.pendingWsAcks.has(messageId)) throw new Error(`FakeFeishu.pushEvent: frame ${messageId} is still waiting for its ack`);
    const timeoutMs = opts.timeoutMs ?? 3_000;
    const acked = new Promise<WsAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingWsAcks.delete(messageId);
        reject(new Error(`FakeFeishu.pushEvent: no ack for frame ${messageId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingWsAcks.set(messageId, (ack) => {
        clearTimeout(timer);
        this.pendingWsAcks.delete(messageId);
        resolve(ack);
      });
    });
    ws.send(
      encodeWsFrame({
        SeqID: seq,
        LogID: seq,
        service: WS_SERVICE_ID,
        method: FRAME_DATA,
        headers: [
          { key: 'type', value: opts.type ?? 'event' },
          { key: 'message_id', value: messageId },
          { key: 'sum', value: '1' },
          { key: 'seq', value: '0' },
          { key: 'trace_id', value: `trace_${seq}` },
        ],
        payload: Buffer.from(JSON.stringify(envelope), 'utf8'),
      }),
    );
    return acked;
  }

  /** POST /callback/ws/endpoint: app credentials in, a one-time socket URL and client config out (errors keep Feishu's envelope, data included). */
  private wsEndpoint(body: { AppID?: string; AppSecret?: string }, res: Response): void {
    if (body.AppID !== this.appId || body.AppSecret !== this.appSecret) return void res.json({ code: 514, msg: 'auth failed', data: {} });
    const ticket = randomBytes(8).toString('hex');
    this.wsTickets.add(ticket);
    const port = (this.server!.address() as AddressInfo).port;
    res.json({
      code: 0,
      msg: 'ok',
      data: {
        // Shaped like the real one: the SDK reads device_id and service_id out of it.
        URL: `ws://127.0.0.1:${port}${WS_PATH}?fpid=1&aid=1&device_id=dev_${ticket}&access_key=ak&service_id=${WS_SERVICE_ID}&ticket=${ticket}`,
        ClientConfig: { ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30, PingInterval: 120 },
      },
    });
  }

  /** A WebSocket upgrade at /ws/v2 with a ticket from the endpoint; anything else is refused. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const wss = this.wss;
    if (url.pathname !== WS_PATH || !this.wsTickets.delete(url.searchParams.get('ticket') ?? '') || !wss) {
      this.wsRefused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.wsConnections++;
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', () => this.sockets.delete(ws));
      ws.on('message', (data) => this.onWsFrame(ws, data));
    });
  }

  private onWsFrame(ws: WsSocket, data: Buffer): void {
    let frame: WsFrame;
    try {
      frame = decodeWsFrame(data);
    } catch {
      return;
    }
    const headers = Object.fromEntries(frame.headers.map((h) => [h.key, h.value]));
    if (frame.method === FRAME_CONTROL && headers.type === 'ping') {
      this.wsPings++;
      const pong = { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 };
      ws.send(encodeWsFrame({ SeqID: 0, LogID: 0, service: frame.service, method: FRAME_CONTROL, headers: [{ key: 'type', value: 'pong' }], payload: Buffer.from(JSON.stringify(pong)) }));
      return;
    }
    if (frame.method !== FRAME_DATA || !headers.message_id) return;
    const resolve = this.pendingWsAcks.get(headers.message_id);
    if (!resolve) return;
    const resp = JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8')) as { code: number; data?: string };
    resolve({ code: resp.code, body: resp.data ? JSON.parse(Buffer.from(resp.data, 'base64').toString('utf8')) : undefined, headers });
  }

  addUser(user: FakeUser): void {
    this.users.set(user.open_id, user);
  }

  /** Answer the next call matching `method path` (path may contain `*`) with an error. */
  failNext(method: string, pathPattern: string, error: { status?: number; code: number; msg?: string; headers?: Record<string, string> }): void {
    const re = new RegExp('^' + pathPattern.split('*').map(escapeRe).join('[^/]+') + '$');
    this.injected.push({
      match: (m, p) => m === method && re.test(p),
      status: error.status ?? 400,
      code: error.code,
      msg: error.msg ?? 'injected error',
      ...(error.headers ? { headers: error.headers } : {}),
    });
  }

  /** Answer every call matching `method path` only after `ms` (a slow platform). */
  delay(method: string, pathPattern: string, ms: number): void {
    const re = new RegExp('^' + pathPattern.split('*').map(escapeRe).join('[^/]+') + '$');
    this.delays.push({ match: (m, p) => m === method && re.test(p), ms });
  }

  /** A message a user sent (the app may reply to it or read it back). */
  addUserMessage(m: { message_id: string; chat_id: string; content: string; msg_type?: string; root_id?: string | undefined; parent_id?: string | undefined }): void {
    if (!m.chat_id.startsWith('oc_p2p_')) this.botChats.add(m.chat_id);
    this.messages.push({
      message_id: m.message_id,
      chat_id: m.chat_id,
      msg_type: m.msg_type ?? 'text',
      content: m.content,
      root_id: m.root_id,
      parent_id: m.parent_id,
      thread_id: undefined,
      uuid: undefined,
      created_ms: this.nowMs(),
      patches: 0,
      urgent: [],
      from_user: true,
    });
  }

  /** Every token handed out so far stops working (as when Feishu rotates them). */
  expireTokens(): void {
    this.validTokens.clear();
  }

  callsTo(method: string, pathPrefix: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix));
  }

  /** What the bot sent to a chat (people's own messages left out). */
  messagesIn(chatId: string): FakeMessage[] {
    return this.messages.filter((m) => m.chat_id === chatId && !m.from_user);
  }

  /** The p2p chat id the fake uses for a user's DM with the bot. */
  p2pChatOf(openId: string): string {
    return `oc_p2p_${openId}`;
  }

  message(id: string): FakeMessage | undefined {
    return this.messages.find((m) => m.message_id === id);
  }

  /** The parsed card JSON or text of a message. */
  parsed(m: FakeMessage): Record<string, unknown> {
    return JSON.parse(m.content) as Record<string, unknown>;
  }

  /** Text of every text message (and card markdown) in a chat, for assertions. */
  textsIn(chatId: string): string[] {
    return this.messagesIn(chatId).map((m) => (m.msg_type === 'text' ? String((this.parsed(m) as { text?: string }).text ?? '') : m.content));
  }

  private handle(req: Request, res: Response): void {
    const path = req.path;
    const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)]));
    const body: unknown = Buffer.isBuffer(req.body) ? { bytes: req.body.length } : req.body;
    const auth = req.header('authorization');
    this.calls.push({ method: req.method, path, query, body, auth });

    const injected = this.injected.findIndex((i) => i.match(req.method, path));
    if (injected >= 0) {
      const inj = this.injected.splice(injected, 1)[0]!;
      if (inj.headers) res.set(inj.headers);
      res.status(inj.status).json({ code: inj.code, msg: inj.msg });
      return;
    }

    if (req.method === 'POST' && path === '/callback/ws/endpoint') return this.wsEndpoint(body as { AppID?: string; AppSecret?: string }, res);
    if (req.method === 'POST' && path === '/open-apis/auth/v3/tenant_access_token/internal') {
      const b = body as { app_id?: string; app_secret?: string };
      if (b.app_id !== this.appId || b.app_secret !== this.appSecret) {
        res.json({ code: 10014, msg: 'app secret invalid' });
        return;
      }
      const token = `t-${++this.tokenSeq}`;
      this.validTokens.add(token);
      res.json({ code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 });
      return;
    }
    const token = auth?.replace(/^Bearer /, '');
    if (!token || !this.validTokens.has(token)) {
      res.status(400).json({ code: CODE_TOKEN_INVALID, msg: 'Invalid access token for authorization.' });
      return;
    }
    if (this.missingScope(req.method, path, res)) return;
    if (req.method === 'POST' && path === '/open-apis/im/v1/images') {
      this.uploadImage(req, res).catch((err: unknown) => res.status(500).json({ code: -1, msg: String(err) }));
      return;
    }
    if (req.method === 'POST' && path === '/open-apis/im/v1/files') {
      this.uploadFile(req, res).catch((err: unknown) => res.status(500).json({ code: -1, msg: String(err) }));
      return;
    }
    const resource = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/resources\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && resource) return this.serveResource(decodeURIComponent(resource[1]!), decodeURIComponent(resource[2]!), query.type, res);
    this.route(req.method, path, query, body as Record<string, unknown>, res);
  }

  /**
   * POST /open-apis/im/v1/images: multipart/form-data with `image_type` (message | avatar) and the
   * `image` file (non-empty, at most 10 MB, a format Feishu recognises). Answers `{ image_key }`.
   */
  private async uploadImage(req: Request, res: Response): Promise<void> {
    const fail = (code: number, msg: string) => void res.status(400).json({ code, msg });
    const form = await multipartForm(req, fail);
    if (!form) return;
    const imageType = form.get('image_type');
    if (imageType !== 'message' && imageType !== 'avatar') return fail(CODE_IMAGE_BAD_REQUEST, 'image_type must be message or avatar');
    const image = form.get('image');
    if (image === null || typeof image === 'string') return fail(CODE_IMAGE_BAD_REQUEST, 'the image part is missing or is not a file');
    const data = Buffer.from(await image.arrayBuffer());
    if (data.length === 0) return fail(CODE_IMAGE_BAD_REQUEST, 'the image is empty');
    if (data.length > IMAGE_MAX_BYTES) return fail(CODE_IMAGE_TOO_LARGE, 'the image is larger than 10 MB');
    if (!imageFormatOf(data)) return fail(CODE_IMAGE_FORMAT, "can't recognize the image format");
    const key = `img_v2_fake_${++this.messageSeq}`;
    this.images.push({ image_key: key, image_type: imageType, data, file_name: (image as File).name || undefined, content_type: image.type || undefined, uploaded_ms: this.nowMs() });
    res.json({ code: 0, msg: 'success', data: { image_key: key } });
  }

  /**
   * POST /open-apis/im/v1/files: multipart/form-data with `file_type` (opus, mp4, pdf, doc, xls,
   * ppt, stream), `file_name` (with its extension) and the `file` (non-empty, at most 30 MB).
   * Answers `{ file_key }`.
   */
  private async uploadFile(req: Request, res: Response): Promise<void> {
    const fail = (code: number, msg: string) => void res.status(400).json({ code, msg });
    const form = await multipartForm(req, fail);
    if (!form) return;
    const fileType = form.get('file_type');
    if (typeof fileType !== 'string' || !FILE_TYPES.has(fileType)) return fail(CODE_IMAGE_BAD_REQUEST, 'file_type must be one of opus, mp4, pdf, doc, xls, ppt, stream');
    const fileName = form.get('file_name');
    if (typeof fileName !== 'string' || fileName.trim() === '') return fail(CODE_IMAGE_BAD_REQUEST, 'file_name is required');
    const file = form.get('file');
    if (file === null || typeof file === 'string') return fail(CODE_IMAGE_BAD_REQUEST, 'the file part is missing or is not a file');
    const data = Buffer.from(await file.arrayBuffer());
    if (data.length === 0) return fail(CODE_IMAGE_BAD_REQUEST, 'empty files are not allowed');
    if (data.length > FILE_MAX_BYTES) return fail(CODE_IMAGE_TOO_LARGE, 'the file is larger than 30 MB');
    const key = `file_v3_fake_${++this.messageSeq}`;
    this.files.push({ file_key: key, file_type: fileType, file_name: fileName, data, uploaded_ms: this.nowMs() });
    res.json({ code: 0, msg: 'success', data: { file_key: key } });
  }

  /**
   * GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file: the bytes of a
   * file or image in that very message (the key must be in it), as a binary stream.
   */
  private serveResource(messageId: string, key: string, type: string | undefined, res: Response): void {
    if (type !== 'image' && type !== 'file') return void res.status(400).json({ code: 234001, msg: 'type must be image or file' });
    const msg = this.message(messageId);
    if (!msg) return void res.status(400).json({ code: 230011, msg: 'message not found' });
    if (!msg.chat_id.startsWith('oc_p2p_') && !this.botChats.has(msg.chat_id)) return void res.status(400).json({ code: CODE_BOT_NOT_IN_CHAT, msg: 'Bot/User can NOT be out of the chat.' });
    let content: Record<string, unknown> = {};
    try {
      content = JSON.parse(msg.content) as Record<string, unknown>;
    } catch {
      content = {};
    }
    const inMessage = (type === 'image' ? content.image_key : content.file_key) === key;
    const bytes = this.resources.get(key) ?? this.files.find((f) => f.file_key === key)?.data ?? this.images.find((i) => i.image_key === key)?.data;
    if (!inMessage || !bytes) return void res.status(400).json({ code: CODE_RESOURCE_NOT_IN_MESSAGE, msg: 'the resource is not in this message' });
    res.status(200).set({ 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }).end(bytes);
  }

  /** Answers 400 when a file or image message names a key this app never uploaded; true if it did. */
  private badFileKey(body: Record<string, unknown>, res: Response): boolean {
    if (body.msg_type !== 'file' && body.msg_type !== 'image') return false;
    let content: Record<string, unknown> = {};
    try {
      content = JSON.parse(String(body.content ?? '')) as Record<string, unknown>;
    } catch {
      content = {};
    }
    const known = body.msg_type === 'file' ? this.files.some((f) => f.file_key === content.file_key) : this.images.some((i) => i.image_key === content.image_key && i.image_type === 'message');
    if (known) return false;
    res.status(400).json({ code: CODE_BAD_FILE_KEY, msg: `invalid ${body.msg_type === 'file' ? 'file_key' : 'image_key'}` });
    return true;
  }

  /**
   * Answers 400 / 230099 when a card breaks card JSON 2.0 (feishu-card-rules.ts: components,
   * property names, ranges, enums, 30 KB) — as Feishu validates 2.0 cards strictly; true if it did.
   */
  private badCard(path: string, content: string, res: Response): boolean {
    let card: unknown;
    try {
      card = JSON.parse(content);
    } catch {
      res.status(400).json({ code: CODE_CARD_BAD_IMAGE, msg: 'card content is not JSON' });
      return true;
    }
    const violations = validateCard(card);
    if (violations.length === 0) return false;
    this.refusedCards.push({ path, violations });
    res.status(400).json({ code: CODE_CARD_INVALID, msg: `Failed to create card content, ext=ErrCode: 200621; ErrMsg: ${violations.map((v) => `${v.path}: ${v.rule}`).join('; ')}` });
    return true;
  }

  /** 99991672 unless the token has one of the scopes the API needs (its doc's 权限要求). */
  private missingScope(method: string, path: string, res: Response): boolean {
    const needed = API_SCOPES.find((a) => a.method === method && a.path.test(path))?.scopes;
    if (!needed || needed.some((sc) => this.tokenScopes.has(sc))) return false;
    res.status(400).json({ code: CODE_SCOPE_MISSING, msg: `Access denied. One of the following scopes is required: [${needed.join(', ')}].` });
    return true;
  }

  /** Answers 400 when a card shows an image this app never uploaded for messages; true if it did. */
  private badImages(body: Record<string, unknown>, res: Response): boolean {
    if (body.msg_type !== 'interactive') return false;
    const unknown = this.unknownImageKeys(String(body.content ?? ''));
    if (unknown.length === 0) return false;
    res.status(400).json({ code: CODE_CARD_BAD_IMAGE, msg: `card references unknown image_key ${unknown.join(', ')}` });
    return true;
  }

  /** Image keys in a card that this app never uploaded (Feishu refuses such a card). */
  private unknownImageKeys(content: string): string[] {
    let card: unknown;
    try {
      card = JSON.parse(content);
    } catch {
      return [];
    }
    const keys: string[] = [];
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach(walk);
      const obj = node as Record<string, unknown>;
      if (typeof obj.img_key === 'string') keys.push(obj.img_key);
      Object.values(obj).forEach(walk);
    };
    walk(card);
    return keys.filter((k) => !this.images.some((i) => i.image_key === k && i.image_type === 'message'));
  }

  private route(method: string, path: string, query: Record<string, string>, body: Record<string, unknown>, res: Response): void {
    const ok = (data: unknown) => res.json({ code: 0, msg: 'success', data });
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/open-apis/im/v1/messages') {
      const receiveIdType = query.receive_id_type;
      const receiveId = String(body.receive_id ?? '');
      if (!receiveIdType || !receiveId) return void res.status(400).json({ code: 99992402, msg: 'field validation failed' });
      const chatId = receiveIdType === 'chat_id' ? receiveId : this.p2pChatOf(receiveId);
      // The bot can only post in group chats it is in (230002, "Bot/User can NOT be out of the chat").
      if (receiveIdType === 'chat_id' && !chatId.startsWith('oc_p2p_') && !this.botChats.has(chatId)) return void res.status(400).json({ code: CODE_BOT_NOT_IN_CHAT, msg: 'Bot/User can NOT be out of the chat.' });
      if (body.msg_type === 'interactive' && this.badCard(path, String(body.content ?? ''), res)) return;
      if (this.badImages(body, res) || this.badFileKey(body, res)) return;
      return void ok(this.store({ chatId, body, rootId: undefined, parentId: undefined, thread: false }));
    }
    if (method === 'POST' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/reply$/.exec(path))) {
      const parent = this.message(m[1]!);
      if (!parent) return void res.status(400).json({ code: 230011, msg: 'message not found' });
      const rootId = parent.root_id ?? parent.message_id;
      if (!parent.chat_id.startsWith('oc_p2p_') && !this.botChats.has(parent.chat_id)) return void res.status(400).json({ code: CODE_BOT_NOT_IN_CHAT, msg: 'Bot/User can NOT be out of the chat.' });
      if (body.msg_type === 'interactive' && this.badCard(path, String(body.content ?? ''), res)) return;
      if (this.badImages(body, res) || this.badFileKey(body, res)) return;
      return void ok(this.store({ chatId: parent.chat_id, body, rootId, parentId: parent.message_id, thread: body.reply_in_thread === true || parent.thread_id !== undefined, threadOf: parent }));
    }
    if (method === 'PATCH' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/(urgent_app|urgent_sms|urgent_phone)$/.exec(path))) {
      const msg = this.message(m[1]!);
      if (!msg) return void res.status(400).json({ code: 230011, msg: 'message not found' });
      msg.urgent.push({ kind: m[2]!, users: (body.user_id_list as string[]) ?? [] });
      return void ok({ invalid_user_id_list: [] });
    }
    if (method === 'PATCH' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(path))) {
      const msg = this.message(m[1]!);
      if (!msg) return void res.status(400).json({ code: 230011, msg: 'message not found' });
      if (msg.msg_type !== 'interactive') return void res.status(400).json({ code: 230001, msg: 'only cards can be patched' });
      const card = JSON.parse(String(body.content ?? '{}')) as { config?: { update_multi?: boolean } };
      if (card.config?.update_multi !== true) return void res.status(400).json({ code: 230099, msg: 'shared cards need config.update_multi' });
      if (this.badCard(path, String(body.content ?? ''), res)) return;
      if (this.nowMs() - msg.created_ms > EDIT_WINDOW_MS) return void res.status(400).json({ code: CODE_CARD_EDIT_WINDOW_CLOSED, msg: 'the card can no longer be updated' });
      msg.content = String(body.content);
      msg.patches++;
      return void ok({});
    }
    if (method === 'GET' && (m = /^\/open-apis\/im\/v1\/messages\/([^/]+)$/.exec(path))) {
      const msg = this.message(m[1]!);
      if (!msg) return void res.status(400).json({ code: 230011, msg: 'message not found' });
      return void ok({ items: [this.view(msg)] });
    }
    if (method === 'GET' && (m = /^\/open-apis\/contact\/v3\/users\/([^/]+)$/.exec(path))) {
      const user = this.users.get(decodeURIComponent(m[1]!));
      if (!user) return void res.status(400).json({ code: 41050, msg: 'no user authority' });
      return void ok({ user: { ...user, union_id: `on_${user.open_id}`, user_id: user.open_id.replace(/^ou_/, '') } });
    }
    if (method === 'GET' && (m = /^\/open-apis\/im\/v1\/chats\/([^/]+)\/members$/.exec(path))) {
      const members = this.chatMembers.get(decodeURIComponent(m[1]!)) ?? [];
      return void ok({ items: members.map((id) => ({ member_id: id, member_id_type: 'open_id', name: this.users.get(id)?.name ?? id, tenant_key: 't_fake' })), has_more: false, page_token: '', member_total: members.length });
    }
    if (method === 'GET' && path === '/open-apis/bot/v3/info') return void res.json({ code: 0, msg: 'ok', bot: { open_id: this.botOpenId, app_name: 'ticketbot', activate_status: 2 } });
    if (method === 'GET' && path === '/open-apis/application/v6/scopes')
      return void ok({ scopes: [...this.grantedScopes].map((s) => ({ scope_name: s, grant_status: 1, scope_type: 'tenant' })) });
    if (method === 'POST' && path === '/open-apis/application/v6/scopes/apply') {
      this.appliedScopes.push(this.nowMs());
      return void ok({});
    }
    res.status(404).json({ code: 404, msg: `the fake does not know ${method} ${path}` });
  }

  private store(p: { chatId: string; body: Record<string, unknown>; rootId: string | undefined; parentId: string | undefined; thread: boolean; threadOf?: FakeMessage }): unknown {
    const uuid = typeof p.body.uuid === 'string' ? p.body.uuid : undefined;
    if (uuid) {
      const seen = this.messages.find((x) => x.uuid === uuid);
      if (seen) return this.view(seen);
    }
    const id = `om_${++this.messageSeq}`;
    const threadId = p.thread ? (p.threadOf?.thread_id ?? `omt_${p.rootId}`) : undefined;
    const msg: FakeMessage = {
      message_id: id,
      chat_id: p.chatId,
      msg_type: String(p.body.msg_type ?? 'text'),
      content: String(p.body.content ?? ''),
      root_id: p.rootId,
      parent_id: p.parentId,
      thread_id: threadId,
      uuid,
      created_ms: this.nowMs(),
      patches: 0,
      urgent: [],
    };
    if (threadId && p.threadOf && !p.threadOf.thread_id) p.threadOf.thread_id = threadId;
    this.messages.push(msg);
    return this.view(msg);
  }

  private view(msg: FakeMessage): Record<string, unknown> {
    return {
      message_id: msg.message_id,
      root_id: msg.root_id,
      parent_id: msg.parent_id,
      thread_id: msg.thread_id,
      msg_type: msg.msg_type,
      create_time: String(msg.created_ms),
      chat_id: msg.chat_id,
      sender: { id: this.appId, id_type: 'app_id', sender_type: 'app' },
      body: { content: msg.content },
    };
  }
}

/** A card Feishu refuses (card JSON 2.0 is validated strictly): "Failed to create card content". */
export const CODE_CARD_INVALID = 230099;
/** The bot is not in the chat it posts to. */
export const CODE_BOT_NOT_IN_CHAT = 230002;
/** The app lacks a scope the API needs. */
export const CODE_SCOPE_MISSING = 99991672;

/**
 * Scopes each API needs, any one of them (each API's page under
 * https://open.feishu.cn/document/server-docs, "权限要求"). GET contact/v3/users/:id needs a
 * contact scope (contact:contact.base:readonly or wider): field scopes alone only widen the answer.
 */
const API_SCOPES: Array<{ method: string; path: RegExp; scopes: string[] }> = [
  { method: 'POST', path: /^\/open-apis\/im\/v1\/messages$/, scopes: ['im:message', 'im:message:send_as_bot', 'im:message:send'] },
  { method: 'POST', path: /^\/open-apis\/im\/v1\/messages\/[^/]+\/reply$/, scopes: ['im:message', 'im:message:send_as_bot', 'im:message:send'] },
  { method: 'PATCH', path: /^\/open-apis\/im\/v1\/messages\/[^/]+\/urgent_app$/, scopes: ['im:message.urgent'] },
  { method: 'PATCH', path: /^\/open-apis\/im\/v1\/messages\/[^/]+\/urgent_sms$/, scopes: ['im:message.urgent:sms'] },
  { method: 'PATCH', path: /^\/open-apis\/im\/v1\/messages\/[^/]+\/urgent_phone$/, scopes: ['im:message.urgent:phone'] },
  { method: 'PATCH', path: /^\/open-apis\/im\/v1\/messages\/[^/]+$/, scopes: ['im:message', 'im:message:update'] },
  { method: 'GET', path: /^\/open-apis\/im\/v1\/messages\/[^/]+$/, scopes: ['im:message', 'im:message:readonly', 'im:message.history:readonly'] },
  { method: 'GET', path: /^\/open-apis\/contact\/v3\/users\/[^/]+$/, scopes: ['contact:contact.base:readonly', 'contact:contact:readonly_as_app', 'contact:contact:readonly', 'contact:contact'] },
  { method: 'GET', path: /^\/open-apis\/im\/v1\/chats\/[^/]+\/members$/, scopes: ['im:chat:readonly', 'im:chat', 'im:chat.members:read'] },
  { method: 'POST', path: /^\/open-apis\/im\/v1\/images$/, scopes: ['im:resource'] },
  { method: 'POST', path: /^\/open-apis\/im\/v1\/files$/, scopes: ['im:resource', 'im:resource:upload'] },
  { method: 'GET', path: /^\/open-apis\/im\/v1\/messages\/[^/]+\/resources\/[^/]+$/, scopes: ['im:message', 'im:message:readonly', 'im:message.history:readonly'] },
];

/** Every scope manifests/feishu/scopes.json lists (required and optional). */
export function manifestFeishuScopes(): string[] {
  const file = JSON.parse(readFileSync(join(__dirname, '..', '..', 'manifests', 'feishu', 'scopes.json'), 'utf8')) as { scopes: Array<{ name: string }> };
  return file.scopes.map((x) => x.name);
}

/** PNG, JPEG, GIF, WEBP, BMP, ICO, TIFF by their magic bytes (HEIC left out). */
function imageFormatOf(b: Buffer): string | undefined {
  const starts = (...bytes: number[]) => bytes.every((x, i) => b[i] === x);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (starts(0x42, 0x4d)) return 'bmp';
  if (starts(0x00, 0x00, 0x01, 0x00)) return 'ico';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  return undefined;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function startFakeFeishu(opts: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  return new FakeFeishu(opts).start();
}

/** The multipart body of an upload (im/v1/images, im/v1/files), or undefined after answering 400 as Feishu does. */
async function multipartForm(req: Request, fail: (code: number, msg: string) => void): Promise<FormData | undefined> {
  const contentType = req.header('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data') || !Buffer.isBuffer(req.body)) return void fail(CODE_IMAGE_BAD_REQUEST, 'the body must be multipart/form-data');
  try {
    return await new globalThis.Request('http://fake/upload', { method: 'POST', headers: { 'content-type': contentType }, body: req.body }).formData();
  } catch {
    return void fail(CODE_IMAGE_BAD_REQUEST, 'unreadable multipart body');
  }
}
