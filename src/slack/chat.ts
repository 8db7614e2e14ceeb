import type { Answer, ChatReply, ChoiceValue } from '../chat/dispatcher';
import { t } from '../chat/i18n';
import type { PlatformCapabilities } from '../domain/platforms';
import { FORM_MODALS } from './forms';
import { ACTION } from './ids';
import { encodeDraft, type MessageSource } from './intake';
import { openView } from './open-view';
import { deflectMessage, escapeMrkdwn, historyMessage, listMessage, missingFieldsModal, newTicketModal, textMessage, ticketCard, truncate, type SlackMessage } from './presenters';
import { describeSlackError, replyPrivately, type Actor, type ReplyTarget, type SlackRuntime } from './runtime';

/**
 * Slack's half of the inbound contract (src/chat/dispatcher.ts): renders neutral replies as Block
 * Kit and sends them. Capabilities: a private answer is ephemeral (response_url or
 * chat.postEphemeral) in a channel and a plain message in the DM; forms open as modals when a
 * trigger id is at hand, else as a "complete the ticket" button.
 */
/** What Slack can and cannot do, for the shared code (src/domain/platforms.ts). */
export const SLACK_CAPABILITIES: PlatformCapabilities = { privateAnswer: 'ephemeral', urgent: [], formsInPlace: true };

export interface SlackReplyTarget extends ReplyTarget {
  triggerId?: string | undefined;
  /** The Slack message a ticket would be raised from (kept in modal metadata). */
  source?: MessageSource | undefined;
}

export async function renderAnswer(rt: SlackRuntime, actor: Actor, target: SlackReplyTarget, answer: Answer): Promise<void> {
  if (answer.localeChanged) rt.identities.setLocale(actor.slackUserId, answer.localeChanged);
  for (const reply of answer.replies) await renderReply(rt, actor, target, reply);
}

function plain(text: string): SlackMessage {
  return textMessage(escapeMrkdwn(text));
}

async function renderReply(rt: SlackRuntime, actor: Actor, target: SlackReplyTarget, reply: ChatReply): Promise<void> {
  const config = rt.ctx.config;
  switch (reply.kind) {
    case 'text':
      return replyPrivately(rt, target, plain(reply.text));
    case 'info':
      return replyPrivately(rt, target, textMessage([`*${escapeMrkdwn(reply.title)}*`, ...reply.lines.map(escapeMrkdwn)].join('\n')));
    case 'lists': {
      const sections = reply.sections.length === 1 ? [{ title: reply.title, items: reply.sections[0]!.items }] : reply.sections;
      return replyPrivately(rt, target, listMessage(sections, actor.locale));
    }
    case 'ticket':
      return replyPrivately(rt, target, ticketCard(reply.card, { withActions: reply.buttons }));
    case 'form': {
      const channel = target.channel;
      if (target.triggerId) {
        const view =
          reply.categoryId && reply.missing.length
            ? missingFieldsModal({
                config,
                locale: actor.locale,
                title: reply.draft.title,
                fields: reply.missing,
                metadata: { path: [], channel, source: target.source, categoryId: reply.categoryId, title: reply.draft.title, description: reply.draft.description },
              })
            : newTicketModal({ config, locale: actor.locale, metadata: { path: [], channel, source: target.source }, ...(reply.draft.title || reply.draft.description ? { draft: reply.draft } : {}) });
        await openView(rt, actor, target.triggerId, view);
        return;
      }
      const message = plain(reply.problem ?? t(actor.locale, 'chat.complete_ticket'));
      message.blocks.push({
        type: 'actions',
        block_id: 'draft_actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: t(actor.locale, 'chat.complete_ticket') },
            action_id: ACTION.completeDraft,
            value: encodeDraft({ c: reply.categoryId, t: reply.draft.title, d: reply.draft.description, s: target.source }),
            style: 'primary',
          },
        ],
      });
      return replyPrivately(rt, target, message);
    }
    case 'choose': {
      const message = plain(reply.text);
      message.blocks.push({
        type: 'actions',
        block_id: 'which_ticket',
        elements: reply.options.slice(0, 5).map((o, i) => ({
          type: 'button',
          action_id: `${ACTION.which}_${i}`,
          text: { type: 'plain_text', text: truncate(o.label, 75) },
          value: encodeChoice(o.value),
          ...(o.primary ? { style: 'primary' } : {}),
        })),
      });
      return replyPrivately(rt, target, message);
    }
    case 'action_form':
      if (!target.triggerId) return;
      await openView(rt, actor, target.triggerId, FORM_MODALS[reply.form](actor.locale, reply, { ticketId: reply.ticket.id, channel: target.channel, clock: reply.clock }, config));
      return;
    case 'invalid':
      return replyPrivately(rt, target, plain(reply.text));
    case 'category_path':
      return;
    case 'deflect':
      return replyPrivately(rt, target, deflectMessage(reply.offer));
    case 'history':
      return replyPrivately(rt, target, historyMessage(actor.locale, reply.key, reply.title, reply.lines));
    case 'direct':
      try {
        const dm = await rt.client.conversations.open({ users: actor.slackUserId });
        // Links in angle brackets (mrkdwn), the rest escaped.
        const message = textMessage(escapeMrkdwn(reply.text).replace(/https?:\/\/[^\s<>|]+/g, (url) => `<${url}>`));
        // No unfurling: Slack's crawler must not fetch (and so hold) a signed link.
        await rt.client.chat.postMessage({ channel: dm.channel?.id ?? actor.slackUserId, text: message.text, blocks: message.blocks as never, unfurl_links: false, unfurl_media: false });
      } catch (err) {
        rt.logger.warn({ err: describeSlackError(err), user: actor.slackUserId }, 'Slack: could not send a direct message');
        return replyPrivately(rt, target, plain(t(actor.locale, 'error.internal')));
      }
      return replyPrivately(rt, target, plain(reply.pointer));
  }
}

/** A choice in a button value (at most 2000 characters): the text is cut to fit. */
export function encodeChoice(value: ChoiceValue): string {
  let x = value.x;
  for (;;) {
    const text = JSON.stringify({ ...value, x });
    if (text.length <= 1990 || x.length === 0) return text;
    x = [...x].slice(0, Math.max(0, [...x].length - (text.length - 1990) - 10)).join('');
  }
}

export function decodeChoice(raw: string | undefined): ChoiceValue | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Partial<ChoiceValue>;
    return typeof v.c === 'string' && typeof v.k === 'string' && typeof v.x === 'string' ? { c: v.c, k: v.k, x: v.x } : undefined;
  } catch {
    return undefined;
  }
}
