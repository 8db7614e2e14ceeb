import { DomainError } from '../domain/errors';
import { PRIORITIES, type Locale, type Platform, type Priority } from '../domain/types';
import { insertFields, insertLeg, insertTicket, nextKeyNumber } from '../storage/repos/tickets';
import { insertMessage } from '../storage/repos/journal';
import { findUser } from '../storage/repos/users';
import type { TicketRow } from '../storage/tables';
import type { AppContext, Attachment, CommandMeta } from './context';
import { fileRefsOf } from './files';
import { runUseCase, type UseCaseResult } from './runner';
import { routeTicket } from './routing';
import { addRuleWatchers, auditRuleApplications, rulesForNewTicket } from './rules';
import { routingPlan } from '../domain/rules';
import { startTicketClocks } from './clocks';
import { audit, department, notify, opKeyOf } from './support';
import { attachDeflection, type TicketDeflection } from './deflection';

export interface TicketSource {
  platform: Platform;
  workspace?: string | undefined;
  channel?: string | undefined;
  messageId?: string | undefined;
  threadId?: string | undefined;
  permalink?: string | undefined;
  authorId?: string | undefined;
}

export interface CreateTicketCommand {
  meta: CommandMeta;
  categoryId: string;
  priority?: Priority | undefined;
  title: string;
  description: string;
  fields?: Record<string, string> | undefined;
  attachments?: Attachment[] | undefined;
  source?: TicketSource | undefined;
  locale?: Locale | undefined;
  /** "Still need help" after articles were offered (issue 18): the offer is attached to the ticket. */
  deflection?: TicketDeflection | undefined;
}

export const TITLE_MAX = 150;
export const DESCRIPTION_MAX = 10_000;

/** Raises a ticket: checks the category and its required fields, routes it, starts its clocks. */
export function createTicket(ctx: AppContext, cmd: CreateTicketCommand): Promise<UseCaseResult<{ ticket: TicketRow }>> {
  return runUseCase(ctx, cmd.meta, 'createTicket', async (tx, now) => {
    const leaf = ctx.config.leaves.get(cmd.categoryId);
    if (!leaf) throw new DomainError('ticket.unknown_category', { category: cmd.categoryId });
    const title = cmd.title.trim();
    if (title === '') throw new DomainError('ticket.missing_fields', { fields: 'title' });
    if (title.length > TITLE_MAX) throw new DomainError('ticket.invalid_input', { field: 'title', problem: `at most ${TITLE_MAX} characters` });
    if (cmd.description.length > DESCRIPTION_MAX) throw new DomainError('ticket.invalid_input', { field: 'description', problem: `at most ${DESCRIPTION_MAX} characters` });
    const asked = cmd.priority ?? ctx.config.raw.intake.default_priority;
    if (!PRIORITIES.includes(asked)) throw new DomainError('ticket.invalid_input', { field: 'priority', problem: asked });
    const fields = cleanFields(cmd.fields ?? {});
    const missing = leaf.required.filter((f) => !fields[f]);
    if (missing.length) throw new DomainError('ticket.missing_fields', { fields: missing.join(',') });
    for (const def of ctx.config.raw.fields) {
      const v = fields[def.id];
      if (v !== undefined && def.type === 'number' && !Number.isFinite(Number(v)))
        throw new DomainError('ticket.invalid_input', { field: def.id, problem: 'not a number' });
      if (v !== undefined && def.type === 'select' && def.options && !def.options.some((o) => o.id === v))
        throw new DomainError('ticket.invalid_input', { field: def.id, problem: `unknown option ${v}` });
    }

    // Automation rules (config `rules:`): priority, department, sensitivity and assignment they set.
    const ruled = await rulesForNewTicket(ctx, tx, { actorId: cmd.meta.actorId, title, description: cmd.description, leaf, priority: asked, platform: cmd.source?.platform ?? cmd.meta.platform });
    const priority = ruled.priority;
    const dept = department(ctx, ruled.departmentId);
    const requester = await findUser(tx, cmd.meta.actorId);
    const locale: Locale = cmd.locale ?? (requester?.locale === 'en' || requester?.locale === 'zh-CN' ? requester.locale : ctx.config.raw.locale);
    const id = ctx.newId();
    const legId = ctx.newId();
    const key = `${dept.keyPrefix}-${await nextKeyNumber(tx, dept.keyPrefix)}`;
    const route = await routeTicket(ctx, tx, dept, now, routingPlan(ctx.config, dept.id, ruled));
    let ticket: TicketRow = {
      id,
      key,
      department_id: dept.id,
      home_department_id: dept.id,
      category_id: leaf.id,
      priority,
      title,
      description: cmd.description,
      state: route.userId ? 'assigned' : 'new',
      requester_id: cmd.meta.actorId,
      assignee_id: route.userId,
      sensitive: (ruled.sensitive ?? leaf.sensitive) ? 1 : 0,
      locale,
      source_platform: cmd.source?.platform ?? cmd.meta.platform,
      source_ref: cmd.source ? JSON.stringify(cmd.source) : null,
      current_leg_id: legId,
      public_reply_count: 0,
      reopen_count: 0,
      version: 1,
      created_at: now,
      updated_at: now,
      first_response_at: null,
      resolved_at: null,
      closed_at: null,
    };
    await insertTicket(tx, ticket);
    await insertFields(tx, Object.entries(fields).map(([field_id, value]) => ({ ticket_id: id, field_id, value })));
    await insertLeg(tx, {
      id: legId,
      ticket_id: id,
      seq: 1,
      department_id: dept.id,
      from_department_id: null,
      state: 'accepted',
      assignee_id: route.userId,
      reason: null,
      note: null,
      return_reason: null,
      opened_by: cmd.meta.actorId,
      opened_at: now,
      accepted_at: now,
      closed_at: null,
    });
    if (cmd.attachments?.length) {
      await insertMessage(tx, {
        id: ctx.newId(),
        ticket_id: id,
        visibility: 'public',
        author_role: 'requester',
        author_id: cmd.meta.actorId,
        body: '',
        attachments: JSON.stringify(cmd.attachments),
        origin_platform: cmd.meta.platform,
        origin_ref: cmd.meta.messageRef ?? null,
        created_at: now,
      });
    }
    if (cmd.deflection) await attachDeflection(ctx, tx, ticket, cmd.deflection, now);
    await startTicketClocks(ctx, tx, ticket, now);
    await audit(ctx, tx, cmd.meta, id, now, { action: 'created', to: 'new', data: { category: leaf.id, priority, department: dept.id } });
    await auditRuleApplications(ctx, tx, cmd.meta, id, now, ruled);
    await addRuleWatchers(tx, id, now, ruled);
    if (route.userId) await audit(ctx, tx, { ...cmd.meta, actorId: 'system' }, id, now, { action: 'assigned', from: 'new', to: 'assigned', reason: route.reason, data: { assignee: route.userId } });

    const opKey = opKeyOf(ctx, cmd.meta);
    await notify(ctx, tx, ticket, opKey, now, [{ kind: 'user', userId: cmd.meta.actorId }], {
      event: 'ticket.created', messageKey: 'event.ticket.created', params: { key, title }, thread: 'requester',
    });
    await notify(ctx, tx, ticket, opKey, now, [{ kind: 'department', departmentId: dept.id }], {
      event: 'card.post', messageKey: 'event.card.refresh', params: { key }, thread: 'none', legId,
      // The requester's files go into the new card's thread (issue 17 item 5).
      files: fileRefsOf(cmd.attachments), filesThread: 'card',
    });
    if (route.userId)
      await notify(ctx, tx, ticket, opKey, now, [{ kind: 'user', userId: route.userId }], {
        event: 'ticket.assigned_to_you', messageKey: 'event.ticket.assigned_to_you', params: { key, title, priority }, thread: 'none',
      });
    return { ticket };
  });
}

function cleanFields(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const value = String(v ?? '').trim();
    if (value !== '') out[k] = value;
  }
  return out;
}
