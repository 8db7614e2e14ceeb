import type { Logger } from 'pino';
import { ensureUser, userLocale } from '../app/users';
import type { AppContext } from '../app/context';
import type { Locale } from '../domain/types';
import type { FeishuApi } from './api';

const MAX_CACHED = 10_000;

/**
 * Feishu open_id → our user id. The first time a person is seen their name and email are looked
 * up once (contact API) and stored through ensureUser; later events use the cache. A failed lookup
 * still records the identity (without a name) so the event is not lost.
 */
export class FeishuIdentity {
  private known = new Map<string, string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly api: FeishuApi,
    private readonly logger: Logger,
  ) {}

  async userId(openId: string, tenant: string): Promise<string> {
    const hit = this.known.get(openId);
    if (hit) return hit;
    let name: string | undefined;
    let email: string | undefined;
    try {
      const info = await this.api.getUser(openId);
      name = info.name;
      email = info.email;
    } catch (err) {
      this.logger.warn({ openId, err: err instanceof Error ? err.message : String(err) }, 'feishu contact lookup failed; storing the user without a name');
    }
    const id = await ensureUser(this.ctx, { platform: 'feishu', workspace: tenant, platformUserId: openId, name, email });
    this.remember(openId, id);
    return id;
  }

  /** Records people whose names we already know (chat member lists) without a contact lookup. */
  async knownPerson(openId: string, tenant: string, name: string | undefined): Promise<string> {
    const id = await ensureUser(this.ctx, { platform: 'feishu', workspace: tenant, platformUserId: openId, name });
    this.remember(openId, id);
    return id;
  }

  locale(userId: string): Promise<Locale> {
    return userLocale(this.ctx, userId);
  }

  private remember(openId: string, id: string): void {
    if (this.known.size >= MAX_CACHED) this.known.delete(this.known.keys().next().value!);
    this.known.set(openId, id);
  }
}
