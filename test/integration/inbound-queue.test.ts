import pino from 'pino';
import { IntakeClosed } from '../../src/chat/intake';
import { newId } from '../../src/app/ids';
import { InboundQueue } from '../../src/jobs/inbound';
import type { Storage } from '../../src/storage/database';
import { storageVariants } from '../support/storage';

describe.each(storageVariants())('InboundQueue on $name', (variant) => {
  let storage: Storage;
  let nowMs: number;
  const time = { now: () => new Date(nowMs) };
  const queue = (owner: string, extra: Partial<ConstructorParameters<typeof InboundQueue>[0]> = {}) =>
    new InboundQueue({ db: storage.db, dialect: storage.dialect, owner, time, logger: pino({ level: 'silent' }), newId: () => newId(), runSoon: storage.runSoon, leaseMs: 10_000, ...extra });
  const rows = () => storage.db.selectFrom('inbound_events').selectAll().orderBy('received_at').execute();

  beforeEach(async () => {
    storage = await variant.open();
    nowMs = Date.parse('2026-03-02T02:00:00Z');
  });
  afterEach(async () => {
    await storage.close();
  });

  it('stores before work, recognises a retry by its dedup key, and marks the work done', async () => {
    const q = queue('a');
    const first = await q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:T1', payload: { text: 'hi' } });
    expect(first.fresh).toBe(true);
    expect(await rows()).toMatchObject([{ status: 'pending', lease_owner: 'a', attempts: 1, payload: '{"text":"hi"}' }]);
    expect((await q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:T1', payload: { text: 'hi' } })).fresh).toBe(false);
    if (first.fresh) await first.finish();
    expect(await rows()).toMatchObject([{ status: 'done', lease_owner: null }]);
    expect(q.stats).toMatchObject({ admitted: 1, duplicates: 1 });
  });

  it('on SQLite, stores before the ack without queueing behind work and never inside a transaction', async () => {
    if (variant.name !== 'sqlite') {
      expect(storage.runSoon).toBeUndefined(); // PostgreSQL's pool has no single connection to wait for
      return;
    }
    const q = queue('a');
    // A use case's transaction holds the one connection across event-loop turns, and more work queues behind it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const longWork = storage.db.transaction().execute(async (trx) => {
      await trx.insertInto('inbound_events').values({ id: 'rolled-back', platform: 'slack', kind: 'x', dedup_key: 'x', payload: 'null', status: 'done', attempts: 1, lease_owner: null, lease_until: '2026-03-02T02:00:00.000Z', last_error: null, received_at: '2026-03-02T02:00:00.000Z', finished_at: null }).execute();
      await held;
      throw new Error('rolled back on purpose');
    });
    const queued = Array.from({ length: 20 }, (_, i) => storage.db.transaction().execute(async (trx) => {
      await trx.selectFrom('inbound_events').select('id').execute();
      await new Promise((r) => setTimeout(r, 5 + i));
    }));
    const admitted = q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:fast', payload: {} });
    await new Promise((r) => setTimeout(r, 20));
    release();
    await expect(longWork).rejects.toThrow('rolled back on purpose');
    // Stored right after the transaction that held the connection, ahead of the 20 queued ones.
    const raced = await Promise.race([admitted.then(() => 'admitted'), Promise.all(queued).then(() => 'queued work')]);
    expect(raced).toBe('admitted');
    await Promise.all(queued);
    // The rollback took its own row, not the intake's.
    expect((await rows()).map((r) => r.dedup_key)).toEqual(['slack:command:fast']);
  });

  it('on SQLite, stores between two transactions queued back to back, not after the whole queue', async () => {
    if (variant.name !== 'sqlite') {
      expect(storage.runSoon).toBeUndefined();
      return;
    }
    const q = queue('a');
    const stored = (trx: typeof storage.db) => trx.selectFrom('inbound_events').select('dedup_key').execute();
    // What each queued transaction finds stored when it starts: kysely begins the next one in a
    // microtask after each COMMIT/ROLLBACK, so there is no event-loop turn without an open transaction.
    const seen: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const first = storage.db.transaction().execute(async (trx) => {
      await stored(trx);
      opened();
      await held;
    });
    const queued = [1, 2, 3].map(() =>
      storage.db.transaction().execute(async (trx) => {
        seen.push((await stored(trx)).map((r) => r.dedup_key));
        await stored(trx);
      }),
    );
    await isOpen;
    const admitted = q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:between', payload: {} });
    await new Promise((r) => setImmediate(r));
    release();
    await first;
    await Promise.all([...queued, admitted]);
    expect(seen[0]).toEqual(['slack:command:between']);
    // Never inside a transaction: a rolled-back transaction does not take it (an insert queued during it).
    let releaseFailing!: () => void;
    const failingHeld = new Promise<void>((resolve) => (releaseFailing = resolve));
    let failingOpened!: () => void;
    const failingIsOpen = new Promise<void>((resolve) => (failingOpened = resolve));
    const failing = storage.db.transaction().execute(async (trx) => {
      await stored(trx);
      failingOpened();
      await failingHeld;
      throw new Error('rolled back on purpose');
    });
    const after = storage.db.transaction().execute(async (trx) => (await stored(trx)).map((r) => r.dedup_key));
    await failingIsOpen;
    const second = q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:during-rollback', payload: {} });
    await new Promise((r) => setImmediate(r));
    releaseFailing();
    await expect(failing).rejects.toThrow('rolled back on purpose');
    expect(await after).toEqual(['slack:command:between', 'slack:command:during-rollback']);
    expect((await second).fresh).toBe(true);
  });

  it("takes over a dead process's work once its lease runs out, and only then", async () => {
    const dead = queue('dead');
    await dead.admit({ platform: 'feishu', kind: 'card.action.trigger', dedupKey: 'feishu:ev1', payload: { n: 1 } });
    const replayed: unknown[] = [];
    const b = queue('b');
    b.register('feishu', async (p) => void replayed.push(p));
    await b.round();
    expect(replayed).toEqual([]);
    nowMs += 10_001;
    await b.round();
    expect(replayed).toEqual([{ n: 1 }]);
    expect(await rows()).toMatchObject([{ status: 'done', attempts: 2 }]);
    // Nothing is worked twice.
    nowMs += 60_000;
    await b.round();
    expect(replayed).toHaveLength(1);
  });

  it('two replicas taking over at the same time share the rows without overlap', async () => {
    const dead = queue('dead');
    for (let i = 0; i < 30; i++) await dead.admit({ platform: 'slack', kind: 'event', dedupKey: `slack:event:E${i}`, payload: { i } });
    nowMs += 20_000;
    const seen: number[] = [];
    const replicas = ['r1', 'r2', 'r3'].map((name) => {
      const q = queue(name, { batchSize: 7 });
      q.register('slack', async (p) => void seen.push((p as { i: number }).i));
      return q;
    });
    for (let round = 0; round < 5; round++) await Promise.all(replicas.map((r) => r.round()));
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('failed work backs off, is retried, and is given up after the last try; a parse error at once', async () => {
    const q = queue('a', { maxAttempts: 3 });
    let calls = 0;
    q.register('slack', async () => {
      calls++;
      throw new Error('Slack is down');
    });
    const a = await q.admit({ platform: 'slack', kind: 'event', dedupKey: 'slack:event:X', payload: {} });
    if (a.fresh) await a.finish(new Error('first try failed'));
    expect(await rows()).toMatchObject([{ status: 'pending', lease_owner: null, last_error: 'first try failed' }]);
    for (let i = 0; i < 6; i++) {
      nowMs += 200_000;
      await q.round();
    }
    expect(calls).toBe(2);
    expect(await rows()).toMatchObject([{ status: 'dead', attempts: 3, last_error: 'Slack is down' }]);

    const z = await q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:Z', payload: {} });
    const parseError = Object.assign(new Error('bad shape'), { name: 'ZodError' });
    if (z.fresh) await z.finish(parseError);
    expect((await rows()).find((r) => r.dedup_key === 'slack:command:Z')).toMatchObject({ status: 'dead' });
  });

  it('drain refuses new payloads, waits for the work in progress and hands back the rest', async () => {
    const q = queue('a');
    const finished = await q.admit({ platform: 'slack', kind: 'command', dedupKey: 'k1', payload: {} });
    const slow = await q.admit({ platform: 'slack', kind: 'command', dedupKey: 'k2', payload: {} });
    setTimeout(() => void (finished.fresh && finished.finish()), 20);
    const result = await q.drain(300);
    expect(result).toEqual({ finished: 1, givenBack: 1 });
    await expect(q.admit({ platform: 'slack', kind: 'command', dedupKey: 'k3', payload: {} })).rejects.toBeInstanceOf(IntakeClosed);
    const byKey = new Map((await rows()).map((r) => [r.dedup_key, r]));
    expect(byKey.get('k1')).toMatchObject({ status: 'done' });
    // Handed back: pending, nobody's, claimable now.
    expect(byKey.get('k2')).toMatchObject({ status: 'pending', lease_owner: null, lease_until: time.now().toISOString() });
    // Work that ends after the hand-back leaves the row to whoever takes it.
    if (slow.fresh) await slow.finish();
    expect((await rows()).find((r) => r.dedup_key === 'k2')).toMatchObject({ status: 'pending', lease_owner: null });
  });

  it('renews the leases of work in progress so no one else takes it', async () => {
    const a = queue('a');
    const other = queue('b');
    const replayed: unknown[] = [];
    other.register('slack', async (p) => void replayed.push(p));
    await a.admit({ platform: 'slack', kind: 'command', dedupKey: 'long', payload: { long: true } });
    for (let i = 0; i < 6; i++) {
      nowMs += 4000;
      await a.round();
      await other.round();
    }
    expect(replayed).toEqual([]);
  });
});
