import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { OutboxRecord, OutboxSender, SendOutcome } from '../app/outbox';
import { WEBHOOK_PLATFORM } from '../app/webhooks';
import type { TimeSource } from '../app/context';
import type { WebhookTarget } from '../config/integrations';

/**
 * Delivers the outgoing-webhook outbox rows (src/app/webhooks.ts) of the integrations: a POST of
 * the row's JSON payload to the integration's `webhook.url`, signed like Stripe/Slack do:
 *
 *   X-Ticketbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *   X-Ticketbot-Delivery:  <change id, the same on every retry of one change>
 *
 * 2xx is delivered; 429 waits for Retry-After; 408 and 5xx and network errors are retried with
 * the dispatcher's back-off and parked (admins told) after its last attempt; other 4xx are
 * permanent (the receiver refuses this request; resending it cannot help).
 */

export const SIGNATURE_HEADER = 'x-ticketbot-signature';
export const DELIVERY_HEADER = 'x-ticketbot-delivery';
export const EVENT_HEADER = 'x-ticketbot-event';
const TIMEOUT_MS = 10_000;

export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks the signature and that its timestamp is within `toleranceSeconds` of now. */
export function verifyWebhookSignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, t, body).split('v1=')[1]!, 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

export interface WebhookSenderOptions {
  targets: readonly WebhookTarget[];
  time: TimeSource;
  logger: Logger;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export function createWebhookSender(o: WebhookSenderOptions): OutboxSender {
  const byId = new Map(o.targets.map((t) => [t.id, t]));
  const doFetch = o.fetch ?? fetch;
  return {
    platform: WEBHOOK_PLATFORM,
    async send(row: OutboxRecord): Promise<SendOutcome> {
      const target = byId.get(row.target_id);
      if (!target) return { ok: false, error: `integration ${row.target_id} has no webhook with a secret (config integrations[].webhook, secret_env)` };
      const ts = Math.floor(o.time.now().getTime() / 1000);
      const delivery = row.idempotency_key.replace(/^webhook:/, '');
      let res: Response;
      try {
        res = await doFetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'ticketbot-webhooks/1',
            [SIGNATURE_HEADER]: signWebhook(target.secret, ts, row.payload),
            [DELIVERY_HEADER]: delivery,
            [EVENT_HEADER]: row.event,
          },
          body: row.payload,
          redirect: 'manual',
          signal: AbortSignal.timeout(o.timeoutMs ?? TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        return { ok: false, error: `webhook ${target.id}: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (res.status >= 200 && res.status < 300) {
        o.logger.debug({ integration: target.id, delivery, status: res.status }, 'webhook delivered');
        return { ok: true };
      }
      const error = `webhook ${target.id}: HTTP ${res.status}`;
      if (res.status === 429) {
        const after = Number(res.headers.get('retry-after'));
        return { ok: false, error, retryAfterMs: Number.isFinite(after) && after >= 0 ? Math.min(after, 3600) * 1000 : 60_000 };
      }
      if (res.status === 408 || res.status >= 500) return { ok: false, error };
      return { ok: false, error, permanent: true };
    },
  };
}
