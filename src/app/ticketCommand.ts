import { checkAllowed, type Action, type Role } from '../domain/ticket';
import type { TicketState } from '../domain/types';
import type { Tx } from '../storage/database';
import type { TicketRow } from '../storage/tables';
import type { AppContext, CommandMeta } from './context';
import { runUseCase, type UseCaseResult } from './runner';
import { loadTicket, opKeyOf, rolesFor } from './support';

/** What a ticket command's body gets: the ticket as read, the actor's roles, and scoped keys. */
export interface TicketCommandScope {
  tx: Tx;
  now: string;
  ticket: TicketRow;
  roles: Set<Role>;
  opKey: string;
  meta: CommandMeta;
}

/** Loads the ticket, checks that the actor may do `action` from its state, then runs `body` in the same transaction. */
export async function inTicketCommand<T>(
  ctx: AppContext,
  tx: Tx,
  now: string,
  meta: CommandMeta,
  ticketRef: string,
  action: Action,
  body: (scope: TicketCommandScope) => Promise<T>,
): Promise<T> {
  const ticket = await loadTicket(tx, ticketRef);
  const roles = await rolesFor(ctx, tx, meta.actorId, ticket);
  checkAllowed(action, ticket.state as TicketState, roles, ticket.key);
  return body({ tx, now, ticket, roles, opKey: opKeyOf(ctx, meta), meta });
}

/** A ticket command as its own transaction, idempotent on meta.eventKey. */
export function ticketCommand<T>(
  ctx: AppContext,
  meta: CommandMeta,
  name: string,
  ticketRef: string,
  action: Action,
  body: (scope: TicketCommandScope) => Promise<T>,
): Promise<UseCaseResult<T>> {
  return runUseCase(ctx, meta, name, (tx, now) => inTicketCommand(ctx, tx, now, meta, ticketRef, action, body));
}

export interface TicketOutcome {
  ticket: TicketRow;
}
