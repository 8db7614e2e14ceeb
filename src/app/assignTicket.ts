import { DomainError } from '../domain/errors';
import { findUser } from '../storage/repos/users';
import type { AppContext, CommandMeta } from './context';
import type { UseCaseResult } from './runner';
import { takeTicket } from './claimTicket';
import { isMemberOf, isSupervisorOf } from './support';
import { ticketCommand, type TicketOutcome } from './ticketCommand';

export interface AssignTicketCommand {
  meta: CommandMeta;
  ticket: string;
  assigneeId: string;
}

/** Assign or reassign to a member (or supervisor) of the department that holds the ticket. */
export function assignTicket(ctx: AppContext, cmd: AssignTicketCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'assignTicket', cmd.ticket, 'assign', async (scope) => {
    const assignee = await findUser(scope.tx, cmd.assigneeId);
    const eligible = (await isMemberOf(ctx, scope.tx, scope.ticket.department_id, assignee)) || isSupervisorOf(ctx, scope.ticket.department_id, assignee);
    if (!eligible) throw new DomainError('ticket.invalid_input', { field: 'assignee', problem: `${assignee?.name ?? cmd.assigneeId} is not in this department` });
    if (scope.ticket.assignee_id === cmd.assigneeId) return { ticket: scope.ticket };
    return takeTicket(ctx, scope, cmd.assigneeId, scope.ticket.assignee_id ? 'reassigned' : 'assigned');
  });
}
