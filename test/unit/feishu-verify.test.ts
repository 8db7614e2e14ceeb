import { createHash } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import { buildFeishuRequest, decryptFeishu, encryptFeishu, feishuSignature, verifyFeishuRequest } from '../../src/feishu/verify';

const secrets = { encryptKey: 'kX9-encrypt-key', verificationToken: 'vt-123' };
const NOW = Date.parse('2026-03-02T08:00:00Z');
const nowSec = NOW / 1000;

const event = {
  schema: '2.0',
  header: { event_id: 'ev1', event_type: 'im.message.receive_v1', create_time: String(NOW), token: secrets.verificationToken, app_id: 'cli_x', tenant_key: 't1' },
  event: { message: { message_id: 'om_1' } },
};

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('Feishu request verification', () => {
  it('decrypts the documented vector (encrypt key "test key")', () => {
    expect(decryptFeishu('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=')).toBe('hello world');
  });

  it('encrypts so that the SDK cipher can read it back, and the IV is the first 16 bytes', () => {
    const iv = Buffer.alloc(16, 7);
    const enc = encryptFeishu('abc', '{"x":1}', iv);
    expect(Buffer.from(enc, 'base64').subarray(0, 16).equals(iv)).toBe(true);
    expect(new lark.AESCipher('abc').decrypt(enc)).toBe('{"x":1}');
    expect(decryptFeishu('abc', enc)).toBe('{"x":1}');
  });

  it('computes the signature as sha256(timestamp + nonce + key + body) in hex', () => {
    const expected = createHash('sha256').update('1700000000' + 'n0nce' + 'k' + '{"a":1}').digest('hex');
    expect(feishuSignature('1700000000', 'n0nce', 'k', '{"a":1}')).toBe(expected);
  });

  it('accepts a signed, encrypted, fresh event with the right token', () => {
    const req = buildFeishuRequest(secrets, event, { timestampSec: nowSec });
    const out = verifyFeishuRequest({ headers: lower(req.headers), rawBody: req.body, nowMs: NOW }, secrets);
    expect(out).toEqual({ ok: true, kind: 'event', payload: event });
  });

  it('rejects a body changed after signing', () => {
    const req = buildFeishuRequest(secrets, event, { timestampSec: nowSec });
    const forged = buildFeishuRequest(secrets, { ...event, header: { ...event.header, event_id: 'ev2' } }, { timestampSec: nowSec });
    const out = verifyFeishuRequest({ headers: lower(req.headers), rawBody: forged.body, nowMs: NOW }, secrets);
    expect(out).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature made with another key', () => {
    const req = buildFeishuRequest({ ...secrets, encryptKey: 'other' }, event, { timestampSec: nowSec });
    expect(verifyFeishuRequest({ headers: lower(req.headers), rawBody: req.body, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a timestamp older or newer than five minutes', () => {
    for (const skew of [-301, 301]) {
      const req = buildFeishuRequest(secrets, event, { timestampSec: nowSec + skew });
      expect(verifyFeishuRequest({ headers: lower(req.headers), rawBody: req.body, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'stale' });
    }
    const edge = buildFeishuRequest(secrets, event, { timestampSec: nowSec - 299 });
    expect(verifyFeishuRequest({ headers: lower(edge.headers), rawBody: edge.body, nowMs: NOW }, secrets).ok).toBe(true);
  });

  it('rejects a correctly signed body that does not decrypt', () => {
    const body = JSON.stringify({ encrypt: Buffer.alloc(48, 1).toString('base64') });
    const ts = String(nowSec);
    const headers = { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': 'n', 'x-lark-signature': feishuSignature(ts, 'n', secrets.encryptKey, body) };
    expect(verifyFeishuRequest({ headers, rawBody: body, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'undecryptable' });
  });

  it('rejects a wrong verification token even when signed', () => {
    const req = buildFeishuRequest(secrets, { ...event, header: { ...event.header, token: 'nope' } }, { timestampSec: nowSec });
    expect(verifyFeishuRequest({ headers: lower(req.headers), rawBody: req.body, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'bad_token' });
  });

  it('rejects an unsigned event', () => {
    const body = JSON.stringify({ encrypt: encryptFeishu(secrets.encryptKey, JSON.stringify(event)) });
    expect(verifyFeishuRequest({ headers: {}, rawBody: body, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('answers the URL challenge (encrypted, possibly unsigned) only with the right token', () => {
    const challenge = { challenge: 'ajls384kdjx98XX', token: secrets.verificationToken, type: 'url_verification' };
    const body = JSON.stringify({ encrypt: encryptFeishu(secrets.encryptKey, JSON.stringify(challenge)) });
    expect(verifyFeishuRequest({ headers: {}, rawBody: body, nowMs: NOW }, secrets)).toEqual({ ok: true, kind: 'challenge', challenge: 'ajls384kdjx98XX' });
    const bad = JSON.stringify({ encrypt: encryptFeishu(secrets.encryptKey, JSON.stringify({ ...challenge, token: 'x' })) });
    expect(verifyFeishuRequest({ headers: {}, rawBody: bad, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'bad_token' });
  });

  it('rejects bodies that are not JSON objects', () => {
    const ts = String(nowSec);
    for (const body of ['not json', '[1,2]']) {
      const headers = { 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': 'n', 'x-lark-signature': feishuSignature(ts, 'n', secrets.encryptKey, body) };
      expect(verifyFeishuRequest({ headers, rawBody: body, nowMs: NOW }, secrets)).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});
