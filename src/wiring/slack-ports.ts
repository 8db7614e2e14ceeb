import type { AppContext } from '../app/context';
import type { SlackLink, SlackPorts } from '../slack/ports';
import { bumpChatLinkVersion, findChatLink, insertChatLink, listChatLinks } from '../storage/repos/chat-links';
import { findUser, replaceDepartmentMembers } from '../storage/repos/users';
import type { ChatLinkRow } from '../storage/tables';

/** SlackPorts on the real tables : what main.ts wires, and what the tests drive. */
export function storageSlackPorts(ctx: AppContext): SlackPorts {
  const toLink = (r: ChatLinkRow): SlackLink => ({
    workspace: r.workspace,
    channel: r.channel,
    messageId: r.message_id,
    ticketId: r.ticket_id,
    legId: r.leg_id,
    role: r.role === 'card' ? 'card' : 'requester_thread',
    cardVersion: r.card_version,
  });
  const now = () => ctx.time.now().toISOString();
  return {
    findLinkByMessage: async (channel, messageId) => {
      const row = await findChatLink(ctx.db, 'slack', channel, messageId);
      return row ? toLink(row) : undefined;
    },
    findLinks: async (ticketId, filter = {}) => (await listChatLinks(ctx.db, 'slack', ticketId, filter)).map(toLink),
    recordLink: (l) =>
      insertChatLink(ctx.db, {
        platform: 'slack',
        workspace: l.workspace,
        channel: l.channel,
        message_id: l.messageId,
        ticket_id: l.ticketId,
        leg_id: l.legId,
        role: l.role,
        card_version: l.cardVersion,
        created_at: now(),
        updated_at: now(),
      }),
    bumpCardVersion: (channel, messageId, version) => bumpChatLinkVersion(ctx.db, 'slack', channel, messageId, version, now()),
    syncDepartmentMembers: (departmentId, userIds) => replaceDepartmentMembers(ctx.db, departmentId, userIds, 'slack', now()),
    storedLocale: async (userId) => (await findUser(ctx.db, userId))?.locale,
  };
}
