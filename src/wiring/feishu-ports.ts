import type { Db } from '../storage/database';
import { replaceDepartmentMembers } from '../storage/repos/users';
import type { ChatLinkRow } from '../storage/tables';
import type { FeishuLink, FeishuPorts } from '../feishu/ports';

/**
 * FeishuPorts over the real tables (chat_links, department_members), as the composition root
 * wires them. Kept here so the Feishu tests run against the same SQL the bot uses.
 */
export function storageFeishuPorts(db: Db, now: () => string): FeishuPorts {
  const toLink = (r: ChatLinkRow): FeishuLink => ({
    tenant: r.workspace,
    chatId: r.channel,
    messageId: r.message_id,
    ticketId: r.ticket_id,
    legId: r.leg_id,
    role: r.role as FeishuLink['role'],
    cardVersion: Number(r.card_version),
    createdAt: r.created_at,
  });
  return {
    links: {
      async findByMessage(messageId) {
        const row = await db.selectFrom('chat_links').selectAll().where('platform', '=', 'feishu').where('message_id', '=', messageId).executeTakeFirst();
        return row ? toLink(row) : undefined;
      },
      async list(ticketId, role, chatId) {
        let q = db.selectFrom('chat_links').selectAll().where('platform', '=', 'feishu').where('ticket_id', '=', ticketId).where('role', '=', role);
        if (chatId) q = q.where('channel', '=', chatId);
        const rows = await q.orderBy('created_at').orderBy('message_id').execute();
        return rows.map(toLink);
      },
      async record(link) {
        await db
          .insertInto('chat_links')
          .values({
            platform: 'feishu',
            workspace: link.tenant,
            channel: link.chatId,
            message_id: link.messageId,
            ticket_id: link.ticketId,
            leg_id: link.legId,
            role: link.role,
            card_version: link.cardVersion,
            created_at: link.createdAt,
            updated_at: link.createdAt,
          })
          .onConflict((oc) => oc.columns(['platform', 'workspace', 'channel', 'message_id']).doNothing())
          .execute();
      },
      async bumpCardVersion(link, version) {
        const r = await db
          .updateTable('chat_links')
          .set({ card_version: version, updated_at: now() })
          .where('platform', '=', 'feishu')
          .where('workspace', '=', link.tenant)
          .where('channel', '=', link.chatId)
          .where('message_id', '=', link.messageId)
          .where('card_version', '<', version)
          .executeTakeFirst();
        return Number(r.numUpdatedRows) === 1;
      },
    },
    members: {
      replace: (departmentId, userIds) => replaceDepartmentMembers(db, departmentId, userIds, 'feishu', now()),
    },
  };
}
