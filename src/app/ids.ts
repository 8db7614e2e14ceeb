import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

// Random bytes drawn 4 KiB at a time: one randomBytes(4) call per id cost about 14 µs (a ticket
// takes ten ids), drawing from a pool costs a slice.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function random8Hex(): string {
  if (poolOffset + 4 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + 4);
  poolOffset += 4;
  return hex;
}

/**
 * Sortable unique ids: 12 hex digits of milliseconds, a 4-digit counter within the millisecond,
 * then 8 random hex digits. Text, so SQLite and PostgreSQL store them alike.
 */
export function newId(nowMs: number = Date.now()): string {
  if (nowMs === lastMs) counter++;
  else {
    lastMs = nowMs;
    counter = 0;
  }
  return nowMs.toString(16).padStart(12, '0') + (counter % 0x10000).toString(16).padStart(4, '0') + random8Hex();
}
