import type { WorkSlots } from '../chat/work-slots';
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { ensureUser } from '../app/users';
import type { AppContext, CommandMeta } from '../app/context';
import type { UseCaseResult } from '../app/runner';
import type { DashboardLinks } from '../chat/dashboard';
import { t, toLocale } from '../chat/i18n';
import { errorText as chatErrorText } from '../chat/errors';
import type { Locale } from '../domain/types';
import type { SlackPorts } from './ports';
import { textMessage, type SlackMessage } from './presenters';
import { escapeMrkdwn } from './text';

/** What every Slack listener shares: the core, the Web API client, storage ports, who we are. */
export interface SlackRuntime {
  ctx: AppContext;
  client: webApi.WebClient;
  ports: SlackPorts;
  teamId: string;
  botUserId: string;
  botId: string;
  logger: Logger;
  identities: Identities;
  /** Work after acks runs in these slots (see afterAck). */
  slots: WorkSlots;
  /** Signed dashboard links for `/ticket dashboard`; undefined when the dashboard is off. */
  dashboard?: DashboardLinks | undefined;
}

export interface Actor {
  /** Our user id (`slack:U0123`). */
  id: string;
  slackUserId: string;
  locale: Locale;
  timeZone: string | undefined;
}

const IDENTITY_TTL_MS = 10 * 60_000;

/**
 * Slack user → our user, with their language and zone. The first sight of a person calls
 * users.info (with locale) and records them; a language chosen with `/ticket lang` is kept.
 */
export class Identities {
  private readonly cache = new Map<string, { actor: Actor; until: number }>();

  constructor(
    private readonly ctx: AppContext,
    private readonly client: webApi.WebClient,
    private readonly ports: SlackPorts,
    private readonly teamId: string,
  ) {}

  async resolve(slackUserId: string): Promise<Actor> {
    const nowMs = Date.now();
    const hit = this.cache.get(slackUserId);
    if (hit && hit.until > nowMs) return hit.actor;
    const id = `slack:${slackUserId}`;
    const stored = await this.ports.storedLocale(id);
    let profile: { name?: string; email?: string; locale?: string; tz?: string; isBot?: boolean } = {};
    try {
      const info = await this.client.users.info({ user: slackUserId, include_locale: true });
      const u = info.user;
      profile = {
        name: u?.profile?.display_name || u?.real_name || u?.name,
        email: u?.profile?.email,
        locale: u?.locale,
        tz: u?.tz,
        isBot: u?.is_bot,
      };
    } catch (err) {
      // Without users.info we still know the id; name and language fall back to the config's.
      this.ctx.logger.warn({ err: describeSlackError(err), user: slackUserId }, 'Slack: users.info failed');
    }
    const platformLocale = profile.locale ? toLocale(profile.locale, this.ctx.config.raw.locale) : undefined;
    const keepChosen = stored === 'en' || stored === 'zh-CN';
    await ensureUser(this.ctx, {
      platform: 'slack',
      workspace: this.teamId,
      platformUserId: slackUserId,
      name: profile.name,
      email: profile.email,
      locale: keepChosen ? undefined : platformLocale,
      timezone: profile.tz,
      isBot: profile.isBot,
    });
    const locale: Locale = keepChosen ? (stored as Locale) : (platformLocale ?? this.ctx.config.raw.locale);
    const actor: Actor = { id, slackUserId, locale, timeZone: profile.tz };
    this.cache.set(slackUserId, { actor, until: nowMs + IDENTITY_TTL_MS });
    return actor;
  }

  /** After `/ticket lang`: the next request reads the new language. */
  setLocale(slackUserId: string, locale: Locale): void {
    const hit = this.cache.get(slackUserId);
    if (hit) hit.actor = { ...hit.actor, locale };
  }
}

export function meta(actor: Actor, eventKey: string | undefined, messageRef?: string): CommandMeta {
  return { actorId: actor.id, platform: 'slack', eventKey, ...(messageRef ? { messageRef } : {}) };
}

/** A core error in the reader's words: the chat layer's one wording (src/chat/errors.ts). */
export function errorText(rt: SlackRuntime, locale: Locale, error: { code: string; params: Record<string, string | number> }): string {
  return chatErrorText(rt.ctx, locale, error, undefined, escapeMrkdwn);
}

export function fieldLabel(ctx: AppContext, locale: Locale, id: string): string {
  if (id === 'title') return t(locale, 'slack.modal.title');
  if (id === 'text' || id === 'description') return t(locale, 'slack.modal.message');
  return ctx.config.raw.fields.find((f) => f.id === id)?.name[locale] ?? id;
}

/** The zone for times we must write as text: the first department's calendar, else UTC. */
export function defaultTimeZone(ctx: AppContext): string {
  const first = ctx.config.departments.values().next().value;
  return (first && ctx.calendars.get(first.calendar)?.timezone) ?? 'UTC';
}

/** Where to answer a person privately: the channel they acted in (ephemeral), else their DM. */
export interface ReplyTarget {
  slackUserId: string;
  channel?: string | undefined;
  respond?: ((message: { text: string; blocks?: unknown[]; response_type?: 'ephemeral'; replace_original?: boolean }) => Promise<unknown>) | undefined;
}

/** postEphemeral errors that mean "this person cannot see it there": answer in the DM instead. */
const EPHEMERAL_UNREACHABLE = new Set(['user_not_in_channel', 'not_in_channel', 'channel_not_found', 'is_archived']);

export async function replyPrivately(rt: SlackRuntime, target: ReplyTarget, message: SlackMessage): Promise<void> {
  try {
    if (target.respond) {
      await target.respond({ text: message.text, blocks: message.blocks, response_type: 'ephemeral', replace_original: false });
      return;
    }
    if (target.channel && !target.channel.startsWith('D')) {
      // Ephemeral messages reach only members of a channel the bot can post in
      // (https://api.slack.com/methods/chat.postEphemeral); otherwise the answer goes to the DM.
      const shown = await rt.client.chat.postEphemeral({ channel: target.channel, user: target.slackUserId, text: message.text, blocks: message.blocks as never }).then(
        () => true,
        (err: unknown) => {
          const code = slackErrorCode(err);
          if (code && EPHEMERAL_UNREACHABLE.has(code)) return false;
          throw err;
        },
      );
      if (shown) return;
    }
    await rt.client.chat.postMessage({ channel: target.slackUserId, text: message.text, blocks: message.blocks as never });
  } catch (err) {
    rt.logger.warn({ err: describeSlackError(err), user: target.slackUserId }, 'Slack: could not answer privately');
  }
}

/** Shows a failed use case to the person who asked; returns whether it succeeded. */
export async function presentResult<T>(rt: SlackRuntime, actor: Actor, target: ReplyTarget, result: UseCaseResult<T>): Promise<boolean> {
  if (result.ok) return true;
  await replyPrivately(rt, target, textMessage(errorText(rt, actor.locale, result.error)));
  return false;
}

/** Slack Web API errors as short, secret-free text for logs and outbox rows. */
export function describeSlackError(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number; message?: string } | null;
  if (!e) return 'unknown error';
  if (e.code === 'slack_webapi_platform_error') return e.data?.error ?? 'platform_error';
  if (e.code === 'slack_webapi_rate_limited_error') return `ratelimited (retry after ${e.retryAfter}s)`;
  if (e.code === 'slack_webapi_http_error') return `http ${e.statusCode}`;
  return e.message ?? String(err);
}

export function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: string } } | null;
  return e?.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
}

/** What our listeners take from Bolt; the body is parsed with zod inside each listener. */
export interface ListenerArgs {
  ack: (response?: any) => Promise<void>;
  body: unknown;
  respond: (message: any) => Promise<unknown>;
}

/**
 * Wraps a Bolt listener so that whatever it does after `ack()` runs in a work slot. Listeners
 * that answer in the ack itself (modal submissions) do their work before it, unbounded.
 */
export function afterAck(rt: SlackRuntime, listener: (args: ListenerArgs) => Promise<unknown>): (args: any) => Promise<void> {
  return async (args: ListenerArgs) => {
    let release: (() => void) | undefined;
    const paced: ListenerArgs = {
      ...args,
      ack: async (response?: unknown) => {
        await args.ack(response);
        release = await rt.slots.acquire();
        // Let pending I/O (other requests waiting for their ack) run before this work starts:
        // database calls on SQLite are synchronous and would otherwise hold the event loop.
        await new Promise<void>((resolve) => setImmediate(resolve));
      },
    };
    try {
      await listener(paced);
    } finally {
      release?.();
    }
  };
}

/** Events API listeners (Bolt acks events before they run): the whole listener takes a work slot. */
export function inSlot(rt: SlackRuntime, listener: (args: { event: unknown; body: unknown }) => Promise<unknown>): (args: any) => Promise<void> {
  return async (args: { event: unknown; body: unknown }) => {
    const release = await rt.slots.acquire();
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      await listener(args);
    } finally {
      release();
    }
  };
}
