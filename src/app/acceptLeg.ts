import { DomainError } from '../domain/errors';
import { findLeg } from '../storage/repos/tickets';
import type { AppContext, CommandMeta } from './context';
import type { UseCaseResult } from './runner';
import { takeTicket } from './claimTicket';
import { ticketCommand, type TicketOutcome } from './ticketCommand';

export interface AcceptLegCommand {
  meta: CommandMeta;
  ticket: string;
}

/** The target department accepts a handed-off leg; the accepting member becomes the assignee. */
export function acceptLeg(ctx: AppContext, cmd: AcceptLegCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'acceptLeg', cmd.ticket, 'accept_leg', async (scope) => {
    const leg = scope.ticket.current_leg_id ? await findLeg(scope.tx, scope.ticket.current_leg_id) : undefined;
    if (!leg || leg.from_department_id === null) throw new DomainError('ticket.no_pending_leg', { key: scope.ticket.key });
    if (leg.state !== 'pending') throw new DomainError('ticket.leg_not_pending', { key: scope.ticket.key });
    return takeTicket(ctx, scope, scope.meta.actorId, 'leg_accepted');
  });
}
