import * as lark from '@larksuiteoapi/node-sdk';
import { channelOf } from '../domain/platforms';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { AppContext } from '../app/context';
import { createHash } from 'node:crypto';
import type { DashboardLinks } from '../chat/dashboard';
import { IntakeClosed, type DurableIntake } from '../chat/intake';
import type { Env } from '../config/env';
import { FeishuApi, resolveDomain, sdkLogger } from './api';
import { FeishuIdentity } from './identity';
import { DEFAULT_ACK_BUDGET_MS, FeishuInbound, syncDepartmentMembers } from './inbound';
import type { FeishuPorts } from './ports';
import { defaultTicketViewLoader, type FeishuRuntime } from './runtime';
import { FeishuSender } from './sender';
import { verifyFeishuRequest, type FeishuHttpSecrets } from './verify';
import { jsonErrorHandler } from '../http-errors';

export const FEISHU_EVENTS_PATH = '/feishu/events';
/** What the SDK's long connection accepts as an app id. */
const APP_ID_RE = /^cli_[0-9a-fA-F]{16}$/;

export type FeishuEnv = Pick<Env, 'FEISHU_APP_ID' | 'FEISHU_APP_SECRET' | 'FEISHU_MODE' | 'FEISHU_DOMAIN' | 'FEISHU_ENCRYPT_KEY' | 'FEISHU_VERIFICATION_TOKEN'>;

export interface CreateFeishuAppOptions {
  ctx: AppContext;
  env: FeishuEnv;
  ports: FeishuPorts;
  /** HTTP mode mounts POST /feishu/events here; without it, mount `router` yourself. */
  expressApp?: express.Application;
  /** Overrides FEISHU_DOMAIN (tests point it at a fake). */
  domain?: string;
  logger?: Logger;
  ackBudgetMs?: number;
  /** Events and card actions worked on at once; beyond it requests are acked at once and queued. */
  workConcurrency?: number;
  /** Long connection: how long start() waits for the socket before going on (default 15 s). */
  connectTimeoutMs?: number;
  /** Signed dashboard links for `/ticket dashboard`; without it the command says the dashboard is off. */
  dashboard?: DashboardLinks;
  /** Stores every verified payload before its answer (main.ts: the inbound_events table); absent = not durable. */
  intake?: DurableIntake;
}

export type FeishuApp =
  | { enabled: false; reason: string }
  | {
      enabled: true;
      mode: 'ws' | 'http';
      api: FeishuApi;
      inbound: FeishuInbound;
      sender: FeishuSender;
      runtime: FeishuRuntime;
      /** HTTP mode only: the router serving POST /feishu/events. */
      router?: Router;
      /** Connects the long connection (ws mode) and syncs department members from their chats. */
      start(): Promise<void>;
      stop(): Promise<void>;
      syncMembers(): Promise<void>;
      /** Works a stored payload again through the same handler (no answer is owed any more). */
      replay(payload: unknown): Promise<void>;
    };

/** Kind and dedup key of a verified Feishu payload: its event id (kept by Feishu across re-pushes). */
export function feishuInboundKey(payload: unknown): { kind: string; dedupKey: string } {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as { header?: { event_id?: unknown; event_type?: unknown }; type?: unknown };
  const header = typeof p.header === 'object' && p.header !== null ? p.header : {};
  const kind = typeof header.event_type === 'string' ? header.event_type : typeof p.type === 'string' ? p.type : 'unknown';
  const id = typeof header.event_id === 'string' && header.event_id !== '' ? header.event_id : createHash('sha256').update(JSON.stringify(payload ?? null)).digest('hex').slice(0, 40);
  return { kind, dedupKey: `feishu:${id}` };
}

/**
 * The door of both modes: the payload is stored (one insert) before FeishuInbound works it and its
 * answer goes out; the row is finished when the work is, which may be after the answer. A re-push
 * of a stored payload is answered and not worked again.
 */
function durableReceiver(inbound: FeishuInbound, intake: DurableIntake | undefined, logger: Logger) {
  const receive = async (payload: unknown): Promise<unknown> => {
    if (!intake) return inbound.handle(payload);
    const key = feishuInboundKey(payload);
    const admission = await intake.admit({ platform: 'feishu', kind: key.kind, dedupKey: key.dedupKey, payload });
    if (!admission.fresh) {
      logger.info({ kind: key.kind }, 'feishu payload already received; answered again');
      return {};
    }
    let work: Promise<unknown> | undefined;
    let failure: unknown;
    let answer: unknown;
    try {
      answer = await inbound.handle(payload, (w) => (work = w));
    } catch (err) {
      // Stored: it is tried again from the database; Feishu gets its answer now.
      failure = err ?? new Error('feishu handler failed');
      answer = {};
    }
    void (work ?? Promise.resolve())
      .then(
        () => failure,
        (err: unknown) => err ?? new Error('feishu work failed'),
      )
      .then((error) => admission.finish(error));
    return answer;
  };
  const replay = async (payload: unknown): Promise<void> => {
    let work: Promise<unknown> | undefined;
    await inbound.handle(payload, (w) => (work = w));
    if (work) await work;
  };
  return { receive, replay };
}

/**
 * The Feishu (Lark) side of the bot. Long connection by default (no public URL needed);
 * FEISHU_MODE=http serves POST /feishu/events instead, checking what the SDK does not.
 */
export function createFeishuApp(opts: CreateFeishuAppOptions): FeishuApp {
  const { ctx, env } = opts;
  const logger = (opts.logger ?? ctx.logger).child({ platform: 'feishu' });
  if (!env.FEISHU_APP_ID || !env.FEISHU_APP_SECRET) return { enabled: false, reason: 'FEISHU_APP_ID and FEISHU_APP_SECRET are not set' };
  const mode = env.FEISHU_MODE ?? 'ws';
  let secrets: FeishuHttpSecrets | undefined;
  if (mode === 'http') {
    if (!env.FEISHU_ENCRYPT_KEY || !env.FEISHU_VERIFICATION_TOKEN)
      return { enabled: false, reason: 'FEISHU_MODE=http needs FEISHU_ENCRYPT_KEY and FEISHU_VERIFICATION_TOKEN (Events and Callbacks → Encryption Strategy)' };
    secrets = { encryptKey: env.FEISHU_ENCRYPT_KEY, verificationToken: env.FEISHU_VERIFICATION_TOKEN };
  }
  const domain = resolveDomain(opts.domain ?? env.FEISHU_DOMAIN);
  const api = new FeishuApi({ appId: env.FEISHU_APP_ID, appSecret: env.FEISHU_APP_SECRET, domain, logger });
  const runtime: FeishuRuntime = {
    ctx,
    api,
    identity: new FeishuIdentity(ctx, api, logger),
    links: opts.ports.links,
    members: opts.ports.members,
    loadTicketView: opts.ports.loadTicketView ?? defaultTicketViewLoader(ctx),
    logger,
    ...(opts.dashboard ? { dashboard: opts.dashboard } : {}),
  };
  const inbound = new FeishuInbound(runtime, opts.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS, opts.workConcurrency);
  const sender = new FeishuSender(runtime, { tenant: env.FEISHU_APP_ID });
  const door = durableReceiver(inbound, opts.intake, logger);

  const syncMembers = async (): Promise<void> => {
    for (const d of ctx.config.departments.values()) {
      if (!channelOf(d, 'feishu') || d.members !== 'channel') continue;
      try {
        const n = await syncDepartmentMembers(runtime, d.id, env.FEISHU_APP_ID!);
        logger.info({ department: d.id, members: n }, 'feishu department members synced');
      } catch (err) {
        logger.warn({ department: d.id, err: err instanceof Error ? err.message : String(err) }, 'cannot read the members of the department chat; is the bot in it?');
      }
    }
  };

  if (mode === 'http') {
    const router = feishuEventsRouter({ secrets: secrets!, inbound, ctx, logger, receive: door.receive });
    opts.expressApp?.use(router);
    return { enabled: true, mode, api, inbound, sender, runtime, router, start: syncMembers, stop: async () => undefined, syncMembers, replay: door.replay };
  }

  // The SDK refuses other ids without an error and never connects: say so up front.
  if (!APP_ID_RE.test(env.FEISHU_APP_ID)) return { enabled: false, reason: `FEISHU_APP_ID "${env.FEISHU_APP_ID}" is not a Feishu app id (cli_ and 16 hex digits)` };
  const dispatcher = new EnvelopeDispatcher(door.receive, logger);
  // WSClient.start() resolves before the socket is open and reports a final failure (e.g. a wrong
  // secret) only through onError: turn both into the outcome of our start().
  let connected: (outcome: Error | undefined) => void = () => undefined;
  const firstOutcome = new Promise<Error | undefined>((resolve) => (connected = resolve));
  const ws = new lark.WSClient({
    appId: env.FEISHU_APP_ID,
    appSecret: env.FEISHU_APP_SECRET,
    domain,
    logger: sdkLogger(logger),
    loggerLevel: lark.LoggerLevel.warn,
    onReady: () => connected(undefined),
    onError: (err) => {
      connected(err);
      logger.error({ err: err.message }, 'feishu long connection failed');
    },
  });
  return {
    enabled: true,
    mode,
    api,
    inbound,
    sender,
    runtime,
    start: async () => {
      await ws.start({ eventDispatcher: dispatcher });
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([firstOutcome, new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), opts.connectTimeoutMs ?? 15_000)))]);
      clearTimeout(timer);
      if (waited instanceof Error) throw new Error(`Feishu: the long connection was refused (${waited.message}); check FEISHU_APP_ID, FEISHU_APP_SECRET and FEISHU_DOMAIN`);
      if (waited === 'slow') logger.warn('feishu long connection not open yet; the SDK keeps retrying');
      else logger.info('feishu long connection open');
      await syncMembers();
    },
    stop: async () => ws.close({ force: true }),
    syncMembers,
    replay: door.replay,
  };
}

/**
 * The long connection hands every frame (events and card callbacks alike) to an EventDispatcher.
 * Ours forwards the raw schema 2.0 envelope, so both modes share one handler and one parser.
 */
class EnvelopeDispatcher extends lark.EventDispatcher {
  constructor(
    private readonly onEnvelope: (payload: unknown) => Promise<unknown>,
    logger: Logger,
  ) {
    super({ logger: sdkLogger(logger), loggerLevel: lark.LoggerLevel.warn });
  }

  override async invoke(data: unknown): Promise<unknown> {
    return this.onEnvelope(data);
  }
}

/**
 * POST /feishu/events for events and card callbacks: signature over the raw bytes, freshness,
 * token, decryption. Anything that fails is answered 401 before it reaches a listener.
 */
export function feishuEventsRouter(o: { secrets: FeishuHttpSecrets; inbound: FeishuInbound; ctx: AppContext; logger: Logger; receive?: (payload: unknown) => Promise<unknown> }): Router {
  const router = express.Router();
  router.post(FEISHU_EVENTS_PATH, express.raw({ type: () => true, limit: '1mb' }), async (req: Request, res: Response) => {
    if (!Buffer.isBuffer(req.body)) {
      // Someone parsed the body before us: the signature cannot be checked on re-serialised JSON.
      o.logger.error('the body of /feishu/events was parsed before the Feishu route; mount the Feishu router before any body parser');
      res.status(401).json({ error: 'unverifiable request' });
      return;
    }
    const outcome = verifyFeishuRequest({ headers: req.headers, rawBody: req.body.toString('utf8'), nowMs: o.ctx.time.now().getTime() }, o.secrets);
    if (!outcome.ok) {
      o.logger.warn({ reason: outcome.reason, ip: req.ip }, 'feishu request rejected');
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    if (outcome.kind === 'challenge') {
      res.json({ challenge: outcome.challenge });
      return;
    }
    try {
      res.json(await (o.receive ? o.receive(outcome.payload) : o.inbound.handle(outcome.payload)));
    } catch (err) {
      if (err instanceof IntakeClosed) {
        // Stopping: not stored, so not answered 200; Feishu pushes it again (to another replica).
        res.status(503).json({ error: 'unavailable' });
        return;
      }
      o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'feishu event handler failed');
      res.status(500).json({ error: 'internal' });
    }
  });
  // Body errors (over 1 MB, bad gzip, unknown Content-Encoding) happen before any signature check:
  // answer them here, as JSON without details, whatever server this router is mounted on.
  router.use(FEISHU_EVENTS_PATH, jsonErrorHandler(o.logger));
  return router;
}
