import { ExpressReceiver, LogLevel, SocketModeReceiver, webApi, type App, type Receiver } from '@slack/bolt';
import { channelOf } from '../domain/platforms';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { getTicketView } from '../app/queries';
import type { AppContext } from '../app/context';
import type { DashboardLinks } from '../chat/dashboard';
import type { DurableIntake } from '../chat/intake';
import { t } from '../chat/i18n';
import type { Env } from '../config/env';
import { registerCommands } from './commands';
import { DurableBolt, noteListenerFailure } from './durable';
import { registerEvents } from './events';
import { registerInteractions } from './interactions';
import { syncAllChannelMembers } from './members';
import type { SlackPorts } from './ports';
import { textMessage } from './presenters';
import { describeSlackError, Identities, slackErrorCode, type SlackRuntime } from './runtime';
import { WorkSlots } from '../chat/work-slots';
import { SlackSender } from './sender';

export type SlackEnv = Pick<Env, 'SLACK_BOT_TOKEN' | 'SLACK_SIGNING_SECRET' | 'SLACK_APP_TOKEN' | 'SLACK_MODE' | 'SLACK_API_URL'>;

export interface SlackAppOptions {
  ctx: AppContext;
  env: SlackEnv;
  ports: SlackPorts;
  /** HTTP mode: the bot's express app, which then serves POST /slack/events. */
  expressApp?: Express | undefined;
  /** Extra WebClient options (tests: `retryConfig: { retries: 0 }`). SLACK_API_URL sets slackApiUrl. */
  clientOptions?: webApi.WebClientOptions | undefined;
  /** How often channel-based department members are re-read; 0 turns the timer off. Default 10 min. */
  memberSyncMs?: number | undefined;
  /** Listeners working after their ack at the same time (default 4); the rest wait, acks do not. */
  workConcurrency?: number | undefined;
  /** Signed links to the web dashboard (`/ticket dashboard`); absent means the dashboard is off. */
  dashboard?: DashboardLinks | undefined;
  /** Stores every request before its ack (main.ts: the inbound_events table); absent = not durable. */
  intake?: DurableIntake | undefined;
}

export interface SlackApp {
  bolt: App;
  mode: 'socket' | 'http';
  runtime: SlackRuntime;
  /** The outbox sender for platform 'slack'. */
  sender: SlackSender;
  workspace: { id: string; name: string };
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Works a stored request again through the same listeners (no ack is owed any more). */
  replay(payload: unknown): Promise<void>;
}

/** How far a request's X-Slack-Request-Timestamp may lie from our clock, either way (Bolt checks only the past). */
export const SLACK_MAX_SKEW_S = 5 * 60;

/** Refuses requests dated more than five minutes in the future (a replay window Bolt leaves open). */
export function slackTimestampGuard(nowMs: () => number, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const raw = req.headers['x-slack-request-timestamp'];
    const ts = Number(Array.isArray(raw) ? raw[0] : raw);
    if (raw !== undefined && Number.isFinite(ts) && ts - nowMs() / 1000 > SLACK_MAX_SKEW_S) {
      logger.warn({ ip: req.ip }, 'Slack: request dated in the future refused');
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    next();
  };
}

/** The token itself is wrong (not an outage): a configuration error that stops the start. */
export class SlackTokenRejected extends Error {}

/** Bolt logs through our pino logger (Bolt's own chatter at debug). */
function boltLogger(logger: Logger): import('@slack/bolt').Logger {
  const child = logger.child({ component: 'bolt' });
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => child.debug(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.DEBUG,
    setName: () => undefined,
  };
}

/**
 * Builds the Slack app: checks the token (auth.test), then Socket Mode when SLACK_APP_TOKEN is set
 * (or SLACK_MODE=socket), else HTTP mode on the bot's express server at POST /slack/events with
 * Bolt checking every request's signature.
 */
export async function createSlackApp(o: SlackAppOptions): Promise<SlackApp> {
  const { ctx, env } = o;
  const logger = ctx.logger;
  const token = env.SLACK_BOT_TOKEN;
  if (!token) throw new Error('Slack: SLACK_BOT_TOKEN is not set');
  const mode: 'socket' | 'http' = env.SLACK_MODE ?? (env.SLACK_APP_TOKEN ? 'socket' : 'http');
  if (mode === 'socket' && !env.SLACK_APP_TOKEN) throw new Error('Slack: SLACK_MODE=socket needs SLACK_APP_TOKEN (an app-level xapp-… token with connections:write)');
  if (mode === 'http' && !env.SLACK_SIGNING_SECRET) throw new Error('Slack: HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)');
  // Another kind of token (a bot token, say) gets not_allowed_token_type, which the Socket Mode
  // client takes for a passing fault and retries forever: refuse it here instead.
  if (mode === 'socket' && !env.SLACK_APP_TOKEN!.startsWith('xapp-'))
    throw new SlackTokenRejected("Slack: SLACK_APP_TOKEN is not an app-level token (xapp-…); generate one with the connections:write scope under the app's Basic Information › App-Level Tokens");

  const clientOptions: webApi.WebClientOptions = {
    ...(o.clientOptions ?? {}),
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger: boltLogger(logger),
  };
  const probe = new webApi.WebClient(token, { ...clientOptions, retryConfig: { retries: 0 } });
  let auth: webApi.AuthTestResponse;
  try {
    auth = await probe.auth.test();
  } catch (err) {
    const code = slackErrorCode(err);
    if (code) throw new SlackTokenRejected(`Slack: SLACK_BOT_TOKEN was rejected by auth.test (${code}); copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page`);
    throw new Error(`Slack: could not reach the Slack API (${describeSlackError(err)})`);
  }
  const teamId = auth.team_id ?? '';
  const workspace = { id: teamId, name: auth.team ?? teamId };
  logger.info({ workspace: workspace.name, teamId, botUserId: auth.user_id, mode }, `Slack: connected to workspace ${workspace.name}`);

  let receiver: Receiver;
  let socketReceiver: SocketModeReceiver | undefined;
  if (mode === 'socket') {
    // apps.connections.open goes through these options too (SLACK_API_URL; a copy, as the client fills in defaults).
    receiver = socketReceiver = new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN!, logger: boltLogger(logger), installerOptions: { clientOptions: { ...clientOptions } } });
  } else {
    o.expressApp?.use('/slack/events', slackTimestampGuard(() => Date.now(), logger));
    receiver = new ExpressReceiver({
      signingSecret: env.SLACK_SIGNING_SECRET!,
      logger: boltLogger(logger),
      endpoints: '/slack/events',
      ...(o.expressApp ? { app: o.expressApp as never } : {}),
    });
  }
  const bolt = new DurableBolt({
    token,
    botId: auth.bot_id,
    botUserId: auth.user_id,
    receiver,
    clientOptions,
    logger: boltLogger(logger),
    // We keep our own conversation state (the database); Bolt's memory store is not needed.
    convoStore: false,
  }, o.intake, logger, () => t(ctx.config.raw.locale, 'error.malformed_request'));

  const client = new webApi.WebClient(token, clientOptions);
  const runtime: SlackRuntime = {
    ctx,
    client,
    ports: o.ports,
    teamId,
    botUserId: auth.user_id ?? '',
    botId: auth.bot_id ?? '',
    logger,
    identities: new Identities(ctx, client, o.ports, teamId),
    slots: new WorkSlots(o.workConcurrency ?? 4),
    dashboard: o.dashboard,
  };
  registerCommands(bolt, runtime);
  registerInteractions(bolt, runtime);
  registerEvents(bolt, runtime);
  bolt.error(async (err) => {
    noteListenerFailure(err);
    logger.error({ err: describeSlackError((err as { original?: unknown }).original ?? err) }, 'Slack: a listener failed');
  });

  // The dispatcher owns retries and pacing: this client reports 429 instead of waiting on it.
  const senderClient = new webApi.WebClient(token, { ...clientOptions, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const sender = new SlackSender({ ctx, client: senderClient, ports: o.ports, teamId, loadTicketView: (id) => getTicketView(ctx, id) });

  let memberTimer: NodeJS.Timeout | undefined;
  return {
    bolt,
    mode,
    runtime,
    sender,
    workspace,
    start: async () => {
      if (mode === 'socket') await startSocketMode(bolt);
      await checkDepartmentChannels(runtime);
      await syncAllChannelMembers(runtime);
      const every = o.memberSyncMs ?? 10 * 60_000;
      if (every > 0) {
        memberTimer = setInterval(() => void syncAllChannelMembers(runtime), every);
        memberTimer.unref();
      }
    },
    stop: async () => {
      if (memberTimer) clearInterval(memberTimer);
      // Bolt's stop() only starts the disconnect; wait for the close handshake so no socket or timer is left.
      if (socketReceiver) await socketReceiver.client.disconnect();
    },
    replay: (payload) => bolt.replay(payload),
  };
}

/** Opens the Socket Mode connection; a rejected app-level token is a configuration error, said plainly. */
async function startSocketMode(bolt: App): Promise<void> {
  try {
    await bolt.start();
  } catch (err) {
    const code = slackErrorCode(err);
    if (code) throw new SlackTokenRejected(`Slack: SLACK_APP_TOKEN was rejected by apps.connections.open (${code}); copy the app-level token (xapp-…, scope connections:write) from the app's Basic Information page`);
    throw new Error(`Slack: could not open the Socket Mode connection (${describeSlackError(err)})`);
  }
}

/**
 * Every department channel must be reachable: a private channel the bot is not in looks like
 * "channel_not_found". Tell the log and the admins which channel and what to do.
 */
export async function checkDepartmentChannels(rt: SlackRuntime): Promise<string[]> {
  const problems: string[] = [];
  for (const d of rt.ctx.config.departments.values()) {
    const channel = channelOf(d, 'slack');
    if (!channel) continue;
    let error: string | undefined;
    try {
      const info = await rt.client.conversations.info({ channel });
      if (info.channel && info.channel.is_member === false) error = 'not_in_channel';
    } catch (err) {
      error = slackErrorCode(err) ?? describeSlackError(err);
    }
    if (!error) continue;
    problems.push(channel);
    rt.logger.error({ department: d.id, channel, error }, `Slack: cannot post in ${channel} for department ${d.id} (${error}); invite the bot there with /invite @ticketbot or fix departments[].slack.channel`);
    for (const ref of rt.ctx.config.raw.admins) {
      if (!ref.startsWith('slack:')) continue;
      const adminId = ref.slice('slack:'.length);
      const admin = await rt.identities.resolve(adminId);
      const text = t(admin.locale, 'slack.admin.private_channel', { department: d.name[admin.locale], channel, error });
      await rt.client.chat.postMessage({ channel: adminId, ...textMessage(text), blocks: textMessage(text).blocks as never }).catch((err: unknown) => {
        rt.logger.warn({ err: describeSlackError(err) }, 'Slack: could not tell the admin about the channel');
      });
    }
  }
  return problems;
}
