import type { TicketView } from '../../src/app/queries';
import { ticketCardView, ticketListItem } from '../../src/chat/views';
import type { Locale } from '../../src/domain/types';
import {
  LIMITS,
  assignModal,
  extendModal,
  fileShareBlocks,
  handOffModal,
  homeView,
  missingFieldsModal,
  newTicketModal,
  noticeMessage,
  replyModal,
  resolveModal,
  returnModal,
  ticketCard,
  type Block,
} from '../../src/slack/presenters';
import { slackTestConfig } from '../fakes/slack-harness';

const config = slackTestConfig();
const NOW = new Date('2026-03-02T06:00:00Z');

function view(overrides: Partial<TicketView['ticket']> = {}, extra: Partial<TicketView> = {}): TicketView {
  const ticket = {
    id: 'tk1', key: 'IT-1042', department_id: 'finance', home_department_id: 'it', category_id: 'no-code', priority: 'urgent', title: 'No SMS code when logging in',
    description: 'Since this morning no verification code arrives.', state: 'in_progress', requester_id: 'slack:UREQ', assignee_id: 'slack:UIT1', sensitive: 1, locale: 'en',
    source_platform: 'slack', source_ref: JSON.stringify({ permalink: 'https://example.slack.com/archives/C0GEN/p1' }), current_leg_id: 'leg2', public_reply_count: 1, reopen_count: 0,
    version: 7, created_at: '2026-03-02T01:00:00.000Z', updated_at: '2026-03-02T05:00:00.000Z', first_response_at: null, resolved_at: null, closed_at: null, ...overrides,
  };
  const user = (id: string, name: string) => ({ id: `slack:${id}`, platform: 'slack', workspace: 'T', platform_user_id: id, name, email: null, locale: 'en', timezone: null, away_until: null, is_bot: 0, created_at: '', updated_at: '' });
  return {
    ticket,
    fields: [{ ticket_id: 'tk1', field_id: 'account', value: 'rita@example.com' }, { ticket_id: 'tk1', field_id: 'device', value: 'laptop' }],
    legs: [
      { id: 'leg1', ticket_id: 'tk1', seq: 1, department_id: 'it', from_department_id: null, state: 'handed_off', assignee_id: 'slack:UIT1', reason: null, note: null, return_reason: null, opened_by: 'slack:UREQ', opened_at: '2026-03-02T01:00:00.000Z', accepted_at: '2026-03-02T01:00:00.000Z', closed_at: '2026-03-02T02:42:00.000Z' },
      { id: 'leg2', ticket_id: 'tk1', seq: 2, department_id: 'finance', from_department_id: 'it', state: 'accepted', assignee_id: 'slack:UIT1', reason: 'Refund needed', note: null, return_reason: null, opened_by: 'slack:UIT1', opened_at: '2026-03-02T02:42:00.000Z', accepted_at: null, closed_at: null },
    ],
    clocks: [
      { id: 'c1', ticket_id: 'tk1', leg_id: null, kind: 'resolution', cycle: 1, target_ms: 14_400_000, calendar_id: 'office', policy_id: 'urgent', started_at: '2026-03-02T01:00:00.000Z', elapsed_ms: 0, running_since: null, paused_at: null, due_at: '2026-03-02T05:00:00.000Z', met_at: null, breached_at: null, status: 'running', log: '[]', updated_at: '' },
      { id: 'c2', ticket_id: 'tk1', leg_id: 'leg2', kind: 'leg_resolve', cycle: 1, target_ms: 1, calendar_id: 'office', policy_id: null, started_at: '2026-03-02T02:42:00.000Z', elapsed_ms: 0, running_since: null, paused_at: null, due_at: '2026-03-04T02:42:00.000Z', met_at: null, breached_at: null, status: 'running', log: '[]', updated_at: '' },
    ],
    categoryPath: config.leaves.get('no-code')!.path,
    department: config.departments.get('finance')!,
    users: new Map([['slack:UREQ', user('UREQ', 'Rita')], ['slack:UIT1', user('UIT1', 'Alan')]]),
    messages: [],
    ...extra,
  };
}

/** Slack's limits, checked on everything we render. */
function checkLimits(blocks: Block[], kind: 'message' | 'modal'): void {
  expect(blocks.length).toBeLessThanOrEqual(kind === 'message' ? LIMITS.messageBlocks : LIMITS.modalBlocks);
  const len = (s: unknown) => [...String(s ?? '')].length;
  for (const b of blocks as Array<Record<string, any>>) {
    if (b.type === 'header') expect(len(b.text.text)).toBeLessThanOrEqual(LIMITS.headerText);
    if (b.type === 'section') {
      if (b.text) expect(len(b.text.text)).toBeLessThanOrEqual(LIMITS.sectionText);
      if (b.fields) {
        expect(b.fields.length).toBeLessThanOrEqual(10);
        for (const f of b.fields) expect(len(f.text)).toBeLessThanOrEqual(LIMITS.sectionField);
      }
    }
    if (b.type === 'context') expect(b.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
    if (b.type === 'actions') {
      expect(b.elements.length).toBeLessThanOrEqual(LIMITS.actionsElements);
      for (const e of b.elements) {
        if (e.text) expect(len(e.text.text)).toBeLessThanOrEqual(LIMITS.buttonText);
        if (e.value) expect(len(e.value)).toBeLessThanOrEqual(LIMITS.buttonValue);
        if (e.options) {
          expect(e.options.length).toBeLessThanOrEqual(e.type === 'overflow' ? LIMITS.overflowOptions : LIMITS.selectOptions);
          for (const o of e.options) expect(len(o.text.text)).toBeLessThanOrEqual(LIMITS.optionText);
        }
      }
    }
    if (b.type === 'input') {
      expect(len(b.label.text)).toBeLessThanOrEqual(LIMITS.inputLabel);
      for (const o of b.element.options ?? []) expect(len(o.text.text)).toBeLessThanOrEqual(LIMITS.optionText);
    }
  }
}

const zone = 'Asia/Shanghai';

describe.each<Locale>(['en', 'zh-CN'])('Slack presenters (%s)', (locale) => {
  it('renders the triage card with every part and its buttons', () => {
    const card = ticketCard(ticketCardView(view(), locale, { config, timeZone: zone, now: NOW }));
    checkLimits(card.blocks, 'message');
    expect(card).toMatchSnapshot();
  });

  it('renders a new, unassigned card with Claim and no Resolve', () => {
    const card = ticketCard(ticketCardView(view({ state: 'new', assignee_id: null, department_id: 'it', current_leg_id: 'leg1', sensitive: 0 }, { legs: [] }), locale, { config, timeZone: zone, now: NOW }));
    const json = JSON.stringify(card.blocks);
    expect(json).toContain('"action_id":"tb_claim"');
    expect(json).not.toContain('"action_id":"tb_resolve"');
    expect(card).toMatchSnapshot();
  });

  it('renders notices with their buttons', () => {
    const resolved = noticeMessage('IT-1042 was resolved', { locale, ticketId: 'tk1', actions: ['confirm', 'reopen'] });
    const survey = noticeMessage('How did we do?', { locale, ticketId: 'tk1', actions: ['survey'] });
    const escalation = noticeMessage('Escalation: IT-1042 is overdue', { locale, ticketId: 'tk1', actions: ['take_over', 'reassign', 'extend', 'open'], clock: 'resolution' });
    for (const m of [resolved, survey, escalation]) checkLimits(m.blocks, 'message');
    expect({ resolved, survey, escalation }).toMatchSnapshot();
  });

  it('renders the modals', () => {
    const ref = { key: 'IT-1042', title: 'No SMS code' };
    const meta = { ticketId: 'tk1', channel: 'C0IT' };
    const modals = {
      empty: newTicketModal({ config, locale, metadata: { path: [] } }),
      leaf: newTicketModal({ config, locale, metadata: { path: ['fault', 'login', 'no-code'] }, draft: { title: 'No code', description: 'Help' } }),
      missing: missingFieldsModal({ config, locale, title: 'Refund', fields: ['order_id'], metadata: { path: [], categoryId: 'refund-request', title: 'Refund', description: '' } }),
      assign: assignModal(locale, ref, [{ id: 'slack:UIT1', name: 'Alan' }, { id: 'slack:UIT2', name: 'Bo' }], meta),
      assignNobody: assignModal(locale, ref, [], meta),
      reply: replyModal(locale, ref, config.raw.templates.map((tp) => ({ id: tp.id, name: tp.name[locale] })), meta),
      handOff: handOffModal(locale, ref, [{ id: 'finance', name: config.departments.get('finance')!.name[locale] }], meta),
      return: returnModal(locale, ref, config.raw.return_reasons.map((r) => ({ id: r.id, name: r.name[locale] })), meta),
      resolve: resolveModal(locale, ref, meta),
      extend: extendModal(locale, ref, ['resolution', 'first_response'], { ...meta, clock: 'resolution' }),
    };
    for (const m of Object.values(modals)) {
      checkLimits(m.blocks, 'modal');
      expect([...m.title.text].length).toBeLessThanOrEqual(LIMITS.modalTitle);
    }
    expect(modals).toMatchSnapshot();
  });

  it('renders App Home', () => {
    const item = ticketListItem({ key: 'IT-1042', title: 'No SMS code', priority: 'urgent', state: 'assigned', due: '2026-03-02T05:00:00.000Z', overdue: true }, locale, zone);
    const home = homeView({ locale, assigned: [item], requested: [], queues: [{ department: 'IT', items: [item] }], overdue: [item], stats: [{ department: 'IT', line: 'Created 3' }], updated: { iso: NOW.toISOString(), text: '2026-03-02 14:00 GMT+8' } });
    checkLimits(home.blocks, 'modal');
    expect(home).toMatchSnapshot();
  });
});

describe('Slack presenters under pressure', () => {
  it('keeps a card within 50 blocks and every text limit however long the ticket is', () => {
    const long = 'x'.repeat(20_000);
    const many = Array.from({ length: 60 }, (_, i) => ({ ticket_id: 'tk1', field_id: `f${i}`, value: long }));
    const legs = Array.from({ length: 40 }, (_, i) => ({ ...view().legs[1]!, id: `l${i}`, seq: i + 1, reason: long }));
    for (const locale of ['en', 'zh-CN'] as const) {
      const card = ticketCard(ticketCardView(view({ title: long, description: long }, { fields: many, legs }), locale, { config, timeZone: zone, now: NOW }));
      checkLimits(card.blocks, 'message');
      expect(card.text.length).toBeLessThanOrEqual(LIMITS.messageText);
    }
  });

  it('cuts notices to the message text limit', () => {
    const m = noticeMessage('y'.repeat(50_000), { locale: 'en' });
    checkLimits(m.blocks, 'message');
    expect(m.text.length).toBeLessThanOrEqual(LIMITS.messageText);
  });

  it('escapes people’s text so it cannot mention or link', () => {
    const card = ticketCard(ticketCardView(view({ description: '<!channel> & <https://evil|click>' }), 'en', { config, timeZone: zone, now: NOW }));
    expect(JSON.stringify(card.blocks)).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
  });

  it('splits a long report into sections at line breaks, the first one tagged', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const blocks = fileShareBlocks(lines.join('\n'), 'ticketbot_outbox:o1') as Array<{ type: string; block_id?: string; text: { text: string } }>;
    expect(blocks.length).toBeGreaterThan(2);
    expect(blocks.every((b) => b.type === 'section' && b.text.text.length <= LIMITS.sectionText)).toBe(true);
    expect(blocks.map((b) => b.block_id)).toEqual(['ticketbot_outbox:o1', ...blocks.slice(1).map(() => undefined)]);
    expect(blocks.map((b) => b.text.text).join('\n')).toBe(lines.join('\n'));
    expect(fileShareBlocks('short', 't')).toEqual([{ type: 'section', block_id: 't', text: { type: 'mrkdwn', text: 'short' } }]);
  });
});
