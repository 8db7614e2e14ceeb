import { z } from 'zod';
import { parseDuration } from '../domain/duration';
import { PRIORITIES, ROUTING_STRATEGIES, CLOCK_KINDS } from '../domain/types';

/** The config file's shape. Cross-references are checked in `configSchema`'s superRefine. */

const durationText = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'not a duration (use e.g. 30s, 15m, 4h, 1d)' });

const localized = z.object({ en: z.string().min(1), 'zh-CN': z.string().min(1) }).strict();

const TIME_RANGE_RE = /^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
const timeRange = z
  .string()
  .regex(TIME_RANGE_RE, 'expected "HH:MM-HH:MM" (24:00 allowed as an end)')
  .refine((s) => {
    const [a, b] = s.split('-') as [string, string];
    return toMinutes(a) < toMinutes(b);
  }, 'the interval must end after it starts');

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const WEEK_KEY_RE = /^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const dateText = z.string().regex(DATE_RE, 'expected a date YYYY-MM-DD');
const dateOrRange = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$/, 'expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD');

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const calendarSchema = z
  .object({
    timezone: z.string().refine(isValidTimeZone, { message: 'unknown IANA time zone' }),
    /** Keys are a weekday (`sat`) or a range (`mon-fri`); values are working intervals. */
    week: z.record(z.string().regex(WEEK_KEY_RE, 'expected a weekday like mon or a range like mon-fri'), z.array(timeRange)),
    holidays: z.array(dateOrRange).default([]),
    /** Make-up working days (调休) that are otherwise days off. */
    workdays: z.array(dateText).default([]),
    /** Hours of a make-up working day; defaults to Monday's intervals. */
    workday_hours: z.array(timeRange).optional(),
  })
  .strict();

/** A user reference in config: `slack:U0BOSS`, `feishu:ou_boss`, or `email:ann@example.com`. */
const userRef = z.string().regex(/^(slack|feishu|email):\S+$/, 'expected platform:id, e.g. slack:U0123 or feishu:ou_abc');

export const departmentSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]+$/, 'ids are lower-case letters, digits, - and _'),
    name: localized,
    /** Prefix of ticket keys, e.g. IT → IT-1042. Defaults to the id in upper case. */
    key_prefix: z.string().regex(/^[A-Z][A-Z0-9]{0,9}$/, 'upper-case letters and digits, up to 10').optional(),
    slack: z.object({ channel: z.string().min(1) }).strict().optional(),
    feishu: z.object({ chat_id: z.string().min(1) }).strict().optional(),
    members: z.union([z.literal('channel'), z.array(userRef)]).default('channel'),
    supervisors: z.array(userRef).default([]),
    calendar: z.string().min(1),
    routing: z
      .object({
        strategy: z.enum(ROUTING_STRATEGIES).default('claim'),
        capacity: z.number().int().positive().optional(),
        on_call: z.array(userRef).optional(),
      })
      .strict()
      .default({ strategy: 'claim' }),
    handoff: z.object({ accept: durationText, resolve: durationText }).strict().optional(),
  })
  .strict();

export const fieldSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9_]+$/, 'field ids are lower-case letters, digits and _'),
    name: localized,
    type: z.enum(['text', 'number', 'select']).default('text'),
    options: z.array(z.object({ id: z.string(), name: localized }).strict()).optional(),
    placeholder: localized.optional(),
  })
  .strict();

export interface CategoryNode {
  id: string;
  name: { en: string; 'zh-CN': string };
  department?: string | undefined;
  required?: string[] | undefined;
  sensitive?: boolean | undefined;
  children?: CategoryNode[] | undefined;
}

export const categorySchema: z.ZodType<CategoryNode> = z.lazy(() =>
  z
    .object({
      id: z.string().regex(/^[a-z0-9_-]+$/, 'ids are lower-case letters, digits, - and _'),
      name: localized,
      department: z.string().optional(),
      required: z.array(z.string()).optional(),
      /** Tickets in this category are sensitive: never auto-closed or auto-replied. */
      sensitive: z.boolean().optional(),
      children: z.array(categorySchema).optional(),
    })
    .strict(),
);

const ESCALATION_AT_RE = /^(\d+(\.\d+)?%|[+-]\S+)$/;
export const ESCALATION_TARGETS = ['assignee', 'department_channel', 'supervisors', 'on_call'] as const;
const escalationTarget = z.union([z.enum(ESCALATION_TARGETS), userRef]);

export const escalationLevelSchema = z
  .object({
    at: z
      .string()
      .regex(ESCALATION_AT_RE, 'expected a percentage like 75% or a signed offset like -30m or +2h')
      .refine((s) => s.endsWith('%') || parseDuration(s.slice(1)) !== undefined, 'the offset is not a duration'),
    notify: z.union([escalationTarget, z.array(escalationTarget).min(1)]),
    repeat: durationText.optional(),
    /** Stop repeating after this many repeats (default: until met). */
    max_repeats: z.number().int().positive().optional(),
    urgent: z.boolean().default(false),
    /** Feishu 加急 channels for an urgent level; SMS and phone cost money, so they are opt-in. */
    urgent_via: z.array(z.enum(['app', 'sms', 'phone'])).optional(),
    /** Which clocks this level watches; default all. */
    clocks: z.array(z.enum(CLOCK_KINDS)).optional(),
  })
  .strict();

export const requesterMatch = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

export const slaPolicySchema = z
  .object({
    id: z.string().optional(),
    match: z
      .object({
        priority: z.union([z.enum(PRIORITIES), z.array(z.enum(PRIORITIES))]).optional(),
        category: z.union([z.string(), z.array(z.string())]).optional(),
        department: z.union([z.string(), z.array(z.string())]).optional(),
        requester: requesterMatch.optional(),
      })
      .strict()
      .default({}),
    first_response: durationText.optional(),
    next_response: durationText.optional(),
    resolution: durationText.optional(),
    /** A calendar id or `always`; defaults to the department's calendar. */
    calendar: z.string().optional(),
    /** Pause the resolution clock while waiting on the requester (default true). */
    pause_when_waiting: z.boolean().default(true),
    escalation: z.array(escalationLevelSchema).optional(),
  })
  .strict();

export const templateSchema = z.object({ id: z.string().min(1), name: localized, text: localized }).strict();

export const rolloutSchema = z
  .object({
    id: z.string().min(1),
    /** What the rule changes: an SLA policy id, a routing strategy, or auto-close. */
    sla_policy: z.string().optional(),
    routing: z.enum(ROUTING_STRATEGIES).optional(),
    auto_close: z.boolean().optional(),
    departments: z.array(z.string()).min(1),
  })
  .strict();


// ---- Automation rules (issue 17): `rules:` evaluated by src/domain/rules.ts at creation ----
export const RULE_SOURCES = ['slack', 'feishu', 'api'] as const;
const ruleRegex = z.string().min(1).superRefine((text, ctx) => {
  try {
    new RegExp(text, 'iu');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${err instanceof Error ? err.message : String(err)}` });
  }
});
const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]);
export const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]+$/, 'ids are lower-case letters, digits, - and _'),
    when: z
      .object({
        /** Regex, case-insensitive, over title + description. */
        text: ruleRegex.optional(),
        /** A category node matches its whole subtree. */
        category: oneOrMany(z.string()).optional(),
        priority: oneOrMany(z.enum(PRIORITIES)).optional(),
        department: oneOrMany(z.string()).optional(),
        requester: requesterMatch.optional(),
        source: oneOrMany(z.enum(RULE_SOURCES)).optional(),
      })
      .strict()
      .default({}),
    then: z
      .object({
        priority: z.enum(PRIORITIES).optional(),
        /** `on_call` (the department's rotation), a routing strategy, or a user (slack:U…, feishu:ou_…, email:…). */
        assign: z.union([z.enum(ROUTING_STRATEGIES), userRef]).optional(),
        /** Route to this department instead of the category's. */
        department: z.string().optional(),
        sensitive: z.boolean().optional(),
      })
      .strict()
      .refine((t) => Object.values(t).some((v) => v !== undefined), 'a rule must set at least one of priority, assign, department, sensitive'),
  })
  .strict();
export type RuleConfig = z.infer<typeof ruleSchema>;

function checkRules(cfg: RawConfig, problem: (path: (string | number)[], message: string) => void, categoryIds: Set<string>, deptIds: Set<string>): void {
  const seen = new Set<string>();
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  cfg.rules.forEach((r, i) => {
    if (seen.has(r.id)) problem(['rules', i, 'id'], `duplicate rule "${r.id}"`);
    seen.add(r.id);
    for (const c of list(r.when.category)) if (!categoryIds.has(c)) problem(['rules', i, 'when', 'category'], `unknown category "${c}"`);
    for (const d of list(r.when.department)) if (!deptIds.has(d)) problem(['rules', i, 'when', 'department'], `unknown department "${d}"`);
    if (r.then.department !== undefined && !deptIds.has(r.then.department)) problem(['rules', i, 'then', 'department'], `unknown department "${r.then.department}"`);
    if (r.then.assign === 'on_call') {
      // The departments the ticket can be in when this rule assigns: its own target, else those it matches, else all.
      const depts = r.then.department !== undefined ? [r.then.department] : list(r.when.department).length ? list(r.when.department) : [...deptIds];
      const withRotation = depts.filter((d) => cfg.departments.find((x) => x.id === d)?.routing.on_call?.length);
      if (withRotation.length === 0) problem(['rules', i, 'then', 'assign'], `assign on_call: none of the departments (${depts.join(', ')}) has an on_call rotation`);
    }
  });
}

export const configSchema = z
  .object({
    locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
    admins: z.array(userRef).default([]),
    calendars: z.record(z.string().regex(/^[a-z0-9_-]+$/), calendarSchema),
    departments: z.array(departmentSchema).min(1),
    fields: z.array(fieldSchema).default([]),
    categories: z.array(categorySchema).min(1),
    sla: z.array(slaPolicySchema).default([]),
    escalation: z.array(escalationLevelSchema).default([]),
    closing: z
      .object({
        confirm_within: durationText.default('3d'),
        auto_close: z.boolean().default(true),
        survey: z.boolean().default(true),
      })
      .strict()
      .default({ confirm_within: '3d', auto_close: true, survey: true }),
    templates: z.array(templateSchema).default([]),
    intake: z
      .object({
        default_category: z.string().optional(),
        default_priority: z.enum(PRIORITIES).default('normal'),
        /** Emoji reaction (Slack name without colons) that turns a message into a ticket. */
        reaction: z.string().optional(),
      })
      .strict()
      .default({ default_priority: 'normal' }),
    return_reasons: z.array(z.object({ id: z.string(), name: localized }).strict()).default([]),
    digest: z
      .object({
        daily_open_tickets: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').optional(),
        weekly: z
          .object({
            day: z.enum(WEEKDAYS),
            time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM'),
            slack_channel: z.string().optional(),
            feishu_chat_id: z.string().optional(),
            calendar: z.string().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    rollout: z.array(rolloutSchema).default([]),
    rules: z.array(ruleSchema).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => checkReferences(cfg, ctx));

export type RawConfig = z.infer<typeof configSchema>;
export type CalendarConfig = z.infer<typeof calendarSchema>;
export type DepartmentConfig = z.infer<typeof departmentSchema>;
export type SlaPolicyConfig = z.infer<typeof slaPolicySchema>;
export type EscalationLevelConfig = z.infer<typeof escalationLevelSchema>;
export type FieldConfig = z.infer<typeof fieldSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;

type Ctx = z.core.$RefinementCtx<RawConfig>;

function checkReferences(cfg: RawConfig, ctx: Ctx): void {
  const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const calendarIds = new Set(Object.keys(cfg.calendars));
  const knownCalendar = (id: string) => id === 'always' || calendarIds.has(id);
  const deptIds = new Set<string>();
  cfg.departments.forEach((d, i) => {
    if (deptIds.has(d.id)) problem(['departments', i, 'id'], `duplicate department "${d.id}"`);
    deptIds.add(d.id);
    if (!knownCalendar(d.calendar)) problem(['departments', i, 'calendar'], `unknown calendar "${d.calendar}"`);
    if (d.routing.strategy === 'on_call' && !d.routing.on_call?.length)
      problem(['departments', i, 'routing', 'on_call'], 'strategy on_call needs an on_call rotation');
  });
  const prefixes = new Map<string, string>();
  cfg.departments.forEach((d, i) => {
    const prefix = d.key_prefix ?? d.id.toUpperCase().replace(/[^A-Z0-9]/g, '');
    const other = prefixes.get(prefix);
    if (other) problem(['departments', i, 'key_prefix'], `key prefix "${prefix}" is also used by department "${other}"`);
    prefixes.set(prefix, d.id);
  });
  const fieldIds = new Set(cfg.fields.map((f) => f.id));
  const categoryIds = new Set<string>();
  const walk = (nodes: CategoryNode[], path: (string | number)[], depth: number, inheritedDept?: string) => {
    nodes.forEach((node, i) => {
      const here = [...path, i];
      if (categoryIds.has(node.id)) problem([...here, 'id'], `duplicate category "${node.id}"`);
      categoryIds.add(node.id);
      if (node.department !== undefined && !deptIds.has(node.department))
        problem([...here, 'department'], `unknown department "${node.department}"`);
      (node.required ?? []).forEach((f, j) => {
        if (!fieldIds.has(f)) problem([...here, 'required', j], `unknown field "${f}" (declare it under fields)`);
      });
      const dept = node.department ?? inheritedDept;
      if (node.children?.length) {
        if (depth >= 3) problem([...here, 'children'], 'categories have at most three levels');
        else walk(node.children, [...here, 'children'], depth + 1, dept);
      } else if (!dept) {
        problem([...here, 'department'], `category "${node.id}" has no department (set it here or on a parent)`);
      }
    });
  };
  walk(cfg.categories, ['categories'], 1);
  cfg.sla.forEach((p, i) => {
    if (p.calendar !== undefined && !knownCalendar(p.calendar)) problem(['sla', i, 'calendar'], `unknown calendar "${p.calendar}"`);
    for (const c of asList(p.match.category)) if (!categoryIds.has(c)) problem(['sla', i, 'match', 'category'], `unknown category "${c}"`);
    for (const d of asList(p.match.department)) if (!deptIds.has(d)) problem(['sla', i, 'match', 'department'], `unknown department "${d}"`);
  });
  if (cfg.intake.default_category !== undefined && !categoryIds.has(cfg.intake.default_category))
    problem(['intake', 'default_category'], `unknown category "${cfg.intake.default_category}"`);
  const templateIds = new Set<string>();
  cfg.templates.forEach((t, i) => {
    if (templateIds.has(t.id)) problem(['templates', i, 'id'], `duplicate template "${t.id}"`);
    templateIds.add(t.id);
  });
  const policyIds = new Set(cfg.sla.map((p) => p.id).filter(Boolean));
  cfg.rollout.forEach((r, i) => {
    r.departments.forEach((d, j) => {
      if (!deptIds.has(d)) problem(['rollout', i, 'departments', j], `unknown department "${d}"`);
    });
    if (r.sla_policy !== undefined && !policyIds.has(r.sla_policy)) problem(['rollout', i, 'sla_policy'], `unknown SLA policy "${r.sla_policy}"`);
  });
  checkRules(cfg, problem, categoryIds, deptIds);
  if (cfg.digest.weekly?.calendar !== undefined && !knownCalendar(cfg.digest.weekly.calendar))
    problem(['digest', 'weekly', 'calendar'], `unknown calendar "${cfg.digest.weekly.calendar}"`);
}

function asList<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
