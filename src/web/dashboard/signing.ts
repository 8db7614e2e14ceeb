import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed dashboard links: the claims (who, which departments, until when) travel in the URL,
 * signed with HMAC-SHA256 under the bot's secret, so the dashboard needs no session store and a
 * link cannot be widened or extended by editing it. Links live 15 minutes.
 */

export const DASHBOARD_LINK_TTL_MS = 15 * 60_000;
/** After a link is opened the browser holds a session cookie this long (same user, same departments). */
export const DASHBOARD_SESSION_TTL_MS = 8 * 3_600_000;

/** A link token (in `?t=`) and a session cookie are signed apart, so neither can stand in for the other. */
export type TokenPurpose = 'link' | 'session';

export interface DashboardClaims {
  userId: string;
  /** Department ids the holder may see; '*' for every department (admins). */
  departments: string[] | '*';
  /** Epoch ms after which the link is refused. */
  expiresAt: number;
}

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

function mac(payload: string, secret: string, purpose: TokenPurpose): Buffer {
  return createHmac('sha256', secret).update(`${purpose === 'link' ? 'ticketbot-dashboard' : 'ticketbot-dashboard-session'}.v1.${payload}`).digest();
}

/** A token `payload.signature` for a dashboard link's `t` parameter. */
export function signDashboardLink(claims: DashboardClaims, secret: string, purpose: TokenPurpose = 'link'): string {
  if (!secret) throw new Error('dashboard links need a secret (TICKETBOT_SECRET)');
  const payload = b64url(JSON.stringify({ u: claims.userId, d: claims.departments, e: claims.expiresAt }));
  return `${payload}.${b64url(mac(payload, secret, purpose))}`;
}

export type VerifyResult = { ok: true; claims: DashboardClaims } | { ok: false; reason: 'invalid' | 'expired' };

export function verifyDashboardToken(token: string | undefined, secret: string, nowMs: number, purpose: TokenPurpose = 'link'): VerifyResult {
  if (!token || !secret) return { ok: false, reason: 'invalid' };
  const dot = token.indexOf('.');
  if (dot <= 0) return { ok: false, reason: 'invalid' };
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(payload, secret, purpose);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const p = parsed as { u?: unknown; d?: unknown; e?: unknown };
  const departments = p.d === '*' ? '*' : Array.isArray(p.d) && p.d.every((x) => typeof x === 'string') ? (p.d as string[]) : undefined;
  if (typeof p.u !== 'string' || typeof p.e !== 'number' || departments === undefined) return { ok: false, reason: 'invalid' };
  if (nowMs > p.e) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { userId: p.u, departments, expiresAt: p.e } };
}

/** The full link to DM: `${baseUrl}/dashboard?t=…`. */
export function dashboardUrl(baseUrl: string, token: string, locale?: string): string {
  const url = new URL('/dashboard', baseUrl);
  url.searchParams.set('t', token);
  if (locale) url.searchParams.set('lang', locale);
  return url.toString();
}
