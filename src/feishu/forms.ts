import { t } from '../chat/i18n';
import { priorityLabel } from '../chat/views';
import type { CategoryNode } from '../config/schema';
import type { Config } from '../config/model';
import { PRIORITIES, type Locale } from '../domain/types';
import type { ChatReply } from '../chat/dispatcher';
import type { ActionFormView, FieldInput, NewTicketFormView, Option } from './presenters';

/** Turns the config into the options of Feishu forms (pure: config in, presenter input out). */

export function priorityOptions(locale: Locale): Option[] {
  return [...PRIORITIES].reverse().map((p) => ({ value: p, label: priorityLabel(locale, p) }));
}

export interface NewTicketState {
  formId: string;
  path: string[];
  prefill?: NewTicketFormView['prefill'];
  problem?: string | undefined;
  intro?: string | undefined;
}

/** The new-ticket card for a category path chosen so far; invalid path parts are dropped. */
export function newTicketForm(config: Config, locale: Locale, state: NewTicketState): NewTicketFormView {
  const levels: NewTicketFormView['levels'] = [];
  const path: string[] = [];
  let nodes: CategoryNode[] | undefined = config.raw.categories;
  let leaf: CategoryNode | undefined;
  for (let depth = 0; depth < 3 && nodes?.length; depth++) {
    const chosen: CategoryNode | undefined = nodes.find((n) => n.id === state.path[depth]);
    levels.push({ options: nodes.map((n) => ({ value: n.id, label: n.name[locale] })), selected: chosen?.id });
    if (!chosen) break;
    path.push(chosen.id);
    if (chosen.children?.length) nodes = chosen.children;
    else {
      leaf = chosen;
      break;
    }
  }
  const leafInfo = leaf ? config.leaves.get(leaf.id) : undefined;
  return {
    locale,
    formId: state.formId,
    levels,
    path,
    leaf: leafInfo ? { id: leafInfo.id, fields: leafInfo.required.map((id) => fieldInput(config, locale, id)) } : undefined,
    priorities: priorityOptions(locale),
    defaultPriority: config.raw.intake.default_priority,
    prefill: state.prefill,
    problem: state.problem,
    intro: state.intro,
  };
}

/** The category path from the root to a category id (for preselecting the default category). */
export function pathTo(config: Config, categoryId: string | undefined): string[] {
  if (!categoryId) return [];
  const leaf = config.leaves.get(categoryId);
  if (leaf) return leaf.path.map((n) => n.id);
  const walk = (nodes: CategoryNode[], trail: string[]): string[] | undefined => {
    for (const n of nodes) {
      const here = [...trail, n.id];
      if (n.id === categoryId) return here;
      const found = n.children ? walk(n.children, here) : undefined;
      if (found) return found;
    }
    return undefined;
  };
  return walk(config.raw.categories, []) ?? [];
}

function fieldInput(config: Config, locale: Locale, id: string): FieldInput {
  const def = config.raw.fields.find((f) => f.id === id);
  return {
    id,
    label: def?.name[locale] ?? id,
    type: def?.type ?? 'text',
    options: def?.options?.map((o) => ({ value: o.id, label: o.name[locale] })),
    placeholder: def?.placeholder?.[locale],
  };
}

/** "account,device" (ids from the core) → "Account, Device" in the reader's language. */
export function fieldNames(config: Config, locale: Locale, ids: string): string {
  const builtin: Record<string, Parameters<typeof t>[1]> = { title: 'feishu.form.title', description: 'feishu.form.description', text: 'feishu.form.message' };
  return ids
    .split(',')
    .filter(Boolean)
    .map((id) => (builtin[id] ? t(locale, builtin[id]) : (config.raw.fields.find((f) => f.id === id)?.name[locale] ?? id)))
    .join(locale === 'zh-CN' ? '、' : ', ');
}

/**
 * A form reply as the card's input. The choices come from the chat layer's form table
 * (src/chat/forms.ts), the one source for every platform.
 */
export function actionFormView(locale: Locale, reply: Extract<ChatReply, { kind: 'action_form' }>, formId: string, config?: Config): ActionFormView {
  const c = reply.choices;
  const cascade = c.category && config && !c.category.fixed ? newTicketForm(config, locale, { formId, path: c.category.path }) : undefined;
  return {
    locale,
    kind: reply.form,
    formId,
    ticketId: reply.ticket.id,
    ticketKey: reply.ticket.key,
    ticketTitle: reply.ticket.title,
    ...(c.templates ? { templates: c.templates } : {}),
    ...(c.departments ? { departments: c.departments } : {}),
    ...(c.returnReasons ? { returnReasons: c.returnReasons } : {}),
    ...(c.clocks ? { clocks: c.clocks } : {}),
    ...(c.assignees ? { assignees: c.assignees } : {}),
    ...(c.priorities ? { priorities: c.priorities } : {}),
    ...(c.threadFiles ? { threadFiles: c.threadFiles } : {}),
    ...(c.initial ? { initial: c.initial } : {}),
    ...(c.draft ? { draft: c.draft } : {}),
    ...(c.category
      ? {
          category: c.category.fixed
            ? { levels: [], path: c.category.path, leafId: c.category.current, fixed: true, intro: c.category.intro }
            : { levels: cascade?.levels ?? [], path: cascade?.path ?? [], leafId: cascade?.leaf?.id },
        }
      : {}),
    ...(c.fields ? { fields: c.fields.map((f) => ({ id: f.id, label: f.label, type: (f.type === 'select' || f.type === 'number' ? f.type : 'text') as FieldInput['type'], options: f.options })) } : {}),
  };
}

