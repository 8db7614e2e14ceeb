import { CompiledQuery, PostgresAdapter } from 'kysely';
import type { DbOrTx } from './database';
import type { Database } from './tables';

/**
 * The hot single-row writes of a use case (a created ticket runs about ten) as SQL text built once
 * per table, column list and conflict clause, instead of kysely's builder: parsing every value into
 * an operation tree and compiling it cost more per insert than SQLite's own work (issue 16,
 * bench/RESULTS.md "Intake and ack speed"). The same text each time also hits the statement cache
 * of storage/database.ts. Columns whose value is undefined are left out, as kysely does.
 */

export interface OnConflict {
  column: string;
  /** Columns set from the inserted row when it conflicts; none: DO NOTHING. */
  update?: readonly string[];
}

const texts = new Map<string, string>();

function insertText(pg: boolean, table: string, columns: readonly string[], rows: number, conflict: OnConflict | undefined): string {
  const key = `${pg ? 'p' : 's'}\u0001${table}\u0001${columns.join(',')}\u0001${rows}\u0001${conflict ? `${conflict.column}\u0001${conflict.update?.join(',') ?? ''}` : ''}`;
  let text = texts.get(key);
  if (text === undefined) {
    let n = 0;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) tuples.push(`(${columns.map(() => (pg ? `$${++n}` : '?')).join(', ')})`);
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    if (conflict) {
      text += ` on conflict ("${conflict.column}") do `;
      text += conflict.update?.length ? `update set ${conflict.update.map((c) => `"${c}" = excluded."${c}"`).join(', ')}` : 'nothing';
    }
    if (texts.size >= 500) texts.delete(texts.keys().next().value!);
    texts.set(key, text);
  }
  return text;
}

/** Inserts the rows in one statement; returns how many were inserted or updated. */
export async function insertRows<T extends keyof Database & string>(db: DbOrTx, table: T, rows: readonly Database[T][] | readonly object[], conflict?: OnConflict): Promise<number> {
  if (rows.length === 0) return 0;
  // The columns any row defines (kysely's rule: a column some rows leave out is NULL in those).
  const seen = new Set<string>();
  for (const row of rows as readonly Record<string, unknown>[]) for (const c in row) if (row[c] !== undefined) seen.add(c);
  const columns = [...seen];
  const parameters: unknown[] = new Array(rows.length * columns.length);
  let p = 0;
  for (const row of rows as readonly Record<string, unknown>[]) for (const c of columns) parameters[p++] = row[c] ?? null;
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const result = await db.executeQuery(CompiledQuery.raw(insertText(pg, table, columns, rows.length, conflict), parameters));
  return Number(result.numAffectedRows ?? 0);
}
