import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from '../../app/context';
import { createTicket } from '../../app/createTicket';
import { ensureUser } from '../../app/users';
import type { IntegrationKey } from '../../config/integrations';
import type { RawConfig } from '../../config/schema';
import { findTicket } from '../../storage/repos/tickets';
import type { TicketRow } from '../../storage/tables';
import { takeRateLimit } from '../../storage/repos/rate-limits';
import { createTicketBody, openApiDocument, selfServiceBody, suggestionsBody } from './schemas';
import { recordSelfService, suggestArticles } from '../../app/deflection';

type Integration = RawConfig['integrations'][number];

export interface ApiRouterOptions {
  ctx: AppContext;
  keys: IntegrationKey[];
  /** Base of the `url` answered for a ticket (TICKETBOT_PUBLIC_URL). */
  publicUrl: string;
}

interface Issue {
  path: (string | number)[];
  message: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The intake API: POST /api/v1/tickets, GET /api/v1/tickets/{key}, GET /api/v1/openapi.json.
 * Every call but the document needs `Authorization: Bearer <key>` of one configured integration;
 * keys are compared as SHA-256 digests with timingSafeEqual, each against every key, so the time
 * does not tell how much of a key was right or which integration it nearly matched.
 */
export function createApiRouter(opts: ApiRouterOptions): Router {
  const { ctx } = opts;
  const router = Router();
  const integrations = new Map(ctx.config.raw.integrations.map((i) => [i.id, i]));
  const keyDigests = opts.keys.map((k) => ({ id: k.id, digest: digest(k.key) }));

  const send = (res: Response, status: number, error: string, message: string, issues?: Issue[]) => {
    res.status(status).json(issues ? { error, message, issues } : { error, message });
  };

  const authenticate = (req: Request): Integration | undefined => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!m) return undefined;
    const given = digest(m[1]!);
    let found: string | undefined;
    for (const k of keyDigests) if (timingSafeEqual(given, k.digest) && found === undefined) found = k.id;
    return found === undefined ? undefined : integrations.get(found);
  };

  /** A fixed one-minute window per integration key, counted in the database: every replica shares it. */
  const guard = async (req: Request, res: Response, next: NextFunction) => {
    const integ = authenticate(req);
    if (!integ) return send(res, 401, 'unauthorized', 'a valid "Authorization: Bearer <key>" header is required');
    try {
      const rate = await takeRateLimit(ctx.db, `api:${integ.id}`, integ.rate_limit, 60_000, ctx.time.now().getTime());
      if (!rate.allowed) {
        res.set('Retry-After', String(rate.retryAfterSeconds));
        return send(res, 429, 'rate_limited', `at most ${integ.rate_limit} requests a minute for this key`);
      }
    } catch (err) {
      return next(err);
    }
    res.locals.integration = integ;
    next();
  };

  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument(opts.publicUrl));
  });

  router.post('/api/v1/tickets', express.json({ limit: '100kb' }), guard, async (req: Request, res: Response) => {
    const integ = res.locals.integration as Integration;
    const idemKey = req.get('idempotency-key');
    if (idemKey !== undefined && (idemKey.length === 0 || idemKey.length > 200))
      return send(res, 400, 'invalid_body', 'Idempotency-Key must be 1 to 200 characters', [{ path: ['Idempotency-Key'], message: 'bad length' }]);
    const body = { ...(req.body ?? {}) } as Record<string, unknown>;
    if (body.category === undefined && integ.defaults.category !== undefined) body.category = integ.defaults.category;
    const parsed = createTicketBody.safeParse(body);
    if (!parsed.success)
      return send(res, 400, 'invalid_body', 'the body does not match the schema', parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message })));
    const input = parsed.data;
    const leaf = ctx.config.leaves.get(input.category);
    if (!leaf) return send(res, 422, 'unknown_category', `unknown category "${input.category}" (a leaf category id is needed)`, [{ path: ['category'], message: 'unknown leaf category' }]);
    if (integ.department !== undefined && leaf.department !== integ.department)
      return send(res, 422, 'unknown_category', `category "${input.category}" is not one of department ${integ.department}`, [{ path: ['category'], message: 'not allowed for this integration' }]);
    const fields: Record<string, string> = { ...(integ.defaults.fields ?? {}) };
    for (const [k, v] of Object.entries(input.fields ?? {})) fields[k] = String(v);

    const requesterId = await ensureUser(ctx, {
      platform: 'api',
      workspace: integ.id,
      platformUserId: `${integ.id}:${input.requester.id}`,
      name: input.requester.name,
      email: input.requester.email,
    });
    const result = await createTicket(ctx, {
      meta: { actorId: requesterId, platform: 'api', ...(idemKey !== undefined ? { eventKey: `api:${integ.id}:${idemKey}` } : {}) },
      categoryId: leaf.id,
      priority: input.priority ?? integ.defaults.priority,
      title: input.title,
      description: input.description ?? '',
      fields,
      source: { platform: 'api', workspace: integ.id, ...(idemKey !== undefined ? { messageId: idemKey } : {}) },
      deflection: input.deflection,
    });
    if (!result.ok) {
      const { code, params } = result.error;
      if (code === 'ticket.missing_fields') {
        const missing = String(params.fields ?? '').split(',').filter(Boolean);
        return send(res, 422, 'missing_fields', `required fields are missing: ${missing.join(', ')}`, missing.map((f) => ({ path: f === 'title' ? ['title'] : ['fields', f], message: 'required' })));
      }
      if (code === 'ticket.invalid_input') {
        const field = String(params.field ?? '');
        const path = ['title', 'description', 'priority'].includes(field) ? [field] : ['fields', field];
        return send(res, 422, 'invalid_field', `${field}: ${String(params.problem ?? 'invalid')}`, [{ path, message: String(params.problem ?? 'invalid') }]);
      }
      if (code === 'ticket.unknown_category') return send(res, 422, 'unknown_category', `unknown category "${input.category}"`, [{ path: ['category'], message: 'unknown' }]);
      ctx.logger.warn({ code, integration: integ.id }, 'intake API: ticket not created');
      return send(res, 422, 'rejected', code);
    }
    const ticket = result.value.ticket;
    if (result.duplicate && (ticket.title !== input.title.trim() || ticket.category_id !== leaf.id || ticket.requester_id !== requesterId))
      return send(res, 409, 'idempotency_conflict', 'this Idempotency-Key was used for a different ticket');
    ctx.logger.info({ integration: integ.id, key: ticket.key, duplicate: result.duplicate ?? false }, 'intake API: ticket');
    res.status(201).json({ key: ticket.key, state: ticket.state, url: ticketUrl(opts.publicUrl, ticket.key) });
  });

  const issuesOf = (error: { issues: { path: PropertyKey[]; message: string }[] }): Issue[] =>
    error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message }));

  /** The integration's person behind a request (the same user as its tickets' requester). */
  const apiUser = (integ: Integration, requester: { id: string; name?: string | undefined; email?: string | undefined }) =>
    ensureUser(ctx, { platform: 'api', workspace: integ.id, platformUserId: `${integ.id}:${requester.id}`, name: requester.name, email: requester.email });

  // Deflection (issue 18): articles to offer before raising the ticket; the offer is recorded.
  router.post('/api/v1/tickets/suggestions', express.json({ limit: '100kb' }), guard, async (req: Request, res: Response) => {
    const integ = res.locals.integration as Integration;
    const body = { ...(req.body ?? {}) } as Record<string, unknown>;
    if (body.category === undefined && integ.defaults.category !== undefined) body.category = integ.defaults.category;
    const parsed = suggestionsBody.safeParse(body);
    if (!parsed.success) return send(res, 400, 'invalid_body', 'the body does not match the schema', issuesOf(parsed.error));
    const input = parsed.data;
    const leaf = ctx.config.leaves.get(input.category);
    if (!leaf || (integ.department !== undefined && leaf.department !== integ.department))
      return send(res, 422, 'unknown_category', `unknown category "${input.category}" (a leaf category id of this integration is needed)`, [{ path: ['category'], message: 'unknown leaf category' }]);
    const requesterId = await apiUser(integ, input.requester);
    const result = await suggestArticles(ctx, { categoryId: leaf.id, title: input.title, description: input.description, lang: input.lang ?? ctx.config.raw.locale, source: 'api', integrationId: integ.id, requesterId, priority: integ.defaults.priority });
    if (!result.ok) return send(res, 422, 'unknown_category', `unknown category "${input.category}"`, [{ path: ['category'], message: 'unknown' }]);
    const v = result.value;
    res.json({
      deflection_id: v.deflectionId,
      ...('reason' in v ? { reason: v.reason } : {}),
      articles: v.articles.map((a) => ({ id: a.id, slug: a.slug, title: a.title, lang: a.lang, excerpt: a.excerpt, body: a.body })),
    });
  });

  // "Solved": a self-service resolution, no ticket.
  router.post('/api/v1/self-service', express.json({ limit: '10kb' }), guard, async (req: Request, res: Response) => {
    const integ = res.locals.integration as Integration;
    const parsed = selfServiceBody.safeParse(req.body ?? {});
    if (!parsed.success) return send(res, 400, 'invalid_body', 'the body does not match the schema', issuesOf(parsed.error));
    const requesterId = await apiUser(integ, parsed.data.requester);
    const result = await recordSelfService(ctx, { deflectionId: parsed.data.deflection_id, articleId: parsed.data.article_id, requesterId });
    if (!result.ok) {
      if (result.error.code === 'kb.deflection_closed') return send(res, 409, 'deflection_closed', 'a ticket was already raised from this offer');
      return send(res, 404, 'not_found', 'no such offer for this requester (or the article was not offered)', [{ path: ['deflection_id'], message: 'unknown' }]);
    }
    res.json({ outcome: result.value.outcome, article_id: result.value.articleId });
  });

  router.get('/api/v1/tickets/:key', guard, async (req: Request, res: Response) => {
    const integ = res.locals.integration as Integration;
    const key = String(req.params.key ?? '').toUpperCase();
    const ticket = /^[A-Z0-9]+-\d+$/.test(key) ? await findTicket(ctx.db, key) : undefined;
    // An integration sees only the tickets it raised; others are "not found", like missing keys.
    if (!ticket || !raisedBy(ticket, integ.id)) return send(res, 404, 'not_found', `no ticket ${key} raised through this integration`);
    res.json({
      key: ticket.key,
      state: ticket.state,
      category: ticket.category_id,
      priority: ticket.priority,
      title: ticket.title,
      created_at: ticket.created_at,
      updated_at: ticket.updated_at,
      resolved_at: ticket.resolved_at,
      closed_at: ticket.closed_at,
    });
  });

  // A body that is not JSON: the same error shape as every other answer.
  router.use('/api/v1', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = (err as { status?: number }).status;
    if (status === 400 || status === 413) return send(res, status, 'invalid_body', status === 413 ? 'the body is too large' : 'the body is not valid JSON');
    next(err);
  });

  return router;
}

function raisedBy(ticket: TicketRow, integrationId: string): boolean {
  if (ticket.source_platform !== 'api' || !ticket.source_ref) return false;
  try {
    return (JSON.parse(ticket.source_ref) as { workspace?: string }).workspace === integrationId;
  } catch {
    return false;
  }
}

function ticketUrl(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}/api/v1/tickets/${encodeURIComponent(key)}`;
}
