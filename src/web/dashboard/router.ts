import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../app/context';
import { PERIOD_KINDS, resolvePeriod, type Period, type PeriodRequest } from '../../domain/periods';
import type { Locale } from '../../domain/types';
import { reportsOf, ReportTimeout } from '../../reports/runner';
import { rt } from '../../reports/i18n';
import { selfServiceSection } from './self-service';
import { compareReports, type FigureMetric } from '../../reports/figures';
import { formatLocalDateTime, viewerTimeZone } from '../../reports/format';
import { reportTimeZone, type ReportFilter } from '../../reports/queries';
import { sourceOf } from '../../reports/stats';
import { loadThreadLinks } from '../../reports/worklists';
import {
  backlogPage,
  categoriesPage,
  deniedPage,
  feedbackPage,
  flowPage,
  FONT_PATH,
  layout,
  overviewPage,
  satisfactionPage,
  scoreChart,
  ticketsPage,
  workPage,
  type ChartSpec,
  type PageFrame,
  type PageName,
} from './pages';
import { loadTicketHistory, userNames } from '../../app/history';
import { priorityCriteriaLines } from '../../reports/docs';
import { ticketHistoryPage, workflowSection } from './ticket-page';
import { DASHBOARD_SESSION_TTL_MS, signDashboardLink, verifyDashboardToken, type DashboardClaims } from './signing';

/**
 * The web dashboard, mounted on the bot's HTTP server at the root (`app.use(createDashboardRouter(…))`);
 * every route lives under /dashboard. The signed link from `/ticket dashboard` is a sign-in: the
 * page it opens sets a session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, 8 hours,
 * carrying the link's user and departments, signed apart from links) and drops the token from
 * the address bar; later pages are read with the cookie.
 */

export interface DashboardRouterOptions {
  ctx: AppContext;
  secret: string;
}

const ALLOWED_DAYS = [7, 30, 90];
const ECHARTS_FILE = require.resolve('echarts/dist/echarts.min.js');
/** The CJK font shipped with npm install, so Chinese renders on a machine without one (@font-face, used only as a fallback). */
const CJK_FONT_FILE = require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');
export const SESSION_COOKIE = 'ticketbot_dashboard';
/** "Due soon": running clocks due within this window (wall-clock), and overdue ones. */
export const DUE_SOON_WINDOW_MS = 4 * 3_600_000;
const PAGE_SIZE = 50;
const FIGURE_METRICS: FigureMetric[] = ['first_response', 'resolution', 'first_contact_resolution', 'on_time', 'return_rate', 'csat', 'created', 'resolved', 'backlog', 'reopen_rate'];

interface Scope {
  claims: DashboardClaims;
  locale: Locale;
  allowed: string[];
  period: Period;
  periodChoice: string;
  customFrom: string | undefined;
  customTo: string | undefined;
  departmentId: string | undefined;
  categoryId: string | undefined;
  zone: string;
  /** Came in with a valid link: the response sets the session cookie. */
  fromLink: boolean;
}

function queryText(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function createDashboardRouter({ ctx, secret }: DashboardRouterOptions): Router {
  const router = express.Router();
  const config = ctx.config;
  const src = sourceOf(ctx);
  // Report figures and CSV exports run in a report worker when the bot has them (issue 16).
  const reports = () => reportsOf(ctx);
  const loadMetrics = (filter: ReportFilter, nowMs: number) => reports().run({ kind: 'metrics', filter, nowMs });
  const reportZone = reportTimeZone(config);

  const localeOf = (req: Request): Locale => {
    const lang = queryText(req, 'lang');
    return lang === 'en' || lang === 'zh-CN' ? lang : config.raw.locale;
  };

  const refuse = (res: Response, locale: Locale, reason: 'expired' | 'invalid' | 'scope') => {
    res.status(403).set({ 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'", 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).type('html').send(deniedPage(locale, reason));
  };

  /** The viewer: from a valid link (`?t=`), else from the session cookie; refuses (403) otherwise. */
  const viewer = (req: Request, res: Response): { claims: DashboardClaims; fromLink: boolean } | undefined => {
    const nowMs = ctx.time.now().getTime();
    const locale = localeOf(req);
    const token = queryText(req, 't');
    const session = verifyDashboardToken(cookieValue(req, SESSION_COOKIE), secret, nowMs, 'session');
    if (token !== undefined) {
      const link = verifyDashboardToken(token, secret, nowMs, 'link');
      if (link.ok) return { claims: link.claims, fromLink: true };
      // An old link opened again while signed in: the session still holds.
      if (session.ok) return { claims: session.claims, fromLink: false };
      ctx.logger.info({ reason: link.reason }, 'dashboard link refused');
      refuse(res, locale, link.reason);
      return undefined;
    }
    if (session.ok) return { claims: session.claims, fromLink: false };
    refuse(res, locale, session.reason === 'expired' ? 'expired' : 'invalid');
    return undefined;
  };

  /** Checks who is asking and the filters; answers 403 itself and returns undefined when refused. */
  const authorize = (req: Request, res: Response): Scope | undefined => {
    const locale = localeOf(req);
    const who = viewer(req, res);
    if (!who) return undefined;
    const { claims } = who;
    const allowed = claims.departments === '*' ? [...config.departments.keys()] : claims.departments.filter((d) => config.departments.has(d));
    let departmentId = queryText(req, 'dept');
    if (departmentId !== undefined && !allowed.includes(departmentId)) {
      refuse(res, locale, 'scope');
      return undefined;
    }
    // One department: the view is that department.
    if (departmentId === undefined && allowed.length === 1) departmentId = allowed[0];
    const zone = viewerTimeZone(config, departmentId ? [departmentId] : allowed, reportZone);
    const nowMs = ctx.time.now().getTime();
    const choice = queryText(req, 'period') ?? (queryText(req, 'days') !== undefined ? queryText(req, 'days')! : 'this_week');
    const customFrom = queryText(req, 'from');
    const customTo = queryText(req, 'to');
    let request: PeriodRequest;
    let periodChoice = choice;
    if ((PERIOD_KINDS as readonly string[]).includes(choice) && choice !== 'days') request = { kind: choice as PeriodRequest['kind'], from: customFrom, to: customTo };
    else {
      const days = Number(choice);
      periodChoice = String(ALLOWED_DAYS.includes(days) ? days : 7);
      request = { kind: 'days', days: Number(periodChoice) };
    }
    let period = resolvePeriod(request, nowMs, zone);
    if (!period) {
      periodChoice = 'this_week';
      period = resolvePeriod({ kind: 'this_week' }, nowMs, zone)!;
    }
    const categoryId = queryText(req, 'cat');
    return {
      claims,
      locale,
      allowed,
      period,
      periodChoice,
      customFrom: periodChoice === 'custom' ? customFrom : undefined,
      customTo: periodChoice === 'custom' ? customTo : undefined,
      departmentId,
      categoryId: categoryId !== undefined && config.categories.has(categoryId) ? categoryId : undefined,
      zone,
      fromLink: who.fromLink,
    };
  };

  const departmentsOf = (scope: Scope) => (scope.departmentId ? [scope.departmentId] : scope.claims.departments === '*' ? undefined : scope.allowed);

  const filterOf = (scope: Scope): ReportFilter => ({
    fromMs: scope.period.fromMs,
    toMs: scope.period.toMs,
    departmentIds: departmentsOf(scope),
    categoryId: scope.categoryId,
  });

  /** Sets the session cookie when the request came with a link. */
  const startSession = (req: Request, res: Response, scope: Scope): number => {
    const nowMs = ctx.time.now().getTime();
    if (!scope.fromLink) return scope.claims.expiresAt;
    const expiresAt = nowMs + DASHBOARD_SESSION_TTL_MS;
    const value = signDashboardLink({ userId: scope.claims.userId, departments: scope.claims.departments, expiresAt }, secret, 'session');
    const secure = req.secure || req.headers['x-forwarded-proto'] === 'https';
    res.cookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure, path: '/dashboard', maxAge: DASHBOARD_SESSION_TTL_MS });
    return expiresAt;
  };

  const frameOf = (req: Request, scope: Scope, page: PageName, nonce: string, sessionUntil: number): PageFrame => ({
    config,
    locale: scope.locale,
    page,
    nonce,
    period: scope.period,
    periodChoice: scope.periodChoice,
    customFrom: scope.customFrom,
    customTo: scope.customTo,
    departmentId: scope.allowed.length === 1 ? undefined : scope.departmentId,
    categoryId: scope.categoryId,
    allowedDepartments: scope.allowed,
    zone: scope.zone,
    nowMs: ctx.time.now().getTime(),
    sessionUntil: `${formatLocalDateTime(sessionUntil, scope.zone, false)} (${scope.zone})`,
    href: (path, changes = {}) => {
      const params = new URLSearchParams({ lang: scope.locale, period: scope.periodChoice });
      if (scope.periodChoice === 'custom') {
        params.set('from', scope.customFrom ?? scope.period.firstDay);
        params.set('to', scope.customTo ?? scope.period.lastDay);
      }
      if (scope.departmentId && scope.allowed.length > 1) params.set('dept', scope.departmentId);
      if (scope.categoryId) params.set('cat', scope.categoryId);
      for (const name of ['metric', 'page']) {
        const v = queryText(req, name);
        if (v !== undefined) params.set(name, v);
      }
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) params.delete(k);
        else params.set(k, v);
      }
      return `${path}?${params.toString()}`;
    },
  });

  const send = (res: Response, frame: PageFrame, content: { body: string; charts: ChartSpec[] }, dropToken: boolean) => {
    // A page opened from a link replaces its address with one without the token (the cookie now holds the session).
    const clean = dropToken ? `<script nonce="${frame.nonce}">history.replaceState(null,'',${JSON.stringify(frame.href(`/dashboard${frame.page === 'overview' ? '' : `/${frame.page}`}`)).replace(/</g, '\\u003c')});</script>` : '';
    res
      .set({
        'Content-Security-Policy': `default-src 'none'; script-src 'self' 'nonce-${frame.nonce}'; style-src 'nonce-${frame.nonce}'; font-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      })
      .type('html')
      .send(layout(frame, content.body, content.charts).replace('</body>', `${clean}</body>`));
  };

  /** Wraps a page handler so a failure logs and answers 500 instead of hanging the request. */
  const page = (name: PageName, render: (scope: Scope, filter: ReportFilter, frame: PageFrame, req: Request) => Promise<{ body: string; charts: ChartSpec[] }>) => {
    return async (req: Request, res: Response) => {
      const scope = authorize(req, res);
      if (!scope) return;
      try {
        const sessionUntil = startSession(req, res, scope);
        const frame = frameOf(req, scope, name, randomBytes(16).toString('base64'), sessionUntil);
        send(res, frame, await render(scope, filterOf(scope), frame, req), queryText(req, 't') !== undefined);
      } catch (err) {
        if (err instanceof ReportTimeout) {
          res.status(503).type('text').send(rt(scope.locale, 'dash.too_long'));
          return;
        }
        ctx.logger.error({ err, page: name }, 'dashboard page failed');
        res.status(500).type('text').send('internal error');
      }
    };
  };

  const pageNumber = (req: Request) => Math.max(0, Math.min(10_000, Math.floor(Number(queryText(req, 'page') ?? 1)) - 1 || 0));
  const linksFor = (ids: string[]) => loadThreadLinks(src, ids);

  router.get('/dashboard/assets/echarts.min.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('application/javascript').sendFile(ECHARTS_FILE);
  });

  router.get(FONT_PATH, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=604800').type('font/ttf').sendFile(CJK_FONT_FILE);
  });

  router.get(
    '/dashboard',
    page('overview', async (scope, filter, frame) => {
      const nowMs = ctx.time.now().getTime();
      const { current, previous, pilots, selfService, workflow } = await reports().run({
        kind: 'overview',
        nowMs,
        filter,
        previous: { ...filter, ...scope.period.previous, asOfMs: Math.min(scope.period.previous.toMs, nowMs) },
        // The pilot comparison spans departments, so only a viewer of all departments sees it.
        pilots: scope.claims.departments === '*' && !scope.departmentId,
        previousPeriod: scope.period.previous,
      });
      const overview = overviewPage(frame, compareReports(current, previous), current, pilots, selfServiceSection(frame, selfService));
      // issue 17: the workflow figures and priority criteria beside the six (ticket-page.ts).
      const extra = workflowSection(frame, workflow, priorityCriteriaLines(config, scope.locale, { unset: false }));
      const at = overview.body.lastIndexOf('</section>');
      return { ...overview, body: at >= 0 ? overview.body.slice(0, at + '</section>'.length) + extra + overview.body.slice(at + '</section>'.length) : overview.body + extra };
    }),
  );

  router.get(
    '/dashboard/work',
    page('work', async (scope, filter, frame) => {
      const nowMs = ctx.time.now().getTime();
      const listScope = { departmentIds: filter.departmentIds, categoryId: filter.categoryId };
      const { due, loads } = await reports().run({ kind: 'work_lists', nowMs, scope: listScope, period: { fromMs: scope.period.fromMs, toMs: scope.period.toMs }, windowMs: DUE_SOON_WINDOW_MS });
      return workPage(frame, due, loads, await linksFor(due.map((d) => d.id)), DUE_SOON_WINDOW_MS);
    }),
  );

  router.get(
    '/dashboard/backlog',
    page('backlog', async (_scope, filter, frame, req) => {
      const nowMs = ctx.time.now().getTime();
      // The backlog is "now": the period does not apply.
      const [report, open] = await Promise.all([
        loadMetrics({ ...filter, fromMs: nowMs - 1, toMs: nowMs }, nowMs),
        reports().run({ kind: 'tickets_behind', metric: 'backlog', scope: { departmentIds: filter.departmentIds, categoryId: filter.categoryId }, period: filter, page: pageNumber(req), pageSize: PAGE_SIZE }),
      ]);
      return backlogPage(frame, report, open.rows, await linksFor(open.rows.map((r) => r.id)));
    }),
  );

  router.get(
    '/dashboard/categories',
    page('categories', async (_scope, filter, frame) => categoriesPage(frame, await loadMetrics(filter, ctx.time.now().getTime()))),
  );

  router.get(
    '/dashboard/flow',
    page('flow', async (_scope, filter, frame) => flowPage(frame, await loadMetrics(filter, ctx.time.now().getTime()))),
  );

  router.get(
    '/dashboard/satisfaction',
    page('satisfaction', async (_scope, filter, frame, req) => {
      const p = pageNumber(req);
      const [report, { surveys, answers }] = await Promise.all([loadMetrics(filter, ctx.time.now().getTime()), reports().run({ kind: 'answers', filter, page: p, pageSize: PAGE_SIZE })]);
      const rendered = satisfactionPage(frame, report, answers, p, PAGE_SIZE, await linksFor(answers.rows.map((a) => a.id)));
      return { body: rendered.body, charts: [scoreChart(frame.locale, [1, 2, 3, 4, 5].map((n) => surveys.filter((x) => x.score === n).length))] };
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
      return feedbackPage(frame, rows.map((r) => ({ text: r.text, author: { id: r.user_id, name: r.name }, departmentId: r.department_id, createdAt: r.created_at })));
    }),
  );

  router.get(
    '/dashboard/tickets',
    page('tickets', async (_scope, filter, frame, req) => {
      const asked = queryText(req, 'metric') as FigureMetric | undefined;
      const metric: FigureMetric = asked && FIGURE_METRICS.includes(asked) ? asked : 'created';
      const p = pageNumber(req);
      const list = await reports().run({ kind: 'tickets_behind', metric, scope: { departmentIds: filter.departmentIds, categoryId: filter.categoryId }, period: filter, page: p, pageSize: PAGE_SIZE });
      return ticketsPage(frame, metric, list, p, PAGE_SIZE, await linksFor(list.rows.map((r) => r.id)));
    }),
  );

  // issue 17: one ticket's history, for a viewer whose departments it has been in.
  router.get('/dashboard/ticket/:key', async (req, res) => {
    const scope = authorize(req, res);
    if (!scope) return;
    const key = String(req.params.key ?? '');
    const history = await loadTicketHistory(ctx.db, key);
    const visible = history && (scope.claims.departments === '*' || history.legs.some((l) => scope.allowed.includes(l.department_id)) || scope.allowed.includes(history.ticket.department_id));
    if (!history || !visible) {
      res.status(404).type('text').send('not found');
      return;
    }
    await page('tickets', async (_scope, _filter, frame) => ticketHistoryPage(frame, { ...history, names: await userNames(ctx.db, history) }, priorityCriteriaLines(config, scope.locale, { unset: false })))(req, res);
  });

  router.get('/dashboard/export.csv', async (req, res) => {
    const scope = authorize(req, res);
    if (!scope) return;
    const filter = filterOf(scope);
    const kind = queryText(req, 'kind') === 'metrics' ? 'metrics' : 'tickets';
    const deptPart = scope.departmentId ? `-${scope.departmentId}` : '';
    const fileName = `ticketbot-${kind}${deptPart}-${scope.period.firstDay}_${scope.period.lastDay}.csv`;
    res.set({ 'Content-Disposition': `attachment; filename="${fileName}"`, 'Cache-Control': 'no-store' }).type('text/csv; charset=utf-8');
    try {
      if (kind === 'metrics') {
        const nowMs = ctx.time.now().getTime();
        res.send(await reports().run({ kind: 'metrics_csv', nowMs, filter, locale: scope.locale, departmentId: scope.departmentId, perDepartment: scope.departmentId ? [] : scope.allowed }));
        return;
      }
      // Chunks come back from the worker as they are written; inline, the writer waits for 'drain'.
      await reports().run({ kind: 'tickets_csv', filter, locale: scope.locale, zone: scope.zone }, async (chunk) => {
        // A client that went away never drains: 'close' ends the wait too (the next write is dropped).
        if (!res.write(chunk) && !res.destroyed) {
          await new Promise<void>((resolve) => {
            const done = () => (res.off('drain', done), res.off('close', done), resolve());
            res.on('drain', done).on('close', done);
          });
        }
      });
      res.end();
    } catch (err) {
      if (err instanceof ReportTimeout && !res.headersSent) {
        res.status(503).type('text').send(rt(scope.locale, 'dash.too_long'));
        return;
      }
      ctx.logger.error({ err }, 'dashboard export failed');
      if (!res.headersSent) res.status(500).type('text').send('internal error');
      else res.destroy();
    }
  });

  return router;
}
