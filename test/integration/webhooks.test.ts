import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import pino from 'pino';
import { claimTicket, createTicket, resolveTicket } from '../../src/app';
import type { AppContext } from '../../src/app/context';
import type { UseCaseResult } from '../../src/app/runner';
import { webhookPayloadSchema, type WebhookPayload } from '../../src/app/webhooks';
import { readWebhookTargets } from '../../src/config/integrations';
import { parseConfigText } from '../../src/config/load';
import { OutboxDispatcher } from '../../src/jobs/outbox-dispatcher';
import { createWebhookSender, DELIVERY_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/jobs/webhook-sender';
import type { Storage } from '../../src/storage/database';
import { as, FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * Outgoing webhooks over real HTTP on SQLite and PostgreSQL: a loopback receiver that fails the
 * first delivery with 503 and accepts the retry; every status change of the integration's tickets
 * arrives exactly once, signed, in order; other tickets send nothing.
 */
const SECRET = 'whsec-test-0123456789';

function value<T>(r: UseCaseResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code} ${JSON.stringify(r.error.params)}`);
  return r.value;
}

interface Received {
  status: number;
  delivery: string;
  signature: string;
  body: string;
}

describe.each(storageVariants())('outgoing webhooks on $name', (variant) => {
  let storage: Storage;
  let server: Server;
  let ctx: AppContext;
  let u: Record<string, string>;
  const received: Received[] = [];
  let failuresLeft = 1;
  const time = new ManualTime(new Date('2026-11-23T01:00:00.000Z'));

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = failuresLeft > 0 ? 503 : 200;
        if (failuresLeft > 0) failuresLeft--;
        received.push({ status, delivery: String(req.headers[DELIVERY_HEADER]), signature: String(req.headers[SIGNATURE_HEADER]), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'busy');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const parsed = parseConfigText(`${readFileSync(FIXTURE_CONFIG, 'utf8')}
integrations:
  - { id: shop-app, key_env: SHOP_KEY, webhook: { url: "http://127.0.0.1:${port}/hooks/ticketbot", secret_env: SHOP_WEBHOOK_SECRET } }
  - { id: quiet-app, key_env: QUIET_KEY }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    storage = await variant.open();
    ctx = testContext(storage, time, parsed.config);
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita' },
      { platform: 'slack', id: 'UIT1', name: 'Alan' },
    ]);
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await storage.close();
  });

  const raise = (workspace: string | undefined, eventKey: string) =>
    createTicket(ctx, {
      meta: { actorId: u.UREQ!, platform: workspace ? 'api' : 'slack', eventKey },
      categoryId: 'no-code',
      title: 'No SMS code',
      description: '',
      fields: { account: 'a', device: 'd' },
      ...(workspace ? { source: { platform: 'api' as const, workspace } } : {}),
    });

  it('queues one row per status change of the integration tickets, delivers it signed, retries a 503, never twice', async () => {
    const shop = value(await raise('shop-app', 'api:shop-app:k1')).ticket;
    value(await raise('shop-app', 'api:shop-app:k1')); // the client's retry: the inbox answers, nothing new is queued
    value(await raise('quiet-app', 'api:quiet-app:k1')); // no webhook configured
    value(await raise(undefined, 'slack:ev1')); // a chat ticket
    value(await claimTicket(ctx, { meta: as(u.UIT1!), ticket: shop.key }));
    value(await resolveTicket(ctx, { meta: as(u.UIT1!), ticket: shop.key, note: 'Resent the code' }));
    const rows = await storage.db.selectFrom('outbox').select(['idempotency_key', 'target_id', 'status']).where('platform', '=', 'webhook').execute();
    expect(rows.map((r) => r.target_id)).toEqual(['shop-app', 'shop-app', 'shop-app']);

    const { targets, missing } = readWebhookTargets(ctx.config.raw, { SHOP_WEBHOOK_SECRET: SECRET });
    expect(missing).toEqual([]);
    const dispatcher = new OutboxDispatcher({
      db: storage.db,
      dialect: storage.dialect,
      owner: 'w1',
      sender: createWebhookSender({ targets, time, logger: pino({ level: 'silent' }) }),
      time,
      logger: pino({ level: 'silent' }),
      admins: [],
      defaultLocale: 'en',
      newId: ctx.newId,
      random: () => 0.5,
      backoff: { baseMs: 1_000, maxMs: 10_000 },
    });
    const first = await dispatcher.tickOnce();
    // The first change failed (503); the later changes of the same ticket wait behind it.
    expect(first).toMatchObject({ claimed: 1, sent: 0, retried: 1 });
    expect(await dispatcher.tickOnce()).toMatchObject({ claimed: 0 }); // backing off
    for (let i = 0; i < 5; i++) {
      time.advance(5_000);
      await dispatcher.tickOnce();
    }
    const after = await storage.db.selectFrom('outbox').select('status').where('platform', '=', 'webhook').execute();
    expect(after.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);

    expect(received.map((r) => r.status)).toEqual([503, 200, 200, 200]);
    const delivered = received.filter((r) => r.status === 200);
    // Exactly once per change: one accepted delivery per change id; the failed one repeated the same id.
    expect(new Set(delivered.map((r) => r.delivery)).size).toBe(3);
    expect(received[0]!.delivery).toBe(received[1]!.delivery);
    const payloads: WebhookPayload[] = delivered.map((r) => webhookPayloadSchema.parse(JSON.parse(r.body)));
    expect(payloads.map((p) => [p.action, p.ticket.previous_state, p.ticket.state])).toEqual([
      ['created', null, 'new'],
      ['claimed', 'new', 'assigned'],
      ['resolved', 'assigned', 'resolved'],
    ]);
    expect(payloads.every((p) => p.ticket.key === shop.key && p.integration === 'shop-app' && delivered.some((r) => r.delivery === p.id))).toBe(true);
    const nowS = Math.floor(time.now().getTime() / 1000);
    for (const r of received) expect(verifyWebhookSignature(SECRET, r.signature, r.body, nowS, 600)).toBe(true);
    expect(verifyWebhookSignature('wrong-secret', delivered[0]!.signature, delivered[0]!.body, nowS, 600)).toBe(false);
    expect(verifyWebhookSignature(SECRET, delivered[0]!.signature, `${delivered[0]!.body} `, nowS, 600)).toBe(false);
    expect(verifyWebhookSignature(SECRET, delivered[0]!.signature, delivered[0]!.body, nowS + 3600)).toBe(false); // too old

    // Nothing left to send: more ticks deliver nothing again.
    time.advance(60_000);
    expect(await dispatcher.tickOnce()).toMatchObject({ claimed: 0 });
    expect(received).toHaveLength(4);
  });
});
