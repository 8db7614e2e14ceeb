import type { AppContext } from '../../src/app/context';
import type { TicketView } from '../../src/app/queries';
import { FORMS, type FormChoices, type FormId } from '../../src/chat/forms';
import type { Config } from '../../src/config/model';
import type { Locale } from '../../src/domain/types';
import { actionFormView } from '../../src/feishu/forms';
import type { ActionFormView } from '../../src/feishu/presenters';

/**
 * A Feishu form card's input the way the bot builds it: the chat layer's form table
 * (src/chat/forms.ts) gives the choices, `actionFormView` turns the `action_form` reply into the
 * card's input. Choices that need the database (Assign's members, Save as answer's resolution
 * note) are given by the test in `choices`; the survey is not a form of the table (the sender
 * builds it), so it has no choices.
 */
export async function feishuForm(
  config: Config,
  locale: Locale,
  kind: FormId | 'survey',
  o: { formId: string; ticket: { id: string; key: string; title: string; departmentId: string }; runningClocks?: string[]; choices?: FormChoices; problem?: string },
): Promise<ActionFormView> {
  const base: ActionFormView = { locale, kind, formId: o.formId, ticketId: o.ticket.id, ticketKey: o.ticket.key, ticketTitle: o.ticket.title };
  if (kind === 'survey') return { ...base, ...(o.problem ? { problem: o.problem } : {}) };
  const view = {
    ticket: { id: o.ticket.id, key: o.ticket.key, title: o.ticket.title, department_id: o.ticket.departmentId, priority: 'normal' },
    clocks: (o.runningClocks ?? []).map((k) => ({ kind: k, status: 'running' })),
  } as unknown as TicketView;
  const spec = FORMS[kind];
  const fromTable = spec.choices && kind !== 'assign' && kind !== 'save_answer' ? await spec.choices({ config } as AppContext, view, locale) : {};
  const ticket = { id: o.ticket.id, key: o.ticket.key, title: o.ticket.title, departmentId: o.ticket.departmentId, priority: 'normal' };
  const card = actionFormView(locale, { kind: 'action_form', form: kind, ticket, choices: { ...fromTable, ...o.choices } }, o.formId);
  return { ...card, ...(o.problem ? { problem: o.problem } : {}) };
}
