import { categoryPath, errorFields, flatValues, FORM_IDS, FORMS, parseFormValues } from '../../src/chat/forms';
import { errorText } from '../../src/chat/errors';
import { FORM_KINDS } from '../../src/feishu/action-values';
import * as feishuForms from '../../src/feishu/forms';
import { actionFormCard } from '../../src/feishu/presenters';
import { FORM_MODALS, FORM_VIEW, MAIN_BLOCK, neutralValues } from '../../src/slack/forms';
import { feishuTestConfig } from '../fakes/feishu-harness';

const config = feishuTestConfig();
const ctx = { config, calendars: new Map() } as never;
const parse = (form: (typeof FORM_IDS)[number], raw: Record<string, string>, locale: 'en' | 'zh-CN' = 'en') => parseFormValues(FORMS[form].values(ctx, locale), raw, locale);

/** Form values are checked once, in src/chat/forms.ts, whichever platform sent them. */
describe('the form table', () => {
  it('stores a listed return reason by its id, typed text as detail; refuses an id not in the config', () => {
    expect(parse('return', { reason_id: 'wrong-department', reason: 'Not a refund', note: 'see thread' })).toEqual({ ok: true, value: { reason: 'wrong-department', note: 'Not a refund\nsee thread' } });
    expect(parse('return', { reason: 'typed by hand' })).toEqual({ ok: true, value: { reason: 'typed by hand', note: undefined } });
    // A display name is not an id (Feishu used to store it): refused, in the reader's words.
    const byName = parse('return', { reason_id: '分派错误' }, 'zh-CN');
    expect(byName).toEqual({ ok: false, error: { code: 'ticket.invalid_input', params: { field: 'reason_id', problem: '这个原因已不在列表中，请另选一个' } } });
  });

  it('parses durations and clocks the same everywhere', () => {
    expect(parse('extend', { clock: 'resolution', duration: '2h', reason: 'vendor' })).toEqual({ ok: true, value: { clock: 'resolution', duration: 7_200_000, reason: 'vendor' } });
    const bad = parse('extend', { clock: 'resolution', duration: 'soon', reason: 'x' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(errorText(ctx, 'en', bad.error)).toBe('Please check "By how long (e.g. 2h, 1d)": use a duration like 30m, 2h or 1d.');
    expect(parse('extend', { duration: '2h', reason: 'x' })).toEqual({ ok: false, error: { code: 'ticket.missing_fields', params: { fields: 'clock' } } });
  });

  it('takes scores 1–5 and known priorities only', () => {
    expect(parse('rate', { score: '5' })).toEqual({ ok: true, value: { score: 5, comment: undefined } });
    expect(parse('rate', { score: '9' }).ok).toBe(false);
    expect(parse('rate', {})).toEqual({ ok: false, error: { code: 'ticket.missing_fields', params: { fields: 'score' } } });
    expect(parse('priority', { priority: 'urgent' }).ok).toBe(true);
    expect(parse('priority', { priority: 'whenever' }).ok).toBe(false);
    expect(parse('assign', { assignee: '' })).toEqual({ ok: false, error: { code: 'ticket.missing_fields', params: { fields: 'assignee' } } });
  });

  it('reads a platform’s raw values (a multi-select gives its first choice) and names the fields of core errors', () => {
    expect(flatValues({ a: ['x', 'y'], b: 3, c: null, d: [] })).toEqual({ a: 'x', b: '3', d: '' });
    expect(errorFields({ code: 'ticket.missing_fields', params: { fields: 'title,text,device' } })).toEqual(['title', 'body', 'device']);
    expect(errorFields({ code: 'ticket.unknown_category', params: {} })).toEqual(['category']);
    expect(errorFields({ code: 'ticket.invalid_transition', params: {} })).toEqual([]);
  });

  it('follows a cascade only through categories that exist', () => {
    expect(categoryPath(ctx, ['fault'], 2, 'nope')).toEqual(['fault']);
    expect(categoryPath(ctx, ['nope', 'x'], 1, undefined)).toEqual([]);
    const first = config.raw.categories[0]!;
    const child = first.children?.[0];
    if (child) expect(categoryPath(ctx, ['other', 'gone'], 1, first.id)).toEqual([first.id]);
    if (child) expect(categoryPath(ctx, [first.id], 2, child.id)).toEqual([first.id, child.id]);
  });

  it('has a render for every form on every platform (adding a form = one entry + a render each)', () => {
    const reply = (form: (typeof FORM_IDS)[number]) => ({ kind: 'action_form' as const, form, ticket: { id: 't1', key: 'HD-1', title: 'x', departmentId: 'helpdesk', priority: 'normal' }, choices: {} });
    for (const form of FORM_IDS) {
      expect(FORM_VIEW[form]).toBeDefined();
      expect(MAIN_BLOCK[form]).toBeDefined();
      expect(FORM_MODALS[form]('en', reply(form), { ticketId: 't1' }, config).callback_id).toBe(FORM_VIEW[form]);
      expect((FORM_KINDS as readonly string[]).includes(form)).toBe(true);
      expect(JSON.stringify(actionFormCard({ locale: 'en', kind: form, formId: 'f', ticketId: 't1', ticketKey: 'HD-1', ticketTitle: 'x', priorities: [{ value: 'high', label: 'High' }], assignees: [{ value: 'feishu:ou_1', label: 'A' }], departments: [{ value: 'it', label: 'IT' }] }))).toContain(`"f":"${form}"`);
    }
  });

  it('Feishu forms take their choices from the form table only: every choice passes through, no second builder', () => {
    const choices = { templates: [{ value: 't', label: 'T' }], departments: [{ value: 'd', label: 'D' }], returnReasons: [{ value: 'r', label: 'R' }], clocks: [{ value: 'resolution', label: 'C' }], priorities: [{ value: 'high', label: 'P' }], assignees: [{ value: 'feishu:ou_1', label: 'A' }], initial: { title: 'x', body: 'y' } };
    for (const form of FORM_IDS) {
      const view = feishuForms.actionFormView('en', { kind: 'action_form', form, ticket: { id: 't1', key: 'HD-1', title: 'x', departmentId: 'it', priority: 'normal' }, choices }, 'f');
      expect(view).toMatchObject({ kind: form, ...choices });
    }
    // src/feishu/forms.ts used to build the same choices again from the config (actionForm).
    expect(Object.keys(feishuForms)).not.toContain('actionForm');
  });

  it('maps Slack blocks to the neutral names', () => {
    const state = { message: { v: { type: 'plain_text_input', value: 'hi' } }, reason_choice: { v: { type: 'static_select', selected_option: { value: 'wrong-department' } } }, target: { v: { type: 'static_select', selected_option: { value: 'it' } } }, category_1_root: { v: { type: 'static_select', selected_option: { value: 'fault' } } } };
    expect(neutralValues(state as never)).toEqual({ body: 'hi', reason_id: 'wrong-department', department: 'it', category: 'fault' });
  });
});
