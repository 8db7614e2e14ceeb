import type { CategoryLeaf } from '../config/model';
import { evaluateRules, ruleSource, type RuleOutcome } from '../domain/rules';
import type { Platform, Priority } from '../domain/types';
import type { DbOrTx, Tx } from '../storage/database';
import { findUser } from '../storage/repos/users';
import type { AppContext, CommandMeta } from './context';
import { listAudit } from '../storage/repos/journal';
import { updateTicket } from '../storage/repos/tickets';
import { addWatchers } from '../storage/repos/workflow';
import type { TicketRow } from '../storage/tables';
import { retargetTicketClocks } from './clocks';
import { audit } from './support';

/**
 * Automation rules at creation [issue 17]: the facts the core knows about a new ticket, run
 * through the pure evaluator (the same one `simulate` calls). The requester's attributes are what
 * the user row holds: id, email, platform, locale.
 */
export async function rulesForNewTicket(
  ctx: AppContext,
  tx: Tx,
  p: { actorId: string; title: string; description: string; leaf: CategoryLeaf; priority: Priority; platform: Platform },
): Promise<RuleOutcome> {
  if (ctx.config.raw.rules.length === 0) return { priority: p.priority, departmentId: p.leaf.department, applied: [] };
  const requester = await requesterFacts(tx, p.actorId);
  return evaluateRules(ctx.config, {
    title: p.title,
    description: p.description,
    categoryId: p.leaf.id,
    priority: p.priority,
    departmentId: p.leaf.department,
    requester,
    source: ruleSource(p.platform),
  });
}

/** One audit event per field a rule set: `rule_applied` with the rule's id, the field and the value. */
export async function auditRuleApplications(ctx: AppContext, tx: Tx, meta: CommandMeta, ticketId: string, now: string, outcome: RuleOutcome): Promise<void> {
  for (const a of outcome.applied) {
    await audit(ctx, tx, { ...meta, actorId: 'system' }, ticketId, now, { action: 'rule_applied', reason: `rule ${a.ruleId}`, data: { rule: a.ruleId, field: a.field, value: a.value } });
  }
}

/**
 * Rules on a draft (a ticket not raised yet, e.g. before deflection offers articles): the same
 * evaluator and facts as at creation, so a rule that would mark the ticket sensitive from its
 * text is known before anything is shown. The requester may not exist as a user yet.
 */
export async function rulesForDraft(
  ctx: Pick<AppContext, 'config'>,
  db: DbOrTx,
  p: { requesterId?: string | undefined; title: string; description: string; leaf: CategoryLeaf; priority?: Priority | undefined; platform: Platform | string },
): Promise<RuleOutcome> {
  const priority = p.priority ?? ctx.config.raw.intake.default_priority;
  if (ctx.config.raw.rules.length === 0) return { priority, departmentId: p.leaf.department, applied: [] };
  return evaluateRules(ctx.config, {
    title: p.title,
    description: p.description,
    categoryId: p.leaf.id,
    priority,
    departmentId: p.leaf.department,
    requester: p.requesterId !== undefined ? await requesterFacts(db, p.requesterId) : {},
    source: ruleSource(p.platform),
  });
}

async function requesterFacts(tx: DbOrTx, userId: string): Promise<Record<string, string>> {
  const user = await findUser(tx, userId);
  const requester: Record<string, string> = { id: userId };
  if (user?.email) requester.email = user.email;
  if (user?.platform) requester.platform = user.platform;
  if (user?.locale) requester.locale = user.locale;
  return requester;
}

/** The watchers rules added to a new ticket (rules' `add_watchers`). */
export async function addRuleWatchers(tx: Tx, ticketId: string, now: string, outcome: RuleOutcome): Promise<void> {
  const rows = outcome.applied
    .filter((a) => a.field === 'add_watchers')
    .flatMap((a) => a.value.split(',').map((ref) => ({ ticket_id: ticketId, user_ref: ref, added_by: `rule ${a.ruleId}`, added_at: now })));
  await addWatchers(tx, rows);
}

/** Audit actions by which a person sets a field: after one, rules leave that field alone. */
const PERSON_SETS: Record<string, readonly string[]> = {
  priority: ['priority_changed', 'escalated_by_person'],
  sensitive: ['marked_sensitive', 'unmarked_sensitive'],
};

/** The fields a person has set on this ticket (by the audit trail): rules never override them. */
export function fieldsSetByPeople(trail: readonly { actor_id: string; action: string; data: string | null }[]): Set<string> {
  const out = new Set<string>();
  for (const e of trail) {
    if (e.actor_id === 'system') continue;
    for (const [field, actions] of Object.entries(PERSON_SETS)) {
      if (!actions.includes(e.action)) continue;
      // A manual escalation sets the priority only when it raised it.
      if (e.action === 'escalated_by_person' && !(e.data && JSON.parse(e.data).raisedTo)) continue;
      out.add(field);
    }
  }
  return out;
}

export type RuleTrigger = 'category' | 'priority' | 'text';

/**
 * Rules again after a change of category, priority or text [issue 17 item 1]. The same evaluator
 * as at creation, on the ticket as it is now; first match per field wins. Applied again: priority
 * (clocks retarget, keeping elapsed time), sensitivity (only ever turned on) and watchers. A field
 * a person set (audit trail) is never changed by a rule. Department and assignment are decided at
 * creation only: moving a ticket in work is a handoff, a person's decision (see decisions.md).
 * Returns the ticket as updated; each application is audited `rule_applied` with the rule id.
 */
export async function rerunRules(ctx: AppContext, tx: Tx, meta: CommandMeta, ticket: TicketRow, now: string, trigger: RuleTrigger): Promise<TicketRow> {
  if (ctx.config.raw.rules.length === 0) return ticket;
  const locked = fieldsSetByPeople(await listAudit(tx, ticket.id));
  const outcome = evaluateRules(ctx.config, {
    title: ticket.title,
    description: ticket.description,
    categoryId: ticket.category_id,
    priority: ticket.priority as Priority,
    departmentId: ticket.department_id,
    requester: await requesterFacts(tx, ticket.requester_id),
    source: ruleSource(ticket.source_platform),
  });
  let current = ticket;
  const applied: RuleOutcome['applied'] = [];
  for (const a of outcome.applied) {
    if (locked.has(a.field)) continue;
    if (a.field === 'priority' && a.value !== current.priority) {
      const before = current.priority;
      current = await updateTicket(tx, current, { priority: a.value, updated_at: now });
      await retargetTicketClocks(ctx, tx, current, now, `rule ${a.ruleId}: priority ${before} → ${a.value}`);
      applied.push(a);
    } else if (a.field === 'sensitive' && a.value === 'true' && current.sensitive !== 1) {
      current = await updateTicket(tx, current, { sensitive: 1, updated_at: now });
      applied.push(a);
    } else if (a.field === 'add_watchers') {
      const fresh = await addWatchers(tx, a.value.split(',').map((ref) => ({ ticket_id: ticket.id, user_ref: ref, added_by: `rule ${a.ruleId}`, added_at: now })));
      if (fresh.length) applied.push({ ...a, value: fresh.map((f) => f.user_ref).join(',') });
    }
  }
  for (const a of applied) {
    await audit(ctx, tx, { ...meta, actorId: 'system' }, ticket.id, now, { action: 'rule_applied', reason: `rule ${a.ruleId}`, data: { rule: a.ruleId, field: a.field, value: a.value, on: trigger } });
  }
  return current;
}
