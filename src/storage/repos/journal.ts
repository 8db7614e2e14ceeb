import type { DbOrTx } from '../database';
import { markRollupDirty } from './dirty';
import { insertRows } from '../rows';
import type { AuditEventRow, MessageRow, OutboxRow } from '../tables';

export async function insertAudit(db: DbOrTx, row: AuditEventRow): Promise<void> {
  if (row.ticket_id) markRollupDirty(db, row.ticket_id);
  await insertRows(db, 'audit_events', [row]);
}

export async function listAudit(db: DbOrTx, ticketId: string): Promise<AuditEventRow[]> {
  return db.selectFrom('audit_events').selectAll().where('ticket_id', '=', ticketId).orderBy('at').orderBy('id').execute();
}

export async function insertMessage(db: DbOrTx, row: MessageRow): Promise<void> {
  await db.insertInto('messages').values(row).execute();
}

export async function listMessages(db: DbOrTx, ticketId: string, limit = 50): Promise<MessageRow[]> {
  return db.selectFrom('messages').selectAll().where('ticket_id', '=', ticketId).orderBy('created_at').orderBy('id').limit(limit).execute();
}

export type OutboxInsert = Omit<OutboxRow, 'attempts'>;

/** What a writer decides about an outbox row; the rest is the same for every new row. */
export type OutboxIntent = Pick<OutboxInsert, 'id' | 'idempotency_key' | 'platform' | 'target_kind' | 'target_id' | 'event' | 'payload' | 'locale' | 'order_key'> &
  Partial<Pick<OutboxInsert, 'ticket_id' | 'ticket_version' | 'urgent' | 'next_attempt_at'>>;

/** A new pending row, sendable from `next_attempt_at` (default: now). */
export function pendingOutboxRow(intent: OutboxIntent, now: string): OutboxInsert {
  return {
    ticket_id: null,
    ticket_version: null,
    urgent: 0,
    next_attempt_at: now,
    ...intent,
    status: 'pending',
    lease_owner: null,
    lease_until: null,
    last_error: null,
    created_at: now,
    sent_at: null,
  };
}

/** Adds outbox rows; a row whose idempotency key exists already is skipped (never sent twice). */
export async function insertOutbox(db: DbOrTx, rows: OutboxInsert[]): Promise<void> {
  await insertRows(db, 'outbox', rows, { column: 'idempotency_key' });
}

/**
 * Records an inbound event key. Returns false when it was seen before: the caller then does
 * nothing. Runs inside the use case's transaction, so a failed attempt leaves no key behind.
 */
export async function recordInbound(db: DbOrTx, key: string, now: string): Promise<boolean> {
  return (await insertRows(db, 'inbox', [{ key, received_at: now, result: null }], { column: 'key' })) === 1;
}

export async function storeInboundResult(db: DbOrTx, key: string, result: string): Promise<void> {
  await db.updateTable('inbox').set({ result }).where('key', '=', key).execute();
}

export async function inboundResult(db: DbOrTx, key: string): Promise<string | null | undefined> {
  const row = await db.selectFrom('inbox').select('result').where('key', '=', key).executeTakeFirst();
  return row?.result;
}
