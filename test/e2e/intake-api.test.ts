import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import express from 'express';
import { z } from 'zod';
import { readIntegrationKeys } from '../../src/config/integrations';
import { parseConfigText } from '../../src/config/load';
import type { Storage } from '../../src/storage/database';
import { createApiRouter } from '../../src/web/api/router';
import { FIXTURE_CONFIG, ManualTime, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * The intake API over real HTTP on SQLite and PostgreSQL: every response is checked against the
 * OpenAPI document the server itself serves (its JSON Schemas turned back into validators).
 */
const CONFIG_TEXT = `${readFileSync(FIXTURE_CONFIG, 'utf8')}
integrations:
  - { id: shop-app, key_env: SHOP_KEY, defaults: { priority: high, fields: { app: shop } }, rate_limit: 30 }
  - { id: it-portal, key_env: PORTAL_KEY, department: it, rate_limit: 3 }
  - { id: unset, key_env: UNSET_KEY }
`;

const parsed = parseConfigText(CONFIG_TEXT);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const config = parsed.config;
const SHOP = 'shop-secret-key-0123456789';
const PORTAL = 'portal-secret-key-9876543210';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>> };

describe.each(storageVariants())('intake API on $name', (variant) => {
  let storage: Storage;
  let server: Server;
  let base: string;
  let doc: Doc;
  const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));

  beforeAll(async () => {
    storage = await variant.open();
    const ctx = testContext(storage, time, config);
    const { keys, missing } = readIntegrationKeys(config.raw, { SHOP_KEY: SHOP, PORTAL_KEY: PORTAL });
    expect(missing).toEqual(['unset (UNSET_KEY is not set)']);
    const app = express();
    app.use(createApiRouter({ ctx, keys, publicUrl: 'https://desk.example.com/' }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
    doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await storage.close();
  });

  /** Calls the API and validates the answer against the document's schema for that path, method and status. */
  async function call(method: 'GET' | 'POST', path: string, opts: { key?: string; body?: unknown; raw?: string; idem?: string } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.idem) headers['idempotency-key'] = opts.idem;
    const res = await fetch(`${base}${path}`, { method, headers, ...(method === 'POST' ? { body: opts.raw ?? JSON.stringify(opts.body) } : {}) });
    const body = (await res.json()) as Record<string, any>;
    const template = path.startsWith('/api/v1/tickets/') ? '/api/v1/tickets/{key}' : path;
    const response = doc.paths[template]![method.toLowerCase()]!.responses[String(res.status)];
    if (!response) throw new Error(`status ${res.status} of ${method} ${template} is not in the OpenAPI document: ${JSON.stringify(body)}`);
    const check = z.fromJSONSchema(response.content['application/json']!.schema as never).safeParse(body);
    if (!check.success) throw new Error(`${method} ${path} ${res.status} does not match the document: ${JSON.stringify(check.error.issues)}`);
    return { status: res.status, body };
  }

  const valid = {
    category: 'no-code',
    title: '收不到验证码',
    description: 'Tried three times',
    requester: { id: 'u-778', name: 'Li Lei', email: 'li@example.com' },
    fields: { account: '13800000000', device: 'iPhone 15', app_version: '5.2.1', page_url: 'https://shop.example.com/login' },
  };

  it('serves an OpenAPI 3.1 document generated from the zod schemas', async () => {
    const res = await fetch(`${base}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as any;
    expect(d.openapi).toBe('3.1.0');
    expect(d.paths['/api/v1/tickets'].post.requestBody.content['application/json'].schema.required).toEqual(['category', 'title', 'requester']);
  });

  it('creates a ticket (201 key, state, url) whose fields carry the context, with source api; GET shows its status', async () => {
    const created = await call('POST', '/api/v1/tickets', { key: SHOP, body: valid });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ key: expect.stringMatching(/^IT-\d+$/), state: expect.any(String), url: `https://desk.example.com/api/v1/tickets/${created.body.key}` });
    const row = await storage.db.selectFrom('tickets').selectAll().where('key', '=', created.body.key).executeTakeFirstOrThrow();
    expect(row.source_platform).toBe('api');
    expect(row.priority).toBe('high'); // the integration's default
    const fields = await storage.db.selectFrom('ticket_fields').select(['field_id', 'value']).where('ticket_id', '=', row.id).orderBy('field_id').execute();
    expect(Object.fromEntries(fields.map((f) => [f.field_id, f.value]))).toMatchObject({ account: '13800000000', device: 'iPhone 15', app_version: '5.2.1', app: 'shop' });
    const requester = await storage.db.selectFrom('users').selectAll().where('id', '=', row.requester_id).executeTakeFirstOrThrow();
    expect([requester.platform, requester.name, requester.email]).toEqual(['api', 'Li Lei', 'li@example.com']);

    const status = await call('GET', `/api/v1/tickets/${created.body.key}`, { key: SHOP });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ key: created.body.key, category: 'no-code', title: '收不到验证码', resolved_at: null });
    // Another integration cannot read it: the same answer as a key that does not exist.
    const other = await call('GET', `/api/v1/tickets/${created.body.key}`, { key: PORTAL });
    const missing = await call('GET', '/api/v1/tickets/IT-99999', { key: PORTAL });
    expect(other.status).toBe(404);
    expect(other.body.error).toBe(missing.body.error);
  });

  it('refuses requests without a valid bearer key (401)', async () => {
    expect((await call('POST', '/api/v1/tickets', { body: valid })).status).toBe(401);
    expect((await call('POST', '/api/v1/tickets', { key: `${SHOP}x`, body: valid })).status).toBe(401);
    expect((await call('POST', '/api/v1/tickets', { key: SHOP.slice(0, -1), body: valid })).status).toBe(401);
    expect((await call('GET', '/api/v1/tickets/IT-1', { key: 'nope' })).status).toBe(401);
    const count = await storage.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('title', '=', '收不到验证码').executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('answers the same ticket for a repeated Idempotency-Key, 409 when the key is reused for another ticket', async () => {
    const body = { ...valid, title: 'Login code never arrives' };
    const first = await call('POST', '/api/v1/tickets', { key: SHOP, body, idem: 'req-42' });
    const again = await call('POST', '/api/v1/tickets', { key: SHOP, body, idem: 'req-42' });
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
    const rows = await storage.db.selectFrom('tickets').select('key').where('title', '=', 'Login code never arrives').execute();
    expect(rows).toHaveLength(1);
    const conflict = await call('POST', '/api/v1/tickets', { key: SHOP, body: { ...body, title: 'Something else' }, idem: 'req-42' });
    expect(conflict.status).toBe(409);
    // The same key from another integration is another request.
    const portal = await call('POST', '/api/v1/tickets', { key: PORTAL, body, idem: 'req-42' });
    expect(portal.status).toBe(201);
    expect(portal.body.key).not.toBe(first.body.key);
  });

  it('validates like chat: 4xx with the key path of each problem', async () => {
    const noTitle = await call('POST', '/api/v1/tickets', { key: SHOP, body: { ...valid, title: '  ' } });
    expect(noTitle.status).toBe(400);
    expect(noTitle.body.issues.map((i: { path: unknown[] }) => i.path)).toEqual([['title']]);
    const badEmail = await call('POST', '/api/v1/tickets', { key: SHOP, body: { ...valid, requester: { id: 'u', email: 'not-an-email' }, extra: 1 } });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.issues.map((i: { path: unknown[] }) => i.path)).toEqual(expect.arrayContaining([['requester', 'email'], []]));
    const missing = await call('POST', '/api/v1/tickets', { key: SHOP, body: { ...valid, fields: { account: '1' } } });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ error: 'missing_fields', issues: [{ path: ['fields', 'device'], message: 'required' }] });
    const refund = await call('POST', '/api/v1/tickets', { key: SHOP, body: { ...valid, category: 'refund-request', fields: { order_id: 'A1', amount: 'twelve' } } });
    expect(refund.status).toBe(422);
    expect(refund.body).toMatchObject({ error: 'invalid_field', issues: [{ path: ['fields', 'amount'] }] });
    const unknown = await call('POST', '/api/v1/tickets', { key: SHOP, body: { ...valid, category: 'fault' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.issues).toEqual([{ path: ['category'], message: 'unknown leaf category' }]);
    const notJson = await call('POST', '/api/v1/tickets', { key: SHOP, raw: '{"title": ' });
    expect(notJson).toEqual({ status: 400, body: { error: 'invalid_body', message: 'the body is not valid JSON' } });
  });

  it("keeps an integration to its department's categories", async () => {
    time.advance(61_000); // the portal's 3 requests a minute were used above
    const res = await call('POST', '/api/v1/tickets', { key: PORTAL, body: { ...valid, category: 'refund-request', fields: { order_id: 'A1', amount: '12' } } });
    expect(res.status).toBe(422);
    expect(res.body.issues[0].path).toEqual(['category']);
  });

  it('rate-limits per key (429 with Retry-After), other keys unaffected, free again after a minute', async () => {
    time.advance(120_000);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('GET', '/api/v1/tickets/IT-99999', { key: PORTAL })).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
    expect((await call('GET', '/api/v1/tickets/IT-99999', { key: SHOP })).status).toBe(404);
    time.advance(61_000);
    expect((await call('GET', '/api/v1/tickets/IT-99999', { key: PORTAL })).status).toBe(404);
  });
});
