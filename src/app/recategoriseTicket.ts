import { DomainError } from '../domain/errors';
import { insertFields, listFields, updateTicket } from '../storage/repos/tickets';
import type { TicketRow } from '../storage/tables';
import type { AppContext, CommandMeta } from './context';
import { retargetTicketClocks } from './clocks';
import { handOffInScope } from './handOff';
import { rerunRules } from './rules';
import type { UseCaseResult } from './runner';
import { actorName, audit, notify, refreshCards } from './support';
import { ticketCommand } from './ticketCommand';

/** The handoff reason of a ticket moved because its category was wrong (counted as misrouting in reports). */
export const MISCATEGORISED = 'miscategorised';

export interface RecategoriseCommand {
  meta: CommandMeta;
  ticket: string;
  categoryId: string;
  /** Values of fields the new category requires (asked for when the result says `needs_fields`). */
  fields?: Record<string, string> | undefined;
}

export type RecategoriseOutcome =
  /** Done: `movedTo` is the department the ticket was handed to, or null when it stayed. */
  | { kind: 'done'; ticket: TicketRow; movedTo: string | null }
  /** Nothing changed: the new category requires these fields; ask for them and call again with `fields`. */
  | { kind: 'needs_fields'; ticket: TicketRow; categoryId: string; missing: string[] };

/**
 * A member fixes a wrong category [S2.4, issue 17 item 3]. When the new category belongs to
 * another department the ticket moves there as a handoff with reason "miscategorised"; the SLA
 * policy is resolved again for the new category (clocks keep their elapsed business time); rules
 * run again (category changed). Audited `recategorised`.
 */
export function recategoriseTicket(ctx: AppContext, cmd: RecategoriseCommand): Promise<UseCaseResult<RecategoriseOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'recategoriseTicket', cmd.ticket, 'recategorise', async (scope): Promise<RecategoriseOutcome> => {
    const { tx, now, ticket, meta, opKey } = scope;
    const leaf = ctx.config.leaves.get(cmd.categoryId);
    if (!leaf) throw new DomainError('ticket.unknown_category', { category: cmd.categoryId });
    if (leaf.id === ticket.category_id) throw new DomainError('ticket.same_category', { key: ticket.key });
    const have = new Map((await listFields(tx, ticket.id)).map((f) => [f.field_id, f.value]));
    const given = Object.entries(cmd.fields ?? {}).map(([k, v]) => [k, String(v ?? '').trim()] as const).filter(([, v]) => v !== '');
    for (const [k, v] of given) if (!have.has(k)) have.set(k, v);
    const missing = leaf.required.filter((f) => !have.get(f));
    if (missing.length) return { kind: 'needs_fields', ticket, categoryId: leaf.id, missing };
    const oldFields = new Set((await listFields(tx, ticket.id)).map((f) => f.field_id));
    await insertFields(tx, given.filter(([k]) => !oldFields.has(k)).map(([field_id, value]) => ({ ticket_id: ticket.id, field_id, value })));

    const fromDept = ticket.department_id;
    const moves = leaf.department !== fromDept;
    let updated = await updateTicket(tx, ticket, { category_id: leaf.id, updated_at: now });
    await audit(ctx, tx, meta, ticket.id, now, {
      action: 'recategorised',
      reason: moves ? MISCATEGORISED : null,
      data: { from: ticket.category_id, to: leaf.id, fromDepartment: fromDept, toDepartment: leaf.department },
    });
    if (moves) {
      // The category says where the ticket belongs: its home moves too, so the SLA policy is the new department's.
      updated = await handOffInScope(ctx, { ...scope, ticket: updated }, leaf.department, MISCATEGORISED, undefined, { home_department_id: leaf.department });
    }
    await retargetTicketClocks(ctx, tx, updated, now, `category ${ticket.category_id} → ${leaf.id}`);
    updated = await rerunRules(ctx, tx, meta, updated, now, 'category');
    const recipients = updated.requester_id !== meta.actorId ? [{ kind: 'user' as const, userId: updated.requester_id }] : [];
    await notify(ctx, tx, updated, opKey, now, recipients, {
      event: 'ticket.recategorised',
      messageKey: 'event.ticket.recategorised',
      params: { key: ticket.key, category: leaf.path.map((n) => n.name[ctx.config.raw.locale]).join(' / '), actor: await actorName(tx, meta.actorId) },
      thread: 'requester',
    });
    if (!moves) await refreshCards(ctx, tx, updated, opKey, now);
    return { kind: 'done', ticket: updated, movedTo: moves ? leaf.department : null };
  });
}
