import type { Action, Role } from './ticket';
import { allowedRoles } from './ticket';

/**
 * The permission matrix: who may read what, and which buttons that open a view (a form, a card)
 * they may press. Writes are the ticket rule in ./ticket (ALLOWED); a button that opens a form
 * for a write needs the roles of that write, so nobody is shown a form they could not submit.
 * Everything here is enforced in the core (src/app/access.ts); the platforms only translate.
 */

/** Reads on one ticket. */
export type TicketRead = 'view';
/** Reads on one department (its queue, its figures). */
export type DepartmentRead = 'queue' | 'stats';

/** Roles a person holds on a department: members and supervisors of that department, admins. */
export type DepartmentRole = 'member' | 'supervisor' | 'admin';

export const TICKET_READS: Record<TicketRead, readonly Role[]> = {
  // The people involved: requester, assignee, the holding department's staff, admins.
  view: ['requester', 'assignee', 'member', 'supervisor', 'admin'],
};

export const DEPARTMENT_READS: Record<DepartmentRead, readonly DepartmentRole[]> = {
  queue: ['member', 'supervisor', 'admin'],
  stats: ['member', 'supervisor', 'admin'],
};

/** Every read or view-opening press a person can ask for on a ticket. */
export type TicketAsk = TicketRead | { opens: Action };

export function mayReadTicket(ask: TicketAsk, roles: ReadonlySet<Role>): boolean {
  const allowed = typeof ask === 'string' ? TICKET_READS[ask] : allowedRoles(ask.opens);
  return allowed.some((r) => roles.has(r));
}

export function mayReadDepartment(read: DepartmentRead, roles: ReadonlySet<DepartmentRole>): boolean {
  return DEPARTMENT_READS[read].some((r) => roles.has(r));
}

/** Staff of a ticket (the people who see its buttons when it is shown to them alone). */
export function isStaff(roles: ReadonlySet<Role>): boolean {
  return roles.has('member') || roles.has('assignee') || roles.has('supervisor') || roles.has('admin');
}
