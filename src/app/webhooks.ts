import { z } from 'zod';
import type { Tx } from '../storage/database';
import { insertOutbox, pendingOutboxRow } from '../storage/repos/journal';
import type { AppContext } from './context';

/**
 * Outgoing webhooks (issue 18): every status change of a ticket raised through an integration
 * with `webhook:` configured becomes one outbox row, in the transaction of the change. Its
 * idempotency key is the change's audit id, so a change is queued exactly once; the webhook sender
 * (src/jobs/webhook-sender.ts) delivers it through the outbox dispatcher, retrying with back-off.
 * The payload's `id` (also the `X-Ticketbot-Delivery` header) lets the receiver drop a redelivery
 * after an answer it sent got lost.
 */

export const WEBHOOK_PLATFORM = 'webhook';
export const WEBHOOK_EVENT = 'ticket.state_changed';

export const webhookPayloadSchema = z.object({
  /** The change's id: the same on every delivery attempt of this change. */
  id: z.string(),
  event: z.literal(WEBHOOK_EVENT),
  integration: z.string(),
  occurred_at: z.string(),
  /** What happened (created, assigned, resolved, reopened, closed, …). */
  action: z.string(),
  ticket: z.object({
    key: z.string(),
    state: z.string(),
    previous_state: z.string().nullable(),
    category: z.string(),
    priority: z.string(),
  }),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** The integration that raised an API ticket (its `source_ref.workspace`), if any. */
export function integrationOf(ticket: { source_platform: string; source_ref: string | null }): string | undefined {
  if (ticket.source_platform !== 'api' || !ticket.source_ref) return undefined;
  try {
    const ws = (JSON.parse(ticket.source_ref) as { workspace?: unknown }).workspace;
    return typeof ws === 'string' ? ws : undefined;
  } catch {
    return undefined;
  }
}

/** Called by `audit()` for every audited state change; writes nothing unless the ticket's integration has a webhook. */
export async function queueStateWebhook(
  ctx: Pick<AppContext, 'config' | 'newId'>,
  tx: Tx,
  change: { auditId: string; ticketId: string; action: string; from: string | null; to: string; now: string },
): Promise<void> {
  if (!ctx.config.raw.integrations.some((i) => i.webhook)) return;
  const ticket = await tx
    .selectFrom('tickets')
    .select(['id', 'key', 'category_id', 'priority', 'source_platform', 'source_ref', 'locale', 'version'])
    .where('id', '=', change.ticketId)
    .executeTakeFirst();
  if (!ticket) return;
  const integrationId = integrationOf(ticket);
  const integ = integrationId === undefined ? undefined : ctx.config.raw.integrations.find((i) => i.id === integrationId);
  if (!integ?.webhook) return;
  const payload: WebhookPayload = {
    id: change.auditId,
    event: WEBHOOK_EVENT,
    integration: integ.id,
    occurred_at: change.now,
    action: change.action,
    ticket: { key: ticket.key, state: change.to, previous_state: change.from, category: ticket.category_id, priority: ticket.priority },
  };
  await insertOutbox(tx, [
    pendingOutboxRow(
      {
        id: ctx.newId(),
        idempotency_key: `webhook:${change.auditId}`,
        ticket_id: ticket.id,
        platform: WEBHOOK_PLATFORM,
        target_kind: 'integration',
        target_id: integ.id,
        event: WEBHOOK_EVENT,
        payload: JSON.stringify(payload),
        locale: ticket.locale,
        // One ticket's changes arrive in order; a failing receiver holds back only that ticket's later changes.
        order_key: `webhook:${integ.id}:${ticket.id}`,
      },
      change.now,
    ),
  ]);
}
