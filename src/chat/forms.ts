import { z } from 'zod';
import { assignTicket } from '../app/assignTicket';
import { assignCandidates } from '../app/candidates';
import { changePriority } from '../app/changePriority';
import { closeTicket, extendClock, rateTicket, resolveTicket } from '../app/closing';
import type { AppContext, Attachment, CommandMeta } from '../app/context';
import { noteFilesSinceLastReply, pickNoteFiles } from '../app/files';
import { handOff } from '../app/handOff';
import { replyToRequester, requestInfo } from '../app/messages';
import type { TicketView } from '../app/queries';
import { returnLeg } from '../app/returnLeg';
import type { UseCaseResult } from '../app/runner';
import type { TicketOutcome } from '../app/ticketCommand';
import { parseDuration } from '../domain/duration';
import type { Action } from '../domain/ticket';
import { CLOCK_KINDS, PRIORITIES, type Locale } from '../domain/types';
import type { CoreError } from './errors';
import { saveAnswer, saveAnswerChoices } from './deflection';
import { t, type MessageKey } from './i18n';
import { clockLabel, extendableClocks, priorityLabel } from './views';
import type { ChatReply } from './dispatcher';
import { WORKFLOW_FORM_IDS, WORKFLOW_FORMS } from './workflow-actions';

/**
 * Forms about one ticket (Reply…, Hand off…, Return…, …): ONE table for every platform.
 *
 * A platform turns a form submission into a `submit` intent with the form's id and its values under
 * the neutral names below (strings; a multi-select gives its first choice); the dispatcher parses
 * them with the entry's zod schema (required fields, reason ids, durations, scores: once, here),
 * calls the entry's use case and answers `done` or an `invalid` reply naming the neutral fields.
 * Opening a form is an `open_form` intent: the permission matrix checks the entry's `opens` write
 * and the answer (`action_form`) carries the choices the form offers.
 *
 * Adding an action (recategorise, escalate, save-as-answer…) = one entry here plus a render of
 * its `action_form` in each presenter (src/slack/forms.ts FORM_MODALS, src/feishu/presenters.ts).
 */
export const FORM_IDS = ['reply', 'request_info', 'assign', 'priority', 'hand_off', 'return', 'resolve', 'close', 'extend', 'rate', 'save_answer', ...WORKFLOW_FORM_IDS] as const;
export type FormId = (typeof FORM_IDS)[number];

export function isFormId(v: string): v is FormId {
  return (FORM_IDS as readonly string[]).includes(v);
}

/** A neutral field name of a form (platforms map these to their block ids / form names). */
export type FormField =
  | 'body' | 'template' | 'assignee' | 'priority' | 'reason' | 'reason_id' | 'department' | 'note' | 'clock' | 'duration' | 'score' | 'comment'
  | 'title' | 'description' | 'category' | 'tags' | 'thread_files';

export interface FormOption {
  value: string;
  label: string;
}

/** What an opened form offers, in the reader's language. */
export interface FormChoices {
  templates?: FormOption[];
  departments?: FormOption[];
  returnReasons?: FormOption[];
  clocks?: FormOption[];
  priorities?: FormOption[];
  assignees?: FormOption[];
  /** Values the form opens with (Save as answer: the ticket's title and resolution note). */
  initial?: Partial<Record<FormField, string>>;
  /** Edit…: the current text. */
  draft?: { title: string; description: string };
  /**
   * Change category…: the cascade starts at `path` (the platform draws the levels from the config);
   * `fixed` when the category is chosen and only its required `fields` are asked (with `intro`).
   */
  category?: { current: string; path: string[]; fixed?: boolean; intro?: string };
  fields?: { id: string; label: string; type: string; options?: FormOption[] | undefined }[];
  /**
   * Reply… / Request info…: files members posted in the card's thread since the last public reply
   * (internal notes), offered to go with the reply (field `thread_files`, several may be picked).
   */
  threadFiles?: FormOption[];
}

export interface FormTicket {
  id: string;
  key: string;
  title: string;
  departmentId: string;
  priority: string;
}

export interface FormSpec<V> {
  /** The write the form leads to: opening it needs that write's roles (src/domain/access.ts). */
  opens: Action;
  /** Where a failure that names no field is shown. */
  mainField: FormField;
  /** The values' schema (built per call: some checks read the config). */
  values(ctx: AppContext, locale: Locale): z.ZodType<V>;
  /** `attachments`: files the platform's form carried (Slack's Reply… file input). */
  run(ctx: AppContext, meta: CommandMeta, ticket: string, v: V, attachments?: Attachment[]): Promise<UseCaseResult<TicketOutcome>>;
  /** The choices the form offers. */
  choices?(ctx: AppContext, view: TicketView, locale: Locale): Promise<FormChoices> | FormChoices;
  /** A reply instead of "done" for some outcomes (a follow-up form). */
  follow?(ctx: AppContext, outcome: unknown, locale: Locale): ChatReply | undefined;
  /** Files the form offers to pick (`choices.threadFiles`; read from the database when the form opens). */
  offeredFiles?(ctx: AppContext, view: TicketView): Promise<FormOption[]>;
  /** Files the submitted values pick (Reply…'s `thread_files`), added to the platform's own. */
  pickedFiles?(ctx: AppContext, ticket: string, raw: RawFormValues): Promise<Attachment[]>;
}

/** Typed entry, stored untyped in the table. */
function form<V>(spec: FormSpec<V>): FormSpec<unknown> {
  return spec as FormSpec<unknown>;
}

const text = z.string().trim();
const optional = text.optional().transform((v) => (v ? v : undefined));
const required = text.min(1);

const templates = (ctx: AppContext, locale: Locale): FormChoices => ({ templates: ctx.config.raw.templates.map((tp) => ({ value: tp.id, label: tp.name[locale] })) });

const replySchema = () => z.object({ body: text.default(''), template: optional });

/** Reply… / Request info…: the thread's note files since the last reply (issue 17 item 5). */
const offeredThreadFiles = async (ctx: AppContext, view: TicketView): Promise<FormOption[]> =>
  (await noteFilesSinceLastReply(ctx, view.ticket.id)).map((f) => ({ value: f.value, label: f.attachment.name.slice(0, 70) }));

/** The `thread_files` values (a list, or one value) as the attachments they name. */
const threadFilesPicked = (ctx: AppContext, ticket: string, raw: RawFormValues): Promise<Attachment[]> => {
  const v = raw.thread_files;
  const picked = (Array.isArray(v) ? v : typeof v === 'string' && v !== '' ? v.split(',') : []).map(String);
  return pickNoteFiles(ctx, ticket, picked);
};

export const FORMS: Record<FormId, FormSpec<unknown>> = {
  reply: form({
    opens: 'reply',
    mainField: 'body',
    values: replySchema,
    run: (ctx, meta, ticket, v, attachments) => replyToRequester(ctx, { meta, ticket, body: v.body, templateId: v.template, attachments }),
    choices: (ctx, _view, locale) => templates(ctx, locale),
    offeredFiles: offeredThreadFiles,
    pickedFiles: threadFilesPicked,
  }),
  request_info: form({
    opens: 'request_info',
    mainField: 'body',
    values: replySchema,
    run: (ctx, meta, ticket, v, attachments) => requestInfo(ctx, { meta, ticket, body: v.body, templateId: v.template, attachments }),
    choices: (ctx, _view, locale) => templates(ctx, locale),
    offeredFiles: offeredThreadFiles,
    pickedFiles: threadFilesPicked,
  }),
  assign: form({
    opens: 'assign',
    mainField: 'assignee',
    values: () => z.object({ assignee: required }),
    run: (ctx, meta, ticket, v) => assignTicket(ctx, { meta, ticket, assigneeId: v.assignee }),
    // The department's members by name; values are our user ids.
    choices: async (ctx, view) => ({ assignees: (await assignCandidates(ctx, view.ticket.department_id)).map((u) => ({ value: u.id, label: u.name ?? u.platform_user_id })) }),
  }),
  priority: form({
    opens: 'change_priority',
    mainField: 'priority',
    values: () => z.object({ priority: z.enum(PRIORITIES), reason: optional }),
    run: (ctx, meta, ticket, v) => changePriority(ctx, { meta, ticket, priority: v.priority, reason: v.reason }),
    choices: (_ctx, _view, locale) => ({ priorities: PRIORITIES.map((p) => ({ value: p, label: priorityLabel(locale, p) })) }),
  }),
  hand_off: form({
    opens: 'hand_off',
    mainField: 'reason',
    values: () => z.object({ department: text.default(''), reason: text.default(''), note: optional }),
    run: (ctx, meta, ticket, v) => handOff(ctx, { meta, ticket, toDepartmentId: v.department, reason: v.reason, note: v.note }),
    choices: (ctx, view, locale) => ({
      departments: [...ctx.config.departments.values()].filter((d) => d.id !== view.ticket.department_id).map((d) => ({ value: d.id, label: d.name[locale] })),
    }),
  }),
  return: form({
    opens: 'return_leg',
    mainField: 'reason',
    // A listed reason is stored by its id (reports group by it); typed text is then detail in the note,
    // and is the reason itself when none is chosen. An id not in the config is refused.
    values: (ctx) =>
      z
        .object({
          reason_id: optional.refine((id) => id === undefined || ctx.config.raw.return_reasons.some((r) => r.id === id), { message: 'chat.form.unknown_reason' }),
          reason: text.default(''),
          note: optional,
        })
        .transform((v) => ({
          reason: v.reason_id ?? v.reason,
          note: [v.reason_id ? v.reason : '', v.note ?? ''].filter(Boolean).join('\n') || undefined,
        })),
    run: (ctx, meta, ticket, v) => returnLeg(ctx, { meta, ticket, reason: v.reason, note: v.note }),
    choices: (ctx, _view, locale) => ({ returnReasons: ctx.config.raw.return_reasons.map((r) => ({ value: r.id, label: r.name[locale] })) }),
  }),
  resolve: form({
    opens: 'resolve',
    mainField: 'note',
    values: () => z.object({ note: text.default('') }),
    run: (ctx, meta, ticket, v) => resolveTicket(ctx, { meta, ticket, note: v.note }),
  }),
  close: form({
    opens: 'close',
    mainField: 'reason',
    values: () => z.object({ reason: optional }),
    run: (ctx, meta, ticket, v) => closeTicket(ctx, { meta, ticket, reason: v.reason }),
  }),
  extend: form({
    opens: 'extend',
    mainField: 'duration',
    values: () =>
      z.object({
        clock: z.enum(CLOCK_KINDS),
        duration: required.transform((d, c) => {
          const ms = parseDuration(d);
          if (ms === undefined) c.addIssue({ code: 'custom', message: 'chat.form.bad_duration' });
          return ms ?? 0;
        }),
        reason: text.default(''),
      }),
    run: (ctx, meta, ticket, v) => extendClock(ctx, { meta, ticket, clockKind: v.clock, byMs: v.duration, reason: v.reason }),
    choices: (_ctx, view, locale) => ({ clocks: extendableClocks(view).map((k) => ({ value: k, label: clockLabel(locale, k) })) }),
  }),
  rate: form({
    opens: 'rate',
    mainField: 'score',
    values: () => z.object({ score: z.coerce.number().int().min(1).max(5), comment: optional }),
    run: (ctx, meta, ticket, v) => rateTicket(ctx, { meta, ticket, score: v.score, comment: v.comment }),
  }),
  // Issue 18: a resolved or closed ticket as a knowledge-base article (staff; the use case checks the roles).
  save_answer: form({
    opens: 'note',
    mainField: 'body',
    values: () => z.object({ title: required.max(200), body: required, tags: optional }),
    run: (ctx, meta, ticket, v) => saveAnswer(ctx, meta, ticket, v),
    choices: (ctx, view) => saveAnswerChoices(ctx, view),
  }),
  // issue 17 (src/chat/workflow-actions.ts): escalate, edit, recategorise.
  ...WORKFLOW_FORMS,
};

/** Raw values as a platform read them: text, a choice, or a list of choices (the first counts). */
export type RawFormValues = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

export function flatValues(raw: RawFormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) out[k] = v.length ? String(v[0]) : '';
    else if (v !== undefined && v !== null) out[k] = String(v);
  }
  return out;
}

/**
 * Parses values with a schema; a problem becomes the core's error: an empty value the form needs
 * is `ticket.missing_fields`, a wrong one `ticket.invalid_input` (with the reason in the reader's words).
 */
export function parseFormValues<V>(schema: z.ZodType<V>, raw: Record<string, string>, locale: Locale): { ok: true; value: V } | { ok: false; error: CoreError } {
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const missing: string[] = [];
  for (const issue of r.error.issues) {
    const field = String(issue.path[0] ?? '');
    const given = (raw[field] ?? '').trim();
    if (given === '') {
      if (!missing.includes(field)) missing.push(field);
      continue;
    }
    const problem = issue.message.startsWith('chat.form.') ? t(locale, issue.message as MessageKey) : given;
    return { ok: false, error: { code: 'ticket.invalid_input', params: { field, problem } } };
  }
  return { ok: false, error: { code: 'ticket.missing_fields', params: { fields: missing.join(',') } } };
}

/** The neutral fields a core error is about (the platform shows the error there; none → the form's main field). */
export function errorFields(error: CoreError): string[] {
  if (error.code === 'ticket.missing_fields' && typeof error.params.fields === 'string') return error.params.fields.split(',').filter(Boolean).map((f) => (f === 'text' ? 'body' : f));
  if (error.code === 'ticket.invalid_input' && typeof error.params.field === 'string') return [error.params.field === 'text' ? 'body' : error.params.field];
  if (error.code === 'ticket.unknown_category') return ['category'];
  return [];
}

/** The category path a cascade select leads to: the levels above `level`, then the choice; unknown ids end it. */
export function categoryPath(ctx: AppContext, path: readonly string[], level: number, chosen: string | undefined): string[] {
  const wanted = chosen ? [...path.slice(0, level - 1), chosen] : [...path];
  const out: string[] = [];
  let nodes = ctx.config.raw.categories;
  for (const id of wanted.slice(0, 3)) {
    const node = nodes?.find((n) => n.id === id);
    if (!node) break;
    out.push(node.id);
    nodes = node.children ?? [];
  }
  return out;
}

export const formTicket = (view: TicketView): FormTicket => ({
  id: view.ticket.id,
  key: view.ticket.key,
  title: view.ticket.title,
  departmentId: view.ticket.department_id,
  priority: view.ticket.priority,
});
