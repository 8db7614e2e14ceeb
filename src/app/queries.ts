import type { CategoryNode } from '../config/schema';
import type { Department } from '../config/model';
import { OPEN_STATES, type Role } from '../domain/ticket';
import { PRIORITY_RANK, type Priority } from '../domain/types';
import { listClocks } from '../storage/repos/clocks';
import { listAudit, listMessages } from '../storage/repos/journal';
import { listWatchers } from '../storage/repos/workflow';
import { findTicket, listFields, listLegs } from '../storage/repos/tickets';
import { findUsers } from '../storage/repos/users';
import type { AuditEventRow, ClockRow, LegRow, MessageRow, TicketFieldRow, TicketRow, UserRow } from '../storage/tables';
import type { AppContext } from './context';
import { suggestedArticlesForTicket } from './deflection';
import { isMemberOf, isSupervisorOf, rolesFor } from './support';

/** Everything a card or a `/ticket show` needs about one ticket, read in one go. */
export interface TicketView {
  ticket: TicketRow;
  fields: TicketFieldRow[];
  legs: LegRow[];
  clocks: ClockRow[];
  categoryPath: CategoryNode[];
  department: Department;
  users: Map<string, UserRow>;
  messages: MessageRow[];
  /** Fields an automation rule set and no person has changed since: "priority set by rule outage-is-urgent". */
  ruleNotes?: RuleNote[];
  /** Display names of the people watching the ticket (rules' add_watchers, issue 17). */
  watchers?: string[];
  /** Knowledge-base articles offered before the ticket was raised (issue 18), in the order shown. */
  suggested?: SuggestedOnCard[];
}

export type SuggestedOnCard = Awaited<ReturnType<typeof suggestedArticlesForTicket>>[number];

export interface RuleNote {
  ruleId: string;
  field: string;
  value: string;
}

/** Audit actions by which a person overrides what a rule set (a person's explicit change wins). */
const OVERRIDES: Record<string, readonly string[]> = {
  priority: ['priority_changed'],
  assign: ['claimed', 'assigned', 'reassigned'],
  department: ['handed_off'],
  sensitive: ['marked_sensitive', 'unmarked_sensitive'],
};

/** The rule applications still standing, from the audit trail (oldest first). */
export function standingRuleNotes(events: readonly AuditEventRow[]): RuleNote[] {
  const notes: RuleNote[] = [];
  events.forEach((e, i) => {
    if (e.action !== 'rule_applied' || !e.data) return;
    const d = JSON.parse(e.data) as { rule?: string; field?: string; value?: string };
    if (!d.rule || !d.field) return;
    const overridden = events.slice(i + 1).some((later) => later.actor_id !== 'system' && (OVERRIDES[d.field!] ?? []).includes(later.action));
    if (!overridden) notes.push({ ruleId: d.rule, field: d.field, value: String(d.value ?? '') });
  });
  return notes;
}

export async function getTicketView(ctx: AppContext, keyOrId: string): Promise<TicketView | undefined> {
  const ticket = await findTicket(ctx.db, keyOrId);
  if (!ticket) return undefined;
  const [fields, legs, clocks, messages, trail, suggested] = await Promise.all([
    listFields(ctx.db, ticket.id),
    listLegs(ctx.db, ticket.id),
    listClocks(ctx.db, ticket.id),
    listMessages(ctx.db, ticket.id, 20),
    ctx.config.raw.rules.length ? listAudit(ctx.db, ticket.id) : Promise.resolve([]),
    suggestedArticlesForTicket(ctx, ticket.id),
  ]);
  const watchers = ctx.config.raw.rules.length ? await watcherNames(ctx, ticket.id) : [];
  const userIds = [ticket.requester_id, ...(ticket.assignee_id ? [ticket.assignee_id] : []), ...legs.flatMap((l) => (l.assignee_id ? [l.assignee_id] : []))];
  return {
    ticket,
    fields,
    legs,
    clocks,
    categoryPath: ctx.config.leaves.get(ticket.category_id)?.path ?? [],
    department: ctx.config.departments.get(ticket.department_id)!,
    users: await findUsers(ctx.db, userIds),
    messages,
    ruleNotes: standingRuleNotes(trail),
    watchers,
    suggested,
  };
}

/** A watcher's name: the chat user its reference names, else the reference itself. */
async function watcherNames(ctx: AppContext, ticketId: string): Promise<string[]> {
  const out: string[] = [];
  for (const w of await listWatchers(ctx.db, ticketId)) {
    const colon = w.user_ref.indexOf(':');
    const kind = w.user_ref.slice(0, colon);
    const id = w.user_ref.slice(colon + 1);
    const q = ctx.db.selectFrom('users').select(['name', 'platform_user_id']);
    const user = await (kind === 'email' ? q.where('email', '=', id) : q.where('platform', '=', kind).where('platform_user_id', '=', id)).executeTakeFirst();
    out.push(user?.name ?? w.user_ref);
  }
  return out;
}

export async function getAuditTrail(ctx: AppContext, keyOrId: string): Promise<AuditEventRow[]> {
  const ticket = await findTicket(ctx.db, keyOrId);
  return ticket ? listAudit(ctx.db, ticket.id) : [];
}

/** Queue order: urgent first, then by priority, then the earliest due, then the oldest. */
export function compareQueue(a: { priority: string; created_at: string; due?: string | null }, b: { priority: string; created_at: string; due?: string | null }): number {
  const p = PRIORITY_RANK[b.priority as Priority] - PRIORITY_RANK[a.priority as Priority];
  if (p !== 0) return p;
  const ad = a.due ?? '9999';
  const bd = b.due ?? '9999';
  if (ad !== bd) return ad < bd ? -1 : 1;
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
}

export interface QueueItem extends TicketRow {
  due: string | null;
  overdue: boolean;
}

async function withDue(ctx: AppContext, tickets: TicketRow[]): Promise<QueueItem[]> {
  if (tickets.length === 0) return [];
  const now = ctx.time.now().toISOString();
  const clocks = await ctx.db
    .selectFrom('clocks')
    .select(['ticket_id', 'due_at', 'breached_at'])
    .where('ticket_id', 'in', tickets.map((t) => t.id))
    .where('status', '=', 'running')
    .execute();
  const due = new Map<string, { due: string | null; overdue: boolean }>();
  for (const c of clocks) {
    const cur = due.get(c.ticket_id) ?? { due: null, overdue: false };
    if (c.due_at && (cur.due === null || c.due_at < cur.due)) cur.due = c.due_at;
    if (c.breached_at || (c.due_at && c.due_at < now)) cur.overdue = true;
    due.set(c.ticket_id, cur);
  }
  return tickets.map((t) => ({ ...t, due: due.get(t.id)?.due ?? null, overdue: due.get(t.id)?.overdue ?? false })).sort(compareQueue);
}

/** My open tickets: assigned to me, or raised by me. */
export async function listMine(ctx: AppContext, userId: string, limit = 50): Promise<{ assigned: QueueItem[]; requested: QueueItem[] }> {
  const assigned = await ctx.db.selectFrom('tickets').selectAll().where('assignee_id', '=', userId).where('state', 'in', [...OPEN_STATES]).limit(limit).execute();
  const requested = await ctx.db.selectFrom('tickets').selectAll().where('requester_id', '=', userId).where('state', 'in', [...OPEN_STATES, 'resolved']).orderBy('created_at', 'desc').limit(limit).execute();
  return { assigned: await withDue(ctx, assigned), requested: await withDue(ctx, requested) };
}

/** A department's open queue, sorted by priority and due time. */
export async function listQueue(ctx: AppContext, departmentId: string, limit = 50): Promise<QueueItem[]> {
  const rows = await ctx.db
    .selectFrom('tickets')
    .selectAll()
    .where('department_id', '=', departmentId)
    .where('state', 'in', [...OPEN_STATES])
    .orderBy('created_at')
    .limit(500)
    .execute();
  return (await withDue(ctx, rows)).slice(0, limit);
}

/** The roles a user holds on a ticket (for the chat layer to decide which buttons to show). */
export async function userRoles(ctx: AppContext, userId: string, ticket: TicketRow): Promise<Set<Role>> {
  return ctx.db.transaction().execute((tx) => rolesFor(ctx, tx, userId, ticket));
}

/** Departments where the user is a member or supervisor (for App Home and `/ticket queue`). */
export async function departmentsOf(ctx: AppContext, userId: string): Promise<{ member: string[]; supervisor: string[] }> {
  const users = await findUsers(ctx.db, [userId]);
  const user = users.get(userId);
  const member: string[] = [];
  const supervisor: string[] = [];
  await ctx.db.transaction().execute(async (tx) => {
    for (const d of ctx.config.departments.values()) {
      if (await isMemberOf(ctx, tx, d.id, user)) member.push(d.id);
      if (isSupervisorOf(ctx, d.id, user)) supervisor.push(d.id);
    }
  });
  return { member, supervisor };
}

/** Tickets waiting on this requester's answer (newest first): a plain DM may be about one of them. */
export async function listWaitingOn(ctx: AppContext, requesterId: string, limit = 5): Promise<TicketRow[]> {
  return ctx.db.selectFrom('tickets').selectAll().where('requester_id', '=', requesterId).where('state', '=', 'waiting_on_requester').orderBy('updated_at', 'desc').limit(limit).execute();
}
