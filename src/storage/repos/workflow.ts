import type { DbOrTx } from '../database';
import type { TicketWatcherRow, UserSettingsRow } from '../tables';

/** Watchers of a ticket (migration 014). Adding one twice is a no-op. */
export async function addWatchers(db: DbOrTx, rows: TicketWatcherRow[]): Promise<TicketWatcherRow[]> {
  if (rows.length === 0) return [];
  const existing = await listWatchers(db, rows[0]!.ticket_id);
  const known = new Set(existing.map((w) => w.user_ref));
  const fresh = rows.filter((r) => !known.has(r.user_ref) && (known.add(r.user_ref), true));
  if (fresh.length) await db.insertInto('ticket_watchers').values(fresh).onConflict((oc) => oc.columns(['ticket_id', 'user_ref']).doNothing()).execute();
  return fresh;
}

export async function listWatchers(db: DbOrTx, ticketId: string): Promise<TicketWatcherRow[]> {
  return db.selectFrom('ticket_watchers').selectAll().where('ticket_id', '=', ticketId).orderBy('added_at').orderBy('user_ref').execute();
}

export async function findUserSettings(db: DbOrTx, userId: string): Promise<UserSettingsRow | undefined> {
  return db.selectFrom('user_settings').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function saveQuietHours(db: DbOrTx, row: UserSettingsRow): Promise<void> {
  await db
    .insertInto('user_settings')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ quiet_start: row.quiet_start, quiet_end: row.quiet_end, quiet_zone: row.quiet_zone, updated_at: row.updated_at }))
    .execute();
}
