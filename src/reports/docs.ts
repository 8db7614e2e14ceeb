import type { Config } from '../config/model';
import type { CategoryNode, EscalationLevelConfig, SlaPolicyConfig } from '../config/schema';
import { durationText, type TimeBasis } from '../chat/durations';
import { t } from '../chat/i18n';
import { effectiveRouting, ruleInForce } from '../domain/policy';
import { parseAssign } from '../domain/rules';
import { PRIORITIES, type Locale } from '../domain/types';
import { HEADLINE_METRICS } from '../domain/metrics';
import { metricDefinition, selfServiceDefinition, WORKFLOW_FIGURES, workflowDefinition } from './definitions';
import { departmentName, priorityName } from './format';
import { rt } from './i18n';

/**
 * The written process [S1.4, S5.5], generated from the config in force so the document can never
 * drift from what the bot does: `ticketbot docs` writes the long version, `/ticket policy` shows
 * `policySummary`.
 */

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A config duration ("4h", "1d" = 24 working hours, "3wd") in words, or a dash when unset. */
function durationWords(text: string | undefined, locale: Locale, basis: TimeBasis = 'business'): string {
  if (text === undefined) return rt(locale, 'policy.none');
  return durationText(text, locale, basis);
}

/** Wall-clock words for a policy counted on the `always` calendar, working hours otherwise. */
const basisOf = (calendarId: string): TimeBasis => (calendarId === 'always' ? 'wall' : 'business');

function calendarWords(calendarId: string, locale: Locale): string {
  return calendarId === 'always' ? rt(locale, 'policy.wall_time') : rt(locale, 'policy.business_time', { calendar: calendarId });
}

/** The calendar a policy uses: its own, else the departments' (named when they all agree). */
function policyCalendar(config: Config, policy: SlaPolicyConfig): string {
  if (policy.calendar) return policy.calendar;
  const depts = asList(policy.match.department);
  const calendars = new Set((depts.length ? depts : [...config.departments.keys()]).map((d) => config.departments.get(d)?.calendar ?? 'always'));
  return [...calendars].join(' / ');
}

function escalationAt(at: string, locale: Locale): string {
  if (at.endsWith('%')) return rt(locale, 'docs.at.percent', { value: at });
  const value = durationWords(at.slice(1), locale);
  return rt(locale, at.startsWith('-') ? 'docs.at.before' : 'docs.at.after', { value });
}

function targetWords(target: string, locale: Locale): string {
  if (target === 'assignee' || target === 'department_channel' || target === 'supervisors' || target === 'on_call') return rt(locale, `target.${target}`);
  return target;
}

function levelTargets(level: EscalationLevelConfig, locale: Locale): string {
  return asList(level.notify).map((n) => targetWords(n, locale)).join(locale === 'en' ? ', ' : '、');
}

function matchWords(config: Config, policy: SlaPolicyConfig, locale: Locale): string {
  const sep = locale === 'en' ? ', ' : '、';
  const parts: string[] = [];
  const m = policy.match;
  if (m.priority !== undefined) parts.push(rt(locale, 'docs.match.priority', { values: asList(m.priority).map((p) => priorityName(p, locale)).join(sep) }));
  if (m.category !== undefined) parts.push(rt(locale, 'docs.match.category', { values: asList(m.category).map((c) => config.categories.get(c)?.name[locale] ?? c).join(sep) }));
  if (m.department !== undefined) parts.push(rt(locale, 'docs.match.department', { values: asList(m.department).map((d) => departmentName(config, d, locale)).join(sep) }));
  if (m.requester !== undefined) parts.push(rt(locale, 'docs.match.requester', { values: Object.entries(m.requester).map(([k, v]) => `${k}=${asList(v).join('|')}`).join(sep) }));
  return parts.length ? parts.join('; ') : rt(locale, 'docs.match.any');
}

function pilotsOf(config: Config, policyId: string | undefined): string[] {
  if (policyId === undefined) return [];
  return config.raw.rollout.filter((r) => r.sla_policy === policyId).flatMap((r) => r.departments);
}

/** Escapes a table cell: pipes and line breaks would break the Markdown table. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const table = (head: string[], rows: string[][]) =>
  [`| ${head.map(cell).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

/** A Mermaid label in quotes: its own quotes are replaced, as Mermaid has no escape for them. */
const label = (s: string) => `"${s.replace(/"/g, "'")}"`;

function processDiagram(locale: Locale, confirmWithin: string): string {
  const s = (k: 'new' | 'assigned' | 'in_progress' | 'waiting_on_requester' | 'resolved' | 'closed') => rt(locale, `docs.state.${k}`);
  const e = (k: Parameters<typeof rt>[1]) => rt(locale, k).replace(/:/g, ' -');
  return [
    '```mermaid',
    'stateDiagram-v2',
    ...(['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved', 'closed'] as const).map((k) => `  state ${label(s(k))} as ${k}`),
    `  [*] --> new: ${e('docs.edge.raise')}`,
    `  new --> assigned: ${e('docs.edge.claim')}`,
    `  assigned --> in_progress: ${e('docs.edge.work')}`,
    `  in_progress --> waiting_on_requester: ${e('docs.edge.ask')}`,
    `  waiting_on_requester --> in_progress: ${e('docs.edge.answer')}`,
    `  in_progress --> resolved: ${e('docs.edge.resolve')}`,
    `  resolved --> closed: ${e('docs.edge.confirm')} (${confirmWithin})`,
    `  resolved --> in_progress: ${e('docs.edge.reopen')}`,
    `  in_progress --> closed: ${e('docs.edge.close')}`,
    '  closed --> [*]',
    '```',
    '',
    rt(locale, 'docs.handoff_intro'),
    '',
    '```mermaid',
    'flowchart LR',
    `  home[${label(rt(locale, 'docs.node.home'))}] -- ${label(e('docs.edge.handoff'))} --> target[${label(rt(locale, 'docs.node.target'))}]`,
    `  target -- ${label(e('docs.edge.accept'))} --> work((${label(e('docs.edge.done'))}))`,
    `  target -. ${label(e('docs.edge.return'))} .-> home`,
    '```',
  ].join('\n');
}

function categoryLines(config: Config, nodes: CategoryNode[], depth: number, inherited: string | undefined, locale: Locale, out: string[]): void {
  for (const node of nodes) {
    const dept = node.department ?? inherited;
    const extras: string[] = [];
    if (node.required?.length) {
      const names = node.required.map((f) => config.raw.fields.find((x) => x.id === f)?.name[locale] ?? f);
      extras.push(rt(locale, 'docs.required', { fields: names.join(locale === 'en' ? ', ' : '、') }));
    }
    if (node.sensitive) extras.push(rt(locale, 'docs.sensitive'));
    const deptText = node.department !== undefined || depth === 0 ? rt(locale, 'docs.category_line', { name: node.name[locale], department: dept ? departmentName(config, dept, locale) : '?' }) : node.name[locale];
    out.push(`${'  '.repeat(depth)}- ${deptText}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    if (node.children?.length) categoryLines(config, node.children, depth + 1, dept, locale, out);
  }
}

function weekWords(week: Record<string, string[]>): string {
  return Object.entries(week)
    .map(([days, ranges]) => `${days} ${ranges.join(', ')}`)
    .join('; ');
}

/** The full written process as Markdown. `generatedAt` is shown, so pass the injected time. */
export function generateProcessDoc(config: Config, locale: Locale, generatedAt: Date): string {
  const raw = config.raw;
  const yes = rt(locale, 'docs.yes');
  const no = rt(locale, 'docs.no');
  const out: string[] = [];
  out.push(`# ${rt(locale, 'docs.title')}`, '', rt(locale, 'docs.generated', { date: generatedAt.toISOString().slice(0, 10) }), '');

  out.push(`## ${rt(locale, 'docs.process')}`, '', rt(locale, 'docs.process_intro'), '', processDiagram(locale, durationWords(raw.closing.confirm_within, locale)), '');

  out.push(`## ${rt(locale, 'docs.roles')}`, '');
  for (const role of ['requester', 'agent', 'supervisor', 'admin'] as const) {
    out.push(`- **${rt(locale, `docs.role.${role}`)}**: ${rt(locale, `docs.role.${role}.text`)}`);
  }
  out.push('');

  out.push(`## ${rt(locale, 'docs.departments')}`, '');
  out.push(
    table(
      [rt(locale, 'docs.col.department'), rt(locale, 'docs.col.calendar'), rt(locale, 'docs.col.routing'), rt(locale, 'docs.col.capacity'), rt(locale, 'docs.col.supervisors')],
      raw.departments.map((d) => {
        const routing = effectiveRouting(config, d.id);
        return [d.name[locale], d.calendar, rt(locale, `routing.${routing.strategy}`), routing.capacity !== undefined ? String(routing.capacity) : '—', d.supervisors.join(', ') || '—'];
      }),
    ),
    '',
  );

  out.push(`## ${rt(locale, 'docs.categories')}`, '');
  categoryLines(config, raw.categories, 0, undefined, locale, out);
  out.push('');

  out.push(`## ${rt(locale, 'docs.sla')}`, '', rt(locale, 'docs.sla_intro'), '');
  out.push(
    table(
      [rt(locale, 'docs.col.rule'), rt(locale, 'docs.col.match'), rt(locale, 'docs.col.first_response'), rt(locale, 'docs.col.next_response'), rt(locale, 'docs.col.resolution'), rt(locale, 'docs.col.calendar'), rt(locale, 'docs.col.pilot')],
      raw.sla.map((p, i) => [
        p.id ?? `sla[${i}]`,
        matchWords(config, p, locale),
        durationWords(p.first_response, locale, basisOf(policyCalendar(config, p))),
        durationWords(p.next_response, locale, basisOf(policyCalendar(config, p))),
        durationWords(p.resolution, locale, basisOf(policyCalendar(config, p))),
        calendarWords(policyCalendar(config, p), locale),
        pilotsOf(config, p.id).map((d) => departmentName(config, d, locale)).join(', ') || '—',
      ]),
    ),
    '',
  );

  out.push(`## ${rt(locale, 'docs.ola')}`, '');
  out.push(
    table(
      [rt(locale, 'docs.col.department'), rt(locale, 'docs.col.accept'), rt(locale, 'docs.col.resolve'), rt(locale, 'docs.col.calendar')],
      raw.departments.map((d) => [d.name[locale], durationWords(d.handoff?.accept, locale, basisOf(d.calendar)), durationWords(d.handoff?.resolve, locale, basisOf(d.calendar)), calendarWords(d.calendar, locale)]),
    ),
    '',
  );

  out.push(`## ${rt(locale, 'docs.escalation')}`, '');
  const ladders: [string, EscalationLevelConfig[]][] = [['', raw.escalation], ...raw.sla.filter((p) => p.escalation?.length).map((p, i) => [p.id ?? `sla[${i}]`, p.escalation!] as [string, EscalationLevelConfig[]])];
  for (const [policyId, ladder] of ladders) {
    if (policyId) out.push(`### ${policyId}`, '');
    out.push(
      table(
        [rt(locale, 'docs.col.level'), rt(locale, 'docs.col.at'), rt(locale, 'docs.col.notify'), rt(locale, 'docs.col.repeat'), rt(locale, 'docs.col.urgent')],
        ladder.map((level, i) => [
          String(i + 1),
          escalationAt(level.at, locale),
          levelTargets(level, locale),
          level.repeat ? `${durationWords(level.repeat, locale)}${level.max_repeats ? ` × ${level.max_repeats}` : ''}` : '—',
          level.urgent ? `${yes}${level.urgent_via?.length ? ` (${level.urgent_via.join(', ')})` : ''}` : no,
        ]),
      ),
      '',
    );
  }

  out.push(`## ${rt(locale, 'docs.closing')}`, '');
  for (const line of closingLines(config, locale)) out.push(`- ${line}`);
  out.push('');

  out.push(`## ${rt(locale, 'docs.calendars')}`, '');
  for (const [id, c] of Object.entries(raw.calendars)) {
    const extras = [
      c.official ? t(locale, 'duration.region', { region: c.official.region, source: c.official.source }) : '',
      c.holidays.length ? rt(locale, 'docs.holidays', { dates: c.holidays.join(', ') }) : '',
      c.workdays.length ? rt(locale, 'docs.workdays', { dates: c.workdays.join(', ') }) : ''].filter(Boolean);
    out.push(`- ${rt(locale, 'docs.calendar_line', { id, timezone: c.timezone, week: weekWords(c.week) })}${extras.length ? `; ${extras.join('; ')}` : ''}`);
  }
  out.push('');

  out.push(`## ${rt(locale, 'docs.priority_criteria')}`, '');
  for (const line of priorityCriteriaLines(config, locale)) out.push(`- ${line}`);
  out.push('');

  out.push(`## ${rt(locale, 'docs.metrics')}`, '');
  for (const line of metricDefinitionLines(locale)) out.push(`- ${line}`);
  out.push('');
  if (raw.rules.length) {
    out.push(`## ${rt(locale, 'docs.rules')}`, '', rt(locale, 'docs.rules_intro'), '');
    for (const line of ruleLines(config, locale)) out.push(`${line}`);
    out.push('');
  }

  if (raw.rollout.length) {
    out.push(`## ${rt(locale, 'docs.rollout')}`, '');
    for (const line of rolloutLines(config, locale)) out.push(`- ${line}`);
    out.push('');
  }
  return out.join('\n');
}

/** "On-time rate: share of …" for the six headline metrics, from the one source text (definitions.ts). */
/** Each figure's name and definition, one line each: the six, the workflow figures, the self-service rate. */
export function metricDefinitionLines(locale: Locale): string[] {
  const colon = locale === 'en' ? ': ' : ':';
  return [
    ...HEADLINE_METRICS.map((m) => `${rt(locale, `metric.${m}`)}${colon}${metricDefinition(m, locale)}`),
    // The workflow figures beside the six (issue 17).
    ...WORKFLOW_FIGURES.map((f) => `${rt(locale, `docs.extra.${f}`)}${colon}${workflowDefinition(f, locale)}`),
    // The self-service rate (issue 18) stands beside the six, from the same source file.
    `${rt(locale, 'metric.self_service')}${colon}${selfServiceDefinition(locale)}`,
  ];
}

/**
 * Published priority criteria [issue 17 item 7]: what makes a ticket urgent/high/normal/low (config
 * `priorities.<p>.criteria`), then the rules that set a priority, in words. One text for `docs`,
 * `/ticket policy`, the dashboard's "?" and the `/ticket stats` help.
 */
export function priorityCriteriaLines(config: Config, locale: Locale, o: { unset: boolean } = { unset: true }): string[] {
  const lines = [...PRIORITIES].reverse().flatMap((p) => {
    const criteria = config.raw.priorities?.[p]?.criteria?.[locale];
    if (criteria) return [rt(locale, 'docs.criteria_line', { priority: priorityName(p, locale), criteria })];
    return o.unset ? [rt(locale, 'docs.criteria_unset', { priority: priorityName(p, locale), id: p })] : [];
  });
  const all = ruleLines(config, locale);
  const setting = config.raw.rules.flatMap((r, i) => (r.then.priority !== undefined ? [all[i]!.replace(/^\d+\. /, '')] : []));
  if (setting.length) lines.push(rt(locale, 'docs.criteria_rules'), ...setting.map((l) => `  ${l}`));
  return lines;
}

function closingLines(config: Config, locale: Locale): string[] {
  const raw = config.raw;
  const lines = [
    raw.closing.auto_close
      ? rt(locale, 'policy.closing', { within: durationWords(raw.closing.confirm_within, locale), survey: raw.closing.survey ? rt(locale, 'policy.survey') : '' })
      : rt(locale, 'policy.closing_manual'),
  ];
  if (raw.return_reasons.length) lines.push(rt(locale, 'policy.returns', { reasons: raw.return_reasons.map((r) => r.name[locale]).join(locale === 'en' ? ', ' : '、') }));
  // Auto-close as in force per department when a pilot changes it somewhere (ruleInForce).
  if (raw.rollout.some((r) => r.auto_close !== undefined)) {
    for (const d of raw.departments) {
      const inForce = ruleInForce(config, d.id).autoClose;
      lines.push(rt(locale, 'docs.in_force.auto_close', { department: d.name[locale], value: rt(locale, inForce.enabled ? 'docs.yes' : 'docs.no'), pilot: inForce.rolloutId ? rt(locale, 'docs.in_force.pilot', { id: inForce.rolloutId }) : '' }));
    }
  }
  lines.push(rt(locale, 'policy.sensitive'));
  return lines;
}

function rolloutLines(config: Config, locale: Locale): string[] {
  return config.raw.rollout.map((r) => {
    const changes: string[] = [];
    if (r.sla_policy) changes.push(rt(locale, 'docs.rollout.sla', { policy: r.sla_policy }));
    if (r.routing) changes.push(rt(locale, 'docs.rollout.routing', { strategy: rt(locale, `routing.${r.routing}`) }));
    if (r.auto_close !== undefined) changes.push(rt(locale, 'docs.rollout.auto_close', { value: rt(locale, r.auto_close ? 'docs.yes' : 'docs.no') }));
    return rt(locale, 'docs.rollout_line', { id: r.id, change: changes.join(', '), departments: r.departments.map((d) => departmentName(config, d, locale)).join(', ') });
  });
}

/**
 * The short version for `/ticket policy`: one line per priority with its limits, the escalation
 * ladder, handoff limits, closing and return rules. Plain text lines; the chat layer lays them out.
 */
export function policySummary(config: Config, locale: Locale): string[] {
  const raw = config.raw;
  const lines = [rt(locale, 'policy.title')];
  // One line per priority: the first rule that would apply to a ticket of that priority alone.
  const seen = new Set<SlaPolicyConfig>();
  for (const priority of [...PRIORITIES].reverse()) {
    const policy = raw.sla.find((p) => {
      const m = p.match;
      return (m.priority === undefined || asList(m.priority).includes(priority)) && m.category === undefined && m.department === undefined && m.requester === undefined && pilotsOf(config, p.id).length === 0;
    });
    if (!policy) continue;
    seen.add(policy);
    lines.push(
      rt(locale, 'policy.sla_line', {
        priority: priorityName(priority, locale),
        first: durationWords(policy.first_response, locale, basisOf(policyCalendar(config, policy))),
        resolution: durationWords(policy.resolution, locale, basisOf(policyCalendar(config, policy))),
        calendar: calendarWords(policyCalendar(config, policy), locale),
      }),
    );
  }
  if (raw.escalation.length) {
    const sep = locale === 'en' ? '; ' : ';';
    lines.push(
      rt(locale, 'policy.escalation', {
        levels: raw.escalation.map((l) => rt(locale, 'policy.escalation_level', { at: escalationAt(l.at, locale), targets: levelTargets(l, locale) + (l.urgent ? ` (${rt(locale, 'target.urgent')})` : '') })).join(sep),
      }),
    );
  }
  for (const d of raw.departments) {
    if (d.handoff) lines.push(rt(locale, 'policy.handoff', { department: d.name[locale], accept: durationWords(d.handoff.accept, locale, basisOf(d.calendar)), resolve: durationWords(d.handoff.resolve, locale, basisOf(d.calendar)) }));
  }
  lines.push(...closingLines(config, locale));
  // Only what is published: a desk without criteria or priority rules gets no empty section.
  const criteria = priorityCriteriaLines(config, locale, { unset: false });
  if (criteria.length) lines.push(rt(locale, 'docs.priority_criteria'), ...criteria);
  lines.push(rt(locale, 'policy.metrics'), ...metricDefinitionLines(locale));
  return lines;
}

/** The automation rules in words, one numbered line each, in config order (the order they are tried). */
export function ruleLines(config: Config, locale: Locale): string[] {
  const sep = locale === 'en' ? ', ' : '、';
  const and = locale === 'en' ? ' and ' : '且';
  const or = (values: string[]) => values.join(locale === 'en' ? ' or ' : '或');
  return config.raw.rules.map((rule, i) => {
    const w = rule.when;
    const when: string[] = [];
    if (w.text !== undefined) when.push(rt(locale, 'docs.rule.when.text', { value: w.text }));
    if (w.category !== undefined) when.push(rt(locale, 'docs.rule.when.category', { value: or(asList(w.category).map((c) => config.categories.get(c)?.name[locale] ?? c)) }));
    if (w.priority !== undefined) when.push(rt(locale, 'docs.rule.when.priority', { value: or(asList(w.priority).map((p) => priorityName(p, locale))) }));
    if (w.department !== undefined) when.push(rt(locale, 'docs.rule.when.department', { value: or(asList(w.department).map((d) => departmentName(config, d, locale))) }));
    if (w.source !== undefined) when.push(rt(locale, 'docs.rule.when.source', { value: or(asList(w.source)) }));
    if (w.requester !== undefined) when.push(rt(locale, 'docs.rule.when.requester', { value: Object.entries(w.requester).map(([k, v]) => `${k}=${asList(v).join('|')}`).join(sep) }));
    const t = rule.then;
    const then: string[] = [];
    if (t.priority !== undefined) then.push(rt(locale, 'docs.rule.then.priority', { value: priorityName(t.priority, locale) }));
    if (t.department !== undefined) then.push(rt(locale, 'docs.rule.then.department', { value: departmentName(config, t.department, locale) }));
    if (t.sensitive !== undefined) then.push(rt(locale, t.sensitive ? 'docs.rule.then.sensitive' : 'docs.rule.then.not_sensitive'));
    if (t.assign !== undefined) {
      const a = parseAssign(t.assign);
      then.push(a.kind === 'user' ? rt(locale, 'docs.rule.then.assign_user', { value: a.ref }) : rt(locale, 'docs.rule.then.assign_strategy', { value: rt(locale, `routing.${a.strategy}`) }));
    }
    if (t.add_watchers !== undefined) then.push(rt(locale, 'docs.rule.then.add_watchers', { value: asList(t.add_watchers).join(sep) }));
    const line = rt(locale, 'docs.rule_line', { id: rule.id, when: when.length ? when.join(and) : rt(locale, 'docs.rule.when.any'), then: then.join(sep) });
    return `${i + 1}. ${line}`;
  });
}
