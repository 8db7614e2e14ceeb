import type { DbOrTx } from '../storage/database';
import type { AuditEventRow, ClockRow, LegRow, TicketRow } from '../storage/tables';

/**
 * What a ticket's history is made of (issue 17 item 5): the ticket, its legs, clocks and audit
 * trail, read in one go. `historyView` (src/chat/history.ts) puts it in words; `ticketbot show`,
 * the dashboard's ticket page and (phase 2) the card's History button read it here.
 */
export interface TicketHistory {
  ticket: TicketRow;
  legs: LegRow[];
  clocks: ClockRow[];
  events: AuditEventRow[];
}

/** Display names of everyone in the trail (for the localised history). */
export async function userNames(db: DbOrTx, h: TicketHistory): Promise<Record<string, string>> {
  const ids = [...new Set([h.ticket.requester_id, ...h.events.map((e) => e.actor_id), ...h.events.flatMap((e) => (e.data && /"assignee"/.test(e.data) ? [String(JSON.parse(e.data).assignee)] : []))])];
  const rows = ids.length ? await db.selectFrom('users').select(['id', 'name', 'platform_user_id']).where('id', 'in', ids).execute() : [];
  return Object.fromEntries(rows.map((r) => [r.id, r.name ?? r.platform_user_id]));
}

export async function loadTicketHistory(db: DbOrTx, key: string): Promise<TicketHistory | undefined> {
  const ticket = await db.selectFrom('tickets').selectAll().where('key', '=', key).executeTakeFirst();
  if (!ticket) return undefined;
  const [legs, clocks, events] = await Promise.all([
    db.selectFrom('legs').selectAll().where('ticket_id', '=', ticket.id).orderBy('seq').execute(),
    db.selectFrom('clocks').selectAll().where('ticket_id', '=', ticket.id).orderBy('started_at').orderBy('id').execute(),
    db.selectFrom('audit_events').selectAll().where('ticket_id', '=', ticket.id).orderBy('at').orderBy('id').execute(),
  ]);
  return { ticket, legs, clocks, events };
}

