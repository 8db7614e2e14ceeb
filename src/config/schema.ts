import { z } from 'zod';
import { parseDuration, parseTarget } from '../domain/duration';
import { compileCalendar } from '../domain/calendar';
import { PRIORITIES, ROUTING_STRATEGIES, CLOCK_KINDS } from '../domain/types';
import type { OfficialDays } from '../domain/calendar';
import { isKnownRegion } from './holidays';
import { CHAT_PLATFORMS, LEGACY_CHANNEL_KEY, personRefProblem } from '../domain/platforms';

/** The config file's shape. Cross-references are checked in `configSchema`'s superRefine. */

const durationText = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'not a duration (use e.g. 30s, 15m, 4h, 1d)' });

/** An SLA or handoff target: a duration of business time, or `Nwd` working days. */
const targetText = z
  .string()
  .refine((s) => parseTarget(s) !== undefined, { message: 'not a duration (use e.g. 15m, 4h, 1d = 24 working hours, or 3wd = 3 working days)' });

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
/** A day that exists in the calendar (2026-02-30 does not). */
function isRealDate(text: string): boolean {
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}
const dateText = z
  .string()
  .regex(DATE_RE, 'expected a date YYYY-MM-DD')
  .superRefine((text, ctx) => {
    if (DATE_RE.test(text) && !isRealDate(text)) ctx.addIssue({ code: 'custom', message: `${text} is not a date that exists` });
  });
const dateOrRange = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$/, 'expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD')
  .superRefine((text, ctx) => {
    if (!/^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$/.test(text)) return;
    const [a, b] = text.split('..') as [string, string | undefined];
    for (const d of b === undefined ? [a] : [a, b]) if (!isRealDate(d)) ctx.addIssue({ code: 'custom', message: `${d} is not a date that exists` });
    if (b !== undefined && isRealDate(a) && isRealDate(b) && b < a) ctx.addIssue({ code: 'custom', message: `the range ends (${b}) before it starts (${a})` });
  });

const WEEKDAY_INDEX: Record<string, number> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };
/** `mon` → [0]; `mon-fri` → [0..4]; `fri-mon` wraps over the weekend (as the calendar reads it). */
function weekKeyDays(key: string): number[] {
  const [a, b] = key.split('-') as [string, string | undefined];
  const first = WEEKDAY_INDEX[a]!;
  const last = b === undefined ? first : WEEKDAY_INDEX[b]!;
  const days: number[] = [];
  for (let d = first; ; d = (d + 1) % 7) {
    days.push(d);
    if (d === last) break;
  }
  return days;
}

/**
 * Each weekday is named once, except that one single-day key may refine one range
 * (`mon-fri` and `fri`: Friday's own hours). Anything else would silently drop hours.
 */
function checkWeekKeys(week: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const ranges = new Map<number, string>();
  const singles = new Map<number, string>();
  for (const key of Object.keys(week)) {
    if (!WEEK_KEY_RE.test(key)) continue;
    const days = weekKeyDays(key);
    const seen = days.length === 1 ? singles : ranges;
    for (const d of days) {
      const other = seen.get(d);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['week', key], message: `${WEEKDAYS[d]} is already given by "${other}" (name each day once; a single day may refine one range)` });
        break;
      }
    }
    for (const d of days) if (!seen.has(d)) seen.set(d, key);
  }
}

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
    /**
     * ISO country code (CN, DE) or country-state (US-CA): official public holidays and make-up
     * workdays come from chinese-days (CN) or date-holidays (others); `holidays` and `workdays` override.
     */
    region: z
      .string()
      .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'expected an ISO country code like CN or DE, or country-state like US-CA')
      .refine(isKnownRegion, { message: 'no holiday data for this region (chinese-days has CN, date-holidays most countries)' })
      .optional(),
  })
  .strict()
  .superRefine((cal, ctx) => checkWeekKeys(cal.week, ctx));

/** A user reference in config: `slack:U0BOSS`, `feishu:ou_boss`, or `email:ann@example.com`. */
const userRef = z
  .string()
  .regex(new RegExp(`^(${[...CHAT_PLATFORMS, 'email'].join('|')}):\\S+$`), 'expected platform:id, e.g. slack:U0123 or feishu:ou_abc')
  .superRefine((ref, ctx) => {
    const problem = /^\w+:\S+$/.test(ref) ? personRefProblem(ref) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Channels by platform (registry: src/domain/platforms.ts), e.g. `{ slack: C0IT, feishu: oc_it }`. */
const channelMap = z.partialRecord(z.enum(CHAT_PLATFORMS), z.string().min(1));

export const departmentSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]+$/, 'ids are lower-case letters, digits, - and _'),
    name: localized,
    /** Prefix of ticket keys, e.g. IT → IT-1042. Defaults to the id in upper case. */
    key_prefix: z.string().regex(/^[A-Z][A-Z0-9]{0,9}$/, 'upper-case letters and digits, up to 10').optional(),
    /** The department's channel on each platform: `{ slack: C0IT, feishu: oc_it }`. */
    channels: channelMap.optional(),
    /** Older spelling of `channels.slack` (still accepted). */
    slack: z.object({ channel: z.string().min(1) }).strict().optional(),
    /** Older spelling of `channels.feishu` (still accepted). */
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
    handoff: z.object({ accept: targetText, resolve: targetText }).strict().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    // A channel given both ways must agree (the old key is an alias of `channels.<platform>`).
    for (const platform of CHAT_PLATFORMS) {
      const legacy = LEGACY_CHANNEL_KEY[platform];
      const old = legacy?.read(d);
      const now = d.channels?.[platform];
      if (legacy && old !== undefined && now !== undefined && old !== now)
        ctx.addIssue({ code: 'custom', path: legacy.key.split('.'), message: `${legacy.key} (${old}) differs from channels.${platform} (${now}); keep one of them` });
    }
  });

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
  deflect?: boolean | undefined;
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
      /** Offer knowledge-base articles before raising a ticket here (default true, inherited; sensitive categories never do). */
      deflect: z.boolean().optional(),
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
    first_response: targetText.optional(),
    next_response: targetText.optional(),
    resolution: targetText.optional(),
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


const priorityCriteria = z.object({ criteria: localized }).strict().optional();

// ---- Automation rules (issue 17): `rules:` evaluated by src/domain/rules.ts at creation ----
export const RULE_SOURCES = [...CHAT_PLATFORMS, 'api'] as const;
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
        /** People told of every status change of the ticket (slack:U…, feishu:ou_…, email:…); every matching rule adds its own. */
        add_watchers: oneOrMany(userRef).optional(),
      })
      .strict()
      .refine((t) => Object.values(t).some((v) => v !== undefined), 'a rule must set at least one of priority, assign, department, sensitive, add_watchers'),
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
    /** Intake API clients (issue 18): POST /api/v1/tickets with `Authorization: Bearer <key>`; the key is read from the environment variable `key_env`. Empty: the API is off. */
    integrations: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z0-9_-]+$/, 'ids are lower-case letters, digits, - and _'),
            key_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)'),
            department: z.string().optional(),
            defaults: z
              .object({ category: z.string().optional(), priority: z.enum(PRIORITIES).optional(), fields: z.record(z.string(), z.string()).optional() })
              .strict()
              .default({}),
            /** Requests per minute per key. */
            rate_limit: z.number().int().min(1).default(60),
            /** Outgoing webhook: every status change of this integration's tickets is POSTed to `url`, signed with HMAC-SHA256 by the secret in `secret_env`. */
            webhook: z
              .object({
                url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'),
                secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)'),
              })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .default([]),
    digest: z
      .object({
        daily_open_tickets: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').optional(),
        weekly: z
          .object({
            day: z.enum(WEEKDAYS),
            time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM'),
            /** Where the digest is posted, by platform: `{ slack: C0LEADS, feishu: oc_leads }`. */
            channels: channelMap.optional(),
            /** Older spelling of `channels.slack` (still accepted). */
            slack_channel: z.string().optional(),
            /** Older spelling of `channels.feishu` (still accepted). */
            feishu_chat_id: z.string().optional(),
            calendar: z.string().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    rollout: z.array(rolloutSchema).default([]),
    /** What the daily housekeeping job deletes or trims (issue 16). Audit rows and tickets are kept. */
    retention: z
      .object({
        /** Inbound dedup keys: far longer than any platform retries (Slack minutes, Feishu hours). */
        inbox_days: z.number().int().min(7).default(30),
        /** Sent outbox rows keep their row (audit) but lose their body (chart images included). */
        sent_outbox_days: z.number().int().min(1).default(30),
        /** Knowledge-base offers nobody answered ("shown") are deleted after this many days, with their shown articles. */
        deflection_days: z.number().int().min(7).default(180),
        /** Files uploaded with the web form are deleted this many days after their ticket was closed (or uploaded, when no ticket shows them). */
        intake_file_days: z.number().int().min(1).default(90),
        /** When the job runs, HH:MM UTC. */
        time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').default('03:30'),
        /** Rows per statement: each batch is its own short transaction. */
        batch: z.number().int().min(1).max(10_000).default(500),
      })
      .strict()
      .default({ inbox_days: 30, sent_outbox_days: 30, deflection_days: 180, intake_file_days: 90, time: '03:30', batch: 500 }),
    rules: z.array(ruleSchema).default([]),
    /**
     * Files that cross a ticket (issue 17 item 5) are copied to the other side up to this size;
     * a bigger file goes as its name and link. At most 30 (Feishu's upload limit).
     */
    files: z
      .object({ copy_max_mb: z.number().positive().max(30).default(20) })
      .strict()
      .default({ copy_max_mb: 20 }),
    /** Published definitions (issue 17): what makes a ticket urgent/high/normal/low, in both languages. */
    priorities: z
      .object({ urgent: priorityCriteria, high: priorityCriteria, normal: priorityCriteria, low: priorityCriteria })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => checkReferences(cfg, ctx));

/** The checked config; calendars carry their region's official days once loaded (see buildConfig). */
export type RawConfig = Omit<z.infer<typeof configSchema>, 'calendars'> & { calendars: Record<string, CalendarConfig> };
export type CalendarConfig = z.infer<typeof calendarSchema> & {
  /** The region's official days, loaded with the config (src/config/holidays.ts); never written in the file. */
  official?: OfficialDays;
};
export type DepartmentConfig = z.infer<typeof departmentSchema>;
export type SlaPolicyConfig = z.infer<typeof slaPolicySchema>;
export type EscalationLevelConfig = z.infer<typeof escalationLevelSchema>;
export type FieldConfig = z.infer<typeof fieldSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;

type Ctx = z.core.$RefinementCtx<RawConfig>;

function checkReferences(cfg: RawConfig, ctx: Ctx): void {
  const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  // The start builds every calendar: whatever it would refuse is a problem here, with its key path.
  const earlier = (ctx as unknown as { issues?: Array<{ path?: PropertyKey[] }> }).issues ?? [];
  for (const [id, c] of Object.entries(cfg.calendars)) {
    // Problems already named in this calendar are enough; compiling it would only repeat them.
    if (earlier.some((i) => i.path?.[0] === 'calendars' && i.path?.[1] === id)) continue;
    try {
      // The region's official days are loaded after the schema (config/holidays.ts); here only the
      // calendar's own entries are checked, so an empty dataset stands in for the region's.
      compileCalendar(id, c.region !== undefined && c.official === undefined ? { ...c, official: { region: c.region, source: 'validation', holidays: new Map(), workdays: new Map(), years: [] } } : c);
    } catch (err) {
      problem(['calendars', id], err instanceof Error ? err.message : String(err));
    }
  }
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
  cfg.integrations.forEach((integ, i) => {
    if (integ.department !== undefined && !cfg.departments.some((d) => d.id === integ.department)) problem(['integrations', i, 'department'], `unknown department "${integ.department}"`);
    if (integ.defaults.category !== undefined && !categoryIds.has(integ.defaults.category)) problem(['integrations', i, 'defaults', 'category'], `unknown category "${integ.defaults.category}"`);
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
