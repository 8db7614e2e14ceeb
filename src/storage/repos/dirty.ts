import type { DbOrTx } from '../database';

/**
 * Tickets written through a transaction since its report rollup was last brought up to date
 * (src/reports/rollup.ts flushRollup). The repositories mark every write to a ticket's rows here.
 */
const dirty = new WeakMap<object, Set<string>>();

export function markRollupDirty(db: DbOrTx, ticketId: string): void {
  let set = dirty.get(db);
  if (!set) {
    set = new Set();
    dirty.set(db, set);
  }
  set.add(ticketId);
}

/** The tickets marked through `db`, forgetting them. */
export function takeRollupDirty(db: DbOrTx): string[] {
  const set = dirty.get(db);
  if (!set || set.size === 0) return [];
  dirty.delete(db);
  return [...set].sort();
}
