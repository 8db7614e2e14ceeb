import type { Config, Department } from '../config/model';
import type { CategoryNode, SlaPolicyConfig } from '../config/schema';
import { parseTarget, type Target } from './duration';
import { compileLadder, type LadderLevel } from './escalation';
import type { Priority, RoutingStrategy } from './types';

/**
 * Which SLA applies to a ticket. Policies are tried in config order and the first whose every
 * stated condition holds wins; a ticket no policy matches has no response/resolution targets.
 *
 * Rollout: a `rollout` entry naming an `sla_policy` restricts that policy to the listed
 * departments (a pilot). A policy named by several entries applies to the union of their
 * departments; a policy no entry names applies everywhere. Outside the pilot the policy is
 * skipped and matching continues with the next one.
 */
export interface ResolvedPolicy {
  /** The policy's id, `sla[i]` for a policy without one, or null when none matched. */
  id: string | null;
  calendarId: string;
  /** Targets: business time or working days (`wd`), turned into business ms when a clock starts (see targetMs). */
  firstResponse?: Target;
  nextResponse?: Target;
  resolution?: Target;
  pauseWhenWaiting: boolean;
  /** The policy's own ladder, else the config's default `escalation`. */
  ladder: LadderLevel[];
}

export interface PolicyQuery {
  priority: Priority;
  categoryId: string;
  departmentId: string;
  requester?: Record<string, string>;
}

export function resolvePolicy(config: Config, t: PolicyQuery): ResolvedPolicy {
  const dept = departmentOrThrow(config, t.departmentId);
  const categoryChain = categoryAncestry(config, t.categoryId);
  const skipped = new Set(ruleInForce(config, t.departmentId).sla.skipped);
  for (const [i, policy] of config.raw.sla.entries()) {
    const id = policy.id ?? `sla[${i}]`;
    if (policy.id !== undefined && skipped.has(policy.id)) continue;
    if (!matches(policy, t, categoryChain)) continue;
    const resolved: ResolvedPolicy = {
      id,
      calendarId: policy.calendar ?? dept.calendar,
      pauseWhenWaiting: policy.pause_when_waiting ?? true,
      ladder: compileLadder(policy.escalation ?? config.raw.escalation),
    };
    const first = targetOf(policy.first_response);
    const next = targetOf(policy.next_response);
    const resolution = targetOf(policy.resolution);
    if (first !== undefined) resolved.firstResponse = first;
    if (next !== undefined) resolved.nextResponse = next;
    if (resolution !== undefined) resolved.resolution = resolution;
    return resolved;
  }
  return { id: null, calendarId: dept.calendar, pauseWhenWaiting: true, ladder: compileLadder(config.raw.escalation) };
}

/** OLA limits of a department's legs (accept and resolve a handed-off ticket), in its calendar. */
export function legLimits(config: Config, departmentId: string): { accept?: Target; resolve?: Target; calendarId: string } {
  const dept = departmentOrThrow(config, departmentId);
  const out: { accept?: Target; resolve?: Target; calendarId: string } = { calendarId: dept.calendar };
  const accept = targetOf(dept.handoff?.accept);
  const resolve = targetOf(dept.handoff?.resolve);
  if (accept !== undefined) out.accept = accept;
  if (resolve !== undefined) out.resolve = resolve;
  return out;
}

/** The ladder leg clocks use: the config's default escalation (supervisors are told of late legs). */
export function legLadder(config: Config): LadderLevel[] {
  return compileLadder(config.raw.escalation);
}

/**
 * The rule in force for a department [issue 17 item 2]: the department's own settings, except
 * where a `rollout` entry lists the department (a pilot) — then the pilot's routing strategy,
 * auto-close setting or SLA policy applies there, and every other department keeps its own rule.
 * The first rollout entry naming a setting for the department wins it. The one function the live
 * bot (routing, closing, SLA), `simulate`, `docs` and the pilot comparison in `stats` all use.
 */
export interface RuleInForce {
  routing: { strategy: RoutingStrategy; capacity?: number; onCall?: string[]; rolloutId: string | null };
  autoClose: { enabled: boolean; rolloutId: string | null };
  /** SLA policies restricted to pilots: those whose pilot includes this department, and those skipped here. */
  sla: { piloted: { policyId: string; rolloutId: string }[]; skipped: string[] };
}

export function ruleInForce(config: Config, departmentId: string): RuleInForce {
  const dept = departmentOrThrow(config, departmentId);
  const mine = config.raw.rollout.filter((r) => r.departments.includes(departmentId));
  const routingPilot = mine.find((r) => r.routing !== undefined);
  const closePilot = mine.find((r) => r.auto_close !== undefined);
  const routing: RuleInForce['routing'] = { strategy: routingPilot?.routing ?? dept.routing.strategy, rolloutId: routingPilot?.id ?? null };
  if (dept.routing.capacity !== undefined) routing.capacity = dept.routing.capacity;
  if (dept.routing.on_call !== undefined) routing.onCall = [...dept.routing.on_call];
  const piloted: RuleInForce['sla']['piloted'] = [];
  const skipped = new Set<string>();
  for (const [policyId, depts] of pilotDepartments(config)) {
    if (!depts.has(departmentId)) skipped.add(policyId);
  }
  for (const r of mine) if (r.sla_policy !== undefined && !piloted.some((p) => p.policyId === r.sla_policy)) piloted.push({ policyId: r.sla_policy, rolloutId: r.id });
  return {
    routing,
    autoClose: { enabled: closePilot ? closePilot.auto_close! : config.raw.closing.auto_close, rolloutId: closePilot?.id ?? null },
    sla: { piloted, skipped: [...skipped] },
  };
}

/** The departments where a rollout entry is in force (by `ruleInForce`): its pilot group in `stats`. */
export function rolloutInForceAt(config: Config, rolloutId: string): string[] {
  return [...config.departments.keys()].filter((d) => {
    const r = ruleInForce(config, d);
    return r.routing.rolloutId === rolloutId || r.autoClose.rolloutId === rolloutId || r.sla.piloted.some((p) => p.rolloutId === rolloutId);
  });
}

/** A department's routing, with a `rollout` entry's strategy applied when the department is in its pilot. */
export function effectiveRouting(config: Config, departmentId: string): { strategy: RoutingStrategy; capacity?: number; onCall?: string[] } {
  const { rolloutId: _rollout, ...routing } = ruleInForce(config, departmentId).routing;
  return routing;
}

function matches(policy: SlaPolicyConfig, t: PolicyQuery, categoryChain: readonly string[]): boolean {
  const m = policy.match ?? {};
  if (m.priority !== undefined && !asList(m.priority).includes(t.priority)) return false;
  if (m.department !== undefined && !asList(m.department).includes(t.departmentId)) return false;
  if (m.category !== undefined && !asList(m.category).some((c) => categoryChain.includes(c))) return false;
  if (m.requester !== undefined) {
    for (const [attribute, wanted] of Object.entries(m.requester)) {
      const actual = t.requester?.[attribute];
      if (actual === undefined || !asList(wanted).includes(actual)) return false;
    }
  }
  return true;
}

const ancestryCache = new WeakMap<Config, Map<string, string[]>>();

/** The category id followed by its ancestors' ids (leaf first); just the id if it is unknown. */
export function categoryAncestry(config: Config, categoryId: string): string[] {
  let byId = ancestryCache.get(config);
  if (!byId) {
    byId = new Map();
    const walk = (nodes: CategoryNode[], ancestors: string[]) => {
      for (const node of nodes) {
        const chain = [node.id, ...ancestors];
        byId!.set(node.id, chain);
        if (node.children) walk(node.children, chain);
      }
    };
    walk(config.raw.categories, []);
    ancestryCache.set(config, byId);
  }
  return byId.get(categoryId) ?? [categoryId];
}

function pilotDepartments(config: Config): Map<string, Set<string>> {
  const pilots = new Map<string, Set<string>>();
  for (const r of config.raw.rollout) {
    if (r.sla_policy === undefined) continue;
    const set = pilots.get(r.sla_policy) ?? new Set<string>();
    for (const d of r.departments) set.add(d);
    pilots.set(r.sla_policy, set);
  }
  return pilots;
}

function departmentOrThrow(config: Config, id: string): Department {
  const dept = config.departments.get(id);
  if (!dept) throw new Error(`unknown department "${id}"`);
  return dept;
}

function targetOf(text: string | undefined): Target | undefined {
  if (text === undefined) return undefined;
  const target = parseTarget(text);
  if (target === undefined) throw new Error(`"${text}" is not a duration`);
  return target;
}

function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}
