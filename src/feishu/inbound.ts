import { commandText } from '../chat/commands';
import { channelOf } from '../domain/platforms';
import { dispatch, type ChatActor } from '../chat/dispatcher';
import { t } from '../chat/i18n';
import { WorkSlots } from '../chat/work-slots';
import { handleCardAction, type CardActionResponse } from './card-actions';
import { renderAnswer, type FeishuReplyTarget } from './chat';
import { botMenuEventSchema, cardActionEventSchema, chatMemberEventSchema, envelopeSchema, messageAttachments, messageEventSchema, messageText, type MessageEvent } from './events';
import { toast } from './presenters';
import { departmentOfChat, departmentTimeZone, withinAckBudget, type FeishuRuntime } from './runtime';

/** Feishu wants an answer within 3 s; we leave room for the network. */
export const DEFAULT_ACK_BUDGET_MS = 2500;
/** Events and card actions worked on at the same time (as Slack's listeners). */
export const DEFAULT_WORK_CONCURRENCY = 4;
const SEEN_TTL_MS = 7 * 3600 * 1000;
const SEEN_MAX = 50_000;

/** Keys of the bot menu items declared in manifests/feishu/bot-menu.json. */
export const MENU_KEYS = { new: 'ticket_new', mine: 'ticket_mine', queue: 'ticket_queue', dashboard: 'ticket_dashboard', help: 'ticket_help' } as const;

/**
 * Every inbound Feishu payload (long connection or HTTP, already verified) comes through here.
 * Effects are deduplicated by the core on their event keys; read-only replies (lists, help) by a
 * short memory of event ids, enough for Feishu's re-pushes within a process's life.
 */
export class FeishuInbound {
  private seen = new Map<string, number>();
  /** Work in progress is bounded; when all slots are taken, requests are acked at once and queued. */
  private readonly slots: WorkSlots;

  constructor(
    private readonly rt: FeishuRuntime,
    private readonly ackBudgetMs = DEFAULT_ACK_BUDGET_MS,
    workConcurrency = DEFAULT_WORK_CONCURRENCY,
  ) {
    this.slots = new WorkSlots(workConcurrency);
  }

  /**
   * Starts `work` in a slot. With a free slot the answer waits for it up to the ack budget (so a
   * card action can answer with the updated card); when every slot is taken it answers at once
   * with `busy()` and the work runs when its turn comes: under a burst acks stay fast.
   */
  private answer<T>(work: () => Promise<T>, busy: () => T, onLate: (err: unknown) => void, track?: (work: Promise<unknown>) => void): Promise<T> {
    const full = this.slots.full;
    const running = this.slots.run(work);
    track?.(running);
    if (full) {
      running.catch(onLate);
      return Promise.resolve(busy());
    }
    return withinAckBudget(running, this.ackBudgetMs, busy, onLate);
  }

  /**
   * Returns the body to answer with: a toast/card for card actions, `{}` for events. `track` is
   * given the work itself, which may go on after the answer (the durable intake waits for it).
   */
  async handle(payload: unknown, track?: (work: Promise<unknown>) => void): Promise<CardActionResponse | Record<string, never>> {
    const parsed = envelopeSchema.safeParse(payload);
    if (!parsed.success) {
      this.rt.logger.warn({ issues: parsed.error.issues.length }, 'feishu payload is not a schema 2.0 event; ignored');
      return {};
    }
    const { header, event } = parsed.data;
    const tenant = header.tenant_key ?? 'default';
    const log = this.rt.logger.child({ eventId: header.event_id, eventType: header.event_type });
    if (header.event_type === 'card.action.trigger') {
      const evt = cardActionEventSchema.safeParse(event);
      if (!evt.success) {
        log.warn({ issues: evt.error.issues.map((i) => i.path.join('.')) }, 'feishu card action of an unexpected shape; refused');
        return toast('error', t(this.rt.ctx.config.raw.locale, 'error.malformed_request'));
      }
      return this.answer(
        () => handleCardAction(this.rt, evt.data, tenant),
        () => toast('info', t(this.rt.ctx.config.raw.locale, 'feishu.toast.working')),
        (err) => log.error({ err }, 'card action failed after the ack'),
        track,
      ).catch((err: unknown) => {
        log.error({ err }, 'card action failed');
        return toast('error', t(this.rt.ctx.config.raw.locale, 'error.internal'));
      });
    }
    if (this.alreadySeen(header.event_id)) {
      log.info('feishu event re-pushed; ignored');
      return {};
    }
    const work = () =>
      this.dispatch(header.event_type, header.event_id, tenant, event).catch((err: unknown) => {
        this.seen.delete(header.event_id); // let Feishu's re-push try again
        throw err;
      });
    await this.answer(work, () => undefined, (err) => log.error({ err }, 'feishu event failed after the ack'), track);
    return {};
  }

  private alreadySeen(eventId: string): boolean {
    const now = Date.now();
    if (this.seen.has(eventId)) return true;
    if (this.seen.size >= SEEN_MAX) {
      for (const [k, at] of this.seen) {
        if (now - at < SEEN_TTL_MS && this.seen.size < SEEN_MAX) break;
        this.seen.delete(k);
      }
    }
    this.seen.set(eventId, now);
    return false;
  }

  private async dispatch(type: string, eventId: string, tenant: string, event: Record<string, unknown>): Promise<void> {
    switch (type) {
      case 'im.message.receive_v1': {
        const evt = messageEventSchema.safeParse(event);
        if (evt.success) await this.onMessage(evt.data, eventId, tenant);
        return;
      }
      case 'application.bot.menu_v6': {
        const evt = botMenuEventSchema.safeParse(event);
        if (evt.success) await this.onMenu(evt.data.operator.operator_id.open_id, evt.data.event_key, tenant, eventId);
        return;
      }
      case 'im.chat.member.user.added_v1':
      case 'im.chat.member.user.deleted_v1':
      case 'im.chat.member.bot.added_v1': {
        const evt = chatMemberEventSchema.safeParse(event);
        const dept = evt.success ? departmentOfChat(this.rt.ctx, evt.data.chat_id) : undefined;
        if (dept) await syncDepartmentMembers(this.rt, dept, tenant);
        return;
      }
      default:
        this.rt.logger.debug({ eventType: type }, 'feishu event type not handled');
    }
  }

  private async onMessage(evt: MessageEvent, eventId: string, tenant: string): Promise<void> {
    // Only people: the bot's own messages (and the ones it mirrored) come back as sender_type "app".
    if (evt.sender.sender_type !== 'user' || !evt.sender.sender_id?.open_id) return;
    const openId = evt.sender.sender_id.open_id;
    const msg = evt.message;
    const text = messageText(msg);
    const attachments = messageAttachments(msg);
    const command = commandText(text);
    const userId = await this.rt.identity.userId(openId, tenant);
    const locale = await this.rt.identity.locale(userId);
    const dedupKey = `feishu:event:${eventId}`;
    const direct = msg.chat_type === 'p2p';
    const target: FeishuReplyTarget = { openId, locale, messageId: msg.message_id, direct, inThread: msg.thread_id !== undefined };
    const actor: ChatActor = { id: userId, locale, timeZone: departmentTimeZone(this.rt.ctx, undefined) };
    const deps = { ctx: this.rt.ctx, dashboard: this.rt.dashboard };

    if (command === undefined && msg.root_id) {
      const link = await this.rt.links.findByMessage(msg.root_id);
      if (link) {
        // In the card's thread an internal note, in the requester's thread their answer.
        const thread = { ticket: link.ticketId, role: link.role === 'card' ? ('card' as const) : ('requester_thread' as const) };
        const answer = await dispatch(deps, { kind: 'message', actor, platform: 'feishu', dedupKey, replyTarget: target, messageRef: msg.message_id, text, attachments, thread });
        await renderAnswer(this.rt, target, answer);
        return;
      }
    }
    if (command !== undefined) {
      // `/ticket` sent as a reply to a message raises a ticket from that message.
      let quoted: string | undefined;
      if (msg.parent_id && (command === '' || command.toLowerCase() === 'new')) {
        const parent = await this.rt.api.getMessage(msg.parent_id).catch(() => undefined);
        if (parent) {
          quoted = messageText({ ...msg, message_type: parent.msgType, content: parent.content, mentions: [] });
          target.sourceMessageId = parent.messageId;
        }
      }
      const source = target.sourceMessageId ? { platform: 'feishu' as const, workspace: tenant, messageId: target.sourceMessageId } : undefined;
      const answer = await dispatch(deps, { kind: 'command', actor, platform: 'feishu', dedupKey, replyTarget: target, text: command, quoted, source });
      await renderAnswer(this.rt, target, answer);
      return;
    }
    if (direct && (text !== '' || attachments.length)) {
      // A message (or a forward) sent straight to the bot: the same as `/ticket <text>`, unless tickets wait on this person's answer.
      const source = { platform: 'feishu' as const, workspace: tenant, messageId: msg.message_id };
      target.sourceMessageId = msg.message_id;
      const answer = await dispatch(deps, { kind: 'message', actor, platform: 'feishu', dedupKey, replyTarget: target, text, attachments, source });
      await renderAnswer(this.rt, target, answer);
    }
  }

  private async onMenu(openId: string, key: string, tenant: string, eventId: string): Promise<void> {
    const userId = await this.rt.identity.userId(openId, tenant);
    const locale = await this.rt.identity.locale(userId);
    // The menu lives in the chat with the bot: each item is the command of the same name, answered there.
    const commands: Record<string, string> = { [MENU_KEYS.new]: 'new', [MENU_KEYS.mine]: 'mine', [MENU_KEYS.queue]: 'queue', [MENU_KEYS.dashboard]: 'dashboard' };
    const target: FeishuReplyTarget = { openId, locale, direct: true };
    const actor: ChatActor = { id: userId, locale, timeZone: departmentTimeZone(this.rt.ctx, undefined) };
    const answer = await dispatch(
      { ctx: this.rt.ctx, dashboard: this.rt.dashboard },
      { kind: 'command', actor, platform: 'feishu', dedupKey: `feishu:event:${eventId}`, replyTarget: target, text: commands[key] ?? 'help' },
    );
    await renderAnswer(this.rt, target, answer);
  }
}

/** Department membership from its Feishu chat (for `members: channel` departments). */
export async function syncDepartmentMembers(rt: FeishuRuntime, departmentId: string, tenant: string): Promise<number> {
  const dept = rt.ctx.config.departments.get(departmentId);
  const chatId = dept ? channelOf(dept, 'feishu') : undefined;
  if (!dept || !chatId || dept.members !== 'channel') return 0;
  const members = await rt.api.chatMembers(chatId);
  const ids: string[] = [];
  for (const m of members) ids.push(await rt.identity.knownPerson(m.openId, tenant, m.name));
  await rt.members.replace(departmentId, ids);
  return ids.length;
}
