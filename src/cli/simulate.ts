import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { parse } from 'csv-parse/sync';
import type { Config } from '../config/model';
import { ALWAYS, calendarsFromConfig, targetMs, type BusinessCalendar } from '../domain/calendar';
import type { Target } from '../domain/duration';
import { markBreachIfDue, meetClock, startClock, type ClockState } from '../domain/clock';
import { evaluateLadder, type LadderLevel } from '../domain/escalation';
import { resolvePolicy } from '../domain/policy';
import { evaluateRules, routingPlan, type RuleApplication, type RuleSource } from '../domain/rules';
import { chooseAssignee, type Candidate } from '../domain/routing';
import { PRIORITIES, type ClockKind, type Priority } from '../domain/types';
import { parseInstant } from '../domain/zone';
import { action, configureCommand, EXIT_OK, UsageError } from './common';
import { loadConfigForCli } from './sla';

/**
 * `simulate`: replays a CSV of tickets through routing and SLA so an admin can try a config
 * change before rolling it out. Nothing is stored and no one is notified.
 *
 * CSV columns: created_at, category, priority, requester, and optionally id, first_reply_at,
 * resolved_at, and title, description, source (slack/feishu/api) for automation rules, which are
 * applied by the same function as the live bot. `requester` is an id, or attributes as `key=value;key=value` for policies that
 * match on requester attributes. Times without Z or an offset are local to the department's
 * calendar. Simulated agents are the department's members when config lists them, otherwise
 * `<dept>-agent-1..3`; all are taken as on shift. The CSV has no requester messages, waiting
 * periods or handoffs, so next-response and leg clocks are not simulated and nothing pauses.
 */
export function registerSimulateCommand(program: Command): void {
  configureCommand(
    program
      .command('simulate')
      .description('replay a CSV of tickets through routing and SLA: agents, due times, escalations, on-time rate')
      .requiredOption('--config <file>', 'config file')
      .requiredOption('--tickets <file>', 'CSV: created_at, category, priority, requester[, id, first_reply_at, resolved_at, title, description, source]')
      .option('--format <format>', 'text or json', 'text')
      .option('--until <iso>', 'observe open tickets up to this instant (default: the latest time in the file)'),
  ).action(
    action((opts: { config: string; tickets: string; format: string; until?: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError(`--format: expected text or json, got "${opts.format}"`);
      const config = loadConfigForCli(opts.config);
      if (!existsSync(opts.tickets)) throw new UsageError(`tickets file not found: ${opts.tickets}`);
      const rows = parseTicketsCsv(readFileSync(opts.tickets, 'utf8'), config, opts.tickets);
      let until: number | undefined;
      if (opts.until !== undefined) {
        until = parseInstant(opts.until, 'UTC');
        if (until === undefined) throw new UsageError(`--until: not an ISO-8601 date-time: "${opts.until}"`);
      }
      const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, clearOnComplete: true }, Presets.shades_classic) : undefined;
      bar?.start(rows.length, 0);
      const result = simulateTickets(config, rows, { until, onProgress: (done) => bar?.update(done) });
      bar?.stop();
      console.log(opts.format === 'json' ? JSON.stringify(result, null, 2) : formatSimulation(result).join('\n'));
      return EXIT_OK;
    }),
  );
}

export interface TicketRow {
  /** `id` column, else `#<line>`. */
  label: string;
  line: number;
  createdAt: number;
  categoryId: string;
  departmentId: string;
  priority: Priority;
  requester: Record<string, string>;
  firstReplyAt?: number;
  resolvedAt?: number;
  /** Optional columns for automation rules: title, description, source (slack/feishu/api; default api). */
  title?: string;
  description?: string;
  source?: RuleSource;
}

const REQUIRED_COLUMNS = ['created_at', 'category', 'priority', 'requester'] as const;

/** Parses and checks the tickets CSV; any bad row is a UsageError naming its line. */
export function parseTicketsCsv(text: string, config: Config, file: string): TicketRow[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new UsageError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const [header, ...body] = records;
  if (!header) throw new UsageError(`${file}: empty file (expected a header row: ${REQUIRED_COLUMNS.join(',')})`);
  const column = new Map(header.map((name, i) => [name.toLowerCase(), i]));
  for (const name of REQUIRED_COLUMNS) if (!column.has(name)) throw new UsageError(`${file}: missing column "${name}"`);
  const calendars = calendarsFromConfig(config.raw);
  return body.map((record, i) => {
    const line = i + 2;
    const cell = (name: string) => {
      const idx = column.get(name);
      return idx === undefined ? '' : (record[idx] ?? '');
    };
    const bad = (message: string) => new UsageError(`${file} line ${line}: ${message}`);
    const categoryId = cell('category') || config.raw.intake.default_category || '';
    const leaf = config.leaves.get(categoryId);
    if (!leaf) throw bad(`unknown leaf category "${categoryId}"`);
    const priorityText = cell('priority') || config.raw.intake.default_priority;
    if (!(PRIORITIES as readonly string[]).includes(priorityText)) throw bad(`unknown priority "${priorityText}" (use ${PRIORITIES.join(', ')})`);
    const zone = (calendars.get(config.departments.get(leaf.department)!.calendar) ?? ALWAYS).timezone;
    const time = (name: string, required: boolean): number | undefined => {
      const text = cell(name);
      if (text === '') {
        if (required) throw bad(`${name} is empty`);
        return undefined;
      }
      const ms = parseInstant(text, zone);
      if (ms === undefined) throw bad(`${name}: not an ISO-8601 date-time: "${text}"`);
      return ms;
    };
    const createdAt = time('created_at', true)!;
    const row: TicketRow = {
      label: cell('id') || `#${line}`,
      line,
      createdAt,
      categoryId,
      departmentId: leaf.department,
      priority: priorityText as Priority,
      requester: parseRequester(cell('requester')),
    };
    const firstReplyAt = time('first_reply_at', false);
    const resolvedAt = time('resolved_at', false);
    if (firstReplyAt !== undefined && firstReplyAt < createdAt) throw bad('first_reply_at is before created_at');
    if (resolvedAt !== undefined && resolvedAt < createdAt) throw bad('resolved_at is before created_at');
    const source = cell('source');
    if (source !== '' && source !== 'slack' && source !== 'feishu' && source !== 'api') throw bad(`unknown source "${source}" (use slack, feishu or api)`);
    if (source !== '') row.source = source;
    if (cell('title') !== '') row.title = cell('title');
    if (cell('description') !== '') row.description = cell('description');
    if (firstReplyAt !== undefined) row.firstReplyAt = firstReplyAt;
    if (resolvedAt !== undefined) row.resolvedAt = resolvedAt;
    return row;
  });
}

/** `U123` → { id: 'U123' }; `id=U1;country=CN` → { id: 'U1', country: 'CN' }. */
function parseRequester(text: string): Record<string, string> {
  if (!text.includes('=')) return text === '' ? {} : { id: text };
  const out: Record<string, string> = {};
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

export type ClockOutcome = 'met_on_time' | 'met_late' | 'breached_open' | 'open';

export interface SimulatedClock {
  kind: ClockKind;
  targetMs: number;
  calendarId: string;
  dueAt: string;
  metAt: string | null;
  outcome: ClockOutcome;
  escalations: { level: number; at: string; repeat: number; notify: string[]; urgent: boolean }[];
}

export interface SimulatedTicket {
  label: string;
  createdAt: string;
  categoryId: string;
  priority: Priority;
  departmentId: string;
  assignee: string | null;
  routing: string;
  /** Automation rules that set a field of this ticket (the same evaluator as the live bot). */
  rules: RuleApplication[];
  policyId: string | null;
  clocks: SimulatedClock[];
}

export interface SimulationResult {
  until: string;
  tickets: SimulatedTicket[];
  summary: {
    tickets: number;
    onTime: { met: number; breached: number; rate: number | null };
    onTimeByClock: Partial<Record<ClockKind, { met: number; breached: number; rate: number | null }>>;
    openClocks: number;
    loadPerAgent: { departmentId: string; userId: string; tickets: number }[];
    unassigned: number;
  };
}

/** Escalation replays stop here so an endlessly repeating level over a long horizon stays bounded. */
const MAX_FIRINGS_PER_CLOCK = 200;

export function simulateTickets(config: Config, input: TicketRow[], opts: { until?: number | undefined; onProgress?: (done: number) => void } = {}): SimulationResult {
  const rows = [...input].sort((a, b) => a.createdAt - b.createdAt || a.line - b.line);
  const until = opts.until ?? Math.max(0, ...rows.flatMap((r) => [r.createdAt, r.firstReplyAt ?? 0, r.resolvedAt ?? 0]));
  const calendars = calendarsFromConfig(config.raw);
  const cursors = new Map<string, number>();
  const agents = new Map<string, { departmentId: string; assigned: { resolvedAt?: number }[]; lastAssignedAt: number | null }>();
  const tickets: SimulatedTicket[] = [];

  rows.forEach((row, i) => {
    const now = iso(row.createdAt);
    // Automation rules, then the routing plan: the same two functions the live core calls.
    const ruled = evaluateRules(config, {
      title: row.title ?? '',
      description: row.description ?? '',
      categoryId: row.categoryId,
      priority: row.priority,
      departmentId: row.departmentId,
      requester: row.requester,
      source: row.source ?? 'api',
    });
    const dept = config.departments.get(ruled.departmentId)!;
    const plan = routingPlan(config, dept.id, ruled);
    const routing = plan.kind === 'strategy' ? plan : { strategy: 'claim' as const, onCall: undefined, capacity: undefined };
    const people = simulatedAgents(dept.id, dept.members, routing.onCall);
    for (const userId of people) if (!agents.has(userId)) agents.set(userId, { departmentId: dept.id, assigned: [], lastAssignedAt: null });
    const candidates: Candidate[] = people.map((userId) => {
      const a = agents.get(userId)!;
      return {
        userId,
        openCount: a.assigned.filter((t) => t.resolvedAt === undefined || t.resolvedAt > row.createdAt).length,
        lastAssignedAt: a.lastAssignedAt === null ? null : iso(a.lastAssignedAt),
        available: true,
      };
    });
    const choice = plan.kind === 'user' ? { userId: plan.ref, nextCursor: cursors.get(dept.id) ?? 0, reason: `assigned to ${plan.ref}` } : chooseAssignee({
      strategy: routing.strategy,
      ...(routing.capacity !== undefined ? { capacity: routing.capacity } : {}),
      candidates,
      cursor: cursors.get(dept.id) ?? 0,
      ...(routing.onCall ? { onCall: routing.onCall } : {}),
      now,
      calendarTz: (calendars.get(dept.calendar) ?? ALWAYS).timezone,
    });
    if (plan.origin !== 'department') choice.reason += ` (${plan.origin})`;
    cursors.set(dept.id, choice.nextCursor);
    if (choice.userId !== null) {
      const a = agents.get(choice.userId) ?? { departmentId: dept.id, assigned: [], lastAssignedAt: null };
      a.assigned.push(row.resolvedAt !== undefined ? { resolvedAt: row.resolvedAt } : {});
      a.lastAssignedAt = row.createdAt;
      agents.set(choice.userId, a);
    }

    const policy = resolvePolicy(config, { priority: ruled.priority, categoryId: row.categoryId, departmentId: dept.id, requester: row.requester });
    const calendar = calendars.get(policy.calendarId) ?? ALWAYS;
    const clocks: SimulatedClock[] = [];
    const wanted: [ClockKind, Target | undefined, number | undefined][] = [
      ['first_response', policy.firstResponse, row.firstReplyAt],
      ['resolution', policy.resolution, row.resolvedAt],
    ];
    for (const [kind, target, metAt] of wanted) {
      if (target === undefined) continue;
      clocks.push(simulateClock(`${row.label}:${kind}`, kind, targetMs(calendar, target, row.createdAt), calendar, policy.id, policy.ladder, row.createdAt, metAt, until));
    }
    tickets.push({
      label: row.label,
      createdAt: now,
      categoryId: row.categoryId,
      priority: ruled.priority,
      departmentId: dept.id,
      assignee: choice.userId,
      routing: choice.reason,
      rules: ruled.applied,
      policyId: policy.id,
      clocks,
    });
    opts.onProgress?.(i + 1);
  });

  return { until: iso(until), tickets, summary: summarize(tickets, agents) };
}

function simulateClock(
  clockId: string,
  kind: ClockKind,
  targetMs: number,
  calendar: BusinessCalendar,
  policyId: string | null,
  ladder: LadderLevel[],
  startMs: number,
  metAtMs: number | undefined,
  untilMs: number,
): SimulatedClock {
  const clock = startClock({ kind, targetMs, calendar, policyId, now: iso(startMs) });
  // Replay the ladder up to the moment the clock is met (exclusive: a met clock escalates nothing)
  // or, for an open clock, up to and including the end of the observation.
  const endMs = metAtMs ?? untilMs;
  const fired = new Set<string>();
  const escalations: SimulatedClock['escalations'] = [];
  let t = startMs;
  while (escalations.length < MAX_FIRINGS_PER_CLOCK) {
    const { due, nextAt } = evaluateLadder({ clockId, clock, ladder, calendar, now: iso(t), fired });
    for (const f of due) {
      fired.add(f.key);
      const level = ladder[f.level]!;
      escalations.push({ level: f.level, at: f.dueAt, repeat: f.repeat, notify: level.notify.map((n) => (n.kind === 'user' ? n.ref : n.kind)), urgent: level.urgent });
    }
    if (nextAt === null) break;
    const next = Date.parse(nextAt);
    if (metAtMs !== undefined ? next >= endMs : next > endMs) break;
    t = next;
  }
  const final: ClockState = metAtMs !== undefined ? meetClock(clock, calendar, iso(metAtMs)) : markBreachIfDue(clock, iso(untilMs));
  const outcome: ClockOutcome =
    final.status === 'met' ? (final.breachedAt ? 'met_late' : 'met_on_time') : final.breachedAt ? 'breached_open' : 'open';
  return { kind, targetMs, calendarId: calendar.id, dueAt: clock.dueAt!, metAt: final.metAt, outcome, escalations };
}

/**
 * The department's listed members plus its on-call rotation; a department whose members are
 * "whoever is in the channel" gets its rotation alone, or three generated agents without one.
 */
function simulatedAgents(departmentId: string, members: 'channel' | string[], onCall: string[] | undefined): string[] {
  if (members === 'channel' && onCall?.length) return [...onCall];
  const listed = members === 'channel' ? [1, 2, 3].map((n) => `${departmentId}-agent-${n}`) : [...members];
  for (const person of onCall ?? []) if (!listed.includes(person)) listed.push(person);
  return listed;
}

function summarize(tickets: SimulatedTicket[], agents: Map<string, { departmentId: string; assigned: unknown[] }>): SimulationResult['summary'] {
  const rate = (met: number, breached: number) => ({ met, breached, rate: met + breached === 0 ? null : met / (met + breached) });
  const byKind = new Map<ClockKind, { met: number; breached: number }>();
  let openClocks = 0;
  for (const c of tickets.flatMap((t) => t.clocks)) {
    const entry = byKind.get(c.kind) ?? { met: 0, breached: 0 };
    if (c.outcome === 'met_on_time') entry.met++;
    else if (c.outcome === 'open') openClocks++;
    else entry.breached++;
    byKind.set(c.kind, entry);
  }
  const all = [...byKind.values()].reduce((s, e) => ({ met: s.met + e.met, breached: s.breached + e.breached }), { met: 0, breached: 0 });
  const onTimeByClock: SimulationResult['summary']['onTimeByClock'] = {};
  for (const [kind, e] of byKind) onTimeByClock[kind] = rate(e.met, e.breached);
  const loadPerAgent = [...agents.entries()]
    .map(([userId, a]) => ({ departmentId: a.departmentId, userId, tickets: a.assigned.length }))
    .sort((x, y) => x.departmentId.localeCompare(y.departmentId) || x.userId.localeCompare(y.userId));
  return {
    tickets: tickets.length,
    onTime: rate(all.met, all.breached),
    onTimeByClock,
    openClocks,
    loadPerAgent,
    unassigned: tickets.filter((t) => t.assignee === null).length,
  };
}

const OUTCOME_TEXT: Record<ClockOutcome, string> = {
  met_on_time: 'met on time',
  met_late: 'met late (breached)',
  breached_open: 'breached (still open)',
  open: 'open, not yet due',
};

export function formatSimulation(r: SimulationResult): string[] {
  const lines: string[] = [];
  for (const t of r.tickets) {
    lines.push(`${t.label}  ${t.createdAt}  ${t.categoryId}  ${t.priority}  → ${t.departmentId}  ${t.assignee ?? '(unassigned)'}  [${t.routing}]`);
    for (const a of t.rules) lines.push(`    ${a.field} set by rule ${a.ruleId}: ${a.value}`);
    lines.push(`    policy ${t.policyId ?? '(none: no SLA targets)'}`);
    for (const c of t.clocks) {
      const met = c.metAt ? `  met ${c.metAt}` : '';
      lines.push(`    ${c.kind.padEnd(15)} due ${c.dueAt} (${c.calendarId})${met}  ${OUTCOME_TEXT[c.outcome]}`);
      for (const e of c.escalations) {
        const repeat = e.repeat > 0 ? ` repeat ${e.repeat}` : '';
        lines.push(`      escalation L${e.level + 1}${repeat} at ${e.at} → ${e.notify.join(', ')}${e.urgent ? ' (urgent)' : ''}`);
      }
    }
  }
  const s = r.summary;
  const pct = (x: { met: number; breached: number; rate: number | null }) =>
    x.rate === null ? 'n/a (no completed or breached clocks)' : `${(x.rate * 100).toFixed(1)}% (${x.met} of ${x.met + x.breached})`;
  lines.push('', `Summary (observed until ${r.until})`, `  tickets: ${s.tickets}, unassigned: ${s.unassigned}, clocks still open: ${s.openClocks}`);
  lines.push(`  on-time rate: ${pct(s.onTime)}`);
  for (const [kind, x] of Object.entries(s.onTimeByClock)) lines.push(`    ${kind}: ${pct(x)}`);
  lines.push('  load per agent:');
  for (const a of s.loadPerAgent) lines.push(`    ${a.departmentId.padEnd(10)} ${a.userId.padEnd(24)} ${a.tickets}`);
  return lines;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
