import { Kysely, sql } from 'kysely';

/**
 * Indexes for reports (issue 8): every metric selects rows by the instant something happened in a
 * period (answered, resolved, closed, leg opened, survey answered, clock met or breached), so
 * each of those columns gets an index; a department's tickets by creation time get a composite.
 */
const INDEXES: [name: string, table: string, columns: string[]][] = [
  ['tickets_dept_created', 'tickets', ['department_id', 'created_at']],
  ['legs_opened', 'legs', ['opened_at']],
  ['legs_dept_opened', 'legs', ['department_id', 'opened_at']],
  ['legs_from_dept_opened', 'legs', ['from_department_id', 'opened_at']],
  ['surveys_answered', 'surveys', ['answered_at']],
  ['feedback_created', 'feedback', ['created_at']],
];

/**
 * Instants that are null while a ticket or clock is open get partial indexes: creating a ticket
 * then writes no page of them (a range condition in a query implies IS NOT NULL, so both SQLite
 * and PostgreSQL use them).
 */
const WHEN_SET: [name: string, table: string, column: string][] = [
  ['tickets_first_response', 'tickets', 'first_response_at'],
  ['tickets_resolved', 'tickets', 'resolved_at'],
  ['tickets_closed', 'tickets', 'closed_at'],
  ['clocks_met', 'clocks', 'met_at'],
  ['clocks_breached', 'clocks', 'breached_at'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, columns] of INDEXES) await db.schema.createIndex(name).on(table).columns(columns).execute();
  for (const [name, table, column] of WHEN_SET) await db.schema.createIndex(name).on(table).column(column).where(sql.ref(column), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of [...INDEXES, ...WHEN_SET]) await db.schema.dropIndex(name).ifExists().execute();
}
