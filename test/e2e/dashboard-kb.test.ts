import type { Server } from 'node:http';
import express from 'express';
import { importArticles, searchKnowledgeBase } from '../../src/app/kb';
import type { AppContext } from '../../src/app/context';
import type { Storage } from '../../src/storage/database';
import { createDashboardKbRouter } from '../../src/web/dashboard/kb';
import { createDashboardRouter, SESSION_COOKIE } from '../../src/web/dashboard/router';
import { signDashboardLink } from '../../src/web/dashboard/signing';
import { ManualTime, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/** The dashboard's knowledge-base pages over HTTP on SQLite and PostgreSQL (issue 18). */
const SECRET = 'test-secret-for-kb-pages';
const md = (fm: string, body: string) => `---\n${fm}\n---\n${body}\n`;

describe.each(storageVariants())('dashboard knowledge base on $name', (variant) => {
  let storage: Storage;
  let server: Server;
  let base: string;
  let ctx: AppContext;
  const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    storage = await variant.open();
    ctx = testContext(storage, time);
    await importArticles({ db: storage.db, config: ctx.config, now: time.now(), actorId: 'cli' }, [
      { slug: 'sms-code', text: md('title: 验证码收不到怎么办\ncategory: login\nlang: zh-CN', '请检查短信拦截。') },
      { slug: 'refund-time', text: md('title: 退款多久到账\ncategory: refund-request\nlang: zh-CN', '三到五个工作日。') },
      { slug: 'welcome', text: md('title: Welcome\nlang: en', 'Hello.') },
    ]);
    for (const a of await storage.db.selectFrom('kb_articles').select(['id', 'slug']).execute()) ids[a.slug] = a.id;
    const app = express();
    app.use(createDashboardKbRouter({ ctx, secret: SECRET }));
    app.use(createDashboardRouter({ ctx, secret: SECRET }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await storage.close();
  });

  const cookieFor = (userId: string, departments: string[] | '*') =>
    `${SESSION_COOKIE}=${encodeURIComponent(signDashboardLink({ userId, departments, expiresAt: time.now().getTime() + 3_600_000 }, SECRET, 'session'))}`;
  const itBoss = cookieFor('slack:T1:UBOSS', ['it']);
  const admin = cookieFor('slack:T1:UADMIN', '*');
  const get = (path: string, cookie?: string) => fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} });
  const post = (path: string, cookie: string, form: Record<string, string>) =>
    fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  const csrfOf = async (id: string, cookie: string) => /name="csrf" value="([^"]+)"/.exec(await (await get(`/dashboard/kb/${id}?lang=en`, cookie)).text())![1]!;
  const slugsIn = (html: string) => [...html.matchAll(/data-slug="([^"]+)"/g)].map((m) => m[1]);

  it('is for signed-in supervisors and admins, each seeing the articles of their categories, in both languages', async () => {
    expect((await get('/dashboard/kb')).status).toBe(403);
    const boss = await get('/dashboard/kb?lang=zh-CN', itBoss);
    const html = await boss.text();
    expect(boss.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(html).toContain('<h1>知识库</h1>');
    expect(slugsIn(html)).toEqual(['sms-code']);
    expect(slugsIn(await (await get('/dashboard/kb?lang=en', admin)).text()).sort()).toEqual(['refund-time', 'sms-code', 'welcome']);
    expect((await get(`/dashboard/kb/${ids['refund-time']}`, itBoss)).status).toBe(404);
  });

  it('edits title, body, tags, category and language (audited, searchable at once); refuses a foreign category and a missing CSRF token', async () => {
    time.advance(60_000); // audit rows order by time
    const csrf = await csrfOf(ids['sms-code']!, itBoss);
    const edit = { csrf, op: 'save', title: '收不到短信验证码怎么办', body: '请检查短信拦截,然后点击重新发送。', tags: '短信, 登录', category: 'no-code', lang: 'zh-CN' };
    expect((await post(`/dashboard/kb/${ids['sms-code']}?lang=en`, itBoss, { ...edit, csrf: 'forged' })).status).toBe(403);
    expect((await post(`/dashboard/kb/${ids['sms-code']}?lang=en`, admin, edit)).status).toBe(403); // the token is bound to the session
    expect((await post(`/dashboard/kb/${ids['sms-code']}?lang=en`, itBoss, { ...edit, category: 'refund-request' })).status).toBe(403);
    const saved = await post(`/dashboard/kb/${ids['sms-code']}?lang=en`, itBoss, edit);
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/dashboard/kb?lang=en&done=saved');
    const row = await storage.db.selectFrom('kb_articles').selectAll().where('id', '=', ids['sms-code']!).executeTakeFirstOrThrow();
    expect({ title: row.title, category: row.category_id, tags: JSON.parse(row.tags) }).toEqual({ title: '收不到短信验证码怎么办', category: 'no-code', tags: ['短信', '登录'] });
    expect((await searchKnowledgeBase(ctx, '短信验证码')).map((h) => h.slug)).toEqual(['sms-code']);
    const audit = await storage.db.selectFrom('kb_audit').select(['action', 'actor_id']).where('article_id', '=', ids['sms-code']!).orderBy('at').execute();
    expect(audit).toEqual([
      { action: 'kb_created', actor_id: 'cli' },
      { action: 'kb_updated', actor_id: 'slack:T1:UBOSS' },
    ]);
    const bad = await post(`/dashboard/kb/${ids['sms-code']}?lang=en`, itBoss, { ...edit, title: ' ' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('Please check the field: title.');
  });

  it('retires an article: out of search and suggestions, kept in the list, audited', async () => {
    time.advance(60_000);
    const csrf = await csrfOf(ids['welcome']!, admin);
    expect((await post(`/dashboard/kb/${ids['welcome']}`, itBoss, { csrf: await csrfOf(ids['sms-code']!, itBoss), op: 'retire' })).status).toBe(404);
    expect((await searchKnowledgeBase(ctx, 'welcome')).map((h) => h.slug)).toEqual(['welcome']);
    expect((await post(`/dashboard/kb/${ids['welcome']}?lang=en`, admin, { csrf, op: 'retire' })).status).toBe(303);
    expect(await searchKnowledgeBase(ctx, 'welcome')).toEqual([]);
    const list = await (await get('/dashboard/kb?lang=en&done=retired', admin)).text();
    expect(list).toContain('Retired: it is no longer searched or offered.');
    expect(list).toMatch(/data-slug="welcome" class="retired"/);
    const audit = await storage.db.selectFrom('kb_audit').select(['action', 'actor_id']).where('article_id', '=', ids['welcome']!).orderBy('at').execute();
    expect(audit.at(-1)).toEqual({ action: 'kb_retired', actor_id: 'slack:T1:UADMIN' });
  });

  it('the dashboard links to the knowledge base in its nav bar, and back', async () => {
    const link = signDashboardLink({ userId: 'slack:T1:UBOSS', departments: ['it'], expiresAt: time.now().getTime() + 60_000 }, SECRET);
    const page = await get(`/dashboard?t=${encodeURIComponent(link)}&lang=zh-CN`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<nav>.*<a href="\/dashboard\/kb\?lang=zh-CN" data-page="kb" id="nav-kb">知识库<\/a>.*<\/nav>/s);
    const list = await (await get('/dashboard/kb?lang=en', itBoss)).text();
    expect(list).toContain('<a href="/dashboard?lang=en" id="kb-dashboard">');
    expect(list).toContain('<a href="/dashboard/kb/new?lang=en" id="kb-new">New article</a>');
  });

  it('creates an article: same checks and permissions as an edit, audited, searchable and offered at once', async () => {
    time.advance(60_000);
    expect((await get('/dashboard/kb/new')).status).toBe(403);
    const page = await get('/dashboard/kb/new?lang=zh-CN', itBoss);
    const html = await page.text();
    expect(html).toContain('<h1>新建文章</h1>');
    expect(html).toContain('id="kb-create"');
    // A supervisor files only under their departments' categories (no "(none)" either).
    expect(html).toContain('value="no-code"');
    expect(html).not.toContain('value="refund-request"');
    expect(html).not.toContain('<option value="">');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const draft = { csrf, op: 'save', title: 'VPN 连不上怎么办', body: '先重启客户端,再检查网络。', tags: 'vpn, 网络', category: 'no-code', lang: 'zh-CN', slug: '' };

    expect((await post('/dashboard/kb/new?lang=en', itBoss, { ...draft, csrf: 'forged' })).status).toBe(403);
    expect((await post('/dashboard/kb/new?lang=en', admin, draft)).status).toBe(403); // the token is bound to the session
    expect((await post('/dashboard/kb/new?lang=en', itBoss, { ...draft, category: 'refund-request' })).status).toBe(403);
    expect((await post('/dashboard/kb/new?lang=en', itBoss, { ...draft, category: '' })).status).toBe(403); // uncategorised: admins only
    for (const [field, change] of [['title', { title: ' ' }], ['body', { body: '' }], ['lang', { lang: 'fr' }], ['category', { category: 'nowhere' }], ['slug', { slug: 'Not A Slug' }], ['slug', { slug: 'sms-code' }]] as const) {
      const bad = await post('/dashboard/kb/new?lang=en', itBoss, { ...draft, ...change });
      expect([field, bad.status]).toEqual([field, 422]);
      const again = await bad.text();
      expect(again).toContain(`Please check the field: ${field}.`);
      expect(again).toContain('value="vpn, 网络"'); // the draft is kept
    }
    expect(await storage.db.selectFrom('kb_articles').select('id').where('title', '=', 'VPN 连不上怎么办').execute()).toEqual([]);

    const created = await post('/dashboard/kb/new?lang=en', itBoss, { ...draft, slug: 'vpn-down' });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/dashboard/kb?lang=en&done=created');
    const row = await storage.db.selectFrom('kb_articles').selectAll().where('slug', '=', 'vpn-down').executeTakeFirstOrThrow();
    expect({ title: row.title, category: row.category_id, lang: row.lang, tags: JSON.parse(row.tags), owner: row.owner_id, state: row.state }).toEqual({
      title: 'VPN 连不上怎么办', category: 'no-code', lang: 'zh-CN', tags: ['vpn', '网络'], owner: 'slack:T1:UBOSS', state: 'active',
    });
    expect(await storage.db.selectFrom('kb_audit').select(['action', 'actor_id']).where('article_id', '=', row.id).execute()).toEqual([{ action: 'kb_created', actor_id: 'slack:T1:UBOSS' }]);
    expect((await searchKnowledgeBase(ctx, 'VPN连不上', { lang: 'zh-CN' })).map((h) => h.slug)).toEqual(['vpn-down']);
    const list = await (await get('/dashboard/kb?lang=en&done=created', itBoss)).text();
    expect(list).toContain('Created: it is searched and offered from now on.');
    expect(slugsIn(list)).toContain('vpn-down');

    // Without a slug one is made; an admin may leave it uncategorised.
    const csrfAdmin = /name="csrf" value="([^"]+)"/.exec(await (await get('/dashboard/kb/new?lang=en', admin)).text())![1]!;
    expect((await post('/dashboard/kb/new?lang=en', admin, { ...draft, csrf: csrfAdmin, title: 'Office hours', body: 'Nine to six.', lang: 'en', category: '' })).status).toBe(303);
    const general = await storage.db.selectFrom('kb_articles').select(['slug', 'category_id']).where('title', '=', 'Office hours').executeTakeFirstOrThrow();
    expect(general.category_id).toBeNull();
    expect(general.slug).toMatch(/^kb-[0-9a-f]{8}$/);
  });
});
