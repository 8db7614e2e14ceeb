import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

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
  return nowMs.toString(16).padStart(12, '0') + (counter % 0x10000).toString(16).padStart(4, '0') + randomBytes(4).toString('hex');
}
