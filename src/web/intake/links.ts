import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed links of the web form (issue 18), HMAC-SHA256 under TICKETBOT_SECRET:
 *
 * - the form link `/new?integration=…&exp=…&p.user=…&p.device=…&sig=…`: the signature covers every
 *   parameter but `sig` and `lang` (sorted), so the prefilled context (user, device, app_version,
 *   page_url, order_id, any field) cannot be edited and the link expires at `exp` (epoch seconds);
 * - the status link `/status/<KEY>?exp=…&sig=…`: bound to the ticket and its requester.
 *
 * Each kind is signed under its own prefix, so one can never stand in for another.
 */

export const INTAKE_LINK_TTL_MS = 365 * 86_400_000;
export const STATUS_LINK_TTL_MS = 180 * 86_400_000;
const PREFILL = /^p\.([a-z0-9_]{1,40})$/;
const UNSIGNED = new Set(['sig', 'lang']);

const mac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function canonical(params: Iterable<[string, string]>): string {
  const kept = [...params].filter(([k]) => !UNSIGNED.has(k)).sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(kept).toString();
}

export interface IntakeLink {
  integration: string;
  prefill: Record<string, string>;
  /** Epoch ms. */
  expiresAt: number;
}

/** The query string (without `?`) of a signed form link. */
export function signIntakeQuery(link: IntakeLink, secret: string): string {
  if (!secret) throw new Error('form links need a secret (TICKETBOT_SECRET)');
  const params: [string, string][] = [
    ['integration', link.integration],
    ['exp', String(Math.floor(link.expiresAt / 1000))],
    ...Object.entries(link.prefill).map(([k, v]): [string, string] => [`p.${k}`, v]),
  ];
  for (const [k] of params) if (k.startsWith('p.') && !PREFILL.test(k)) throw new Error(`prefill names are lower-case letters, digits and _: "${k.slice(2)}"`);
  const text = canonical(params);
  return `${text}&sig=${mac(secret, `ticketbot-intake.v1.${text}`)}`;
}

export type LinkCheck<T> = { ok: true; value: T } | { ok: false; reason: 'invalid' | 'expired' };

export function verifyIntakeQuery(query: URLSearchParams, secret: string, nowMs: number): LinkCheck<IntakeLink> {
  const sig = query.get('sig');
  const integration = query.get('integration');
  const exp = Number(query.get('exp'));
  if (!secret || !sig || !integration || !Number.isInteger(exp)) return { ok: false, reason: 'invalid' };
  if (query.getAll('sig').length !== 1 || query.getAll('integration').length !== 1) return { ok: false, reason: 'invalid' };
  if (!same(sig, mac(secret, `ticketbot-intake.v1.${canonical(query.entries())}`))) return { ok: false, reason: 'invalid' };
  if (nowMs > exp * 1000) return { ok: false, reason: 'expired' };
  const prefill: Record<string, string> = {};
  for (const [k, v] of query.entries()) {
    const m = PREFILL.exec(k);
    if (m) prefill[m[1]!] = v;
  }
  return { ok: true, value: { integration, prefill, expiresAt: exp * 1000 } };
}

/** Query string (without `?`) of a ticket's status link for its requester. */
export function signStatusQuery(key: string, requesterId: string, expiresAt: number, secret: string): string {
  const exp = String(Math.floor(expiresAt / 1000));
  return `exp=${exp}&sig=${mac(secret, `ticketbot-status.v1.${key}.${requesterId}.${exp}`)}`;
}

export function verifyStatusQuery(key: string, requesterId: string, query: URLSearchParams, secret: string, nowMs: number): LinkCheck<true> {
  const sig = query.get('sig');
  const exp = query.get('exp');
  if (!secret || !sig || !exp || !/^\d+$/.test(exp)) return { ok: false, reason: 'invalid' };
  if (!same(sig, mac(secret, `ticketbot-status.v1.${key}.${requesterId}.${exp}`))) return { ok: false, reason: 'invalid' };
  if (nowMs > Number(exp) * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, value: true };
}

/** The CSRF token of a form: bound to the browser's random cookie value (signed double submit). */
export function csrfToken(cookieValue: string, secret: string): string {
  return mac(secret, `ticketbot-csrf.v1.${cookieValue}`);
}

export function csrfValid(cookieValue: string | undefined, token: unknown, secret: string): boolean {
  return typeof cookieValue === 'string' && cookieValue.length >= 16 && typeof token === 'string' && same(token, csrfToken(cookieValue, secret));
}
