import { t } from '../../src/chat/i18n';
import { fitHistory, workflowActions, workflowActionsFor, WORKFLOW_FORMS } from '../../src/chat/workflow-actions';
import { parseFormValues } from '../../src/chat/forms';
import { feishuTestConfig } from '../fakes/feishu-harness';

const config = feishuTestConfig();
const ctx = { config, calendars: new Map() } as never;

/** Issue 17's chat helpers (src/chat/workflow-actions.ts): which buttons, how a long history is cut, the forms' values. */
describe('issue 17 in chat: workflow actions', () => {
  it('offers the row by state: the writes while open, History until closed', () => {
    expect(workflowActions('in_progress')).toEqual(['history', 'edit', 'recategorise', 'escalate']);
    expect(workflowActions('resolved')).toEqual(['history']);
    expect(workflowActions('closed')).toEqual([]);
  });

  it('cuts the row to what a person may do: the requester gets History, Edit…, Escalate…, never Change category…', () => {
    expect(workflowActionsFor('new', new Set(['requester']))).toEqual(['history', 'edit', 'escalate']);
    expect(workflowActionsFor('new', new Set(['member']))).toEqual(['history', 'edit', 'recategorise', 'escalate']);
    expect(workflowActionsFor('new', new Set())).toEqual(['history']);
  });

  it('keeps a history that fits as it is, and cuts a long one at a line end with the count of lines left out', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(90)}`);
    expect(fitHistory(lines.slice(0, 5), { maxChars: 10_000 }, 'en', 'IT-1')).toEqual(lines.slice(0, 5));
    const cut = fitHistory(lines, { maxChars: 2_000 }, 'en', 'IT-1');
    const kept = cut.length - 1;
    expect(cut.slice(0, kept)).toEqual(lines.slice(0, kept));
    expect(cut.at(-1)).toBe(t('en', 'history.cut', { count: 100 - kept, key: 'IT-1' }));
    expect(cut.reduce((n, l) => n + l.length + 1, 0)).toBeLessThanOrEqual(2_000);
    const byLines = fitHistory(lines, { maxChars: 1_000_000, maxLines: 10 }, 'zh-CN', 'IT-1');
    expect(byLines).toHaveLength(10);
    expect(byLines.at(-1)).toBe(t('zh-CN', 'history.cut', { count: 91, key: 'IT-1' }));
  });

  it('reads the forms once: change category takes the field_ values, edit keeps an emptied description', () => {
    const recat = parseFormValues(WORKFLOW_FORMS.recategorise.values(ctx, 'en'), { category: 'refund', field_order_id: ' 42 ', other: 'x' }, 'en');
    expect(recat).toEqual({ ok: true, value: { category: 'refund', fields: { order_id: '42' } } });
    const missing = parseFormValues(WORKFLOW_FORMS.recategorise.values(ctx, 'en'), {}, 'en');
    expect(missing).toEqual({ ok: false, error: { code: 'ticket.missing_fields', params: { fields: 'category' } } });
    expect(parseFormValues(WORKFLOW_FORMS.edit.values(ctx, 'en'), { title: 'New', description: '' }, 'en')).toEqual({ ok: true, value: { title: 'New', description: '' } });
    expect(parseFormValues(WORKFLOW_FORMS.escalate.values(ctx, 'en'), { reason: ' down ', priority: '' }, 'en')).toEqual({ ok: true, value: { reason: 'down', priority: undefined } });
  });
});
