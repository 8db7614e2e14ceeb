import type { DbOrTx } from '../database';
import type { ChatLinkRow } from '../tables';

/**
 * Links between tickets and platform messages (cards, requester threads). Used by the Slack and
 * Feishu senders and listeners through their ports.
 */

export async function findChatLink(db: DbOrTx, platform: string, channel: string, messageId: string): Promise<ChatLinkRow | undefined> {
  return db.selectFrom('chat_links').selectAll().where('platform', '=', platform).where('channel', '=', channel).where('message_id', '=', messageId).executeTakeFirst();
}

/** A ticket's links, oldest first, optionally in one channel and/or of one role. */
export async function listChatLinks(db: DbOrTx, platform: string, ticketId: string, filter: { channel?: string | undefined; role?: string | undefined } = {}): Promise<ChatLinkRow[]> {
  let q = db.selectFrom('chat_links').selectAll().where('platform', '=', platform).where('ticket_id', '=', ticketId);
  if (filter.channel !== undefined) q = q.where('channel', '=', filter.channel);
  if (filter.role !== undefined) q = q.where('role', '=', filter.role);
  return q.orderBy('created_at').orderBy('message_id').execute();
}

/** Records a link; a link for the same message is kept as it is. */
export async function insertChatLink(db: DbOrTx, row: ChatLinkRow): Promise<void> {
  await db
    .insertInto('chat_links')
    .values(row)
    .onConflict((oc) => oc.columns(['platform', 'workspace', 'channel', 'message_id']).doNothing())
    .execute();
}

/** Compare-and-set: moves a card's version forward only; false when it already shows this version or newer. */
export async function bumpChatLinkVersion(db: DbOrTx, platform: string, channel: string, messageId: string, version: number, now: string): Promise<boolean> {
  const res = await db
    .updateTable('chat_links')
    .set({ card_version: version, updated_at: now })
    .where('platform', '=', platform)
    .where('channel', '=', channel)
    .where('message_id', '=', messageId)
    .where('card_version', '<', version)
    .executeTakeFirst();
  return Number(res.numUpdatedRows ?? 0) > 0;
}
