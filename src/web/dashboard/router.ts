import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../app/context';
import { DAY_MS } from '../../domain/metrics';
import type { Locale } from '../../domain/types';
import { departmentScopeName, exportTicketsCsv, metricsCsv } from '../../reports/export';
import { loadMetrics, loadOpenTickets, loadSurveyFacts, reportTimeZone, type ReportFilter } from '../../reports/queries';
import { compareFigures, pilotComparisons, sourceOf } from '../../reports/stats';
import {
  backlogPage,
  categoriesPage,
  deniedPage,
  feedbackPage,
  flowPage,
  layout,
  overviewPage,
  satisfactionPage,
  type ChartSpec,
  type PageFrame,
  type PageName,
} from './pages';
import { verifyDashboardToken, type DashboardClaims } from './signing';

/**
 * The web dashboard, mounted on the bot's HTTP server at the root (`app.use(createDashboardRouter(…))`);
 * every route lives under /dashboard. Access is by a signed link only (see signing.ts), scoped to
 * the departments in the link.
 */

export interface DashboardRouterOptions {
  ctx: AppContext;
  secret: string;
}

const ALLOWED_DAYS = [7, 30, 90];
const ECHARTS_FILE = require.resolve('echarts/dist/echarts.min.js');

interface Scope {
  claims: DashboardClaims;
  locale: Locale;
  allowed: string[];
  days: number;
  departmentId: string | undefined;
  categoryId: string | undefined;
  token: string;
}

function queryText(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function createDashboardRouter({ ctx, secret }: DashboardRouterOptions): Router {
  const router = express.Router();
  const config = ctx.config;
  const src = sourceOf(ctx);
  const zone = reportTimeZone(config);

  const localeOf = (req: Request): Locale => {
    const lang = queryText(req, 'lang');
    return lang === 'en' || lang === 'zh-CN' ? lang : config.raw.locale;
  };

  const refuse = (res: Response, locale: Locale, reason: 'expired' | 'invalid' | 'scope') => {
    res.status(403).set({ 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'", 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).type('html').send(deniedPage(locale, reason));
  };

  /** Checks the link and the filters; answers 403 itself and returns undefined when refused. */
  const authorize = (req: Request, res: Response): Scope | undefined => {
    const locale = localeOf(req);
    const token = queryText(req, 't');
    const verified = verifyDashboardToken(token, secret, ctx.time.now().getTime());
    if (!verified.ok) {
      ctx.logger.info({ reason: verified.reason }, 'dashboard link refused');
      refuse(res, locale, verified.reason);
      return undefined;
    }
    const claims = verified.claims;
    const allowed = claims.departments === '*' ? [...config.departments.keys()] : claims.departments.filter((d) => config.departments.has(d));
    const departmentId = queryText(req, 'dept');
    if (departmentId !== undefined && !allowed.includes(departmentId)) {
      refuse(res, locale, 'scope');
      return undefined;
    }
    const days = Number(queryText(req, 'days') ?? 7);
    const categoryId = queryText(req, 'cat');
    return {
      claims,
      locale,
      allowed,
      days: ALLOWED_DAYS.includes(days) ? days : 7,
      departmentId,
      categoryId: categoryId !== undefined && config.categories.has(categoryId) ? categoryId : undefined,
      token: token!,
    };
  };

  const filterOf = (scope: Scope): ReportFilter => {
    const toMs = ctx.time.now().getTime();
    return {
      fromMs: toMs - scope.days * DAY_MS,
      toMs,
      departmentIds: scope.departmentId ? [scope.departmentId] : scope.claims.departments === '*' ? undefined : scope.allowed,
      categoryId: scope.categoryId,
    };
  };

  const frameOf = (scope: Scope, page: PageName, nonce: string): PageFrame => ({
    config,
    locale: scope.locale,
    page,
    nonce,
    days: scope.days,
    departmentId: scope.departmentId,
    categoryId: scope.categoryId,
    allowedDepartments: scope.allowed,
    validUntil: `${new Intl.DateTimeFormat(scope.locale, { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(scope.claims.expiresAt))} (${zone})`,
    href: (path, changes = {}) => {
      const params = new URLSearchParams({ t: scope.token, lang: scope.locale, days: String(scope.days) });
      if (scope.departmentId) params.set('dept', scope.departmentId);
      if (scope.categoryId) params.set('cat', scope.categoryId);
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) params.delete(k);
        else params.set(k, v);
      }
      return `${path}?${params.toString()}`;
    },
  });

  const send = (res: Response, frame: PageFrame, content: { body: string; charts: ChartSpec[] }) => {
    res
      .set({
        'Content-Security-Policy': `default-src 'none'; script-src 'self' 'nonce-${frame.nonce}'; style-src 'nonce-${frame.nonce}'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      })
      .type('html')
      .send(layout(frame, content.body, content.charts));
  };

  /** Wraps a page handler so a failure logs and answers 500 instead of hanging the request. */
  const page = (name: PageName, render: (scope: Scope, filter: ReportFilter, frame: PageFrame) => Promise<{ body: string; charts: ChartSpec[] }>) => {
    return async (req: Request, res: Response) => {
      const scope = authorize(req, res);
      if (!scope) return;
      try {
        const frame = frameOf(scope, name, randomBytes(16).toString('base64'));
        send(res, frame, await render(scope, filterOf(scope), frame));
      } catch (err) {
        ctx.logger.error({ err, page: name }, 'dashboard page failed');
        res.status(500).type('text').send('internal error');
      }
    };
  };

  router.get('/dashboard/assets/echarts.min.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('application/javascript').sendFile(ECHARTS_FILE);
  });

  router.get(
    '/dashboard',
    page('overview', async (scope, filter, frame) => {
      const nowMs = ctx.time.now().getTime();
      const span = filter.toMs - filter.fromMs;
      const [current, previous] = await Promise.all([loadMetrics(src, filter, nowMs), loadMetrics(src, { ...filter, fromMs: filter.fromMs - span, toMs: filter.fromMs }, nowMs)]);
      // The pilot comparison spans departments, so only a viewer of all departments sees it.
      const pilots = scope.claims.departments === '*' && !scope.departmentId ? await pilotComparisons(src, filter, nowMs) : [];
      return overviewPage(frame, compareFigures(current, previous), current, pilots);
    }),
  );

  router.get(
    '/dashboard/backlog',
    page('backlog', async (_scope, filter, frame) => {
      const nowMs = ctx.time.now().getTime();
      const [report, open] = await Promise.all([loadMetrics(src, filter, nowMs), loadOpenTickets(src, filter, 50)]);
      const assigneeIds = [...new Set(open.map((t) => t.assigneeId).filter((x): x is string => x !== null))];
      const users = assigneeIds.length ? await ctx.db.selectFrom('users').select(['id', 'name']).where('id', 'in', assigneeIds).execute() : [];
      const names = new Map(users.map((u) => [u.id, u.name]));
      return backlogPage(frame, report, open.map((t) => ({ ...t, assigneeName: t.assigneeId ? (names.get(t.assigneeId) ?? t.assigneeId) : null })), nowMs);
    }),
  );

  router.get(
    '/dashboard/categories',
    page('categories', async (_scope, filter, frame) => categoriesPage(frame, await loadMetrics(src, filter, ctx.time.now().getTime()))),
  );

  router.get(
    '/dashboard/flow',
    page('flow', async (_scope, filter, frame) => flowPage(frame, await loadMetrics(src, filter, ctx.time.now().getTime()))),
  );

  router.get(
    '/dashboard/satisfaction',
    page('satisfaction', async (_scope, filter, frame) => {
      const [report, surveys] = await Promise.all([loadMetrics(src, filter, ctx.time.now().getTime()), loadSurveyFacts(src, filter)]);
      return satisfactionPage(frame, report, surveys.map((s) => ({ ticketKey: s.ticketKey, departmentId: s.departmentId, score: s.score, comment: s.comment, answeredAt: s.answeredAt })));
    }),
  );

  router.get(
    '/dashboard/feedback',
    page('feedback', async (scope, filter, frame) => {
      let query = ctx.db
        .selectFrom('feedback as f')
        .leftJoin('users as u', 'u.id', 'f.user_id')
        .select(['f.text', 'f.department_id', 'f.created_at', 'f.user_id', 'u.name'])
        .where('f.created_at', '>=', new Date(filter.fromMs).toISOString())
        .where('f.created_at', '<', new Date(filter.toMs).toISOString())
        .orderBy('f.created_at', 'desc')
        .limit(500);
      // Admins see every suggestion; supervisors those about their departments.
      if (scope.departmentId) query = query.where('f.department_id', '=', scope.departmentId);
      else if (scope.claims.departments !== '*') query = query.where('f.department_id', 'in', scope.allowed);
      const rows = await query.execute();
      return feedbackPage(frame, rows.map((r) => ({ text: r.text, author: r.name ?? r.user_id, departmentId: r.department_id, createdAt: r.created_at })));
    }),
  );

  router.get('/dashboard/export.csv', async (req, res) => {
    const scope = authorize(req, res);
    if (!scope) return;
    const filter = filterOf(scope);
    const kind = queryText(req, 'kind') === 'metrics' ? 'metrics' : 'tickets';
    const day = new Date(filter.toMs).toISOString().slice(0, 10);
    res.set({ 'Content-Disposition': `attachment; filename="tickets-${kind}-${day}.csv"`, 'Cache-Control': 'no-store' }).type('text/csv; charset=utf-8');
    try {
      if (kind === 'metrics') {
        const nowMs = ctx.time.now().getTime();
        const scopes = [{ scope: departmentScopeName(config, scope.departmentId, scope.locale), report: await loadMetrics(src, filter, nowMs) }];
        if (!scope.departmentId) {
          for (const id of scope.allowed) scopes.push({ scope: departmentScopeName(config, id, scope.locale), report: await loadMetrics(src, { ...filter, departmentIds: [id] }, nowMs) });
        }
        res.send(metricsCsv(scope.locale, scopes));
        return;
      }
      await exportTicketsCsv(src, filter, scope.locale, async (chunk) => {
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
      });
      res.end();
    } catch (err) {
      ctx.logger.error({ err }, 'dashboard export failed');
      if (!res.headersSent) res.status(500).type('text').send('internal error');
      else res.destroy();
    }
  });

  return router;
}
