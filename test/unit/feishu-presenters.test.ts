import type { TicketView } from '../../src/app/queries';
import { ticketCardView } from '../../src/chat/views';
import type { Locale } from '../../src/domain/types';
import { newTicketForm, priorityOptions } from '../../src/feishu/forms';
import { feishuForm } from '../support/forms';
import { actionFormCard, doneCard, imageNoticeCard, listCard, newTicketCard, notificationCard, ticketCard } from '../../src/feishu/presenters';
import type { UserRow } from '../../src/storage/tables';
import { feishuTestConfig } from '../fakes/feishu-harness';

const config = feishuTestConfig();
const NOW = new Date('2026-03-02T03:00:00Z');

function user(id: string, name: string): UserRow {
  const [platform, pid] = id.split(':') as [string, string];
  return { id, platform, workspace: 't', platform_user_id: pid, name, email: null, locale: null, timezone: null, away_until: null, is_bot: 0, created_at: '', updated_at: '' };
}

function view(): TicketView {
  return {
    ticket: {
      id: 'tk1', key: 'HD-1042', department_id: 'finance', home_department_id: 'helpdesk', category_id: 'no-code', priority: 'high',
      title: '收不到验证码 / no code', description: 'Changed phone *yesterday*; <at id=all></at> no SMS since.', state: 'in_progress',
      requester_id: 'slack:U_REQ', assignee_id: 'feishu:ou_f1', sensitive: 1, locale: 'zh-CN', source_platform: 'slack', source_ref: null,
      current_leg_id: 'leg2', public_reply_count: 1, reopen_count: 0, version: 7, created_at: '2026-03-02T01:00:00Z', updated_at: '2026-03-02T02:30:00Z',
      first_response_at: '2026-03-02T01:20:00Z', resolved_at: null, closed_at: null,
    },
    fields: [{ ticket_id: 'tk1', field_id: 'account', value: 'zhang3' }, { ticket_id: 'tk1', field_id: 'device', value: 'iPhone 15' }],
    legs: [
      { id: 'leg1', ticket_id: 'tk1', seq: 1, department_id: 'helpdesk', from_department_id: null, state: 'handed_off', assignee_id: null, reason: null, note: null, return_reason: null, opened_by: 'slack:U_REQ', opened_at: '2026-03-02T01:00:00Z', accepted_at: '2026-03-02T01:00:00Z', closed_at: '2026-03-02T02:00:00Z' },
      { id: 'leg2', ticket_id: 'tk1', seq: 2, department_id: 'finance', from_department_id: 'helpdesk', state: 'accepted', assignee_id: 'feishu:ou_f1', reason: '需要退款', note: null, return_reason: null, opened_by: 'feishu:ou_a1', opened_at: '2026-03-02T02:00:00Z', accepted_at: '2026-03-02T02:10:00Z', closed_at: null },
    ],
    clocks: [
      { id: 'c1', ticket_id: 'tk1', leg_id: null, kind: 'resolution', cycle: 1, target_ms: 86400000, calendar_id: 'cn-247', policy_id: 'all', started_at: '2026-03-02T01:00:00Z', elapsed_ms: 0, running_since: '2026-03-02T01:00:00Z', paused_at: null, due_at: '2026-03-03T01:00:00Z', met_at: null, breached_at: null, status: 'running', log: '[]', updated_at: '' },
      { id: 'c2', ticket_id: 'tk1', leg_id: 'leg2', kind: 'leg_resolve', cycle: 1, target_ms: 3600000, calendar_id: 'cn-247', policy_id: null, started_at: '2026-03-02T02:00:00Z', elapsed_ms: 0, running_since: '2026-03-02T02:00:00Z', paused_at: null, due_at: '2026-03-02T02:50:00Z', met_at: null, breached_at: null, status: 'running', log: '[]', updated_at: '' },
    ],
    categoryPath: config.leaves.get('no-code')!.path,
    department: config.departments.get('finance')!,
    users: new Map([['slack:U_REQ', user('slack:U_REQ', 'Sam')], ['feishu:ou_f1', user('feishu:ou_f1', '王五')]]),
    messages: [],
  };
}

describe.each<Locale>(['zh-CN', 'en'])('Feishu cards in %s', (locale) => {
  it('triage card (the department holding the ticket): shared, buttons, escaped user text', () => {
    const model = ticketCardView(view(), locale, { config, timeZone: 'Asia/Shanghai', now: NOW });
    const card = ticketCard(model, { interactive: true, priorities: priorityOptions(locale) });
    expect((card.config as { update_multi: boolean }).update_multi).toBe(true);
    // User-written text is plain_text: an "@all" typed by a requester is shown, never rendered as a mention.
    const markdown = JSON.stringify(card.body).match(/"tag":"markdown","content":"[^"]*"/g) ?? [];
    expect(markdown.join('\n')).not.toContain('<at id=all>');
    expect(JSON.stringify(card)).toContain('"tag":"plain_text","content":"Changed phone *yesterday*; <at id=all></at> no SMS since."');
    expect(card).toMatchSnapshot();
  });

  it('leg card in a department that no longer holds the ticket: no buttons', () => {
    const model = ticketCardView(view(), locale, { config, timeZone: 'Asia/Shanghai', now: NOW });
    expect(ticketCard(model, { interactive: false, priorities: priorityOptions(locale) })).toMatchSnapshot();
  });

  it('new-ticket card: cascading selects, then the leaf form with its required fields', () => {
    expect(newTicketCard(newTicketForm(config, locale, { formId: 'f1', path: [] }))).toMatchSnapshot();
    expect(newTicketCard(newTicketForm(config, locale, { formId: 'f1', path: ['fault', 'login', 'no-code'], prefill: { title: 'x', description: 'from a message', sourceMessageId: 'om_9' }, problem: 'Please fill in: Device.' }))).toMatchSnapshot();
  });

  it('action forms', async () => {
    const base = { formId: 'f2', ticket: { id: 'tk1', key: 'HD-1042', title: '收不到验证码', departmentId: 'finance' }, runningClocks: ['resolution'] };
    for (const kind of ['reply', 'assign', 'hand_off', 'return', 'resolve', 'extend', 'survey'] as const) expect(actionFormCard(await feishuForm(config, locale, kind, base))).toMatchSnapshot(kind);
    // Assign offers the department's members (ours, Slack people included), not a chat's members.
    expect(actionFormCard(await feishuForm(config, locale, 'assign', { ...base, choices: { assignees: [{ value: 'feishu:ou_f1', label: '王五' }, { value: 'slack:UIT1', label: 'Ivan' }] } }))).toMatchSnapshot('assign with members');
  });

  it('notifications and lists', () => {
    expect(notificationCard(locale, 'HD-1042 was resolved', 'tk1', 7, ['confirm', 'reopen'])).toMatchSnapshot('fixed?');
    expect(notificationCard(locale, 'Escalation: HD-1042', 'tk1', 7, ['take_over', 'reassign', 'extend', 'open'], true)).toMatchSnapshot('escalation');
    expect(listCard(locale, 'Mine', [{ title: 'Assigned', items: [] }])).toMatchSnapshot('empty list');
    expect(doneCard('Done: HD-1042')).toMatchSnapshot('done');
  });
});

describe('image notice card (weekly digest)', () => {
  it('titles the card with the first line, shows the rest as plain text, then the uploaded image', () => {
    const card = imageNoticeCard('Weekly report · all departments\n• On-time rate: 92% ▲\nCreated 25, resolved 21.', 'img_v2_abc', 'Tickets per day');
    expect(card).toEqual({
      schema: '2.0',
      config: { update_multi: true, enable_forward: false },
      header: { title: { tag: 'plain_text', content: 'Weekly report · all departments' }, template: 'blue' },
      body: {
        elements: [
          { tag: 'div', text: { tag: 'plain_text', content: '• On-time rate: 92% ▲\nCreated 25, resolved 21.' } },
          { tag: 'img', img_key: 'img_v2_abc', alt: { tag: 'plain_text', content: 'Tickets per day' }, scale_type: 'fit_horizontal', preview: true },
        ],
      },
    });
  });

  it('a one-line text has no header', () => {
    const card = imageNoticeCard('Only a line', 'img_v2_abc', 'alt');
    expect(card.header).toBeUndefined();
    expect((card.body as { elements: unknown[] }).elements[0]).toEqual({ tag: 'div', text: { tag: 'plain_text', content: 'Only a line' } });
  });
});
