import pino from 'pino';
import type { Storage } from '../../src/storage/database';
import type { OutboxRow } from '../../src/storage/tables';
import { OutboxDispatcher, type OutboxRecord, type OutboxSender, type SendOutcome } from '../../src/jobs/outbox-dispatcher';
import { outboxHealth } from '../../src/jobs/outbox-claims';
import { backoffDelayMs } from '../../src/jobs/pacing';
import { collectMetrics, renderPrometheus } from '../../src/jobs/prometheus';
import { storageVariants } from '../support/storage';
import { ManualTime } from '../support/app';

const silent = pino({ level: 'silent' });
const T0 = Date.parse('2026-03-02T09:00:00.000Z');

interface Call {
  id: string;
  target: string;
  at: number;
  attempts: number;
  ok: boolean;
}

/** A fake platform: records every call with the (injected) time and answers per `behaviour`. */
class FakeSender implements OutboxSender {
  readonly calls: Call[] = [];
  constructor(
    readonly platform: 'slack' | 'feishu',
    private readonly time: ManualTime,
    private readonly behaviour: (row: OutboxRecord, nowMs: number) => SendOutcome = () => ({ ok: true }),
  ) {}
  async send(row: OutboxRecord): Promise<SendOutcome> {
    const at = this.time.now().getTime();
    const call: Call = { id: row.id, target: row.target_id, at, attempts: row.attempts, ok: false };
    this.calls.push(call);
    const outcome = this.behaviour(row, at); // may throw, like a network error
    call.ok = outcome.ok;
    return outcome;
  }
  delivered(): Call[] {
    return this.calls.filter((c) => c.ok);
  }
}

let seq = 0;
function row(p: { ticket: string; target: string; platform?: string; kind?: string; event?: string; createdMs?: number }): Omit<OutboxRow, 'attempts'> {
  const created = new Date(p.createdMs ?? T0).toISOString();
  const n = String(seq++).padStart(6, '0');
  const platform = p.platform ?? 'slack';
  return {
    id: `o${n}`,
    idempotency_key: `k${n}`,
    ticket_id: p.ticket,
    ticket_version: 1,
    platform,
    target_kind: p.kind ?? 'channel',
    target_id: p.target,
    event: p.event ?? 'ticket.reply',
    payload: JSON.stringify({ messageKey: 'event.ticket.reply', params: { key: p.ticket }, thread: 'card' }),
    locale: 'en',
    urgent: 0,
    order_key: `${p.ticket}:${platform}:${p.target}`,
    status: 'pending',
    // Due from the test's start, whatever its creation time.
    next_attempt_at: new Date(Math.min(p.createdMs ?? T0, T0)).toISOString(),
    lease_owner: null,
    lease_until: null,
    last_error: null,
    created_at: created,
    sent_at: null,
  };
}

describe.each(storageVariants())('outbox dispatcher ($name)', (variant) => {
  let storage: Storage;
  let time: ManualTime;
  beforeEach(async () => {
    storage = await variant.open();
    time = new ManualTime(new Date(T0));
  });
  afterEach(async () => {
    await storage.close();
  });

  function dispatcher(sender: OutboxSender, extra: Partial<ConstructorParameters<typeof OutboxDispatcher>[0]> = {}): OutboxDispatcher {
    let ids = 0;
    return new OutboxDispatcher({
      db: storage.db,
      dialect: storage.dialect,
      owner: 'd1',
      sender,
      time,
      logger: silent,
      admins: ['slack:UADMIN'],
      defaultLocale: 'en',
      newId: () => `n${String(ids++).padStart(6, '0')}`,
      random: () => 0.5,
      ...extra,
    });
  }

  async function insert(rows: Omit<OutboxRow, 'attempts'>[]): Promise<void> {
    await storage.db.insertInto('outbox').values(rows).execute();
  }

  /** Ticks every dispatcher, then moves the clock; stops when `done` holds or after maxSteps. */
  async function drive(ds: OutboxDispatcher[], stepMs: number, done: () => Promise<boolean>, maxSteps = 2000): Promise<number> {
    for (let step = 0; step < maxSteps; step++) {
      // Alternate who starts first: with one SQLite connection the interleaving is otherwise always the same.
      const order = step % 2 === 0 ? ds : [...ds].reverse();
      await Promise.all(order.map((d) => d.tickOnce()));
      if (await done()) return step;
      time.advance(stepMs);
    }
    throw new Error('did not finish');
  }

  const pendingCount = async () => Number((await storage.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);

  it('survives two minutes of 503: every row arrives once after recovery, in order per ticket and target', async () => {
    const rows: Omit<OutboxRow, 'attempts'>[] = [];
    const streams = [
      { ticket: 'A', target: 'C1' },
      { ticket: 'B', target: 'C1' },
      { ticket: 'C', target: 'C2' },
      { ticket: 'A', target: 'U1', kind: 'user' },
    ];
    for (let i = 0; i < 4; i++) for (const s of streams) rows.push(row({ ...s, createdMs: T0 + i }));
    await insert(rows);
    const recoveryAt = T0 + 120_000;
    const sender = new FakeSender('slack', time, (_r, now) => (now < recoveryAt ? { ok: false, error: 'http 503' } : { ok: true }));
    const d = dispatcher(sender);

    await drive([d], 1000, async () => (await pendingCount()) === 0);

    const delivered = sender.delivered();
    expect(delivered.map((c) => c.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(delivered.every((c) => c.at >= recoveryAt)).toBe(true);
    for (const s of streams) {
      const expected = rows.filter((r) => r.ticket_id === s.ticket && r.target_id === s.target).map((r) => r.id);
      expect(delivered.filter((c) => expected.includes(c.id)).map((c) => c.id)).toEqual(expected);
    }
    // A later row of a stream was never tried while an earlier one was still waiting.
    for (const s of streams) {
      const ids = rows.filter((r) => r.ticket_id === s.ticket && r.target_id === s.target).map((r) => r.id);
      const firstTry = ids.map((id) => sender.calls.find((c) => c.id === id)!.at);
      const sentAt = ids.map((id) => delivered.find((c) => c.id === id)!.at);
      for (let i = 1; i < ids.length; i++) expect(firstTry[i]!).toBeGreaterThanOrEqual(sentAt[i - 1]!);
    }
    const stored = await storage.db.selectFrom('outbox').selectAll().execute();
    expect(stored.every((r) => r.status === 'sent' && r.sent_at !== null && r.lease_owner === null && r.last_error === null)).toBe(true);
    // Everything was out within the back-off schedule after recovery (5 s doubling, equal jitter).
    expect(Math.max(...delivered.map((c) => c.at)) - recoveryAt).toBeLessThan(3 * 60_000);
    expect(d.stats().sends).toMatchObject({ sent: rows.length, failed: 0, rate_limited: 0 });
    expect(d.stats().sends.retry).toBeGreaterThan(0);
  });

  it('honours Retry-After for the target, and a refused request does not count as an attempt', async () => {
    const a = row({ ticket: 'A', target: 'C1' });
    const b = row({ ticket: 'B', target: 'C1', createdMs: T0 + 1 });
    const c = row({ ticket: 'C', target: 'C2', createdMs: T0 + 2 });
    await insert([a, b, c]);
    let limited = false;
    const sender = new FakeSender('slack', time, (r) => {
      if (r.target_id === 'C1' && !limited) {
        limited = true;
        return { ok: false, error: 'ratelimited', retryAfterMs: 30_000 };
      }
      return { ok: true };
    });
    const d = dispatcher(sender);
    await drive([d], 500, async () => (await pendingCount()) === 0);

    const c1 = sender.calls.filter((x) => x.target === 'C1');
    expect(c1[0]).toMatchObject({ id: a.id, at: T0, attempts: 0, ok: false });
    // Nothing went to C1 until the requested delay was over; then the 1/s pacing applies again.
    expect(c1.slice(1).map((x) => x.at - T0)).toEqual([30_000, 31_000]);
    expect(c1.slice(1).map((x) => x.id).sort()).toEqual([a.id, b.id]);
    expect(c1.every((x) => x.attempts === 0)).toBe(true); // the refused request was not counted
    expect(sender.calls.find((x) => x.target === 'C2')!.at).toBe(T0); // other targets are not held
    expect(await storage.db.selectFrom('outbox').select(['status', 'attempts']).where('id', '=', a.id).executeTakeFirstOrThrow()).toEqual({ status: 'sent', attempts: 1 });
    expect(d.stats().sends).toMatchObject({ rate_limited: 1, sent: 3 });
  });

  it('paces each target (1/s per Slack channel) while different targets go in parallel', async () => {
    const rows: Omit<OutboxRow, 'attempts'>[] = [];
    for (let i = 0; i < 5; i++) {
      rows.push(row({ ticket: `A${i}`, target: 'C1', createdMs: T0 + i }));
      rows.push(row({ ticket: `B${i}`, target: 'C2', createdMs: T0 + i }));
      rows.push(row({ ticket: `C${i}`, target: 'U1', kind: 'user', createdMs: T0 + i }));
    }
    await insert(rows);
    const sender = new FakeSender('slack', time);
    const d = dispatcher(sender, { batchSize: 50 });
    await drive([d], 100, async () => (await pendingCount()) === 0);

    for (const target of ['C1', 'C2', 'U1']) {
      const times = sender.calls.filter((c) => c.target === target).map((c) => c.at);
      expect(times).toHaveLength(5);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
      expect(times[4]! - times[0]!).toBeLessThanOrEqual(4 * 1000 + 4 * 100); // no slower than the tick granularity
    }
    expect(sender.calls.filter((c) => c.at === T0).map((c) => c.target).sort()).toEqual(['C1', 'C2', 'U1']);
    expect(sender.calls).toHaveLength(15);
  });

  it('uses the configured interval for another platform', async () => {
    await insert([0, 1, 2].map((i) => row({ ticket: `F${i}`, target: 'oc_1', platform: 'feishu', createdMs: T0 + i })));
    const sender = new FakeSender('feishu', time);
    const d = dispatcher(sender, { targetIntervalMs: 250 });
    await drive([d], 50, async () => (await pendingCount()) === 0);
    expect(sender.calls.map((c) => c.at - T0)).toEqual([0, 250, 500]);
  });

  it('parks a row after the retry budget, tells each admin once, and never loops on its own notices', async () => {
    await storage.db
      .insertInto('users')
      .values({ id: 'feishu:ou_boss', platform: 'feishu', workspace: 't', platform_user_id: 'ou_boss', name: 'Boss', email: 'boss@example.com', locale: 'zh-CN', timezone: null, away_until: null, is_bot: 0, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' })
      .execute();
    const first = row({ ticket: 'X', target: 'CBROKEN' });
    const second = row({ ticket: 'X', target: 'CBROKEN', createdMs: T0 + 1 });
    await insert([first, second]);
    // The admin's DM is broken too: its notice must park without producing a notice of its own.
    const sender = new FakeSender('slack', time, (r) => (r.target_id === 'CBROKEN' || r.target_id === 'UADMIN' ? { ok: false, error: 'http 503' } : { ok: true }));
    const d = dispatcher(sender, { maxAttempts: 3, backoff: { baseMs: 1000, maxMs: 10_000 }, admins: ['slack:UADMIN', 'email:boss@example.com', 'slack:UADMIN'] });
    await drive([d], 500, async () => (await storage.db.selectFrom('outbox').select('id').where('status', '=', 'pending').where('platform', '=', 'slack').execute()).length === 0);

    const stored = await storage.db.selectFrom('outbox').selectAll().orderBy('id').execute();
    const byId = new Map(stored.map((r) => [r.id, r]));
    expect(byId.get(first.id)).toMatchObject({ status: 'failed', attempts: 3, last_error: 'http 503', lease_owner: null });
    expect(byId.get(second.id)).toMatchObject({ status: 'failed', attempts: 3 });
    // The second row of the stream waited until the first was parked.
    const firstParkedAt = sender.calls.filter((c) => c.id === first.id).pop()!.at;
    expect(sender.calls.find((c) => c.id === second.id)!.at).toBeGreaterThanOrEqual(firstParkedAt);

    const notices = stored.filter((r) => r.event === 'admin.delivery_failed');
    expect(notices.map((n) => [n.platform, n.target_id, n.locale, JSON.parse(n.payload).params.outboxId]).sort()).toEqual(
      [
        ['feishu', 'ou_boss', 'zh-CN', first.id],
        ['feishu', 'ou_boss', 'zh-CN', second.id],
        ['slack', 'UADMIN', 'en', first.id],
        ['slack', 'UADMIN', 'en', second.id],
      ].sort(),
    );
    expect(JSON.parse(notices[0]!.payload)).toMatchObject({ messageKey: 'event.admin.delivery_failed', params: { target: 'slack:CBROKEN', attempts: 3, error: 'http 503' } });
    expect(notices.filter((n) => n.platform === 'slack').every((n) => n.status === 'failed')).toBe(true);
    expect(d.stats().sends.failed).toBe(4);
    expect(await outboxHealth(storage.db, time.now().toISOString())).toEqual([
      { platform: 'feishu', pending: 2, failed: 0, oldestPendingAgeMs: expect.any(Number) },
      { platform: 'slack', pending: 0, failed: 4, oldestPendingAgeMs: 0 },
    ]);
  });

  it('parks at once on a permanent error; a retry after an unknown outcome tells the sender to reconcile', async () => {
    const gone = row({ ticket: 'P', target: 'CGONE' });
    const flaky = row({ ticket: 'Q', target: 'C1' });
    await insert([gone, flaky]);
    let thrown = false;
    const sender = new FakeSender('slack', time, (r) => {
      if (r.target_id === 'CGONE') return { ok: false, error: 'channel_not_found', permanent: true };
      if (!thrown) {
        thrown = true;
        throw new Error('socket hang up');
      }
      return { ok: true };
    });
    const d = dispatcher(sender);
    const status = async (id: string) => (await storage.db.selectFrom('outbox').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
    await drive([d], 1000, async () => (await status(flaky.id)) === 'sent');
    expect(await storage.db.selectFrom('outbox').select(['status', 'attempts']).where('id', '=', gone.id).executeTakeFirstOrThrow()).toEqual({ status: 'failed', attempts: 1 });
    expect(sender.calls.filter((c) => c.id === flaky.id).map((c) => c.attempts)).toEqual([0, 1]);
  });

  it('two dispatchers sharing the outbox send every row exactly once, in order, despite failures', async () => {
    const rows: Omit<OutboxRow, 'attempts'>[] = [];
    for (let i = 0; i < 20; i++) for (let c = 0; c < 10; c++) rows.push(row({ ticket: `T${c % 4}`, target: `C${c}`, createdMs: T0 + i }));
    await insert(rows);
    // Every third row fails once, every sixth twice (a bounded number of failures per row).
    const behaviour = (r: OutboxRecord): SendOutcome => {
      const n = Number(r.id.slice(1));
      const failures = n % 6 === 0 ? 2 : n % 3 === 0 ? 1 : 0;
      return r.attempts < failures ? { ok: false, error: 'http 502' } : { ok: true };
    };
    const s1 = new FakeSender('slack', time, behaviour);
    const s2 = new FakeSender('slack', time, behaviour);
    // Small batches, so that the first dispatcher to claim does not take every head of line.
    const d1 = dispatcher(s1, { owner: 'a', batchSize: 3, targetIntervalMs: 0, backoff: { baseMs: 100, maxMs: 1000 } });
    const d2 = dispatcher(s2, { owner: 'b', batchSize: 3, targetIntervalMs: 0, backoff: { baseMs: 100, maxMs: 1000 } });
    await drive([d1, d2], 200, async () => (await pendingCount()) === 0);

    const delivered = [...s1.delivered(), ...s2.delivered()];
    expect(delivered.map((c) => c.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(s1.delivered().length).toBeGreaterThan(0);
    expect(s2.delivered().length).toBeGreaterThan(0);
    const sentAt = new Map((await storage.db.selectFrom('outbox').select(['id', 'sent_at', 'order_key']).execute()).map((r) => [r.id, r]));
    for (const key of new Set(rows.map((r) => r.order_key))) {
      const ids = rows.filter((r) => r.order_key === key).map((r) => r.id);
      const times = ids.map((id) => sentAt.get(id)!.sent_at!);
      expect([...times].sort()).toEqual(times);
    }
  });

  it('reports depth, age and sends for /metrics', async () => {
    await insert([row({ ticket: 'A', target: 'C1', createdMs: T0 - 90_000 }), row({ ticket: 'B', target: 'C1', createdMs: T0 - 30_000 })]);
    const sender = new FakeSender('slack', time);
    const d = dispatcher(sender);
    await d.tickOnce();
    const text = renderPrometheus(await collectMetrics(storage.db, time.now().toISOString(), { dispatchers: [d] }));
    expect(text).toContain('ticketbot_outbox_depth{platform="slack"} 1\n');
    expect(text).toContain('ticketbot_outbox_oldest_pending_age_seconds{platform="slack"} 30\n');
    expect(text).toContain('ticketbot_outbox_sends_total{platform="slack",result="sent"} 1\n');
  });

  it('start()/stop() run the loop in real time and hand back unsent claims', async () => {
    await insert([row({ ticket: 'A', target: 'C1' }), row({ ticket: 'B', target: 'C1', createdMs: T0 + 1 })]);
    const sender = new FakeSender('slack', time);
    const d = dispatcher(sender, { tickMs: 10 });
    d.start();
    const deadline = Date.now() + 5000;
    while (sender.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await d.stop();
    // The clock does not move: the second row stays paced, unsent and unleased.
    expect(sender.calls).toHaveLength(1);
    const rest = await storage.db.selectFrom('outbox').selectAll().where('status', '=', 'pending').execute();
    expect(rest.map((r) => [r.lease_owner, r.attempts])).toEqual([[null, 0]]);
  });
});

describe('backoff', () => {
  it('doubles up to the cap with equal jitter', () => {
    const p = { baseMs: 5000, maxMs: 300_000 };
    expect([1, 2, 3, 7, 8, 20].map((a) => backoffDelayMs(a, p, () => 0))).toEqual([2500, 5000, 10_000, 150_000, 150_000, 150_000]);
    expect([1, 2, 3].map((a) => backoffDelayMs(a, p, () => 0.999999))).toEqual([5000, 10_000, 20_000]);
  });
});
