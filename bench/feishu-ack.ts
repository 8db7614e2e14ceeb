import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { createTicket, ensureUser } from '../src/app';
import type { AppContext } from '../src/app/context';
import { newId } from '../src/app/ids';
import { calendarsFromConfig } from '../src/domain/calendar';
import { createFeishuApp, FEISHU_EVENTS_PATH } from '../src/feishu/app';
import { buildFeishuRequest, verifyFeishuRequest } from '../src/feishu/verify';
import { openIntakeJournal, parseIntakeJournalSetting } from '../src/storage/intakeJournal';
import { migrate, openStorage } from '../src/storage/database';
import { feishuTestConfig, SECRETS, TENANT } from '../test/fakes/feishu-harness';
import { storageFeishuPorts } from '../src/wiring/feishu-ports';
import { startFakeFeishu } from '../test/fakes/feishu-server';
import { InboundQueue } from '../src/jobs/inbound';
import { percentile, type Benchmark } from './harness';

/**
 * Card-action ack latency in HTTP mode: Feishu wants the answer within 3 s. Open-loop load at a
 * fixed rate (requests are sent on schedule whether or not earlier ones came back), each request
 * signed and encrypted as Feishu does. Three handlers on the same express server in the same run:
 * a bare route (HTTP + JSON only), verification alone (signature, token, decryption), and the full
 * path (verification, then a priority change through the core on SQLite, answered with a toast).
 */

const TICKETS = 40;

interface Phase {
  handler: string;
  rate: number;
  sent: number;
  ok: number;
  latencies: number[];
}

async function openLoop(url: string, bodies: { headers: Record<string, string>; body: string }[], rate: number): Promise<{ latencies: number[]; ok: number }> {
  const latencies: number[] = [];
  let ok = 0;
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const req = bodies[i]!;
    const t0 = performance.now();
    inflight.push(
      fetch(url, { method: 'POST', headers: req.headers, body: req.body })
        .then(async (res) => {
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (res.status === 200) ok++;
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(inflight);
  return { latencies, ok };
}

export const feishuAckBenchmark: Benchmark = {
  name: 'feishu-ack',
  async run({ quick }) {
    const seconds = quick ? 5 : 30;
    const dir = mkdtempSync(join(tmpdir(), 'ticketbot-feishu-bench-'));
    const storage = await openStorage({ sqliteFile: join(dir, 'bench.db') });
    await migrate(storage.db);
    const config = feishuTestConfig();
    const ctx: AppContext = {
      db: storage.db,
      dialect: storage.dialect,
      config,
      calendars: calendarsFromConfig(config.raw),
      time: { now: () => new Date() },
      logger: pino({ level: 'silent' }),
      newId: () => newId(),
    };
    const fake = await startFakeFeishu();
    fake.addUser({ open_id: 'ou_a1', name: 'Agent' });
    fake.chatMembers.set('oc_help', ['ou_a1']);
    const web = express();
    web.post('/bare', express.raw({ type: () => true }), (_req, res) => {
      res.json({ toast: { type: 'success', content: 'ok' } });
    });
    web.post('/verify-only', express.raw({ type: () => true }), (req, res) => {
      const out = verifyFeishuRequest({ headers: req.headers, rawBody: (req.body as Buffer).toString('utf8'), nowMs: Date.now() }, SECRETS);
      res.status(out.ok ? 200 : 401).json({ toast: { type: 'success', content: 'ok' } });
    });
    const app = createFeishuApp({
      ctx,
      env: { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_MODE: 'http', FEISHU_ENCRYPT_KEY: SECRETS.encryptKey, FEISHU_VERIFICATION_TOKEN: SECRETS.verificationToken },
      ports: storageFeishuPorts(storage.db, () => new Date().toISOString()),
      expressApp: web,
      domain: fake.url,
    });
    if (!app.enabled) throw new Error(app.reason);
    await app.start();
    const server: Server = await new Promise((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The same app with the durable intake (as main.ts runs it) on a second server.
    const durableWeb = express();
    // The intake's journal as main.ts opens it (BENCH_ACK_JOURNAL=main keeps it in the main file, as before issue 16's fourth session).
    const journal = await openIntakeJournal(storage, join(dir, 'bench.db'), parseIntakeJournalSetting(process.env.BENCH_ACK_JOURNAL));
    const intake = new InboundQueue({ db: journal.store.db, dialect: journal.store.dialect, owner: 'bench', time: ctx.time, logger: ctx.logger, newId: ctx.newId, runSoon: journal.store.runSoon });
    const durableApp = createFeishuApp({
      ctx,
      env: { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_MODE: 'http', FEISHU_ENCRYPT_KEY: SECRETS.encryptKey, FEISHU_VERIFICATION_TOKEN: SECRETS.verificationToken },
      ports: storageFeishuPorts(storage.db, () => new Date().toISOString()),
      expressApp: durableWeb,
      domain: fake.url,
      intake,
    });
    if (!durableApp.enabled) throw new Error(durableApp.reason);
    const durableServer: Server = await new Promise((resolve) => {
      const s = durableWeb.listen(0, '127.0.0.1', () => resolve(s));
    });
    const durableBase = `http://127.0.0.1:${(durableServer.address() as AddressInfo).port}`;

    const requester = await ensureUser(ctx, { platform: 'feishu', workspace: TENANT, platformUserId: 'ou_req', name: 'Req' });
    const ticketIds: string[] = [];
    for (let i = 0; i < TICKETS; i++) {
      const r = await createTicket(ctx, { meta: { actorId: requester, platform: 'feishu' }, categoryId: 'wrong-password', title: `bench ${i}`, description: '', fields: { account: 'a' } });
      if (!r.ok) throw new Error(r.error.code);
      ticketIds.push(r.value.ticket.id);
    }
    const current = new Map(ticketIds.map((id) => [id, 'normal']));
    let seq = 0;
    /** One priority-change click per request, always to the other priority, so each is a real write. */
    const clicks = (n: number) =>
      Array.from({ length: n }, () => {
        const id = ticketIds[seq % TICKETS]!;
        const next = current.get(id) === 'high' ? 'normal' : 'high';
        current.set(id, next);
        seq++;
        const envelope = {
          schema: '2.0',
          header: { event_id: `bench_${seq}`, event_type: 'card.action.trigger', create_time: String(Date.now()), token: SECRETS.verificationToken, app_id: fake.appId, tenant_key: TENANT },
          event: {
            operator: { open_id: 'ou_a1', tenant_key: TENANT },
            token: `c-${seq}`,
            action: { value: { a: 'priority', t: id, v: seq }, tag: 'select_static', option: next },
            context: { open_message_id: `om_bench_${seq % TICKETS}`, open_chat_id: 'oc_help' },
          },
        };
        return buildFeishuRequest(SECRETS, envelope, { timestampSec: Math.floor(Date.now() / 1000) });
      });

    // Warm up every path (JIT, token, identity cache) before measuring.
    await openLoop(base + FEISHU_EVENTS_PATH, clicks(40), 100);
    await openLoop(base + '/bare', clicks(40), 100);
    await openLoop(durableBase + FEISHU_EVENTS_PATH, clicks(40), 100);

    const phases: Phase[] = [];
    for (const rate of [50, 200]) {
      for (const [handler, path] of [
        ['bare express route', '/bare'],
        ['verify + decrypt only', '/verify-only'],
        ['full: verify + core use case (SQLite)', FEISHU_EVENTS_PATH],
        ['full + durable intake (stored before the answer)', `durable:${FEISHU_EVENTS_PATH}`],
      ] as const) {
        // Let the work queued by the previous row finish first.
        for (let i = 0; i < 600 && intake.inProgress > 0; i++) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 2000));
        const bodies = clicks(rate * seconds);
        const url = path.startsWith('durable:') ? durableBase + path.slice('durable:'.length) : base + path;
        const { latencies, ok } = await openLoop(url, bodies, rate);
        phases.push({ handler, rate, sent: bodies.length, ok, latencies: latencies.sort((a, b) => a - b) });
      }
    }
    const changes = await storage.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'priority_changed').executeTakeFirstOrThrow();

    await app.stop();
    await durableApp.stop();
    await intake.drain(5000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => durableServer.close(() => resolve()));
    await fake.stop();
    await journal.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });

    const rows = phases.map(
      (p) => `| ${p.rate} | ${p.handler} | ${p.sent} | ${p.ok} | ${percentile(p.latencies, 50).toFixed(2)} | ${percentile(p.latencies, 99).toFixed(2)} | ${p.latencies.at(-1)!.toFixed(2)} |`,
    );
    return [
      '## feishu-ack: card-action ack latency (HTTP mode)',
      '',
      `Open-loop load, ${seconds} s per row, loopback; each request a signed, encrypted \`card.action.trigger\` (priority change on one of ${TICKETS} tickets). Feishu's limit is 3000 ms. ${Number(changes.n)} priority changes were committed by the full path (warm-up included).`,
      '',
      '| req/s | handler | sent | 200 OK | p50 ms | p99 ms | max ms |',
      '|---:|---|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  },
};
