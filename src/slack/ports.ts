/**
 * What the Slack layer needs from storage, passed in by the composition root (slack/ never
 * imports storage/). The shapes mirror the `chat_links` and `department_members` tables.
 */

/** A Slack message that belongs to a ticket: its card, or the requester's DM thread root. */
export interface SlackLink {
  workspace: string;
  channel: string;
  /** The message ts (for a thread root, the thread_ts of its replies). */
  messageId: string;
  ticketId: string;
  legId: string | null;
  role: 'card' | 'requester_thread';
  cardVersion: number;
}

export interface SlackPorts {
  /** The link whose message is `messageId` in `channel` (a card or a requester thread root). */
  findLinkByMessage(channel: string, messageId: string): Promise<SlackLink | undefined>;
  /** Links of a ticket, optionally only in one channel and/or of one role. */
  findLinks(ticketId: string, filter?: { channel?: string; role?: SlackLink['role'] }): Promise<SlackLink[]>;
  /** Records a link; an existing link for the same message is kept. */
  recordLink(link: SlackLink): Promise<void>;
  /**
   * Moves a card's version forward to `version` only if it is newer (compare-and-set). Returns
   * false when the card already shows this version or a newer one: the caller then skips.
   */
  bumpCardVersion(channel: string, messageId: string, version: number): Promise<boolean>;
  /** Replaces the members of a `members: channel` department with the channel's members (our user ids). */
  syncDepartmentMembers(departmentId: string, userIds: string[]): Promise<void>;
  /** A stored user's locale as they chose it (undefined when unknown or never set). */
  storedLocale(userId: string): Promise<string | null | undefined>;
}
