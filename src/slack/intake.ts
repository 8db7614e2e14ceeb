import type { TicketSource } from '../app/createTicket';
import type { Attachment } from '../app/context';
import type { SlackFile } from './payloads';
import { fromSlackText } from './text';
import { truncate, type NewTicketMetadata } from './presenters';
import type { SlackRuntime } from './runtime';

/** Where a ticket raised from a Slack message came from (kept in the ticket and in modal metadata). */
export type MessageSource = NonNullable<NewTicketMetadata['source']>;

/** Files of a message or form as attachments; `channel`: the conversation they were shared in (none for a form's file input). */
export function attachmentsOf(files: ReadonlyArray<Pick<SlackFile, 'id' | 'name' | 'title' | 'permalink' | 'url_private'>> | undefined | null, channel?: string): Attachment[] {
  return (files ?? []).map((f) => ({ name: f.name ?? f.title ?? f.id, url: f.permalink ?? f.url_private ?? undefined, platform: 'slack' as const, fileId: f.id, ...(channel ? { channel } : {}) }));
}

export function ticketSource(rt: SlackRuntime, source: MessageSource | undefined): TicketSource | undefined {
  if (!source) return undefined;
  return {
    platform: 'slack',
    workspace: rt.teamId,
    channel: source.channel,
    messageId: source.ts,
    threadId: source.threadTs,
    permalink: source.permalink,
    authorId: source.author,
  };
}

/** The source with its files (at most five, so the modal metadata stays small). */
export function withFiles(source: MessageSource | undefined, files: SlackFile[] | undefined): MessageSource | undefined {
  if (!source || !files?.length) return source;
  return { ...source, files: files.slice(0, 5).map((f) => ({ id: f.id, name: truncate(f.name ?? f.title ?? f.id, 80), url: f.permalink ?? undefined })) };
}

/** Title and description from Slack message text: the first line (cut) and the whole text. */
export function draftFromText(slackText: string): { title: string; description: string } {
  // Slack sends message and command text escaped (&amp;, <@U…>, <url|label>): plain text first,
  // so nothing is escaped twice and the title cut can never split such a token.
  const clean = fromSlackText(slackText).trim();
  const firstLine = clean.split('\n')[0]?.trim() ?? '';
  return { title: truncate(firstLine, 100), description: clean };
}

/** What a "complete this ticket" button carries (button values hold at most 2000 characters). */
export interface DraftValue {
  c?: string | undefined;
  t: string;
  d: string;
  s?: MessageSource | undefined;
}

/** The longest JSON of a draft that still fits a button value (2,000; we keep a margin). */
const DRAFT_VALUE_MAX = 1900;

/**
 * The draft as a button value: the description is cut (by whole characters, with "…") until the
 * JSON fits. JSON escaping makes quotes, backslashes and control characters longer and emoji
 * count twice, so the cut is found by bisection over characters, which always ends.
 */
export function encodeDraft(draft: DraftValue): string {
  const encode = (d: string) => JSON.stringify({ ...draft, d });
  const whole = encode(draft.d);
  if (whole.length <= DRAFT_VALUE_MAX) return whole;
  const chars = [...draft.d];
  let lo = 0; // a prefix length known to fit (the empty description is tried last)
  let hi = chars.length; // known not to fit
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (encode(chars.slice(0, mid).join('') + '…').length <= DRAFT_VALUE_MAX) lo = mid;
    else hi = mid;
  }
  const cut = encode(chars.slice(0, lo).join('') + '…');
  return cut.length <= DRAFT_VALUE_MAX ? cut : encode('');
}
