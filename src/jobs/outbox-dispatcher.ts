import { PollingLoop } from './polling-loop';
import { isChatPlatform, type ChatPlatform } from '../domain/platforms';
import type { Logger } from 'pino';
import type { TimeSource } from '../app/context';
import type { Locale } from '../domain/types';
import type { Db, DbOrTx, DialectName } from '../storage/database';
import { insertOutbox, pendingOutboxRow } from '../storage/repos/journal';
import {
  claimOutbox,
  markFailed,
  markSent,
  releaseOutboxLeases,
  scheduleRetry,
  startAttempt,
  type OutboxLease,
  type OutboxRecord,
} from './outbox-claims';
import { backoffDelayMs, TargetPacer, type BackoffPolicy } from './pacing';
import { isoPlus } from './timer-claims';
import { quietHoursGate } from './quiet-hours';

export type { OutboxRecord } from './outbox-claims';

export type { FollowUp, SendOutcome, OutboxSender } from '../app/outbox';
import type { OutboxSender, SendOutcome } from '../app/outbox';

export const ADMIN_DELIVERY_FAILED_EVENT = 'admin.delivery_failed';

/** Default spacing between two messages to the same channel or user. Slack: about 1/s per channel. */
export const DEFAULT_TARGET_INTERVAL_MS: Record<OutboxSender['platform'], number> = { slack: 1000, feishu: 200, webhook: 0 };

export interface OutboxDispatcherOptions {
  db: Db;
  dialect: DialectName;
  /** Unique per process; names this replica's leases. */
  owner: string;
  sender: OutboxSender;
  time: TimeSource;
  logger: Logger;
  /** Config references (`slack:U…`, `feishu:ou_…`, `email:…`) told once about each parked row. */
  admins: readonly string[];
  defaultLocale: Locale;
  newId(): string;
  batchSize?: number;
  leaseMs?: number;
  /** Idle wait of the loop between claims when nothing was sendable. */
  tickMs?: number;
  targetIntervalMs?: number;
  /** Attempts (rate-limited ones excluded) before a row is parked as failed. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** Targets sent to in parallel; each target's rows go one after another. */
  concurrency?: number;
  /** For jitter; injectable so tests are deterministic. */
  random?: () => number;
}

export type SendResult = 'sent' | 'retry' | 'rate_limited' | 'failed';

export interface DispatchTickResult {
  claimed: number;
  sent: number;
  retried: number;
  rateLimited: number;
  parked: number;
  /** Claimed but handed back because the target was paced (or we are stopping). */
  deferred: number;
  /** Claims that were taken over before we used them. */
  lost: number;
}

export interface DispatcherStats {
  platform: string;
  sends: Record<SendResult, number>;
  ticks: number;
  lastTickMs: number;
}

const DEFAULTS = { batchSize: 100, leaseMs: 60_000, tickMs: 500, maxAttempts: 8, concurrency: 16, backoff: { baseMs: 5_000, maxMs: 5 * 60_000 } };
const MAX_ERROR_TEXT = 500;

/**
 * Delivers one platform's outbox rows: claims them by lease, keeps their order per order_key,
 * paces per target, honours Retry-After, backs off with jitter on other failures, and after the
 * retry budget parks the row as failed and writes one notice per admin (never for a notice itself,
 * so a broken platform cannot make it loop).
 */
export class OutboxDispatcher {
  readonly platform: OutboxSender['platform'];
  private readonly pacer: TargetPacer;
  private readonly cfg: typeof DEFAULTS & { targetIntervalMs: number };
  private readonly random: () => number;
  private readonly sends: Record<SendResult, number> = { sent: 0, retry: 0, rate_limited: 0, failed: 0 };
  private ticks = 0;
  private lastTickMs = 0;
  /** Claims again at once while there was work, else when a paced target frees up (at most tickMs). */
  private readonly loop = new PollingLoop(async () => {
    let waitMs = this.cfg.tickMs;
    try {
      const r = await this.tickOnce();
      const nowMs = this.o.time.now().getTime();
      const progressed = r.sent + r.retried + r.rateLimited + r.parked > 0;
      if (progressed && r.deferred === 0) waitMs = 0;
      else {
        const free = this.pacer.nextFreeAt(nowMs);
        if (free !== undefined) waitMs = Math.min(waitMs, Math.max(0, free - nowMs));
      }
    } catch (err) {
      this.o.logger.error({ err, platform: this.platform }, 'outbox dispatch failed');
    }
    return waitMs;
  });

  constructor(private readonly o: OutboxDispatcherOptions) {
    this.platform = o.sender.platform;
    this.cfg = {
      batchSize: o.batchSize ?? DEFAULTS.batchSize,
      leaseMs: o.leaseMs ?? DEFAULTS.leaseMs,
      tickMs: o.tickMs ?? DEFAULTS.tickMs,
      maxAttempts: o.maxAttempts ?? DEFAULTS.maxAttempts,
      concurrency: Math.max(1, o.concurrency ?? DEFAULTS.concurrency),
      backoff: o.backoff ?? DEFAULTS.backoff,
      targetIntervalMs: o.targetIntervalMs ?? DEFAULT_TARGET_INTERVAL_MS[o.sender.platform],
    };
    this.pacer = new TargetPacer(this.cfg.targetIntervalMs);
    this.random = o.random ?? Math.random;
  }

  /** Claims what is sendable now and sends it; rows of a target that is paced wait for a later tick. */
  async tickOnce(): Promise<DispatchTickResult> {
    const started = performance.now();
    const result: DispatchTickResult = { claimed: 0, sent: 0, retried: 0, rateLimited: 0, parked: 0, deferred: 0, lost: 0 };
    if (this.loop.stopping) return result;
    const now = this.now();
    const lease: OutboxLease = { owner: this.o.owner, until: isoPlus(now, this.cfg.leaseMs) };
    const rows = await claimOutbox(this.o.db, {
      platform: this.platform,
      owner: this.o.owner,
      now,
      leaseMs: this.cfg.leaseMs,
      limit: this.cfg.batchSize,
      excludeTargets: this.pacer.busyTargets(Date.parse(now)),
      // With pacing only one row per target can go out now; without it, take the whole batch.
      ...(this.cfg.targetIntervalMs > 0 ? { perTarget: 1 } : {}),
    });
    result.claimed = rows.length;

    const byTarget = new Map<string, OutboxRecord[]>();
    for (const row of rows) {
      const list = byTarget.get(row.target_id) ?? [];
      list.push(row);
      byTarget.set(row.target_id, list);
    }
    const queues = [...byTarget.values()];
    const deferred: string[] = [];
    let nextQueue = 0;
    const worker = async () => {
      while (nextQueue < queues.length) {
        const queue = queues[nextQueue++]!;
        for (const row of queue) {
          if (this.loop.stopping || !this.pacer.isReady(row.target_id, this.o.time.now().getTime())) {
            deferred.push(row.id);
            continue;
          }
          const outcome = await this.deliver(row, lease);
          if (outcome === 'sent') result.sent++;
          else if (outcome === 'retry') result.retried++;
          else if (outcome === 'rate_limited') result.rateLimited++;
          else if (outcome === 'failed') result.parked++;
          else if (outcome === 'held') result.deferred++;
          else result.lost++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.cfg.concurrency, queues.length) }, worker));
    result.deferred = deferred.length;
    await releaseOutboxLeases(this.o.db, deferred, lease);

    this.ticks++;
    this.lastTickMs = performance.now() - started;
    return result;
  }

  /** Runs until stop(). */
  start(): void {
    this.loop.start();
  }

  /** Stops claiming; sends in flight finish and claimed rows not yet sent are handed back. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  stats(): DispatcherStats {
    return { platform: this.platform, sends: { ...this.sends }, ticks: this.ticks, lastTickMs: this.lastTickMs };
  }

  private now(): string {
    return this.o.time.now().toISOString();
  }

  private async deliver(claimed: OutboxRecord, lease: OutboxLease): Promise<SendResult | 'lost' | 'held'> {
    // Quiet hours (issue 17): a DM that can wait is held, or several held ones go merged.
    const gate = await quietHoursGate(this.o.db, claimed, this.now(), lease, this.o.defaultLocale);
    if (gate.kind === 'held') return 'held';
    const row = gate.row;
    const attempts = await startAttempt(this.o.db, row.id, lease);
    if (attempts === undefined) return this.lost(row);
    const sentAtMs = this.o.time.now().getTime();
    this.pacer.markSent(row.target_id, sentAtMs);
    let outcome: SendOutcome;
    try {
      outcome = await this.o.sender.send({ ...row, attempts: attempts - 1 });
    } catch (err) {
      outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    const now = this.now();
    const log = { outboxId: row.id, event: row.event, platform: row.platform, target: row.target_id, ticketId: row.ticket_id, attempts };

    if (outcome.ok) {
      const followUps = outcome.followUps ?? [];
      const marked = followUps.length
        ? await this.o.db.transaction().execute(async (tx) => {
            if (!(await markSent(tx, row.id, lease, now))) return false;
            await insertOutbox(
              tx,
              followUps.map((f) =>
                pendingOutboxRow(
                  {
                    id: this.o.newId(),
                    idempotency_key: `${row.idempotency_key}:${f.key}`,
                    ticket_id: row.ticket_id,
                    ticket_version: row.ticket_version,
                    platform: row.platform,
                    target_kind: row.target_kind,
                    target_id: row.target_id,
                    event: f.event,
                    payload: f.payload,
                    locale: row.locale,
                    urgent: row.urgent,
                    // Its own order: a failing SMS must not hold back later messages to the person.
                    order_key: `${row.order_key}:${f.key}`,
                  },
                  now,
                ),
              ),
            );
            return true;
          })
        : await markSent(this.o.db, row.id, lease, now);
      if (!marked) return this.lost(row);
      this.sends.sent++;
      this.o.logger.debug(log, 'outbox row sent');
      return 'sent';
    }
    const error = outcome.error.slice(0, MAX_ERROR_TEXT);
    if (outcome.retryAfterMs !== undefined && !outcome.permanent) {
      const retryAtMs = Date.parse(now) + Math.max(0, outcome.retryAfterMs);
      this.pacer.holdUntil(row.target_id, retryAtMs);
      if (!(await scheduleRetry(this.o.db, row.id, lease, new Date(retryAtMs).toISOString(), error, true))) return this.lost(row);
      this.sends.rate_limited++;
      this.o.logger.info({ ...log, retryAfterMs: outcome.retryAfterMs }, 'rate limited; retrying after the requested delay');
      return 'rate_limited';
    }
    if (outcome.permanent || attempts >= this.cfg.maxAttempts) {
      const parked = await this.o.db.transaction().execute(async (tx) => {
        if (!(await markFailed(tx, row.id, lease, error))) return false;
        if (row.event !== ADMIN_DELIVERY_FAILED_EVENT) await this.noticeAdmins(tx, row, attempts, error, now);
        return true;
      });
      if (!parked) return this.lost(row);
      this.sends.failed++;
      this.o.logger.error({ ...log, error, permanent: outcome.permanent === true }, 'outbox row parked as failed');
      return 'failed';
    }
    const delay = backoffDelayMs(attempts, this.cfg.backoff, this.random);
    if (!(await scheduleRetry(this.o.db, row.id, lease, isoPlus(now, delay), error, false))) return this.lost(row);
    this.sends.retry++;
    this.o.logger.warn({ ...log, error, retryInMs: delay }, 'send failed; will retry');
    return 'retry';
  }

  private lost(row: OutboxRecord): 'lost' {
    this.o.logger.warn({ outboxId: row.id, event: row.event }, 'outbox claim expired before it was used; another replica has the row');
    return 'lost';
  }

  /** One notice per admin and parked row (the idempotency key makes it once, even if parking were retried). */
  private async noticeAdmins(tx: DbOrTx, row: OutboxRecord, attempts: number, error: string, now: string): Promise<void> {
    const targets = await resolveAdminTargets(tx, this.o.admins, this.o.defaultLocale);
    const notices = targets.map((a) =>
      pendingOutboxRow(
        {
          id: this.o.newId(),
          idempotency_key: `${ADMIN_DELIVERY_FAILED_EVENT}:${row.id}:${a.platform}:${a.targetId}`,
          ticket_id: row.ticket_id,
          platform: a.platform,
          target_kind: 'user',
          target_id: a.targetId,
          event: ADMIN_DELIVERY_FAILED_EVENT,
          payload: JSON.stringify({
            messageKey: 'event.admin.delivery_failed',
            params: { target: `${row.platform}:${row.target_id}`, attempts, error, event: row.event, outboxId: row.id },
            thread: 'none',
          }),
          locale: a.locale,
          order_key: `admin:${a.platform}:${a.targetId}`,
        },
        now,
      ),
    );
    if (notices.length === 0) this.o.logger.warn({ outboxId: row.id }, 'no admin to tell about a failed delivery (config admins)');
    await insertOutbox(tx, notices);
  }
}

interface AdminTarget {
  platform: ChatPlatform;
  targetId: string;
  locale: Locale;
}

/** Chat targets of the configured admins; `email:` references are matched against known users. */
export async function resolveAdminTargets(db: DbOrTx, admins: readonly string[], defaultLocale: Locale): Promise<AdminTarget[]> {
  const out = new Map<string, AdminTarget>();
  const localeOf = (raw: string | null) => (raw === 'en' || raw === 'zh-CN' ? raw : defaultLocale);
  for (const ref of admins) {
    const colon = ref.indexOf(':');
    const kind = ref.slice(0, colon);
    const id = ref.slice(colon + 1);
    if (isChatPlatform(kind)) {
      const user = await db.selectFrom('users').select('locale').where('platform', '=', kind).where('platform_user_id', '=', id).executeTakeFirst();
      out.set(`${kind}:${id}`, { platform: kind, targetId: id, locale: localeOf(user?.locale ?? null) });
    } else if (kind === 'email') {
      const users = await db.selectFrom('users').select(['platform', 'platform_user_id', 'locale']).where('email', '=', id).where('is_bot', '=', 0).execute();
      for (const u of users) {
        if (isChatPlatform(u.platform)) out.set(`${u.platform}:${u.platform_user_id}`, { platform: u.platform, targetId: u.platform_user_id, locale: localeOf(u.locale) });
      }
    }
  }
  return [...out.values()];
}
