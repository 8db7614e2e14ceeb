import type { Db, DbOrTx, DialectName } from '../storage/database';
import type { TimerRow } from '../storage/tables';

/**
 * Leases on timer rows. A replica owns a timer while `lease_owner` is its id and `lease_until` lies
 * in the future; `lease_until` doubles as the claim's token (a later claim of the same row has a
 * different value), so every follow-up update names the exact claim it continues.
 *
 * Claims are always conditional updates: a plain "select due rows, then update them" lets two
 * replicas both take the same row.
 */

export interface ClaimTimersOptions {
  dialect: DialectName;
  owner: string;
  /** ISO-8601 UTC. */
  now: string;
  leaseMs: number;
  limit: number;
}

/** The lease a claim set; pass it back to every update that continues the claim. */
export interface TimerLease {
  owner: string;
  until: string;
}

export function isoPlus(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/**
 * Claims up to `limit` due timers whose lease is free, earliest first. PostgreSQL: one
 * `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so concurrent replicas take disjoint
 * rows without waiting. SQLite: a read of candidates (an idle tick never takes the write lock),
 * then one compare-and-set update whose WHERE repeats the due and free-lease conditions, so a row
 * another process claimed meanwhile is simply not returned.
 */
export async function claimDueTimers(db: Db, o: ClaimTimersOptions): Promise<TimerRow[]> {
  const leaseUntil = isoPlus(o.now, o.leaseMs);
  let claimed: TimerRow[];
  if (o.dialect === 'postgres') {
    claimed = await db
      .updateTable('timers')
      .set({ lease_owner: o.owner, lease_until: leaseUntil })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('timers')
          .select('id')
          .where('next_action_at', '<=', o.now)
          .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', o.now)]))
          .orderBy('next_action_at')
          .limit(o.limit)
          .forUpdate()
          .skipLocked(),
      )
      .where('next_action_at', '<=', o.now)
      .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', o.now)]))
      .returningAll()
      .execute();
  } else {
    const candidates = await db
      .selectFrom('timers')
      .select('id')
      .where('next_action_at', '<=', o.now)
      .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', o.now)]))
      .orderBy('next_action_at')
      .limit(o.limit)
      .execute();
    if (candidates.length === 0) return [];
    claimed = await db
      .updateTable('timers')
      .set({ lease_owner: o.owner, lease_until: leaseUntil })
      .where(
        'id',
        'in',
        candidates.map((c) => c.id),
      )
      .where('next_action_at', '<=', o.now)
      .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', o.now)]))
      .returningAll()
      .execute();
  }
  return claimed.sort((a, b) => (a.next_action_at! < b.next_action_at! ? -1 : a.next_action_at! > b.next_action_at! ? 1 : 0));
}

/**
 * Inside the timer's transaction: confirms the claim is still ours (another replica may have taken
 * the row after our lease ran out) and returns the row as it is now. On PostgreSQL the update also
 * locks the row, so a use case that moves this timer waits for us instead of being overwritten.
 */
export async function confirmTimerLease(tx: DbOrTx, id: string, lease: TimerLease, now: string): Promise<TimerRow | undefined> {
  return (await confirmTimerLeases(tx, [id], lease, now))[0];
}

/** confirmTimerLease for many timers in one statement; returns the rows still ours. */
export async function confirmTimerLeases(tx: DbOrTx, ids: string[], lease: TimerLease, now: string): Promise<TimerRow[]> {
  if (ids.length === 0) return [];
  return tx
    .updateTable('timers')
    .set({ updated_at: now })
    .where('id', 'in', ids)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .returningAll()
    .execute();
}

/** Ends a claim after the work is done: the next wake-up time, and the lease cleared. */
export async function completeTimer(tx: DbOrTx, id: string, lease: TimerLease, nextActionAt: string | null, now: string): Promise<boolean> {
  return (await completeTimers(tx, [id], lease, nextActionAt, now)) === 1;
}

/** completeTimer for timers that wake up at the same time; returns how many were still ours. */
export async function completeTimers(tx: DbOrTx, ids: string[], lease: TimerLease, nextActionAt: string | null, now: string): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tx
    .updateTable('timers')
    .set({ next_action_at: nextActionAt, lease_owner: null, lease_until: null, updated_at: now })
    .where('id', 'in', ids)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Gives a claim up. With `retryAt` the row stays unclaimable until then (a back-off after a failed
 * handler) but belongs to nobody, so any replica may take it afterwards.
 */
export async function releaseTimerLeases(db: DbOrTx, ids: string[], lease: TimerLease, now: string, retryAt: string | null = null): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .updateTable('timers')
    .set({ lease_owner: null, lease_until: retryAt, updated_at: now })
    .where('id', 'in', ids)
    .where('lease_owner', '=', lease.owner)
    .where('lease_until', '=', lease.until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Timers due now (leased or not): a gauge for /metrics; costs O(due rows) through timers_due. */
export async function countDueTimers(db: DbOrTx, now: string): Promise<number> {
  const row = await db
    .selectFrom('timers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('next_action_at', '<=', now)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
