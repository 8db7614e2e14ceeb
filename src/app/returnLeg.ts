import { DomainError } from '../domain/errors';
import { listLegs, updateLeg, updateTicket } from '../storage/repos/tickets';
import type { AppContext, CommandMeta } from './context';
import { onLegEnded, startLegClocks } from './clocks';
import type { UseCaseResult } from './runner';
import { audit, department, notify, refreshCards } from './support';
import { currentLeg, openLeg } from './handOff';
import { ticketCommand, type TicketOutcome } from './ticketCommand';

export interface ReturnLegCommand {
  meta: CommandMeta;
  ticket: string;
  reason: string;
  note?: string | undefined;
}

/**
 * 退回: the department that received a handoff sends it back with a required reason. The sender's
 * department gets it again, with the person who had it there.
 */
export function returnLeg(ctx: AppContext, cmd: ReturnLegCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'returnLeg', cmd.ticket, 'return_leg', async (scope) => {
    const { tx, now, ticket, opKey, meta } = scope;
    const leg = await currentLeg(scope);
    if (leg.from_department_id === null) throw new DomainError('ticket.no_pending_leg', { key: ticket.key });
    const reason = cmd.reason.trim();
    if (reason === '') throw new DomainError('ticket.reason_required');
    const legs = await listLegs(tx, ticket.id);
    const previousThere = legs.filter((l) => l.department_id === leg.from_department_id && l.seq < leg.seq).at(-1);
    const assignee = previousThere?.assignee_id ?? null;
    await updateLeg(tx, leg, { state: 'returned', return_reason: reason, closed_at: now });
    await onLegEnded(ctx, tx, ticket, leg.id, now);
    const back = await openLeg(ctx, scope, leg, { department: leg.from_department_id, from: leg.department_id, state: assignee ? 'accepted' : 'pending', assignee, reason, note: cmd.note?.trim() || null });
    const state = assignee ? 'in_progress' : 'new';
    const updated = await updateTicket(tx, ticket, { department_id: back.department_id, assignee_id: assignee, state, current_leg_id: back.id, updated_at: now });
    // A return to a department that itself received the ticket by handoff runs that department's limits again.
    if (back.department_id !== ticket.home_department_id) await startLegClocks(ctx, tx, updated, back, now);
    await audit(ctx, tx, meta, ticket.id, now, { action: 'leg_returned', from: ticket.state, to: state, reason, data: { leg: leg.id, from: leg.department_id, to: back.department_id, note: cmd.note ?? null } });
    const locale = ctx.config.raw.locale;
    const params = { key: ticket.key, to: department(ctx, leg.department_id).name[locale], from: department(ctx, back.department_id).name[locale], reason };
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: back.department_id }, ...(assignee ? [{ kind: 'user' as const, userId: assignee }] : [])], {
      event: 'ticket.leg_returned', messageKey: 'event.ticket.leg_returned', params, thread: 'card',
    });
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}
