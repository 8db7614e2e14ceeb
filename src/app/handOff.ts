import { publicFileRefs } from './files';
import { DomainError } from '../domain/errors';
import { findLeg, insertLeg, listLegs, updateLeg, updateTicket } from '../storage/repos/tickets';
import type { LegRow, TicketRow } from '../storage/tables';
import type { AppContext, CommandMeta } from './context';
import { onLegEnded, startLegClocks } from './clocks';
import type { UseCaseResult } from './runner';
import { audit, department, notify, refreshCards } from './support';
import { ticketCommand, type TicketCommandScope, type TicketOutcome } from './ticketCommand';

export interface HandOffCommand {
  meta: CommandMeta;
  ticket: string;
  toDepartmentId: string;
  reason: string;
  note?: string | undefined;
}

/**
 * Hands the ticket to another department: the current leg closes, a new pending leg opens there
 * with that department's acceptance and resolution limits, and its channel gets a leg card.
 */
export function handOff(ctx: AppContext, cmd: HandOffCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'handOff', cmd.ticket, 'hand_off', async (scope) => {
    const target = department(ctx, cmd.toDepartmentId);
    if (target.id === scope.ticket.department_id) throw new DomainError('ticket.same_department', { key: scope.ticket.key, department: target.name[ctx.config.raw.locale] });
    const reason = cmd.reason.trim();
    if (reason === '') throw new DomainError('ticket.reason_required');
    return { ticket: await handOffInScope(ctx, scope, target.id, reason, cmd.note) };
  });
}

/** The handoff inside a ticket command already running (also used by recategorise, reason "miscategorised"). */
export async function handOffInScope(ctx: AppContext, scope: TicketCommandScope, toDepartmentId: string, reason: string, note?: string, extra: Partial<TicketRow> = {}): Promise<TicketRow> {
  const { tx, now, ticket, opKey, meta } = scope;
  const target = department(ctx, toDepartmentId);
  const current = await currentLeg(scope);
  const leg = await openLeg(ctx, scope, current, { department: target.id, from: ticket.department_id, state: 'pending', assignee: null, reason, note: note?.trim() || null });
  await updateLeg(tx, current, { state: 'handed_off', closed_at: now });
  await onLegEnded(ctx, tx, ticket, current.id, now);
  const updated = await updateTicket(tx, ticket, { ...extra, department_id: target.id, assignee_id: null, state: 'new', current_leg_id: leg.id, updated_at: now });
  await startLegClocks(ctx, tx, updated, leg, now);
  await audit(ctx, tx, meta, ticket.id, now, { action: 'handed_off', from: ticket.state, to: 'new', reason, data: { from: ticket.department_id, to: target.id, leg: leg.id, note: note ?? null } });
  const from = department(ctx, ticket.department_id);
  const names = { from: from.name, to: target.name };
  const locale = ctx.config.raw.locale;
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: target.id }], {
    event: 'card.post', messageKey: 'event.card.refresh', params: { key: ticket.key }, thread: 'none', legId: leg.id,
    // The ticket's public files follow it into the new card's thread (issue 17 item 5); notes' stay behind.
    files: await publicFileRefs(tx, ticket.id), filesThread: 'card',
  });
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: from.id }], {
    event: 'ticket.handed_off', messageKey: 'event.ticket.handed_off', params: { key: ticket.key, from: names.from[locale], to: names.to[locale], reason }, thread: 'card',
  });
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: ticket.requester_id }], {
    event: 'ticket.handed_off', messageKey: 'event.ticket.handed_off_to_requester', params: { key: ticket.key, to: names.to[locale] }, thread: 'requester',
  });
  await refreshCards(ctx, tx, updated, opKey, now);
  return updated;
}

export async function currentLeg(scope: TicketCommandScope): Promise<LegRow> {
  const leg = scope.ticket.current_leg_id ? await findLeg(scope.tx, scope.ticket.current_leg_id) : undefined;
  if (!leg) throw new DomainError('ticket.no_pending_leg', { key: scope.ticket.key });
  return leg;
}

export async function openLeg(
  ctx: AppContext,
  scope: TicketCommandScope,
  after: LegRow,
  p: { department: string; from: string; state: 'pending' | 'accepted'; assignee: string | null; reason: string | null; note: string | null },
): Promise<LegRow> {
  const legs = await listLegs(scope.tx, scope.ticket.id);
  const seq = Math.max(after.seq, ...legs.map((l) => l.seq)) + 1;
  const leg: LegRow = {
    id: ctx.newId(),
    ticket_id: scope.ticket.id,
    seq,
    department_id: p.department,
    from_department_id: p.from,
    state: p.state,
    assignee_id: p.assignee,
    reason: p.reason,
    note: p.note,
    return_reason: null,
    opened_by: scope.meta.actorId,
    opened_at: scope.now,
    accepted_at: p.state === 'accepted' ? scope.now : null,
    closed_at: null,
  };
  await insertLeg(scope.tx, leg);
  return leg;
}
