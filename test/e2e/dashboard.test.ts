import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parse } from 'csv-parse/sync';
import type { AppContext } from '../../src/app/context';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { METRIC_DEFINITIONS } from '../../src/reports/definitions';
import type { Storage } from '../../src/storage/database';
import { createDashboardLink } from '../../src/web/dashboard/scope';
import { signDashboardLink } from '../../src/web/dashboard/signing';
import { createDashboardRouter, SESSION_COOKIE } from '../../src/web/dashboard/router';
import { ANN, insertReportFixture, reportConfig } from '../fixtures/reports';
import { openMigratedSqlite } from '../support/storage';
import { launchTestBrowser } from '../support/browser';

/**
 * The dashboard as a supervisor sees it, in headless Chromium: every page in both languages on a
 * desktop and at 390 px, screenshots into test-artifacts/ (kept by CI), and assertions on what the
 * pages say — no raw ids, no time without its zone, no console error (the CSP would report one).
 */

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const SECRET = 'test-secret-for-dashboard-links';
// Monday 2026-03-16 08:00 in Shanghai.
const NOW = new Date('2026-03-16T00:00:00Z');
const NAMELESS = 'feishu:T1:ou_7d8a11nameless';
const PAGES = ['overview', 'work', 'backlog', 'categories', 'flow', 'satisfaction', 'feedback'] as const;

/** Texts that must never reach a page: platform ids of people and chats. */
const RAW_ID = /\b(?:slack|feishu):[A-Za-z0-9_]+:|\bou_[0-9a-z]{6,}|\bU[A-Z0-9]{4,}\b|\boc_[0-9a-z]+/;
/** ISO instants (a time without the reader's zone). */
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const LOCAL_TIME = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/;

describe('dashboard in headless Chromium', () => {
  let storage: Storage;
  let server: Server;
  let base: string;
  let browser: Browser;
  let ctx: AppContext;

  beforeAll(async () => {
    storage = await openMigratedSqlite();
    await insertReportFixture(storage.db);
    const users = [
      { id: 'slack:T1:UADMIN', platform: 'slack', platform_user_id: 'UADMIN', name: 'Admin' },
      { id: 'feishu:T1:ou_finboss', platform: 'feishu', platform_user_id: 'ou_finboss', name: 'Fin Boss' },
      { id: ANN, platform: 'slack', platform_user_id: 'UANN', name: 'Ann 安' },
      // A Feishu agent whose name the platform never gave us.
      { id: NAMELESS, platform: 'feishu', platform_user_id: 'ou_7d8a11nameless', name: null },
    ];
    await storage.db
      .insertInto('users')
      .values(users.map((u) => ({ ...u, workspace: 'T1', email: null, locale: null, timezone: null, away_until: null, is_bot: 0, created_at: NOW.toISOString(), updated_at: NOW.toISOString() })))
      .execute();
    // Work to act on: T4 overdue since Thursday, T8 due in two hours and held by the nameless agent, T5 Ann's.
    await storage.db.updateTable('clocks').set({ due_at: '2026-03-12T07:30:00.000Z' }).where('ticket_id', '=', 't4').where('kind', '=', 'first_response').execute();
    await storage.db.updateTable('clocks').set({ due_at: '2026-03-16T02:00:00.000Z' }).where('ticket_id', '=', 't8').where('kind', '=', 'first_response').execute();
    await storage.db.updateTable('tickets').set({ assignee_id: NAMELESS }).where('id', '=', 't8').execute();
    await storage.db.updateTable('tickets').set({ assignee_id: ANN }).where('id', 'in', ['t4', 't5']).execute();
    const link = (ticket_id: string, platform: string, channel: string, message_id: string) => ({
      platform, workspace: 'T1', channel, message_id, ticket_id, leg_id: null, role: 'card', card_version: 1, created_at: NOW.toISOString(), updated_at: NOW.toISOString(),
    });
    await storage.db.insertInto('chat_links').values([link('t1', 'slack', 'CIT', '1773300000.000100'), link('t4', 'slack', 'CIT', '1773300000.000200'), link('t8', 'feishu', 'oc_fin', 'om_abc')]).execute();
    const config = reportConfig();
    let seq = 0;
    ctx = {
      db: storage.db,
      dialect: storage.dialect,
      config,
      calendars: calendarsFromConfig(config.raw),
      time: { now: () => NOW },
      logger: pino({ level: 'silent' }),
      newId: () => `id-${++seq}`,
    };
    const app = express();
    app.use(createDashboardRouter({ ctx, secret: SECRET }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchTestBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await storage?.close();
  });

  /** A page that records console errors and failed requests (a CSP violation is a console error). */
  async function watchedPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    return { page, errors };
  }

  /** Checks what a page says and saves its screenshot. */
  async function checkAndShoot(page: Page, name: string): Promise<string> {
    await page.waitForSelector('body[data-charts]');
    const text = (await page.locator('body').innerText()) ?? '';
    expect({ name, rawId: text.match(RAW_ID)?.[0] }).toEqual({ name, rawId: undefined });
    expect({ name, iso: text.match(ISO_TIME)?.[0] }).toEqual({ name, iso: undefined });
    if (LOCAL_TIME.test(await page.locator('main').innerText())) expect(text).toContain('Asia/Shanghai');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect({ name, overflow: overflow > 0 }).toEqual({ name, overflow: false });
    // Chinese comes from the served CJK font on a machine without one: shoot once it has loaded.
    await page.evaluate('document.fonts.ready');
    await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
    return text;
  }

  it('signs in through a link, then every page in both languages on desktop and phone says what it means', async () => {
    const link = await createDashboardLink(ctx, { userId: 'slack:T1:UADMIN', baseUrl: base, secret: SECRET, locale: 'en' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, errors } = await watchedPage(context);
    const response = await page.goto(`${link!.url}&days=30`);
    expect(response?.status()).toBe(200);

    // The link is a sign-in: an 8-hour HttpOnly, SameSite=Strict cookie, and the token leaves the address bar.
    const [cookie] = (await context.cookies()).filter((c) => c.name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/dashboard' });
    expect(Math.round(cookie!.expires - Date.now() / 1000)).toBeGreaterThan(8 * 3600 - 120);
    expect(page.url()).not.toContain('t=');

    await expect(page.locator('#figures [data-metric]').count()).resolves.toBe(6);
    await expect(page.locator('#volume [data-metric]').count()).resolves.toBe(4);
    // 12 of 15 clock cycles completed since 2026-02-14 were met in time (see the fixture).
    const onTime = page.locator('[data-metric="on_time"]');
    await expect(onTime.locator('.figure').textContent()).resolves.toBe('80%');
    await expect(onTime.locator('.label').textContent()).resolves.toBe('On-time rate');
    await expect(onTime.locator('.basis').textContent()).resolves.toBe('15 clocks completed');
    await expect(onTime.locator('details.def p').textContent()).resolves.toBe(METRIC_DEFINITIONS.on_time.en);
    // Durations carry their unit; a handful of items is never coloured as a change.
    await expect(page.locator('[data-metric="first_response"] .unit').textContent()).resolves.toMatch(/^(min|h|d)$/);
    await expect(page.locator('[data-verdict="good"], [data-verdict="bad"]').count()).resolves.toBe(0);
    await expect(page.locator('#period').textContent()).resolves.toContain('2026-02-14 – 2026-03-16');
    await expect(page.locator('#period').textContent()).resolves.toContain('Asia/Shanghai');
    await page.waitForSelector('body[data-charts="1"]');
    await expect(page.locator('#chart-volume canvas').count()).resolves.toBeGreaterThan(0);
    // A tooltip under the CSP: hovering the chart must not log a violation.
    const box = (await page.locator('#chart-volume').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
    await page.waitForTimeout(300);

    for (const locale of ['en', 'zh-CN'] as const) {
      if (locale === 'zh-CN') {
        await page.click('#lang-switch');
        await page.waitForSelector('html[lang="zh-CN"]');
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.click('nav a[data-page="overview"]');
        await page.waitForSelector('body[data-page="overview"]');
        await expect(onTime.locator('.label').textContent()).resolves.toBe('按时率');
        await expect(onTime.locator('details.def p').textContent()).resolves.toBe(METRIC_DEFINITIONS.on_time['zh-CN']);
      }
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        for (const name of PAGES) {
          await page.click(`nav a[data-page="${name}"]`);
          await page.waitForSelector(`body[data-page="${name}"]`);
          const text = await checkAndShoot(page, `${name}-${locale === 'en' ? 'en' : 'zh'}${width === 390 ? '-phone' : ''}`);
          if (name === 'flow' && locale === 'zh-CN') expect(text).toContain('信息不全');
          if (name === 'work') {
            // Names, never ids: the nameless Feishu agent is "unknown (Feishu)" with a hint for the admin.
            expect(text).toContain('Ann 安');
            expect(text).toContain(locale === 'en' ? 'unknown (Feishu)' : '未知用户(飞书)');
            await expect(page.locator('#workload-table .unknown').first().getAttribute('title')).resolves.toContain(locale === 'en' ? 'sync' : '同步');
          }
        }
      }
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  it('lists what is about to breach and who holds what, with keys linking to the chat thread', async () => {
    const token = signDashboardLink({ userId: 'slack:T1:UADMIN', departments: '*', expiresAt: NOW.getTime() + 60_000 }, SECRET);
    const context = await browser.newContext();
    const { page, errors } = await watchedPage(context);
    await page.goto(`${base}/dashboard/work?t=${token}&lang=en&period=last_week`);
    const due = page.locator('#due-table tbody tr');
    await expect(due.count()).resolves.toBe(2);
    // Most urgent first: T4 overdue since Thursday, then T8 due in two hours.
    await expect(due.nth(0).innerText()).resolves.toMatch(/^T4\s.*overdue by 88 hours 30 minutes/s);
    await expect(due.nth(1).innerText()).resolves.toMatch(/T8.*due in 2 hours/s);
    await expect(due.nth(0).locator('td').nth(4).textContent()).resolves.toBe('2026-03-12 15:30');
    await expect(page.locator('#due-table a.ticket-key', { hasText: 'T4' }).getAttribute('href')).resolves.toBe('https://app.slack.com/client/T1/CIT/thread/CIT-1773300000.000200');
    await expect(page.locator('#due-table a.ticket-key', { hasText: 'T8' }).getAttribute('href')).resolves.toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_fin');
    // Ann holds T4 and T5 (T4 overdue) and resolved T1 last week; T1's two clocks were met, T4's breached.
    const ann = page.locator('#workload-table tr', { hasText: 'Ann 安' });
    await expect(ann.locator('td').allInnerTexts()).resolves.toEqual(['Ann 安', '2', '1', '1', '66.7% (2/3)']);

    // Satisfaction answers, lowest score first, keys linking to the thread.
    await page.click('nav a[data-page="satisfaction"]');
    await page.selectOption('select[name="period"]', '30');
    await page.click('form.filters button');
    await page.waitForSelector('body[data-page="satisfaction"]');
    const scores = await page.locator('#answers-table tbody tr td:nth-child(3)').allTextContents();
    expect(scores).toEqual(['3', '5']);
    await expect(page.locator('#answers-table a.ticket-key', { hasText: 'T1' }).count()).resolves.toBe(1);

    // Click a figure: the tickets behind it, as many rows as the figure's basis.
    await page.click('nav a[data-page="overview"]');
    const basis = Number((await page.locator('[data-metric="on_time"] .basis').textContent())!.match(/\d+/)![0]);
    await page.click('[data-metric="on_time"] .value a');
    await page.waitForSelector('body[data-page="tickets"]');
    await expect(page.locator('#behind-table tbody tr').count()).resolves.toBe(basis);
    await expect(page.locator('#behind-table tbody tr .late').count()).resolves.toBe(3);
    await checkAndShoot(page, 'tickets-on_time-en');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('keeps a single-department supervisor to their department, named', async () => {
    const link = await createDashboardLink(ctx, { userId: 'feishu:T1:ou_finboss', baseUrl: base, secret: SECRET, locale: 'zh-CN' });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const { page, errors } = await watchedPage(context);
    await page.goto(`${link!.url}&days=30`);
    await expect(page.locator('#scope-name').textContent()).resolves.toBe('部门:财务部');
    await expect(page.locator('select[name="dept"]').count()).resolves.toBe(0);
    await page.click('nav a[data-page="flow"]');
    await page.waitForSelector('body[data-page="flow"]');
    const text = await checkAndShoot(page, 'flow-zh-phone-supervisor');
    // Only the finance rows: no other department's empty row.
    expect(text).not.toContain('无数据');
    await expect(page.locator('table').nth(1).locator('tbody tr').count()).resolves.toBe(1);
    expect(errors).toEqual([]);
    const refused = await page.goto(`${base}/dashboard?dept=it&lang=en`);
    expect(refused?.status()).toBe(403);
    await expect(page.locator('body').getAttribute('data-denied')).resolves.toBe('scope');
    await context.close();
  });

  it('refuses an expired or tampered link, and a session cookie cannot be used as a link', async () => {
    const page = await browser.newPage();
    const expired = signDashboardLink({ userId: 'slack:T1:UADMIN', departments: '*', expiresAt: NOW.getTime() - 1 }, SECRET);
    const r1 = await page.goto(`${base}/dashboard?t=${expired}&lang=en`);
    expect(r1?.status()).toBe(403);
    await expect(page.locator('#denied-message').textContent()).resolves.toContain('expired');

    const valid = signDashboardLink({ userId: 'feishu:T1:ou_finboss', departments: ['finance'], expiresAt: NOW.getTime() + 60_000 }, SECRET);
    const [payload, signature] = valid.split('.') as [string, string];
    const widened = Buffer.from(JSON.stringify({ u: 'feishu:T1:ou_finboss', d: '*', e: NOW.getTime() + 60_000 })).toString('base64url');
    const r2 = await page.goto(`${base}/dashboard?t=${widened}.${signature}&lang=zh-CN`);
    expect(r2?.status()).toBe(403);
    await expect(page.locator('#denied-message').textContent()).resolves.toContain('无效');
    const r3 = await page.goto(`${base}/dashboard?t=${payload}.${signature.slice(0, -2)}AA`);
    expect(r3?.status()).toBe(403);
    const session = signDashboardLink({ userId: 'slack:T1:UADMIN', departments: '*', expiresAt: NOW.getTime() + 60_000 }, SECRET, 'session');
    expect((await page.goto(`${base}/dashboard?t=${session}`))?.status()).toBe(403);
    expect((await page.goto(`${base}/dashboard`))?.status()).toBe(403);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-refused.png') });
    await page.close();
  });

  it('sets a Secure cookie behind HTTPS and exports CSV with local times, an ISO column and a sensible name', async () => {
    const token = signDashboardLink({ userId: 'slack:T1:UADMIN', departments: '*', expiresAt: NOW.getTime() + 60_000 }, SECRET);
    const secure = await fetch(`${base}/dashboard?t=${token}&lang=en`, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(secure.headers.get('set-cookie')).toMatch(/^ticketbot_dashboard=[^;]+; Max-Age=28800; Path=\/dashboard; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/);

    const res = await fetch(`${base}/dashboard/export.csv?t=${token}&days=30&lang=zh-CN&kind=tickets`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="ticketbot-tickets-2026-02-14_2026-03-16.csv"');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows: string[][] = parse(bytes.toString('utf8'), { bom: true });
    expect(rows[0]![0]).toBe('工单号');
    expect(rows[0]![9]).toBe('创建时间(Asia/Shanghai,YYYY-MM-DD HH:mm:ss)');
    const t3 = rows.find((r) => r[0] === 'T3')!;
    expect([t3[9], t3[10]]).toEqual(['2026-03-04 09:00:00', '2026-03-04T01:00:00.000Z']);
    expect(rows.find((r) => r[0] === 'T6')![24]).toBe('还行,但是等了很久');
    expect(rows.find((r) => r[0] === 'T8')![8]).toBe('未知用户(飞书)');

    const metrics = await fetch(`${base}/dashboard/export.csv?t=${token}&period=last_week&lang=en&kind=metrics`);
    expect(metrics.headers.get('content-disposition')).toBe('attachment; filename="ticketbot-metrics-2026-03-09_2026-03-15.csv"');
    const m: string[][] = parse(Buffer.from(await metrics.arrayBuffer()).toString('utf8'), { bom: true });
    expect(m.find((r) => r[0] === 'all departments' && r[1] === 'On-time rate')!.slice(2, 4)).toEqual(['75', '%']);
  });
});
