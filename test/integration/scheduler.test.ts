import pino from 'pino';
import type { Storage } from '../../src/storage/database';
import { Scheduler, type TimerHandler } from '../../src/jobs/scheduler';
import { countDueTimers } from '../../src/jobs/timer-claims';
import { ensureRecurringJobs, jobTimerId, localDate, nextDailyRun, type RecurringJob } from '../../src/jobs/recurring';
import { dailyOpenTicketsDigest, digestJobsFromConfig } from '../../src/jobs/digest';
import { collectMetrics, renderPrometheus } from '../../src/jobs/prometheus';
import { loadConfigFile } from '../../src/config/load';
import { storageVariants } from '../support/storage';
import { FIXTURE_CONFIG, ManualTime } from '../support/app';
import { firingHandler, firingSummary, seedDueTimers } from '../fixtures/scheduler-test-handler';

const silent = pino({ level: 'silent' });
const T0 = '2026-03-02T09:00:00.000Z';

function scheduler(storage: Storage, time: ManualTime, handler: TimerHandler, extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler {
  return new Scheduler({ db: storage.db, dialect: storage.dialect, owner: 'me', tickMs: 1000, batchSize: 100, leaseMs: 30_000, time, logger: silent, handler, retryBaseMs: 5_000, ...extra });
}

async function timer(storage: Storage, id: string) {
  return storage.db.selectFrom('timers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe.each(storageVariants())('scheduler ($name)', (variant) => {
  let storage: Storage;
  beforeEach(async () => {
    storage = await variant.open();
  });
  afterEach(async () => {
    await storage.close();
  });

  it('handles due timers once, sets their next time, and leaves timers not yet due alone', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 3, '2026-03-02T08:59:00.000Z', 'D');
    await seedDueTimers(storage.db, 2, '2026-03-02T10:00:00.000Z', 'L');
    const seen: string[] = [];
    const s = scheduler(storage, time, async (_tx, t) => {
      seen.push(t.id);
      return { nextActionAt: '2026-03-02T12:00:00.000Z' };
    });

    expect(await s.tickOnce()).toMatchObject({ claimed: 3, processed: 3, failed: 0, lost: 0 });
    expect(seen.sort()).toEqual(['clock:D000000', 'clock:D000001', 'clock:D000002']);
    expect(await timer(storage, 'clock:D000000')).toMatchObject({ next_action_at: '2026-03-02T12:00:00.000Z', lease_owner: null, lease_until: null });
    expect(await timer(storage, 'clock:L000000')).toMatchObject({ next_action_at: '2026-03-02T10:00:00.000Z', lease_owner: null });
    expect((await s.tickOnce()).claimed).toBe(0);
    expect(s.stats()).toMatchObject({ ticks: 2, processed: { ok: 3, error: 0, lost: 0 } });
  });

  it('a failing handler leaves no effects, releases the lease with a back-off, and the timer is retried', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 1, '2026-03-02T08:59:00.000Z');
    const good = firingHandler();
    let fail = true;
    const logged: unknown[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const s = scheduler(storage, time, async (tx, t, now) => {
      await good(tx, t, now); // its writes must be rolled back
      if (fail) throw new Error('boom');
      return { nextActionAt: null };
    }, { logger });

    expect(await s.tickOnce()).toMatchObject({ claimed: 1, failed: 1 });
    expect(await firingSummary(storage.db)).toMatchObject({ firings: 0, outbox: 0 });
    expect(await timer(storage, 'clock:T000000')).toMatchObject({ lease_owner: null, lease_until: '2026-03-02T09:00:05.000Z', next_action_at: '2026-03-02T08:59:00.000Z' });
    expect(logged).toEqual([expect.objectContaining({ timerId: 'clock:T000000', ticketId: 'T000000', msg: 'timer handler failed; will retry' })]);

    time.advance(4_000);
    expect((await s.tickOnce()).claimed).toBe(0); // still backing off
    time.advance(2_000);
    expect(await s.tickOnce()).toMatchObject({ claimed: 1, failed: 1 }); // second failure: 10 s
    expect((await timer(storage, 'clock:T000000')).lease_until).toBe('2026-03-02T09:00:16.000Z');

    fail = false;
    time.advance(10_001);
    expect(await s.tickOnce()).toMatchObject({ claimed: 1, processed: 1 });
    expect(await firingSummary(storage.db)).toMatchObject({ firings: 1, outbox: 1, pendingTimers: 0, leasedTimers: 0 });
  });

  it('a claim that ran out and was taken over is not processed by the first owner', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 1, '2026-03-02T08:59:00.000Z');
    const handled: string[] = [];
    const slow = scheduler(storage, time, async () => {
      handled.push('slow');
      return { nextActionAt: null };
    }, { owner: 'slow', leaseMs: 1_000 });
    const other = scheduler(storage, time, async () => {
      handled.push('other');
      return { nextActionAt: '2026-03-03T00:00:00.000Z' };
    }, { owner: 'other' });

    // The first owner claims, then stalls (a long GC pause, a frozen VM) past its lease.
    const batch = await slow.claimBatch();
    expect(batch.timers).toHaveLength(1);
    time.advance(2_000);
    expect(await other.tickOnce()).toMatchObject({ claimed: 1, processed: 1 });
    expect(await slow.processBatch(batch)).toMatchObject({ claimed: 1, processed: 0, lost: 1 });
    expect(handled).toEqual(['other']);
    expect(await timer(storage, 'clock:T000000')).toMatchObject({ next_action_at: '2026-03-03T00:00:00.000Z', lease_owner: null });
  });

  it('an expired claim nobody took over is still honoured by its owner', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 1, '2026-03-02T08:59:00.000Z');
    const s = scheduler(storage, time, firingHandler(), { leaseMs: 1_000 });
    const batch = await s.claimBatch();
    time.advance(5_000);
    expect(await s.processBatch(batch)).toMatchObject({ processed: 1, lost: 0 });
    expect(await firingSummary(storage.db)).toMatchObject({ firings: 1, outbox: 1, leasedTimers: 0 });
  });

  it('stop() finishes the timer in progress and releases the claimed ones not started', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 5, '2026-03-02T08:59:00.000Z');
    let enter: () => void = () => {};
    const entered = new Promise<void>((r) => (enter = r));
    let proceed: () => void = () => {};
    const gate = new Promise<void>((r) => (proceed = r));
    const handled: string[] = [];
    const s = scheduler(storage, time, async (_tx, t) => {
      handled.push(t.id);
      if (handled.length === 1) {
        enter();
        await gate;
      }
      return { nextActionAt: null };
    }, { concurrency: 1 });
    const tick = s.tickOnce();
    await entered;
    const stopping = s.stop();
    proceed();
    const result = await tick;
    await stopping;
    expect(result).toMatchObject({ claimed: 5, processed: 1, released: 4 });
    expect(handled).toEqual(['clock:T000000']);
    const rest = await storage.db.selectFrom('timers').selectAll().where('id', '!=', 'clock:T000000').execute();
    expect(rest.map((r) => [r.lease_owner, r.lease_until, r.next_action_at])).toEqual(Array(4).fill([null, null, '2026-03-02T08:59:00.000Z']));
    expect(await countDueTimers(storage.db, T0)).toBe(4);
  });

  it('start() keeps ticking until stop()', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 250, '2026-03-02T08:59:00.000Z');
    const s = scheduler(storage, time, firingHandler(), { tickMs: 10, batchSize: 100 });
    s.start();
    const deadline = Date.now() + 10_000;
    while ((await countDueTimers(storage.db, T0)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await s.stop();
    expect(await firingSummary(storage.db)).toEqual({ firings: 250, outbox: 250, duplicated: 0, pendingTimers: 0, leasedTimers: 0 });
  });

  describe('recurring jobs', () => {
    function countingJob(runs: string[]): RecurringJob {
      return {
        id: 'count',
        every: 'daily 08:30 UTC',
        nextRun: (now) => nextDailyRun(now, '08:30', 'UTC'),
        run: async (_tx, now, { scheduledFor }) => void runs.push(`${scheduledFor}@${now}`),
      };
    }

    it('ensureRecurringJobs is idempotent, re-arms a changed schedule and parks removed jobs', async () => {
      const runs: string[] = [];
      const job = countingJob(runs);
      await ensureRecurringJobs(storage.db, [job], T0);
      await ensureRecurringJobs(storage.db, [job], '2026-03-02T09:05:00.000Z'); // a second replica starting later
      expect(await timer(storage, jobTimerId('count'))).toMatchObject({ kind: 'job', next_action_at: '2026-03-03T08:30:00.000Z' });

      const moved = { ...job, every: 'daily 10:00 UTC', nextRun: (now: string) => nextDailyRun(now, '10:00', 'UTC') };
      await ensureRecurringJobs(storage.db, [moved], T0);
      expect((await timer(storage, jobTimerId('count'))).next_action_at).toBe('2026-03-02T10:00:00.000Z');

      await ensureRecurringJobs(storage.db, [], T0);
      expect((await timer(storage, jobTimerId('count'))).next_action_at).toBeNull();
      await ensureRecurringJobs(storage.db, [moved], T0);
      expect((await timer(storage, jobTimerId('count'))).next_action_at).toBe('2026-03-02T10:00:00.000Z');
    });

    it('runs once per period through the timers table, late runs included', async () => {
      const runs: string[] = [];
      const time = new ManualTime(new Date(T0));
      const job = countingJob(runs);
      await ensureRecurringJobs(storage.db, [job], T0);
      const a = scheduler(storage, time, firingHandler(), { jobs: [job], owner: 'a' });
      const b = scheduler(storage, time, firingHandler(), { jobs: [job], owner: 'b' });
      time.set('2026-03-03T08:30:00.000Z');
      await Promise.all([a.tickOnce(), b.tickOnce()]);
      await Promise.all([a.tickOnce(), b.tickOnce()]);
      time.set('2026-03-04T11:00:00.000Z'); // the replicas were down at 08:30
      await a.tickOnce();
      await b.tickOnce();
      expect(runs).toEqual(['2026-03-03T08:30:00.000Z@2026-03-03T08:30:00.000Z', '2026-03-04T08:30:00.000Z@2026-03-04T11:00:00.000Z']);
      expect((await timer(storage, jobTimerId('count'))).next_action_at).toBe('2026-03-05T08:30:00.000Z');
    });

    it('runs a job\'s read half before the transaction and hands its result to run(); a failed read is retried', async () => {
      const time = new ManualTime(new Date(T0));
      const runs: unknown[] = [];
      let failReads = 1;
      const job: RecurringJob = {
        id: 'report',
        every: 'daily 08:30 UTC',
        nextRun: (now) => nextDailyRun(now, '08:30', 'UTC'),
        // On SQLite kysely has one connection: inside the scheduler's transaction this write would wait forever.
        read: async (now) => {
          await storage.db.insertInto('feedback').values({ id: `f${now}`, user_id: 'u', department_id: null, text: 'read', created_at: now }).execute();
          if (failReads-- > 0) throw new Error('report query failed');
          return `read@${now}`;
        },
        run: async (_tx, _now, { read }) => void runs.push(read),
      };
      await ensureRecurringJobs(storage.db, [job], T0);
      const s = scheduler(storage, time, firingHandler(), { jobs: [job], retryBaseMs: 1000 });
      // A read inside the transaction would wait forever on SQLite; 15 s leaves room for a loaded machine.
      const tick = () => Promise.race([s.tickOnce(), new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 15_000))]);
      time.set('2026-03-03T08:30:00.000Z');
      expect(await tick()).toMatchObject({ failed: 1 });
      expect(runs).toEqual([]);
      time.set('2026-03-03T08:31:00.000Z');
      expect(await tick()).toMatchObject({ processed: 1 });
      expect(runs).toEqual(['read@2026-03-03T08:31:00.000Z']);
    }, 60_000);

    it('the daily digest DMs each agent with open assigned tickets once per day', async () => {
      const now = '2026-03-02T00:30:00.000Z'; // 08:30 in Shanghai
      const users = [
        { id: 'slack:UA', platform: 'slack', platform_user_id: 'UA', locale: 'en' },
        { id: 'feishu:ou_b', platform: 'feishu', platform_user_id: 'ou_b', locale: null },
        { id: 'slack:UC', platform: 'slack', platform_user_id: 'UC', locale: 'en' },
      ];
      await storage.db
        .insertInto('users')
        .values(users.map((u) => ({ ...u, workspace: 'W', name: u.id, email: null, timezone: null, away_until: null, is_bot: 0, created_at: now, updated_at: now })))
        .execute();
      const ticket = (key: string, state: string, assignee: string | null, priority = 'normal', created = now) => ({
        id: key, key, department_id: 'eng', home_department_id: 'eng', category_id: 'c', priority, title: key, description: '', state,
        requester_id: 'slack:UR', assignee_id: assignee, sensitive: 0, locale: 'en', source_platform: 'slack', source_ref: null,
        current_leg_id: null, public_reply_count: 0, reopen_count: 0, version: 1, created_at: created, updated_at: created,
        first_response_at: null, resolved_at: null, closed_at: null,
      });
      await storage.db
        .insertInto('tickets')
        .values([
          ticket('IT-1', 'in_progress', 'slack:UA', 'normal', '2026-03-01T00:00:00.000Z'),
          ticket('IT-2', 'assigned', 'slack:UA', 'urgent', '2026-03-01T05:00:00.000Z'),
          ticket('IT-3', 'waiting_on_requester', 'feishu:ou_b'),
          ticket('IT-4', 'resolved', 'slack:UC'),
          ticket('IT-5', 'closed', 'slack:UC'),
          ticket('IT-6', 'new', null),
        ])
        .execute();
      let seq = 0;
      const digest = dailyOpenTicketsDigest({ at: '08:30', timeZone: 'Asia/Shanghai', defaultLocale: 'zh-CN', newId: () => `o${seq++}` });
      expect(digest.nextRun('2026-03-01T23:00:00.000Z')).toBe(now);

      await storage.db.transaction().execute((tx) => digest.run(tx, now, { scheduledFor: now }));
      await storage.db.transaction().execute((tx) => digest.run(tx, '2026-03-02T00:31:00.000Z', { scheduledFor: now })); // a rerun of the same slot
      const rows = await storage.db.selectFrom('outbox').selectAll().orderBy('target_id').execute();
      expect(rows.map((r) => ({ platform: r.platform, target: r.target_id, kind: r.target_kind, event: r.event, locale: r.locale, key: r.idempotency_key, payload: JSON.parse(r.payload) }))).toEqual([
        {
          platform: 'slack', target: 'UA', kind: 'user', event: 'digest.open_tickets', locale: 'en', key: 'digest.open_tickets:2026-03-02:slack:UA',
          payload: { messageKey: 'event.digest.open_tickets', params: { count: 2, keys: 'IT-2, IT-1' }, thread: 'none' },
        },
        {
          platform: 'feishu', target: 'ou_b', kind: 'user', event: 'digest.open_tickets', locale: 'zh-CN', key: 'digest.open_tickets:2026-03-02:feishu:ou_b',
          payload: { messageKey: 'event.digest.open_tickets', params: { count: 1, keys: 'IT-3' }, thread: 'none' },
        },
      ]);

      // The next day writes new rows.
      await storage.db.transaction().execute((tx) => digest.run(tx, '2026-03-03T00:30:00.000Z', { scheduledFor: '2026-03-03T00:30:00.000Z' }));
      expect(await storage.db.selectFrom('outbox').select('id').execute()).toHaveLength(4);
    });
  });

  it('collectMetrics + renderPrometheus report tickets, due timers and scheduler counters', async () => {
    const time = new ManualTime(new Date(T0));
    await seedDueTimers(storage.db, 4, '2026-03-02T08:00:00.000Z');
    await seedDueTimers(storage.db, 2, '2026-03-02T10:00:00.000Z', 'L');
    const s = scheduler(storage, time, firingHandler(), { batchSize: 3 });
    await s.tickOnce();
    const text = renderPrometheus(await collectMetrics(storage.db, T0, { scheduler: s }));
    expect(text).toContain('# TYPE ticketbot_timers_due gauge\nticketbot_timers_due 1\n');
    expect(text).toContain('ticketbot_scheduler_timers_processed_total{result="ok"} 3\n');
    expect(text).toContain('ticketbot_outbox_depth{platform="slack"} 3\n');
    expect(text).toContain('ticketbot_scheduler_tick_duration_seconds_count 1\n');
    expect(text).toMatch(/^ticketbot_outbox_oldest_pending_age_seconds\{platform="slack"\} 0$/m);
  });
});

describe('daily schedule arithmetic', () => {
  it('finds the next local HH:MM, across DST changes', () => {
    expect(nextDailyRun('2026-03-02T00:29:59.000Z', '08:30', 'Asia/Shanghai')).toBe('2026-03-02T00:30:00.000Z');
    expect(nextDailyRun('2026-03-02T00:30:00.000Z', '08:30', 'Asia/Shanghai')).toBe('2026-03-03T00:30:00.000Z');
    // Berlin springs forward on 2026-03-29 at 02:00 → 03:00: 02:30 does not exist that day.
    expect(nextDailyRun('2026-03-28T12:00:00.000Z', '02:30', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    expect(nextDailyRun('2026-03-29T12:00:00.000Z', '08:00', 'Europe/Berlin')).toBe('2026-03-30T06:00:00.000Z');
    // New York falls back on 2026-11-01: 01:30 happens twice; the first one counts, once.
    expect(nextDailyRun('2026-11-01T04:00:00.000Z', '01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(nextDailyRun('2026-11-01T05:30:00.000Z', '01:30', 'America/New_York')).toBe('2026-11-02T06:30:00.000Z');
    expect(localDate('2026-03-01T16:30:00.000Z', 'Asia/Shanghai')).toBe('2026-03-02');
  });

  it('the digest comes from config in the first department\'s calendar zone', () => {
    const config = loadConfigFile(FIXTURE_CONFIG);
    const withDigest = { ...config, raw: { ...config.raw, digest: { ...config.raw.digest, daily_open_tickets: '09:15' } } };
    const [job] = digestJobsFromConfig(withDigest, () => 'id');
    const zone = config.raw.calendars[config.raw.departments[0]!.calendar]!.timezone;
    expect(job!.every).toBe(`daily 09:15 ${zone}`);
    expect(digestJobsFromConfig({ ...config, raw: { ...config.raw, digest: { ...config.raw.digest, daily_open_tickets: undefined } } }, () => 'id')).toEqual([]);
  });
});
