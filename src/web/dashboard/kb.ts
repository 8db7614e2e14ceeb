import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../app/context';
import { createArticle, editableCategories, editArticle, retireKbArticle, type ArticleEdit } from '../../app/kb';
import type { Locale } from '../../domain/types';
import { categoryPathName, formatLocalDateTime } from '../../reports/format';
import { rt, type ReportKey } from '../../reports/i18n';
import { reportTimeZone } from '../../reports/queries';
import { esc } from './pages';
import { SESSION_COOKIE } from './router';
import { verifyDashboardToken, type DashboardClaims } from './signing';

/**
 * Dashboard pages of the knowledge base (issue 18): list, create, edit (title, body, tags,
 * category, language) and retire articles. Same sign-in as the dashboard (its session cookie: supervisors
 * and admins only); a supervisor edits the articles of their departments' categories, admins all
 * (and uncategorised ones). POSTs carry a token derived from the session cookie (CSRF); every
 * change is audited in kb_audit by the app use cases.
 */

const STYLE = `body{font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#1d1d1f}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e1e3e8}label{display:block;margin:10px 0 4px;font-weight:600}
input,select,textarea{width:100%;box-sizing:border-box;padding:6px;font:inherit}textarea{min-height:240px;font-family:ui-monospace,monospace}
button{margin-top:12px;padding:8px 16px;font:inherit}.note{background:#e8f1fd;padding:8px}.error{background:#fde8e8;padding:8px}.retired{color:#888}`;

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function createDashboardKbRouter({ ctx, secret }: { ctx: AppContext; secret: string }): Router {
  const router = express.Router();
  const config = ctx.config;
  const zone = reportTimeZone(config);
  const form = express.urlencoded({ extended: false, limit: '200kb' });

  const localeOf = (req: Request): Locale => {
    const lang = req.query.lang;
    return lang === 'en' || lang === 'zh-CN' ? lang : config.raw.locale;
  };
  const csrfOf = (session: string) => createHmac('sha256', secret).update(`ticketbot-kb-csrf.v1.${session}`).digest('base64url');

  /** The signed-in viewer (the dashboard's session cookie), or a 403. */
  const viewer = (req: Request, res: Response): { claims: DashboardClaims; csrf: string } | undefined => {
    const cookie = cookieValue(req, SESSION_COOKIE);
    const session = verifyDashboardToken(cookie, secret, ctx.time.now().getTime(), 'session');
    if (!session.ok) {
      res.status(403).set({ 'Content-Security-Policy': "default-src 'none'", 'Cache-Control': 'no-store' }).type('text').send('open the dashboard from its link first');
      return undefined;
    }
    return { claims: session.claims, csrf: csrfOf(cookie!) };
  };

  const send = (res: Response, status: number, locale: Locale, title: string, body: string) => {
    const nonce = randomBytes(16).toString('base64');
    res
      .status(status)
      .set({
        'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      })
      .type('html')
      .send(`<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style nonce="${nonce}">${STYLE}</style></head><body>${body}</body></html>`);
  };

  const visible = (claims: DashboardClaims) => {
    const allowed = editableCategories(config, claims.departments);
    return (cat: string | null) => (cat === null ? claims.departments === '*' : allowed.has(cat));
  };
  const langQ = (locale: Locale) => `lang=${encodeURIComponent(locale)}`;

  router.get('/dashboard/kb', async (req, res) => {
    const who = viewer(req, res);
    if (!who) return;
    const locale = localeOf(req);
    const may = visible(who.claims);
    const rows = (await ctx.db.selectFrom('kb_articles').select(['id', 'slug', 'title', 'category_id', 'lang', 'state', 'updated_at']).orderBy('state').orderBy('updated_at', 'desc').limit(500).execute()).filter((a) => may(a.category_id));
    const notice = req.query.done === 'saved' ? rt(locale, 'dash.kb.saved') : req.query.done === 'retired' ? rt(locale, 'dash.kb.retired') : req.query.done === 'created' ? rt(locale, 'dash.kb.created') : undefined;
    const head = (['dash.kb.col.title', 'dash.kb.col.category', 'dash.kb.col.lang', 'dash.kb.col.state', 'dash.kb.col.updated'] as ReportKey[]).map((k) => `<th>${esc(rt(locale, k))}</th>`).join('');
    const body = rows.length
      ? `<table id="kb-list"><thead><tr>${head}<th></th></tr></thead><tbody>${rows
          .map(
            (a) =>
              `<tr data-slug="${esc(a.slug)}"${a.state === 'retired' ? ' class="retired"' : ''}><td>${esc(a.title)}</td><td>${esc(a.category_id ? categoryPathName(config, a.category_id, locale) : rt(locale, 'dash.kb.no_category'))}</td><td>${esc(a.lang)}</td><td>${esc(rt(locale, a.state === 'retired' ? 'dash.kb.state.retired' : 'dash.kb.state.active'))}</td><td>${esc(formatLocalDateTime(Date.parse(a.updated_at), zone, false))}</td><td><a href="/dashboard/kb/${esc(a.id)}?${langQ(locale)}">${esc(rt(locale, 'dash.kb.edit'))}</a></td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<p>${esc(rt(locale, 'dash.kb.none'))}</p>`;
    const links = `<p><a href="/dashboard?${langQ(locale)}" id="kb-dashboard">${esc(rt(locale, 'dash.title'))}</a> · <a href="/dashboard/kb/new?${langQ(locale)}" id="kb-new">${esc(rt(locale, 'dash.kb.new'))}</a></p>`;
    send(res, 200, locale, rt(locale, 'dash.kb.title'), `${links}<h1>${esc(rt(locale, 'dash.kb.title'))}</h1>${notice ? `<p class="note" id="notice">${esc(notice)}</p>` : ''}${body}`);
  });

  /** The article form (new or edit): the same fields, categories the editor may file under. */
  const articleForm = (locale: Locale, who: { claims: DashboardClaims; csrf: string }, action: string, id: string, a: ArticleEdit & { slug?: string }, isNew: boolean) => {
    const allowed = editableCategories(config, who.claims.departments);
    const cats = [...config.categories.keys()].filter((c) => allowed.has(c));
    return `<form method="post" action="${action}" id="${id}"><input type="hidden" name="csrf" value="${esc(who.csrf)}"><input type="hidden" name="op" value="save">
<label for="title">${esc(rt(locale, 'dash.kb.field.title'))}</label><input id="title" name="title" maxlength="200" required value="${esc(a.title)}">
<label for="body">${esc(rt(locale, 'dash.kb.field.body'))}</label><textarea id="body" name="body" required>${esc(a.body)}</textarea>
<label for="tags">${esc(rt(locale, 'dash.kb.field.tags'))}</label><input id="tags" name="tags" value="${esc(a.tags.join(', '))}">
<label for="category">${esc(rt(locale, 'dash.kb.field.category'))}</label><select id="category" name="category">${who.claims.departments === '*' ? `<option value="">${esc(rt(locale, 'dash.kb.no_category'))}</option>` : ''}${cats
      .map((c) => `<option value="${esc(c)}"${c === a.categoryId ? ' selected' : ''}>${esc(categoryPathName(config, c, locale))}</option>`)
      .join('')}</select>
<label for="lang">${esc(rt(locale, 'dash.kb.field.lang'))}</label><select id="lang" name="lang">${['zh-CN', 'en'].map((l) => `<option value="${l}"${l === a.lang ? ' selected' : ''}>${l}</option>`).join('')}</select>
${isNew ? `<label for="slug">${esc(rt(locale, 'dash.kb.field.slug'))}</label><input id="slug" name="slug" maxlength="100" pattern="[a-z0-9][a-z0-9_\-]*" value="${esc(a.slug ?? '')}">` : ''}
<button type="submit" id="save">${esc(rt(locale, isNew ? 'dash.kb.create' : 'dash.kb.save'))}</button></form>`;
  };

  const csrfOk = (b: Record<string, unknown>, who: { csrf: string }) => {
    const given = Buffer.from(typeof b.csrf === 'string' ? b.csrf : '');
    const expected = Buffer.from(who.csrf);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const fieldsOf = (b: Record<string, unknown>): ArticleEdit & { slug: string } => {
    const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
    return { title: str('title'), body: str('body'), tags: str('tags').split(/[,，]/), categoryId: str('category') || null, lang: str('lang'), slug: str('slug') };
  };

  const newPage = (req: Request, res: Response, who: { claims: DashboardClaims; csrf: string }, status: number, draft?: ArticleEdit & { slug?: string }, problem?: string) => {
    const locale = localeOf(req);
    const a = draft ?? { title: '', body: '', tags: [], categoryId: null, lang: locale, slug: '' };
    const body = `<p><a href="/dashboard/kb?${langQ(locale)}">${esc(rt(locale, 'dash.kb.back'))}</a></p><h1>${esc(rt(locale, 'dash.kb.new'))}</h1>${problem ? `<p class="error" id="problem">${esc(problem)}</p>` : ''}
${articleForm(locale, who, `/dashboard/kb/new?${langQ(locale)}`, 'kb-create', a, true)}`;
    send(res, status, locale, rt(locale, 'dash.kb.new'), body);
  };

  // Registered before /dashboard/kb/:id, which would take "new" for an id.
  router.get('/dashboard/kb/new', (req, res) => {
    const who = viewer(req, res);
    if (who) newPage(req, res, who, 200);
  });

  router.post('/dashboard/kb/new', form, async (req, res) => {
    const who = viewer(req, res);
    if (!who) return;
    const locale = localeOf(req);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!csrfOk(b, who)) return send(res, 403, locale, rt(locale, 'dash.kb.title'), `<p class="error">${esc(rt(locale, 'dash.kb.bad_csrf'))}</p>`);
    const draft = fieldsOf(b);
    const result = await createArticle({ db: ctx.db, config, now: ctx.time.now() }, { userId: who.claims.userId, departments: who.claims.departments }, draft);
    if (!result.ok)
      return newPage(req, res, who, result.problem === 'not_allowed' ? 403 : 422, { ...draft, tags: draft.tags.map((t) => t.trim()).filter(Boolean) }, result.problem === 'not_allowed' ? rt(locale, 'dash.kb.not_allowed') : rt(locale, 'dash.kb.invalid', { field: result.detail ?? '' }));
    ctx.logger.info({ article: result.id, slug: result.slug, by: who.claims.userId, op: 'create' }, 'dashboard: knowledge-base article created');
    res.redirect(303, `/dashboard/kb?${langQ(locale)}&done=created`);
  });

  const editPage = async (req: Request, res: Response, who: { claims: DashboardClaims; csrf: string }, status: number, problem?: string) => {
    const locale = localeOf(req);
    const a = await ctx.db.selectFrom('kb_articles').selectAll().where('id', '=', String(req.params.id)).executeTakeFirst();
    if (!a || !visible(who.claims)(a.category_id)) return send(res, 404, locale, rt(locale, 'dash.kb.title'), `<p>${esc(rt(locale, 'dash.kb.none'))}</p>`);
    const action = `/dashboard/kb/${esc(a.id)}?${langQ(locale)}`;
    const body = `<p><a href="/dashboard/kb?${langQ(locale)}">${esc(rt(locale, 'dash.kb.back'))}</a></p><h1>${esc(a.title)}</h1>${problem ? `<p class="error" id="problem">${esc(problem)}</p>` : ''}
${articleForm(locale, who, action, 'kb-edit', { title: a.title, body: a.body, tags: JSON.parse(a.tags) as string[], categoryId: a.category_id, lang: a.lang }, false)}
${a.state === 'active' ? `<form method="post" action="${action}" id="kb-retire"><input type="hidden" name="csrf" value="${esc(who.csrf)}"><input type="hidden" name="op" value="retire"><button type="submit" id="retire">${esc(rt(locale, 'dash.kb.retire'))}</button></form>` : ''}`;
    send(res, status, locale, a.title, body);
  };

  router.get('/dashboard/kb/:id', async (req, res) => {
    const who = viewer(req, res);
    if (who) await editPage(req, res, who, 200);
  });

  router.post('/dashboard/kb/:id', form, async (req, res) => {
    const who = viewer(req, res);
    if (!who) return;
    const locale = localeOf(req);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!csrfOk(b, who)) return send(res, 403, locale, rt(locale, 'dash.kb.title'), `<p class="error">${esc(rt(locale, 'dash.kb.bad_csrf'))}</p>`);
    const editor = { userId: who.claims.userId, departments: who.claims.departments };
    const deps = { db: ctx.db, config, now: ctx.time.now() };
    const id = String(req.params.id);
    const { title, body, tags, categoryId, lang } = fieldsOf(b);
    const result = b.op === 'retire' ? await retireKbArticle(deps, editor, id) : await editArticle(deps, editor, id, { title, body, tags, categoryId, lang });
    if (!result.ok) {
      if (result.problem === 'not_found') return send(res, 404, locale, rt(locale, 'dash.kb.title'), `<p>${esc(rt(locale, 'dash.kb.none'))}</p>`);
      return editPage(req, res, who, result.problem === 'not_allowed' ? 403 : 422, result.problem === 'not_allowed' ? rt(locale, 'dash.kb.not_allowed') : rt(locale, 'dash.kb.invalid', { field: result.detail ?? '' }));
    }
    ctx.logger.info({ article: id, by: who.claims.userId, op: b.op === 'retire' ? 'retire' : 'save', outcome: result.outcome }, 'dashboard: knowledge-base article changed');
    res.redirect(303, `/dashboard/kb?${langQ(locale)}&done=${b.op === 'retire' ? 'retired' : 'saved'}`);
  });

  return router;
}
