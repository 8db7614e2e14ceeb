import { join } from 'node:path';
import pino from 'pino';
import { loadConfigFile } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { calendarsFromConfig } from '../../src/domain/calendar';
import type { AppContext, CommandMeta, TimeSource } from '../../src/app/context';
import { newId } from '../../src/app/ids';
import { ensureUser } from '../../src/app/users';
import type { Storage } from '../../src/storage/database';
import type { Platform } from '../../src/domain/types';

export const FIXTURE_CONFIG = join(__dirname, '..', 'fixtures', 'config.yaml');

/** A clock tests move by hand. */
export class ManualTime implements TimeSource {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function testContext(storage: Storage, time: ManualTime, config: Config = loadConfigFile(FIXTURE_CONFIG)): AppContext {
  let seq = 0;
  return {
    db: storage.db,
    dialect: storage.dialect,
    config,
    calendars: calendarsFromConfig(config.raw),
    time,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    newId: () => newId(time.now().getTime()) + (seq++).toString(36),
  };
}

/** Creates the platform users a test talks as; returns their ids keyed by platform id. */
export async function seedUsers(ctx: AppContext, users: Array<{ platform: Platform; id: string; name: string; locale?: 'en' | 'zh-CN' }>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const u of users) out[u.id] = await ensureUser(ctx, { platform: u.platform, workspace: u.platform === 'slack' ? 'T1' : 'tenant1', platformUserId: u.id, name: u.name, locale: u.locale });
  return out;
}

export function as(actorId: string, eventKey?: string, platform: Platform = 'slack'): CommandMeta {
  return { actorId, platform, ...(eventKey ? { eventKey } : {}) };
}
