import { sql } from 'kysely';
import type { DbOrTx } from '../database';

export interface RateDecision {
  allowed: boolean;
  /** Requests counted in this window, this one included. */
  count: number;
  /** Seconds until the window ends (for Retry-After). */
  retryAfterSeconds: number;
}

/**
 * Counts one request against `key` in a fixed window shared by every replica on the database:
 * one conditional upsert (same SQL on SQLite and PostgreSQL) that starts a new window or adds one,
 * atomically, and returns the count. No read-then-write, so two replicas cannot both see room.
 */
export async function takeRateLimit(db: DbOrTx, key: string, limit: number, windowMs: number, nowMs: number): Promise<RateDecision> {
  const startMs = Math.floor(nowMs / windowMs) * windowMs;
  const start = new Date(startMs).toISOString();
  const { rows } = await sql<{ count: number | string }>`
    insert into rate_limits (key, window_start, count) values (${key}, ${start}, 1)
    on conflict (key) do update set
      count = case when rate_limits.window_start = excluded.window_start then rate_limits.count + 1 else 1 end,
      window_start = excluded.window_start
    returning count`.execute(db);
  const count = Number(rows[0]!.count);
  return { allowed: count <= limit, count, retryAfterSeconds: Math.max(1, Math.ceil((startMs + windowMs - nowMs) / 1000)) };
}
