import { Kysely, PostgresAdapter, sql, type CreateTableBuilder } from 'kysely';

/**
 * The report rollup (src/reports/rollup.ts): per report day, department, category and priority,
 * the counts and business durations the metrics need, kept by the use cases in the transactions
 * that change tickets. A summary reads days × departments × categories × priorities cells instead
 * of every ticket.
 *
 * - report_cells: one row per (report day, department, from department, category, priority): the
 *   counters, the durations (float64 little-endian, unordered) and `tallies` (JSON: clock
 *   outcomes per kind, return reasons). Empty strings, not NULLs, in the key: the key stays plain.
 * - report_contributions: what each ticket last added to the cells (JSON), so a change is applied
 *   as a difference.
 * - report_rollup_meta: the fingerprint of the config the cells were built with (report zone,
 *   calendars, departments' calendars); a different one means "rebuild before use".
 */
/** Counters of a cell (see src/reports/rollup.ts for what each counts). */
export const CELL_COUNTERS = [
  'created', 'first_responses', 'resolved', 'first_contact', 'closed', 'closed_survey', 'surveys', 'survey_score', 'survey_satisfied',
  'audit_resolved', 'audit_reopened', 'legs', 'legs_returned',
] as const;
/** Duration values of a cell. */
export const CELL_VALUES = ['fr_vals', 'res_vals', 'accept_vals', 'duration_vals'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  let cells: CreateTableBuilder<string, string> = db.schema
    .createTable('report_cells')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('department_id', 'text', (c) => c.notNull())
    .addColumn('from_department_id', 'text', (c) => c.notNull())
    .addColumn('category_id', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull());
  for (const column of CELL_COUNTERS) cells = cells.addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0));
  for (const column of CELL_VALUES) cells = cells.addColumn(column, binary);
  cells = cells.addColumn('tallies', 'text').addPrimaryKeyConstraint('report_cells_pk', ['day', 'department_id', 'from_department_id', 'category_id', 'priority']);
  // SQLite: rows stored in key order, so a summary's day range is read straight off the table.
  await (binary === 'blob' ? cells.modifyEnd(sql`without rowid`) : cells).execute();
  await db.schema
    .createTable('report_contributions')
    .addColumn('ticket_id', 'text', (c) => c.primaryKey())
    .addColumn('cells', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('report_rollup_meta')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('built_at', 'text', (c) => c.notNull())
    .execute();
  // Retention (src/jobs/retention.ts) walks these in small batches, oldest first.
  await db.schema.createIndex('inbox_received').on('inbox').column('received_at').execute();
  await db.schema.createIndex('outbox_sent').on('outbox').column('sent_at').where(sql.ref('sent_at'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_sent').ifExists().execute();
  await db.schema.dropIndex('inbox_received').ifExists().execute();
  await db.schema.dropTable('report_rollup_meta').ifExists().execute();
  await db.schema.dropTable('report_contributions').ifExists().execute();
  await db.schema.dropTable('report_cells').ifExists().execute();
}
