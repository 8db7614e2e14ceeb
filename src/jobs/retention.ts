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
  /** Knowledge-base offers never answered, older than deflection_days (with their shown articles). */
  deflectionsDeleted: number;
  /** Web-form uploads of tickets closed more than intake_file_days ago (or shown by no ticket). */
  intakeFilesDeleted: number;
}

/**
 * Applies `retention:` once: deletes inbox dedup keys older than inbox_days, empties the
 * bodies of outbox rows sent more than sent_outbox_days ago (chart images are most of those
 * bytes), deletes knowledge-base offers nobody answered after deflection_days and web-form
 * uploads intake_file_days after their ticket was closed. Each batch of `batch` rows is its own statement (its own short transaction), so the
 * job never holds SQLite's write lock for long.
 */
export async function applyRetention(db: Db, config: Config, nowMs: number): Promise<RetentionResult> {
  const r = config.raw.retention;
  const inboxBefore = new Date(nowMs - r.inbox_days * DAY_MS).toISOString();
  const sentBefore = new Date(nowMs - r.sent_outbox_days * DAY_MS).toISOString();
  const result: RetentionResult = { inboxDeleted: 0, outboxTrimmed: 0, blobsDeleted: 0, deflectionsDeleted: 0, intakeFilesDeleted: 0 };
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
  result.deflectionsDeleted = await deleteUnansweredDeflections(db, new Date(nowMs - r.deflection_days * DAY_MS).toISOString(), r.batch);
  result.intakeFilesDeleted = await deleteClosedTicketFiles(db, new Date(nowMs - r.intake_file_days * DAY_MS).toISOString(), r.batch);
  return result;
}

/**
 * Offers still `shown` (nobody answered "Solved" or "Still need help") created before `before`:
 * their shown articles first, then the offers, a batch at a time (kb_deflections_created). An
 * interrupted batch leaves offers without articles, which the next run deletes.
 */
async function deleteUnansweredDeflections(db: Db, before: string, batch: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = (await db.selectFrom('kb_deflections').select('id').where('created_at', '<', before).where('outcome', '=', 'shown').orderBy('created_at').limit(batch).execute()).map((r) => r.id);
    if (ids.length === 0) break;
    await db.deleteFrom('kb_deflection_articles').where('deflection_id', 'in', ids).execute();
    deleted += Number((await db.deleteFrom('kb_deflections').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
    if (ids.length < batch) break;
  }
  return deleted;
}

/** How long after an upload the web form's ticket (and its message naming the file) is written. */
const FILE_TO_MESSAGE_MS = DAY_MS;

/**
 * Web-form uploads (intake_files) uploaded before `before` whose tickets were all closed before
 * `before`, or that no ticket shows (the form failed after the upload). A file is named by the
 * message its ticket was created with (`/files/<id>?` in its attachments), written just after the
 * upload: it is found among the messages with attachments of the following day (the partial index
 * messages_attachments_created of migration 015), not by a scan of every message. Files of open
 * tickets stay and are looked at again the next day.
 */
async function deleteClosedTicketFiles(db: Db, before: string, batch: number): Promise<number> {
  let deleted = 0;
  let after = { created_at: '', id: '' };
  for (;;) {
    const files = await db
      .selectFrom('intake_files')
      .select(['id', 'created_at'])
      .where('created_at', '<', before)
      .where((eb) => eb.or([eb('created_at', '>', after.created_at), eb.and([eb('created_at', '=', after.created_at), eb('id', '>', after.id)])]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(batch)
      .execute();
    if (files.length === 0) break;
    after = files.at(-1)!;
    const expired: string[] = [];
    for (const f of files) {
      const tickets = await db
        .selectFrom('messages as m')
        .innerJoin('tickets as t', 't.id', 'm.ticket_id')
        .select(['t.state', 't.closed_at'])
        // A literal, not a parameter: the planner must see that the partial index applies.
        .where(sql<boolean>`m.attachments <> '[]'`)
        .where('m.created_at', '>=', f.created_at)
        .where('m.created_at', '<', new Date(Date.parse(f.created_at) + FILE_TO_MESSAGE_MS).toISOString())
        .where('m.attachments', 'like', `%/files/${f.id}?%`)
        .execute();
      if (tickets.every((t) => t.state === 'closed' && t.closed_at !== null && t.closed_at < before)) expired.push(f.id);
    }
    if (expired.length) deleted += Number((await db.deleteFrom('intake_files').where('id', 'in', expired).executeTakeFirst()).numDeletedRows);
    if (files.length < batch) break;
  }
  return deleted;
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
export const SIZED_TABLES = [
  'tickets', 'audit_events', 'messages', 'chat_links', 'inbox', 'outbox', 'report_cells', 'report_contributions', 'blobs', 'kb_deflections', 'kb_deflection_articles', 'intake_files',
] as const;

export async function tableSizes(db: DbOrTx): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of SIZED_TABLES) {
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    out[table] = Number(row?.n ?? 0);
  }
  return out;
}
