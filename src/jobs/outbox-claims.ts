import { withBlobs } from '../storage/blobs';
import type { Selectable } from 'kysely';
import type { Db, DbOrTx } from '../storage/database';
import type { OutboxRow } from '../storage/tables';
import { isoPlus, type TimerLease } from './timer-claims';

/** An outbox row as read from the database. */
export type OutboxRecord = Selectable<OutboxRow>;
export type OutboxLease = TimerLease;

/** Outbox statuses: waiting (or retrying), delivered, parked after the retry budget. */
export const OUTBOX_PENDING = 'pending';
export const OUTBOX_SENT = 'sent';
export const OUTBOX_FAILED = 'failed';

export interface ClaimOutboxOptions {
  platform: string;
  owner: string;
  now: string;
  leaseMs: number;
  limit: number;
  /** Targets the pacer holds back right now; their rows stay unclaimed. */
  excludeTargets?: readonly string[];
  /** At most this many rows per target (default: no limit). */
  perTarget?: number;
}

/**
 * Claims pending rows of one platform that are due, unleased and first in line of their
 * order_key (no earlier row of the same key still pending: a retrying row holds back the ones
 * after it; a parked row does not), at most `perTarget` per target — the pacer would hand the
 * rest straight back, and on PostgreSQL every needless claim leaves a dead row version.
 *
 * A read of candidates, then one compare-and-set update whose WHERE repeats the pending, due and
 * free-lease conditions: a row another replica claimed meanwhile is simply not returned (on
 * PostgreSQL the update waits for that replica's row lock, then re-checks the conditions).
 */
export async function claimOutbox(db: Db, o: ClaimOutboxOptions): Promise<OutboxRecord[]> {
  const leaseUntil = isoPlus(o.now, o.leaseMs);
  const exclude = o.excludeTargets ?? [];
  let candidates = db
    .selectFrom('outbox as o')
    .select(['o.id', 'o.target_id'])
    .where('o.status', '=', OUTBOX_PENDING)
    .where('o.platform', '=', o.platform)
    .where('o.next_attempt_at', '<=', o.now)
    .where((w) => w.or([w('o.lease_until', 'is', null), w('o.lease_until', '<', o.now)]))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('outbox as e')
            .select('e.id')
            .whereRef('e.order_key', '=', 'o.order_key')
            .where('e.status', '=', OUTBOX_PENDING)
            .where((e) =>
              e.or([
                e('e.created_at', '<', e.ref('o.created_at')),
                e.and([e('e.created_at', '=', e.ref('o.created_at')), e('e.id', '<', e.ref('o.id'))]),
              ]),
            ),
        ),
      ),
    )
    .orderBy('o.next_attempt_at')
    .orderBy('o.created_at')
    .orderBy('o.id')
    .limit(o.limit);
  if (exclude.length > 0) candidates = candidates.where('o.target_id', 'not in', [...exclude]);

  const perTarget = new Map<string, number>();
  const ids: string[] = [];
  for (const c of await candidates.execute()) {
    const n = perTarget.get(c.target_id) ?? 0;
    if (o.perTarget !== undefined && n >= o.perTarget) continue;
    perTarget.set(c.target_id, n + 1);
    ids.push(c.id);
  }
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('outbox')
    .set({ lease_owner: o.owner, lease_until: leaseUntil })
    .where('id', 'in', ids)
    .where('status', '=', OUTBOX_PENDING)
    .where('next_attempt_at', '<=', o.now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', o.now)]))
    .returningAll()
    .execute();
  // A digest's chart is stored once and named by its rows: the senders get it in the payload.
  return (await withBlobs(db, rows)).sort(byCreation);
}

export function byCreation(a: OutboxRecord, b: OutboxRecord): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Conditional on our claim: counts the attempt before the request goes out. Undefined when the claim is gone. */
export async function startAttempt(db: DbOrTx, id: string, lease: OutboxLease): Promise<number | undefined> {
  const row = await db
    .updateTable('outbox')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .where('status', '=', OUTBOX_PENDING)
    .returning('attempts')
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.attempts);
}

export async function markSent(db: DbOrTx, id: string, lease: OutboxLease, now: string): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ status: OUTBOX_SENT, sent_at: now, lease_owner: null, lease_until: null, last_error: null })
    .where('id', '=', id)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Schedules another try at `retryAt`. `uncountAttempt` takes back the attempt counted by
 * startAttempt: a rate-limited request was refused outright, so it neither used the retry
 * budget nor can have been delivered.
 */
export async function scheduleRetry(db: DbOrTx, id: string, lease: OutboxLease, retryAt: string, error: string, uncountAttempt: boolean): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set((eb) => ({
      next_attempt_at: retryAt,
      lease_owner: null,
      lease_until: null,
      last_error: error,
      ...(uncountAttempt ? { attempts: eb('attempts', '-', 1) } : {}),
    }))
    .where('id', '=', id)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markFailed(db: DbOrTx, id: string, lease: OutboxLease, error: string): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ status: OUTBOX_FAILED, lease_owner: null, lease_until: null, last_error: error })
    .where('id', '=', id)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Hands claimed rows back untouched (the pacer held their target, or we are stopping). */
export async function releaseOutboxLeases(db: DbOrTx, ids: string[], lease: OutboxLease): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db
    .updateTable('outbox')
    .set({ lease_owner: null, lease_until: null })
    .where('id', 'in', ids)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export interface OutboxHealth {
  platform: string;
  pending: number;
  failed: number;
  /** Age of the oldest pending row in ms (0 when none). */
  oldestPendingAgeMs: number;
}

/** Depth, parked count and oldest pending age per platform, shared by all replicas (for /healthz and /metrics). */
export async function outboxHealth(db: DbOrTx, now: string): Promise<OutboxHealth[]> {
  const rows = await db
    .selectFrom('outbox')
    .select((eb) => ['platform', 'status', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('status', 'in', [OUTBOX_PENDING, OUTBOX_FAILED])
    .groupBy(['platform', 'status'])
    .execute();
  const byPlatform = new Map<string, OutboxHealth>();
  const nowMs = Date.parse(now);
  for (const r of rows) {
    const h = byPlatform.get(r.platform) ?? { platform: r.platform, pending: 0, failed: 0, oldestPendingAgeMs: 0 };
    if (r.status === OUTBOX_PENDING) {
      h.pending = Number(r.n);
      h.oldestPendingAgeMs = r.oldest ? Math.max(0, nowMs - Date.parse(String(r.oldest))) : 0;
    } else h.failed = Number(r.n);
    byPlatform.set(r.platform, h);
  }
  return [...byPlatform.values()].sort((a, b) => a.platform.localeCompare(b.platform));
}
