import { z } from 'zod';
import { viewTicket } from '../app/access';
import type { AppContext } from '../app/context';
import { editTicket } from '../app/editTicket';
import { escalateTicket } from '../app/escalateTicket';
import { loadTicketHistory, userNames } from '../app/history';
import { recategoriseTicket } from '../app/recategoriseTicket';
import { allowedRoles, startsFrom, type Action, type Role } from '../domain/ticket';
import { PRIORITIES, PRIORITY_RANK, type Locale, type Priority, type TicketState } from '../domain/types';
import { errorText } from './errors';
import type { FormChoices, FormSpec } from './forms';
import { historyLines, historyView } from './history';
import { t } from './i18n';
import { priorityLabel } from './views';

/**
 * Issue 17's actions in chat, once for every platform: History (a private answer), Escalate…,
 * Edit… and Change category… (forms of src/chat/forms.ts, kept in this table so other issues'
 * entries merge beside them). Platforms only render: a second row of buttons on the card
 * (`TicketCardView.workflow`), their forms, and the `history` reply cut to their limits with
 * `fitHistory`.
 */
export const WORKFLOW_FORM_IDS = ['escalate', 'edit', 'recategorise'] as const;
export type WorkflowFormId = (typeof WORKFLOW_FORM_IDS)[number];

/** The card's workflow buttons, in the order shown. */
export const WORKFLOW_ACTIONS = ['history', 'edit', 'recategorise', 'escalate'] as const;
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number];

const WRITE_OF: Record<Exclude<WorkflowAction, 'history'>, Action> = { edit: 'edit', recategorise: 'recategorise', escalate: 'escalate' };

/**
 * What a card offers in a state: History until the ticket is closed (a closed card carries no
 * buttons; `/ticket show KEY --history` still answers), the writes by the core's state rule.
 */
export function workflowActions(state: TicketState): WorkflowAction[] {
  return WORKFLOW_ACTIONS.filter((a) => (a === 'history' ? state !== 'closed' : startsFrom(WRITE_OF[a], state)));
}

/** The same, cut to what a person with `roles` may do (a card shown to that person alone, e.g. the requester). */
export function workflowActionsFor(state: TicketState, roles: ReadonlySet<Role>): WorkflowAction[] {
  return workflowActions(state).filter((a) => a === 'history' || allowedRoles(WRITE_OF[a]).some((r) => roles.has(r)));
}

export function workflowLabel(locale: Locale, action: WorkflowAction): string {
  return t(locale, `ui.action.${action}`);
}

// ---------------------------------------------------------------------------------------------
// History

/** A ticket's history for one reader: permission-checked like viewing the ticket. */
export async function historyReply(ctx: AppContext, actor: { id: string; locale: Locale }, key: string, timeZone: string): Promise<{ kind: 'history'; key: string; title: string; lines: string[] } | { kind: 'text'; text: string }> {
  const found = await viewTicket(ctx, actor.id, key);
  if (!found.ok) return { kind: 'text', text: errorText(ctx, actor.locale, found.error) };
  const h = await loadTicketHistory(ctx.db, found.value.view.ticket.key);
  if (!h) return { kind: 'text', text: errorText(ctx, actor.locale, { code: 'ticket.not_visible', params: { key } }) };
  const view = historyView(ctx.config, { ...h, names: await userNames(ctx.db, h) }, actor.locale, timeZone);
  const [title = '', ...lines] = historyLines(view);
  return { kind: 'history', key: h.ticket.key, title, lines };
}

/**
 * Lines cut to a platform's budget (characters; `maxLines` too where the platform counts lines):
 * whole lines are kept from the top, and the last line says how many were left out.
 */
export function fitHistory(lines: string[], budget: { maxChars: number; maxLines?: number | undefined }, locale: Locale, key: string): string[] {
  const total = (ls: string[]) => ls.reduce((n, l) => n + [...l].length + 1, 0);
  if (total(lines) <= budget.maxChars && lines.length <= (budget.maxLines ?? Infinity)) return lines;
  const kept: string[] = [];
  const note = (cut: number) => t(locale, 'history.cut', { count: cut, key });
  for (const line of lines) {
    const next = [...kept, line];
    const cut = lines.length - next.length;
    if (total([...next, note(cut)]) > budget.maxChars || next.length + 1 > (budget.maxLines ?? Infinity)) break;
    kept.push(line);
  }
  return [...kept, note(lines.length - kept.length)];
}

// ---------------------------------------------------------------------------------------------
// Forms (entries of FORMS in src/chat/forms.ts)

const text = z.string().trim();
const optional = text.optional().transform((v) => (v ? v : undefined));

/** Typed entry, stored untyped in the table. */
function entry<V>(spec: FormSpec<V>): FormSpec<unknown> {
  return spec as FormSpec<unknown>;
}

/** The priorities an escalation may raise to: those above the current one. */
function higherPriorities(current: string, locale: Locale): FormChoices['priorities'] {
  const rank = PRIORITY_RANK[current as Priority] ?? 0;
  return PRIORITIES.filter((p) => PRIORITY_RANK[p] > rank).map((p) => ({ value: p, label: priorityLabel(locale, p) }));
}

export const WORKFLOW_FORMS: Record<WorkflowFormId, FormSpec<unknown>> = {
  escalate: entry({
    opens: 'escalate',
    mainField: 'reason',
    // The use case words a missing reason ("Please give a reason.") and refuses an unknown priority.
    values: () => z.object({ reason: text.default(''), priority: optional }),
    run: (ctx, meta, ticket, v) => escalateTicket(ctx, { meta, ticket, reason: v.reason, raiseTo: v.priority as Priority | undefined }),
    choices: (_ctx, view, locale) => ({ priorities: higherPriorities(view.ticket.priority, locale) }),
  }),
  edit: entry({
    opens: 'edit',
    mainField: 'title',
    // An emptied description is a change too (`''`); the title is required by the use case.
    values: () => z.object({ title: text.default(''), description: z.string().default('') }),
    run: (ctx, meta, ticket, v) => editTicket(ctx, { meta, ticket, title: v.title, description: v.description.trim() }),
    choices: (_ctx, view) => ({ draft: { title: view.ticket.title, description: view.ticket.description } }),
  }),
  recategorise: entry({
    opens: 'recategorise',
    mainField: 'category',
    values: () =>
      z
        .looseObject({ category: text.min(1) })
        .transform((v) => ({
          category: v.category,
          fields: Object.fromEntries(Object.entries(v).filter(([k, x]) => k.startsWith('field_') && typeof x === 'string').map(([k, x]) => [k.slice('field_'.length), String(x).trim()])),
        })),
    run: (ctx, meta, ticket, v) => recategoriseTicket(ctx, { meta, ticket, categoryId: v.category, fields: v.fields }),
    choices: (_ctx, view) => ({ category: { current: view.ticket.category_id, path: [] } }),
    // needs_fields changed nothing: a follow-up form asks for the new category's required fields.
    follow: (ctx, outcome, locale) => {
      const o = outcome as { kind?: string; categoryId?: string; missing?: string[]; ticket: { id: string; key: string; title: string; department_id: string; priority: string } };
      if (o.kind !== 'needs_fields' || !o.categoryId) return undefined;
      const leaf = ctx.config.leaves.get(o.categoryId);
      const name = leaf?.path.map((n) => n.name[locale]).join(' › ') ?? o.categoryId;
      return {
        kind: 'action_form',
        form: 'recategorise',
        ticket: { id: o.ticket.id, key: o.ticket.key, title: o.ticket.title, departmentId: o.ticket.department_id, priority: o.ticket.priority },
        choices: {
          category: { current: o.categoryId, path: leaf?.path.map((n) => n.id) ?? [], fixed: true, intro: t(locale, 'chat.recategorise.fields_intro', { category: name, key: o.ticket.key }) },
          fields: (o.missing ?? []).map((id) => {
            const def = ctx.config.raw.fields.find((f) => f.id === id);
            return { id, label: def?.name[locale] ?? id, type: def?.type ?? 'text', options: def?.options?.map((x) => ({ value: x.id, label: x.name[locale] })) };
          }),
        },
      };
    },
  }),
};
