import type { webApi } from '@slack/bolt';
import { departmentOfChannel } from '../domain/platforms';
import type { Logger } from 'pino';
import type { TicketView } from '../app/queries';
import type { AppContext } from '../app/context';
import { channelCardButtons } from '../chat/dispatcher';
import { isMessageKey, t } from '../chat/i18n';
import { formatTime, localizeParams, ticketCardView } from '../chat/views';
import type { Locale } from '../domain/types';
import { parseOutboxPayload, type OutboxImage, type OutboxPayload, type OutboxRecord, type OutboxSender, type SendOutcome } from '../app/outbox';
import { OUTBOX_METADATA_TYPE, outboxBlockId } from './ids';
import type { SlackLink, SlackPorts } from './ports';
import { escapeMrkdwn, fileShareBlocks, noticeMessage, slackTime, ticketCard, truncate, type SlackMessage } from './presenters';
import { describeSlackError, slackErrorCode } from './runtime';
import { fetchForCopy, fileSourcesOf, type FileRef } from '../app/files';
import { FILE_EVENT } from '../app/outbox';
import { slackFileSource } from './files';

export interface SlackSenderOptions {
  ctx: AppContext;
  /** A client that rejects rate-limited calls (the dispatcher owns retries and pacing). */
  client: webApi.WebClient;
  ports: SlackPorts;
  teamId: string;
  loadTicketView(ticketId: string): Promise<TicketView | undefined>;
  logger?: Logger;
}

/** Channel errors no retry can fix: the admin must invite the bot or fix the config. */
const CHANNEL_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action']);
const PERMANENT_ERRORS = new Set(['invalid_arguments', ...CHANNEL_ERRORS, 'invalid_auth', 'account_inactive', 'token_revoked', 'user_not_found', 'cannot_dm_bot', 'invalid_blocks', 'msg_too_long', 'no_text', 'user_disabled']);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Bytes to the upload URL: a chart is tens of kilobytes, so this is generous. */
const UPLOAD_TIMEOUT_MS = 60_000;
const MAX_ALT_TEXT = 1000;

/**
 * Delivers outbox rows to Slack: renders each in its locale, posts or updates (always with the
 * full blocks), records card and thread links, and tags every message with the row id so a retry
 * after an unknown outcome finds the earlier message instead of posting twice.
 */
export class SlackSender implements OutboxSender {
  readonly platform = 'slack' as const;
  private readonly logger: Logger;

  constructor(private readonly o: SlackSenderOptions) {
    this.logger = o.logger ?? o.ctx.logger;
    // Other senders (Feishu's) read Slack files through this bot's connection.
    fileSourcesOf(o.ctx).register(slackFileSource(o.client));
  }

  async send(row: OutboxRecord): Promise<SendOutcome> {
    const payload = parseOutboxPayload(row.payload);
    if (!payload) return { ok: false, error: 'unreadable outbox payload', permanent: true };
    try {
      if (row.event === 'card.post') return await this.postCard(row, payload);
      if (row.event === 'card.refresh') return await this.refreshCards(row);
      if (row.event === FILE_EVENT && payload.file) return await this.postFile(row, payload, payload.file);
      return await this.postNotice(row, payload);
    } catch (err) {
      return this.failure(row, err);
    }
  }

  private failure(row: OutboxRecord, err: unknown): SendOutcome {
    const e = err as { code?: string; retryAfter?: number };
    const description = describeSlackError(err);
    if (e?.code === 'slack_webapi_rate_limited_error') return { ok: false, error: description, retryAfterMs: (e.retryAfter ?? 1) * 1000 };
    const code = slackErrorCode(err);
    if (code && CHANNEL_ERRORS.has(code)) {
      const error = `${code}: the bot cannot post in ${row.target_id}. Invite it there (/invite @ticketbot) or fix departments[].slack.channel in the config.`;
      this.logger.error({ outboxId: row.id, channel: row.target_id, error: code }, 'Slack: channel unreachable');
      return { ok: false, error, permanent: true };
    }
    if (code && PERMANENT_ERRORS.has(code)) return { ok: false, error: code, permanent: true };
    return { ok: false, error: description };
  }

  private locale(row: OutboxRecord): Locale {
    return row.locale === 'en' || row.locale === 'zh-CN' ? row.locale : this.o.ctx.config.raw.locale;
  }

  private metadata(row: OutboxRecord) {
    return { event_type: OUTBOX_METADATA_TYPE, event_payload: { outbox_id: row.id } };
  }

  /** A message we already posted for this row (an earlier attempt whose outcome we never learnt). */
  private async findEarlier(row: OutboxRecord, channel: string, threadTs?: string): Promise<string | undefined> {
    if (row.attempts <= 0) return undefined;
    const oldest = String(Math.floor(Date.parse(row.created_at) / 1000) - 60);
    const res = threadTs
      ? await this.o.client.conversations.replies({ channel, ts: threadTs, oldest, include_all_metadata: true, limit: 200 })
      : await this.o.client.conversations.history({ channel, oldest, include_all_metadata: true, limit: 200 });
    const tag = outboxBlockId(row.id);
    const found = (res.messages ?? []).find((m) => {
      const msg = m as { metadata?: { event_type?: string; event_payload?: { outbox_id?: unknown } }; blocks?: Array<{ block_id?: unknown }> };
      const md = msg.metadata;
      if (md?.event_type === OUTBOX_METADATA_TYPE && md.event_payload?.outbox_id === row.id) return true;
      // A file share cannot carry metadata: its first block's id is the tag.
      return (msg.blocks ?? []).some((b) => b.block_id === tag);
    });
    return found?.ts;
  }

  private async post(row: OutboxRecord, channel: string, message: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }> {
    const earlier = await this.findEarlier(row, channel, threadTs);
    if (earlier) {
      this.logger.info({ outboxId: row.id, channel }, 'Slack: found the message of an earlier attempt; not posting again');
      return { channel, ts: earlier };
    }
    const res = await this.o.client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks as never,
      metadata: this.metadata(row),
      unfurl_links: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return { channel: res.channel ?? channel, ts: res.ts! };
  }

  private async view(row: OutboxRecord): Promise<TicketView | undefined> {
    return row.ticket_id ? this.o.loadTicketView(row.ticket_id) : undefined;
  }

  /** A department channel's card; only the department that holds the ticket gets its buttons (one rule, src/chat). */
  private render(view: TicketView, locale: Locale, channel: string): SlackMessage {
    const zone = this.o.ctx.calendars.get(view.department.calendar)?.timezone ?? 'UTC';
    const channelDepartment = departmentOfChannel(this.o.ctx.config.departments.values(), 'slack', channel)?.id;
    const withActions = channelCardButtons(view.ticket.department_id, channelDepartment);
    return ticketCard(ticketCardView(view, locale, { config: this.o.ctx.config, timeZone: zone, now: this.o.ctx.time.now() }), { withActions });
  }

  private async postCard(row: OutboxRecord, payload: OutboxPayload): Promise<SendOutcome> {
    const view = await this.view(row);
    if (!view) return { ok: false, error: `ticket ${row.ticket_id} not found`, permanent: true };
    const locale = this.locale(row);
    // The card shows the ticket as it is now, not as it was when the row was written.
    const { channel, ts } = await this.post(row, row.target_id, this.render(view, locale, row.target_id));
    await this.o.ports.recordLink({ workspace: this.o.teamId, channel, messageId: ts, ticketId: view.ticket.id, legId: payload.legId ?? null, role: 'card', cardVersion: view.ticket.version });
    return { ok: true, messageRef: `${channel}/${ts}` };
  }

  private async refreshCards(row: OutboxRecord): Promise<SendOutcome> {
    if (!row.ticket_id) return { ok: true };
    const links = await this.o.ports.findLinks(row.ticket_id, { channel: row.target_id, role: 'card' });
    const wanted = row.ticket_version ?? 0;
    const stale = links.filter((l) => l.cardVersion < wanted);
    if (stale.length === 0) return { ok: true };
    const view = await this.view(row);
    if (!view) return { ok: false, error: `ticket ${row.ticket_id} not found`, permanent: true };
    const message = this.render(view, this.locale(row), row.target_id);
    for (const link of stale) {
      await this.o.client.chat.update({ channel: link.channel, ts: link.messageId, text: message.text, blocks: message.blocks as never, metadata: this.metadata(row) });
      await this.o.ports.bumpCardVersion(link.channel, link.messageId, view.ticket.version);
    }
    return { ok: true, messageRef: stale.map((l) => `${l.channel}/${l.messageId}`).join(',') };
  }

  private async postNotice(row: OutboxRecord, payload: OutboxPayload): Promise<SendOutcome> {
    if (payload.image) return this.postWithImage(row, payload, payload.image);
    const locale = this.locale(row);
    const view = await this.view(row);
    const message = this.noticeFor(row, payload, locale, view);
    if (payload.thread === 'card' && row.target_kind === 'channel' && row.ticket_id) {
      const cards = await this.o.ports.findLinks(row.ticket_id, { channel: row.target_id, role: 'card' });
      const card = cards[cards.length - 1];
      const sent = await this.post(row, row.target_id, message, card?.messageId);
      return { ok: true, messageRef: `${sent.channel}/${sent.ts}` };
    }
    if (payload.thread === 'requester' && row.target_kind === 'user' && row.ticket_id) {
      const thread = await this.requesterThread(row, view);
      if (thread) {
        const sent = await this.post(row, thread.channel, message, thread.messageId);
        return { ok: true, messageRef: `${sent.channel}/${sent.ts}` };
      }
      // No thread yet: this message becomes its root.
      const channel = await this.dmChannel(row.target_id);
      const sent = await this.post(row, channel, message);
      await this.o.ports.recordLink({ workspace: this.o.teamId, channel: sent.channel, messageId: sent.ts, ticketId: row.ticket_id, legId: null, role: 'requester_thread', cardVersion: 0 });
      return { ok: true, messageRef: `${sent.channel}/${sent.ts}` };
    }
    const channel = row.target_kind === 'user' ? await this.dmChannel(row.target_id) : row.target_id;
    const sent = await this.post(row, channel, message);
    return { ok: true, messageRef: `${sent.channel}/${sent.ts}` };
  }

  /**
   * A file copied from the other side of the ticket (issue 17 item 5), into the thread its text
   * went to: read from its source, uploaded with the external flow and shared by
   * files.completeUploadExternal with channel_id + thread_ts; the share's first block carries the
   * row's tag, so a retry after an unknown outcome finds it instead of sharing twice. Over the size
   * cap, or gone at the source: the name and link, with the reason, as a plain message.
   */
  private async postFile(row: OutboxRecord, payload: OutboxPayload, file: FileRef): Promise<SendOutcome> {
    const locale = this.locale(row);
    const view = await this.view(row);
    let channel = row.target_kind === 'user' ? '' : row.target_id;
    let threadTs: string | undefined;
    if (payload.thread === 'card' && row.target_kind === 'channel' && row.ticket_id) {
      threadTs = (await this.o.ports.findLinks(row.ticket_id, { channel: row.target_id, role: 'card' })).at(-1)?.messageId;
    } else if (payload.thread === 'requester' && row.target_kind === 'user' && row.ticket_id) {
      const thread = await this.requesterThread(row, view);
      if (thread) {
        channel = thread.channel;
        threadTs = thread.messageId;
      }
    }
    if (channel === '') channel = await this.dmChannel(row.target_id);
    const earlier = await this.findEarlier(row, channel, threadTs);
    if (earlier) {
      this.logger.info({ outboxId: row.id, channel }, 'Slack: found the file share of an earlier attempt; not sharing again');
      return { ok: true, messageRef: `${channel}/${earlier}` };
    }
    const linkText = this.noticeText(payload, locale, view);
    const got = await fetchForCopy(this.o.ctx, file);
    if (!got.ok) {
      const why = t(locale, got.why.key, got.why.params);
      if (got.goneDetail) this.logger.warn({ outboxId: row.id, file: file.fileId, from: file.platform, detail: got.goneDetail }, 'Slack: a file could not be read at its source; posting its link');
      const sent = await this.post(row, channel, noticeMessage(`${linkText}\n${escapeMrkdwn(why)}`, { locale, ticketId: row.ticket_id, preformatted: true }), threadTs);
      return { ok: true, messageRef: `${sent.channel}/${sent.ts}` };
    }
    const name = got.file.name || file.name;
    const upload = await this.o.client.files.getUploadURLExternal({ filename: name, length: got.file.bytes.length });
    if (!upload.upload_url || !upload.file_id) return { ok: false, error: 'files.getUploadURLExternal answered without upload_url or file_id' };
    await this.uploadBytes(upload.upload_url, got.file.bytes);
    const key = typeof payload.params.key === 'string' ? payload.params.key : '';
    const caption = t(locale, 'event.ticket.file_caption', { name: escapeMrkdwn(name), key });
    const done = await this.o.client.files.completeUploadExternal({
      files: [{ id: upload.file_id, title: name }],
      channel_id: channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      blocks: fileShareBlocks(caption, outboxBlockId(row.id)) as never,
    } as webApi.FilesCompleteUploadExternalArguments);
    const ts = shareTs((done.files ?? [])[0], channel);
    return { ok: true, messageRef: `${channel}/${ts ?? upload.file_id}` };
  }

  /** The requester's DM thread of this ticket: a recorded link, or the DM message that raised it. */
  private async requesterThread(row: OutboxRecord, view: TicketView | undefined): Promise<SlackLink | undefined> {
    const links = await this.o.ports.findLinks(row.ticket_id!, { role: 'requester_thread' });
    const known = links[0];
    if (known) return known;
    const source = parseSource(view?.ticket.source_ref ?? null);
    if (source?.channel?.startsWith('D') && source.messageId && source.authorId === row.target_id) {
      const link: SlackLink = { workspace: this.o.teamId, channel: source.channel, messageId: source.threadId ?? source.messageId, ticketId: row.ticket_id!, legId: null, role: 'requester_thread', cardVersion: 0 };
      await this.o.ports.recordLink(link);
      return link;
    }
    return undefined;
  }

  private async dmChannel(userId: string): Promise<string> {
    const res = await this.o.client.conversations.open({ users: userId });
    return res.channel?.id ?? userId;
  }

  /**
   * A report with its chart, as one message: the PNG is uploaded with Slack's external upload flow
   * (files.getUploadURLExternal, POST of the bytes to the returned URL, files.completeUploadExternal)
   * and shared into the conversation by the completion, whose `blocks` carry the text. Slack shows
   * the share as a single message with the text and the image inline. Images go to the
   * conversation itself, never into a thread. See docs/decisions.md.
   */
  private async postWithImage(row: OutboxRecord, payload: OutboxPayload, image: OutboxImage): Promise<SendOutcome> {
    const bytes = Buffer.from(image.pngBase64 ?? '', 'base64');
    if (bytes.length <= PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
      return { ok: false, error: 'outbox payload image is not a PNG', permanent: true };
    }
    const locale = this.locale(row);
    const channel = row.target_kind === 'user' ? await this.dmChannel(row.target_id) : row.target_id;
    // The share of an earlier attempt (found by its tagged block), or its text-only fallback (metadata).
    const earlier = await this.findEarlier(row, channel);
    if (earlier) {
      this.logger.info({ outboxId: row.id, channel }, 'Slack: found the message of an earlier attempt; not posting again');
      return { ok: true, messageRef: `${channel}/${earlier}` };
    }
    const text = this.noticeText(payload, locale, undefined);
    const alt = image.altKey && isMessageKey(image.altKey) ? truncate(t(locale, image.altKey), MAX_ALT_TEXT) : undefined;
    const fileName = image.fileName?.trim() || 'chart.png';
    let upload: { upload_url?: string; file_id?: string };
    try {
      // Slack's reference names the alt text argument `alt_txt` (the SDK's type says alt_text).
      upload = await this.o.client.files.getUploadURLExternal({ filename: fileName, length: bytes.length, ...(alt ? { alt_txt: alt } : {}) } as webApi.FilesGetUploadURLExternalArguments);
    } catch (err) {
      if (slackErrorCode(err) !== 'missing_scope') throw err;
      // Installed before the chart needed files:write: the text still goes out, without the chart.
      this.logger.warn({ outboxId: row.id, channel }, 'Slack: files:write is missing, so the chart is left out; reinstall the app from manifests/slack/manifest.yaml');
      const sent = await this.post(row, channel, noticeMessage(text, { locale, ticketId: null, preformatted: true }));
      return { ok: true, messageRef: `${sent.channel}/${sent.ts}` };
    }
    if (!upload.upload_url || !upload.file_id) return { ok: false, error: 'files.getUploadURLExternal answered without upload_url or file_id' };
    await this.uploadBytes(upload.upload_url, bytes);
    const done = await this.o.client.files.completeUploadExternal({
      files: [{ id: upload.file_id, title: alt ?? fileName }],
      channel_id: channel,
      blocks: fileShareBlocks(text, outboxBlockId(row.id)) as never,
    });
    // Slack shares asynchronously: the message ts is in the answer only when the share was quick.
    const ts = shareTs((done.files ?? [])[0], channel);
    return { ok: true, messageRef: `${channel}/${ts ?? upload.file_id}` };
  }

  /** Step 2 of the upload: the bytes, raw, to the URL Slack handed out. */
  private async uploadBytes(url: string, bytes: Buffer): Promise<void> {
    const token = this.o.client.token;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: new Uint8Array(bytes),
      redirect: 'error',
      signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status !== 200) throw new Error(`file upload: http ${res.status}`);
  }

  private noticeText(payload: OutboxPayload, locale: Locale, view: TicketView | undefined): string {
    const zone = (view && this.o.ctx.calendars.get(view.department.calendar)?.timezone) ?? 'UTC';
    const raw = payload.params ?? {};
    const params: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(localizeParams(raw, locale, zone))) params[k] = typeof v === 'string' ? escapeMrkdwn(v) : v;
    // Deadlines are shown in each reader's own zone by Slack.
    if (typeof raw.due === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw.due)) params.due = slackTime(formatTime(raw.due, zone));
    return isMessageKey(payload.messageKey) ? t(locale, payload.messageKey, params) : escapeMrkdwn(payload.messageKey);
  }

  private noticeFor(row: OutboxRecord, payload: OutboxPayload, locale: Locale, view: TicketView | undefined): SlackMessage {
    const raw = payload.params ?? {};
    const text = this.noticeText(payload, locale, view);
    return noticeMessage(text, { locale, ticketId: row.ticket_id, actions: payload.actions ?? [], clock: typeof raw.clock === 'string' ? raw.clock : undefined, preformatted: true });
  }
}

/** The ts of the share message in `channel`, when Slack's answer already lists it. */
function shareTs(file: unknown, channel: string): string | undefined {
  const shares = (file as { shares?: Record<string, Record<string, Array<{ ts?: string }>> | undefined> } | undefined)?.shares;
  for (const kind of ['public', 'private']) {
    const ts = shares?.[kind]?.[channel]?.[0]?.ts;
    if (ts) return ts;
  }
  return undefined;
}

function parseSource(raw: string | null): { channel?: string; messageId?: string; threadId?: string; authorId?: string } | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as { channel?: string; messageId?: string; threadId?: string; authorId?: string };
  } catch {
    return undefined;
  }
}
