import type { DepartmentConfig } from '../config/schema';

/**
 * The platform registry: the chat platforms ticketbot speaks on. Adding one (DingTalk, WeCom…) is a
 * folder src/<name>/ (listeners that make intents, a renderer, an outbox sender) and one line here
 * (plus, only if it had a config key of its own before `channels:`, a line in LEGACY_CHANNEL_KEY).
 * Shared code iterates this registry instead of writing `'slack' | 'feishu'` or `if (platform === …)`.
 * A department names its channels as a map by platform: `channels: { slack: C0IT, feishu: oc_it }`.
 */
export const CHAT_PLATFORMS = ['slack', 'feishu'] as const;
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];

export function isChatPlatform(p: string): p is ChatPlatform {
  return (CHAT_PLATFORMS as readonly string[]).includes(p);
}

/** A channel (Slack channel id, Feishu chat id, …) per platform. */
export type ChannelMap = Partial<Record<ChatPlatform, string>>;

type ChannelConfig = Partial<Pick<DepartmentConfig, 'channels' | 'slack' | 'feishu'>>;

/**
 * The department keys used before `channels:` (still accepted: old config files load unchanged).
 * A new platform has none: it is configured under `channels:` only.
 */
export const LEGACY_CHANNEL_KEY: Partial<Record<ChatPlatform, { key: string; read: (d: ChannelConfig) => string | undefined }>> = {
  slack: { key: 'slack.channel', read: (d) => d.slack?.channel },
  feishu: { key: 'feishu.chat_id', read: (d) => d.feishu?.chat_id },
};

/** A department's channel on one platform (`channels:` first, then the old key). */
export function channelOf(d: ChannelConfig, platform: ChatPlatform): string | undefined {
  return d.channels?.[platform] ?? LEGACY_CHANNEL_KEY[platform]?.read(d);
}

/** A department's channels, one per platform it is configured on: notify() fans out over these. */
export function departmentChannels(d: ChannelConfig): { platform: ChatPlatform; id: string }[] {
  return CHAT_PLATFORMS.flatMap((platform) => {
    const id = channelOf(d, platform);
    return id ? [{ platform, id }] : [];
  });
}

/** The department whose channel on `platform` is `channel`, if any. */
export function departmentOfChannel<D extends ChannelConfig & { id: string }>(departments: Iterable<D>, platform: ChatPlatform, channel: string): D | undefined {
  for (const d of departments) if (channelOf(d, platform) === channel) return d;
  return undefined;
}

/**
 * Ids that name a conversation, not a person, on each platform: a channel pasted where a person
 * belongs (a watcher, a supervisor) would be DMed and fail at run time; config check says it at once.
 */
const NOT_A_PERSON: Record<ChatPlatform, { pattern: RegExp; what: string }> = {
  slack: { pattern: /^[CGD][A-Z0-9]{6,}$/, what: 'a Slack channel or conversation id (C…, G…, D…), not a person (U… or W…)' },
  feishu: { pattern: /^oc_/, what: 'a Feishu chat id (oc_…), not a person (ou_…, on_… or a user id)' },
};

/** Why `platform:id` in the config cannot name a person, or undefined when it can. */
export function personRefProblem(ref: string): string | undefined {
  const cut = ref.indexOf(':');
  const platform = ref.slice(0, cut);
  const id = ref.slice(cut + 1);
  if (platform === 'email') return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(id) ? undefined : `"${id}" is not an e-mail address`;
  if (!isChatPlatform(platform)) return undefined;
  const rule = NOT_A_PERSON[platform];
  return rule.pattern.test(id) ? `${ref} is ${rule.what}` : undefined;
}

/** The platform of one of our user ids (`slack:U…`, `feishu:ou_…`), if it is a chat platform's. */
export function platformOfUser(id: string): ChatPlatform | undefined {
  const p = id.slice(0, id.indexOf(':'));
  return isChatPlatform(p) ? p : undefined;
}

/**
 * What differs between platforms, declared by each adapter next to its renderer (never asked with
 * `platform === …` in shared code): how an answer meant for one person is given, which urgent
 * deliveries exist, how long a posted card stays editable.
 */
export interface PlatformCapabilities {
  /** Slack: an ephemeral message where the person asked. Feishu: a DM (and a pointer in a group). */
  privateAnswer: 'ephemeral' | 'direct_message';
  /** Urgent delivery kinds (Feishu 加急: in-app, SMS, phone); none elsewhere. */
  urgent: readonly ('app' | 'sms' | 'phone')[];
  /** How long a posted card can still be edited (Feishu: 14 days); undefined = no limit. */
  cardEditWindowMs?: number | undefined;
  /** Whether a form can open in place from a command or button (Slack modals need a trigger id). */
  formsInPlace: boolean;
}
