import { randomBytes } from 'node:crypto';
import type { Answer, ChatReply } from '../chat/dispatcher';
import { t } from '../chat/i18n';
import type { PlatformCapabilities } from '../domain/platforms';
import type { Locale } from '../domain/types';
import { CARD_EDIT_WINDOW_MS } from './sender';
import type { ActionValue } from './action-values';
import { actionFormView, newTicketForm, pathTo, priorityOptions } from './forms';
import { actionFormCard, deflectCard, historyCard, infoCard, listCard, newTicketCard, textContent, ticketCard, type Card } from './presenters';
import type { FeishuRuntime } from './runtime';

/**
 * Feishu's half of the inbound contract (src/chat/dispatcher.ts): renders neutral replies as card
 * JSON 2.0 or text and sends them. Capability "private answer": in the person's chat with the bot
 * a reply there; asked in a group, the answer goes to that chat with the bot and the group only
 * hears that it went there. Forms are always sent to the chat with the bot.
 */
/** What Feishu can and cannot do, for the shared code (src/domain/platforms.ts). */
export const FEISHU_CAPABILITIES: PlatformCapabilities = { privateAnswer: 'direct_message', urgent: ['app', 'sms', 'phone'], cardEditWindowMs: CARD_EDIT_WINDOW_MS, formsInPlace: false };

export interface FeishuReplyTarget {
  openId: string;
  locale: Locale;
  /** The message that asked (a command), answered in place when it was sent in the chat with the bot. */
  messageId?: string | undefined;
  /** True when asked in the person's own chat with the bot. */
  direct: boolean;
  inThread?: boolean | undefined;
  /** The message a ticket would be raised from (a `/ticket` sent as a reply to it). */
  sourceMessageId?: string | undefined;
}

export async function renderAnswer(rt: FeishuRuntime, target: FeishuReplyTarget, answer: Answer): Promise<void> {
  let privately = false;
  for (const reply of answer.replies) {
    const sent = await renderReply(rt, target, reply);
    privately ||= sent === 'dm';
  }
  // In a group, say only that the answer went privately (never what it was).
  if (privately && !target.direct && target.messageId) {
    const direct = answer.replies.find((r) => r.kind === 'direct');
    const pointer = direct?.kind === 'direct' ? direct.pointer : t(target.locale, 'chat.sent_privately');
    await rt.api.reply({ messageId: target.messageId, msgType: 'text', content: textContent(pointer), inThread: target.inThread ?? false });
  }
}

/** Sends one private message: a reply in the chat with the bot, or a DM when asked elsewhere. */
async function privately(rt: FeishuRuntime, target: FeishuReplyTarget, msgType: 'text' | 'interactive', content: string): Promise<'here' | 'dm'> {
  if (target.direct && target.messageId) {
    await rt.api.reply({ messageId: target.messageId, msgType, content, inThread: target.inThread ?? false });
    return 'here';
  }
  await rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: target.openId, msgType, content });
  return target.direct ? 'here' : 'dm';
}

function plainCard(text: string, buttons: Card[]): Card {
  return {
    schema: '2.0',
    config: { update_multi: true, enable_forward: false },
    body: { elements: [{ tag: 'div', text: { tag: 'plain_text', content: text } }, { tag: 'column_set', flex_mode: 'flow', horizontal_spacing: '8px', columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })) }] },
  };
}

async function renderReply(rt: FeishuRuntime, target: FeishuReplyTarget, reply: ChatReply): Promise<'here' | 'dm'> {
  const lc = target.locale;
  const card = (c: Card) => privately(rt, target, 'interactive', JSON.stringify(c));
  switch (reply.kind) {
    case 'text':
      return privately(rt, target, 'text', textContent(reply.text));
    case 'info':
      return card(infoCard(reply.title, reply.lines));
    case 'lists':
      return card(listCard(lc, reply.title, reply.sections));
    case 'ticket':
      return card(ticketCard(reply.card, { interactive: reply.buttons, priorities: priorityOptions(lc) }));
    case 'form': {
      const form = newTicketForm(rt.ctx.config, lc, {
        formId: randomBytes(9).toString('base64url'),
        path: pathTo(rt.ctx.config, reply.categoryId),
        prefill: { title: reply.draft.title || undefined, description: reply.draft.description.slice(0, 2000) || undefined, sourceMessageId: target.sourceMessageId },
        intro: reply.problem ?? (target.sourceMessageId ? t(lc, 'feishu.from_message') : undefined),
      });
      await rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: target.openId, msgType: 'interactive', content: JSON.stringify(newTicketCard(form)) });
      return target.direct ? 'here' : 'dm';
    }
    case 'choose': {
      const buttons = reply.options.map((o) => ({
        tag: 'button',
        text: { tag: 'plain_text', content: o.label },
        type: o.primary ? 'primary' : 'default',
        behaviors: [{ type: 'callback', value: { a: 'which', ...o.value } satisfies ActionValue }],
      }));
      return card(plainCard(reply.text, buttons));
    }
    case 'direct':
      await rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: target.openId, msgType: 'text', content: textContent(reply.text) });
      return 'dm';
    case 'action_form':
      // Forms always go to the person's chat with the bot.
      await rt.api.sendMessage({ receiveIdType: 'open_id', receiveId: target.openId, msgType: 'interactive', content: JSON.stringify(actionFormCard(actionFormView(lc, reply, randomBytes(9).toString('base64url'), rt.ctx.config))) });
      return target.direct ? 'here' : 'dm';
    case 'invalid':
      return privately(rt, target, 'text', textContent(reply.text));
    case 'category_path':
      return 'here';
    case 'deflect':
      return card(deflectCard(reply.offer));
    case 'history':
      return card(historyCard(lc, reply.key, reply.title, reply.lines));
  }
}
