import { DomainError } from '../domain/errors';
import type { ClockKind } from '../domain/types';
import { CLOCK_KINDS } from '../domain/types';
import { updateTicket } from '../storage/repos/tickets';
import { upsertTimer } from '../storage/repos/clocks';
import type { TicketRow } from '../storage/tables';
import type { AppContext, CommandMeta } from './context';
import { calendarOf, extendClock as extendClockState, onClosed, onReopened, onResolved } from './clocks';
import type { UseCaseResult } from './runner';
import { actorName, audit, department, notify, refreshCards } from './support';
import { ticketCommand, type TicketCommandScope, type TicketOutcome } from './ticketCommand';
import { formatDuration } from '../domain/duration';
import { ruleInForce } from '../domain/policy';

export interface ResolveTicketCommand {
  meta: CommandMeta;
  ticket: string;
  note: string;
}

/** Resolve with a note; the requester is asked "Fixed?" and the auto-close timer starts. */
export function resolveTicket(ctx: AppContext, cmd: ResolveTicketCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'resolveTicket', cmd.ticket, 'resolve', async ({ tx, now, ticket, opKey, meta }) => {
    const note = cmd.note.trim();
    if (note === '') throw new DomainError('ticket.note_required');
    const updated = await updateTicket(tx, ticket, { state: 'resolved', resolved_at: now, updated_at: now });
    await onResolved(ctx, tx, updated, now);
    await audit(ctx, tx, meta, ticket.id, now, { action: 'resolved', from: ticket.state, to: 'resolved', reason: note });
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: ticket.requester_id }], {
      event: 'ticket.resolved', messageKey: 'event.ticket.resolved', params: { key: ticket.key, actor: await actorName(tx, meta.actorId), note }, thread: 'requester', actions: ['confirm', 'reopen'],
    });
    await scheduleAutoClose(ctx, tx, updated, now);
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}

/**
 * The closing rule: no answer within `closing.confirm_within` (business time of the department's
 * calendar) closes the ticket. Sensitive tickets are never closed automatically.
 */
async function scheduleAutoClose(ctx: AppContext, tx: TicketCommandScope['tx'], ticket: TicketRow, now: string): Promise<void> {
  // The rule in force for the department: its own closing setting, or a pilot's (on or off) there.
  const enabled = ruleInForce(ctx.config, ticket.department_id).autoClose.enabled && ticket.sensitive === 0;
  const calendar = calendarOf(ctx, department(ctx, ticket.department_id).calendar);
  const at = enabled ? new Date(calendar.add(Date.parse(now), ctx.config.confirmWithinMs)).toISOString() : null;
  await upsertTimer(tx, { id: `close:${ticket.id}`, kind: 'close', ticket_id: ticket.id, clock_id: null, next_action_at: at, payload: JSON.stringify({ resolvedAt: ticket.resolved_at }), updated_at: now });
}

async function cancelAutoClose(tx: TicketCommandScope['tx'], ticket: TicketRow, now: string): Promise<void> {
  await upsertTimer(tx, { id: `close:${ticket.id}`, kind: 'close', ticket_id: ticket.id, clock_id: null, next_action_at: null, payload: null, updated_at: now });
}

export interface TicketRefCommand {
  meta: CommandMeta;
  ticket: string;
  reason?: string | undefined;
}

/** The requester says "Yes, fixed": the ticket closes and the survey goes out. */
export function confirmFixed(ctx: AppContext, cmd: TicketRefCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'confirmFixed', cmd.ticket, 'confirm', (scope) => closeInScope(ctx, scope, 'confirmed', cmd.reason));
}

/** Close by hand (staff, or the requester withdrawing), or automatically by the closing rule. */
export function closeTicket(ctx: AppContext, cmd: TicketRefCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'closeTicket', cmd.ticket, 'close', (scope) => closeInScope(ctx, scope, 'closed', cmd.reason));
}

export async function closeInScope(ctx: AppContext, scope: TicketCommandScope, how: 'confirmed' | 'closed' | 'auto_closed', reason?: string): Promise<TicketOutcome> {
  const { tx, now, ticket, opKey, meta } = scope;
  if (how === 'auto_closed' && (ticket.sensitive === 1 || ticket.state !== 'resolved')) return { ticket };
  const updated = await updateTicket(tx, ticket, { state: 'closed', closed_at: now, updated_at: now });
  await onClosed(ctx, tx, updated, now);
  await cancelAutoClose(tx, updated, now);
  await audit(ctx, tx, meta, ticket.id, now, { action: how, from: ticket.state, to: 'closed', reason: reason ?? null });
  const wasResolved = ticket.state === 'resolved';
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: ticket.requester_id }], {
    event: 'ticket.closed', messageKey: 'event.ticket.closed', params: { key: ticket.key }, thread: 'requester',
  });
  if (wasResolved && ctx.config.raw.closing.survey)
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: ticket.requester_id }], {
      event: 'ticket.survey', messageKey: 'event.ticket.survey', params: { key: ticket.key }, thread: 'requester', actions: ['survey'],
    });
  await refreshCards(ctx, tx, updated, opKey, now);
  return { ticket: updated };
}

/** "No, still broken": back to the same assignee, counted as a reopen. */
export function reopenTicket(ctx: AppContext, cmd: TicketRefCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'reopenTicket', cmd.ticket, 'reopen', async ({ tx, now, ticket, opKey, meta }) => {
    const state = ticket.assignee_id ? 'in_progress' : 'new';
    const updated = await updateTicket(tx, ticket, { state, reopen_count: ticket.reopen_count + 1, resolved_at: null, updated_at: now });
    await onReopened(ctx, tx, updated, now);
    await cancelAutoClose(tx, updated, now);
    await audit(ctx, tx, meta, ticket.id, now, { action: 'reopened', from: 'resolved', to: state, reason: cmd.reason ?? null });
    const recipients = [{ kind: 'department' as const, departmentId: ticket.department_id }, ...(ticket.assignee_id ? [{ kind: 'user' as const, userId: ticket.assignee_id }] : [])];
    await notify(ctx, tx, updated, opKey, now, recipients, { event: 'ticket.reopened', messageKey: 'event.ticket.reopened', params: { key: ticket.key }, thread: 'card' });
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}

export interface RateTicketCommand {
  meta: CommandMeta;
  ticket: string;
  score: number;
  comment?: string | undefined;
}

/** One satisfaction answer per ticket, 1–5 with an optional comment. */
export function rateTicket(ctx: AppContext, cmd: RateTicketCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'rateTicket', cmd.ticket, 'rate', async ({ tx, now, ticket, opKey, meta }) => {
    if (!Number.isInteger(cmd.score) || cmd.score < 1 || cmd.score > 5) throw new DomainError('ticket.bad_score');
    const inserted = await tx
      .insertInto('surveys')
      .values({ ticket_id: ticket.id, user_id: meta.actorId, score: cmd.score, comment: cmd.comment?.trim() || null, answered_at: now })
      .onConflict((oc) => oc.column('ticket_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new DomainError('ticket.already_rated', { key: ticket.key });
    await audit(ctx, tx, meta, ticket.id, now, { action: 'rated', data: { score: cmd.score } });
    if (ticket.assignee_id)
      await notify(ctx, tx, ticket, opKey, now, [{ kind: 'user', userId: ticket.assignee_id }], {
        event: 'ticket.rated', messageKey: 'event.ticket.rated', params: { key: ticket.key, score: cmd.score }, thread: 'none',
      });
    return { ticket };
  });
}

export interface MarkSensitiveCommand {
  meta: CommandMeta;
  ticket: string;
  sensitive: boolean;
}

/** Sensitive tickets (complaint, emotional, dispute) are never auto-closed or auto-replied. */
export function markSensitive(ctx: AppContext, cmd: MarkSensitiveCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'markSensitive', cmd.ticket, 'mark_sensitive', async ({ tx, now, ticket, opKey, meta }) => {
    const flag = cmd.sensitive ? 1 : 0;
    if (ticket.sensitive === flag) return { ticket };
    const updated = await updateTicket(tx, ticket, { sensitive: flag, updated_at: now });
    if (flag === 1) await cancelAutoClose(tx, updated, now);
    else if (updated.state === 'resolved') await scheduleAutoClose(ctx, tx, updated, now);
    await audit(ctx, tx, meta, ticket.id, now, { action: flag ? 'marked_sensitive' : 'unmarked_sensitive' });
    if (flag)
      await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: ticket.department_id }], {
        event: 'ticket.sensitive', messageKey: 'event.ticket.sensitive', params: { key: ticket.key, actor: await actorName(tx, meta.actorId) }, thread: 'card',
      });
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}

export interface ExtendClockCommand {
  meta: CommandMeta;
  ticket: string;
  clockKind: ClockKind;
  byMs: number;
  reason: string;
}

/** A supervisor extends a deadline (from an escalation DM), with a reason in the audit trail. */
export function extendClock(ctx: AppContext, cmd: ExtendClockCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'extendClock', cmd.ticket, 'extend', async ({ tx, now, ticket, opKey, meta }) => {
    const reason = cmd.reason.trim();
    if (reason === '') throw new DomainError('ticket.reason_required');
    if (!CLOCK_KINDS.includes(cmd.clockKind)) throw new DomainError('ticket.invalid_input', { field: 'clock', problem: String(cmd.clockKind) });
    if (!Number.isFinite(cmd.byMs) || cmd.byMs <= 0) throw new DomainError('ticket.invalid_input', { field: 'duration', problem: 'must be positive' });
    const changed = await extendClockState(ctx, tx, ticket, cmd.clockKind, cmd.byMs, now, `extended by ${formatDuration(cmd.byMs)}: ${reason}`);
    if (!changed) throw new DomainError('ticket.invalid_input', { field: 'clock', problem: 'no running clock of that kind' });
    const updated = await updateTicket(tx, ticket, { updated_at: now });
    await audit(ctx, tx, meta, ticket.id, now, { action: 'extended', reason, data: { clock: cmd.clockKind, byMs: cmd.byMs } });
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: ticket.department_id }], {
      event: 'ticket.extended', messageKey: 'event.ticket.extended', params: { key: ticket.key, clock: cmd.clockKind, by: formatDuration(cmd.byMs), actor: await actorName(tx, meta.actorId), reason }, thread: 'card',
    });
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}
