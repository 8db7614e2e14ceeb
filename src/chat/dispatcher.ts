import { statsScope, viewQueue, viewTicket } from '../app/access';
import { setQuietHours } from '../app/quietHours';
import { escalateTicket } from '../app/escalateTicket';
import type { AppContext, Attachment, CommandMeta } from '../app/context';
import type { TicketSource } from '../app/createTicket';
import { addNote, requesterReply } from '../app/messages';
import { markSensitive } from '../app/closing';
import { assignTicket } from '../app/assignTicket';
import { changePriority } from '../app/changePriority';
import { claimTicket } from '../app/claimTicket';
import { confirmFixed, rateTicket, reopenTicket } from '../app/closing';
import { getTicketView, listMine, listWaitingOn, type TicketView } from '../app/queries';
import { searchKnowledgeBase } from '../app/kb';
import { submitFeedback } from '../app/submitFeedback';
import { setLanguage } from '../app/users';
import { isStaff } from '../domain/access';
import type { Role } from '../domain/ticket';
import { PRIORITIES, type Locale, type Platform, type Priority } from '../domain/types';
import { metricDefinitionLines, policySummary } from '../reports/docs';
import { rt as reportText } from '../reports/i18n';
import { formatStatsText } from '../reports/stats';
import { reportsOf, ReportTimeout } from '../reports/runner';
import { parseTicketCommand, periodDays, type TicketCommand } from './commands';
import type { DashboardLinks } from './dashboard';
import { defaultTimeZone, errorText, type CoreError } from './errors';
import { categoryPath, errorFields, flatValues, formTicket, FORMS, parseFormValues, type FormChoices, type FormId, type FormTicket, type RawFormValues } from './forms';
import { onKnowledge, raiseInChat, type KbAction, type KbReply } from './deflection';
import { t } from './i18n';
import { ticketCardView, ticketListItem, type TicketCardView, type TicketListItem } from './views';
import { historyReply, workflowActionsFor } from './workflow-actions';

/**
 * The inbound contract. Each platform turns its payloads into an Intent (who, what, a dedup key
 * and where to answer); `dispatch` runs it through the core and returns neutral view models
 * (ChatReply); the platform renders them (Block Kit, Feishu card JSON) and sends them. Every answer
 * is private to the actor: the platform's `privateAnswer` capability decides how (Slack: ephemeral,
 * Feishu: a DM). Nothing here knows which platform it serves.
 */
export interface ChatActor {
  /** Our user id (`slack:U0123`, `feishu:ou_x`). */
  id: string;
  locale: Locale;
  timeZone?: string | undefined;
}

interface IntentBase<Target> {
  actor: ChatActor;
  platform: Platform;
  /** The inbound event's key: a retry of the same request is recognised by the core. */
  dedupKey: string;
  /** Where the platform answers (opaque here). */
  replyTarget: Target;
  /** The platform's reference of the inbound message (kept with what it creates). */
  messageRef?: string | undefined;
}

export type Intent<Target = unknown> =
  /** `/ticket …` or `/工单 …` (the text after the command word). */
  | (IntentBase<Target> & {
      kind: 'command';
      text: string;
      source?: TicketSource | undefined;
      attachments?: Attachment[] | undefined;
      /** The text of the message the command answers (`/ticket` as a reply): the form opens prefilled with it. */
      quoted?: string | undefined;
    })
  /**
   * A message to the bot. In a thread the platform links to a ticket (`thread`): in the card's
   * thread an internal note, in the requester's thread their answer. Otherwise a new ticket or
   * "which ticket is this about?".
   */
  | (IntentBase<Target> & {
      kind: 'message';
      text: string;
      source?: TicketSource | undefined;
      attachments?: Attachment[] | undefined;
      thread?: { ticket: string; role: 'card' | 'requester_thread' } | undefined;
    })
  /**
   * A reaction on a message (`emoji`: the platform's name of it). The intake reaction
   * (config `intake.reaction`) raises a ticket from the message it points at (`text`, its files and
   * where it was), like a message to the bot; any other reaction does nothing.
   */
  | (IntentBase<Target> & {
      kind: 'reaction';
      emoji: string;
      text: string;
      source?: TicketSource | undefined;
      attachments?: Attachment[] | undefined;
    })
  /** A button that opens a form about its ticket (src/chat/forms.ts); `clock` preselects Extend's deadline. */
  | (IntentBase<Target> & { kind: 'open_form'; form: FormId; ticket: string; clock?: string | undefined })
  /**
   * A form submitted: values under the neutral names of src/chat/forms.ts. `new` is the new-ticket
   * form: `category`, `title`, `description`, `priority` and `field_<id>` for the category's fields.
   */
  | (IntentBase<Target> & {
      kind: 'submit';
      form: FormId | 'new';
      ticket?: string | undefined;
      values: RawFormValues;
      source?: TicketSource | undefined;
      attachments?: Attachment[] | undefined;
    })
  /** A category select of the new-ticket form changed at `level` (1–3): the path it leads to. */
  | (IntentBase<Target> & { kind: 'cascade'; path: string[]; level: number; chosen: string | undefined })
  /** The answer to "which ticket is this about?" (a ticket id or `new`). */
  | (IntentBase<Target> & { kind: 'choice'; choice: ChoiceValue })
  /** A button that shows a ticket's card to the presser alone ("Open", "Show"). */
  | (IntentBase<Target> & { kind: 'open'; ticket: string })
  /** The card's History button: the ticket's history, to the presser alone (issue 17). */
  | (IntentBase<Target> & { kind: 'history'; ticket: string })
  /** A button that acts at once on its ticket (claim, take over, Fixed? yes/no, a survey score, a priority). */
  | (IntentBase<Target> & { kind: 'press'; action: PressAction; ticket: string; score?: number | undefined; priority?: Priority | undefined })
  /** Knowledge base (issue 18, src/chat/deflection.ts): "Solved" / "Still need help" on an offer, "Send as reply" on a card. */
  | (IntentBase<Target> & KbAction);

export type PressAction = 'claim' | 'take_over' | 'confirm' | 'reopen' | 'rate' | 'priority' | 'mark_sensitive' | 'unmark_sensitive';

/** What a "which ticket?" button carries: the choice, the original message's key and its text. */
export interface ChoiceValue {
  c: string;
  k: string;
  x: string;
}

/** Neutral view models; every one is shown to the actor alone. */
export type ChatReply =
  | { kind: 'text'; text: string }
  | { kind: 'info'; title: string; lines: string[] }
  | { kind: 'lists'; title: string; sections: { title: string; items: TicketListItem[] }[] }
  | { kind: 'ticket'; view: TicketView; card: TicketCardView; buttons: boolean }
  /** The new-ticket form: prefilled, at the category when known, saying what is missing. */
  | { kind: 'form'; draft: { title: string; description: string }; categoryId?: string | undefined; missing: string[]; problem?: string | undefined }
  /** A question answered with one tap: each option's value goes back as a `choice` intent. */
  | { kind: 'choose'; text: string; options: { label: string; value: ChoiceValue; primary?: boolean }[] }
  /** Must reach the actor's direct chat with the bot, never a channel (signed links); `pointer` is said where they asked, if elsewhere. */
  | { kind: 'direct'; text: string; pointer: string }
  /** A form about one ticket, for the actor to fill in (the platform renders form `form`). */
  | { kind: 'action_form'; form: FormId; ticket: FormTicket; choices: FormChoices; clock?: string | undefined }
  /** A submitted form was refused: the message, and the neutral fields it is about (none: the form's main field). */
  | { kind: 'invalid'; text: string; fields: { field: string; text: string }[]; categoryId?: string | undefined }
  /** The category path a cascade select leads to (the platform redraws its form at it). */
  | { kind: 'category_path'; path: string[] }
  /** Articles offered before a ticket is raised (src/chat/deflection.ts): "Solved" / "Still need help" come back as `kb` intents. */
  | KbReply
  /** A ticket's history (issue 17): the platform cuts `lines` to its limits with `fitHistory` (src/chat/workflow-actions.ts). */
  | { kind: 'history'; key: string; title: string; lines: string[] };

export interface Answer {
  replies: ChatReply[];
  /** A press or form that took effect (or had already, by the same person): the ticket it acted on. */
  done?: { key: string; title?: string | undefined; duplicate?: boolean | undefined } | undefined;
  /** Set after `/ticket lang`: the platform refreshes what it caches about the actor. */
  localeChanged?: Locale | undefined;
}

export interface ChatDeps {
  ctx: AppContext;
  dashboard?: DashboardLinks | undefined;
}

/** Longest text a choice button carries (button values are small on every platform). */
export const CHOICE_TEXT_MAX = 1500;

export function zoneOf(ctx: AppContext, actor: ChatActor): string {
  return actor.timeZone ?? defaultTimeZone(ctx);
}

const text = (body: string): ChatReply => ({ kind: 'text', text: body });

function meta(intent: IntentBase<unknown>, dedupKey = intent.dedupKey): CommandMeta {
  return { actorId: intent.actor.id, platform: intent.platform, eventKey: dedupKey, ...(intent.messageRef ? { messageRef: intent.messageRef } : {}) };
}

/** Title and description from free text: the first line (cut) and the whole text. */
export function draftFromText(body: string): { title: string; description: string } {
  const clean = body.trim();
  const firstLine = clean.split('\n')[0]?.trim() ?? '';
  const chars = [...firstLine];
  return { title: chars.length <= 100 ? firstLine : chars.slice(0, 99).join('') + '…', description: clean };
}

/** Which cards carry buttons, one rule: a card shown to one person has them when that person is staff of the ticket. */
export function privateCardButtons(roles: ReadonlySet<Role>): boolean {
  return isStaff(roles);
}

/** A card in a department's channel has buttons only in the department that holds the ticket. */
export function channelCardButtons(ticketDepartmentId: string, channelDepartmentId: string | undefined): boolean {
  return channelDepartmentId === undefined || channelDepartmentId === ticketDepartmentId;
}

export async function dispatch(deps: ChatDeps, intent: Intent): Promise<Answer> {
  switch (intent.kind) {
    case 'command':
      return runCommand(deps, intent, parseTicketCommand(deps.ctx.config, intent.text));
    case 'message':
      return onMessage(deps, intent);
    case 'reaction':
      return onReaction(deps, intent);
    case 'choice':
      return onChoice(deps, intent);
    case 'open':
      return { replies: [await ticketReply(deps, intent.actor, intent.ticket)] };
    case 'history':
      return { replies: [await historyReply(deps.ctx, intent.actor, intent.ticket, zoneOf(deps.ctx, intent.actor))] };
    case 'press':
      return onPress(deps, intent);
    case 'open_form':
      return openForm(deps, intent);
    case 'submit':
      return intent.form === 'new' ? submitNewTicket(deps, intent) : submitForm(deps, intent, intent.form);
    case 'cascade':
      return { replies: [{ kind: 'category_path', path: categoryPath(deps.ctx, intent.path, intent.level, intent.chosen) }] };
    case 'kb':
      return onKnowledge(deps.ctx, intent, intent);
  }
}

/** A "…" button: the form, if the permission matrix lets the actor do the write it leads to. */
async function openForm(deps: ChatDeps, intent: Extract<Intent, { kind: 'open_form' }>): Promise<Answer> {
  const { ctx } = deps;
  const spec = FORMS[intent.form];
  const found = await viewTicket(ctx, intent.actor.id, intent.ticket, { opens: spec.opens });
  if (!found.ok) return { replies: [text(errorText(ctx, intent.actor.locale, found.error))] };
  const view = found.value.view;
  const choices = spec.choices ? await spec.choices(ctx, view, intent.actor.locale) : {};
  const files = spec.offeredFiles ? await spec.offeredFiles(ctx, view) : [];
  if (files.length) choices.threadFiles = files;
  return { replies: [{ kind: 'action_form', form: intent.form, ticket: formTicket(view), choices, clock: intent.clock }] };
}

function refused(deps: ChatDeps, actor: ChatActor, error: CoreError, extra: { categoryId?: string | undefined } = {}): Answer {
  const say = (e: CoreError) => errorText(deps.ctx, actor.locale, e, zoneOf(deps.ctx, actor));
  const whole = say(error);
  // Each missing field says only its own name; other errors are the same text at each field.
  const fields = errorFields(error).map((field) => ({
    field,
    text: error.code === 'ticket.missing_fields' ? say({ code: error.code, params: { fields: field === 'body' ? 'text' : field } }) : whole,
  }));
  return { replies: [{ kind: 'invalid', text: whole, fields, ...extra }] };
}

/** A form about one ticket submitted: values parsed once (the form's schema), then its use case. */
async function submitForm(deps: ChatDeps, intent: Extract<Intent, { kind: 'submit' }>, form: FormId): Promise<Answer> {
  const { ctx } = deps;
  const spec = FORMS[form];
  const parsed = parseFormValues(spec.values(ctx, intent.actor.locale), flatValues(intent.values), intent.actor.locale);
  if (!parsed.ok) return refused(deps, intent.actor, parsed.error);
  // Files the form picked from the card's thread (Reply…'s thread_files) go with the platform's own.
  const picked = spec.pickedFiles ? await spec.pickedFiles(ctx, intent.ticket ?? '', intent.values) : [];
  const attachments = picked.length ? [...(intent.attachments ?? []), ...picked] : intent.attachments;
  const r = await spec.run(ctx, meta(intent), intent.ticket ?? '', parsed.value, attachments);
  if (!r.ok) return refused(deps, intent.actor, r.error);
  const follow = spec.follow?.(ctx, r.value, intent.actor.locale);
  if (follow) return { replies: [follow] };
  return { replies: [], done: { key: r.value.ticket.key, title: r.value.ticket.title, duplicate: r.duplicate ?? false } };
}

/** The new-ticket form: the chosen category must be a leaf; the core checks the rest. */
async function submitNewTicket(deps: ChatDeps, intent: Extract<Intent, { kind: 'submit' }>): Promise<Answer> {
  const { ctx } = deps;
  const v = flatValues(intent.values);
  const categoryId = (v.category ?? '').trim();
  if (!ctx.config.leaves.has(categoryId)) return refused(deps, intent.actor, { code: 'ticket.unknown_category', params: { category: '' } });
  const fields: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) if (k.startsWith('field_')) fields[k.slice('field_'.length)] = value.trim();
  const priority = (v.priority ?? '').trim();
  // Matching articles first, when the category deflects (src/chat/deflection.ts).
  const raised = await raiseInChat(ctx, intent, {
    meta: { ...meta(intent), ...(intent.source?.permalink ? { messageRef: intent.source.permalink } : {}) },
    categoryId,
    priority: (PRIORITIES as readonly string[]).includes(priority) ? (priority as Priority) : undefined,
    title: (v.title ?? '').trim(),
    description: (v.description ?? '').trim(),
    fields,
    attachments: intent.attachments ?? [],
    source: intent.source,
    locale: intent.actor.locale,
  });
  if ('offered' in raised) return { replies: raised.offered };
  const r = raised.result;
  if (!r.ok) return refused(deps, intent.actor, r.error, { categoryId });
  return { replies: [], done: { key: r.value.ticket.key, title: r.value.ticket.title, duplicate: r.duplicate ?? false } };
}

/**
 * Buttons that act at once. A second Claim by the person who already has the ticket is no error
 * (a double click): it answers as done, saying nothing, on every platform.
 */
async function onPress(deps: ChatDeps, intent: Extract<Intent, { kind: 'press' }>): Promise<Answer> {
  const { ctx } = deps;
  const { actor, ticket } = intent;
  const m = meta(intent);
  const run = async () => {
    switch (intent.action) {
      case 'claim':
        return claimTicket(ctx, { meta: m, ticket });
      case 'take_over':
        return assignTicket(ctx, { meta: m, ticket, assigneeId: actor.id });
      case 'confirm':
        return confirmFixed(ctx, { meta: m, ticket });
      case 'reopen':
        return reopenTicket(ctx, { meta: m, ticket });
      case 'rate':
        return rateTicket(ctx, { meta: m, ticket, score: intent.score ?? 0 });
      case 'priority':
        return changePriority(ctx, { meta: m, ticket, priority: intent.priority ?? ('' as Priority) });
      case 'mark_sensitive':
      case 'unmark_sensitive':
        return markSensitive(ctx, { meta: m, ticket, sensitive: intent.action === 'mark_sensitive' });
    }
  };
  const r = await run();
  if (r.ok) return { replies: [], done: { key: r.value.ticket.key } };
  if (r.error.code === 'ticket.already_assigned' && intent.action === 'claim') {
    const mine = await getTicketView(ctx, ticket);
    if (mine?.ticket.assignee_id === actor.id) return { replies: [], done: { key: mine.ticket.key } };
  }
  return { replies: [text(errorText(ctx, actor.locale, r.error, zoneOf(ctx, actor)))] };
}

async function ticketReply(deps: ChatDeps, actor: ChatActor, key: string): Promise<ChatReply> {
  const { ctx } = deps;
  const found = await viewTicket(ctx, actor.id, key);
  if (!found.ok) return text(errorText(ctx, actor.locale, found.error));
  const card = ticketCardView(found.value.view, actor.locale, { config: ctx.config, timeZone: zoneOf(ctx, actor), now: ctx.time.now() });
  const staff = privateCardButtons(found.value.roles);
  // A card shown to someone who is not staff (the requester) keeps only the workflow buttons they may use.
  const workflow = workflowActionsFor(card.state, found.value.roles);
  if (!staff) return { kind: 'ticket', view: found.value.view, card: { ...card, actions: [], menu: [], workflow }, buttons: workflow.length > 0 };
  return { kind: 'ticket', view: found.value.view, card: { ...card, workflow }, buttons: true };
}

async function runCommand(deps: ChatDeps, intent: Extract<Intent, { kind: 'command' }>, cmd: TicketCommand): Promise<Answer> {
  const { ctx } = deps;
  const { actor } = intent;
  const lc = actor.locale;
  const fail = (error: CoreError): Answer => ({ replies: [text(errorText(ctx, lc, error, zoneOf(ctx, actor)))] });
  const unknownDepartment = (typed: string): Answer => {
    const known = [...ctx.config.departments.values()].map((d) => `${d.id} (${d.name[lc]})`).join(', ');
    return { replies: [text(reportText(lc, 'stats.unknown_department', { department: typed, known }))] };
  };
  switch (cmd.kind) {
    case 'new':
      return { replies: [{ kind: 'form', draft: intent.quoted ? draftFromText(intent.quoted) : { title: '', description: '' }, missing: [] }] };
    case 'quick':
      return { replies: await quickCreate(deps, intent, cmd.text, intent.attachments, intent.source, true) };
    case 'help':
      return { replies: [text(t(lc, 'chat.help'))] };
    case 'unknown':
      return { replies: [text(`${t(lc, 'chat.unknown', { word: cmd.word })}\n\n${t(lc, 'chat.help')}`)] };
    case 'mine': {
      const mine = await listMine(ctx, actor.id);
      const zone = zoneOf(ctx, actor);
      return {
        replies: [
          {
            kind: 'lists',
            title: t(lc, 'chat.mine.title'),
            sections: [
              { title: t(lc, 'chat.mine.assigned'), items: mine.assigned.slice(0, 20).map((r) => ticketListItem(r, lc, zone)) },
              { title: t(lc, 'chat.mine.requested'), items: mine.requested.slice(0, 20).map((r) => ticketListItem(r, lc, zone)) },
            ],
          },
        ],
      };
    }
    case 'queue': {
      if (cmd.departmentText && !cmd.departmentId) return unknownDepartment(cmd.departmentText);
      const queue = await viewQueue(ctx, actor.id, cmd.departmentId, 30);
      if (!queue.ok) return fail(queue.error);
      const name = ctx.config.departments.get(queue.value.departmentId)!.name[lc];
      const zone = zoneOf(ctx, actor);
      const title = t(lc, 'chat.queue.title', { department: name });
      return { replies: [{ kind: 'lists', title, sections: [{ title: name, items: queue.value.items.map((r) => ticketListItem(r, lc, zone)) }] }] };
    }
    case 'show':
      if (cmd.key === '') return { replies: [text(t(lc, cmd.history ? 'chat.history.usage' : 'chat.show.usage'))] };
      if (cmd.history) return { replies: [await historyReply(ctx, actor, cmd.key, zoneOf(ctx, actor))] };
      return { replies: [await ticketReply(deps, actor, cmd.key)] };
    // issue 17: "this is urgent", typed (the requester has no card in a channel).
    case 'escalate': {
      if (cmd.key === '' || cmd.reason === '') return { replies: [text(t(lc, 'chat.escalate.usage'))] };
      const r = await escalateTicket(ctx, { meta: meta(intent), ticket: cmd.key, reason: cmd.reason });
      return r.ok ? { replies: [text(t(lc, 'chat.escalate.done', { key: r.value.ticket.key }))], done: { key: r.value.ticket.key } } : fail(r.error);
    }
    case 'stats': {
      if (cmd.departmentText && !cmd.departmentId) return unknownDepartment(cmd.departmentText);
      const scope = await statsScope(ctx, actor.id, cmd.departmentId, periodDays(cmd.periodText) ?? cmd.days);
      if (!scope.ok) return fail(scope.error);
      // Off the event loop (a report worker, issue 16); too long a report is cancelled and said so.
      const result = await reportsOf(ctx)
        .run({ kind: 'stats', nowMs: ctx.time.now().getTime(), request: scope.value })
        .catch((err: unknown) => (err instanceof ReportTimeout ? ('too_long' as const) : Promise.reject(err)));
      if (result === 'too_long') return { replies: [text(t(lc, 'chat.stats.too_long'))] };
      if (!result.ok) return fail(result.error);
      const [title = '', ...lines] = formatStatsText(result.value, lc).split('\n');
      return { replies: [{ kind: 'info', title, lines }] };
    }
    // The published definitions (one source text with docs, /ticket policy and the dashboard's "?").
    case 'stats_help':
      return { replies: [{ kind: 'info', title: t(lc, 'chat.stats.help_title'), lines: [t(lc, 'chat.stats.help_usage'), ...metricDefinitionLines(lc)] }] };
    case 'policy': {
      const [title = '', ...lines] = policySummary(ctx.config, lc);
      return { replies: [{ kind: 'info', title, lines }] };
    }
    case 'dashboard': {
      const link = deps.dashboard ? await deps.dashboard.linkFor(actor.id, lc) : ({ kind: 'off' } as const);
      if (link.kind === 'off') return { replies: [text(t(lc, 'dashboard.off'))] };
      if (link.kind === 'denied') return { replies: [text(t(lc, 'dashboard.denied'))] };
      return { replies: [{ kind: 'direct', text: t(lc, 'dashboard.link', { url: link.url }), pointer: t(lc, 'dashboard.sent') }] };
    }
    case 'feedback': {
      if (cmd.text === '') return { replies: [text(t(lc, 'chat.feedback.usage'))] };
      const r = await submitFeedback(ctx, { meta: meta(intent), text: cmd.text });
      return r.ok ? { replies: [text(t(lc, 'chat.feedback.thanks'))] } : fail(r.error);
    }
    case 'kb': {
      if (cmd.text === '') return { replies: [text(t(lc, 'chat.kb.usage'))] };
      // Articles in the asker's language first; when none match, any language.
      let hits = await searchKnowledgeBase(ctx, cmd.text, { lang: lc, limit: 5 });
      if (hits.length === 0) hits = await searchKnowledgeBase(ctx, cmd.text, { limit: 5 });
      if (hits.length === 0) return { replies: [text(t(lc, 'chat.kb.none', { words: cmd.text }))] };
      return { replies: [{ kind: 'info', title: t(lc, 'chat.kb.title', { words: cmd.text }), lines: hits.map((h, i) => `${i + 1}. ${h.title}`) }] };
    }
    case 'lang': {
      if (!cmd.locale) return { replies: [text(t(lc, 'chat.lang.usage'))] };
      await setLanguage(ctx, actor.id, cmd.locale);
      return { replies: [text(t(cmd.locale, 'chat.lang.set'))], localeChanged: cmd.locale };
    }
    // issue 17: quiet hours (the use case reads the range; an unreadable one answers quiet.invalid).
    case 'quiet': {
      const r = await setQuietHours(ctx, { meta: meta(intent), range: cmd.range });
      if (!r.ok) return fail(r.error);
      return { replies: [text(r.value.on ? t(lc, 'chat.quiet.set', { start: r.value.start, end: r.value.end, zone: r.value.zone }) : t(lc, 'chat.quiet.off'))] };
    }
  }
}

/** Whether a reaction is the intake reaction (config `intake.reaction`): a platform may ask before fetching the message. */
export function isIntakeReaction(ctx: AppContext, emoji: string): boolean {
  const wanted = ctx.config.raw.intake.reaction;
  return wanted !== undefined && wanted !== '' && emoji === wanted;
}

/** The intake reaction raises a ticket from the message (quietly, like a message to the bot); others do nothing. */
async function onReaction(deps: ChatDeps, intent: Extract<Intent, { kind: 'reaction' }>): Promise<Answer> {
  if (!isIntakeReaction(deps.ctx, intent.emoji)) return { replies: [] };
  return { replies: await quickCreate(deps, intent, intent.text, intent.attachments, intent.source, false) };
}

/**
 * `/ticket <text>`, a message to the bot, a reaction: the same effect everywhere. The ticket is
 * raised at once in the intake's default category; a form only when that is not possible
 * (no default category, or required fields missing).
 */
async function quickCreate(
  deps: ChatDeps,
  intent: IntentBase<unknown>,
  body: string,
  attachments: Attachment[] | undefined,
  source: TicketSource | undefined,
  confirm: boolean,
  dedupKey = intent.dedupKey,
): Promise<ChatReply[]> {
  const { ctx } = deps;
  const lc = intent.actor.locale;
  const draft = draftFromText(body);
  const categoryId = ctx.config.raw.intake.default_category;
  if (!categoryId) return [{ kind: 'form', draft, missing: [], problem: t(lc, 'chat.no_default_category') }];
  // Matching articles first, when the category deflects (src/chat/deflection.ts).
  const raised = await raiseInChat(ctx, { ...intent, dedupKey }, {
    meta: { ...meta(intent, dedupKey), ...(source?.permalink ? { messageRef: source.permalink } : {}) },
    categoryId,
    title: draft.title,
    description: draft.description,
    fields: {},
    attachments: attachments ?? [],
    source,
    locale: lc,
  });
  if ('offered' in raised) return raised.offered;
  const result = raised.result;
  if (result.ok) return confirm && !result.duplicate ? [text(t(lc, 'chat.created', { key: result.value.ticket.key, title: result.value.ticket.title }))] : [];
  const problem = errorText(ctx, lc, result.error, zoneOf(ctx, intent.actor));
  if (result.error.code === 'ticket.missing_fields') {
    const missing = String(result.error.params.fields ?? '').split(',').filter((f) => f && f !== 'title');
    return [{ kind: 'form', draft, categoryId, missing, problem }];
  }
  return [text(problem)];
}

/**
 * A message to the bot outside any ticket thread. When tickets wait on this requester's answer,
 * the message is probably one: ask which, in one tap (or "new ticket"). Otherwise it raises one.
 */
async function onMessage(deps: ChatDeps, intent: Extract<Intent, { kind: 'message' }>): Promise<Answer> {
  const { ctx } = deps;
  if (intent.text.trim() === '' && !intent.attachments?.length) return { replies: [] };
  if (intent.thread) {
    const cmd = { meta: meta(intent), ticket: intent.thread.ticket, body: intent.text, attachments: intent.attachments };
    const r = intent.thread.role === 'card' ? await addNote(ctx, cmd) : await requesterReply(ctx, cmd);
    return r.ok ? { replies: [], done: { key: r.value.ticket.key } } : { replies: [text(errorText(ctx, intent.actor.locale, r.error, zoneOf(ctx, intent.actor)))] };
  }
  const waiting = await listWaitingOn(ctx, intent.actor.id);
  if (waiting.length > 0 && intent.text.trim() !== '') {
    const x = [...intent.text.trim()].slice(0, CHOICE_TEXT_MAX).join('');
    const options = waiting.map((w) => ({ label: `${w.key} ${w.title}`.slice(0, 70), value: { c: w.id, k: intent.dedupKey, x }, primary: false }));
    options.push({ label: t(intent.actor.locale, 'chat.which_ticket.new'), value: { c: 'new', k: intent.dedupKey, x }, primary: false });
    options[0]!.primary = true;
    return { replies: [{ kind: 'choose', text: t(intent.actor.locale, 'chat.which_ticket'), options }] };
  }
  return { replies: await quickCreate(deps, intent, intent.text, intent.attachments, intent.source, false) };
}

/** One tap on "which ticket?": the text goes to that ticket as the requester's answer, or raises a new one. */
async function onChoice(deps: ChatDeps, intent: Extract<Intent, { kind: 'choice' }>): Promise<Answer> {
  const { ctx } = deps;
  const lc = intent.actor.locale;
  // Both answers share one key: whichever tap comes first wins, a second does nothing.
  const key = `${intent.choice.k}:which`;
  if (intent.choice.c === 'new') {
    const replies = await quickCreate(deps, intent, intent.choice.x, undefined, undefined, true, key);
    return { replies: replies.length ? replies : [text(t(lc, 'chat.choice.expired'))] };
  }
  const r = await requesterReply(ctx, { meta: meta(intent, key), ticket: intent.choice.c, body: intent.choice.x });
  if (!r.ok) return { replies: [text(errorText(ctx, lc, r.error, zoneOf(ctx, intent.actor)))] };
  if (r.duplicate) return { replies: [text(t(lc, 'chat.choice.expired'))] };
  return { replies: [text(t(lc, 'chat.which_ticket.added', { key: r.value.ticket.key }))] };
}

/** A department's figures as text (title line first), for those the matrix lets see them (App Home, digests in chat). */
export async function departmentFigures(ctx: AppContext, actor: ChatActor, departmentId: string, days: number): Promise<string | undefined> {
  const scope = await statsScope(ctx, actor.id, departmentId, days);
  if (!scope.ok) return undefined;
  const summary = await reportsOf(ctx).run({ kind: 'stats', nowMs: ctx.time.now().getTime(), request: scope.value });
  return summary.ok ? formatStatsText(summary.value, actor.locale) : undefined;
}
