import type { Locale, Platform } from '../domain/types';
import { findUser, setUserLocale, upsertUser, userIdOf } from '../storage/repos/users';
import type { AppContext } from './context';

export interface EnsureUserInput {
  platform: Platform;
  workspace: string;
  platformUserId: string;
  name?: string | undefined;
  email?: string | undefined;
  locale?: Locale | undefined;
  timezone?: string | undefined;
  isBot?: boolean | undefined;
}

/** Records (or refreshes) a platform identity and returns our user id. Idempotent. */
export async function ensureUser(ctx: AppContext, input: EnsureUserInput): Promise<string> {
  const id = userIdOf(input.platform, input.platformUserId);
  const now = ctx.time.now().toISOString();
  await upsertUser(ctx.db, {
    id,
    platform: input.platform,
    workspace: input.workspace,
    platform_user_id: input.platformUserId,
    name: input.name ?? null,
    email: input.email ?? null,
    locale: input.locale ?? null,
    timezone: input.timezone ?? null,
    away_until: null,
    is_bot: input.isBot ? 1 : 0,
    created_at: now,
    updated_at: now,
  });
  return id;
}

/** `/ticket lang zh|en`: the user's chosen language wins over the platform's. */
export async function setLanguage(ctx: AppContext, userId: string, locale: Locale): Promise<void> {
  await setUserLocale(ctx.db, userId, locale, ctx.time.now().toISOString());
}

export async function userLocale(ctx: AppContext, userId: string): Promise<Locale> {
  const u = await findUser(ctx.db, userId);
  return u?.locale === 'en' || u?.locale === 'zh-CN' ? u.locale : ctx.config.raw.locale;
}
