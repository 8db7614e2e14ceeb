import type { ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from 'pino';

/**
 * The open-platform calls ticketbot makes, over the Lark SDK client. Adds what the SDK lacks:
 * errors as one typed value (code, HTTP status, retry-after), a token cache we can invalidate so
 * that an expired tenant token is refreshed and the call retried once, and pino logging.
 */

/** Token errors: the cached tenant token is no longer accepted. */
const TOKEN_ERROR_CODES = new Set([99991663, 99991661, 99991668, 99991664]);
export const RATE_LIMIT_CODES = new Set([99991400, 11232, 230020]);

export class FeishuApiError extends Error {
  constructor(
    readonly code: number,
    readonly httpStatus: number | undefined,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`feishu ${code}: ${message}`);
    this.name = 'FeishuApiError';
  }

  get rateLimited(): boolean {
    return this.httpStatus === 429 || RATE_LIMIT_CODES.has(this.code);
  }

  get tokenExpired(): boolean {
    return TOKEN_ERROR_CODES.has(this.code);
  }
}

/** FEISHU_DOMAIN: `feishu` (default), `lark` (international) or a base URL (tests, private deployments). */
export function resolveDomain(value: string | undefined): lark.Domain | string {
  const v = (value ?? 'feishu').trim();
  if (v === '' || v.toLowerCase() === 'feishu') return lark.Domain.Feishu;
  if (v.toLowerCase() === 'lark') return lark.Domain.Lark;
  if (!/^https?:\/\//.test(v)) throw new Error(`FEISHU_DOMAIN must be feishu, lark or a URL, got "${v}"`);
  return v.replace(/\/+$/, '');
}

/** A tiny cache for the SDK's tenant token that we can clear on a token error. */
class TokenCache implements lark.Cache {
  private values = new Map<unknown, { value: unknown; expire: number | undefined }>();
  set: lark.Cache['set'] = async (key, value, expire) => {
    this.values.set(key, { value, expire });
    return true;
  };
  get: lark.Cache['get'] = async (key) => {
    const hit = this.values.get(key);
    if (!hit) return undefined;
    if (hit.expire !== undefined && hit.expire < Date.now()) return undefined;
    return hit.value;
  };
  clear(): void {
    this.values.clear();
  }
}

/** Routes the SDK's own logging to pino at warn and above (it is chatty at info). */
export function sdkLogger(logger: Logger): lark.Logger {
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    error: (...msg) => logger.error({ sdk: 'lark' }, fmt(msg)),
    warn: (...msg) => logger.warn({ sdk: 'lark' }, fmt(msg)),
    info: (...msg) => logger.debug({ sdk: 'lark' }, fmt(msg)),
    debug: (...msg) => logger.trace({ sdk: 'lark' }, fmt(msg)),
    trace: () => undefined,
  };
}

export interface SentMessage {
  messageId: string;
  chatId: string;
}

export interface FeishuUserInfo {
  openId: string;
  name?: string | undefined;
  email?: string | undefined;
  departmentIds: string[];
}

export interface FeishuMessageInfo {
  messageId: string;
  chatId: string;
  msgType: string;
  content: string;
  senderId?: string | undefined;
}

export type UrgentKind = 'app' | 'sms' | 'phone';
/** A message's resource is read for at most this long. */
const RESOURCE_TIMEOUT_MS = 120_000;
/** The message types ticketbot sends. */
export type MsgType = 'text' | 'interactive' | 'file' | 'image';
/** im/v1/files `file_type`. */
export type FeishuFileType = 'opus' | 'mp4' | 'pdf' | 'doc' | 'xls' | 'ppt' | 'stream';

/** What reading a message's resource gave: the bytes, or its size when it is over the cap (not read whole). */
export type ResourceRead = { ok: true; bytes: Buffer; contentType?: string | undefined } | { ok: false; size: number };

interface ApiResponse {
  code?: number;
  msg?: string;
  data?: unknown;
}

export class FeishuApi {
  readonly client: lark.Client;
  private readonly tokens = new TokenCache();

  constructor(
    opts: { appId: string; appSecret: string; domain: lark.Domain | string; logger: Logger },
    private readonly logger: Logger = opts.logger,
  ) {
    this.client = new lark.Client({
      appId: opts.appId,
      appSecret: opts.appSecret,
      domain: opts.domain,
      cache: this.tokens,
      logger: sdkLogger(opts.logger),
      loggerLevel: lark.LoggerLevel.warn,
    });
  }

  /** Runs one call; on a token error clears the cached token and tries once more. */
  private async call<T extends ApiResponse>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fn();
        if (res && typeof res.code === 'number' && res.code !== 0) throw new FeishuApiError(res.code, 200, res.msg ?? 'error');
        return res;
      } catch (err) {
        const e = toApiError(err);
        if (e.tokenExpired && attempt === 1) {
          this.logger.info({ call: what, code: e.code }, 'feishu tenant token rejected, refreshing');
          this.tokens.clear();
          continue;
        }
        throw e;
      }
    }
  }

  async sendMessage(p: { receiveIdType: 'chat_id' | 'open_id'; receiveId: string; msgType: MsgType; content: string; uuid?: string | undefined }): Promise<SentMessage> {
    const res = await this.call('im.message.create', () =>
      this.client.im.v1.message.create({
        params: { receive_id_type: p.receiveIdType },
        data: { receive_id: p.receiveId, msg_type: p.msgType, content: p.content, ...(p.uuid ? { uuid: p.uuid } : {}) },
      }),
    );
    return sentOf(res.data);
  }

  async reply(p: { messageId: string; msgType: MsgType; content: string; inThread: boolean; uuid?: string | undefined }): Promise<SentMessage> {
    const res = await this.call('im.message.reply', () =>
      this.client.im.v1.message.reply({
        path: { message_id: p.messageId },
        data: { msg_type: p.msgType, content: p.content, reply_in_thread: p.inThread, ...(p.uuid ? { uuid: p.uuid } : {}) },
      }),
    );
    return sentOf(res.data);
  }

  async patchCard(messageId: string, card: unknown): Promise<void> {
    await this.call('im.message.patch', () => this.client.im.v1.message.patch({ path: { message_id: messageId }, data: { content: JSON.stringify(card) } }));
  }

  async urgent(messageId: string, kind: UrgentKind, openIds: string[]): Promise<void> {
    const payload = { path: { message_id: messageId }, params: { user_id_type: 'open_id' as const }, data: { user_id_list: openIds } };
    const m = this.client.im.v1.message;
    await this.call(`im.message.urgent_${kind}`, () => (kind === 'app' ? m.urgentApp(payload) : kind === 'sms' ? m.urgentSms(payload) : m.urgentPhone(payload)));
  }

  async getUser(openId: string): Promise<FeishuUserInfo> {
    const res = await this.call('contact.user.get', () => this.client.contact.v3.user.get({ path: { user_id: openId }, params: { user_id_type: 'open_id' } }));
    const u = res.data?.user;
    return { openId, name: u?.name ?? undefined, email: u?.email ?? u?.enterprise_email ?? undefined, departmentIds: u?.department_ids ?? [] };
  }

  async chatMembers(chatId: string): Promise<{ openId: string; name?: string | undefined }[]> {
    const ids: { openId: string; name?: string | undefined }[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.call('im.chat.members.get', () =>
        this.client.im.v1.chatMembers.get({ path: { chat_id: chatId }, params: { member_id_type: 'open_id', page_size: 100, ...(pageToken ? { page_token: pageToken } : {}) } }),
      );
      for (const item of res.data?.items ?? []) if (item.member_id) ids.push({ openId: item.member_id, name: item.name ?? undefined });
      pageToken = res.data?.has_more ? res.data.page_token : undefined;
    } while (pageToken);
    return ids;
  }

  async getMessage(messageId: string): Promise<FeishuMessageInfo | undefined> {
    const res = await this.call('im.message.get', () => this.client.im.v1.message.get({ path: { message_id: messageId } }));
    const item = res.data?.items?.[0];
    if (!item) return undefined;
    return { messageId, chatId: item.chat_id ?? '', msgType: item.msg_type ?? 'text', content: item.body?.content ?? '', senderId: item.sender?.id };
  }

  /**
   * POST /open-apis/im/v1/images (multipart: image_type=message, image) → image_key for cards and
   * image messages. The image goes as a named stream (like fs.ReadStream): the SDK sends a bare
   * Buffer as a part without a filename or content type. A fresh stream per attempt, so the retry
   * after a token refresh sends the bytes again.
   */
  async uploadImage(image: Buffer, fileName: string): Promise<string> {
    const res = await this.call('im.image.create', async () => {
      const stream = Object.assign(Readable.from([image]), { path: fileName }) as unknown as ReadStream;
      // The SDK returns the body's `data` (null when the body had none), not the whole body.
      const data = await this.client.im.v1.image.create({ data: { image_type: 'message', image: stream } });
      return { code: 0, data: data ?? undefined };
    });
    const key = res.data?.image_key;
    if (!key) throw new FeishuApiError(-1, undefined, 'image upload returned no image_key');
    return key;
  }

  /**
   * POST /open-apis/im/v1/files (multipart: file_type, file_name, file) → file_key for a `file`
   * message. At most 30 MB, never empty (Feishu's limits).
   */
  async uploadFile(bytes: Buffer, fileName: string, fileType: FeishuFileType): Promise<string> {
    const res = await this.call('im.file.create', async () => {
      const stream = Object.assign(Readable.from([bytes]), { path: fileName }) as unknown as ReadStream;
      const data = await this.client.im.v1.file.create({ data: { file_type: fileType, file_name: fileName, file: stream } });
      return { code: 0, data: data ?? undefined };
    });
    const key = res.data?.file_key;
    if (!key) throw new FeishuApiError(-1, undefined, 'file upload returned no file_key');
    return key;
  }

  /**
   * GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file: the bytes of a
   * file or image of a message the bot can see, read up to `maxBytes` (beyond: the size, and the
   * download is dropped). Errors come back as Feishu's coded JSON, which is parsed here.
   */
  async readResource(messageId: string, fileKey: string, type: 'image' | 'file', maxBytes: number): Promise<ResourceRead> {
    // Over plain fetch with the SDK's tenant token: the SDK's binary call loses Feishu's coded
    // error (it fails while describing the stream), and its stream could not be cut at the cap.
    const res = await this.call('im.message.resource.get', async () => {
      const client = this.client as unknown as { domain: string; tokenManager: { getTenantAccessToken(): Promise<string | undefined> } };
      const token = await client.tokenManager.getTenantAccessToken();
      const url = `${String(client.domain).replace(/\/+$/, '')}/open-apis/im/v1/messages/${encodeURIComponent(messageId)}/resources/${encodeURIComponent(fileKey)}?type=${type}`;
      const got = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(RESOURCE_TIMEOUT_MS) });
      if (got.status !== 200) {
        const body = (await got.json().catch(() => undefined)) as ApiResponse | undefined;
        const code = typeof body?.code === 'number' ? body.code : got.status === 429 ? 99991400 : -1;
        throw new FeishuApiError(code, got.status, body?.msg ?? `HTTP ${got.status}`, retryAfterOf(Object.fromEntries(got.headers)));
      }
      const announced = Number(got.headers.get('content-length'));
      if (Number.isFinite(announced) && announced > maxBytes) {
        await got.body?.cancel().catch(() => undefined);
        return { code: 0, read: { ok: false as const, size: announced } };
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of got.body ?? []) {
        const b = Buffer.from(chunk as Uint8Array);
        total += b.length;
        if (total > maxBytes) return { code: 0, read: { ok: false as const, size: total } };
        chunks.push(b);
      }
      return { code: 0, read: { ok: true as const, bytes: Buffer.concat(chunks), contentType: got.headers.get('content-type') ?? undefined } };
    });
    return res.read;
  }

  async botOpenId(): Promise<string | undefined> {
    const res = await this.call('bot.info', () => this.client.request<ApiResponse & { bot?: { open_id?: string } }>({ method: 'GET', url: '/open-apis/bot/v3/info' }));
    return res.bot?.open_id;
  }

  async grantedScopes(): Promise<{ name: string; granted: boolean }[]> {
    const res = await this.call('application.scope.list', () => this.client.application.v6.scope.list());
    return (res.data?.scopes ?? []).map((s) => ({ name: s.scope_name, granted: s.grant_status === 1 }));
  }

  async applyScopes(): Promise<void> {
    await this.call('application.scope.apply', () => this.client.application.v6.scope.apply());
  }
}

function sentOf(data: { message_id?: string; chat_id?: string } | undefined): SentMessage {
  if (!data?.message_id) throw new FeishuApiError(-1, undefined, 'send returned no message_id');
  return { messageId: data.message_id, chatId: data.chat_id ?? '' };
}

/** Axios errors (non-2xx) and coded bodies become one FeishuApiError. */
export function toApiError(err: unknown): FeishuApiError {
  if (err instanceof FeishuApiError) return err;
  const resp = (err as { response?: { status?: number; data?: ApiResponse; headers?: Record<string, string | undefined> } } | null)?.response;
  if (resp) {
    const code = typeof resp.data?.code === 'number' ? resp.data.code : resp.status === 429 ? 99991400 : -1;
    return new FeishuApiError(code, resp.status, resp.data?.msg ?? `HTTP ${resp.status}`, retryAfterOf(resp.headers));
  }
  return new FeishuApiError(-1, undefined, err instanceof Error ? err.message : String(err));
}

/** Feishu says when to come back in x-ogw-ratelimit-reset (seconds); Retry-After as a fallback. */
function retryAfterOf(headers: Record<string, string | undefined> | undefined): number | undefined {
  const raw = headers?.['x-ogw-ratelimit-reset'] ?? headers?.['retry-after'];
  const seconds = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
