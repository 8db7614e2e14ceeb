import type { DbOrTx } from '../database';
import { markRollupDirty, markRollupNew } from './dirty';
import { insertRows } from '../rows';
import type { LegRow, TicketFieldRow, TicketRow } from '../tables';

/** Thrown when a conditional update finds the row changed; the use case runner retries. */
export class VersionConflict extends Error {
  constructor(readonly ticketId: string) {
    super(`ticket ${ticketId} changed concurrently`);
    this.name = 'VersionConflict';
  }
}

export async function findTicket(db: DbOrTx, keyOrId: string): Promise<TicketRow | undefined> {
  const upper = keyOrId.trim().toUpperCase();
  const byKey = await db.selectFrom('tickets').selectAll().where('key', '=', upper).executeTakeFirst();
  if (byKey) return byKey;
  return db.selectFrom('tickets').selectAll().where('id', '=', keyOrId.trim()).executeTakeFirst();
}

export async function insertTicket(db: DbOrTx, row: TicketRow): Promise<void> {
  markRollupNew(db, row.id);
  await insertRows(db, 'tickets', [row]);
}

/**
 * Writes the changed columns only if nobody changed the ticket since it was read
 * (`WHERE version = expected`), and bumps the version. Two replicas never both apply a change.
 */
export async function updateTicket(db: DbOrTx, before: TicketRow, changes: Partial<Omit<TicketRow, 'id' | 'version'>>): Promise<TicketRow> {
  const result = await db
    .updateTable('tickets')
    .set({ ...changes, version: before.version + 1 })
    .where('id', '=', before.id)
    .where('version', '=', before.version)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new VersionConflict(before.id);
  markRollupDirty(db, before.id);
  return { ...before, ...changes, version: before.version + 1 };
}

/** Next number of a key prefix; the row update serialises concurrent creators, so numbers never repeat. */
export async function nextKeyNumber(db: DbOrTx, prefix: string): Promise<number> {
  const bump = () =>
    db
      .updateTable('key_sequences')
      .set((eb) => ({ last_value: eb('last_value', '+', 1) }))
      .where('prefix', '=', prefix)
      .returning('last_value')
      .executeTakeFirst();
  let row = await bump();
  if (!row) {
    await db.insertInto('key_sequences').values({ prefix, last_value: 1000 }).onConflict((oc) => oc.column('prefix').doNothing()).execute();
    row = await bump();
  }
  return Number(row!.last_value);
}

export async function insertFields(db: DbOrTx, rows: TicketFieldRow[]): Promise<void> {
  await insertRows(db, 'ticket_fields', rows);
}

export async function listFields(db: DbOrTx, ticketId: string): Promise<TicketFieldRow[]> {
  return db.selectFrom('ticket_fields').selectAll().where('ticket_id', '=', ticketId).orderBy('field_id').execute();
}

export async function insertLeg(db: DbOrTx, row: LegRow): Promise<void> {
  markRollupDirty(db, row.ticket_id);
  await insertRows(db, 'legs', [row]);
}

export async function listLegs(db: DbOrTx, ticketId: string): Promise<LegRow[]> {
  return db.selectFrom('legs').selectAll().where('ticket_id', '=', ticketId).orderBy('seq').execute();
}

export async function findLeg(db: DbOrTx, legId: string): Promise<LegRow | undefined> {
  return db.selectFrom('legs').selectAll().where('id', '=', legId).executeTakeFirst();
}

/** Conditional leg update: only from the state the caller saw. */
export async function updateLeg(db: DbOrTx, leg: LegRow, changes: Partial<Omit<LegRow, 'id'>>): Promise<LegRow> {
  const result = await db.updateTable('legs').set(changes).where('id', '=', leg.id).where('state', '=', leg.state).executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new VersionConflict(leg.ticket_id);
  markRollupDirty(db, leg.ticket_id);
  return { ...leg, ...changes };
}

/** Open tickets per assignee among `userIds` (for least_active routing and capacity). */
export async function openCountsByAssignee(db: DbOrTx, userIds: string[]): Promise<Map<string, { open: number; lastAssignedAt: string | null }>> {
  const out = new Map<string, { open: number; lastAssignedAt: string | null }>();
  if (userIds.length === 0) return out;
  const rows = await db
    .selectFrom('tickets')
    .select((eb) => ['assignee_id', eb.fn.countAll<number>().as('open'), eb.fn.max('updated_at').as('last')])
    .where('assignee_id', 'in', userIds)
    .where('state', 'in', ['assigned', 'in_progress', 'waiting_on_requester'])
    .groupBy('assignee_id')
    .execute();
  for (const r of rows) out.set(r.assignee_id!, { open: Number(r.open), lastAssignedAt: (r.last as string | null) ?? null });
  return out;
}
