import type { Logger } from 'pino';
import { departmentOfChannel } from '../domain/platforms';
import { getTicketView, type TicketView } from '../app/queries';
import type { AppContext } from '../app/context';
import type { UseCaseResult } from '../app/runner';
import type { DashboardLinks } from '../chat/dashboard';
import { channelCardButtons } from '../chat/dispatcher';
import { errorText as chatErrorText } from '../chat/errors';
import { ticketCardView } from '../chat/views';
import type { Locale } from '../domain/types';
import type { FeishuApi } from './api';
import { priorityOptions } from './forms';
import type { FeishuIdentity } from './identity';
import type { FeishuLinkStore, DepartmentMembership } from './ports';
import { ticketCard, type Card } from './presenters';

/** What every Feishu listener and the sender share. Built once by createFeishuApp. */
export interface FeishuRuntime {
  ctx: AppContext;
  api: FeishuApi;
  identity: FeishuIdentity;
  links: FeishuLinkStore;
  members: DepartmentMembership;
  loadTicketView(ticketId: string): Promise<TicketView | undefined>;
  logger: Logger;
  /** `/ticket dashboard` links; absent = the dashboard is off. */
  dashboard?: DashboardLinks;
}

export function defaultTicketViewLoader(ctx: AppContext): (ticketId: string) => Promise<TicketView | undefined> {
  return (id) => getTicketView(ctx, id);
}

/** The department whose Feishu chat this is, if any. */
export function departmentOfChat(ctx: AppContext, chatId: string): string | undefined {
  return departmentOfChannel(ctx.config.departments.values(), 'feishu', chatId)?.id;
}

/** Zone a department's times are shown in (its calendar's; wall-clock departments use the first calendar's). */
export function departmentTimeZone(ctx: AppContext, departmentId: string | undefined): string {
  const dept = departmentId ? ctx.config.departments.get(departmentId) : undefined;
  const cal = dept ? ctx.calendars.get(dept.calendar) : undefined;
  return cal?.timezone ?? ctx.calendars.values().next().value?.timezone ?? 'UTC';
}

/** A coded failure in the reader's language: the chat layer's one wording (src/chat/errors.ts). */
export function errorText(ctx: AppContext, locale: Locale, error: Extract<UseCaseResult<unknown>, { ok: false }>['error']): string {
  return chatErrorText(ctx, locale, error);
}

/**
 * The card of a ticket as shown in `chatDepartmentId`'s chat (or to one person when undefined).
 * Only the department that holds the ticket gets buttons; others see where it is.
 */
export function renderTicketCard(ctx: AppContext, view: TicketView, locale: Locale, chatDepartmentId: string | undefined): Card {
  const timeZone = departmentTimeZone(ctx, chatDepartmentId ?? view.ticket.department_id);
  const model = ticketCardView(view, locale, { config: ctx.config, timeZone, now: ctx.time.now() });
  const interactive = channelCardButtons(view.ticket.department_id, chatDepartmentId);
  return ticketCard(model, { interactive, priorities: priorityOptions(locale) });
}

/**
 * Waits for `work` at most `budgetMs` (Feishu wants an answer within 3 s); a slower job goes on
 * in the background and the caller answers with `fallback`.
 */
export async function withinAckBudget<T>(work: Promise<T>, budgetMs: number, fallback: () => T, onLate: (err: unknown) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ late: true }>((resolve) => {
    timer = setTimeout(() => resolve({ late: true }), budgetMs);
  });
  try {
    const first = await Promise.race([work.then((value) => ({ late: false as const, value })), late]);
    if (first.late) {
      work.catch(onLate);
      return fallback();
    }
    return first.value;
  } finally {
    clearTimeout(timer);
  }
}
