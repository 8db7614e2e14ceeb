import { randomBytes } from 'node:crypto';
import { addNote, departmentsOf, getTicketView, listMine, listQueue, requesterReply, setLanguage, submitFeedback } from '../app';
import type { CommandMeta } from '../app/context';
import { t } from '../chat/i18n';
import { parseStatsArgs } from '../chat/stats-args';
import { WorkSlots } from '../chat/work-slots';
import { priorityLabel, ticketListItem } from '../chat/views';
import type { Locale } from '../domain/types';
import { rt as reportText } from '../reports/i18n';
import { formatStatsText, statsSummary } from '../reports/stats';
import { handleCardAction, type CardActionResponse } from './card-actions';
import {
  botMenuEventSchema,
  cardActionEventSchema,
  chatMemberEventSchema,
  envelopeSchema,
  messageAttachments,
  messageEventSchema,
  messageText,
  parseCommand,
  type MessageEvent,
} from './events';
import { newTicketForm, pathTo } from './forms';
import { infoCard, listCard, newTicketCard, toast, type Card } from './presenters';
import { departmentOfChat, departmentTimeZone, errorText, renderTicketCard, withinAckBudget, type FeishuRuntime } from './runtime';

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
        if (evt.success) await this.onMenu(evt.data.operator.operator_id.open_id, evt.data.event_key, tenant);
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
    const command = parseCommand(text);
    const userId = await this.rt.identity.userId(openId, tenant);
    const locale = await this.rt.identity.locale(userId);
    const meta: CommandMeta = { actorId: userId, eventKey: `feishu:event:${eventId}`, platform: 'feishu', messageRef: msg.message_id };
    const replyText = (body: string) => this.rt.api.reply({ messageId: msg.message_id, msgType: 'text', content: JSON.stringify({ text: body }), inThread: msg.thread_id !== undefined });

    if (!command && msg.root_id) {
      const link = await this.rt.links.findByMessage(msg.root_id);
      if (link) {
        if (text === '' && attachments.length === 0) return;
        const r =
          link.role === 'card'
            ? await addNote(this.rt.ctx, { meta, ticket: link.ticketId, body: text, attachments })
            : await requesterReply(this.rt.ctx, { meta, ticket: link.ticketId, body: text, attachments });
        if (!r.ok) await replyText(errorText(this.rt.ctx, locale, r.error));
        return;
      }
    }
    if (command) {
      await this.runCommand(command, { openId, userId, locale, tenant, msg, meta, replyText });
      return;
    }
    if (msg.chat_type === 'p2p' && (text !== '' || attachments.length)) {
      // A message (or a forward) sent straight to the bot raises a ticket: the form, prefilled.
      await this.sendNewTicketForm(openId, locale, { description: text, sourceMessageId: msg.message_id, intro: t(locale, 'feishu.from_message') });
    }
  }

  private async onMenu(openId: string, key: string, tenant: string): Promise<void> {
    const userId = await this.rt.identity.userId(openId, tenant);
    const locale = await this.rt.identity.locale(userId);
    const sendCard = (card: Card) => this.rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: openId, msgType: 'interactive', content: JSON.stringify(card) });
    if (key === MENU_KEYS.new) await this.sendNewTicketForm(openId, locale, {});
    else if (key === MENU_KEYS.mine) await sendCard(await this.mineCard(userId, locale));
    else if (key === MENU_KEYS.queue) await sendCard(await this.queueCard(userId, locale, undefined));
    else if (key === MENU_KEYS.dashboard) {
      // The menu lives in the chat with the bot: the answer (link or why not) is a DM either way.
      const reason = await this.dashboardLink(openId, userId, locale);
      if (reason !== undefined) await this.sendDm(openId, reason);
    } else await sendCard(infoCard(t(locale, 'feishu.form.new.title'), [t(locale, 'feishu.help')]));
  }

  private async runCommand(
    command: NonNullable<ReturnType<typeof parseCommand>>,
    c: { openId: string; userId: string; locale: Locale; tenant: string; msg: MessageEvent['message']; meta: CommandMeta; replyText: (body: string) => Promise<unknown> },
  ): Promise<void> {
    const { ctx } = this.rt;
    const replyCard = (card: Card) => this.rt.api.reply({ messageId: c.msg.message_id, msgType: 'interactive', content: JSON.stringify(card), inThread: false });
    switch (command.sub) {
      case 'new':
      case 'quick': {
        // `/ticket` as a reply to a message raises a ticket from that message.
        let description = '';
        let sourceMessageId: string | undefined;
        if (c.msg.parent_id) {
          const parent = await this.rt.api.getMessage(c.msg.parent_id).catch(() => undefined);
          if (parent) {
            description = messageText({ ...c.msg, message_type: parent.msgType, content: parent.content, mentions: [] });
            sourceMessageId = parent.messageId;
          }
        }
        const quick = command.sub === 'quick' ? command.rest : '';
        await this.sendNewTicketForm(c.openId, c.locale, {
          title: quick || undefined,
          description: description || undefined,
          sourceMessageId,
          intro: sourceMessageId ? t(c.locale, 'feishu.from_message') : undefined,
          path: quick ? pathTo(ctx.config, ctx.config.raw.intake.default_category) : [],
        });
        if (c.msg.chat_type !== 'p2p') await c.replyText(t(c.locale, 'feishu.toast.form_sent'));
        return;
      }
      case 'mine':
        await replyCard(await this.mineCard(c.userId, c.locale));
        return;
      case 'queue':
        await replyCard(await this.queueCard(c.userId, c.locale, command.args[0]));
        return;
      case 'show': {
        const key = command.args[0];
        if (!key) return void (await c.replyText(t(c.locale, 'feishu.show.usage')));
        const view = await getTicketView(ctx, key);
        if (!view) return void (await c.replyText(t(c.locale, 'error.ticket.not_found', { key })));
        await replyCard(renderTicketCard(ctx, view, c.locale, undefined));
        return;
      }
      case 'stats': {
        const args = parseStatsArgs(ctx.config, command.args);
        if (args.departmentText && !args.departmentId) {
          const known = [...ctx.config.departments.values()].map((d) => `${d.id} (${d.name[c.locale]})`).join(', ');
          return void (await c.replyText(reportText(c.locale, 'stats.unknown_department', { department: args.departmentText, known })));
        }
        const result = await statsSummary(ctx, { departmentId: args.departmentId, days: args.days });
        if (!result.ok) return void (await c.replyText(errorText(ctx, c.locale, result.error)));
        const [title = '', ...lines] = formatStatsText(result.value, c.locale).split('\n');
        await replyCard(infoCard(title, lines));
        return;
      }
      case 'dashboard': {
        const reason = await this.dashboardLink(c.openId, c.userId, c.locale);
        if (reason !== undefined) await c.replyText(reason);
        // The link went privately; in a group only a pointer to the DM is said out loud.
        else if (c.msg.chat_type !== 'p2p') await c.replyText(t(c.locale, 'dashboard.sent'));
        return;
      }
      case 'policy':
        await replyCard(policyCard(this.rt, c.locale));
        return;
      case 'feedback': {
        if (command.rest === '') return void (await c.replyText(t(c.locale, 'feishu.feedback.usage')));
        const member = (await departmentsOf(ctx, c.userId)).member[0];
        const r = await submitFeedback(ctx, { meta: c.meta, text: command.rest, departmentId: member });
        await c.replyText(r.ok ? t(c.locale, 'feishu.feedback.thanks') : errorText(ctx, c.locale, r.error));
        return;
      }
      case 'lang': {
        const want = (command.args[0] ?? '').toLowerCase();
        const locale: Locale | undefined = want.startsWith('zh') ? 'zh-CN' : want.startsWith('en') ? 'en' : undefined;
        if (!locale) return void (await c.replyText(t(c.locale, 'feishu.lang.usage')));
        await setLanguage(ctx, c.userId, locale);
        await c.replyText(t(locale, 'feishu.lang.set'));
        return;
      }
      default:
        await replyCard(infoCard(t(c.locale, 'feishu.form.new.title'), [t(c.locale, 'feishu.help')]));
    }
  }

  private async sendNewTicketForm(openId: string, locale: Locale, p: { title?: string | undefined; description?: string | undefined; sourceMessageId?: string | undefined; intro?: string | undefined; path?: string[] }): Promise<void> {
    const form = newTicketForm(this.rt.ctx.config, locale, {
      formId: randomBytes(9).toString('base64url'),
      path: p.path ?? [],
      prefill: { title: p.title, description: p.description?.slice(0, 2000), sourceMessageId: p.sourceMessageId },
      intro: p.intro,
    });
    await this.rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: openId, msgType: 'interactive', content: JSON.stringify(newTicketCard(form)) });
  }

  private async mineCard(userId: string, locale: Locale): Promise<Card> {
    const mine = await listMine(this.rt.ctx, userId);
    const tz = departmentTimeZone(this.rt.ctx, undefined);
    return listCard(locale, t(locale, 'feishu.mine.title'), [
      { title: t(locale, 'feishu.mine.assigned'), items: mine.assigned.slice(0, 20).map((r) => ticketListItem(r, locale, tz)) },
      { title: t(locale, 'feishu.mine.requested'), items: mine.requested.slice(0, 20).map((r) => ticketListItem(r, locale, tz)) },
    ]);
  }

  private async queueCard(userId: string, locale: Locale, requested: string | undefined): Promise<Card> {
    const { ctx } = this.rt;
    const mine = await departmentsOf(ctx, userId);
    const deptId = requested && ctx.config.departments.has(requested) ? requested : requested ? undefined : (mine.member[0] ?? mine.supervisor[0]);
    if (!deptId) {
      const ids = [...ctx.config.departments.keys()].join(', ');
      return infoCard(t(locale, 'feishu.form.new.title'), [t(locale, 'feishu.queue.which', { departments: ids })]);
    }
    const dept = ctx.config.departments.get(deptId)!;
    const tz = departmentTimeZone(ctx, deptId);
    const items = await listQueue(ctx, deptId, 30);
    return listCard(locale, t(locale, 'feishu.queue.title', { department: dept.name[locale] }), [{ title: dept.name[locale], items: items.map((r) => ticketListItem(r, locale, tz)) }]);
  }

  /**
   * `/ticket dashboard`: a signed link, sent straight to the person's chat with the bot (never
   * through the outbox: the token must not be stored). Undefined when the link was sent; otherwise
   * the reason to answer with (not a supervisor or admin, or the dashboard is off).
   */
  private async dashboardLink(openId: string, userId: string, locale: Locale): Promise<string | undefined> {
    const link = this.rt.dashboard ? await this.rt.dashboard.linkFor(userId, locale) : ({ kind: 'off' } as const);
    if (link.kind === 'off') return t(locale, 'dashboard.off');
    if (link.kind === 'denied') return t(locale, 'dashboard.denied');
    await this.sendDm(openId, t(locale, 'dashboard.link', { url: link.url }));
    return undefined;
  }

  private async sendDm(openId: string, text: string): Promise<void> {
    await this.rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: openId, msgType: 'text', content: JSON.stringify({ text }) });
  }
}

/** `/ticket policy`: the SLA table, closing rule and escalation ladder actually configured. */
function policyCard(rt: FeishuRuntime, locale: Locale): Card {
  const raw = rt.ctx.config.raw;
  const lines: string[] = [];
  for (const p of raw.sla) {
    const parts: string[] = [];
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    for (const pr of list(p.match.priority)) parts.push(priorityLabel(locale, pr));
    for (const c of list(p.match.category)) parts.push(rt.ctx.config.categoryName(c)?.[locale] ?? c);
    for (const d of list(p.match.department)) parts.push(rt.ctx.config.departments.get(d)?.name[locale] ?? d);
    lines.push(
      t(locale, 'feishu.policy.sla', {
        match: parts.length ? parts.join(' / ') : t(locale, 'feishu.policy.any'),
        first_response: p.first_response ?? '-',
        resolution: p.resolution ?? '-',
      }),
    );
  }
  for (const level of raw.escalation) {
    const notify = Array.isArray(level.notify) ? level.notify.join(', ') : level.notify;
    lines.push(t(locale, 'feishu.policy.escalation', { at: level.at, notify }));
  }
  if (raw.closing.auto_close) lines.push(t(locale, 'feishu.policy.closing', { within: raw.closing.confirm_within }));
  return infoCard(t(locale, 'feishu.policy.title'), lines);
}

/** Department membership from its Feishu chat (for `members: channel` departments). */
export async function syncDepartmentMembers(rt: FeishuRuntime, departmentId: string, tenant: string): Promise<number> {
  const dept = rt.ctx.config.departments.get(departmentId);
  if (!dept?.feishu || dept.members !== 'channel') return 0;
  const members = await rt.api.chatMembers(dept.feishu.chat_id);
  const ids: string[] = [];
  for (const m of members) ids.push(await rt.identity.knownPerson(m.openId, tenant, m.name));
  await rt.members.replace(departmentId, ids);
  return ids.length;
}
