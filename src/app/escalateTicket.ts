import { DomainError } from '../domain/errors';
import { PRIORITIES, PRIORITY_RANK, type Priority } from '../domain/types';
import { updateTicket } from '../storage/repos/tickets';
import type { TicketRow } from '../storage/tables';
import type { AppContext, CommandMeta } from './context';
import { retargetTicketClocks } from './clocks';
import { rerunRules } from './rules';
import type { UseCaseResult } from './runner';
import { actorName, audit, department, notify, refreshCards } from './support';
import { ticketCommand } from './ticketCommand';

/** The audit action of a manual escalation (counted as "manual escalations" in reports). */
export const MANUAL_ESCALATION = 'escalated_by_person';

export interface EscalateCommand {
  meta: CommandMeta;
  ticket: string;
  reason: string;
  /** Raise the priority to this (only a raise: a lower or equal one is ignored). */
  raiseTo?: Priority | undefined;
}

export interface EscalateOutcome {
  ticket: TicketRow;
  /** The supervisors told (config references). */
  notified: string[];
  raisedFrom: Priority | null;
}

/**
 * "This is urgent" [issue 17 item 4]: a member or the requester escalates by hand with a reason.
 * The department's supervisors get a DM at once (urgent, so quiet hours do not hold it), the
 * priority is raised if asked (clocks retarget, rules run again), and it is audited and counted.
 */
export function escalateTicket(ctx: AppContext, cmd: EscalateCommand): Promise<UseCaseResult<EscalateOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'escalateTicket', cmd.ticket, 'escalate', async ({ tx, now, ticket, meta, opKey }) => {
    const reason = cmd.reason.trim();
    if (reason === '') throw new DomainError('ticket.reason_required');
    if (cmd.raiseTo !== undefined && !PRIORITIES.includes(cmd.raiseTo)) throw new DomainError('ticket.invalid_input', { field: 'priority', problem: String(cmd.raiseTo) });
    const before = ticket.priority as Priority;
    const raise = cmd.raiseTo !== undefined && PRIORITY_RANK[cmd.raiseTo] > PRIORITY_RANK[before] ? cmd.raiseTo : undefined;
    let updated = ticket;
    if (raise) {
      updated = await updateTicket(tx, ticket, { priority: raise, updated_at: now });
      await retargetTicketClocks(ctx, tx, updated, now, `escalated: priority ${before} → ${raise}`);
    } else {
      updated = await updateTicket(tx, ticket, { updated_at: now });
    }
    await audit(ctx, tx, meta, ticket.id, now, { action: MANUAL_ESCALATION, reason, data: { from: before, ...(raise ? { raisedTo: raise } : {}) } });
    if (raise) updated = await rerunRules(ctx, tx, meta, updated, now, 'priority');
    const supervisors = department(ctx, updated.department_id).supervisors;
    await notify(ctx, tx, updated, opKey, now, supervisors.map((ref) => ({ kind: 'ref' as const, ref })), {
      event: 'ticket.escalated_by_person',
      messageKey: 'event.ticket.escalated_by_person',
      params: { key: updated.key, title: updated.title, reason, priority: updated.priority, actor: await actorName(tx, meta.actorId) },
      thread: 'none',
      urgent: true,
      actions: ['take_over', 'open'],
      scope: 'manual',
    });
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated, notified: [...supervisors], raisedFrom: raise ? before : null };
  });
}
