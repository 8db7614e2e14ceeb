import type { TicketView } from '../app/queries';

/**
 * What the Feishu layer needs from storage, as callbacks: feishu/ never imports storage/. The
 * composition root (main.ts) wires them to the chat_links and department_members tables.
 */

export type FeishuLinkRole = 'card' | 'requester_thread';

/** A Feishu message that belongs to a ticket: its card in a department chat, or the requester's DM thread root. */
export interface FeishuLink {
  tenant: string;
  chatId: string;
  messageId: string;
  ticketId: string;
  legId: string | null;
  role: FeishuLinkRole;
  /** Ticket version the message shows (cards only). */
  cardVersion: number;
  createdAt: string;
}

export interface FeishuLinkStore {
  /** The link of a message id (Feishu message ids are unique across chats). */
  findByMessage(messageId: string): Promise<FeishuLink | undefined>;
  /** Links of a ticket with this role, optionally in one chat; oldest first. */
  list(ticketId: string, role: FeishuLinkRole, chatId?: string): Promise<FeishuLink[]>;
  record(link: FeishuLink): Promise<void>;
  /**
   * Sets the card's version if it is older (compare-and-set): false when the card already shows
   * this version or a newer one, so an old update never overwrites a newer one.
   */
  bumpCardVersion(link: Pick<FeishuLink, 'tenant' | 'chatId' | 'messageId'>, version: number): Promise<boolean>;
}

/** Department membership synced from a department's Feishu chat (`members: channel`). */
export interface DepartmentMembership {
  replace(departmentId: string, userIds: string[]): Promise<void>;
}

export interface FeishuPorts {
  links: FeishuLinkStore;
  members: DepartmentMembership;
  /** Defaults to the core query getTicketView. */
  loadTicketView?: (ticketId: string) => Promise<TicketView | undefined>;
}
