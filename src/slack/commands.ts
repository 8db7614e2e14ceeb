import type { App } from '@slack/bolt';
import { departmentsOf, getTicketView, listMine, listQueue, userRoles } from '../app/queries';
import { submitFeedback } from '../app/submitFeedback';
import { setLanguage } from '../app/users';
import { t } from '../chat/i18n';
import { ticketCardView, ticketListItem } from '../chat/views';
import type { Locale } from '../domain/types';
import { policySummary } from '../reports/docs';
import { formatStatsText, statsSummary } from '../reports/stats';
import { SLASH_COMMAND } from './ids';
import { quickCreate } from './intake';
import { openView } from './open-view';
import { fromSlackText } from './text';
import { slashCommand } from './payloads';
import { escapeMrkdwn, listMessage, newTicketModal, textMessage, ticketCard } from './presenters';
import { afterAck, defaultTimeZone, describeSlackError, errorText, meta, replyPrivately, type Actor, type ReplyTarget, type SlackRuntime } from './runtime';

export const SUBCOMMANDS = ['new', 'mine', 'queue', 'show', 'stats', 'policy', 'dashboard', 'feedback', 'lang', 'help'] as const;

/**
 * `/ticket [new|mine|queue [dept]|show KEY|stats [dept] [7d|30d]|policy|dashboard|feedback <idea>|lang zh|en|help]`.
 * Any other text raises a quick ticket; a single unknown latin word is taken as a mistyped
 * subcommand and answered with the help text.
 */
export function registerCommands(app: App, rt: SlackRuntime): void {
  app.command(SLASH_COMMAND, afterAck(rt, async ({ ack, body, respond }) => {
    await ack();
    const cmd = slashCommand.parse(body);
    const actor = await rt.identities.resolve(cmd.user_id);
    const target: ReplyTarget = { slackUserId: cmd.user_id, channel: cmd.channel_id, respond: cmd.response_url ? respond : undefined };
    const text = cmd.text.trim();
    const [first = '', ...rest] = text.split(/\s+/);
    const word = first.toLowerCase();
    const args = rest.join(' ').trim();
    switch (word) {
      case '':
      case 'new':
        await openView(rt, actor, cmd.trigger_id, newTicketModal({ config: rt.ctx.config, locale: actor.locale, metadata: { path: [], channel: cmd.channel_id } }));
        return;
      case 'help':
        return replyPrivately(rt, target, textMessage(t(actor.locale, 'slack.cmd.help')));
      case 'mine':
        return showMine(rt, actor, target);
      case 'queue':
        return showQueue(rt, actor, target, args);
      case 'show':
        return showTicket(rt, actor, target, args);
      case 'stats':
        return showStats(rt, actor, target, rest);
      case 'policy':
        return replyPrivately(rt, target, textMessage(escapeMrkdwn(policySummary(rt.ctx.config, actor.locale).join('\n'))));
      case 'dashboard':
        return sendDashboardLink(rt, actor, target);
      case 'feedback': {
        if (args === '') return replyPrivately(rt, target, textMessage(t(actor.locale, 'slack.cmd.feedback_usage')));
        // Command text arrives Slack-escaped: stored as the plain text the person wrote.
        const result = await submitFeedback(rt.ctx, { meta: meta(actor, `slack:command:${cmd.trigger_id}`), text: fromSlackText(args) });
        return replyPrivately(rt, target, textMessage(result.ok ? t(actor.locale, 'slack.cmd.feedback_thanks') : errorText(rt, actor.locale, result.error)));
      }
      case 'lang':
        return changeLanguage(rt, actor, target, args.toLowerCase());
      default:
        if (rest.length === 0 && /^[a-z]+$/i.test(first)) {
          const help = `${t(actor.locale, 'slack.cmd.unknown', { word: escapeMrkdwn(first) })}\n\n${t(actor.locale, 'slack.cmd.help')}`;
          return replyPrivately(rt, target, textMessage(help));
        }
        await quickCreate(rt, actor, { text, eventKey: `slack:command:${cmd.trigger_id}`, target, triggerId: cmd.trigger_id, confirm: true });
    }
  }));
}

function zoneOf(rt: SlackRuntime, actor: Actor): string {
  return actor.timeZone ?? defaultTimeZone(rt.ctx);
}

async function showMine(rt: SlackRuntime, actor: Actor, target: ReplyTarget): Promise<void> {
  const mine = await listMine(rt.ctx, actor.id);
  const zone = zoneOf(rt, actor);
  await replyPrivately(
    rt,
    target,
    listMessage(
      [
        { title: t(actor.locale, 'slack.cmd.mine_assigned'), items: mine.assigned.map((r) => ticketListItem(r, actor.locale, zone)) },
        { title: t(actor.locale, 'slack.cmd.mine_requested'), items: mine.requested.map((r) => ticketListItem(r, actor.locale, zone)) },
      ],
      actor.locale,
    ),
  );
}

/** A department named by id or by its name in either language. */
export function findDepartment(rt: SlackRuntime, text: string): string | undefined {
  const wanted = text.trim().toLowerCase();
  if (wanted === '') return undefined;
  for (const d of rt.ctx.config.departments.values()) {
    if (d.id === wanted || d.name.en.toLowerCase() === wanted || d.name['zh-CN'] === text.trim() || d.keyPrefix.toLowerCase() === wanted) return d.id;
  }
  return undefined;
}

function departmentList(rt: SlackRuntime, locale: Locale): string {
  return [...rt.ctx.config.departments.values()].map((d) => `\`${d.id}\` (${d.name[locale]})`).join(', ');
}

async function showQueue(rt: SlackRuntime, actor: Actor, target: ReplyTarget, args: string): Promise<void> {
  let departmentId = findDepartment(rt, args);
  if (!departmentId && args === '') {
    const mine = await departmentsOf(rt.ctx, actor.id);
    const all = [...new Set([...mine.member, ...mine.supervisor])];
    if (all.length === 1) departmentId = all[0];
  }
  if (!departmentId) {
    const text = args === '' ? t(actor.locale, 'slack.cmd.queue_which', { departments: departmentList(rt, actor.locale) }) : errorText(rt, actor.locale, { code: 'ticket.unknown_department', params: { department: args } });
    return replyPrivately(rt, target, textMessage(text));
  }
  const dept = rt.ctx.config.departments.get(departmentId)!;
  const items = (await listQueue(rt.ctx, departmentId)).map((r) => ticketListItem(r, actor.locale, zoneOf(rt, actor)));
  await replyPrivately(rt, target, listMessage([{ title: t(actor.locale, 'slack.cmd.queue_title', { department: dept.name[actor.locale] }), items }], actor.locale));
}

async function showTicket(rt: SlackRuntime, actor: Actor, target: ReplyTarget, args: string): Promise<void> {
  const key = args.split(/\s+/)[0]?.toUpperCase() ?? '';
  if (key === '') return replyPrivately(rt, target, textMessage(t(actor.locale, 'slack.cmd.show_usage')));
  const view = await getTicketView(rt.ctx, key);
  if (!view) return replyPrivately(rt, target, textMessage(errorText(rt, actor.locale, { code: 'ticket.not_found', params: { key } })));
  // Tickets are shown to the people involved: requester, staff of the department, admins.
  const roles = await userRoles(rt.ctx, actor.id, view.ticket);
  if (roles.size === 0) return replyPrivately(rt, target, textMessage(errorText(rt, actor.locale, { code: 'ticket.not_allowed', params: { key: view.ticket.key } })));
  const card = ticketCardView(view, actor.locale, { config: rt.ctx.config, timeZone: zoneOf(rt, actor), now: rt.ctx.time.now() });
  await replyPrivately(rt, target, ticketCard(card, { withActions: false }));
}

async function showStats(rt: SlackRuntime, actor: Actor, target: ReplyTarget, words: string[]): Promise<void> {
  let days = 7;
  let departmentText = '';
  for (const w of words) {
    const period = /^(\d+)d$/i.exec(w);
    if (period) days = Math.min(365, Math.max(1, Number(period[1])));
    else departmentText = departmentText ? `${departmentText} ${w}` : w;
  }
  const departmentId = departmentText ? findDepartment(rt, departmentText) : undefined;
  if (departmentText && !departmentId)
    return replyPrivately(rt, target, textMessage(errorText(rt, actor.locale, { code: 'ticket.unknown_department', params: { department: departmentText } })));
  const result = await statsSummary(rt.ctx, { departmentId, days });
  const text = result.ok ? escapeMrkdwn(formatStatsText(result.value, actor.locale)) : errorText(rt, actor.locale, result.error);
  await replyPrivately(rt, target, textMessage(text));
}

/**
 * `/ticket dashboard`: a signed link, DMed straight through the Web API (a private reply, not an
 * outbox notice, so the token is never stored), and an ephemeral word that it was sent.
 */
async function sendDashboardLink(rt: SlackRuntime, actor: Actor, target: ReplyTarget): Promise<void> {
  const result = rt.dashboard ? await rt.dashboard.linkFor(actor.id, actor.locale) : ({ kind: 'off' } as const);
  if (result.kind === 'off') return replyPrivately(rt, target, textMessage(t(actor.locale, 'dashboard.off')));
  if (result.kind === 'denied') return replyPrivately(rt, target, textMessage(t(actor.locale, 'dashboard.denied')));
  try {
    const dm = await rt.client.conversations.open({ users: actor.slackUserId });
    const text = t(actor.locale, 'dashboard.link', { url: `<${escapeMrkdwn(result.url)}>` });
    // No unfurling: Slack's crawler must not fetch (and so hold) the signed link.
    await rt.client.chat.postMessage({ channel: dm.channel?.id ?? actor.slackUserId, ...textMessage(text), blocks: textMessage(text).blocks as never, unfurl_links: false, unfurl_media: false });
  } catch (err) {
    rt.logger.warn({ err: describeSlackError(err), user: actor.slackUserId }, 'Slack: could not DM the dashboard link');
    return replyPrivately(rt, target, textMessage(errorText(rt, actor.locale, { code: 'internal', params: {} })));
  }
  await replyPrivately(rt, target, textMessage(t(actor.locale, 'dashboard.sent')));
}

async function changeLanguage(rt: SlackRuntime, actor: Actor, target: ReplyTarget, arg: string): Promise<void> {
  const locale: Locale | undefined = arg.startsWith('zh') || arg === '中文' ? 'zh-CN' : arg.startsWith('en') ? 'en' : undefined;
  if (!locale) return replyPrivately(rt, target, textMessage(t(actor.locale, 'slack.cmd.lang_usage')));
  await setLanguage(rt.ctx, actor.id, locale);
  rt.identities.setLocale(actor.slackUserId, locale);
  await replyPrivately(rt, target, textMessage(t(locale, 'slack.cmd.lang_set')));
}
