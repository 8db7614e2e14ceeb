import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { parse } from 'csv-parse/sync';
import type { AppContext } from '../../src/app/context';
import { calendarsFromConfig } from '../../src/domain/calendar';
import type { Storage } from '../../src/storage/database';
import { createDashboardLink } from '../../src/web/dashboard/scope';
import { signDashboardLink } from '../../src/web/dashboard/signing';
import { createDashboardRouter } from '../../src/web/dashboard/router';
import { ANN, insertReportFixture, reportConfig } from '../fixtures/reports';
import { openMigratedSqlite } from '../support/storage';
import { launchTestBrowser } from '../support/browser';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const SECRET = 'test-secret-for-dashboard-links';
const NOW = new Date('2026-03-16T00:00:00Z');

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
    ];
    await storage.db
      .insertInto('users')
      .values(users.map((u) => ({ ...u, workspace: 'T1', email: null, locale: null, timezone: null, away_until: null, is_bot: 0, created_at: NOW.toISOString(), updated_at: NOW.toISOString() })))
      .execute();
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

  it('signs in through a link, shows the six figures with a chart, and switches language', async () => {
    const link = await createDashboardLink(ctx, { userId: 'slack:T1:UADMIN', baseUrl: base, secret: SECRET, locale: 'en' });
    expect(link).toBeDefined();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const response = await page.goto(`${link!.url}&days=30`);
    expect(response?.status()).toBe(200);
    await expect(page.locator('[data-metric]').count()).resolves.toBe(6);
    // 12 of 15 clock cycles completed since 2026-02-14 were met in time (see the fixture).
    await expect(page.locator('[data-metric="on_time"] .figure').textContent()).resolves.toBe('80%');
    await expect(page.locator('[data-metric="on_time"] .name').textContent()).resolves.toBe('On-time rate');
    await page.waitForSelector('body[data-charts="1"]');
    await expect(page.locator('#chart-volume canvas, #chart-volume svg').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-en.png'), fullPage: true });

    await page.click('#lang-switch');
    await page.waitForSelector('html[lang="zh-CN"]');
    await expect(page.locator('[data-metric="on_time"] .name').textContent()).resolves.toBe('按时率');
    await expect(page.locator('[data-metric="on_time"] .figure').textContent()).resolves.toBe('80%');

    await page.click('nav a[data-page="flow"]');
    await page.waitForSelector('body[data-page="flow"]');
    const flowText = await page.locator('main').textContent();
    expect(flowText).toContain('信息技术部');
    expect(flowText).toContain('信息不全');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('nav a[data-page="overview"]');
    await page.waitForSelector('body[data-charts="1"]');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-zh-phone.png'), fullPage: true });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('keeps a supervisor to their departments', async () => {
    const link = await createDashboardLink(ctx, { userId: 'feishu:T1:ou_finboss', baseUrl: base, secret: SECRET, locale: 'en' });
    const page = await browser.newPage();
    await page.goto(`${link!.url}&days=30&dept=finance`);
    await expect(page.locator('#figures').count()).resolves.toBe(1);
    const options = await page.locator('select[name="dept"] option').allTextContents();
    expect(options).toEqual(['All', 'Finance']);
    const refused = await page.goto(`${link!.url}&dept=it`);
    expect(refused?.status()).toBe(403);
    await expect(page.locator('body').getAttribute('data-denied')).resolves.toBe('scope');
    await page.close();
  });

  it('refuses an expired or tampered link with a clear page', async () => {
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
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-refused.png') });
    await page.close();
  });

  it('exports tickets as CSV from the dashboard with Chinese text intact', async () => {
    const token = signDashboardLink({ userId: 'slack:T1:UADMIN', departments: '*', expiresAt: NOW.getTime() + 60_000 }, SECRET);
    const res = await fetch(`${base}/dashboard/export.csv?t=${token}&days=30&lang=zh-CN&kind=tickets`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows: string[][] = parse(bytes.toString('utf8'), { bom: true });
    expect(rows[0]![0]).toBe('工单号');
    expect(rows.slice(1).map((r) => r[0])).toContain('T3');
    expect(rows.find((r) => r[0] === 'T6')![24]).toBe('还行,但是等了很久');
  });
});
