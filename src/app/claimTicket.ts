import { DomainError } from '../domain/errors';
import { findLeg, updateLeg, updateTicket } from '../storage/repos/tickets';
import type { AppContext, CommandMeta } from './context';
import { onLegAccepted } from './clocks';
import type { UseCaseResult } from './runner';
import { actorName, audit, notify, refreshCards } from './support';
import { ticketCommand, type TicketCommandScope, type TicketOutcome } from './ticketCommand';

export interface ClaimTicketCommand {
  meta: CommandMeta;
  ticket: string;
}

/** Claim: a member takes an unassigned ticket. On a handed-off leg this also accepts the leg. */
export function claimTicket(ctx: AppContext, cmd: ClaimTicketCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'claimTicket', cmd.ticket, 'claim', (scope) => takeTicket(ctx, scope, scope.meta.actorId, 'claimed'));
}

/** Shared by claim, accept and assign: the ticket and its current leg get an assignee. */
export async function takeTicket(ctx: AppContext, scope: TicketCommandScope, assigneeId: string, action: 'claimed' | 'leg_accepted' | 'assigned' | 'reassigned'): Promise<TicketOutcome> {
  const { tx, now, ticket, opKey } = scope;
  if (action !== 'assigned' && action !== 'reassigned' && ticket.assignee_id) {
    throw new DomainError('ticket.already_assigned', { key: ticket.key, assignee: await actorName(tx, ticket.assignee_id) });
  }
  const nextState = ticket.state === 'new' ? 'assigned' : ticket.state;
  const updated = await updateTicket(tx, ticket, { assignee_id: assigneeId, state: nextState, updated_at: now });
  const leg = ticket.current_leg_id ? await findLeg(tx, ticket.current_leg_id) : undefined;
  let acceptedLeg = false;
  if (leg) {
    if (leg.state === 'pending') {
      await updateLeg(tx, leg, { state: 'accepted', accepted_at: now, assignee_id: assigneeId });
      await onLegAccepted(ctx, tx, updated, leg.id, now);
      acceptedLeg = true;
    } else {
      await updateLeg(tx, leg, { assignee_id: assigneeId });
    }
  }
  const assigneeName = await actorName(tx, assigneeId);
  await audit(ctx, tx, scope.meta, ticket.id, now, { action, from: ticket.state, to: nextState, data: { assignee: assigneeId, previous: ticket.assignee_id } });
  if (acceptedLeg && action !== 'leg_accepted')
    await audit(ctx, tx, scope.meta, ticket.id, now, { action: 'leg_accepted', data: { leg: leg!.id, department: leg!.department_id } });
  const params = { key: ticket.key, assignee: assigneeName, title: ticket.title, priority: ticket.priority };
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: ticket.requester_id }], {
    event: 'ticket.assigned', messageKey: action === 'claimed' ? 'event.ticket.claimed' : 'event.ticket.assigned', params, thread: 'requester',
  });
  if (assigneeId !== scope.meta.actorId)
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: assigneeId }], {
      event: 'ticket.assigned_to_you', messageKey: 'event.ticket.assigned_to_you', params, thread: 'none',
    });
  if (acceptedLeg && leg!.from_department_id) {
    const to = ctx.config.departments.get(leg!.department_id);
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: leg!.from_department_id }], {
      event: 'ticket.leg_accepted', messageKey: 'event.ticket.leg_accepted', params: { key: ticket.key, to: to?.name[ctx.config.raw.locale] ?? leg!.department_id, assignee: assigneeName }, thread: 'card',
    });
  }
  await refreshCards(ctx, tx, updated, opKey, now);
  return { ticket: updated };
}
