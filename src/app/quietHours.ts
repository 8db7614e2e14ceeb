import { DomainError } from '../domain/errors';
import { parseQuietRange } from '../domain/quiet-hours';
import { findUser } from '../storage/repos/users';
import { findUserSettings, saveQuietHours } from '../storage/repos/workflow';
import type { AppContext, CommandMeta } from './context';
import { runUseCase, type UseCaseResult } from './runner';

export interface SetQuietHoursCommand {
  meta: CommandMeta;
  /** `22:00-08:00`, or `off`. */
  range: string;
  /** IANA zone the range is read in; else the user's own zone, else the first calendar's zone. */
  zone?: string | undefined;
}

export type QuietHoursSetting = { on: true; start: string; end: string; zone: string } | { on: false };

/**
 * `/ticket quiet 22:00-08:00` and `/ticket quiet off` [issue 17 item 6]. The default (no row) is
 * off: see decisions.md "Quiet hours". Held messages are released by the outbox dispatcher
 * (src/jobs/quiet-hours.ts).
 */
export function setQuietHours(ctx: AppContext, cmd: SetQuietHoursCommand): Promise<UseCaseResult<QuietHoursSetting>> {
  return runUseCase(ctx, cmd.meta, 'setQuietHours', async (tx, now): Promise<QuietHoursSetting> => {
    const text = cmd.range.trim().toLowerCase();
    if (text === 'off' || text === '关' || text === '关闭') {
      await saveQuietHours(tx, { user_id: cmd.meta.actorId, quiet_start: null, quiet_end: null, quiet_zone: null, updated_at: now });
      return { on: false };
    }
    const range = parseQuietRange(text);
    if (!range) throw new DomainError('quiet.invalid', { text: cmd.range });
    const user = await findUser(tx, cmd.meta.actorId);
    const zone = cmd.zone ?? user?.timezone ?? defaultZone(ctx);
    await saveQuietHours(tx, { user_id: cmd.meta.actorId, quiet_start: range.start, quiet_end: range.end, quiet_zone: zone, updated_at: now });
    return { on: true, ...range, zone };
  });
}

export async function getQuietHours(ctx: AppContext, userId: string): Promise<QuietHoursSetting> {
  const row = await findUserSettings(ctx.db, userId);
  return row?.quiet_start && row.quiet_end && row.quiet_zone ? { on: true, start: row.quiet_start, end: row.quiet_end, zone: row.quiet_zone } : { on: false };
}

function defaultZone(ctx: AppContext): string {
  return Object.values(ctx.config.raw.calendars)[0]?.timezone ?? 'UTC';
}
