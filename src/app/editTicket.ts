import { DomainError } from '../domain/errors';
import { updateTicket } from '../storage/repos/tickets';
import type { AppContext, CommandMeta } from './context';
import { DESCRIPTION_MAX, TITLE_MAX } from './createTicket';
import { rerunRules } from './rules';
import type { UseCaseResult } from './runner';
import { audit, refreshCards } from './support';
import { ticketCommand, type TicketOutcome } from './ticketCommand';

export interface EditTicketCommand {
  meta: CommandMeta;
  ticket: string;
  title?: string | undefined;
  description?: string | undefined;
}

/** The requester or a member corrects the title or description; rules run again on the new text (issue 17). */
export function editTicket(ctx: AppContext, cmd: EditTicketCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'editTicket', cmd.ticket, 'edit', async ({ tx, now, ticket, meta, opKey }) => {
    const title = cmd.title === undefined ? ticket.title : cmd.title.trim();
    const description = cmd.description ?? ticket.description;
    if (title === '') throw new DomainError('ticket.missing_fields', { fields: 'title' });
    if (title.length > TITLE_MAX) throw new DomainError('ticket.invalid_input', { field: 'title', problem: `at most ${TITLE_MAX} characters` });
    if (description.length > DESCRIPTION_MAX) throw new DomainError('ticket.invalid_input', { field: 'description', problem: `at most ${DESCRIPTION_MAX} characters` });
    if (title === ticket.title && description === ticket.description) return { ticket };
    let updated = await updateTicket(tx, ticket, { title, description, updated_at: now });
    await audit(ctx, tx, meta, ticket.id, now, { action: 'text_edited', data: { title: title !== ticket.title, description: description !== ticket.description } });
    updated = await rerunRules(ctx, tx, meta, updated, now, 'text');
    await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}
