import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/model';
import { deleteUnreferencedBlobs } from '../storage/blobs';
import type { Db, DbOrTx } from '../storage/database';
import { nextDailyRun, type RecurringJob } from './recurring';

export const RETENTION_JOB_ID = 'housekeeping.retention';
/** What a trimmed outbox row's payload becomes (the row stays, for the audit trail). */
export const TRIMMED_PAYLOAD = '{"trimmed":true}';
const DAY_MS = 86_400_000;

export interface RetentionResult {
  inboxDeleted: number;
  outboxTrimmed: number;
  /** Chart images no outbox row shows any more. */
  blobsDeleted: number;
}

/**
 * Applies `retention:` once: deletes inbox dedup keys older than inbox_days and empties the
 * bodies of outbox rows sent more than sent_outbox_days ago (chart images are most of those
 * bytes). Each batch of `batch` rows is its own statement (its own short transaction), so the
 * job never holds SQLite's write lock for long.
 */
export async function applyRetention(db: Db, config: Config, nowMs: number): Promise<RetentionResult> {
  const r = config.raw.retention;
  const inboxBefore = new Date(nowMs - r.inbox_days * DAY_MS).toISOString();
  const sentBefore = new Date(nowMs - r.sent_outbox_days * DAY_MS).toISOString();
  const result: RetentionResult = { inboxDeleted: 0, outboxTrimmed: 0, blobsDeleted: 0 };
  for (;;) {
    const batch = db.selectFrom('inbox').select('key').where('received_at', '<', inboxBefore).orderBy('received_at').limit(r.batch);
    const deleted = Number((await db.deleteFrom('inbox').where('key', 'in', batch).executeTakeFirst()).numDeletedRows);
    result.inboxDeleted += deleted;
    if (deleted < r.batch) break;
  }
  for (;;) {
    const batch = db
      .selectFrom('outbox')
      .select('id')
      .where('sent_at', 'is not', null)
      .where('sent_at', '<', sentBefore)
      .where('status', '=', 'sent')
      .where('payload', '<>', TRIMMED_PAYLOAD)
      .orderBy('sent_at')
      .limit(r.batch);
    const trimmed = Number((await db.updateTable('outbox').set({ payload: sql`${TRIMMED_PAYLOAD}` }).where('id', 'in', batch).executeTakeFirst()).numUpdatedRows);
    result.outboxTrimmed += trimmed;
    if (trimmed < r.batch) break;
  }
  result.blobsDeleted = await deleteUnreferencedBlobs(db, TRIMMED_PAYLOAD, r.batch);
  return result;
}

/** The daily housekeeping job: the work happens in the read half, outside the scheduler's transaction. */
export function retentionJob(ctx: { db: Db; config: Config; logger: Logger }): RecurringJob {
  const time = ctx.config.raw.retention.time;
  return {
    id: RETENTION_JOB_ID,
    every: `daily ${time} UTC`,
    nextRun: (nowIso) => nextDailyRun(nowIso, time, 'UTC'),
    read: (now) => applyRetention(ctx.db, ctx.config, Date.parse(now)),
    async run(_tx, _now, { read }) {
      ctx.logger.info({ job: RETENTION_JOB_ID, ...(read as RetentionResult | undefined) }, 'retention applied');
    },
  };
}

/** Row counts of the tables that grow, for /metrics. */
export const SIZED_TABLES = ['tickets', 'audit_events', 'messages', 'chat_links', 'inbox', 'outbox', 'report_cells', 'report_contributions', 'blobs'] as const;

export async function tableSizes(db: DbOrTx): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of SIZED_TABLES) {
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    out[table] = Number(row?.n ?? 0);
  }
  return out;
}
