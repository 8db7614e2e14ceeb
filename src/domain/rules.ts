import type { Config } from '../config/model';
import type { RuleConfig } from '../config/schema';
import { categoryAncestry, ruleInForce } from './policy';
import { isChatPlatform, type ChatPlatform } from './platforms';
import { ROUTING_STRATEGIES, type Platform, type Priority, type RoutingStrategy } from './types';

/**
 * Automation rules [S4.2]: `rules:` in the config, tried in order against a new ticket. A rule
 * whose every stated condition holds sets the fields of its `then`; the first rule to set a field
 * wins it (a later match does not overwrite). Later rules see what earlier ones set, so
 * "outage → urgent" followed by "urgent IT → on call" chains. Pure: the live core
 * (app/createTicket.ts) and `simulate` call this same function.
 */

export type RuleSource = ChatPlatform | 'api';

export interface RuleFacts {
  title: string;
  description: string;
  categoryId: string;
  priority: Priority;
  /** The department the category routes to. */
  departmentId: string;
  /** Requester attributes (id, email, platform, locale… whatever the caller knows). */
  requester: Record<string, string>;
  source: RuleSource;
}

export type RuleAssign = { kind: 'strategy'; strategy: RoutingStrategy } | { kind: 'user'; ref: string };

export type RuleField = 'priority' | 'assign' | 'department' | 'sensitive' | 'add_watchers';

export interface RuleApplication {
  ruleId: string;
  field: RuleField;
  /** The value set, as text (a priority, a strategy or user ref, a department id, true/false). */
  value: string;
}

export interface RuleOutcome {
  priority: Priority;
  departmentId: string;
  sensitive?: boolean;
  assign?: RuleAssign;
  /** Watchers (user references) every matching rule adds: unlike the other fields they add up. */
  watchers?: string[];
  /** One entry per field a rule set, in rule order. */
  applied: RuleApplication[];
}

/** A platform a ticket came from, as rules name it: everything that is not a chat platform is `api`. */
export function ruleSource(platform: Platform | string): RuleSource {
  // Rules name the ticket's origin as data (config `when.source`); this is not a capability check.
  return isChatPlatform(platform) ? platform : 'api';
}

export function evaluateRules(config: Config, facts: RuleFacts): RuleOutcome {
  const out: RuleOutcome = { priority: facts.priority, departmentId: facts.departmentId, applied: [] };
  const set = new Set<RuleField>();
  const text = `${facts.title}\n${facts.description}`;
  for (const rule of config.raw.rules) {
    if (!ruleMatches(config, rule, { ...facts, priority: out.priority, departmentId: out.departmentId }, text)) continue;
    const t = rule.then;
    const apply = (field: RuleField, value: string, write: () => void) => {
      if (set.has(field)) return;
      set.add(field);
      write();
      out.applied.push({ ruleId: rule.id, field, value });
    };
    if (t.priority !== undefined) apply('priority', t.priority, () => (out.priority = t.priority!));
    if (t.department !== undefined) apply('department', t.department, () => (out.departmentId = t.department!));
    if (t.sensitive !== undefined) apply('sensitive', String(t.sensitive), () => (out.sensitive = t.sensitive!));
    if (t.assign !== undefined) apply('assign', t.assign, () => (out.assign = parseAssign(t.assign!)));
    if (t.add_watchers !== undefined) {
      const fresh = asList(t.add_watchers).filter((w) => !(out.watchers ?? []).includes(w));
      if (fresh.length) {
        out.watchers = [...(out.watchers ?? []), ...fresh];
        out.applied.push({ ruleId: rule.id, field: 'add_watchers', value: fresh.join(',') });
      }
    }
  }
  return out;
}

export function parseAssign(text: string): RuleAssign {
  return (ROUTING_STRATEGIES as readonly string[]).includes(text) ? { kind: 'strategy', strategy: text as RoutingStrategy } : { kind: 'user', ref: text };
}

const regexCache = new WeakMap<RuleConfig, RegExp>();

function ruleMatches(config: Config, rule: RuleConfig, f: RuleFacts, text: string): boolean {
  const w = rule.when;
  if (w.text !== undefined) {
    let re = regexCache.get(rule);
    if (!re) {
      re = new RegExp(w.text, 'iu');
      regexCache.set(rule, re);
    }
    if (!re.test(text)) return false;
  }
  if (w.priority !== undefined && !asList(w.priority).includes(f.priority)) return false;
  if (w.department !== undefined && !asList(w.department).includes(f.departmentId)) return false;
  if (w.source !== undefined && !asList(w.source).includes(f.source)) return false;
  if (w.category !== undefined) {
    const chain = categoryAncestry(config, f.categoryId);
    if (!asList(w.category).some((c) => chain.includes(c))) return false;
  }
  if (w.requester !== undefined) {
    for (const [attribute, wanted] of Object.entries(w.requester)) {
      const actual = f.requester[attribute];
      if (actual === undefined || !asList(wanted).includes(actual)) return false;
    }
  }
  return true;
}

/**
 * How a new ticket is routed: a rule's `assign` wins, else the routing in force for the department
 * (its own strategy or a pilot's). `origin` says which, for the audit trail and `simulate`.
 */
export type RoutingPlan =
  | { kind: 'user'; ref: string; origin: string }
  | { kind: 'strategy'; strategy: RoutingStrategy; capacity?: number; onCall?: string[]; origin: string };

export function routingPlan(config: Config, departmentId: string, outcome?: Pick<RuleOutcome, 'assign' | 'applied'>): RoutingPlan {
  const inForce = ruleInForce(config, departmentId).routing;
  const base = { ...(inForce.capacity !== undefined ? { capacity: inForce.capacity } : {}), ...(inForce.onCall ? { onCall: inForce.onCall } : {}) };
  const byRule = outcome?.applied.find((a) => a.field === 'assign');
  if (outcome?.assign && byRule) {
    const origin = `rule ${byRule.ruleId}`;
    return outcome.assign.kind === 'user' ? { kind: 'user', ref: outcome.assign.ref, origin } : { kind: 'strategy', strategy: outcome.assign.strategy, ...base, origin };
  }
  return { kind: 'strategy', strategy: inForce.strategy, ...base, origin: inForce.rolloutId ? `rollout ${inForce.rolloutId}` : 'department' };
}

function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}
