import { createHash, randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { t } from '../../chat/i18n';
import type { AppContext, Attachment } from '../../app/context';
import { confirmFixed, reopenTicket } from '../../app/closing';
import { createTicket } from '../../app/createTicket';
import { recordSelfService, suggestArticles } from '../../app/deflection';
import { requesterReply } from '../../app/messages';
import { ensureUser } from '../../app/users';
import type { RawConfig } from '../../config/schema';
import { isMessageKey } from '../../chat/i18n';
import type { Locale, TicketState } from '../../domain/types';
import { findTicket } from '../../storage/repos/tickets';
import { csrfToken, csrfValid, signStatusQuery, STATUS_LINK_TTL_MS, verifyIntakeQuery, verifyStatusQuery } from './links';
import { formPage, messagePage, statusPage, suggestionsPage, thanksPage, type FormValues } from './pages';

type Integration = RawConfig['integrations'][number];

export interface IntakeWebOptions {
  ctx: AppContext;
  /** TICKETBOT_SECRET: signs the form, status and file links and the CSRF tokens. */
  secret: string;
  publicUrl: string;
}

const COOKIE = 'tb_form';
export const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** Allowed uploads, recognised by their first bytes (the browser's type is not trusted). */
const FILE_TYPES: Array<{ type: string; test: (b: Buffer) => boolean }> = [
  { type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/gif', test: (b) => b.subarray(0, 4).toString('latin1') === 'GIF8' },
  { type: 'application/pdf', test: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
  // Text: valid UTF-8 without NUL or other control bytes but tab/newline.
  { type: 'text/plain', test: (b) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(b.toString('utf8')) && Buffer.from(b.toString('utf8'), 'utf8').equals(b) },
];

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** `lang=` wins, then Accept-Language (zh* → zh-CN, en* → en, in order of preference), then the desk's language. */
export function localeOf(req: Request, fallback: Locale): Locale {
  const q = String(req.query.lang ?? '');
  if (q === 'en') return 'en';
  if (q === 'zh-CN' || q === 'zh') return 'zh-CN';
  const prefs = (req.get('accept-language') ?? '')
    .split(',')
    .map((p) => {
      const [tag, ...params] = p.trim().split(';');
      const qv = params.find((x) => x.trim().startsWith('q='));
      return { tag: (tag ?? '').toLowerCase(), q: qv ? Number(qv.trim().slice(2)) : 1 };
    })
    .filter((p) => p.tag && p.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const p of prefs) {
    if (p.tag.startsWith('zh')) return 'zh-CN';
    if (p.tag.startsWith('en')) return 'en';
  }
  return fallback;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);

/**
 * The web form (`GET/POST /new`), the requester's status page (`GET/POST /status/<key>`) and the
 * uploaded files (`GET /files/<id>`), for people outside Slack and Feishu (issue 18). Every page
 * goes out under a strict CSP with a per-response nonce; every POST carries a CSRF token bound to
 * a random SameSite=Strict cookie. Tickets are raised and worked through the same use cases as
 * chat; the source is the integration (`api`), so its webhooks and `GET /api/v1/tickets` see them.
 */
export function createIntakeWebRouter(opts: IntakeWebOptions): Router {
  const { ctx, secret } = opts;
  const router = Router();
  const base = opts.publicUrl.replace(/\/+$/, '');
  const secure = base.startsWith('https://');
  const integrations = new Map(ctx.config.raw.integrations.map((i) => [i.id, i]));
  const form = express.urlencoded({ extended: false, limit: '4mb', parameterLimit: 200 });

  const html = (res: Response, status: number, nonce: string, body: string) =>
    res
      .status(status)
      .set({
        'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      })
      .type('html')
      .send(body);

  /** The browser's random cookie (set when missing) and the form's CSRF token bound to it. */
  const csrfFor = (req: Request, res: Response): { cookie: string; token: string } => {
    let cookie = cookieOf(req, COOKIE);
    if (!cookie || cookie.length < 16) {
      cookie = randomBytes(18).toString('base64url');
      res.append('Set-Cookie', `${COOKIE}=${cookie}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
    }
    return { cookie, token: csrfToken(cookie, secret) };
  };

  const linkOf = (req: Request) => verifyIntakeQuery(new URL(req.originalUrl, 'http://x').searchParams, secret, ctx.time.now().getTime());
  const selfUrl = (req: Request) => req.originalUrl;

  const valuesOf = (body: Record<string, unknown>): FormValues => {
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (k.startsWith('f.') && typeof v === 'string' && v.trim() !== '') fields[k.slice(2)] = v.trim().slice(0, 500);
    return { category: str('category'), title: str('title'), description: str('description'), name: str('name'), email: str('email'), fields, fileName: str('file_name'), fileType: str('file_type'), fileData: str('file_data') };
  };

  /** The uploaded file checked against the limits: size and a recognised type by content. */
  const checkFile = (v: FormValues): { ok: true; file?: { name: string; type: string; data: Buffer } } | { ok: false; problem: 'web.form.file_too_large' | 'web.form.file_type' } => {
    if (!v.fileData) return { ok: true };
    if (v.fileData.length > Math.ceil((MAX_FILE_BYTES * 4) / 3) + 4) return { ok: false, problem: 'web.form.file_too_large' };
    const data = Buffer.from(v.fileData, 'base64');
    if (data.length === 0) return { ok: false, problem: 'web.form.file_type' };
    if (data.length > MAX_FILE_BYTES) return { ok: false, problem: 'web.form.file_too_large' };
    const kind = FILE_TYPES.find((k) => k.test(data));
    if (!kind) return { ok: false, problem: 'web.form.file_type' };
    const name = (v.fileName ?? 'file').replace(/[\\/\u0000-\u001f"]/g, '_').slice(0, 120) || 'file';
    return { ok: true, file: { name, type: kind.type, data } };
  };

  const requesterOf = async (integ: Integration, prefill: Record<string, string>, cookie: string, v: FormValues) =>
    ensureUser(ctx, {
      platform: 'api',
      workspace: integ.id,
      // With `user` in the signed link: the same person as the integration's API tickets; otherwise this browser.
      platformUserId: `${integ.id}:${prefill.user ?? `web-${short(cookie)}`}`,
      name: v.name?.trim() || prefill.name || undefined,
      email: v.email && /^[^@\s]+@[^@\s]+$/.test(v.email.trim()) ? v.email.trim() : undefined,
    });

  router.get('/new', (req, res) => {
    const locale = localeOf(req, ctx.config.raw.locale);
    const nonce = randomBytes(16).toString('base64');
    const link = linkOf(req);
    if (!link.ok || !integrations.has(link.value.integration)) return html(res, link.ok ? 404 : 403, nonce, messagePage(locale, nonce, link.ok || link.reason === 'invalid' ? 'web.form.bad_link' : 'web.form.expired_link'));
    const { token } = csrfFor(req, res);
    const integ = integrations.get(link.value.integration)!;
    html(res, 200, nonce, formPage({ config: ctx.config, locale, nonce, action: selfUrl(req), csrf: token, prefill: link.value.prefill, values: { category: integ.defaults.category, fields: {} } }));
  });

  router.post('/new', form, async (req, res) => {
    const locale = localeOf(req, ctx.config.raw.locale);
    const nonce = randomBytes(16).toString('base64');
    const link = linkOf(req);
    if (!link.ok || !integrations.has(link.value.integration)) return html(res, 403, nonce, messagePage(locale, nonce, link.ok || link.reason === 'invalid' ? 'web.form.bad_link' : 'web.form.expired_link'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const cookie = cookieOf(req, COOKIE);
    if (!csrfValid(cookie, body.csrf, secret)) return html(res, 403, nonce, messagePage(locale, nonce, 'web.form.bad_csrf'));
    const integ = integrations.get(link.value.integration)!;
    const prefill = link.value.prefill;
    const values = valuesOf(body);
    const csrf = csrfToken(cookie!, secret);
    const again = (problem: string) => html(res, 422, nonce, formPage({ config: ctx.config, locale, nonce, action: selfUrl(req), csrf, prefill, values, problem: t(locale, 'web.form.error', { problem }) }));

    const leaf = values.category ? ctx.config.leaves.get(values.category) : undefined;
    if (!leaf || (integ.department !== undefined && leaf.department !== integ.department)) return again(t(locale, 'web.form.category'));
    const title = (values.title ?? '').trim();
    if (!title) return again(t(locale, 'web.form.title_field'));
    const file = checkFile(values);
    if (!file.ok) return again(t(locale, file.problem));
    const requesterId = await requesterOf(integ, prefill, cookie!, values);
    const choice = typeof body.choice === 'string' ? body.choice : undefined;
    const deflectionId = typeof body.deflection === 'string' && body.deflection ? body.deflection : undefined;

    if (choice === undefined && leaf.deflect) {
      const offer = await suggestArticles(ctx, { categoryId: leaf.id, title, description: values.description, lang: locale, source: 'web', integrationId: integ.id, requesterId });
      if (offer.ok && offer.value.deflectionId)
        return html(res, 200, nonce, suggestionsPage({ locale, nonce, action: selfUrl(req), csrf, values, deflectionId: offer.value.deflectionId, articles: offer.value.articles }));
    }
    if (choice === 'solved' && deflectionId) {
      const articleId = typeof body.article === 'string' ? body.article : undefined;
      const solved = await recordSelfService(ctx, { deflectionId, articleId, requesterId });
      if (solved.ok) return html(res, 200, nonce, thanksPage(locale, nonce));
    }

    const fields: Record<string, string> = { ...(integ.defaults.fields ?? {}), ...values.fields, ...prefill };
    delete fields.user;
    delete fields.name;
    if (prefill.user) fields.user = prefill.user;
    const attachments: Attachment[] = [];
    // A double click or a reload posts the same form again: the same ticket (the inbox answers).
    const eventKey = `web:${integ.id}:${short([cookie, leaf.id, title, values.description ?? '', deflectionId ?? ''].join('\u0000'))}`;
    if (file.file) {
      const id = `f${short(`${eventKey}:${file.file.name}`)}`;
      await ctx.db
        .insertInto('intake_files')
        .values({ id, integration_id: integ.id, name: file.file.name, content_type: file.file.type, size: file.file.data.length, data: file.file.data.toString('base64'), created_at: ctx.time.now().toISOString() })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      attachments.push({ name: file.file.name, platform: 'api', fileId: id, url: `${base}/files/${id}?${signStatusQuery(`file/${id}`, integ.id, ctx.time.now().getTime() + STATUS_LINK_TTL_MS, secret)}` });
    }
    const created = await createTicket(ctx, {
      meta: { actorId: requesterId, platform: 'api', eventKey },
      categoryId: leaf.id,
      priority: integ.defaults.priority,
      title,
      description: values.description ?? '',
      fields,
      attachments,
      locale,
      source: { platform: 'api', workspace: integ.id, channel: 'web' },
      ...(deflectionId && choice === 'still' ? { deflection: { id: deflectionId } } : {}),
    });
    if (!created.ok) {
      const key = `error.${created.error.code}`;
      const params = { ...created.error.params } as Record<string, string | number>;
      if (created.error.code === 'ticket.missing_fields')
        params.fields = String(params.fields ?? '')
          .split(',')
          .map((f) => ctx.config.raw.fields.find((d) => d.id === f)?.name[locale] ?? f)
          .join(', ');
      return again(isMessageKey(key) ? t(locale, key, params) : created.error.code);
    }
    const ticket = created.value.ticket;
    ctx.logger.info({ integration: integ.id, key: ticket.key, duplicate: created.duplicate ?? false }, 'web form: ticket');
    res.redirect(303, `/status/${encodeURIComponent(ticket.key)}?${signStatusQuery(ticket.key, ticket.requester_id, ctx.time.now().getTime() + STATUS_LINK_TTL_MS, secret)}&lang=${locale}&created=1`);
  });

  const statusTicket = async (req: Request) => {
    const key = String(req.params.key ?? '').toUpperCase();
    const ticket = /^[A-Z0-9]+-\d+$/.test(key) ? await findTicket(ctx.db, key) : undefined;
    if (!ticket) return undefined;
    const ok = verifyStatusQuery(ticket.key, ticket.requester_id, new URL(req.originalUrl, 'http://x').searchParams, secret, ctx.time.now().getTime());
    return ok.ok ? ticket : undefined;
  };

  const renderStatus = async (req: Request, res: Response, nonce: string, status: number, extra: { notice?: string; problem?: string }) => {
    const locale = localeOf(req, ctx.config.raw.locale);
    const ticket = (await statusTicket(req))!;
    const { token } = csrfFor(req, res);
    // Public messages only: internal notes never leave the desk.
    const rows = await ctx.db.selectFrom('messages').select(['author_role', 'body', 'created_at']).where('ticket_id', '=', ticket.id).where('visibility', '=', 'public').orderBy('created_at').orderBy('id').execute();
    const messages = rows.filter((m) => m.body.trim() !== '').map((m) => ({ fromRequester: m.author_role === 'requester', body: m.body, at: m.created_at }));
    html(res, status, nonce, statusPage({ locale, nonce, action: req.originalUrl.replace(/&?(created|done)=1/g, ''), csrf: token, key: ticket.key, title: ticket.title, state: ticket.state as TicketState, messages, ...extra }));
  };

  router.get('/status/:key', async (req, res) => {
    const nonce = randomBytes(16).toString('base64');
    if (!(await statusTicket(req))) return html(res, 404, nonce, messagePage(localeOf(req, ctx.config.raw.locale), nonce, 'web.form.bad_link'));
    const locale = localeOf(req, ctx.config.raw.locale);
    const notice = req.query.created === '1' ? t(locale, 'web.status.created', { key: String(req.params.key).toUpperCase() }) : req.query.done === '1' ? t(locale, 'web.status.done') : undefined;
    await renderStatus(req, res, nonce, 200, notice ? { notice } : {});
  });

  router.post('/status/:key', form, async (req, res) => {
    const nonce = randomBytes(16).toString('base64');
    const locale = localeOf(req, ctx.config.raw.locale);
    const ticket = await statusTicket(req);
    if (!ticket) return html(res, 404, nonce, messagePage(locale, nonce, 'web.form.bad_link'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!csrfValid(cookieOf(req, COOKIE), body.csrf, secret)) return html(res, 403, nonce, messagePage(locale, nonce, 'web.form.bad_csrf'));
    const meta = { actorId: ticket.requester_id, platform: 'api' as const };
    const text = typeof body.body === 'string' ? body.body.trim() : '';
    const action = body.action;
    const result =
      action === 'confirm'
        ? await confirmFixed(ctx, { meta, ticket: ticket.key })
        : action === 'reopen'
          ? await reopenTicket(ctx, { meta, ticket: ticket.key, reason: text || undefined })
          : action === 'reply' && text
            ? await requesterReply(ctx, { meta, ticket: ticket.key, body: text })
            : undefined;
    if (!result || !result.ok) {
      const key = result ? `error.${result.error.code}` : 'web.status.reply';
      const problem = t(locale, 'web.status.error', { problem: isMessageKey(key) ? t(locale, key, result && !result.ok ? result.error.params : {}) : key });
      return renderStatus(req, res, nonce, 422, { problem });
    }
    res.redirect(303, `${req.originalUrl.replace(/&?(created|done)=1/g, '')}&done=1`);
  });

  router.get('/files/:id', async (req, res) => {
    const id = String(req.params.id ?? '');
    const row = /^f[0-9a-f]{24}$/.test(id) ? await ctx.db.selectFrom('intake_files').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    const ok = row && verifyStatusQuery(`file/${id}`, row.integration_id, new URL(req.originalUrl, 'http://x').searchParams, secret, ctx.time.now().getTime()).ok;
    if (!row || !ok) return res.status(404).json({ error: 'not_found' });
    // Always a download, never rendered in our origin.
    res
      .status(200)
      .set({
        'Content-Type': row.content_type,
        'Content-Disposition': `attachment; filename="${row.name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(row.name)}`,
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        'Cache-Control': 'private, no-store',
      })
      .send(Buffer.from(row.data, 'base64'));
  });

  return router;
}
