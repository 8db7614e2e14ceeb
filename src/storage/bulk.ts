import { CompiledQuery, PostgresAdapter, type Insertable } from 'kysely';
import type { DbOrTx } from './database';
import type { Database } from './tables';

/**
 * Multi-row INSERTs for bulk loads (ticketbot import), built as SQL text once per table, column
 * list and row count and run as compiled queries. Kysely's builder parses every value of every
 * row into an operation tree and compiles it anew: for a 500-row, 24-column insert that cost more
 * than SQLite's own work (profiled: bench/RESULTS.md, import). The text is the same for every
 * full chunk, so SQLite's statement cache (storage/database.ts) prepares it once.
 *
 * Rows must all have the keys of the first row; values are strings, numbers, buffers or null.
 */

/** Bound parameters per statement: SQLite allows 32,766; PostgreSQL 65,535. */
const MAX_PARAMETERS = { sqlite: 32_000, postgres: 60_000 } as const;
const MAX_ROWS = 1000;

const texts = new Map<string, string>();

function insertText(pg: boolean, table: string, columns: readonly string[], rows: number): string {
  const key = `${pg ? 'p' : 's'}\u0001${table}\u0001${columns.join(',')}\u0001${rows}`;
  let text = texts.get(key);
  if (text === undefined) {
    const quoted = columns.map((c) => `"${c}"`).join(', ');
    const tuples: string[] = [];
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const marks: string[] = [];
      for (let c = 0; c < columns.length; c++) marks.push(pg ? `$${++n}` : '?');
      tuples.push(`(${marks.join(', ')})`);
    }
    text = `insert into "${table}" (${quoted}) values ${tuples.join(', ')}`;
    if (texts.size >= 200) texts.delete(texts.keys().next().value!);
    texts.set(key, text);
  }
  return text;
}

/** Inserts the rows in as few statements as the parameter limit allows. */
export async function bulkInsert<T extends keyof Database & string>(db: DbOrTx, table: T, rows: readonly Insertable<Database[T]>[] | readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  // Chunks of a power of two rows (the largest within the limits, then halves for the rest):
  // a few distinct statements per table, each prepared once and cached, whatever the row counts.
  let largest = 1;
  while (largest * 2 <= MAX_ROWS && largest * 2 * columns.length <= MAX_PARAMETERS[pg ? 'postgres' : 'sqlite']) largest *= 2;
  for (let i = 0; i < rows.length; ) {
    let size = largest;
    while (size > rows.length - i) size /= 2;
    const chunk = rows.slice(i, i + size) as readonly Record<string, unknown>[];
    i += size;
    const parameters: unknown[] = new Array(chunk.length * columns.length);
    let p = 0;
    for (const row of chunk) for (const c of columns) parameters[p++] = row[c] ?? null;
    await db.executeQuery(CompiledQuery.raw(insertText(pg, table, columns, chunk.length), parameters));
  }
}
