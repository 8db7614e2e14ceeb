import { DEPARTMENT_READS, mayReadDepartment, mayReadTicket, type DepartmentRead, type DepartmentRole, type TicketAsk } from '../domain/access';
import type { ErrorCode } from '../domain/errors';
import type { Role } from '../domain/ticket';
import { findTicket } from '../storage/repos/tickets';
import { findUser } from '../storage/repos/users';
import type { AppContext } from './context';
import { getTicketView, listQueue, type QueueItem, type TicketView } from './queries';
import { isAdmin, isMemberOf, isSupervisorOf, rolesFor } from './support';

/** The answer to a read: the value, or a coded refusal the chat layer words. */
export type ReadResult<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; params: Record<string, string | number> } };

/** Longest period the figures are given for (`/ticket stats 400d` is refused with a clear word). */
export const MAX_STATS_DAYS = 365;

/**
 * One ticket for `actorId`, if the permission matrix lets them `ask` (read it, or open a form for a
 * write). A missing ticket and a refused one get the same answer (`ticket.not_visible`, naming only
 * what was asked for), so nobody learns which keys exist.
 */
export async function viewTicket(ctx: AppContext, actorId: string, keyOrId: string, ask: TicketAsk = 'view'): Promise<ReadResult<{ view: TicketView; roles: Set<Role> }>> {
  const denied = { ok: false as const, error: { code: 'ticket.not_visible' as const, params: { key: keyOrId } } };
  const ticket = keyOrId ? await findTicket(ctx.db, keyOrId) : undefined;
  if (!ticket) return denied;
  const roles = await ctx.db.transaction().execute((tx) => rolesFor(ctx, tx, actorId, ticket));
  if (!mayReadTicket(ask, roles)) return denied;
  const view = await getTicketView(ctx, ticket.id);
  return view ? { ok: true, value: { view, roles } } : denied;
}

/** The roles `actorId` holds on a department (member, supervisor, admin). */
export async function departmentRoles(ctx: AppContext, actorId: string, departmentId: string): Promise<Set<DepartmentRole>> {
  const user = await findUser(ctx.db, actorId);
  const roles = new Set<DepartmentRole>();
  if (isAdmin(ctx, user)) roles.add('admin');
  if (isSupervisorOf(ctx, departmentId, user)) roles.add('supervisor');
  if (await ctx.db.transaction().execute((tx) => isMemberOf(ctx, tx, departmentId, user))) roles.add('member');
  return roles;
}

/** Departments whose `read` the actor may ask for (all of them for admins). */
export async function readableDepartments(ctx: AppContext, actorId: string, read: DepartmentRead): Promise<{ all: boolean; ids: string[] }> {
  const user = await findUser(ctx.db, actorId);
  const admin = isAdmin(ctx, user);
  const ids: string[] = [];
  for (const d of ctx.config.departments.values()) {
    if (admin || mayReadDepartment(read, await departmentRoles(ctx, actorId, d.id))) ids.push(d.id);
  }
  return { all: admin && DEPARTMENT_READS[read].includes('admin'), ids };
}

/**
 * Which department a queue or stats ask is about: the one named (if the actor may see it), else the
 * actor's only one; admins asking stats without a department get every department (undefined).
 */
export async function departmentScope(ctx: AppContext, actorId: string, read: DepartmentRead, named: string | undefined): Promise<ReadResult<{ departmentId: string | undefined }>> {
  const readable = await readableDepartments(ctx, actorId, read);
  const names = (ids: string[]) => ids.join(', ');
  if (readable.ids.length === 0) return { ok: false, error: { code: 'access.no_department', params: {} } };
  if (named !== undefined) {
    if (readable.ids.includes(named)) return { ok: true, value: { departmentId: named } };
    return { ok: false, error: { code: 'access.department_denied', params: { department: named, yours: names(readable.ids) || '-' } } };
  }
  if (read === 'stats' && readable.all) return { ok: true, value: { departmentId: undefined } };
  if (readable.ids.length === 1) return { ok: true, value: { departmentId: readable.ids[0] } };
  return { ok: false, error: { code: 'access.which_department', params: { departments: names(readable.ids) } } };
}

/** A department's open queue, for those the matrix lets see it. */
export async function viewQueue(ctx: AppContext, actorId: string, departmentId: string | undefined, limit = 50): Promise<ReadResult<{ departmentId: string; items: QueueItem[] }>> {
  const scope = await departmentScope(ctx, actorId, 'queue', departmentId);
  if (!scope.ok) return scope;
  const id = scope.value.departmentId!;
  return { ok: true, value: { departmentId: id, items: await listQueue(ctx, id, limit) } };
}

/** Checks a stats ask (department and period); the figures themselves come from src/reports. */
export async function statsScope(ctx: AppContext, actorId: string, departmentId: string | undefined, days: number): Promise<ReadResult<{ departmentId: string | undefined; days: number }>> {
  if (days > MAX_STATS_DAYS || days < 1) return { ok: false, error: { code: 'access.period_too_long', params: { days, max: MAX_STATS_DAYS } } };
  const scope = await departmentScope(ctx, actorId, 'stats', departmentId);
  return scope.ok ? { ok: true, value: { departmentId: scope.value.departmentId, days } } : scope;
}
