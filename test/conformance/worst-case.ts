import type { TicketView } from '../../src/app/queries';
import type { Config } from '../../src/config/model';
import { ticketCardView, ticketListItem, type TicketCardView, type TicketListItem } from '../../src/chat/views';
import type { Locale } from '../../src/domain/types';
import type { UserRow } from '../../src/storage/tables';

/**
 * Worst-case inputs for the presenter conformance suite: the longest and nastiest things people
 * can put into a ticket (issue 19: 200-character titles, 3,000-character descriptions full of
 * &<>" and emoji, 60 fields, 40 hand-off legs, 150 options), in both languages.
 */

export const NOW = new Date('2026-03-02T06:00:00Z');
/** Characters that mean something in mrkdwn, card markdown, HTML and JSON, plus astral emoji and CJK. */
const NASTY = '&<>"\'*_~`[]()#|\\ <!channel> <@U0123> <at id=all></at> [x](https://evil.example) 😀👍🏽 工单';

export function nasty(length: number, seed = ''): string {
  let out = seed;
  while ([...out].length < length) out += NASTY;
  return [...out].slice(0, length).join('');
}

export const TITLE = nasty(200, 'Title ');
export const DESCRIPTION = nasty(3000, 'Description\n');

function user(id: string, name: string): UserRow {
  const [platform, pid] = id.split(':') as [string, string];
  return { id, platform, workspace: 't', platform_user_id: pid, name, email: null, locale: null, timezone: null, away_until: null, is_bot: 0, created_at: '', updated_at: '' };
}

/** A ticket at its worst, in departments of `config` (the first two are used for the legs). */
export function worstTicket(config: Config, leafId: string): TicketView {
  const depts = [...config.departments.keys()];
  const [a = 'a', b = a] = depts;
  const legs = Array.from({ length: 40 }, (_, i) => ({
    id: `leg${i + 1}`, ticket_id: 'tk1', seq: i + 1, department_id: i % 2 === 0 ? a : b, from_department_id: i === 0 ? null : i % 2 === 0 ? b : a,
    state: i === 39 ? 'accepted' : 'handed_off', assignee_id: 'slack:UIT1', reason: nasty(500, 'Reason '), note: nasty(1000), return_reason: null, opened_by: 'slack:UREQ',
    opened_at: new Date(NOW.getTime() - (40 - i) * 3600_000).toISOString(), accepted_at: null, closed_at: i === 39 ? null : new Date(NOW.getTime() - (39 - i) * 3600_000).toISOString(),
  }));
  return {
    ticket: {
      id: 'tk1', key: 'IT-1042', department_id: legs[39]!.department_id, home_department_id: a, category_id: leafId, priority: 'low', title: TITLE, description: DESCRIPTION,
      state: 'in_progress', requester_id: 'slack:UREQ', assignee_id: 'feishu:ou_f1', sensitive: 1, locale: 'en', source_platform: 'slack',
      source_ref: JSON.stringify({ permalink: `https://example.slack.com/archives/C0GEN/p1?x=${'y'.repeat(500)}` }), current_leg_id: 'leg40', public_reply_count: 1, reopen_count: 0,
      version: 7, created_at: '2026-03-01T01:00:00.000Z', updated_at: '2026-03-02T05:00:00.000Z', first_response_at: null, resolved_at: null, closed_at: null,
    },
    fields: Array.from({ length: 60 }, (_, i) => ({ ticket_id: 'tk1', field_id: `field_${i + 1}_${nasty(40)}`, value: nasty(500, `Value ${i + 1} `) })),
    legs,
    clocks: [
      { id: 'c1', ticket_id: 'tk1', leg_id: null, kind: 'resolution', cycle: 1, target_ms: 14_400_000, calendar_id: 'x', policy_id: 'p', started_at: '2026-03-02T01:00:00.000Z', elapsed_ms: 0, running_since: null, paused_at: null, due_at: '2026-03-02T05:00:00.000Z', met_at: null, breached_at: '2026-03-02T05:00:00.000Z', status: 'running', log: '[]', updated_at: '' },
      { id: 'c2', ticket_id: 'tk1', leg_id: 'leg40', kind: 'leg_resolve', cycle: 1, target_ms: 1, calendar_id: 'x', policy_id: null, started_at: '2026-03-02T02:42:00.000Z', elapsed_ms: 0, running_since: null, paused_at: null, due_at: '2026-03-04T02:42:00.000Z', met_at: null, breached_at: null, status: 'paused', log: '[]', updated_at: '' },
    ],
    categoryPath: config.leaves.get(leafId)!.path,
    department: config.departments.get(legs[39]!.department_id)!,
    users: new Map([
      ['slack:UREQ', user('slack:UREQ', nasty(120, 'Rita '))],
      ['slack:UIT1', user('slack:UIT1', nasty(120, 'Alan '))],
      ['feishu:ou_f1', user('feishu:ou_f1', nasty(120, '王五 '))],
    ]),
    messages: [],
    // Articles offered before the ticket (issue 18): long titles, one retired (left off the card).
    suggested: [
      ...Array.from({ length: 3 }, (_, i) => ({ id: `art${i}`, slug: `a-${i}`, title: nasty(200, `Article ${i} `), lang: 'en', retired: false })),
      { id: 'art9', slug: 'gone', title: 'Retired article', lang: 'en', retired: true },
    ],
  };
}

export function worstCard(config: Config, leafId: string, locale: Locale, overrides: Partial<TicketView['ticket']> = {}): TicketCardView {
  const v = worstTicket(config, leafId);
  return ticketCardView({ ...v, ticket: { ...v.ticket, ...overrides } }, locale, { config, timeZone: 'Asia/Shanghai', now: NOW });
}

export function worstList(locale: Locale, n = 150): TicketListItem[] {
  return Array.from({ length: n }, (_, i) => ticketListItem({ key: `IT-${1000 + i}`, title: TITLE, priority: ['low', 'normal', 'high', 'urgent'][i % 4]!, state: 'in_progress', due: i % 2 ? '2026-03-02T05:00:00.000Z' : null, overdue: i % 3 === 0 }, locale, 'Asia/Shanghai'));
}

/** `n` options with long, nasty labels. */
export function options(n: number): Array<{ id: string; name: string }> {
  return Array.from({ length: n }, (_, i) => ({ id: `opt_${i}`, name: nasty(120, `Option ${i} `) }));
}

/** A copy of the config with 150 extra top-level categories (the category selects at their widest). */
export function withManyCategories(config: Config): Config {
  const raw = { ...config.raw, categories: [...config.raw.categories, ...Array.from({ length: 150 }, (_, i) => ({ id: `extra-${i}`, name: { en: nasty(120, `Category ${i} `), 'zh-CN': nasty(120, `类别 ${i} `) }, department: config.raw.categories[0]!.department, children: [] }))] };
  return { ...config, raw } as Config;
}
