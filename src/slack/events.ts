import type { App } from '@slack/bolt';
import { channelOf } from '../domain/platforms';
import { eventEnvelope, memberChannelEvent, messageEvent, reactionAdded, appHomeOpened, type MessageEvent } from './payloads';
import { dispatch, isIntakeReaction } from '../chat/dispatcher';
import { renderAnswer, type SlackReplyTarget } from './chat';
import { attachmentsOf, ticketSource, withFiles } from './intake';
import { fromSlackText } from './text';
import { publishHome } from './home';
import { describeSlackError, inSlot, type Actor, type SlackRuntime } from './runtime';
import { syncChannelMembers } from './members';

/** Message subtypes that are a person writing (others are edits, joins, bot posts…). */
const PERSON_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/**
 * Events API listeners: DMs raise or continue tickets, card threads hold internal notes, the
 * intake reaction raises a ticket, App Home shows the person's work, membership changes resync.
 */
export function registerEvents(app: App, rt: SlackRuntime): void {
  app.event('message', inSlot(rt, async ({ event, body }) => {
    const parsed = messageEvent.safeParse(event);
    if (!parsed.success) return;
    const msg = parsed.data;
    // Never process what a bot wrote, ours above all (mirrored messages would echo forever).
    if (msg.bot_id || !msg.user || msg.user === rt.botUserId || !PERSON_SUBTYPES.has(msg.subtype)) return;
    const { event_id } = eventEnvelope.parse(body);
    const eventKey = `slack:event:${event_id}`;
    const inThread = msg.thread_ts !== undefined && msg.thread_ts !== msg.ts;
    if (msg.channel_type === 'im' || msg.channel.startsWith('D')) return onDirectMessage(rt, msg, inThread, eventKey);
    if (inThread) return onChannelThreadMessage(rt, msg, eventKey);
  }));

  app.event('reaction_added', inSlot(rt, async ({ event, body }) => {
    const r = reactionAdded.safeParse(event);
    // Only the intake reaction is worth fetching the message for (the chat layer decides again).
    if (!r.success || !isIntakeReaction(rt.ctx, r.data.reaction) || r.data.item.type !== 'message' || !r.data.item.channel || !r.data.item.ts) return;
    const { event_id } = eventEnvelope.parse(body);
    const channel = r.data.item.channel;
    const ts = r.data.item.ts;
    const original = await fetchMessage(rt, channel, ts);
    if (!original) return;
    const actor = await rt.identities.resolve(r.data.user);
    let permalink: string | undefined;
    try {
      permalink = (await rt.client.chat.getPermalink({ channel, message_ts: ts })).permalink;
    } catch (err) {
      rt.logger.info({ err: describeSlackError(err) }, 'Slack: no permalink for the reacted message');
    }
    const source = { channel, ts, threadTs: original.thread_ts, permalink, author: original.user };
    const replyTarget: SlackReplyTarget = { slackUserId: r.data.user, source: withFiles(source, original.files) };
    const answer = await dispatch(
      { ctx: rt.ctx },
      { kind: 'reaction', actor, platform: 'slack', dedupKey: `slack:event:${event_id}`, replyTarget, emoji: r.data.reaction, text: fromSlackText(original.text), attachments: attachmentsOf(original.files), source: ticketSource(rt, source) },
    );
    await renderAnswer(rt, actor, replyTarget, answer);
  }));

  app.event('app_home_opened', inSlot(rt, async ({ event }) => {
    const e = appHomeOpened.safeParse(event);
    if (!e.success || (e.data.tab !== undefined && e.data.tab !== 'home')) return;
    const actor = await rt.identities.resolve(e.data.user);
    await publishHome(rt, actor);
  }));

  const resync = inSlot(rt, async ({ event }: { event: unknown }) => {
    const e = memberChannelEvent.safeParse(event);
    if (!e.success) return;
    for (const d of rt.ctx.config.departments.values()) {
      if (d.members === 'channel' && channelOf(d, 'slack') === e.data.channel) await syncChannelMembers(rt, d.id, e.data.channel);
    }
  });
  app.event('member_joined_channel', resync);
  app.event('member_left_channel', resync);
}

/**
 * A DM to the bot: a reply in a ticket's thread continues it; anything else is a message intent
 * (the chat layer raises a ticket, or asks which waiting ticket it is about).
 */
async function onDirectMessage(rt: SlackRuntime, msg: MessageEvent, inThread: boolean, eventKey: string): Promise<void> {
  const actor = await rt.identities.resolve(msg.user!);
  const target = { slackUserId: msg.user!, channel: msg.channel };
  if (inThread) {
    const link = await rt.ports.findLinkByMessage(msg.channel, msg.thread_ts!);
    if (link?.role === 'requester_thread') return threadMessage(rt, actor, target, msg, eventKey, { ticket: link.ticketId, role: 'requester_thread' });
  }
  if (msg.text.trim() === '' && !msg.files?.length) return;
  const source = { channel: msg.channel, ts: msg.ts, threadTs: inThread ? msg.thread_ts : undefined, author: msg.user };
  const replyTarget: SlackReplyTarget = { ...target, source: withFiles(source, msg.files) };
  const answer = await dispatch(
    { ctx: rt.ctx },
    { kind: 'message', actor, platform: 'slack', dedupKey: eventKey, replyTarget, text: fromSlackText(msg.text), attachments: attachmentsOf(msg.files, msg.channel), source: ticketSource(rt, source) },
  );
  await renderAnswer(rt, actor, replyTarget, answer);
}

/** A reply in a card's thread is an internal note (with its files); other threads are not ours. */
async function onChannelThreadMessage(rt: SlackRuntime, msg: MessageEvent, eventKey: string): Promise<void> {
  const link = await rt.ports.findLinkByMessage(msg.channel, msg.thread_ts!);
  if (link?.role !== 'card') return;
  const actor = await rt.identities.resolve(msg.user!);
  await threadMessage(rt, actor, { slackUserId: msg.user!, channel: msg.channel }, msg, eventKey, { ticket: link.ticketId, role: 'card' });
}

/** A message in a ticket's thread: a message intent naming the ticket and the thread's role. */
async function threadMessage(rt: SlackRuntime, actor: Actor, target: SlackReplyTarget, msg: MessageEvent, eventKey: string, thread: { ticket: string; role: 'card' | 'requester_thread' }): Promise<void> {
  const answer = await dispatch(
    { ctx: rt.ctx },
    { kind: 'message', actor, platform: 'slack', dedupKey: eventKey, replyTarget: target, messageRef: `${msg.channel}/${msg.ts}`, text: fromSlackText(msg.text), attachments: attachmentsOf(msg.files, msg.channel), thread },
  );
  await renderAnswer(rt, actor, target, answer);
}

/** The message a reaction points at (top-level or in a thread). */
async function fetchMessage(rt: SlackRuntime, channel: string, ts: string): Promise<{ text: string; user?: string | undefined; thread_ts?: string | undefined; files?: MessageEvent['files'] } | undefined> {
  try {
    const history = await rt.client.conversations.history({ channel, latest: ts, oldest: ts, inclusive: true, limit: 1 });
    let found = history.messages?.find((m) => m.ts === ts);
    if (!found) {
      // A thread reply: conversations.replies answers from the thread's parent (first), so the
      // window is narrowed to the reply itself rather than limited to one message.
      const replies = await rt.client.conversations.replies({ channel, ts, oldest: ts, latest: ts, inclusive: true, limit: 2 });
      found = replies.messages?.find((m) => m.ts === ts);
    }
    if (!found) return undefined;
    const files = found.files?.map((f) => ({ id: f.id ?? '', name: f.name, permalink: f.permalink, url_private: f.url_private })).filter((f) => f.id !== '');
    return { text: found.text ?? '', user: found.user, thread_ts: found.thread_ts, files };
  } catch (err) {
    rt.logger.warn({ err: describeSlackError(err), channel }, 'Slack: could not read the reacted message');
    return undefined;
  }
}
