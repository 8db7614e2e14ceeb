import { Kysely, sql } from 'kysely';

/**
 * Every report period is now served from the rollup (src/reports/queries.ts loadMetrics): whole
 * report days from the cells, the parts of days at a period's edges from the contributions of the
 * few tickets with something in those hours, found through the small indexes on each instant
 * (migration 002's partial indexes, tickets_created, audit_events_action_at, legs_opened). The
 * covering indexes that let the row path read every ticket of a period quickly are no longer read
 * by any query, and each cost index pages on every ticket write (creation writes ~25 index
 * entries a ticket; these were 6 of them, the widest):
 *
 * - tickets_report (12 columns): the row path's ticket scan (tickets_dept_created stays: the
 *   worklists' "created in the period" drill-down of one department reads it);
 * - clocks_ticket_kind, clocks_leg_met, clocks_leg_breached: its clock look-ups and leg clocks
 *   (clocks_ticket, clocks_met and clocks_breached stay);
 * - audit_events_ticket_action: its audit counts (audit_events_ticket and
 *   audit_events_action_at stay);
 * - legs_dept_opened_report, legs_from_dept_opened_report: its legs, replaced for the distinct
 *   handed-off tickets (a SQL aggregate in every summary) by `legs_handoff_opened`, a partial
 *   index of handoff legs only: a ticket's first leg (written at creation) has no entry.
 *
 * The row path itself (loadMetricsFromRows) stays as the tests' oracle; it still works, slower.
 * Also two small indexes for the retention of web-form uploads (see up()).
 */
const DROPPED: [name: string, table: string, columns: string[], where?: string][] = [
  ['tickets_report', 'tickets', ['department_id', 'id', 'created_at', 'first_response_at', 'resolved_at', 'closed_at', 'state', 'category_id', 'priority', 'assignee_id', 'public_reply_count', 'reopen_count']],
  ['clocks_ticket_kind', 'clocks', ['ticket_id', 'kind', 'calendar_id', 'leg_id', 'met_at', 'breached_at']],
  ['clocks_leg_met', 'clocks', ['met_at', 'leg_id', 'ticket_id', 'kind', 'breached_at'], 'leg_id'],
  ['clocks_leg_breached', 'clocks', ['breached_at', 'leg_id', 'ticket_id', 'kind', 'met_at'], 'leg_id'],
  ['audit_events_ticket_action', 'audit_events', ['ticket_id', 'action', 'at']],
  ['legs_dept_opened_report', 'legs', ['department_id', 'opened_at', 'from_department_id', 'id', 'ticket_id', 'seq', 'state', 'return_reason', 'accepted_at', 'closed_at']],
  ['legs_from_dept_opened_report', 'legs', ['from_department_id', 'opened_at', 'department_id', 'id', 'ticket_id', 'seq', 'state', 'return_reason', 'accepted_at', 'closed_at']],
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('legs_handoff_opened')
    .on('legs')
    .columns(['opened_at', 'department_id', 'from_department_id', 'ticket_id', 'state', 'return_reason'])
    .where(sql.ref('from_department_id'), 'is not', null)
    .execute();
  for (const [name] of DROPPED) await db.schema.dropIndex(name).ifExists().execute();
  // Retention of web-form uploads (src/jobs/retention.ts): old files in upload order, and the
  // message naming each among the few messages with attachments (partial: other messages, most
  // of them, have no entry).
  await db.schema.createIndex('intake_files_created').on('intake_files').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('messages_attachments_created').on('messages').column('created_at').where(sql.ref('attachments'), '<>', '[]').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('messages_attachments_created').ifExists().execute();
  await db.schema.dropIndex('intake_files_created').ifExists().execute();
  for (const [name, table, columns, notNull] of DROPPED) {
    const index = db.schema.createIndex(name).ifNotExists().on(table).columns(columns);
    await (notNull ? index.where(sql.ref(notNull), 'is not', null) : index).execute();
  }
  await db.schema.dropIndex('legs_handoff_opened').ifExists().execute();
}
