import type { AppContext } from '../app/context';
import type { Locale } from '../domain/types';
import { isMessageKey, t, type MessageKey } from './i18n';
import { localizeParams } from './views';

/** A coded failure from the core (a use case or a read). */
export interface CoreError {
  code: string;
  params: Record<string, string | number>;
}

/** The zone for times written as text when the reader's own is unknown: the first department's calendar, else UTC. */
export function defaultTimeZone(ctx: Pick<AppContext, 'config' | 'calendars'>): string {
  const first = ctx.config.departments.values().next().value;
  return (first && ctx.calendars.get(first.calendar)?.timezone) ?? ctx.calendars.values().next().value?.timezone ?? 'UTC';
}

const BUILTIN_FIELDS: Record<string, MessageKey> = { title: 'feishu.form.title', description: 'feishu.form.description', text: 'feishu.form.message' };

/** The neutral fields of the forms (src/chat/forms.ts), when a config field does not have the id. */
const FORM_FIELDS: Record<string, MessageKey> = {
  body: 'feishu.form.message',
  template: 'feishu.form.template',
  assignee: 'feishu.form.assignee',
  priority: 'feishu.form.priority',
  reason: 'feishu.form.reason',
  reason_id: 'feishu.form.reason',
  department: 'feishu.form.target_department',
  note: 'feishu.form.note',
  clock: 'feishu.form.clock',
  duration: 'feishu.form.duration',
  score: 'feishu.form.score',
  comment: 'feishu.form.comment',
  category: 'feishu.form.category.1',
};

/** A field id in the reader's words (built-in title/description/message, or the config's field name). */
export function fieldLabel(ctx: Pick<AppContext, 'config'>, locale: Locale, id: string): string {
  const builtin = BUILTIN_FIELDS[id];
  if (builtin) return t(locale, builtin);
  const configured = ctx.config.raw.fields.find((f) => f.id === id)?.name[locale];
  if (configured) return configured;
  const formField = FORM_FIELDS[id];
  return formField ? t(locale, formField) : id;
}

/**
 * Every core error in the reader's language, the same on every platform: states, priorities,
 * clocks, times, field ids and department ids in the error's parameters become their labels.
 */
/**
 * `escape` is the platform's escaping of user-typed text (parameters can echo what a person typed:
 * a key, a department), e.g. Slack mrkdwn's `&<>`, so a parameter can never ping or link.
 */
export function errorText(ctx: Pick<AppContext, 'config' | 'calendars'>, locale: Locale, error: CoreError, timeZone = defaultTimeZone(ctx), escape: (text: string) => string = (text) => text): string {
  const params = localizeParams(error.params, locale, timeZone);
  const sep = locale === 'en' ? ', ' : '、';
  if (typeof error.params.fields === 'string')
    params.fields = error.params.fields
      .split(',')
      .filter(Boolean)
      .map((id) => fieldLabel(ctx, locale, id))
      .join(sep);
  if (typeof error.params.field === 'string') params.field = fieldLabel(ctx, locale, error.params.field);
  const deptName = (id: string) => ctx.config.departments.get(id)?.name[locale] ?? id;
  for (const name of ['department', 'yours', 'departments'] as const) {
    const v = error.params[name];
    if (typeof v === 'string') params[name] = v.split(', ').map(deptName).join(sep);
  }
  for (const [name, value] of Object.entries(params)) if (typeof value === 'string') params[name] = escape(value);
  const key = `error.${error.code}`;
  return t(locale, isMessageKey(key) ? key : 'error.internal', params);
}
