import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, ExpressReceiver } from '@slack/bolt';
import express from 'express';
import pino from 'pino';
import { newId } from '../src/app/ids';
import type { AppContext } from '../src/app/context';
import { calendarsFromConfig } from '../src/domain/calendar';
import { createSlackApp } from '../src/slack/app';
import { openIntakeJournal, parseIntakeJournalSetting } from '../src/storage/intakeJournal';
import { migrate, openStorage, type Storage } from '../src/storage/database';
import type { LegRow, TicketRow } from '../src/storage/tables';
import { createWebServer } from '../src/web/server';
import { InboundQueue } from '../src/jobs/inbound';
import { FakeSlack } from '../test/fakes/slack-server';
import { SLACK_TEST_CONFIG, slackTestConfig } from '../test/fakes/slack-harness';
import { storageSlackPorts } from '../src/wiring/slack-ports';
import { percentile, type Benchmark } from './harness';
import { resolvePeriod } from '../src/domain/periods';
import { reportTimeZone } from '../src/reports/queries';
import { ensureRollup } from '../src/reports/rollup';
import { inlineReportRunner, type ReportRunner } from '../src/reports/runner';
import { ReportWorkerPool } from '../src/reports/pool';

/**
 * Ack latency of /slack/events: signed slash commands and Claim clicks at a fixed rate (open loop),
 * against our app (HTTP mode, SQLite file with many tickets, fake Slack Web API on loopback) and
 * against a bare Bolt app whose handlers only ack, measured in the same run.
 */

const SECRET = 'bench-signing-secret';

function sign(body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex') };
}

/** Bulk-loads tickets (with a leg each) outside the measured part. */
async function seedTickets(storage: Storage, count: number): Promise<string[]> {
  const ids: string[] = [];
  const created = '2026-03-01T02:00:00.000Z';
  const batch = 500;
  for (let start = 0; start < count; start += batch) {
    const tickets: TicketRow[] = [];
    const legs: LegRow[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const id = newId(Date.parse(created) + i);
      ids.push(id);
      const legId = `${id}L`;
      tickets.push({
        id, key: `IT-${1001 + i}`, department_id: 'it', home_department_id: 'it', category_id: 'how-to', priority: ['low', 'normal', 'high', 'urgent'][i % 4]!,
        title: `Bench ticket ${i}`, description: 'seeded', state: i % 5 === 0 ? 'closed' : 'new', requester_id: 'slack:UREQ', assignee_id: null, sensitive: 0, locale: 'en',
        source_platform: 'slack', source_ref: null, current_leg_id: legId, public_reply_count: 0, reopen_count: 0, version: 1, created_at: created, updated_at: created,
        first_response_at: null, resolved_at: null, closed_at: null,
      });
      legs.push({ id: legId, ticket_id: id, seq: 1, department_id: 'it', from_department_id: null, state: 'accepted', assignee_id: null, reason: null, note: null, return_reason: null, opened_by: 'slack:UREQ', opened_at: created, accepted_at: created, closed_at: null });
    }
    await storage.db.transaction().execute(async (tx) => {
      await tx.insertInto('tickets').values(tickets).execute();
      await tx.insertInto('legs').values(legs).execute();
    });
  }
  await storage.db.insertInto('key_sequences').values({ prefix: 'IT', last_value: 1000 + count }).execute();
  return ids.filter((_, i) => i % 5 !== 0);
}

interface Target {
  name: string;
  url: string;
}

/** Sends `rate` requests per second for `seconds`, each on its own schedule; returns ack latencies in ms. */
interface Leg {
  latencies: number[];
  errors: number;
  /** Share of the leg the event loop was busy (our work, Bolt, the load generator, the fake API). */
  busy: number;
  /** p99 of the event loop's delay: how long a ready callback (an ack among them) waited for the loop. */
  loopDelayP99: number;
  /** The longest single stall: every request arriving during it waits for it. */
  loopDelayMax: number;
}

async function drive(target: Target, rate: number, seconds: number, nextBody: () => { body: string; type: string }): Promise<Leg> {
  const latencies: number[] = [];
  let errors = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const utilisation = performance.eventLoopUtilization();
  const total = rate * seconds;
  const interval = 1000 / rate;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const { body, type } = nextBody();
    const t0 = performance.now();
    inflight.push(
      fetch(target.url, { method: 'POST', headers: { 'content-type': type, ...sign(body) }, body })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 200) errors++;
          else latencies.push(performance.now() - t0);
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(inflight);
  delay.disable();
  const busy = performance.eventLoopUtilization(utilisation).utilization;
  return { latencies: latencies.sort((a, b) => a - b), errors, busy, loopDelayP99: delay.percentile(99) / 1e6, loopDelayMax: delay.max / 1e6 };
}

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events` }));
  });
}

export const slackAckBenchmark: Benchmark = {
  name: 'slack-ack',
  run: ({ quick }) => runAck({ quick, mixed: false }),
};

/**
 * Issue 16's mixed run: the same three apps at 200 requests/s, while the process also builds the
 * weekly digest and a 365-day all-department `/ticket stats` summary over and over (each leg,
 * bare Bolt's included, shares the process with that work, as the bot's would).
 */
export const mixedBenchmark: Benchmark = {
  name: 'mixed',
  run: ({ quick }) => runAck({ quick, mixed: true }),
};

async function runAck({ quick, mixed }: { quick: boolean; mixed: boolean }): Promise<string> {
  {
    // By-hand runs (bench/RESULTS.md's pairs) may set the size, the legs' length and the rates.
    const ticketCount = Number(process.env.BENCH_ACK_TICKETS ?? (quick ? 10_000 : 100_000));
    const seconds = Number(process.env.BENCH_ACK_SECONDS ?? (quick ? 5 : 30));
    const rates = process.env.BENCH_ACK_RATES ? process.env.BENCH_ACK_RATES.split(',').map(Number) : mixed ? [200] : [50, 200];
    const dir = mkdtempSync(join(tmpdir(), 'slack-ack-'));
    const storage = await openStorage({ sqliteFile: join(dir, 'bench.db') });
    await migrate(storage.db);
    const fake = new FakeSlack();
    await fake.start();
    for (const id of ['UREQ', 'UIT1', 'UIT2']) fake.addUser({ id, name: id, locale: 'en-US' });
    fake.addChannel({ id: 'C0IT', name: 'it', members: ['UBOT', 'UIT1', 'UIT2'] });
    fake.addChannel({ id: 'C0GEN', name: 'general', members: ['UBOT', 'UREQ', 'UIT1', 'UIT2'] });
    // The mixed run posts a weekly digest to a Slack channel, so its digest has work to do.
    const config = mixed ? slackTestConfig(`${SLACK_TEST_CONFIG}\ndigest:\n  weekly: { day: mon, time: "09:00", slack_channel: C0GEN }\n`) : slackTestConfig();
    let seq = 0;
    const ctx: AppContext = {
      db: storage.db, dialect: storage.dialect, config, calendars: calendarsFromConfig(config.raw),
      time: { now: () => new Date() }, logger: pino({ level: 'silent' }), newId: () => newId() + (seq++).toString(36),
    };
    const seedStarted = performance.now();
    const open = await seedTickets(storage, ticketCount);
    const seedMs = performance.now() - seedStarted;
    // As main.ts does at start: the report rollup built for the seeded tickets.
    if (mixed) await ensureRollup(ctx, new Date().toISOString());
    // Issue 16: the reports run either on the main thread (inline, as before) or in a report worker
    // (as main.ts runs them); each mode gets its own legs of the three apps.
    const inlineReports = inlineReportRunner(ctx);
    const pool = mixed ? new ReportWorkerPool({ storage: { sqliteFile: join(dir, 'bench.db') }, config: config.raw, timeoutMs: 600_000, logger: ctx.logger }) : undefined;
    await pool?.ready();
    let reports: ReportRunner = inlineReports;
    const background = { digests: [] as number[], stats: [] as number[], running: false, done: Promise.resolve() };
    const startReports = () => {
      if (!mixed) return;
      background.running = true;
      background.done = (async () => {
        while (background.running) {
          let t = performance.now();
          await reports.run({ kind: 'digest', nowMs: Date.now() });
          background.digests.push(performance.now() - t);
          if (!background.running) break;
          t = performance.now();
          const nowMs = Date.now();
          const period = resolvePeriod({ kind: 'days', days: 365 }, nowMs, reportTimeZone(config))!;
          await reports.run({ kind: 'metrics', filter: { fromMs: period.fromMs, toMs: period.toMs }, nowMs });
          background.stats.push(performance.now() - t);
        }
      })();
    };
    const stopReports = async () => {
      background.running = false;
      await background.done;
    };
    const withReports = async <T>(work: () => Promise<T>): Promise<T> => {
      startReports();
      try {
        return await work();
      } finally {
        await stopReports();
      }
    };

    // Ours: the real app on the bot's express server.
    const web = createWebServer({ logger: ctx.logger, health: { database: async () => ({ ok: true, dialect: 'sqlite' }), platforms: () => ({}), scheduler: () => ({ state: 'off' }) } });
    const ports = storageSlackPorts(ctx);
    const slack = await createSlackApp({ ctx, env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl }, ports, expressApp: web.app, clientOptions: { retryConfig: { retries: 0 } }, memberSyncMs: 0 });
    await slack.start();
    const ours = await listen(web.app);

    // Ours with the durable intake (as main.ts runs it): each request is stored before its ack.
    const durableWeb = createWebServer({ logger: ctx.logger, health: { database: async () => ({ ok: true, dialect: 'sqlite' }), platforms: () => ({}), scheduler: () => ({ state: 'off' }) } });
    // The intake's journal as main.ts opens it (BENCH_ACK_JOURNAL=main keeps it in the main file, as before issue 16's fourth session).
    const journal = await openIntakeJournal(storage, join(dir, 'bench.db'), parseIntakeJournalSetting(process.env.BENCH_ACK_JOURNAL));
    const intake = new InboundQueue({ db: journal.store.db, dialect: journal.store.dialect, owner: 'bench', time: ctx.time, logger: ctx.logger, newId: ctx.newId, runSoon: journal.store.runSoon });
    const durableSlack = await createSlackApp({ ctx, env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl }, ports, expressApp: durableWeb.app, clientOptions: { retryConfig: { retries: 0 } }, memberSyncMs: 0, intake });
    await durableSlack.start();
    const durable = await listen(durableWeb.app);

    // Bare Bolt: the same receiver, handlers that only ack.
    const bareExpress = express();
    const bare = new App({ token: 'xoxb-bare', botId: 'B', botUserId: 'U', receiver: new ExpressReceiver({ signingSecret: SECRET, app: bareExpress as never }), convoStore: false });
    bare.command('/ticket', async ({ ack }) => ack());
    bare.action(/.*/, async ({ ack }) => ack());
    const bareServer = await listen(bareExpress);

    let n = 0;
    let claimIndex = 0;
    const nextBody = () => {
      n++;
      if (n % 2 === 0) {
        const body = new URLSearchParams({ team_id: 'T0TEST', channel_id: 'C0GEN', user_id: 'UREQ', command: '/ticket', text: 'mine', trigger_id: `t.${n}`, response_url: fake.responseUrl(`r${n}`) }).toString();
        return { body, type: 'application/x-www-form-urlencoded' };
      }
      const ticketId = open[claimIndex++ % open.length]!;
      const payload = {
        type: 'block_actions', user: { id: n % 4 === 1 ? 'UIT1' : 'UIT2' }, team: { id: 'T0TEST' }, trigger_id: `t.${n}`,
        container: { type: 'message', message_ts: `1.${n}`, channel_id: 'C0IT' }, channel: { id: 'C0IT' }, message: { ts: `1.${n}`, text: '' },
        response_url: fake.responseUrl(`a${n}`), actions: [{ action_id: 'tb_claim', action_ts: `2.${n}`, value: ticketId, type: 'button' }],
      };
      return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), type: 'application/x-www-form-urlencoded' };
    };

    /** Lets the work queued behind the acks of the previous leg finish, so legs do not measure each other. */
    const settle = async () => {
      for (let i = 0; i < 600 && intake.inProgress > 0; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 2000));
    };
    const rows: string[] = [];
    const summary: Array<{ rate: number; mode: string; ours: number[]; durable: number[]; bare: number[] }> = [];
    const perMode = new Map<string, { digests: number[]; stats: number[] }>();
    try {
      // Warm both up (JIT, connection pools, users.info cache) before measuring.
      await drive({ name: 'ours', url: ours.url }, 20, 2, nextBody);
      await drive({ name: 'bare', url: bareServer.url }, 20, 2, nextBody);
      await drive({ name: 'durable', url: durable.url }, 20, 2, nextBody);
      for (const [mode, runner] of mixed ? ([['inline', inlineReports], ['worker', pool!]] as const) : ([['–', inlineReports]] as const)) {
      reports = runner;
      background.digests = [];
      background.stats = [];
      for (const rate of rates) {
        const o = await withReports(() => drive({ name: 'ours', url: ours.url }, rate, seconds, nextBody));
        await settle();
        const b = await withReports(() => drive({ name: 'bare', url: bareServer.url }, rate, seconds, nextBody));
        await settle();
        const d = await withReports(() => drive({ name: 'durable', url: durable.url }, rate, seconds, nextBody));
        await settle();
        const fig = (l: number[]) => [percentile(l, 50), percentile(l, 99)];
        const [op50, op99] = fig(o.latencies);
        const [bp50, bp99] = fig(b.latencies);
        const [dp50, dp99] = fig(d.latencies);
        summary.push({ rate, mode, ours: [op50!, op99!], durable: [dp50!, dp99!], bare: [bp50!, bp99!] });
        const m = mixed ? `${mode} | ` : '';
        rows.push(`| ${m}${rate}/s | ours, no intake | ${o.latencies.length} | ${o.errors} | ${op50!.toFixed(1)} | ${op99!.toFixed(1)} | ${(o.busy * 100).toFixed(0)} % | ${o.loopDelayP99.toFixed(1)} / ${o.loopDelayMax.toFixed(0)} |`);
        rows.push(`| ${m}${rate}/s | ours, durable intake | ${d.latencies.length} | ${d.errors} | ${dp50!.toFixed(1)} | ${dp99!.toFixed(1)} | ${(d.busy * 100).toFixed(0)} % | ${d.loopDelayP99.toFixed(1)} / ${d.loopDelayMax.toFixed(0)} |`);
        rows.push(`| ${m}${rate}/s | bare Bolt | ${b.latencies.length} | ${b.errors} | ${bp50!.toFixed(1)} | ${bp99!.toFixed(1)} | ${(b.busy * 100).toFixed(0)} % | ${b.loopDelayP99.toFixed(1)} / ${b.loopDelayMax.toFixed(0)} |`);
      }
      perMode.set(mode, { digests: background.digests, stats: background.stats });
      }
    } finally {
      await slack.stop();
      await durableSlack.stop();
      await intake.drain(5000);
      await pool?.close();
      durable.server.closeAllConnections();
      await new Promise((r) => durable.server.close(() => r(undefined)));
      ours.server.closeAllConnections();
      bareServer.server.closeAllConnections();
      await new Promise((r) => ours.server.close(() => r(undefined)));
      await new Promise((r) => bareServer.server.close(() => r(undefined)));
      await fake.stop();
      await journal.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const claims = Math.floor(n / 2);
    const ratios = summary
      .map((s) => `${mixed ? `reports ${s.mode}, ` : ''}${s.rate}/s: p99 ${(s.durable[1]! / s.bare[1]!).toFixed(2)}× bare with the durable intake, ${(s.ours[1]! / s.bare[1]!).toFixed(2)}× without (${s.durable[1]!.toFixed(1)} / ${s.ours[1]!.toFixed(1)} ms vs ${s.bare[1]!.toFixed(1)} ms)`)
      .join('; ');
    const median = (l: number[]) => (l.length ? percentile(l, 50)!.toFixed(0) : '–');
    const mixedNote = mixed
      ? [
          '',
          `Meanwhile, during every leg (bare Bolt's included), one after the other: weekly digests (figures + chart PNG) and 365-day all-department summaries (\`/ticket stats 365d\`'s figures: a period counted back from now: whole days from the rollup, the parts of days at its edges from the stored contributions). Report reads run outside any transaction, as the report jobs do. "inline": on the main thread, as before issue 16's worker; "worker": in one report worker thread with its own read-only connection to the same file (TICKETBOT_REPORT_WORKERS=1, as main.ts runs it).`,
          '',
          ...[...perMode].map(([mode, b]) => `- reports ${mode}: ${b.digests.length} digests (median ${median(b.digests)} ms), ${b.stats.length} 365-day summaries (median ${median(b.stats)} ms)`),
        ]
      : [];
    return [
      mixed ? '## mixed — ack latency while a digest and a 1-year stats run' : '## slack-ack — ack latency of /slack/events',
      '',
      `${ticketCount.toLocaleString('en')} tickets in a SQLite file (seeded in ${(seedMs / 1000).toFixed(1)} s), HTTP mode, signed requests sent open-loop at a fixed rate for ${seconds} s each: half \`/ticket mine\`, half Claim clicks on distinct open tickets (${claims} in total). The work after the ack (claims, outbox rows, the fake Web API on loopback) runs in the same process, as in production. "durable intake" is the app as main.ts runs it: each request is first inserted into inbound_events (${process.env.BENCH_ACK_JOURNAL === 'main' ? 'in the main SQLite file, BENCH_ACK_JOURNAL=main' : 'in the intake journal, its own SQLite file beside the main one'}), then acked. "bare Bolt" is an ExpressReceiver app whose handlers only ack. Latency = request sent → HTTP response, in ms. "loop busy" is the event loop\'s utilisation during the leg and "loop delay" how long a ready callback waited for it, p99 and the longest stall (perf_hooks): the share of an ack\'s tail that is waiting for other work on the same thread.`,
      '',
      mixed ? '| reports | rate | app | acked | errors | p50 ms | p99 ms | loop busy | loop delay p99 / max ms |' : '| rate | app | acked | errors | p50 ms | p99 ms | loop busy | loop delay p99 / max ms |',
      mixed ? '|---|---|---|---|---|---|---|---|---|' : '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Ratio: ${ratios}. Aim: ours p99 ≤ 1.5 × bare and under 100 ms.`,
      ...mixedNote,
    ].join('\n');
  }
}
