import type { Attachment } from '../app/context';
import { z } from 'zod';

/**
 * Zod schemas of the inbound payloads ticketbot handles (schema 2.0 envelopes, from the long
 * connection or HTTP). Only the fields we read are declared; the rest passes through.
 */

export const envelopeSchema = z.object({
  schema: z.literal('2.0'),
  header: z.object({
    event_id: z.string().min(1),
    event_type: z.string().min(1),
    tenant_key: z.string().optional(),
    create_time: z.string().optional(),
    app_id: z.string().optional(),
  }),
  event: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof envelopeSchema>;

const userIds = z.object({ open_id: z.string().min(1), union_id: z.string().optional(), user_id: z.string().optional() });

export const messageEventSchema = z.object({
  sender: z.object({ sender_id: userIds.partial().optional(), sender_type: z.string(), tenant_key: z.string().optional() }),
  message: z.object({
    message_id: z.string().min(1),
    root_id: z.string().optional(),
    parent_id: z.string().optional(),
    thread_id: z.string().optional(),
    chat_id: z.string().min(1),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string(),
    mentions: z.array(z.object({ key: z.string(), id: userIds.partial().optional(), name: z.string().optional() })).optional(),
  }),
});
export type MessageEvent = z.infer<typeof messageEventSchema>;

export const botMenuEventSchema = z.object({
  operator: z.object({ operator_id: userIds, operator_name: z.string().optional() }),
  event_key: z.string().min(1),
});

export const cardActionEventSchema = z.object({
  operator: z.object({ open_id: z.string().min(1), tenant_key: z.string().optional(), user_id: z.string().optional() }),
  token: z.string().optional(),
  action: z.object({
    value: z.unknown(),
    tag: z.string().optional(),
    option: z.string().optional(),
    name: z.string().optional(),
    /** Form inputs are text, a choice or a list of choices: anything else (an object) is refused at the edge. */
    form_value: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number()]))])).optional(),
    input_value: z.string().optional(),
  }),
  context: z.object({ open_message_id: z.string().min(1), open_chat_id: z.string().optional() }),
});
export type CardActionEvent = z.infer<typeof cardActionEventSchema>;

export const chatMemberEventSchema = z.object({ chat_id: z.string().min(1) });

/** Text of a text or rich-text (post) message, with the @mention placeholders removed. */
export function messageText(message: MessageEvent['message']): string {
  let raw = '';
  try {
    const content = JSON.parse(message.content) as Record<string, unknown>;
    if (message.message_type === 'text') raw = String(content.text ?? '');
    else if (message.message_type === 'post') raw = postText(content);
  } catch {
    raw = '';
  }
  for (const m of message.mentions ?? []) raw = raw.split(m.key).join(' ');
  return raw.replace(/[ \t]+/g, ' ').trim();
}

/** A post is `{ title, content: [[{tag:'text', text}, …], …] }`, possibly nested under a language key. */
function postText(content: Record<string, unknown>): string {
  const body = Array.isArray(content.content) ? content : (Object.values(content).find((v) => typeof v === 'object' && v !== null && Array.isArray((v as { content?: unknown }).content)) as Record<string, unknown> | undefined);
  if (!body) return '';
  const lines = (body.content as unknown[]).map((line) =>
    Array.isArray(line)
      ? line
          .map((node) => {
            const n = node as { tag?: string; text?: string; href?: string };
            return n.tag === 'text' || n.tag === 'a' ? (n.text ?? '') : '';
          })
          .join('')
      : '',
  );
  const title = typeof body.title === 'string' && body.title ? `${body.title}\n` : '';
  return title + lines.join('\n');
}

/** Files and images of a message, as attachments the core keeps a reference to. */
export function messageAttachments(message: MessageEvent['message']): Attachment[] {
  // The message id and kind are what it takes to read the file again (…/messages/:id/resources/:key?type=).
  const where = { platform: 'feishu' as const, messageId: message.message_id, channel: message.chat_id };
  try {
    const content = JSON.parse(message.content) as Record<string, unknown>;
    if (message.message_type === 'image' && typeof content.image_key === 'string') return [{ name: 'image.png', fileId: content.image_key, kind: 'image', ...where }];
    if (message.message_type === 'file' && typeof content.file_key === 'string')
      return [{ name: typeof content.file_name === 'string' ? content.file_name : 'file', fileId: content.file_key, kind: 'file', ...where }];
  } catch {
    return [];
  }
  return [];
}
