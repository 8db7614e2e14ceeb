import { z } from 'zod';
import { PRIORITIES } from '../../domain/types';

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
  })
  .strict();
export type CreateTicketBody = z.infer<typeof createTicketBody>;

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
    error: z.string().describe('a stable code: unauthorized, invalid_body, unknown_category, missing_fields, invalid_field, not_found, rate_limited, idempotency_conflict'),
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
