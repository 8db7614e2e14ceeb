import type { Department } from '../config/model';
import { chooseAssignee, type Candidate } from '../domain/routing';
import type { Tx } from '../storage/database';
import { openCountsByAssignee } from '../storage/repos/tickets';
import { findUsers, listDepartmentMembers } from '../storage/repos/users';
import type { AppContext } from './context';
import { calendarOf } from './clocks';
import { routingPlan, type RoutingPlan } from '../domain/rules';

/** Candidate agents of a department: config list or channel members (email refs resolved). */
export async function departmentMemberIds(tx: Tx, dept: Department): Promise<string[]> {
  if (!Array.isArray(dept.members)) return listDepartmentMembers(tx, dept.id);
  const ids: string[] = [];
  for (const ref of dept.members) {
    if (ref.startsWith('email:')) {
      const rows = await tx.selectFrom('users').select('id').where('email', '=', ref.slice(6)).execute();
      ids.push(...rows.map((r) => r.id));
    } else ids.push(ref);
  }
  return ids;
}

/**
 * Picks an assignee by the routing plan (a rule's `assign`, else the strategy in force for the
 * department, pilots included) within capacity, or null (post and let people claim). The
 * round-robin cursor is persisted so replicas share it.
 */
export async function routeTicket(
  ctx: AppContext,
  tx: Tx,
  dept: Department,
  now: string,
  plan: RoutingPlan = routingPlan(ctx.config, dept.id),
): Promise<{ userId: string | null; reason: string }> {
  const origin = plan.origin === 'department' ? '' : ` (${plan.origin})`;
  if (plan.kind === 'user') {
    const userId = await userIdOfRef(tx, plan.ref);
    return userId ? { userId, reason: `assigned to ${plan.ref}${origin}` } : { userId: null, reason: `${plan.ref} is not known yet: posted for claiming${origin}` };
  }
  const strategy = plan.strategy;
  if (strategy === 'claim') return { userId: null, reason: `claim: posted for claiming${origin}` };
  const memberIds = strategy === 'on_call' ? (plan.onCall ?? []) : await departmentMemberIds(tx, dept);
  const users = await findUsers(tx, memberIds);
  const counts = await openCountsByAssignee(tx, memberIds);
  const candidates: Candidate[] = memberIds.map((userId) => {
    const u = users.get(userId);
    return {
      userId,
      openCount: counts.get(userId)?.open ?? 0,
      lastAssignedAt: counts.get(userId)?.lastAssignedAt ?? null,
      available: !(u?.is_bot === 1) && !(u?.away_until && u.away_until > now),
    };
  });
  const cursorRow = await tx.selectFrom('routing_cursors').select('cursor').where('department_id', '=', dept.id).executeTakeFirst();
  const choice = chooseAssignee({
    strategy,
    ...(plan.capacity !== undefined ? { capacity: plan.capacity } : {}),
    candidates,
    cursor: cursorRow?.cursor ?? 0,
    ...(plan.onCall ? { onCall: plan.onCall } : {}),
    now,
    calendarTz: calendarOf(ctx, dept.calendar).timezone,
  });
  if (strategy === 'round_robin' && choice.nextCursor !== (cursorRow?.cursor ?? 0)) {
    await tx
      .insertInto('routing_cursors')
      .values({ department_id: dept.id, cursor: choice.nextCursor })
      .onConflict((oc) => oc.column('department_id').doUpdateSet({ cursor: choice.nextCursor }))
      .execute();
  }
  ctx.logger.debug({ department: dept.id, strategy, origin: plan.origin, reason: choice.reason }, 'routing decision');
  return { userId: choice.userId, reason: `${choice.reason}${origin}` };
}

/** A config user reference as our user id: `email:` refs are looked up, the others are ids already. */
async function userIdOfRef(tx: Tx, ref: string): Promise<string | null> {
  if (!ref.startsWith('email:')) return ref;
  const row = await tx.selectFrom('users').select('id').where('email', '=', ref.slice(6)).executeTakeFirst();
  return row?.id ?? null;
}
