import { Kysely, sql } from 'kysely';

/**
 * Covering indexes for the report queries (issue: a department summary under a second). Measured
 * on 1,000,000 tickets (bench/reports.ts): the time went into reading 200,000 ticket rows by
 * random rowid and into five correlated look-ups per ticket. With these indexes:
 *
 * - `tickets_report`: a department's tickets in id order with every column the metrics read, so
 *   the ticket scan never touches the table, and the per-ticket look-ups below (all keyed by
 *   ticket id) walk their indexes in order instead of jumping around them;
 * - `clocks_ticket_kind`: the calendar of a ticket's first-response / resolution clock, and whether
 *   a ticket's clocks completed in a period on time or late;
 * - `audit_events_ticket_action`: resolutions and reopenings of a ticket in a period;
 *
 * each answered from the index alone.
 */
const INDEXES: [name: string, table: string, columns: string[]][] = [
  [
    'tickets_report',
    'tickets',
    ['department_id', 'id', 'created_at', 'first_response_at', 'resolved_at', 'closed_at', 'state', 'category_id', 'priority', 'assignee_id', 'public_reply_count', 'reopen_count'],
  ],
  ['clocks_ticket_kind', 'clocks', ['ticket_id', 'kind', 'calendar_id', 'leg_id', 'met_at', 'breached_at']],
  ['audit_events_ticket_action', 'audit_events', ['ticket_id', 'action', 'at']],
];

/**
 * Leg clocks count for the leg's department, not the ticket's: they are found by the instant
 * they completed, and these partial indexes hold only leg clocks (a fifth of all clocks in the
 * benchmark) with what the tally reads.
 */
const LEG_CLOCKS: [name: string, columns: string[]][] = [
  ['clocks_leg_met', ['met_at', 'leg_id', 'ticket_id', 'kind', 'breached_at']],
  ['clocks_leg_breached', ['breached_at', 'leg_id', 'ticket_id', 'kind', 'met_at']],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, columns] of INDEXES) await db.schema.createIndex(name).on(table).columns(columns).execute();
  for (const [name, columns] of LEG_CLOCKS) await db.schema.createIndex(name).on('clocks').columns(columns).where(sql.ref('leg_id'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of [...INDEXES, ...LEG_CLOCKS]) await db.schema.dropIndex(name).ifExists().execute();
}
