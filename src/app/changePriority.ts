import { DomainError } from '../domain/errors';
import { PRIORITIES, type Priority } from '../domain/types';
import { updateTicket } from '../storage/repos/tickets';
import type { AppContext, CommandMeta } from './context';
import { retargetTicketClocks } from './clocks';
import type { UseCaseResult } from './runner';
import { rerunRules } from './rules';
import { actorName, audit, notify, refreshCards } from './support';
import { ticketCommand, type TicketOutcome } from './ticketCommand';

export interface ChangePriorityCommand {
  meta: CommandMeta;
  ticket: string;
  priority: Priority;
  reason?: string | undefined;
}

/** New priority: clocks retarget to the matching policy and keep their elapsed time. */
export function changePriority(ctx: AppContext, cmd: ChangePriorityCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'changePriority', cmd.ticket, 'change_priority', async ({ tx, now, ticket, opKey, meta }) => {
    if (!PRIORITIES.includes(cmd.priority)) throw new DomainError('ticket.invalid_input', { field: 'priority', problem: String(cmd.priority) });
    if (ticket.priority === cmd.priority) throw new DomainError('ticket.same_priority', { key: ticket.key });
    let updated = await updateTicket(tx, ticket, { priority: cmd.priority, updated_at: now });
    await retargetTicketClocks(ctx, tx, updated, now, `priority ${ticket.priority} → ${cmd.priority}`);
    await audit(ctx, tx, meta, ticket.id, now, { action: 'priority_changed', reason: cmd.reason ?? null, data: { from: ticket.priority, to: cmd.priority } });
    // Rules again on the new priority (issue 17): the priority itself is now the person's.
    updated = await rerunRules(ctx, tx, meta, updated, now, 'priority');
    const recipients = updated.assignee_id && updated.assignee_id !== meta.actorId ? [{ kind: 'user' as const, userId: updated.assignee_id }] : [];
    await notify(ctx, tx, updated, opKey, now, recipients, {
      event: 'ticket.priority_changed', messageKey: 'event.ticket.priority_changed', params: { key: ticket.key, priority: cmd.priority, actor: await actorName(tx, meta.actorId) }, thread: 'none',
    });
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}
