import * as lark from '@larksuiteoapi/node-sdk';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { AppContext } from '../app/context';
import type { DashboardLinks } from '../chat/dashboard';
import type { Env } from '../config/env';
import { FeishuApi, resolveDomain, sdkLogger } from './api';
import { FeishuIdentity } from './identity';
import { DEFAULT_ACK_BUDGET_MS, FeishuInbound, syncDepartmentMembers } from './inbound';
import type { FeishuPorts } from './ports';
import { defaultTicketViewLoader, type FeishuRuntime } from './runtime';
import { FeishuSender } from './sender';
import { verifyFeishuRequest, type FeishuHttpSecrets } from './verify';

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
    };

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

  const syncMembers = async (): Promise<void> => {
    for (const d of ctx.config.departments.values()) {
      if (!d.feishu || d.members !== 'channel') continue;
      try {
        const n = await syncDepartmentMembers(runtime, d.id, env.FEISHU_APP_ID!);
        logger.info({ department: d.id, members: n }, 'feishu department members synced');
      } catch (err) {
        logger.warn({ department: d.id, err: err instanceof Error ? err.message : String(err) }, 'cannot read the members of the department chat; is the bot in it?');
      }
    }
  };

  if (mode === 'http') {
    const router = feishuEventsRouter({ secrets: secrets!, inbound, ctx, logger });
    opts.expressApp?.use(router);
    return { enabled: true, mode, api, inbound, sender, runtime, router, start: syncMembers, stop: async () => undefined, syncMembers };
  }

  // The SDK refuses other ids without an error and never connects: say so up front.
  if (!APP_ID_RE.test(env.FEISHU_APP_ID)) return { enabled: false, reason: `FEISHU_APP_ID "${env.FEISHU_APP_ID}" is not a Feishu app id (cli_ and 16 hex digits)` };
  const dispatcher = new EnvelopeDispatcher((payload) => inbound.handle(payload), logger);
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
export function feishuEventsRouter(o: { secrets: FeishuHttpSecrets; inbound: FeishuInbound; ctx: AppContext; logger: Logger }): Router {
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
      res.json(await o.inbound.handle(outcome.payload));
    } catch (err) {
      o.logger.error({ err }, 'feishu event handler failed');
      res.status(500).json({ error: 'internal' });
    }
  });
  return router;
}
