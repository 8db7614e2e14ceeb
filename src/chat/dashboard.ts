import type { AppContext } from '../app/context';
import type { Locale } from '../domain/types';
import { createDashboardLink } from '../web/dashboard/scope';

export type DashboardLinkResult = { kind: 'ok'; url: string; expiresAt: Date } | { kind: 'denied' } | { kind: 'off' };

/** What `/ticket dashboard` asks for on either platform: a signed link for this user, or why not. */
export interface DashboardLinks {
  linkFor(userId: string, locale: Locale): Promise<DashboardLinkResult>;
}

/** Off unless both the public URL (where users reach the bot's HTTP server) and the signing secret are set. */
export function dashboardLinks(ctx: Pick<AppContext, 'db' | 'config' | 'time'>, o: { baseUrl?: string | undefined; secret?: string | undefined }): DashboardLinks {
  const { baseUrl, secret } = o;
  return {
    async linkFor(userId, locale) {
      if (!baseUrl || !secret) return { kind: 'off' };
      const link = await createDashboardLink(ctx, { userId, baseUrl, secret, locale });
      return link ? { kind: 'ok', ...link } : { kind: 'denied' };
    },
  };
}
