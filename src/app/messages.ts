import { DomainError } from '../domain/errors';
import type { TicketState } from '../domain/types';
import { insertMessage } from '../storage/repos/journal';
import { updateTicket } from '../storage/repos/tickets';
import type { TicketRow } from '../storage/tables';
import type { AppContext, Attachment, CommandMeta } from './context';
import { onAgentPublicReply, onRequesterMessage, pauseForRequester, resumeFromRequester } from './clocks';
import type { UseCaseResult } from './runner';
import { fileRefsOf } from './files';
import { actorName, audit, notify, refreshCards } from './support';
import { ticketCommand, type TicketCommandScope, type TicketOutcome } from './ticketCommand';

export const MESSAGE_MAX = 4_000;

function checkBody(body: string, attachments: Attachment[] | undefined): string {
  const text = body.trim();
  if (text === '' && !attachments?.length) throw new DomainError('ticket.missing_fields', { fields: 'text' });
  if (text.length > MESSAGE_MAX) throw new DomainError('ticket.invalid_input', { field: 'text', problem: `at most ${MESSAGE_MAX} characters` });
  return text;
}

/**
 * The text a notice carries for a message with files (issue 17 item 5, first step): each file's
 * name and link on its own line, so files reach the other side of the ticket as links. Only the
 * public paths call this (requester ↔ department); internal notes are never sent to the requester.
 */
export function withFileLines(body: string, attachments: Attachment[] | undefined): string {
  const lines = (attachments ?? []).slice(0, 10).map((a) => `📎 ${a.name}${a.url ? ` — ${a.url}` : ''}`);
  return [body, ...lines].filter((l) => l !== '').join('\n');
}

async function storeMessage(ctx: AppContext, scope: TicketCommandScope, visibility: 'public' | 'internal', role: 'agent' | 'requester', body: string, attachments?: Attachment[]): Promise<void> {
  await insertMessage(scope.tx, {
    id: ctx.newId(),
    ticket_id: scope.ticket.id,
    visibility,
    author_role: role,
    author_id: scope.meta.actorId,
    body,
    attachments: JSON.stringify(attachments ?? []),
    origin_platform: scope.meta.platform,
    origin_ref: scope.meta.messageRef ?? null,
    created_at: scope.now,
  });
}

export interface AddNoteCommand {
  meta: CommandMeta;
  ticket: string;
  body: string;
  attachments?: Attachment[] | undefined;
}

/** An internal note: stays in the department's thread, never reaches the requester. */
export function addNote(ctx: AppContext, cmd: AddNoteCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'addNote', cmd.ticket, 'note', async (scope) => {
    const body = checkBody(cmd.body, cmd.attachments);
    await storeMessage(ctx, scope, 'internal', 'agent', body, cmd.attachments);
    await audit(ctx, scope.tx, scope.meta, scope.ticket.id, scope.now, { action: 'note', data: { attachments: cmd.attachments?.length ?? 0 } });
    return { ticket: scope.ticket };
  });
}

export interface ReplyCommand {
  meta: CommandMeta;
  ticket: string;
  body: string;
  templateId?: string | undefined;
  attachments?: Attachment[] | undefined;
}

/** A public reply to the requester (optionally from a template in the requester's language). */
export function replyToRequester(ctx: AppContext, cmd: ReplyCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'replyToRequester', cmd.ticket, 'reply', (scope) => publicReply(ctx, scope, cmd, 'replied'));
}

/** Asks the requester for information: a public reply that puts the ticket in waiting_on_requester. */
export function requestInfo(ctx: AppContext, cmd: ReplyCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'requestInfo', cmd.ticket, 'request_info', (scope) => publicReply(ctx, scope, cmd, 'info_requested'));
}

async function publicReply(ctx: AppContext, scope: TicketCommandScope, cmd: ReplyCommand, action: 'replied' | 'info_requested'): Promise<TicketOutcome> {
  const { tx, now, ticket, opKey, meta } = scope;
  const template = cmd.templateId ? ctx.config.raw.templates.find((t) => t.id === cmd.templateId) : undefined;
  if (cmd.templateId && !template) throw new DomainError('ticket.invalid_input', { field: 'template', problem: `unknown template ${cmd.templateId}` });
  const requesterLocale = ticket.locale === 'en' ? 'en' : 'zh-CN';
  const body = checkBody(cmd.body.trim() !== '' ? cmd.body : (template?.text[requesterLocale] ?? ''), cmd.attachments);
  await storeMessage(ctx, scope, 'public', 'agent', body, cmd.attachments);
  let state: TicketState = ticket.state as TicketState;
  if (action === 'info_requested') state = 'waiting_on_requester';
  else if (state === 'assigned' || (state === 'new' && ticket.assignee_id)) state = 'in_progress';
  const updated = await updateTicket(tx, ticket, {
    state,
    public_reply_count: ticket.public_reply_count + 1,
    first_response_at: ticket.first_response_at ?? now,
    updated_at: now,
  });
  await onAgentPublicReply(ctx, tx, updated, now);
  if (action === 'info_requested') await pauseForRequester(ctx, tx, updated, now);
  await audit(ctx, tx, meta, ticket.id, now, { action, from: ticket.state, to: state, data: { template: cmd.templateId ?? null } });
  const params = { key: ticket.key, actor: await actorName(tx, meta.actorId), body: withFileLines(body, cmd.attachments) };
  const messageKey = action === 'replied' ? 'event.ticket.reply' : 'event.ticket.info_requested';
  // The files themselves follow the text (issue 17 item 5), to the requester and to the card's
  // thread, never back into the conversation they were posted in.
  const files = fileRefsOf(cmd.attachments);
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'user', userId: ticket.requester_id }], { event: `ticket.${action === 'replied' ? 'reply' : 'info_requested'}`, messageKey, params, thread: 'requester', files });
  await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: ticket.department_id }], { event: 'ticket.reply_mirror', messageKey, params, thread: 'card', files });
  // The card lists the files of public messages: it changes with new ones too.
  if (updated.state !== ticket.state || cmd.attachments?.length) await refreshCards(ctx, tx, updated, opKey, now);
  return { ticket: updated };
}

export interface RequesterReplyCommand {
  meta: CommandMeta;
  ticket: string;
  body: string;
  attachments?: Attachment[] | undefined;
}

/** The requester writes in their thread: mirrored to the department, resumes clocks if we were waiting. */
export function requesterReply(ctx: AppContext, cmd: RequesterReplyCommand): Promise<UseCaseResult<TicketOutcome>> {
  return ticketCommand(ctx, cmd.meta, 'requesterReply', cmd.ticket, 'requester_reply', async (scope) => {
    const { tx, now, ticket, opKey, meta } = scope;
    const body = checkBody(cmd.body, cmd.attachments);
    await storeMessage(ctx, scope, 'public', 'requester', body, cmd.attachments);
    let updated: TicketRow = ticket;
    if (ticket.state === 'waiting_on_requester') {
      const state: TicketState = ticket.assignee_id ? 'in_progress' : 'new';
      updated = await updateTicket(tx, ticket, { state, updated_at: now });
      await resumeFromRequester(ctx, tx, updated, now);
      await audit(ctx, tx, meta, ticket.id, now, { action: 'requester_replied', from: ticket.state, to: state });
    } else {
      updated = await updateTicket(tx, ticket, { updated_at: now });
      await audit(ctx, tx, meta, ticket.id, now, { action: 'requester_replied' });
    }
    await onRequesterMessage(ctx, tx, updated, now);
    await notify(ctx, tx, updated, opKey, now, [{ kind: 'department', departmentId: ticket.department_id }], {
      event: 'ticket.requester_replied', messageKey: 'event.ticket.requester_replied', params: { key: ticket.key, body: withFileLines(body, cmd.attachments) }, thread: 'card',
      files: fileRefsOf(cmd.attachments),
    });
    if (updated.state !== ticket.state || cmd.attachments?.length) await refreshCards(ctx, tx, updated, opKey, now);
    return { ticket: updated };
  });
}
