import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { ChatPlatform } from '../domain/platforms';
import type { OutboxRow } from '../storage/tables';
import { fileRefSchema } from './files';

/**
 * The outbox contract between the core and the platforms, defined once: what a row's payload
 * holds (one zod schema: the core writes it with `encodeOutboxPayload`, every sender reads it with
 * `parseOutboxPayload`), and what a platform sender is. The dispatcher (src/jobs) claims rows and
 * hands them to the sender of their platform.
 */
export const outboxPayloadSchema = z.object({
  /** An i18n key (src/chat/i18n) or, for texts made elsewhere (reports), the text itself. */
  messageKey: z.string(),
  /** Raw ids and instants; the sender puts them in the reader's words and zone. */
  params: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  /** Where on the platform: the requester's thread, the ticket card's thread, or a plain message. */
  thread: z.enum(['requester', 'card', 'none']).default('none'),
  /** Buttons the notice offers (confirm, reopen, take_over, reassign, extend, open). */
  actions: z.array(z.string()).optional(),
  legId: z.string().optional(),
  /** Feishu 加急 kinds; other platforms ignore them (the capability is theirs). */
  urgentVia: z.array(z.enum(['app', 'sms', 'phone'])).optional(),
  /** A picture shown with the text (the weekly digest's chart): a PNG, its file name and the i18n key of its alt text. */
  image: z
    .object({
      fileName: z.string().min(1),
      pngBase64: z.string().min(1),
      altKey: z.string().optional(),
    })
    .optional(),
  /**
   * A file to copy to the target (event `ticket.file`, issue 17 item 5): a reference to its source,
   * read and uploaded by the sender at delivery time. `messageKey`/`params` are the text sent
   * instead when the file cannot be copied (too large, gone); the sender adds the reason.
   */
  file: fileRefSchema.optional(),
});

/** The outbox event of a file copied to the other side of a ticket. */
export const FILE_EVENT = 'ticket.file';

export type OutboxPayload = z.infer<typeof outboxPayloadSchema>;
export type OutboxPayloadInput = z.input<typeof outboxPayloadSchema>;
export type OutboxImage = NonNullable<OutboxPayload['image']>;

export function encodeOutboxPayload(payload: OutboxPayloadInput): string {
  return JSON.stringify(outboxPayloadSchema.parse(payload));
}

/** The payload of a row, or undefined when it cannot be read (such a row is never retried). */
export function parseOutboxPayload(raw: string): OutboxPayload | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = outboxPayloadSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** One outbox row as claimed for sending. */
export type OutboxRecord = Selectable<OutboxRow>;

/**
 * Work that a sent row leads to, each done as its own outbox row (so a retry repeats only what
 * failed): e.g. Feishu's 加急 by app, SMS and phone on the message just sent. `key` makes the new
 * row's idempotency key unique under the parent's.
 */
export interface FollowUp {
  key: string;
  event: string;
  payload: string;
}

export type SendOutcome =
  | { ok: true; messageRef?: string; followUps?: FollowUp[] }
  /** `retryAfterMs`: the platform rate-limited us (429); `permanent`: retrying cannot help (e.g. channel_not_found). */
  | { ok: false; error: string; retryAfterMs?: number; permanent?: boolean };

/**
 * Renders and sends one outbox row on a platform. `row.attempts` counts earlier attempts whose
 * outcome may be unknown (a crash between sending and marking, a timeout): when it is above 0,
 * use the platform's idempotency (Feishu `uuid` = row.id) or look for an earlier message tagged
 * with row.id (Slack metadata) before sending again. Throwing counts as a retryable failure.
 */
export interface OutboxSender {
  /** A chat platform, or `webhook` for the integrations' outgoing webhooks (src/jobs/webhook-sender.ts). */
  platform: ChatPlatform | 'webhook';
  send(row: OutboxRecord): Promise<SendOutcome>;
}

/** One Feishu 加急 on a sent message, its own outbox row (see FollowUp). */
const urgentPayloadSchema = z.object({ messageId: z.string().min(1), kind: z.enum(['app', 'sms', 'phone']) });
export type UrgentPayload = z.infer<typeof urgentPayloadSchema>;

export function parseUrgentPayload(text: string): UrgentPayload | undefined {
  try {
    const parsed = urgentPayloadSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
