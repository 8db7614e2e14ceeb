import type { AppContext } from '../../app/context';
import { isAdmin, isSupervisorOf } from '../../app/support';
import { findUser } from '../../storage/repos/users';
import { DASHBOARD_LINK_TTL_MS, dashboardUrl, signDashboardLink } from './signing';

/** Departments a user may see on the dashboard: admins all, supervisors theirs, others none. */
export async function dashboardScopeFor(ctx: Pick<AppContext, 'db' | 'config'>, userId: string): Promise<string[] | '*'> {
  const user = await findUser(ctx.db, userId);
  if (!user) return [];
  if (isAdmin(ctx as AppContext, user)) return '*';
  return [...ctx.config.departments.keys()].filter((id) => isSupervisorOf(ctx as AppContext, id, user));
}

/**
 * The link `/ticket dashboard` DMs: signed, valid 15 minutes, scoped to the user's departments.
 * Undefined when the user may see no department (the chat layer says so).
 */
export async function createDashboardLink(
  ctx: Pick<AppContext, 'db' | 'config' | 'time'>,
  p: { userId: string; baseUrl: string; secret: string; locale?: string },
): Promise<{ url: string; expiresAt: Date } | undefined> {
  const departments = await dashboardScopeFor(ctx, p.userId);
  if (departments !== '*' && departments.length === 0) return undefined;
  const expiresAt = ctx.time.now().getTime() + DASHBOARD_LINK_TTL_MS;
  const token = signDashboardLink({ userId: p.userId, departments, expiresAt }, p.secret);
  return { url: dashboardUrl(p.baseUrl, token, p.locale), expiresAt: new Date(expiresAt) };
}
