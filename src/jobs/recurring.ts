import type { DbOrTx, Tx } from '../storage/database';
import { DAY_MS, zoneRules } from '../domain/zone';

/**
 * Recurring jobs (digests, housekeeping) ride on the timers table: one row `job:<id>` of kind
 * 'job' per job. The row's lease makes each run happen on one replica, and the run's effects
 * commit together with the next run time, so a period never runs twice.
 */
export interface RecurringJob {
  id: string;
  /** Text describing the schedule (e.g. `daily 08:30 Asia/Shanghai`); a change re-arms the row. */
  every: string;
  /** The first run time strictly after `nowIso`. */
  nextRun(nowIso: string): string;
  /**
   * The reading half of a run, outside any transaction (a report over a year of tickets must not
   * hold SQLite's write lock): the scheduler calls it before it opens the run's transaction and
   * hands the result to run() as `read`. Optional; a lost lease discards the result unused.
   */
  read?(now: string, info: { scheduledFor: string }): Promise<unknown>;
  /** Does one run inside the scheduler's transaction. `scheduledFor` is the slot being run (runs may start late). */
  run(tx: Tx, now: string, info: { scheduledFor: string; read?: unknown }): Promise<void>;
}

export const JOB_TIMER_KIND = 'job';

export interface JobTimerPayload {
  job: string;
  every: string;
}

export function jobTimerId(jobId: string): string {
  return `job:${jobId}`;
}

export function parseJobPayload(payload: string | null): JobTimerPayload | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as Partial<JobTimerPayload>;
    return typeof parsed.job === 'string' ? { job: parsed.job, every: String(parsed.every ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure every job has its timer row, idempotently across replicas starting at once: a
 * missing row is inserted (a concurrent insert of the same id is ignored); a row whose schedule
 * changed, or that was parked, is re-armed; rows of jobs no longer configured are parked
 * (next_action_at null). Rows leased by a running replica are left to it.
 */
export async function ensureRecurringJobs(db: DbOrTx, jobs: readonly RecurringJob[], now: string): Promise<void> {
  for (const job of jobs) {
    const payload = JSON.stringify({ job: job.id, every: job.every } satisfies JobTimerPayload);
    const nextRun = job.nextRun(now);
    await db
      .insertInto('timers')
      .values({ id: jobTimerId(job.id), kind: JOB_TIMER_KIND, ticket_id: null, clock_id: null, next_action_at: nextRun, lease_owner: null, lease_until: null, payload, updated_at: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await db
      .updateTable('timers')
      .set({ payload, next_action_at: nextRun, updated_at: now })
      .where('id', '=', jobTimerId(job.id))
      .where('lease_owner', 'is', null)
      .where((w) => w.or([w('payload', 'is', null), w('payload', '!=', payload), w('next_action_at', 'is', null)]))
      .execute();
  }
  const known = jobs.map((j) => jobTimerId(j.id));
  let park = db
    .updateTable('timers')
    .set({ next_action_at: null, updated_at: now })
    .where('kind', '=', JOB_TIMER_KIND)
    .where('next_action_at', 'is not', null)
    .where('lease_owner', 'is', null);
  if (known.length > 0) park = park.where('id', 'not in', known);
  await park.execute();
}

/**
 * The next instant strictly after `nowIso` at which the wall clock in `timeZone` shows `hhmm`.
 * A time skipped by a DST change fires at the moment clocks jump; a repeated one fires once.
 */
export function nextDailyRun(nowIso: string, hhmm: string, timeZone: string): string {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const zone = zoneRules(timeZone);
  const nowMs = Date.parse(nowIso);
  const today = Math.floor(zone.toLocal(nowMs) / DAY_MS);
  for (let day = today; ; day++) {
    const at = zone.toUtc(day * DAY_MS + (h * 60 + m) * 60_000);
    if (at > nowMs) return new Date(at).toISOString();
  }
}

/** `YYYY-MM-DD` of an instant's local date in a zone. */
export function localDate(iso: string, timeZone: string): string {
  return new Date(Math.floor(zoneRules(timeZone).toLocal(Date.parse(iso)) / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}
