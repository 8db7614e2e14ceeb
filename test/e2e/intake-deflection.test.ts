import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import express from 'express';
import { z } from 'zod';
import { suggestedArticlesForTicket } from '../../src/app/deflection';
import { importArticles, type ArticleFile } from '../../src/app/kb';
import { readIntegrationKeys } from '../../src/config/integrations';
import { parseConfigText } from '../../src/config/load';
import { selfServiceFigures } from '../../src/reports/self-service';
import type { Storage } from '../../src/storage/database';
import { findTicket } from '../../src/storage/repos/tickets';
import { createApiRouter } from '../../src/web/api/router';
import { FIXTURE_CONFIG, ManualTime, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * Deflection through the intake API (issue 18) over real HTTP on SQLite and PostgreSQL: every
 * answer is checked against the OpenAPI document the server serves.
 */
const CONFIG_TEXT = `${readFileSync(FIXTURE_CONFIG, 'utf8')}
integrations:
  - { id: shop-app, key_env: SHOP_KEY }
  - { id: other-app, key_env: OTHER_KEY }
`;
const parsed = parseConfigText(CONFIG_TEXT);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const config = parsed.config;
const SHOP = 'shop-secret-key-0123456789';
const OTHER = 'other-secret-key-0123456789';
const md = (fm: string, body: string) => `---\n${fm}\n---\n${body}\n`;
const ARTICLES: ArticleFile[] = [
  { slug: 'sms-code', text: md('title: 验证码收不到怎么办\ncategory: login\nlang: zh-CN', '请先检查手机是否开启了短信拦截，然后点击“重新发送”。') },
  { slug: 'reset-password', text: md('title: How to reset your password\ncategory: login\nlang: en', 'Choose "Forgot password" on the sign-in page.') },
];

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>> };

describe.each(storageVariants())('intake API deflection on $name', (variant) => {
  let storage: Storage;
  let server: Server;
  let base: string;
  let doc: Doc;
  const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));

  beforeAll(async () => {
    storage = await variant.open();
    const ctx = testContext(storage, time, config);
    await importArticles({ db: storage.db, config, now: time.now(), actorId: 'u-admin' }, ARTICLES);
    const { keys } = readIntegrationKeys(config.raw, { SHOP_KEY: SHOP, OTHER_KEY: OTHER });
    const app = express();
    app.use(createApiRouter({ ctx, keys, publicUrl: 'https://desk.example.com' }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await storage.close();
  });

  async function call(path: string, body: unknown, key = SHOP) {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    const json = (await res.json()) as Record<string, any>;
    const response = doc.paths[path]!.post!.responses[String(res.status)];
    if (!response) throw new Error(`status ${res.status} of POST ${path} is not in the OpenAPI document: ${JSON.stringify(json)}`);
    const check = z.fromJSONSchema(response.content['application/json']!.schema as never).safeParse(json);
    if (!check.success) throw new Error(`POST ${path} ${res.status} does not match the document: ${JSON.stringify(check.error.issues)}`);
    return { status: res.status, body: json };
  }

  const requester = { id: 'u-1', name: 'Li Lei' };

  it('documents the deflection paths and the deflection field of POST /tickets', () => {
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/tickets/suggestions', '/api/v1/self-service']));
    const create = (doc.paths['/api/v1/tickets']!.post as any).requestBody.content['application/json'].schema;
    expect(Object.keys(create.properties)).toContain('deflection');
  });

  it('suggests articles, then "Solved" records a self-service resolution without a ticket', async () => {
    const s = await call('/api/v1/tickets/suggestions', { category: 'no-code', title: '收不到验证码', lang: 'zh-CN', requester });
    expect(s.status).toBe(200);
    expect(s.body.articles.map((a: any) => a.slug)).toEqual(['sms-code']);
    expect(s.body.deflection_id).toEqual(expect.any(String));
    // Another integration's user cannot mark this offer.
    expect((await call('/api/v1/self-service', { deflection_id: s.body.deflection_id, requester }, OTHER)).status).toBe(404);
    const solved = await call('/api/v1/self-service', { deflection_id: s.body.deflection_id, requester });
    expect(solved).toEqual({ status: 200, body: { outcome: 'solved', article_id: s.body.articles[0].id } });
    expect((await call('/api/v1/self-service', { deflection_id: s.body.deflection_id, requester })).status).toBe(200);
    expect(await storage.db.selectFrom('tickets').select('id').execute()).toEqual([]);
  });

  it('"Still need help": the ticket carries the offered articles; the offer cannot be solved any more', async () => {
    const s = await call('/api/v1/tickets/suggestions', { category: 'no-code', title: 'reset password', lang: 'en', requester });
    expect(s.body.articles.map((a: any) => a.slug)).toEqual(['reset-password']);
    const created = await call('/api/v1/tickets', { category: 'no-code', title: 'reset password', requester, fields: { account: 'a', device: 'd' }, deflection: { id: s.body.deflection_id } });
    expect(created.status).toBe(201);
    const ticket = (await findTicket(storage.db, created.body.key))!;
    expect((await suggestedArticlesForTicket({ db: storage.db }, ticket.id)).map((a) => a.slug)).toEqual(['reset-password']);
    expect((await call('/api/v1/self-service', { deflection_id: s.body.deflection_id, requester })).status).toBe(409);
    const f = await selfServiceFigures(storage.db, { fromMs: Date.parse('2026-03-01T00:00:00Z'), toMs: Date.parse('2026-03-03T00:00:00Z') });
    expect({ offered: f.offered, solved: f.solved, escalated: f.escalated }).toEqual({ offered: 2, solved: 1, escalated: 1 });
  });

  it('answers why nothing is offered; checks bodies and categories', async () => {
    expect((await call('/api/v1/tickets/suggestions', { category: 'attitude', title: '客服态度不好', requester })).body).toEqual({ deflection_id: null, reason: 'not_deflected', articles: [] });
    expect((await call('/api/v1/tickets/suggestions', { category: 'how-to', title: 'coffee machine', lang: 'en', requester })).body).toEqual({ deflection_id: null, reason: 'no_match', articles: [] });
    const bad = await call('/api/v1/tickets/suggestions', { category: 'no-code', requester });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toEqual(['title']);
    expect((await call('/api/v1/tickets/suggestions', { category: 'fault', title: 'x', requester })).status).toBe(422);
    expect((await call('/api/v1/self-service', { deflection_id: 'nope', requester })).status).toBe(404);
    const badDeflection = await call('/api/v1/tickets', { category: 'how-to', title: 'x', requester, deflection: { shown: [] } });
    expect(badDeflection.status).toBe(400);
    expect(badDeflection.body.issues[0].path[0]).toBe('deflection');
  });
});
