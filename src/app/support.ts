import type { Department } from '../config/model';
import { DomainError } from '../domain/errors';
import { departmentChannels, isChatPlatform } from '../domain/platforms';
import type { Role } from '../domain/ticket';
import { TICKET_STATES, type Locale, type TicketState } from '../domain/types';
import type { MessageKey } from '../chat/i18n';
import type { Tx } from '../storage/database';
import type { TicketRow, UserRow } from '../storage/tables';
import { findTicket } from '../storage/repos/tickets';
import { findUser, findUsers, isDepartmentMember } from '../storage/repos/users';
import { insertAudit, insertOutbox, pendingOutboxRow } from '../storage/repos/journal';
import { listWatchers } from '../storage/repos/workflow';
import { SYSTEM_ACTOR, type AppContext, type CommandMeta } from './context';
import { encodeOutboxPayload, FILE_EVENT } from './outbox';
import type { FileRef } from './files';
import { queueStateWebhook } from './webhooks';

export async function loadTicket(tx: Tx, keyOrId: string): Promise<TicketRow> {
  const ticket = await findTicket(tx, keyOrId);
  if (!ticket) throw new DomainError('ticket.not_found', { key: keyOrId });
  return ticket;
}

export function department(ctx: AppContext, id: string): Department {
  const d = ctx.config.departments.get(id);
  if (!d) throw new DomainError('ticket.unknown_department', { department: id });
  return d;
}

/** Does a config reference (`slack:U0BOSS`, `feishu:ou_x`, `email:a@b`) name this user? */
export function refMatches(ref: string, user: Pick<UserRow, 'platform' | 'platform_user_id' | 'email'> | undefined): boolean {
  if (!user) return false;
  const colon = ref.indexOf(':');
  const kind = ref.slice(0, colon);
  const id = ref.slice(colon + 1);
  if (kind === 'email') return user.email !== null && user.email.toLowerCase() === id.toLowerCase();
  return kind === user.platform && id === user.platform_user_id;
}

/** Members of a department: the config's explicit list, or those synced from its channel. */
export async function isMemberOf(ctx: AppContext, tx: Tx, departmentId: string, user: UserRow | undefined): Promise<boolean> {
  if (!user) return false;
  const dept = ctx.config.departments.get(departmentId);
  if (!dept) return false;
  if (Array.isArray(dept.members)) return dept.members.some((ref) => refMatches(ref, user));
  return isDepartmentMember(tx, departmentId, user.id);
}

export function isSupervisorOf(ctx: AppContext, departmentId: string, user: UserRow | undefined): boolean {
  const dept = ctx.config.departments.get(departmentId);
  return !!dept && dept.supervisors.some((ref) => refMatches(ref, user));
}

export function isAdmin(ctx: AppContext, user: UserRow | undefined): boolean {
  return ctx.config.raw.admins.some((ref) => refMatches(ref, user));
}

/** Every role `actorId` holds on this ticket (staff roles refer to the department that holds it now). */
export async function rolesFor(ctx: AppContext, tx: Tx, actorId: string, ticket: TicketRow): Promise<Set<Role>> {
  const roles = new Set<Role>();
  if (actorId === SYSTEM_ACTOR) return new Set(['system']);
  const user = await findUser(tx, actorId);
  if (ticket.requester_id === actorId) roles.add('requester');
  if (ticket.assignee_id === actorId) roles.add('assignee');
  if (await isMemberOf(ctx, tx, ticket.department_id, user)) roles.add('member');
  if (isSupervisorOf(ctx, ticket.department_id, user)) roles.add('supervisor');
  if (isAdmin(ctx, user)) roles.add('admin');
  return roles;
}

export async function actorName(tx: Tx, actorId: string): Promise<string> {
  if (actorId === SYSTEM_ACTOR) return 'ticketbot';
  const user = await findUser(tx, actorId);
  return user?.name ?? user?.platform_user_id ?? actorId;
}

export interface AuditInput {
  action: string;
  from?: TicketState | string | null;
  to?: TicketState | string | null;
  reason?: string | null;
  data?: Record<string, unknown>;
}

export async function audit(ctx: AppContext, tx: Tx, meta: CommandMeta, ticketId: string, now: string, input: AuditInput): Promise<void> {
  const id = ctx.newId();
  await insertAudit(tx, {
    id,
    ticket_id: ticketId,
    at: now,
    actor_id: meta.actorId,
    action: input.action,
    from_state: input.from ?? null,
    to_state: input.to ?? null,
    reason: input.reason ?? null,
    data: input.data ? JSON.stringify(input.data) : null,
    event_key: meta.eventKey ?? null,
    message_ref: meta.messageRef ?? null,
  });
  // Outgoing webhooks (issue 18): one outbox row per state change of an integration's ticket.
  if (input.to && input.to !== input.from) await queueStateWebhook(ctx, tx, { auditId: id, ticketId, action: input.action, from: input.from ?? null, to: input.to, now });
  // A status change tells the ticket's watchers (rules' add_watchers, issue 17).
  if (input.to && input.from !== input.to && (TICKET_STATES as readonly string[]).includes(input.to)) await notifyWatchers(ctx, tx, meta, ticketId, now, input.from ?? null, input.to);
}

/**
 * Tells every watcher of a ticket (table ticket_watchers) that its status changed, by DM through
 * the outbox. `email:` references reach the chat users with that address; the actor is not told
 * of their own change.
 */
export async function notifyWatchers(ctx: AppContext, tx: Tx, meta: CommandMeta, ticketId: string, now: string, from: string | null, to: string): Promise<void> {
  const watchers = await listWatchers(tx, ticketId);
  if (watchers.length === 0) return;
  const ticket = await findTicket(tx, ticketId);
  if (!ticket) return;
  const recipients: Recipient[] = [];
  for (const w of watchers) {
    if (w.user_ref.startsWith('email:')) {
      const users = await tx.selectFrom('users').select('id').where('email', '=', w.user_ref.slice('email:'.length)).where('is_bot', '=', 0).execute();
      for (const u of users) if (u.id !== meta.actorId) recipients.push({ kind: 'user', userId: u.id });
    } else {
      const actor = meta.actorId === SYSTEM_ACTOR ? undefined : await findUser(tx, meta.actorId);
      if (!refMatches(w.user_ref, actor)) recipients.push({ kind: 'ref', ref: w.user_ref });
    }
  }
  if (recipients.length === 0) return;
  await notify(ctx, tx, ticket, opKeyOf(ctx, meta), now, recipients, {
    event: 'ticket.watch_status',
    messageKey: 'event.ticket.watch_status',
    params: { key: ticket.key, title: ticket.title, from: from ?? '', state: to, actor: await actorName(tx, meta.actorId) },
    thread: 'none',
    scope: `${to}:${now}`,
  });
}

/** Whom a notification goes to. */
export type Recipient =
  | { kind: 'user'; userId: string }
  | { kind: 'ref'; ref: string }
  | { kind: 'department'; departmentId: string };

export interface Notification {
  event: string;
  messageKey: MessageKey;
  params: Record<string, string | number>;
  /** Where on the platform: the requester's DM thread, the ticket card's thread, or a plain message. */
  thread: 'requester' | 'card' | 'none';
  actions?: string[];
  legId?: string;
  urgent?: boolean;
  urgentVia?: string[];
  /** Extra idempotency scope, e.g. an escalation firing key. */
  scope?: string;
  /** Quiet hours: direct messages are held until this instant (channel posts are not). */
  deferDmUntil?: string;
  /**
   * Files to copy after the text, one outbox row each (event `ticket.file`, same order key, so
   * they follow it), never to the conversation the file was posted in. `filesThread`: where they
   * go when not where the text goes (the new card's thread after `card.post`).
   */
  files?: FileRef[];
  filesThread?: 'requester' | 'card';
}

/**
 * Writes one outbox row per platform target. A person holding several roles gets one message per
 * event; the idempotency key makes a replay of the same command write nothing new.
 */
export async function notify(
  ctx: AppContext,
  tx: Tx,
  ticket: Pick<TicketRow, 'id' | 'version'> | null,
  opKey: string,
  now: string,
  recipients: Recipient[],
  n: Notification,
): Promise<void> {
  const userIds = recipients.flatMap((r) => (r.kind === 'user' && r.userId !== SYSTEM_ACTOR ? [r.userId] : []));
  const users = await findUsers(tx, userIds);
  const targets = new Map<string, { platform: string; kind: 'user' | 'channel'; id: string; locale: Locale }>();
  const add = (platform: string, kind: 'user' | 'channel', id: string, locale: Locale) => {
    const k = `${platform}:${kind}:${id}`;
    if (!targets.has(k)) targets.set(k, { platform, kind, id, locale });
  };
  const fallback = ctx.config.raw.locale;
  for (const r of recipients) {
    if (r.kind === 'user') {
      const u = users.get(r.userId);
      if (u && u.is_bot === 0 && isChatPlatform(u.platform)) add(u.platform, 'user', u.platform_user_id, asLocale(u.locale, fallback));
    } else if (r.kind === 'ref') {
      const colon = r.ref.indexOf(':');
      const platform = r.ref.slice(0, colon);
      if (isChatPlatform(platform)) {
        const id = r.ref.slice(colon + 1);
        const known = await tx.selectFrom('users').select('locale').where('platform', '=', platform).where('platform_user_id', '=', id).executeTakeFirst();
        add(platform, 'user', id, asLocale(known?.locale ?? null, fallback));
      }
    } else {
      const d = ctx.config.departments.get(r.departmentId);
      for (const channel of d ? departmentChannels(d) : []) add(channel.platform, 'channel', channel.id, fallback);
    }
  }
  const rows = [...targets.values()].flatMap((tg) => [
    pendingOutboxRow(
      {
        id: ctx.newId(),
        idempotency_key: `${opKey}:${n.event}:${n.scope ?? ''}:${tg.platform}:${tg.kind}:${tg.id}`,
        ticket_id: ticket?.id ?? null,
        ticket_version: ticket?.version ?? null,
        platform: tg.platform,
        target_kind: tg.kind,
        target_id: tg.id,
        event: n.event,
        payload: encodeOutboxPayload({
          messageKey: n.messageKey,
          params: n.params,
          thread: n.thread,
          ...(n.actions ? { actions: n.actions } : {}),
          ...(n.legId ? { legId: n.legId } : {}),
          ...(n.urgentVia ? { urgentVia: n.urgentVia as ('app' | 'sms' | 'phone')[] } : {}),
        }),
        locale: tg.locale,
        urgent: n.urgent ? 1 : 0,
        order_key: `${ticket?.id ?? 'none'}:${tg.platform}:${tg.id}`,
        next_attempt_at: tg.kind === 'user' && n.deferDmUntil && n.deferDmUntil > now ? n.deferDmUntil : now,
      },
      now,
    ),
    ...(n.files ?? [])
      .map((file, i) => ({ file, i }))
      .filter(({ file }) => !(file.platform === tg.platform && file.channel !== undefined && file.channel === tg.id))
      .map(({ file, i }) =>
        pendingOutboxRow(
          {
            id: ctx.newId(),
            idempotency_key: `${opKey}:${n.event}:${n.scope ?? ''}:file${i}:${tg.platform}:${tg.kind}:${tg.id}`,
            ticket_id: ticket?.id ?? null,
            ticket_version: ticket?.version ?? null,
            platform: tg.platform,
            target_kind: tg.kind,
            target_id: tg.id,
            event: FILE_EVENT,
            payload: encodeOutboxPayload({
              messageKey: 'event.ticket.file_not_copied',
              params: { key: String(n.params.key ?? ''), name: file.name, link: file.url ? ` — ${file.url}` : '' },
              thread: n.filesThread ?? n.thread,
              file,
            }),
            locale: tg.locale,
            urgent: 0,
            // The text's order key: the file follows its message.
            order_key: `${ticket?.id ?? 'none'}:${tg.platform}:${tg.id}`,
            next_attempt_at: tg.kind === 'user' && n.deferDmUntil && n.deferDmUntil > now ? n.deferDmUntil : now,
          },
          now,
        ),
      ),
  ]);
  await insertOutbox(tx, rows);
}

function asLocale(raw: string | null, fallback: Locale): Locale {
  return raw === 'en' || raw === 'zh-CN' ? raw : fallback;
}

/** The key that scopes this command's side effects: its inbound event, or a fresh id. */
export function opKeyOf(ctx: AppContext, meta: CommandMeta): string {
  return meta.eventKey ?? `op:${ctx.newId()}`;
}

/** Departments whose channels show a card of this ticket (every department it has been in). */
export async function cardDepartments(tx: Tx, ticketId: string): Promise<string[]> {
  const rows = await tx.selectFrom('legs').select('department_id').where('ticket_id', '=', ticketId).distinct().execute();
  return rows.map((r) => r.department_id);
}

/** Tells every channel holding a card of the ticket to re-render it at this version. */
export async function refreshCards(ctx: AppContext, tx: Tx, ticket: TicketRow, opKey: string, now: string): Promise<void> {
  const depts = await cardDepartments(tx, ticket.id);
  await notify(
    ctx,
    tx,
    ticket,
    opKey,
    now,
    depts.map((departmentId) => ({ kind: 'department', departmentId }) as const),
    { event: 'card.refresh', messageKey: 'event.card.refresh', params: { key: ticket.key }, thread: 'none', scope: `v${ticket.version}` },
  );
}
