import { z } from 'zod';
import { LOCALES, PRIORITIES } from '../../domain/types';

/** The intake API's bodies: validated with these and published in the OpenAPI document from them. */
export const createTicketBody = z
  .object({
    category: z.string().min(1).describe('a leaf category id from the config'),
    title: z.string().trim().min(1).max(150),
    priority: z.enum(PRIORITIES).optional(),
    description: z.string().max(10_000).optional(),
    requester: z.object({ id: z.string().min(1).max(200), name: z.string().max(200).optional(), email: z.string().email().optional() }).strict(),
    fields: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('context and category fields: user, device, app_version, page_url, order_id, any configured field'),
    deflection: z
      .union([
        z.object({ id: z.string().min(1).max(100).describe('deflection_id from POST /api/v1/tickets/suggestions') }).strict(),
        z.object({ shown: z.array(z.string().min(1).max(100)).min(1).max(6).describe('ids of articles the caller showed itself') }).strict(),
      ])
      .optional()
      .describe('"Still need help": the articles offered before this ticket; they are attached to it for the agent'),
  })
  .strict();
export type CreateTicketBody = z.infer<typeof createTicketBody>;

const requesterRef = z.object({ id: z.string().min(1).max(200), name: z.string().max(200).optional(), email: z.string().email().optional() }).strict();

export const suggestionsBody = z
  .object({
    category: z.string().min(1).describe('a leaf category id from the config'),
    title: z.string().trim().min(1).max(150),
    description: z.string().max(10_000).optional(),
    lang: z.enum(LOCALES).optional().describe('language of the articles (default: the desk language)'),
    requester: requesterRef,
  })
  .strict();

export const suggestionsAnswer = z
  .object({
    deflection_id: z.string().nullable().describe('pass it to POST /api/v1/self-service ("Solved") or as deflection.id to POST /api/v1/tickets ("Still need help"); null when nothing was offered'),
    reason: z.enum(['not_deflected', 'no_match']).optional().describe('why no article is offered: the category never deflects (sensitive or deflect: false), or nothing matched'),
    articles: z.array(z.object({ id: z.string(), slug: z.string(), title: z.string(), lang: z.string(), excerpt: z.string(), body: z.string().describe('Markdown') }).strict()).max(3),
  })
  .strict();

export const selfServiceBody = z
  .object({
    deflection_id: z.string().min(1).max(100),
    article_id: z.string().min(1).max(100).optional().describe('the article that answered the question'),
    requester: requesterRef.describe('the same requester as in the suggestions call'),
  })
  .strict();

export const selfServiceAnswer = z.object({ outcome: z.literal('solved'), article_id: z.string().nullable() }).strict();

export const ticketCreated = z.object({ key: z.string(), state: z.string(), url: z.string() }).strict();

export const ticketStatus = z
  .object({
    key: z.string(),
    state: z.string(),
    category: z.string(),
    priority: z.enum(PRIORITIES),
    title: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    resolved_at: z.string().nullable(),
    closed_at: z.string().nullable(),
  })
  .strict();

export const apiError = z
  .object({
    error: z.string().describe('a stable code: unauthorized, invalid_body, unknown_category, missing_fields, invalid_field, not_found, rate_limited, idempotency_conflict, deflection_closed'),
    message: z.string(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }).strict()).optional(),
  })
  .strict();

// OpenAPI 3.1 schemas are JSON Schema 2020-12, zod's default target.
const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => ({ 'application/json': { schema: z.toJSONSchema(schema, { io }) } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: 'error', content: json(apiError) }]));

/** OpenAPI 3.1 document of /api/v1, generated from the zod schemas above. */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'ticketbot intake API', version: '1' },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/tickets': {
        post: {
          operationId: 'createTicket',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } }],
          requestBody: { required: true, content: json(createTicketBody, 'input') },
          responses: { '201': { description: 'created (or the same ticket again for a repeated Idempotency-Key)', content: json(ticketCreated) }, ...errors(400, 401, 409, 422, 429) },
        },
      },
      '/api/v1/tickets/suggestions': {
        post: {
          operationId: 'suggestArticles',
          description: 'Up to three knowledge-base articles for a ticket about to be raised (the offer is recorded: views)',
          requestBody: { required: true, content: json(suggestionsBody, 'input') },
          responses: { '200': { description: 'articles to offer (possibly none)', content: json(suggestionsAnswer) }, ...errors(400, 401, 422, 429) },
        },
      },
      '/api/v1/self-service': {
        post: {
          operationId: 'recordSelfService',
          description: '"Solved": the requester answered the question with an offered article; no ticket is raised',
          requestBody: { required: true, content: json(selfServiceBody, 'input') },
          responses: { '200': { description: 'recorded (again: the same answer)', content: json(selfServiceAnswer) }, ...errors(400, 401, 404, 409, 429) },
        },
      },
      '/api/v1/tickets/{key}': {
        get: {
          operationId: 'getTicket',
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'status', content: json(ticketStatus) }, ...errors(401, 404, 429) },
        },
      },
    },
  };
}
