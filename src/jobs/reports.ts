import { linkBlob, putBlob } from '../storage/blobs';
import type { AppContext } from '../app/context';
import type { Locale } from '../domain/types';
import { DAY_MS, localDayNumber, weekdayOfDay } from '../domain/zone';
import { WEEKDAYS } from '../config/schema';
import { detectDepartmentAnomalies, formatAnomalyText } from '../reports/anomaly';
import { reportTimeZone } from '../reports/queries';
import { buildWeeklyDigest } from '../reports/stats';
import { reportsOf } from '../reports/runner';
import { insertOutbox, pendingOutboxRow, type OutboxInsert, type OutboxIntent } from '../storage/repos/journal';
import { dashboardUrl, signDashboardLink } from '../web/dashboard/signing';
import { localDate, nextDailyRun, type RecurringJob } from './recurring';

export const WEEKLY_DIGEST_JOB_ID = 'report.weekly_digest';
export const ANOMALY_JOB_ID = 'report.anomaly';
/** Anomaly links in alerts live longer than a `/ticket dashboard` link: the alert may be read later. */
const ALERT_LINK_TTL_MS = DAY_MS;
/** The anomaly check runs a few minutes after each full hour, once the hour's events are in. */
const ANOMALY_MINUTE = 5;

export interface ReportJobOptions {
  /** Where users reach the dashboard (TICKETBOT_PUBLIC_URL) and the link-signing secret; links are left out without them. */
  dashboard?: { baseUrl?: string | undefined; secret?: string | undefined };
}

type DigestMessages = Awaited<ReturnType<typeof buildWeeklyDigest>>;
type Anomalies = Awaited<ReturnType<typeof detectDepartmentAnomalies>>;

/** Report messages have no ticket; each target gets its own ordering lane. */
function reportRow(ctx: Pick<AppContext, 'newId'>, now: string, r: Omit<OutboxIntent, 'id' | 'order_key'>): OutboxInsert {
  return pendingOutboxRow({ id: ctx.newId(), order_key: `report:${r.platform}:${r.target_id}`, ...r }, now);
}

/**
 * The weekly digest [S3.4] as a recurring job (`digest.weekly` in the config): the report of the
 * seven days before the slot, with its chart, posted to the configured Slack channel and Feishu
 * chat through the outbox. The key holds the slot's local date, so a period is posted once.
 */
export function weeklyDigestJob(ctx: AppContext): RecurringJob | undefined {
  const weekly = ctx.config.raw.digest.weekly;
  if (!weekly) return undefined;
  const zone = (weekly.calendar && ctx.config.raw.calendars[weekly.calendar]?.timezone) || reportTimeZone(ctx.config);
  const weekday = WEEKDAYS.indexOf(weekly.day);
  return {
    id: WEEKLY_DIGEST_JOB_ID,
    every: `weekly ${weekly.day} ${weekly.time} ${zone}`,
    nextRun(nowIso) {
      let at = nextDailyRun(nowIso, weekly.time, zone);
      while (weekdayOfDay(localDayNumber(Date.parse(at), zone)) !== weekday) at = nextDailyRun(at, weekly.time, zone);
      return at;
    },
    // The report is read outside the scheduler's transaction (in a report worker when there is one,
    // figures and chart alike); only the outbox rows are written in it.
    read: (_now, { scheduledFor }) => reportsOf(ctx).run({ kind: 'digest', nowMs: Date.parse(scheduledFor) }),
    async run(tx, now, { scheduledFor, read }) {
      const messages = (read as DigestMessages | undefined) ?? (await buildWeeklyDigest({ ...ctx, db: tx }, new Date(scheduledFor)));
      const day = localDate(scheduledFor, zone);
      // Each chart is stored once (blobs, migration 012) and named by the rows that show it.
      const rows = [];
      const shows = new Map<string, string[]>();
      for (const m of messages) {
        const blobId = await putBlob(tx, m.chartPng, now);
        const row = reportRow(ctx, now, {
          idempotency_key: `${WEEKLY_DIGEST_JOB_ID}:${day}:${m.platform}:${m.channelId}`,
          platform: m.platform,
          target_kind: 'channel',
          target_id: m.channelId,
          event: WEEKLY_DIGEST_JOB_ID,
          locale: m.locale,
          payload: JSON.stringify({
            messageKey: 'notice.text',
            params: { text: m.text },
            thread: 'none',
            image: { fileName: m.chartFileName, blobId, altKey: 'report.weekly_digest_alt' },
          }),
        });
        rows.push(row);
        shows.set(blobId, [...(shows.get(blobId) ?? []), row.id]);
      }
      await insertOutbox(tx, rows);
      for (const [blobId, ids] of shows) await linkBlob(tx, blobId, ids);
    },
  };
}

/**
 * Anomaly alerts [S5.2]: each hour, every department's first response, backlog and inflow of the
 * hour before are compared with their own baseline; each new episode is told once to the
 * department's supervisors (the key is the episode's start), with the numbers and a dashboard link.
 */
export function anomalyJob(ctx: AppContext, o: ReportJobOptions = {}): RecurringJob {
  return {
    id: ANOMALY_JOB_ID,
    every: `hourly :${String(ANOMALY_MINUTE).padStart(2, '0')}`,
    nextRun(nowIso) {
      const hour = 3_600_000;
      const nowMs = Date.parse(nowIso);
      let at = Math.floor(nowMs / hour) * hour + ANOMALY_MINUTE * 60_000;
      if (at <= nowMs) at += hour;
      return new Date(at).toISOString();
    },
    read: (_now, { scheduledFor }) => reportsOf(ctx).run({ kind: 'anomaly', nowMs: Date.parse(scheduledFor) }),
    async run(tx, now, { scheduledFor, read }) {
      const slot = new Date(scheduledFor);
      const alerts = (read as Anomalies | undefined) ?? (await detectDepartmentAnomalies({ ...ctx, db: tx }, slot));
      const rows: OutboxInsert[] = [];
      for (const alert of alerts) {
        for (const ref of alert.supervisors) {
          const colon = ref.indexOf(':');
          const platform = ref.slice(0, colon);
          const platformUserId = ref.slice(colon + 1);
          if (platform !== 'slack' && platform !== 'feishu') continue;
          const known = await tx.selectFrom('users').select('locale').where('platform', '=', platform).where('platform_user_id', '=', platformUserId).executeTakeFirst();
          const locale: Locale = known?.locale === 'en' || known?.locale === 'zh-CN' ? known.locale : ctx.config.raw.locale;
          const link = alertLink(o, ref, alert.departmentId, slot.getTime(), locale);
          rows.push(
            reportRow(ctx, now, {
              idempotency_key: `${alert.key}:${platform}:${platformUserId}`,
              platform,
              target_kind: 'user',
              target_id: platformUserId,
              event: ANOMALY_JOB_ID,
              locale,
              payload: JSON.stringify({ messageKey: 'notice.text', params: { text: formatAnomalyText(alert, ctx.config, locale, link) }, thread: 'none' }),
            }),
          );
        }
      }
      await insertOutbox(tx, rows);
      if (alerts.length > 0) ctx.logger.info({ alerts: alerts.map((a) => a.key) }, 'anomaly alerts raised');
    },
  };
}

/** A signed link scoped to the one department, or the chat command when the dashboard is off. */
function alertLink(o: ReportJobOptions, userId: string, departmentId: string, nowMs: number, locale: Locale): string {
  const { baseUrl, secret } = o.dashboard ?? {};
  if (!baseUrl || !secret) return '/ticket dashboard';
  const token = signDashboardLink({ userId, departments: [departmentId], expiresAt: nowMs + ALERT_LINK_TTL_MS }, secret);
  return dashboardUrl(baseUrl, token, locale);
}

/** The report jobs the config asks for. */
export function reportJobs(ctx: AppContext, o: ReportJobOptions = {}): RecurringJob[] {
  const weekly = weeklyDigestJob(ctx);
  return [...(weekly ? [weekly] : []), anomalyJob(ctx, o)];
}
