import type { UserRow } from '../storage/tables';
import { findUsers, listDepartmentMembers } from '../storage/repos/users';
import type { AppContext } from './context';

/**
 * The people a ticket of a department can be assigned to: its members (the config's list, or the
 * members synced from its channel/chat), bots left out, in member order. Forms offer exactly
 * these rather than whoever happens to be in the chat the form was opened in.
 */
export async function assignCandidates(ctx: AppContext, departmentId: string): Promise<UserRow[]> {
  const dept = ctx.config.departments.get(departmentId);
  if (!dept) return [];
  let ids: string[];
  if (!Array.isArray(dept.members)) ids = await listDepartmentMembers(ctx.db, dept.id);
  else {
    ids = [];
    for (const ref of dept.members) {
      if (!ref.startsWith('email:')) ids.push(ref);
      else ids.push(...(await ctx.db.selectFrom('users').select('id').where('email', '=', ref.slice(6)).execute()).map((r) => r.id));
    }
  }
  const users = await findUsers(ctx.db, ids);
  return [...new Set(ids)].flatMap((id) => {
    const u = users.get(id);
    return u && u.is_bot !== 1 ? [u] : [];
  });
}
