import type { DepartmentConfig } from '../config/schema';

/**
 * The platform registry: the chat platforms ticketbot speaks on. Adding one (DingTalk, WeCom…) is a
 * folder src/<name>/ (listeners that make intents, a renderer, an outbox sender), one line here,
 * and the department config key that names its channel (see CHANNEL_OF). Shared code iterates this
 * registry instead of writing `'slack' | 'feishu'` or `if (platform === …)`.
 */
export const CHAT_PLATFORMS = ['slack', 'feishu'] as const;
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];

export function isChatPlatform(p: string): p is ChatPlatform {
  return (CHAT_PLATFORMS as readonly string[]).includes(p);
}

/** Where each platform's channel of a department is configured. */
const CHANNEL_OF: Record<ChatPlatform, (d: Pick<DepartmentConfig, 'slack' | 'feishu'>) => string | undefined> = {
  slack: (d) => d.slack?.channel,
  feishu: (d) => d.feishu?.chat_id,
};

/** A department's channels, one per platform it is configured on: notify() fans out over these. */
export function departmentChannels(d: Pick<DepartmentConfig, 'slack' | 'feishu'>): { platform: ChatPlatform; id: string }[] {
  return CHAT_PLATFORMS.flatMap((platform) => {
    const id = CHANNEL_OF[platform](d);
    return id ? [{ platform, id }] : [];
  });
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
