import type { CategoryLeaf } from '../config/model';
import { evaluateRules, ruleSource, type RuleOutcome } from '../domain/rules';
import type { Platform, Priority } from '../domain/types';
import type { Tx } from '../storage/database';
import { findUser } from '../storage/repos/users';
import type { AppContext, CommandMeta } from './context';
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
  const user = await findUser(tx, p.actorId);
  const requester: Record<string, string> = { id: p.actorId };
  if (user?.email) requester.email = user.email;
  if (user?.platform) requester.platform = user.platform;
  if (user?.locale) requester.locale = user.locale;
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
