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

/**
 * Tickets inserted through a transaction: they have no stored rollup contribution yet, so the
 * flush need not read one (one statement less per created ticket).
 */
const created = new WeakMap<object, Set<string>>();

export function markRollupNew(db: DbOrTx, ticketId: string): void {
  markRollupDirty(db, ticketId);
  let set = created.get(db);
  if (!set) {
    set = new Set();
    created.set(db, set);
  }
  set.add(ticketId);
}

/** The tickets inserted through `db` since the last call, forgetting them. */
export function takeRollupNew(db: DbOrTx): ReadonlySet<string> {
  const set = created.get(db);
  created.delete(db);
  return set ?? new Set();
}
