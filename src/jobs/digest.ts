import type { Config } from '../config/model';
import { isChatPlatform } from '../domain/platforms';
import { OPEN_STATES } from '../domain/ticket';
import { PRIORITY_RANK, type Locale, type Priority } from '../domain/types';
import type { UserRow } from '../storage/tables';
import { insertOutbox, pendingOutboxRow, type OutboxInsert } from '../storage/repos/journal';
import { localDate, nextDailyRun, type RecurringJob } from './recurring';

export const DIGEST_JOB_ID = 'digest.open_tickets';
export const DIGEST_EVENT = 'digest.open_tickets';
/** The digest lists this many ticket keys; the count covers all of them. */
const MAX_KEYS_LISTED = 20;
const USER_CHUNK = 500;

export interface DailyDigestOptions {
  /** `HH:MM` wall-clock time in `timeZone`. */
  at: string;
  timeZone: string;
  defaultLocale: Locale;
  newId(): string;
}

/**
 * Each day at `at`, one DM per agent who has open tickets assigned: how many, and their keys
 * (most urgent first). The idempotency key holds the local date of the slot being run, so
 * replicas — or a rerun of the same slot — write each agent's digest for a day once.
 */
export function dailyOpenTicketsDigest(o: DailyDigestOptions): RecurringJob {
  return {
    id: DIGEST_JOB_ID,
    every: `daily ${o.at} ${o.timeZone}`,
    nextRun: (nowIso) => nextDailyRun(nowIso, o.at, o.timeZone),
    async run(tx, now, { scheduledFor }) {
      const day = localDate(scheduledFor, o.timeZone);
      const tickets = await tx
        .selectFrom('tickets')
        .select(['assignee_id', 'key', 'priority', 'created_at'])
        .where('state', 'in', [...OPEN_STATES])
        .where('assignee_id', 'is not', null)
        .execute();
      const byAgent = new Map<string, { key: string; rank: number; created: string }[]>();
      for (const t of tickets) {
        const list = byAgent.get(t.assignee_id!) ?? [];
        list.push({ key: t.key, rank: PRIORITY_RANK[t.priority as Priority] ?? 0, created: t.created_at });
        byAgent.set(t.assignee_id!, list);
      }
      const agentIds = [...byAgent.keys()].sort();
      for (let i = 0; i < agentIds.length; i += USER_CHUNK) {
        const ids = agentIds.slice(i, i + USER_CHUNK);
        const users = await tx.selectFrom('users').selectAll().where('id', 'in', ids).execute();
        const rows: OutboxInsert[] = [];
        for (const user of users) {
          if (!isChatUser(user)) continue;
          const list = byAgent.get(user.id)!.sort((a, b) => b.rank - a.rank || a.created.localeCompare(b.created));
          const listed = list.slice(0, MAX_KEYS_LISTED).map((x) => x.key);
          rows.push(
            pendingOutboxRow(
              {
                id: o.newId(),
                idempotency_key: `${DIGEST_EVENT}:${day}:${user.id}`,
                platform: user.platform,
                target_kind: 'user',
                target_id: user.platform_user_id,
                event: DIGEST_EVENT,
                payload: JSON.stringify({
                  messageKey: 'event.digest.open_tickets',
                  params: { count: list.length, keys: listed.join(', ') + (list.length > listed.length ? ', …' : '') },
                  thread: 'none',
                }),
                locale: user.locale === 'en' || user.locale === 'zh-CN' ? user.locale : o.defaultLocale,
                order_key: `none:${user.platform}:${user.platform_user_id}`,
              },
              now,
            ),
          );
        }
        await insertOutbox(tx, rows);
      }
    },
  };
}

function isChatUser(u: UserRow): boolean {
  return u.is_bot === 0 && isChatPlatform(u.platform);
}

/**
 * The digest as configured (`digest.daily_open_tickets: "HH:MM"`), in the time zone of the first
 * department's calendar; none when the option is absent.
 */
export function digestJobsFromConfig(config: Config, newId: () => string): RecurringJob[] {
  const at = config.raw.digest?.daily_open_tickets;
  if (!at) return [];
  const firstCalendar = config.raw.departments[0]?.calendar;
  const timeZone = (firstCalendar && config.raw.calendars[firstCalendar]?.timezone) || 'UTC';
  return [dailyOpenTicketsDigest({ at, timeZone, defaultLocale: config.raw.locale, newId })];
}
