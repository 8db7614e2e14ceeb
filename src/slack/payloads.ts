import { z } from 'zod';

/**
 * The parts of Slack's inbound payloads we use, parsed (not cast). Unknown keys pass through;
 * a payload missing what we need is rejected before any use case runs.
 */

const file = z.object({
  id: z.string(),
  name: z.string().nullish(),
  title: z.string().nullish(),
  permalink: z.string().nullish(),
  url_private: z.string().nullish(),
});
export type SlackFile = z.infer<typeof file>;

export const slashCommand = z.object({
  text: z.string().default(''),
  user_id: z.string(),
  channel_id: z.string(),
  team_id: z.string().optional(),
  trigger_id: z.string(),
  response_url: z.string().optional(),
});

export const blockAction = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string() }),
  trigger_id: z.string().optional(),
  container: z
    .object({ type: z.string(), message_ts: z.string().optional(), channel_id: z.string().optional(), view_id: z.string().optional() })
    .partial({ type: true })
    .optional(),
  channel: z.object({ id: z.string() }).optional(),
  message: z.object({ ts: z.string(), text: z.string().optional(), blocks: z.array(z.unknown()).optional() }).optional(),
  view: z.object({ id: z.string(), hash: z.string().optional(), private_metadata: z.string().optional(), callback_id: z.string().optional() }).optional(),
  response_url: z.string().optional(),
  actions: z
    .array(
      z.object({
        action_id: z.string(),
        action_ts: z.string(),
        block_id: z.string().optional(),
        value: z.string().optional(),
        selected_option: z.object({ value: z.string() }).nullish(),
      }),
    )
    .min(1),
});
export type BlockAction = z.infer<typeof blockAction>;

const stateValue = z.object({
  type: z.string(),
  value: z.string().nullish(),
  selected_option: z.object({ value: z.string() }).nullish(),
  selected_user: z.string().nullish(),
  files: z.array(file).nullish(),
  /** checkboxes, multi selects. */
  selected_options: z.array(z.object({ value: z.string() })).nullish(),
});
export type StateValue = z.infer<typeof stateValue>;

export const viewSubmission = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: z.string() }),
  view: z.object({
    id: z.string(),
    callback_id: z.string(),
    private_metadata: z.string().default(''),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), stateValue)) }),
  }),
});
export type ViewSubmission = z.infer<typeof viewSubmission>;

export const messageShortcut = z.object({
  type: z.literal('message_action'),
  trigger_id: z.string(),
  user: z.object({ id: z.string() }),
  channel: z.object({ id: z.string() }),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional(), text: z.string().default(''), user: z.string().optional(), files: z.array(file).optional() }),
});

export const messageEvent = z.object({
  type: z.literal('message'),
  channel: z.string(),
  channel_type: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
  text: z.string().default(''),
  ts: z.string(),
  thread_ts: z.string().optional(),
  files: z.array(file).optional(),
});
export type MessageEvent = z.infer<typeof messageEvent>;

export const reactionAdded = z.object({
  type: z.literal('reaction_added'),
  user: z.string(),
  reaction: z.string(),
  item: z.object({ type: z.string(), channel: z.string().optional(), ts: z.string().optional() }),
  item_user: z.string().optional(),
});

export const appHomeOpened = z.object({ type: z.literal('app_home_opened'), user: z.string(), tab: z.string().optional() });

export const memberChannelEvent = z.object({ type: z.string(), user: z.string(), channel: z.string() });

/** The Events API envelope: its event_id is the deduplication key (Slack's retries repeat it). */
export const eventEnvelope = z.object({ event_id: z.string(), team_id: z.string().optional() });

/** A ticket id with an optional suffix (`<id>:<score>`, `<id>:<clock>`) carried in a button value. */
export function splitValue(value: string | undefined): { ticketId: string; extra: string | undefined } {
  const raw = value ?? '';
  const colon = raw.indexOf(':');
  return colon < 0 ? { ticketId: raw, extra: undefined } : { ticketId: raw.slice(0, colon), extra: raw.slice(colon + 1) };
}

/** Reads one input of a submitted modal by block id (first action in the block). */
export function inputValue(values: ViewSubmission['view']['state']['values'], blockId: string): StateValue | undefined {
  const block = values[blockId];
  return block ? Object.values(block)[0] : undefined;
}

export function textOf(v: StateValue | undefined): string {
  return (v?.value ?? v?.selected_option?.value ?? v?.selected_user ?? '').trim();
}

/** What our modals carry in private_metadata (written by us, but it comes back from outside: parse it). */
const metadataSource = z
  .object({
    channel: z.string(),
    ts: z.string(),
    threadTs: z.string().optional(),
    permalink: z.string().optional(),
    author: z.string().optional(),
    files: z.array(z.object({ id: z.string(), name: z.string(), url: z.string().optional() })).optional(),
  })
  .optional();
export const newTicketMetadata = z.looseObject({
  path: z.array(z.string()).default([]),
  channel: z.string().optional(),
  source: metadataSource,
  categoryId: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
});
export const ticketModalMetadata = z.looseObject({
  ticketId: z.string().default(''),
  channel: z.string().optional(),
  clock: z.string().optional(),
});

