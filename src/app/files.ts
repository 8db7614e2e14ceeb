import { z } from 'zod';
import type { MessageKey } from '../chat/i18n';
import type { DbOrTx } from '../storage/database';
import type { AppContext, Attachment } from './context';

/**
 * Files that cross a ticket (issue 17 item 5): a file posted on one side (a Slack file share, a
 * Feishu `file`/`image` message, a web-form upload) is copied to the other side by the outbox
 * sender of the destination, at delivery time. The outbox row carries a reference to the source
 * (`FileRef`), never the bytes; the sender asks the source's platform for them through a
 * `FileSource` (each platform registers its own, so a Feishu sender can read a Slack file without
 * importing Slack code) and uploads them. Beyond `files.copy_max_mb` (config, default 20 MB) or
 * when the source no longer has the file, only the name and link go, with a sentence saying why.
 */

export const fileRefSchema = z.object({
  /** Where the file lives: slack, feishu, or api (a web-form upload, table intake_files). */
  platform: z.enum(['slack', 'feishu', 'api']),
  fileId: z.string().min(1),
  name: z.string().min(1),
  url: z.string().optional(),
  /** Feishu: the message whose resource the file is (GET …/messages/:message_id/resources/:file_key). */
  messageId: z.string().optional(),
  kind: z.enum(['file', 'image']).optional(),
  /** The conversation the file was posted in (it is not copied back there). */
  channel: z.string().optional(),
});
export type FileRef = z.infer<typeof fileRefSchema>;

/** At most this many files of one message are copied (the text lists them all, up to 10). */
export const MAX_FILES_PER_MESSAGE = 10;
export const DEFAULT_COPY_MAX_MB = 20;

export interface FetchedFile {
  name: string;
  bytes: Buffer;
  contentType?: string | undefined;
}

/**
 * What a source answers: the bytes, or why not — `too_large` (over the cap: never downloaded
 * whole) or `gone` (deleted, no access: retrying cannot help). A thrown error is a passing fault
 * (network, 5xx, rate limit): the outbox row is retried.
 */
export type FetchOutcome =
  | { ok: true; file: FetchedFile }
  | { ok: false; reason: 'too_large'; size: number }
  | { ok: false; reason: 'gone'; detail: string };

export interface FileSource {
  platform: FileRef['platform'];
  fetch(ref: FileRef, maxBytes: number): Promise<FetchOutcome>;
}

/** The sources of one running bot: one per platform that is on, plus the web form's uploads. */
export class FileSources {
  private readonly sources = new Map<string, FileSource>();

  register(source: FileSource): void {
    this.sources.set(source.platform, source);
  }

  async fetch(ref: FileRef, maxBytes: number): Promise<FetchOutcome> {
    const source = this.sources.get(ref.platform);
    if (!source) return { ok: false, reason: 'gone', detail: `no ${ref.platform} connection to read the file from` };
    return source.fetch(ref, maxBytes);
  }
}

const registries = new WeakMap<AppContext, FileSources>();

/** The file sources of this bot (one registry per context; the web form's uploads are always there). */
export function fileSourcesOf(ctx: AppContext): FileSources {
  let found = registries.get(ctx);
  if (!found) {
    found = new FileSources();
    found.register(webFormSource(ctx));
    registries.set(ctx, found);
  }
  return found;
}

/** Bytes a file may have to be copied (config `files.copy_max_mb`). */
export function copyMaxBytes(ctx: AppContext): number {
  return Math.floor((ctx.config.raw.files?.copy_max_mb ?? DEFAULT_COPY_MAX_MB) * 1024 * 1024);
}

/**
 * A file to copy at delivery (under the size cap, not empty), or why only its name and link go:
 * the message (key and params, worded by the sender in the reader's language) and, when the source
 * no longer has it, what the source said (for the log). One rule for every platform's sender.
 */
export async function fetchForCopy(
  ctx: AppContext,
  ref: FileRef,
): Promise<{ ok: true; file: FetchedFile } | { ok: false; why: { key: MessageKey; params: Record<string, string> }; goneDetail?: string }> {
  const max = copyMaxBytes(ctx);
  const got = await fileSourcesOf(ctx).fetch(ref, max);
  if (got.ok && got.file.bytes.length > 0) return got;
  if (!got.ok && got.reason === 'too_large') return { ok: false, why: { key: 'event.ticket.file_too_large', params: { size: fileSize(got.size), max: fileSize(max) } } };
  return { ok: false, why: { key: 'event.ticket.file_gone', params: {} }, goneDetail: got.ok ? 'the file is empty' : got.detail };
}

/** Web-form uploads (table intake_files): their bytes are in the database. */
function webFormSource(ctx: AppContext): FileSource {
  return {
    platform: 'api',
    async fetch(ref, maxBytes) {
      const row = await ctx.db.selectFrom('intake_files').select(['name', 'content_type', 'size', 'data']).where('id', '=', ref.fileId).executeTakeFirst();
      if (!row) return { ok: false, reason: 'gone', detail: 'the upload was deleted' };
      if (row.size > maxBytes) return { ok: false, reason: 'too_large', size: row.size };
      return { ok: true, file: { name: row.name, bytes: Buffer.from(row.data, 'base64'), contentType: row.content_type } };
    },
  };
}

/** The attachments that can be copied (a platform file, with what it takes to read it again). */
export function fileRefsOf(attachments: readonly Attachment[] | undefined): FileRef[] {
  const out: FileRef[] = [];
  for (const a of (attachments ?? []).slice(0, MAX_FILES_PER_MESSAGE)) {
    const platform = fileRefSchema.shape.platform.safeParse(a.platform);
    if (!a.fileId || !platform.success) continue;
    out.push({
      platform: platform.data,
      fileId: a.fileId,
      name: a.name || 'file',
      ...(a.url ? { url: a.url } : {}),
      ...(a.messageId ? { messageId: a.messageId } : {}),
      ...(a.kind ? { kind: a.kind } : {}),
      ...(a.channel ? { channel: a.channel } : {}),
    });
  }
  return out;
}

/** A size for the "too large" sentence: whole KB below a megabyte, else MB with one decimal. */
export function fileSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.ceil(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A file a member posted in the card's thread (an internal note) that a public reply may include. */
export interface ThreadFile {
  /** `<message id>:<index>`: what a form sends back. */
  value: string;
  attachment: Attachment;
}

/**
 * The files of the internal notes written on a ticket since its last public reply (newest last, at
 * most MAX_FILES_PER_MESSAGE): what the Reply… / Request info… forms offer to include. A note's
 * files stay internal unless a member picks them there.
 */
export async function noteFilesSinceLastReply(ctx: AppContext, ticketKeyOrId: string): Promise<ThreadFile[]> {
  const ticket = await ctx.db.selectFrom('tickets').select('id').where((eb) => eb.or([eb('id', '=', ticketKeyOrId), eb('key', '=', ticketKeyOrId)])).executeTakeFirst();
  if (!ticket) return [];
  const last = await ctx.db
    .selectFrom('messages')
    .select('created_at')
    .where('ticket_id', '=', ticket.id)
    .where('visibility', '=', 'public')
    .where('author_role', '=', 'agent')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  let q = ctx.db.selectFrom('messages').select(['id', 'attachments', 'created_at']).where('ticket_id', '=', ticket.id).where('visibility', '=', 'internal').where('attachments', '<>', '[]');
  if (last) q = q.where('created_at', '>', last.created_at);
  const rows = await q.orderBy('created_at').orderBy('id').execute();
  const out: ThreadFile[] = [];
  for (const m of rows) {
    let list: Attachment[] = [];
    try {
      list = JSON.parse(m.attachments) as Attachment[];
    } catch {
      list = [];
    }
    list.forEach((a, i) => {
      if (fileRefsOf([a]).length) out.push({ value: `${m.id}:${i}`, attachment: a });
    });
  }
  return out.slice(-MAX_FILES_PER_MESSAGE);
}

/** The attachments a form's picked values name, among what noteFilesSinceLastReply offers (anything else is ignored). */
export async function pickNoteFiles(ctx: AppContext, ticketKeyOrId: string, picked: readonly string[]): Promise<Attachment[]> {
  if (picked.length === 0) return [];
  const offered = await noteFilesSinceLastReply(ctx, ticketKeyOrId);
  return offered.filter((f) => picked.includes(f.value)).map((f) => f.attachment);
}

/** The files of a ticket's public messages (the requester's, public replies'), newest last, at most MAX_FILES_PER_MESSAGE: what a department that receives the ticket gets in its card's thread. */
export async function publicFileRefs(db: DbOrTx, ticketId: string): Promise<FileRef[]> {
  const rows = await db.selectFrom('messages').select('attachments').where('ticket_id', '=', ticketId).where('visibility', '=', 'public').where('attachments', '<>', '[]').orderBy('created_at').orderBy('id').execute();
  const all: Attachment[] = [];
  for (const r of rows) {
    try {
      all.push(...(JSON.parse(r.attachments) as Attachment[]));
    } catch {
      continue;
    }
  }
  return fileRefsOf(all.filter((a) => fileRefsOf([a]).length > 0).slice(-MAX_FILES_PER_MESSAGE));
}
