import { t, isMessageKey } from '../chat/i18n';
import { localizeParams } from '../chat/views';
import type { Locale } from '../domain/types';
import { parseOutboxPayload, parseUrgentPayload, type FollowUp, type OutboxPayload, type OutboxRecord, type OutboxSender, type SendOutcome } from '../app/outbox';
import { FeishuApiError, toApiError, type MsgType, type SentMessage, type UrgentKind } from './api';
import { fetchForCopy, fileSourcesOf, type FileRef } from '../app/files';
import { FILE_EVENT } from '../app/outbox';
import { feishuFileSource, feishuFileType, isSendableImage } from './files';
import { actionFormCard, imageNoticeCard, notificationCard, textContent, type Card, type NotificationAction } from './presenters';
import type { FeishuLink } from './ports';
import { departmentOfChat, departmentTimeZone, renderTicketCard, type FeishuRuntime } from './runtime';

/** Cards can be PATCHed for 14 days; we stop an hour early rather than race the limit. */
export const CARD_EDIT_WINDOW_MS = 14 * 24 * 3600 * 1000 - 3600 * 1000;

/**
 * Errors that retrying cannot fix: bot not in the chat, user out of the app's range, bad request,
 * a card Feishu refuses (230099: the same card fails the same way every time), and a missing
 * scope (99991672 app scope, 99991679 user scope: only an admin granting it helps).
 * https://open.feishu.cn/document/server-docs/getting-started/server-error-codes
 */
const PERMANENT_CODES = new Set([230002, 230013, 230006, 99992402, 99992361, 230001, 232009, 41050, 234001, 234006, 234011, 230099, 99991672, 99991679]);
/** Our own code for a payload that cannot be sent as it is (never retried). */
const PAYLOAD_ERROR = -2;
/** Answers to a PATCH that mean the card can no longer be edited, so a fresh one is posted. */
const EDIT_CLOSED_CODES = new Set([230031, 230054]);

type Payload = OutboxPayload;

/** One 加急 on a sent message: its own outbox row, so a failed SMS is retried without re-sending the message or the others. */
export const URGENT_EVENT = 'feishu.urgent';

const NOTIFICATION_ACTIONS: readonly string[] = ['confirm', 'reopen', 'take_over', 'reassign', 'extend', 'open'];
/** Image keys of rows whose message is not sent yet, so a retry does not upload the picture again. */
const UPLOADED_KEEP = 200;

export interface FeishuSenderOptions {
  tenant: string;
  editWindowMs?: number;
}

/**
 * Sends outbox rows of platform 'feishu'. Every send carries `uuid` (Feishu drops a repeat within
 * an hour), so a retry after an unknown outcome never doubles a message. Cards are PATCHed in
 * version order and replaced by a fresh, linked card once the edit window has passed.
 */
export class FeishuSender implements OutboxSender {
  readonly platform = 'feishu' as const;
  private readonly editWindowMs: number;
  private readonly uploaded = new Map<string, string>();

  constructor(
    private readonly rt: FeishuRuntime,
    private readonly opts: FeishuSenderOptions,
  ) {
    this.editWindowMs = opts.editWindowMs ?? CARD_EDIT_WINDOW_MS;
    // Other senders (Slack's) read Feishu files through this bot's connection.
    fileSourcesOf(rt.ctx).register(feishuFileSource(rt.api));
  }

  async send(row: OutboxRecord): Promise<SendOutcome> {
    if (row.event === URGENT_EVENT) return this.sendUrgent(row);
    const payload = parseOutboxPayload(row.payload);
    if (!payload) return { ok: false, error: 'unreadable outbox payload', permanent: true };
    try {
      const ref = await this.deliver(row, payload);
      const followUps = ref ? this.urgentFollowUps(row, payload, ref) : [];
      return { ok: true, ...(ref ? { messageRef: ref } : {}), ...(followUps.length ? { followUps } : {}) };
    } catch (err) {
      const e = toApiError(err);
      this.rt.logger.warn({ outboxId: row.id, event: row.event, code: e.code, status: e.httpStatus }, 'feishu delivery failed');
      if (e.rateLimited) return { ok: false, error: e.message, retryAfterMs: e.retryAfterMs ?? 1000 };
      if (PERMANENT_CODES.has(e.code) || e.code === PAYLOAD_ERROR) return { ok: false, error: e.message, permanent: true };
      return { ok: false, error: e.message };
    }
  }

  private async deliver(row: OutboxRecord, p: Payload): Promise<string | undefined> {
    const locale: Locale = row.locale === 'en' ? 'en' : 'zh-CN';
    if (row.event === 'card.post') return this.postCard(row, p, locale, row.id);
    if (row.event === 'card.refresh') return this.refreshCard(row, p, locale);

    const deptOfTicket = row.ticket_id ? (await this.rt.loadTicketView(row.ticket_id))?.ticket.department_id : undefined;
    const tz = departmentTimeZone(this.rt.ctx, row.target_kind === 'channel' ? departmentOfChat(this.rt.ctx, row.target_id) : deptOfTicket);
    const text = isMessageKey(p.messageKey) ? t(locale, p.messageKey, localizeParams(p.params, locale, tz)) : p.messageKey;
    const content = p.file && row.event === FILE_EVENT ? await this.fileContent(row, p.file, locale, text) : p.image ? await this.imageContent(row, p.image, locale, text) : this.contentFor(row, p, locale, text);
    const sent = await this.place(row, p, content);
    this.uploaded.delete(row.id);
    return sent.messageId;
  }

  /** 加急 rows for a message just sent to a person: in-app by default; SMS and phone only when the level opts in (they cost money). */
  private urgentFollowUps(row: OutboxRecord, p: Payload, messageId: string): FollowUp[] {
    if (row.urgent !== 1 || row.target_kind !== 'user' || row.event === 'card.post' || row.event === 'card.refresh') return [];
    const via: UrgentKind[] = p.urgentVia?.length ? p.urgentVia : ['app'];
    return [...new Set(via)].map((kind) => ({ key: `urgent_${kind}`, event: URGENT_EVENT, payload: JSON.stringify({ messageId, kind }) }));
  }

  private async sendUrgent(row: OutboxRecord): Promise<SendOutcome> {
    const urgent = parseUrgentPayload(row.payload);
    if (!urgent) return { ok: false, error: 'unreadable urgent payload', permanent: true };
    try {
      await this.rt.api.urgent(urgent.messageId, urgent.kind, [row.target_id]);
      return { ok: true };
    } catch (err) {
      const e = toApiError(err);
      this.rt.logger.warn({ outboxId: row.id, kind: urgent.kind, code: e.code }, 'feishu 加急 failed');
      if (e.rateLimited) return { ok: false, error: e.message, retryAfterMs: e.retryAfterMs ?? 1000 };
      if (PERMANENT_CODES.has(e.code)) return { ok: false, error: e.message, permanent: true };
      return { ok: false, error: e.message };
    }
  }

  private contentFor(row: OutboxRecord, p: Payload, locale: Locale, text: string): { msgType: 'text' | 'interactive'; content: string } {
    const actions = p.actions ?? [];
    if (row.ticket_id && actions.includes('survey')) {
      const key = typeof p.params.key === 'string' ? p.params.key : '';
      const card = actionFormCard({ locale, kind: 'survey', formId: `s${row.id}`, ticketId: row.ticket_id, ticketKey: key, ticketTitle: text });
      return { msgType: 'interactive', content: JSON.stringify(card) };
    }
    const buttons = actions.filter((a): a is NotificationAction => NOTIFICATION_ACTIONS.includes(a));
    if (row.ticket_id && buttons.length) {
      const card = notificationCard(locale, text, row.ticket_id, row.ticket_version ?? undefined, buttons, row.urgent === 1);
      return { msgType: 'interactive', content: JSON.stringify(card) };
    }
    return { msgType: 'text', content: textContent(text) };
  }

  /**
   * Text and picture in one card: the PNG is uploaded (image_type=message) and shown by its
   * image_key. The key is kept until the message is sent, so a retry after a failed send reuses it.
   */
  private async imageContent(row: OutboxRecord, image: NonNullable<Payload['image']>, locale: Locale, text: string): Promise<{ msgType: 'interactive'; content: string }> {
    let key = this.uploaded.get(row.id);
    if (!key) {
      const png = Buffer.from(image.pngBase64, 'base64');
      if (png.length === 0) throw new FeishuApiError(PAYLOAD_ERROR, undefined, 'the image of the outbox payload is empty');
      key = await this.rt.api.uploadImage(png, image.fileName);
      if (this.uploaded.size >= UPLOADED_KEEP) this.uploaded.delete(this.uploaded.keys().next().value!);
      this.uploaded.set(row.id, key);
    }
    const alt = image.altKey && isMessageKey(image.altKey) ? t(locale, image.altKey) : image.fileName;
    return { msgType: 'interactive', content: JSON.stringify(imageNoticeCard(text, key, alt)) };
  }

  /**
   * A file copied from the other side (issue 17 item 5): read from its source, uploaded
   * (im/v1/images for a picture Feishu shows, im/v1/files otherwise) and sent as an `image` or
   * `file` message. Over the size cap, or gone at the source: the name and link, with the reason.
   * The uploaded key is kept until the message is sent, so a retry after a failed send does not
   * upload again, and the send's uuid (the row id) keeps a retry from doubling the message.
   */
  private async fileContent(row: OutboxRecord, file: FileRef, locale: Locale, linkText: string): Promise<{ msgType: MsgType; content: string }> {
    const cached = this.uploaded.get(row.id);
    if (cached) {
      const [msgType, key] = cached.split(':', 2) as ['file' | 'image', string];
      return { msgType, content: JSON.stringify(msgType === 'image' ? { image_key: key } : { file_key: key }) };
    }
    const got = await fetchForCopy(this.rt.ctx, file);
    if (!got.ok) {
      if (got.goneDetail) this.rt.logger.warn({ outboxId: row.id, file: file.fileId, from: file.platform, detail: got.goneDetail }, 'feishu: a file could not be read at its source; sending its link');
      return { msgType: 'text', content: textContent(`${linkText}
${t(locale, got.why.key, got.why.params)}`) };
    }
    const bytes = got.file.bytes;
    const name = got.file.name || file.name;
    const asImage = (file.kind === 'image' || /^image\//.test(got.file.contentType ?? '')) && isSendableImage(bytes);
    const key = asImage ? await this.rt.api.uploadImage(bytes, name) : await this.rt.api.uploadFile(bytes, name, feishuFileType(name));
    const msgType = asImage ? 'image' : 'file';
    if (this.uploaded.size >= UPLOADED_KEEP) this.uploaded.delete(this.uploaded.keys().next().value!);
    this.uploaded.set(row.id, `${msgType}:${key}`);
    return { msgType, content: JSON.stringify(asImage ? { image_key: key } : { file_key: key }) };
  }

  /** Where a message goes: the requester's DM thread, the card's thread, or a plain message. */
  private async place(row: OutboxRecord, p: Payload, content: { msgType: MsgType; content: string }): Promise<SentMessage> {
    const api = this.rt.api;
    const receiveIdType = row.target_kind === 'channel' ? 'chat_id' : 'open_id';
    if (row.ticket_id && p.thread === 'requester' && row.target_kind === 'user') {
      const root = (await this.rt.links.list(row.ticket_id, 'requester_thread')).at(-1);
      if (root) return api.reply({ messageId: root.messageId, ...content, inThread: true, uuid: row.id });
      const sent = await api.sendMessage({ receiveIdType, receiveId: row.target_id, ...content, uuid: row.id });
      await this.rt.links.record(this.link(sent, row.ticket_id, null, 'requester_thread', 0));
      return sent;
    }
    if (row.ticket_id && p.thread === 'card' && row.target_kind === 'channel') {
      const cardMsg = (await this.rt.links.list(row.ticket_id, 'card', row.target_id)).at(-1);
      if (cardMsg) return api.reply({ messageId: cardMsg.messageId, ...content, inThread: true, uuid: row.id });
    }
    return api.sendMessage({ receiveIdType, receiveId: row.target_id, ...content, uuid: row.id });
  }

  private link(sent: SentMessage, ticketId: string, legId: string | null, role: FeishuLink['role'], version: number): FeishuLink {
    return { tenant: this.opts.tenant, chatId: sent.chatId, messageId: sent.messageId, ticketId, legId, role, cardVersion: version, createdAt: this.rt.ctx.time.now().toISOString() };
  }

  private async renderCard(ticketId: string, chatId: string, locale: Locale): Promise<{ card: Card; version: number } | undefined> {
    const view = await this.rt.loadTicketView(ticketId);
    if (!view) return undefined;
    return { card: renderTicketCard(this.rt.ctx, view, locale, departmentOfChat(this.rt.ctx, chatId)), version: view.ticket.version };
  }

  private async postCard(row: OutboxRecord, p: Payload, locale: Locale, uuid: string): Promise<string | undefined> {
    if (!row.ticket_id) return undefined;
    const rendered = await this.renderCard(row.ticket_id, row.target_id, locale);
    if (!rendered) return undefined;
    const sent = await this.rt.api.sendMessage({ receiveIdType: 'chat_id', receiveId: row.target_id, msgType: 'interactive', content: JSON.stringify(rendered.card), uuid });
    await this.rt.links.record(this.link({ ...sent, chatId: sent.chatId || row.target_id }, row.ticket_id, p.legId ?? null, 'card', rendered.version));
    return sent.messageId;
  }

  /** Re-renders the newest card of the ticket in this chat, unless it already shows this version or newer. */
  private async refreshCard(row: OutboxRecord, p: Payload, locale: Locale): Promise<string | undefined> {
    if (!row.ticket_id) return undefined;
    const latest = (await this.rt.links.list(row.ticket_id, 'card', row.target_id)).at(-1);
    if (!latest) return this.postCard(row, p, locale, row.id);
    if (row.ticket_version !== null && latest.cardVersion >= row.ticket_version) return latest.messageId;
    const rendered = await this.renderCard(row.ticket_id, row.target_id, locale);
    if (!rendered) return undefined;
    const age = this.rt.ctx.time.now().getTime() - Date.parse(latest.createdAt);
    if (age > this.editWindowMs) return this.postCard(row, { ...p, legId: latest.legId ?? undefined }, locale, `${row.id}:fresh`);
    try {
      await this.rt.api.patchCard(latest.messageId, rendered.card);
    } catch (err) {
      const e = toApiError(err);
      if (e instanceof FeishuApiError && EDIT_CLOSED_CODES.has(e.code)) return this.postCard(row, { ...p, legId: latest.legId ?? undefined }, locale, `${row.id}:fresh`);
      throw e;
    }
    await this.rt.links.bumpCardVersion(latest, rendered.version);
    return latest.messageId;
  }
}
