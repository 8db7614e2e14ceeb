import type { AppContext } from '../../src/app/context';
import { createTimerHandler } from '../../src/app/timers';
import { claimOutbox } from '../../src/jobs/outbox-claims';
import { ensureRecurringJobs, jobTimerId } from '../../src/jobs/recurring';
import { ANOMALY_JOB_ID, reportJobs, WEEKLY_DIGEST_JOB_ID } from '../../src/jobs/reports';
import { Scheduler } from '../../src/jobs/scheduler';
import type { Storage } from '../../src/storage/database';
import { verifyDashboardToken } from '../../src/web/dashboard/signing';
import { ANOMALY_END, hourlyTickets, insertReportFixture, reportConfig } from '../fixtures/reports';
import { ManualTime, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

const HOUR = 3_600_000;
const SECRET = 'report-jobs-secret';

describe.each(storageVariants())('report jobs through the scheduler on $name', (variant) => {
  let storage: Storage;
  let time: ManualTime;
  let ctx: AppContext;
  let scheduler: Scheduler;

  beforeEach(async () => {
    storage = await variant.open();
  });
  afterEach(async () => storage.close());

  /** The bot as it starts at `startAt`: jobs armed from that instant. */
  async function start(startAt: string): Promise<void> {
    time = new ManualTime(new Date(startAt));
    ctx = testContext(storage, time, reportConfig());
    const jobs = reportJobs(ctx, { dashboard: { baseUrl: 'https://desk.example', secret: SECRET } });
    await ensureRecurringJobs(storage.db, jobs, time.now().toISOString());
    scheduler = new Scheduler({ db: storage.db, dialect: storage.dialect, owner: 'replica-a', tickMs: 10, batchSize: 50, leaseMs: 60_000, time, logger: ctx.logger, handler: createTimerHandler(ctx), jobs });
  }

  const outbox = (event: string) => storage.db.selectFrom('outbox').selectAll().where('event', '=', event).execute();
  const nextRun = async (jobId: string) => (await storage.db.selectFrom('timers').select('next_action_at').where('id', '=', jobTimerId(jobId)).executeTakeFirstOrThrow()).next_action_at;

  it('posts the weekly digest with its chart once per week, on Monday 09:00 in the calendar zone', async () => {
    await start('2026-03-15T12:00:00Z'); // Sunday 20:00 in Shanghai
    await insertReportFixture(storage.db);
    expect(await nextRun(WEEKLY_DIGEST_JOB_ID)).toBe('2026-03-16T01:00:00.000Z');
    await scheduler.tickOnce();
    expect(await outbox(WEEKLY_DIGEST_JOB_ID)).toHaveLength(0); // not due yet

    time.set('2026-03-16T01:00:30Z');
    await scheduler.tickOnce();
    const rows = await outbox(WEEKLY_DIGEST_JOB_ID);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ platform: 'slack', target_kind: 'channel', target_id: 'CLEADS', status: 'pending', ticket_id: null });
    const stored = JSON.parse(rows[0]!.payload) as { image: { blobId: string; pngBase64?: string } };
    // The chart is stored once (blobs) and named by the row; the claim hands the sender the picture.
    expect(stored.image.pngBase64).toBeUndefined();
    expect(await storage.db.selectFrom('blobs').select('id').execute()).toEqual([{ id: stored.image.blobId }]);
    const [claimed] = await claimOutbox(storage.db, { platform: 'slack', now: '2026-03-16T01:00:31.000Z', leaseMs: 60_000, owner: 'test', limit: 10 });
    const payload = JSON.parse(claimed!.payload) as { messageKey: string; params: { text: string }; image: { fileName: string; pngBase64: string; blobId?: string } };
    expect(payload.messageKey).toBe('notice.text');
    // Monday morning's digest covers the last full week, Monday to Sunday, not a sliver of today.
    expect(payload.params.text).toContain('Weekly ticket report · all departments · 2026-03-09 – 2026-03-15');
    expect(payload.image.fileName).toBe('tickets-2026-03-15.png');
    expect(payload.image.blobId).toBeUndefined();
    expect(Buffer.from(payload.image.pngBase64, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(await nextRun(WEEKLY_DIGEST_JOB_ID)).toBe('2026-03-23T01:00:00.000Z');

    // The same slot run again (a replica that lost its lease mid-run) writes nothing new.
    await storage.db.updateTable('timers').set({ next_action_at: '2026-03-16T01:00:00.000Z' }).where('id', '=', jobTimerId(WEEKLY_DIGEST_JOB_ID)).execute();
    await scheduler.tickOnce();
    expect(await outbox(WEEKLY_DIGEST_JOB_ID)).toHaveLength(1);
  });

  it('alerts the supervisors once per anomaly episode, with a signed link scoped to the department', async () => {
    const rows = hourlyTickets(ANOMALY_END, 30);
    for (let i = 0; i < rows.length; i += 500) await storage.db.insertInto('tickets').values(rows.slice(i, i + 500)).execute();
    await start(new Date(ANOMALY_END - HOUR).toISOString());
    expect(await nextRun(ANOMALY_JOB_ID)).toBe(new Date(ANOMALY_END - HOUR + 5 * 60_000).toISOString());

    time.advance(5 * 60_000 + 10_000);
    await scheduler.tickOnce();
    const alerts = await outbox(ANOMALY_JOB_ID);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ platform: 'slack', target_kind: 'user', target_id: 'UITBOSS', locale: 'en' });
    const text = (JSON.parse(alerts[0]!.payload) as { params: { text: string } }).params.text;
    expect(text).toMatch(/^IT: new tickets per hour is unusually high: 33 \(usual 3\)\. Details: https:\/\/desk\.example\/dashboard\?/);
    const token = new URL(text.slice(text.indexOf('https://'))).searchParams.get('t') ?? undefined;
    const verified = verifyDashboardToken(token, SECRET, time.now().getTime());
    expect(verified).toMatchObject({ ok: true, claims: { userId: 'slack:UITBOSS', departments: ['it'] } });

    // The next hour the surge goes on: the same episode, no second alert.
    time.advance(HOUR);
    await scheduler.tickOnce();
    expect(await outbox(ANOMALY_JOB_ID)).toHaveLength(1);
  });
});
