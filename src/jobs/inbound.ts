import type { Logger } from 'pino';
import { IntakeClosed, type Admission, type DurableIntake, type InboundPayload, type IntakePlatform } from '../chat/intake';
import type { Db, DialectName } from '../storage/database';
import type { CompiledQuery, Selectable } from 'kysely';
import type { InboundEventRow as Table } from '../storage/tables';

type InboundEventRow = Selectable<Table>;
import { PollingLoop } from './polling-loop';
import { isoPlus } from './timer-claims';

/** Works a stored payload again (after a crash, a restart or a failure): the same handler path, no ack. */
export type Replay = (payload: unknown) => Promise<void>;

export interface InboundQueueOptions {
  db: Db;
  dialect: DialectName;
  /** This process's lease name (unique across replicas and restarts). */
  owner: string;
  time: { now(): Date };
  logger: Logger;
  newId: () => string;
  /** SQLite's fast lane for the one insert before the ack (Storage.runSoon); kysely's queue otherwise. */
  runSoon?: ((query: CompiledQuery) => Promise<unknown[]>) | undefined;
  /** How long a claim lasts without renewal; a dead owner's rows are taken after it. Default 60 s. */
  leaseMs?: number;
  /** How often the recovery loop looks for rows to take over. Default 1 s. */
  pollMs?: number;
  /** Tries before a row is given up ('dead', logged). Default 5. */
  maxAttempts?: number;
  /** Finished rows are kept this long (retries are recognised meanwhile). Default 7 days. */
  retentionMs?: number;
  /** Rows taken over per round. Default 20. */
  batchSize?: number;
}

export interface InboundStats {
  admitted: number;
  duplicates: number;
  recovered: number;
  failed: number;
  dead: number;
}

/**
 * The durable intake on the `inbound_events` table (see docs/decisions.md, "Durable intake").
 *
 * - admit(): one INSERT … ON CONFLICT (dedup_key) DO NOTHING, already leased to this process, before
 *   the edge acks; the edge then works it at once, in the same process, and calls finish().
 * - While the work runs its lease is renewed; a process that dies leaves the row pending, and when
 *   the lease runs out any replica (or the restarted process) takes it with a conditional update
 *   (FOR UPDATE SKIP LOCKED on PostgreSQL, as timers are claimed) and replays the stored payload
 *   through the platform's handler path. The use cases' own inbox makes a replay of work that had
 *   in fact committed a no-op.
 * - drain(): refuse new payloads, wait for the work in progress, give back what did not finish.
 */
export class InboundQueue implements DurableIntake {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly replays = new Map<IntakePlatform, Replay>();
  private readonly loop: PollingLoop;
  private closed = false;
  /** Rows handed back by drain() while their work was still running here: their outcome is no longer ours to record. */
  private readonly givenBack = new Set<string>();
  private lastRenewMs = 0;
  private lastPurgeMs = 0;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly retentionMs: number;
  private readonly batchSize: number;
  readonly stats: InboundStats = { admitted: 0, duplicates: 0, recovered: 0, failed: 0, dead: 0 };

  constructor(private readonly o: InboundQueueOptions) {
    this.leaseMs = o.leaseMs ?? 60_000;
    this.pollMs = o.pollMs ?? 1000;
    this.maxAttempts = o.maxAttempts ?? 5;
    this.retentionMs = o.retentionMs ?? 7 * 24 * 3600_000;
    this.batchSize = o.batchSize ?? 20;
    this.loop = new PollingLoop(() => this.round());
  }

  /** Names the handler path that replays a platform's stored payloads (only registered platforms are taken over). */
  register(platform: IntakePlatform, replay: Replay): void {
    this.replays.set(platform, replay);
  }

  /** Work admitted or taken over and not finished yet, in this process. */
  get inProgress(): number {
    return this.inflight.size;
  }

  private nowIso(): string {
    return this.o.time.now().toISOString();
  }

  async admit(input: InboundPayload): Promise<Admission> {
    if (this.closed) throw new IntakeClosed();
    const now = this.nowIso();
    const id = this.o.newId();
    const insert = this.o.db
      .insertInto('inbound_events')
      .values({
        id,
        platform: input.platform,
        kind: input.kind.slice(0, 100),
        dedup_key: input.dedupKey.slice(0, 500),
        payload: JSON.stringify(input.payload ?? null),
        status: 'pending',
        attempts: 1,
        lease_owner: this.o.owner,
        lease_until: isoPlus(now, this.leaseMs),
        last_error: null,
        received_at: now,
        finished_at: null,
      })
      .onConflict((oc) => oc.column('dedup_key').doNothing())
      .returning('id');
    // The ack waits for this insert: on SQLite it must not queue behind the use cases' work.
    const inserted = this.o.runSoon ? await this.o.runSoon(insert.compile()) : await insert.execute();
    if (inserted.length === 0) {
      this.stats.duplicates++;
      return { fresh: false };
    }
    this.stats.admitted++;
    const finish = this.track(id);
    return { fresh: true, id, finish: (error?: unknown) => finish(1, error) };
  }

  /** Registers work in progress; the returned function records its outcome and ends the tracking. */
  private track(id: string): (attempts: number, error?: unknown) => Promise<void> {
    let settle!: () => void;
    this.inflight.set(id, new Promise<void>((resolve) => (settle = resolve)));
    let finished = false;
    return async (attempts, error) => {
      if (finished) return;
      finished = true;
      try {
        if (!this.givenBack.has(id)) await this.complete(id, attempts, error);
      } catch (err) {
        // The row stays pending; once its lease runs out it is worked again (the core deduplicates).
        this.o.logger.error({ err: errorText(err), inboundId: id }, 'inbound: could not record the outcome');
      } finally {
        this.inflight.delete(id);
        settle();
      }
    };
  }

  private async complete(id: string, attempts: number, error: unknown): Promise<void> {
    const now = this.nowIso();
    if (error === undefined) {
      await this.o.db
        .updateTable('inbound_events')
        .set({ status: 'done', finished_at: now, lease_owner: null, lease_until: null })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      return;
    }
    this.stats.failed++;
    const message = errorText(error);
    // A payload that does not parse never will: no point in trying it again.
    const permanent = (error as { name?: string } | null)?.name === 'ZodError';
    if (attempts >= this.maxAttempts || permanent) {
      this.stats.dead++;
      this.o.logger.error({ inboundId: id, attempts, err: message }, 'inbound: giving up on a payload after repeated failures');
      await this.o.db
        .updateTable('inbound_events')
        .set({ status: 'dead', finished_at: now, lease_owner: null, lease_until: null, last_error: message })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      return;
    }
    // Back off (10 s, 40 s, 160 s, …) and let any replica try again.
    const retryAt = isoPlus(now, 10_000 * 4 ** (attempts - 1));
    this.o.logger.warn({ inboundId: id, attempts, err: message, retryAt }, 'inbound: work failed; will be tried again');
    await this.o.db
      .updateTable('inbound_events')
      .set({ lease_owner: null, lease_until: retryAt, last_error: message })
      .where('id', '=', id)
      .where('lease_owner', '=', this.o.owner)
      .where('status', '=', 'pending')
      .execute();
  }

  /** Starts the recovery loop (lease renewal, take-over of abandoned rows, retention). */
  start(): void {
    this.loop.start();
  }

  /** One round of the loop; returns how long to wait before the next. Public for tests. */
  async round(): Promise<number> {
    const nowMs = this.o.time.now().getTime();
    try {
      if (nowMs - this.lastRenewMs >= this.leaseMs / 3) {
        this.lastRenewMs = nowMs;
        await this.renew();
      }
      if (nowMs - this.lastPurgeMs >= 10 * 60_000) {
        this.lastPurgeMs = nowMs;
        await this.purge();
      }
      if (this.closed || this.loop.stopping || this.replays.size === 0) return this.pollMs;
      const claimed = await this.claim();
      for (const row of claimed) {
        if (this.loop.stopping) {
          await this.giveBack([row.id]);
          continue;
        }
        await this.replay(row);
      }
      return claimed.length >= this.batchSize ? 0 : this.pollMs;
    } catch (err) {
      this.o.logger.error({ err: errorText(err) }, 'inbound: recovery round failed');
      return this.pollMs;
    }
  }

  private async replay(row: InboundEventRow): Promise<void> {
    const replay = this.replays.get(row.platform as IntakePlatform);
    const finish = this.track(row.id);
    this.stats.recovered++;
    this.o.logger.info({ inboundId: row.id, platform: row.platform, kind: row.kind, attempts: row.attempts }, 'inbound: working a stored payload again');
    let error: unknown;
    try {
      if (!replay) throw new Error(`no handler for platform ${row.platform}`);
      await replay(JSON.parse(row.payload));
    } catch (err) {
      error = err ?? new Error('replay failed');
    }
    await finish(row.attempts, error);
  }

  /** Takes over pending rows whose lease ran out, for the platforms this process serves. */
  private async claim(): Promise<InboundEventRow[]> {
    const now = this.nowIso();
    const until = isoPlus(now, this.leaseMs);
    const platforms = [...this.replays.keys()];
    const db = this.o.db;
    const due = db
      .selectFrom('inbound_events')
      .select('id')
      .where('status', '=', 'pending')
      .where('lease_until', '<', now)
      .where('platform', 'in', platforms)
      .orderBy('lease_until')
      .limit(this.batchSize);
    // PostgreSQL takes them in one statement, skipping rows another replica holds; SQLite (one
    // writer) selects then takes them with the same conditions, so a race takes nothing twice.
    const locked = due.forUpdate().skipLocked();
    const take = (ids: string[] | typeof locked) =>
      db
        .updateTable('inbound_events')
        .set((eb) => ({ lease_owner: this.o.owner, lease_until: until, attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', ids)
        .where('status', '=', 'pending')
        .where('lease_until', '<', now)
        .returningAll()
        .execute();
    if (this.o.dialect === 'postgres') return take(locked);
    const candidates = await due.execute();
    if (candidates.length === 0) return [];
    const rows = await take(candidates.map((c) => c.id));
    return rows.sort((a, b) => (a.received_at < b.received_at ? -1 : a.received_at > b.received_at ? 1 : 0));
  }

  /** Keeps the leases of the work in progress here from running out. */
  private async renew(): Promise<void> {
    const ids = [...this.inflight.keys()];
    const until = isoPlus(this.nowIso(), this.leaseMs);
    for (let i = 0; i < ids.length; i += 500) {
      await this.o.db
        .updateTable('inbound_events')
        .set({ lease_until: until })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('lease_owner', '=', this.o.owner)
        .where('status', '=', 'pending')
        .execute();
    }
  }

  /** Makes rows claimable by anyone at once (they stay pending). */
  private async giveBack(ids: string[]): Promise<void> {
    const now = this.nowIso();
    for (let i = 0; i < ids.length; i += 500) {
      await this.o.db
        .updateTable('inbound_events')
        .set({ lease_owner: null, lease_until: now })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('lease_owner', '=', this.o.owner)
        .where('status', '=', 'pending')
        .execute();
    }
  }

  private async purge(): Promise<void> {
    const before = isoPlus(this.nowIso(), -this.retentionMs);
    await this.o.db.deleteFrom('inbound_events').where('status', 'in', ['done', 'dead']).where('received_at', '<', before).execute();
  }

  /**
   * SIGTERM: refuse new payloads, wait up to `timeoutMs` for the work in progress, stop the loop,
   * and give back whatever did not finish (another replica or the next start takes it at once).
   */
  async drain(timeoutMs: number): Promise<{ finished: number; givenBack: number }> {
    this.closed = true;
    const waiting = this.inflight.size;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.inflight.values()]), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    await this.loop.stop();
    const left = [...this.inflight.keys()];
    for (const id of left) this.givenBack.add(id);
    if (left.length) {
      try {
        await this.giveBack(left);
      } catch (err) {
        this.o.logger.error({ err: errorText(err) }, 'inbound: could not give back unfinished work (it is taken over when its lease runs out)');
      }
    }
    this.o.logger.info({ finished: waiting - left.length, givenBack: left.length }, 'inbound: drained');
    return { finished: waiting - left.length, givenBack: left.length };
  }

  /** Rows not finished yet, for /metrics and /healthz. */
  async pendingCount(): Promise<number> {
    const row = await this.o.db
      .selectFrom('inbound_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

/** The intake's lines for /metrics (Prometheus text format). */
export async function renderInboundMetrics(q: InboundQueue): Promise<string> {
  const pending = await q.pendingCount();
  const lines = [
    '# HELP ticketbot_inbound_pending Received requests stored and not yet worked (all processes).',
    '# TYPE ticketbot_inbound_pending gauge',
    `ticketbot_inbound_pending ${pending}`,
    '# HELP ticketbot_inbound_total Received requests in this process, by outcome.',
    '# TYPE ticketbot_inbound_total counter',
    ...Object.entries(q.stats).map(([outcome, n]) => `ticketbot_inbound_total{outcome="${outcome}"} ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
  return text.slice(0, 500);
}
