import { DomainError } from './errors';
import type { TicketState } from './types';

/** What a person is to a ticket. One person may hold several roles. */
export type Role = 'requester' | 'member' | 'assignee' | 'supervisor' | 'admin' | 'system';

export type Action =
  | 'claim'
  | 'assign'
  | 'change_priority'
  | 'note'
  | 'reply'
  | 'request_info'
  | 'requester_reply'
  | 'hand_off'
  | 'accept_leg'
  | 'return_leg'
  | 'resolve'
  | 'confirm'
  | 'reopen'
  | 'close'
  | 'rate'
  | 'mark_sensitive'
  | 'extend'
  | 'recategorise'
  | 'escalate'
  | 'edit';

/** Who may do what; staff actions belong to the owning department's members and supervisors. */
const ALLOWED: Record<Action, Role[]> = {
  claim: ['member', 'supervisor', 'admin'],
  assign: ['member', 'supervisor', 'admin'],
  change_priority: ['member', 'assignee', 'supervisor', 'admin'],
  note: ['member', 'assignee', 'supervisor', 'admin'],
  reply: ['member', 'assignee', 'supervisor', 'admin'],
  request_info: ['member', 'assignee', 'supervisor', 'admin'],
  requester_reply: ['requester'],
  hand_off: ['assignee', 'member', 'supervisor', 'admin'],
  accept_leg: ['member', 'supervisor', 'admin'],
  return_leg: ['member', 'assignee', 'supervisor', 'admin'],
  resolve: ['assignee', 'member', 'supervisor', 'admin'],
  confirm: ['requester', 'system'],
  reopen: ['requester', 'supervisor', 'admin'],
  close: ['assignee', 'supervisor', 'admin', 'requester', 'system'],
  rate: ['requester'],
  mark_sensitive: ['member', 'assignee', 'supervisor', 'admin'],
  extend: ['supervisor', 'admin'],
  // issue 17: fixing a wrong category; "this is urgent" (members and the requester); editing the text.
  recategorise: ['member', 'assignee', 'supervisor', 'admin'],
  escalate: ['requester', 'member', 'assignee', 'supervisor', 'admin'],
  edit: ['requester', 'member', 'assignee', 'supervisor', 'admin'],
};

/** From which states each action may start. */
const FROM: Record<Action, TicketState[]> = {
  // Claiming an already-assigned ticket is refused by the use case, which names who has it.
  claim: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  assign: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  change_priority: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  note: ['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved', 'closed'],
  reply: ['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved'],
  request_info: ['new', 'assigned', 'in_progress'],
  requester_reply: ['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved'],
  hand_off: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  accept_leg: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  return_leg: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  resolve: ['assigned', 'in_progress', 'waiting_on_requester'],
  confirm: ['resolved'],
  reopen: ['resolved'],
  close: ['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved'],
  rate: ['closed', 'resolved'],
  mark_sensitive: ['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved'],
  extend: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  recategorise: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  escalate: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
  edit: ['new', 'assigned', 'in_progress', 'waiting_on_requester'],
};

/** The roles that may do `action` (the write half of the permission matrix, see ./access). */
export function allowedRoles(action: Action): readonly Role[] {
  return ALLOWED[action];
}

/** Whether `action` may start from `state` (roles aside): what cards offer follows this. */
export function startsFrom(action: Action, state: TicketState): boolean {
  return FROM[action].includes(state);
}

/** Throws the right coded error when `roles` may not do `action` on a ticket in `state`. */
export function checkAllowed(action: Action, state: TicketState, roles: ReadonlySet<Role>, ticketKey: string): void {
  if (state === 'closed' && !FROM[action].includes('closed')) throw new DomainError('ticket.already_closed', { key: ticketKey });
  const allowedRoles = ALLOWED[action];
  if (!allowedRoles.some((r) => roles.has(r))) {
    if (allowedRoles.includes('requester') && allowedRoles.length === 1) throw new DomainError('ticket.not_requester', { key: ticketKey });
    if (allowedRoles.includes('member')) throw new DomainError('ticket.not_member', { key: ticketKey });
    throw new DomainError('ticket.not_allowed', { key: ticketKey });
  }
  if (!FROM[action].includes(state)) {
    if (action === 'claim' || action === 'accept_leg') throw new DomainError('ticket.already_assigned', { key: ticketKey });
    if (action === 'confirm' || action === 'reopen') throw new DomainError('ticket.not_resolved', { key: ticketKey });
    if (action === 'resolve' && state === 'resolved') throw new DomainError('ticket.already_resolved', { key: ticketKey });
    if (action === 'resolve' && state === 'new') throw new DomainError('ticket.not_assignable', { key: ticketKey });
    throw new DomainError('ticket.invalid_transition', { key: ticketKey, action, state });
  }
}

/** Leg states: a leg is pending until its department accepts it. */
export type LegState = 'pending' | 'accepted' | 'handed_off' | 'returned' | 'resolved' | 'closed';

/** Ticket states in which the ticket counts as open work. */
export const OPEN_STATES: readonly TicketState[] = ['new', 'assigned', 'in_progress', 'waiting_on_requester'];
