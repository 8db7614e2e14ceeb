import type { Env } from './config/env';

/** Why a platform is on or off, decided from the environment alone (said plainly at start). */
export interface PlatformStatus {
  on: boolean;
  mode?: string;
  reason?: string;
}

export function slackStatus(env: Env): PlatformStatus {
  if (!env.SLACK_BOT_TOKEN) return { on: false, reason: 'SLACK_BOT_TOKEN is not set' };
  const mode = env.SLACK_MODE ?? (env.SLACK_APP_TOKEN ? 'socket' : 'http');
  if (mode === 'socket' && !env.SLACK_APP_TOKEN) return { on: false, reason: 'SLACK_MODE=socket needs SLACK_APP_TOKEN (xapp-…)' };
  if (mode === 'http' && !env.SLACK_SIGNING_SECRET) return { on: false, reason: 'HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)' };
  return { on: true, mode };
}

export function feishuStatus(env: Env): PlatformStatus {
  if (!env.FEISHU_APP_ID || !env.FEISHU_APP_SECRET) return { on: false, reason: `${!env.FEISHU_APP_ID ? 'FEISHU_APP_ID' : 'FEISHU_APP_SECRET'} is not set` };
  const mode = env.FEISHU_MODE ?? 'ws';
  if (mode === 'http' && (!env.FEISHU_ENCRYPT_KEY || !env.FEISHU_VERIFICATION_TOKEN))
    return { on: false, reason: `FEISHU_MODE=http needs ${!env.FEISHU_ENCRYPT_KEY ? 'FEISHU_ENCRYPT_KEY' : 'FEISHU_VERIFICATION_TOKEN'} to check requests` };
  return { on: true, mode };
}
