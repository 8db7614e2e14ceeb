import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { addNote, claimTicket, replyToRequester, resolveTicket } from '../../src/app';
import type { AppContext } from '../../src/app/context';
import { suggestedArticlesForTicket } from '../../src/app/deflection';
import { importArticles } from '../../src/app/kb';
import { parseConfigText } from '../../src/config/load';
import type { Storage } from '../../src/storage/database';
import { signIntakeQuery } from '../../src/web/intake/links';
import { createIntakeWebRouter } from '../../src/web/intake/router';
import { launchTestBrowser } from '../support/browser';
import { as, FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * The web form and the status page in headless Chromium on SQLite and PostgreSQL (issue 18): a
 * signed 报修 link prefills the context, the form offers an article first, "Still need help"
 * raises the ticket, and the requester follows it on the status page while the agent works it
 * through the use cases chat uses. No console error (the strict CSP would report one).
 */
const SECRET = 'test-secret-for-intake-links';
const parsed = parseConfigText(`${readFileSync(FIXTURE_CONFIG, 'utf8')}
integrations:
  - { id: shop-app, key_env: SHOP_KEY, defaults: { fields: { app: shop } } }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const config = parsed.config;
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe.each(storageVariants())('web form and status page on $name', (variant) => {
  let storage: Storage;
  let server: Server;
  let base: string;
  let browser: Browser;
  let ctx: AppContext;
  let u: Record<string, string>;
  const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));

  beforeAll(async () => {
    storage = await variant.open();
    ctx = testContext(storage, time, config);
    u = await seedUsers(ctx, [{ platform: 'slack', id: 'UIT1', name: 'Alan' }]);
    await importArticles({ db: storage.db, config, now: time.now(), actorId: 'u-admin' }, [
      { slug: 'sms-code', text: '---\ntitle: 验证码收不到怎么办\ncategory: login\nlang: zh-CN\n---\n请先检查手机是否开启了短信拦截,然后点击“重新发送”。\n' },
      { slug: 'sms-code-en', text: '---\ntitle: Not receiving the verification code\ncategory: login\nlang: en\n---\nCheck that text messages are not blocked, then press Resend.\n' },
    ]);
    const app = express();
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    app.use(createIntakeWebRouter({ ctx, secret: SECRET, publicUrl: base }));
    browser = await launchTestBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await storage?.close();
  });

  const link = (prefill: Record<string, string>) => `${base}/new?${signIntakeQuery({ integration: 'shop-app', prefill, expiresAt: time.now().getTime() + 86_400_000 }, SECRET)}`;

  async function openPage(locale: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ locale, extraHTTPHeaders: { 'accept-language': locale } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return { page, errors };
  }

  it('fills and submits the prefilled form in Chinese, offers the article, raises the ticket on "Still need help", and follows it on the status page', async () => {
    const { page, errors } = await openPage('zh-CN');
    await page.goto(link({ user: 'u-42', device: 'iPhone 15', app_version: '5.2.1', page_url: 'https://shop.example.com/login' }));
    expect(await page.locator('h1').textContent()).toBe('提交工单');
    expect(await page.locator('#context').textContent()).toContain('iPhone 15');
    await page.selectOption('#group', 'fault');
    await page.selectOption('#category', 'no-code');
    // "account" is required for this category (device comes from the link).
    expect(await page.locator('#req-account').isVisible()).toBe(true);
    expect(await page.locator('#f-account').getAttribute('required')).not.toBeNull();
    await page.fill('#title', '收不到验证码');
    await page.fill('#description', '点了三次重新发送');
    await page.fill('#f-account', '13800000000');
    await page.setInputFiles('#file', { name: '截图.png', mimeType: 'image/png', buffer: PNG });
    await page.waitForFunction("document.getElementById('file_data').value.length > 0");
    await page.click('#submit');

    await page.waitForSelector('#deflect-form');
    expect(await page.locator('h1').textContent()).toBe('下面的文章能解答你的问题吗?');
    expect(await page.locator('.article h2').allTextContents()).toEqual(['验证码收不到怎么办']);
    await page.click('#still');

    await page.waitForSelector('#state');
    expect(await page.locator('#notice').textContent()).toMatch(/^工单 IT-\d+ 已提交/);
    expect(await page.locator('#state').getAttribute('data-state')).toBe('new');
    const key = (await page.locator('h1').textContent())!.replace('工单 ', '');
    const ticket = (await storage.db.selectFrom('tickets').selectAll().where('key', '=', key).executeTakeFirst())!;
    const fields = Object.fromEntries((await storage.db.selectFrom('ticket_fields').select(['field_id', 'value']).where('ticket_id', '=', ticket.id).execute()).map((f) => [f.field_id, f.value]));
    expect(fields).toEqual({ account: '13800000000', device: 'iPhone 15', app_version: '5.2.1', page_url: 'https://shop.example.com/login', user: 'u-42', app: 'shop' });
    expect(ticket.source_platform).toBe('api');
    expect((await suggestedArticlesForTicket(ctx, ticket.id)).map((a) => a.slug)).toEqual(['sms-code']);
    const files = await storage.db.selectFrom('intake_files').select(['name', 'content_type', 'size']).execute();
    expect(files).toEqual([{ name: '截图.png', content_type: 'image/png', size: PNG.length }]);
    const attachment = JSON.parse((await storage.db.selectFrom('messages').select('attachments').where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()).attachments!)[0];
    const download = await fetch(attachment.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await fetch(attachment.url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(404);

    // The agent works it in chat: a public reply and an internal note; the page shows only the reply.
    const statusUrl = page.url();
    await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key });
    await replyToRequester(ctx, { meta: as(u.UIT1!), ticket: key, body: '请问是哪个手机号?' });
    await addNote(ctx, { meta: as(u.UIT1!), ticket: key, body: 'INTERNAL: carrier outage suspected' });
    await page.goto(statusUrl.replace(/&created=1/, ''));
    const thread = await page.locator('#messages').textContent();
    expect(thread).toContain('请问是哪个手机号?');
    expect(thread).not.toContain('INTERNAL');

    // The requester answers on the page.
    await page.fill('#body', '138 0000 0000');
    await page.click('#send');
    await page.waitForSelector('#notice');
    expect(await page.locator('#messages').textContent()).toContain('138 0000 0000');

    // Resolved by the agent: the requester confirms on the page and the ticket closes.
    await resolveTicket(ctx, { meta: as(u.UIT1!), ticket: key, note: '已重置短信通道' });
    await page.goto(statusUrl.replace(/&created=1/, ''));
    expect(await page.locator('#state').getAttribute('data-state')).toBe('resolved');
    await page.click('#confirm');
    await page.waitForSelector('#notice');
    expect(await page.locator('#state').getAttribute('data-state')).toBe('closed');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('speaks English by Accept-Language or lang=, and "Solved" raises no ticket', async () => {
    const { page, errors } = await openPage('en-US');
    const before = (await storage.db.selectFrom('tickets').select('id').execute()).length;
    await page.goto(link({ user: 'u-43' }));
    expect(await page.locator('h1').textContent()).toBe('Raise a ticket');
    await page.goto(`${link({ user: 'u-43' })}&lang=zh-CN`);
    expect(await page.locator('h1').textContent()).toBe('提交工单');
    await page.goto(`${link({ user: 'u-43' })}&lang=en`);
    await page.selectOption('#group', 'fault');
    await page.selectOption('#category', 'no-code');
    await page.fill('#title', 'No verification code');
    await page.fill('#f-account', 'a');
    await page.fill('#f-device', 'Pixel');
    await page.click('#submit');
    await page.waitForSelector('#deflect-form');
    expect(await page.locator('.article h2').allTextContents()).toEqual(['Not receiving the verification code']);
    await page.click('#solved');
    await page.waitForSelector('#thanks');
    expect(await page.locator('#thanks').textContent()).toBe('Glad it helped. No ticket was raised.');
    expect((await storage.db.selectFrom('tickets').select('id').execute()).length).toBe(before);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('refuses edited or expired links and posts without the CSRF token', async () => {
    const good = link({ user: 'u-42', device: 'iPhone 15' });
    expect((await fetch(good)).status).toBe(200);
    expect((await fetch(good.replace('iPhone', 'Android'))).status).toBe(403);
    const expired = `${base}/new?${signIntakeQuery({ integration: 'shop-app', prefill: {}, expiresAt: time.now().getTime() - 1000 }, SECRET)}`;
    expect(await (await fetch(expired)).text()).toContain('expired');
    const res = await fetch(good, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'tb_form=abcdefghijklmnopqrstuvwx' }, body: 'category=no-code&title=x&csrf=forged' });
    expect(res.status).toBe(403);
    const csp = (await fetch(good)).headers.get('content-security-policy')!;
    expect(csp).toMatch(/default-src 'none'; script-src 'nonce-[^']+'; style-src 'nonce-/);
    expect((await fetch(`${base}/status/IT-1?exp=9999999999&sig=forged`)).status).toBe(404);
  });
});
