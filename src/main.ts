import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { readEnv, type Env } from './config/env';
import { ConfigError, loadConfigFile } from './config/load';
import { locateConfig } from './config/locate';
import type { Config } from './config/model';
import { calendarsFromConfig } from './domain/calendar';
import { officialDataWarnings } from './config/holidays';
import { ensureRollup } from './reports/rollup';
import { restoreDeferredIndexes } from './storage/deferredIndexes';
import { ReportWorkerPool } from './reports/pool';
import type { AppContext } from './app/context';
import { systemTime } from './app/context';
import { newId } from './app/ids';
import { createLogger } from './logger';
import { openStorage, prepareDatabase, type Storage } from './storage/database';
import { createWebServer } from './web/server';
import { createDashboardRouter } from './web/dashboard/router';
import { createApiRouter } from './web/api/router';
import { createIntakeWebRouter } from './web/intake/router';
import { createDashboardKbRouter } from './web/dashboard/kb';
import { readIntegrationKeys, readWebhookTargets } from './config/integrations';
import { createWebhookSender } from './jobs/webhook-sender';
import { dashboardLinks } from './chat/dashboard';
import { parseDuration } from './domain/duration';
import { createTimerHandler } from './app/timers';
import { Scheduler } from './jobs/scheduler';
import { OutboxDispatcher, type OutboxSender } from './jobs/outbox-dispatcher';
import { outboxHealth } from './jobs/outbox-claims';
import { InboundQueue, renderInboundMetrics } from './jobs/inbound';
import { openIntakeJournal, parseIntakeJournalSetting } from './storage/intakeJournal';
import { collectMetrics, renderPrometheus } from './jobs/prometheus';
import { ensureRecurringJobs } from './jobs/recurring';
import { digestJobsFromConfig } from './jobs/digest';
import { reportJobs } from './jobs/reports';
import { retentionJob, tableSizes } from './jobs/retention';
import { createSlackApp, SlackTokenRejected } from './slack/app';
import { createFeishuApp } from './feishu/app';
import { storageSlackPorts } from './wiring/slack-ports';
import { storageFeishuPorts } from './wiring/feishu-ports';
import { feishuStatus, slackStatus, type PlatformStatus } from './platforms';

export interface RunningBot {
  ctx: AppContext;
  port: number;
  stop(): Promise<void>;
}

/** Names this process's leases; unique across replicas and restarts. */
function processOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** Composition root: config → storage → core → HTTP → platforms → scheduler and outbox. */
export async function startBot(env: Env, logger: Logger): Promise<RunningBot> {
  const located = locateConfig(env);
  if (located.usedExample) logger.warn({ config: located.path }, `no ./ticketbot.yaml and TICKETBOT_CONFIG not set: using the shipped example config ${located.path}`);
  const config: Config = loadConfigFile(located.path);
  logger.info({ config: located.path, departments: config.departments.size, categories: config.leaves.size }, 'config loaded');
  for (const warning of officialDataWarnings(config.raw.calendars)) logger.warn(warning);
  const tickMs = parseDuration(env.TICKETBOT_TICK);
  if (tickMs === undefined || tickMs <= 0) throw new Error(`TICKETBOT_TICK: "${env.TICKETBOT_TICK}" is not a duration like 5s or 1m`);
  const leaseMs = parseDuration(env.TICKETBOT_INTAKE_LEASE);
  if (leaseMs === undefined || leaseMs < 1000) throw new Error(`TICKETBOT_INTAKE_LEASE: "${env.TICKETBOT_INTAKE_LEASE}" is not a duration of at least 1s`);
  const drainMs = parseDuration(env.TICKETBOT_DRAIN_TIMEOUT);
  if (drainMs === undefined || drainMs < 0) throw new Error(`TICKETBOT_DRAIN_TIMEOUT: "${env.TICKETBOT_DRAIN_TIMEOUT}" is not a duration like 20s`);
  const reportTimeoutMs = parseDuration(env.TICKETBOT_REPORT_TIMEOUT);
  if (reportTimeoutMs === undefined || reportTimeoutMs < 1000) throw new Error(`TICKETBOT_REPORT_TIMEOUT: "${env.TICKETBOT_REPORT_TIMEOUT}" is not a duration of at least 1s`);

  const storageOptions = { databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE };
  const storage: Storage = await openStorage(storageOptions);
  const { applied, returnReasonsRewritten } = await prepareDatabase(storage.db, { returnReasons: config.raw.return_reasons });
  if (returnReasonsRewritten > 0) logger.info({ rows: returnReasonsRewritten }, 'return reasons stored by name rewritten to their ids');
  logger.info({ database: storage.description, migrationsApplied: applied }, 'database ready');

  const ctx: AppContext = {
    db: storage.db,
    dialect: storage.dialect,
    config,
    calendars: calendarsFromConfig(config.raw),
    time: systemTime,
    logger,
    newId: () => newId(),
  };
  // Indexes an interrupted `ticketbot import` left dropped (storage/deferredIndexes.ts) are built again.
  const rebuilt = await restoreDeferredIndexes(storage.db);
  if (rebuilt.length) logger.info({ indexes: rebuilt }, 'indexes left by an interrupted import built');
  // The report rollup is built for a report zone and calendars; (re)built here when they changed.
  const rollupStarted = Date.now();
  if (await ensureRollup(ctx, ctx.time.now().toISOString())) logger.info({ ms: Date.now() - rollupStarted }, 'report rollup rebuilt');
  const owner = processOwner();
  // Stopping runs in three phases: stop taking requests (HTTP server, sockets), drain the work
  // already received, then stop the workers and close the database.
  const stack = new ShutdownStack(logger);
  const doors = new ShutdownStack(logger);
  stack.push('database', () => storage.close());
  // Report work off the event loop (issue 16): worker threads with their own read-only connections.
  // An in-memory database cannot be shared with them; 0 workers keeps reports on this thread.
  if (env.TICKETBOT_REPORT_WORKERS > 0 && (storage.dialect === 'postgres' || env.TICKETBOT_DB_FILE !== ':memory:')) {
    const pool = new ReportWorkerPool({ storage: storageOptions, config: config.raw, size: env.TICKETBOT_REPORT_WORKERS, timeoutMs: reportTimeoutMs, logger });
    ctx.reports = pool;
    stack.push('report workers', () => pool.close());
    logger.info({ workers: env.TICKETBOT_REPORT_WORKERS, timeoutMs: reportTimeoutMs }, 'report workers: on');
  } else logger.info('report workers: off (reports run on the main thread)');
  const journal = await openIntakeJournal(storage, storage.dialect === 'sqlite' ? env.TICKETBOT_DB_FILE : undefined, parseIntakeJournalSetting(env.TICKETBOT_INTAKE_JOURNAL));
  stack.push('intake journal', () => journal.close());
  logger.info({ journal: journal.store.description, adopted: journal.adopted }, journal.separate ? 'intake journal: its own file' : 'intake journal: in the main database');
  const intake = new InboundQueue({ db: journal.store.db, dialect: journal.store.dialect, owner, time: ctx.time, logger, newId: ctx.newId, runSoon: journal.store.runSoon, leaseMs, pollMs: Math.min(1000, leaseMs / 4) });
  stack.push('inbound recovery', () => intake.drain(0));
  const stopAll = async () => {
    await doors.unwind();
    await intake.drain(drainMs);
    await stack.unwind();
  };

  try {
    const platforms: Record<string, PlatformStatus> = { slack: slackStatus(env), feishu: feishuStatus(env) };
    const dispatchers: OutboxDispatcher[] = [];
    let scheduler: Scheduler | undefined;

    // The dashboard signs its links; without a configured secret a per-process one still lets a
    // single instance work, but links die with the process and do not cross replicas.
    const secret = env.TICKETBOT_SECRET ?? randomBytes(32).toString('hex');
    if (!env.TICKETBOT_SECRET) logger.warn('TICKETBOT_SECRET is not set: dashboard links are signed with a random per-process secret (set it when running several replicas)');

    const web = createWebServer({
      logger,
      metricsToken: env.TICKETBOT_METRICS_TOKEN,
      environment: env.NODE_ENV,
      health: {
        database: async () => {
          await sql`select 1`.execute(storage.db);
          // Row counts of the tables that grow (retention: config `retention:`, job housekeeping.retention).
          return { ok: true, dialect: storage.dialect, tables: await tableSizes(storage.db) };
        },
        platforms: () => platforms,
        scheduler: async () => {
          const outbox = await outboxHealth(storage.db, ctx.time.now().toISOString());
          return {
            state: scheduler ? 'running' : 'off',
            ticks: scheduler?.stats().ticks ?? 0,
            failedDeliveries: outbox.reduce((n, o) => n + o.failed, 0),
            outbox,
          };
        },
      },
      metrics: async () => renderPrometheus(await collectMetrics(storage.db, ctx.time.now().toISOString(), { scheduler, dispatchers })) + (await renderInboundMetrics(intake)),
    });
    const { port, server } = await web.listen(env.PORT, env.HOST);
    doors.push('http server', () => closeServer(server));
    const publicUrl = (env.TICKETBOT_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
    const dashboard = dashboardLinks(ctx, { baseUrl: publicUrl, secret });
    // Knowledge-base pages (issue 18) first: /dashboard/kb would otherwise reach the dashboard's own routes.
    web.app.use(createDashboardKbRouter({ ctx, secret }));
    web.app.use(createDashboardRouter({ ctx, secret }));
    logger.info({ url: `${publicUrl}/dashboard` }, 'dashboard: on (links from /ticket dashboard)');
    if (ctx.config.raw.integrations.length > 0) {
      const { keys, missing } = readIntegrationKeys(ctx.config.raw);
      web.app.use(createApiRouter({ ctx, keys, publicUrl }));
      logger.info({ url: `${publicUrl}/api/v1/openapi.json`, integrations: keys.map((k) => k.id), missing }, 'intake API: on');
      // The web form and status pages (issue 18); links from `ticketbot integrations link`.
      web.app.use(createIntakeWebRouter({ ctx, secret, publicUrl }));
    }

    const senders: OutboxSender[] = [];
    if (platforms.slack!.on) {
      try {
        const slack = await createSlackApp({ ctx, env, ports: storageSlackPorts(ctx), expressApp: web.app, dashboard, intake });
        intake.register('slack', (payload) => slack.replay(payload));
        await slack.start();
        doors.push('slack', () => slack.stop());
        senders.push(slack.sender);
        logger.info({ platform: 'slack', mode: slack.mode, workspace: slack.workspace.name }, `Slack: on (${slack.mode}, workspace ${slack.workspace.name})`);
      } catch (err) {
        if (err instanceof SlackTokenRejected) throw err;
        // An unreachable Slack must not take Feishu and the scheduler down with it.
        platforms.slack = { on: false, reason: (err as Error).message };
        logger.error({ platform: 'slack' }, `Slack: off — ${(err as Error).message}`);
      }
    } else logger.info({ platform: 'slack' }, `Slack: off — ${platforms.slack!.reason}`);

    if (platforms.feishu!.on) {
      const feishu = createFeishuApp({ ctx, env, ports: storageFeishuPorts(storage.db, () => ctx.time.now().toISOString()), expressApp: web.app, dashboard, intake });
      if (feishu.enabled) {
        intake.register('feishu', (payload) => feishu.replay(payload));
        await feishu.start();
        doors.push('feishu', () => feishu.stop());
        senders.push(feishu.sender);
        logger.info({ platform: 'feishu', mode: feishu.mode }, `Feishu: on (${feishu.mode})`);
      } else {
        platforms.feishu = { on: false, reason: feishu.reason };
        logger.info({ platform: 'feishu' }, `Feishu: off — ${feishu.reason}`);
      }
    } else logger.info({ platform: 'feishu' }, `Feishu: off — ${platforms.feishu!.reason}`);
    // Outgoing webhooks of the integrations (issue 18) ride on the outbox like a platform.
    if (ctx.config.raw.integrations.some((i) => i.webhook)) {
      const { targets, missing } = readWebhookTargets(ctx.config.raw);
      senders.push(createWebhookSender({ targets, time: ctx.time, logger }));
      logger.info({ integrations: targets.map((t) => t.id), missing }, 'outgoing webhooks: on');
    }
    // Every route is mounted: unknown paths and errors get JSON answers without details.
    web.finish();

    // Payloads stored but not finished (a crash, a restart, another replica's) are taken over here.
    intake.start();
    logger.info({ leaseMs }, 'durable intake: on');

    for (const sender of senders) {
      const dispatcher = new OutboxDispatcher({
        db: storage.db,
        dialect: storage.dialect,
        owner,
        sender,
        time: ctx.time,
        logger,
        admins: config.raw.admins,
        defaultLocale: config.raw.locale,
        newId: ctx.newId,
        tickMs: Math.min(tickMs, 1000),
      });
      dispatcher.start();
      dispatchers.push(dispatcher);
      stack.push(`${sender.platform} outbox`, () => dispatcher.stop());
    }

    const jobs = [...digestJobsFromConfig(config, ctx.newId), ...reportJobs(ctx, { dashboard: { baseUrl: publicUrl, secret } }), retentionJob(ctx)];
    await ensureRecurringJobs(storage.db, jobs, ctx.time.now().toISOString());
    const running = new Scheduler({
      db: storage.db,
      dialect: storage.dialect,
      owner,
      tickMs,
      batchSize: 200,
      leaseMs: 60_000,
      time: ctx.time,
      logger,
      handler: createTimerHandler(ctx),
      jobs,
    });
    running.start();
    scheduler = running;
    stack.push('scheduler', () => running.stop());
    logger.info({ owner, tickMs, jobs: jobs.map((j) => j.id) }, 'scheduler: on');

    return { ctx, port, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Things to stop, in reverse order of starting: claims stop before connections and the database close. */
class ShutdownStack {
  private readonly steps: { name: string; stop: () => Promise<unknown> }[] = [];
  private done: Promise<void> | undefined;
  constructor(private readonly logger: Logger) {}
  push(name: string, stop: () => Promise<unknown>): void {
    this.steps.push({ name, stop });
  }
  unwind(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.stop();
        } catch (err) {
          this.logger.error({ err, step: step.name }, 'error while stopping');
        }
      }
      this.logger.info('stopped');
    })();
    return this.done;
  }
}

/** Stops listening; requests already being answered get 3 s, then their connections are closed. */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 3000);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = readEnv();
  } catch (err) {
    console.error(`ticketbot: ${(err as Error).message}`);
    process.exit(1);
  }
  const logger = createLogger(env.LOG_LEVEL);
  try {
    const bot = await startBot(env, logger);
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      bot.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ticketbot: the config is not valid — ${err.file}`);
      for (const p of err.problems) console.error(`  ${p.path}: ${p.message}`);
      console.error('Fix these keys (check with: npm run ticketbot -- config check FILE) and start again.');
    } else {
      console.error(`ticketbot: could not start — ${(err as Error).message}`);
      logger.debug({ err }, 'start-up failure');
    }
    process.exit(1);
  }
}

if (require.main === module) void main();
