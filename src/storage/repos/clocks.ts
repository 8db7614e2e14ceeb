import type { DbOrTx } from '../database';
import { markRollupDirty } from './dirty';
import { insertRows } from '../rows';
import type { ClockRow, TimerRow } from '../tables';

export async function listClocks(db: DbOrTx, ticketId: string): Promise<ClockRow[]> {
  return db.selectFrom('clocks').selectAll().where('ticket_id', '=', ticketId).orderBy('started_at').orderBy('id').execute();
}

export async function findClock(db: DbOrTx, id: string): Promise<ClockRow | undefined> {
  return db.selectFrom('clocks').selectAll().where('id', '=', id).executeTakeFirst();
}

const TIMER_UPDATE: readonly (keyof TimerRow)[] = ['next_action_at', 'payload', 'updated_at'];

export async function upsertClock(db: DbOrTx, row: ClockRow): Promise<void> {
  markRollupDirty(db, row.ticket_id);
  // An upsert of a clock writes the whole row: every column but the id.
  await insertRows(db, 'clocks', [row], { column: 'id', update: Object.keys(row).filter((c) => c !== 'id' && row[c as keyof ClockRow] !== undefined) });
}

/** One timer per clock (and per ticket job); `next_action_at` null means nothing to do. */
export async function upsertTimer(db: DbOrTx, row: Omit<TimerRow, 'lease_owner' | 'lease_until'>): Promise<void> {
  await insertRows(db, 'timers', [{ ...row, lease_owner: null, lease_until: null }], { column: 'id', update: TIMER_UPDATE });
}

export async function findTimer(db: DbOrTx, id: string): Promise<TimerRow | undefined> {
  return db.selectFrom('timers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function firedKeys(db: DbOrTx, clockId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('escalation_firings').select('key').where('clock_id', '=', clockId).execute();
  return new Set(rows.map((r) => r.key));
}

/** Records a firing; false when another replica recorded it first (then it must not notify). */
export async function recordFiring(db: DbOrTx, row: { key: string; clock_id: string; ticket_id: string; cycle: number; level: number; repeat: number; fired_at: string }): Promise<boolean> {
  const result = await db
    .insertInto('escalation_firings')
    .values(row)
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}
