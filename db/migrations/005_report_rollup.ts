import { Kysely, PostgresAdapter } from 'kysely';

/**
 * The report rollup (src/reports/rollup.ts): per report day, department, category and priority,
 * the counts and business durations the metrics need, kept by the use cases in the transactions
 * that change tickets. A summary reads days × departments × categories × priorities cells instead
 * of every ticket.
 *
 * - report_cells: one row per (kind, day, department, from department, category, priority, label);
 *   `n` is a count (or a sum of scores), `vals` the durations (float64 little-endian, unordered)
 *   for the duration kinds. Empty strings, not NULLs, in the key so the primary key is plain.
 * - report_contributions: what each ticket last added to the cells (JSON), so a change is applied
 *   as a difference.
 * - report_rollup_meta: the fingerprint of the config the cells were built with (report zone,
 *   calendars, departments' calendars); a different one means "rebuild before use".
 */
export async function up(db: Kysely<any>): Promise<void> {
  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('report_cells')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('department_id', 'text', (c) => c.notNull())
    .addColumn('from_department_id', 'text', (c) => c.notNull())
    .addColumn('category_id', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addColumn('vals', binary)
    .addPrimaryKeyConstraint('report_cells_pk', ['day', 'kind', 'department_id', 'from_department_id', 'category_id', 'priority', 'label'])
    .execute();
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
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('report_rollup_meta').ifExists().execute();
  await db.schema.dropTable('report_contributions').ifExists().execute();
  await db.schema.dropTable('report_cells').ifExists().execute();
}
