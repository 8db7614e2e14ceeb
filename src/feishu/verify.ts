import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * HTTP-mode checks the Lark SDK leaves out: its adapter answers 200 to a forged request, never
 * looks at the verification token and accepts any replay. Everything here is pure so that the
 * route, the tests and the benchmark share one implementation.
 */

export const MAX_REQUEST_AGE_MS = 5 * 60 * 1000;

export interface FeishuHttpSecrets {
  encryptKey: string;
  verificationToken: string;
}

export interface FeishuRequest {
  /** Header names in lower case (express and node give them so). */
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received: the signature covers these bytes. */
  rawBody: string;
  nowMs: number;
}

export type VerifyFailure = 'missing_signature' | 'bad_signature' | 'stale' | 'undecryptable' | 'bad_token' | 'malformed';

export type VerifyOutcome =
  | { ok: true; kind: 'challenge'; challenge: string }
  | { ok: true; kind: 'event'; payload: Record<string, unknown> }
  | { ok: false; reason: VerifyFailure };

/** `X-Lark-Signature`: sha256 hex of timestamp + nonce + encrypt key + raw body. */
export function feishuSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey + rawBody).digest('hex');
}

/** AES-256-CBC with key sha256(encrypt key); the first 16 bytes of the base64 payload are the IV. */
export function decryptFeishu(encryptKey: string, encrypted: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const buf = Buffer.from(encrypted, 'base64');
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error('encrypted payload has a wrong length');
  const decipher = createDecipheriv('aes-256-cbc', key, buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString('utf8');
}

/** The inverse of decryptFeishu, as Feishu does it (used by tests, the fake platform and the bench). */
export function encryptFeishu(encryptKey: string, plaintext: string, iv: Buffer = randomBytes(16)): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

function header(headers: FeishuRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sameText(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The verification token sits in `header.token` (schema 2.0) or at the top (v1 events, URL check). */
function tokenOf(payload: Record<string, unknown>): string | undefined {
  const h = payload.header;
  if (isRecord(h) && typeof h.token === 'string') return h.token;
  return typeof payload.token === 'string' ? payload.token : undefined;
}

/**
 * Checks one POST to /feishu/events. Order matters: the signature is checked on the raw bytes
 * before anything is parsed, so a forged body is never even decrypted. The URL challenge is the
 * one request Feishu may send unsigned; it is answered only when its token is right, and answering
 * it stores nothing.
 */
export function verifyFeishuRequest(req: FeishuRequest, secrets: FeishuHttpSecrets, maxAgeMs = MAX_REQUEST_AGE_MS): VerifyOutcome {
  const timestamp = header(req.headers, 'x-lark-request-timestamp');
  const nonce = header(req.headers, 'x-lark-request-nonce');
  const signature = header(req.headers, 'x-lark-signature');
  const signed = timestamp !== undefined && nonce !== undefined && signature !== undefined;
  if (signed) {
    const expected = feishuSignature(timestamp, nonce, secrets.encryptKey, req.rawBody);
    if (!sameText(expected, signature.toLowerCase())) return { ok: false, reason: 'bad_signature' };
    const seconds = Number(timestamp);
    if (!Number.isFinite(seconds) || Math.abs(req.nowMs - seconds * 1000) > maxAgeMs) return { ok: false, reason: 'stale' };
  }

  let outer: unknown;
  try {
    outer = JSON.parse(req.rawBody);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isRecord(outer)) return { ok: false, reason: 'malformed' };
  let payload: Record<string, unknown> = outer;
  if (typeof outer.encrypt === 'string') {
    try {
      const inner: unknown = JSON.parse(decryptFeishu(secrets.encryptKey, outer.encrypt));
      if (!isRecord(inner)) return { ok: false, reason: 'undecryptable' };
      payload = inner;
    } catch {
      return { ok: false, reason: 'undecryptable' };
    }
  }

  const token = tokenOf(payload);
  if (token === undefined || !sameText(token, secrets.verificationToken)) return { ok: false, reason: 'bad_token' };
  if (payload.type === 'url_verification') {
    return typeof payload.challenge === 'string' ? { ok: true, kind: 'challenge', challenge: payload.challenge } : { ok: false, reason: 'malformed' };
  }
  if (!signed) return { ok: false, reason: 'missing_signature' };
  return { ok: true, kind: 'event', payload };
}

/** Builds a request the way Feishu sends it: encrypted body, signed headers (tests, fake, bench). */
export function buildFeishuRequest(
  secrets: FeishuHttpSecrets,
  payload: unknown,
  opts: { timestampSec: number; nonce?: string; encrypt?: boolean },
): { headers: Record<string, string>; body: string } {
  const plain = JSON.stringify(payload);
  const body = opts.encrypt === false ? plain : JSON.stringify({ encrypt: encryptFeishu(secrets.encryptKey, plain) });
  const timestamp = String(opts.timestampSec);
  const nonce = opts.nonce ?? randomBytes(8).toString('hex');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': feishuSignature(timestamp, nonce, secrets.encryptKey, body),
    },
  };
}
