import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { changePriority, claimTicket, createTicket, getAuditTrail, getTicketView, resolveTicket } from '../../src/app';
import type { AppContext } from '../../src/app/context';
import type { UseCaseResult } from '../../src/app/runner';
import { ticketCardView } from '../../src/chat/views';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { parseTicketsCsv, simulateTickets } from '../../src/cli/simulate';
import type { Storage } from '../../src/storage/database';
import { as, FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * Automation rules and pilots take one code path: the live core and `simulate` must route and
 * prioritise the same tickets the same way (issue 17).
 */
function rulesConfig(): Config {
  const raw = parse(readFileSync(FIXTURE_CONFIG, 'utf8')) as Record<string, any>;
  const it = raw.departments.find((d: { id: string }) => d.id === 'it');
  it.routing = { strategy: 'claim', on_call: ['slack:UIT2', 'slack:UIT1'] };
  raw.rollout = [{ id: 'cs-round-robin', routing: 'round_robin', departments: ['cs'] }];
  raw.rules = [
    { id: 'outage-is-urgent', when: { text: '\\b(down|outage)\\b|宕机' }, then: { priority: 'urgent' } },
    { id: 'urgent-fault-to-on-call', when: { category: 'fault', priority: 'urgent' }, then: { assign: 'on_call' } },
    { id: 'big-refunds-to-fiona', when: { category: 'refund', text: 'invoice' }, then: { assign: 'feishu:ou_f2', sensitive: true } },
  ];
  const parsed = parseConfigText(stringify(raw));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return parsed.config;
}

function value<T>(r: UseCaseResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code} ${JSON.stringify(r.error.params)}`);
  return r.value;
}

const AT = '2026-11-23T01:00:00.000Z';

/** The same tickets for both: category, priority, title, description, fields. */
const TICKETS = [
  { category: 'no-code', priority: 'normal', title: 'Login service is DOWN', description: 'nobody can log in', fields: { account: 'a', device: 'b' } },
  { category: 'no-code', priority: 'normal', title: 'No code', description: 'my SMS code is late', fields: { account: 'a', device: 'b' } },
  { category: 'refund-request', priority: 'normal', title: 'Refund', description: 'please', fields: { order_id: '1', amount: '5' } },
  { category: 'refund-request', priority: 'high', title: 'Refund', description: 'invoice attached', fields: { order_id: '2', amount: '9' } },
  { category: 'how-to', priority: 'low', title: 'How do I export?', description: 'the export is down', fields: {} },
  { category: 'how-to', priority: 'low', title: 'How do I import?', description: '', fields: {} },
] as const;

describe.each(storageVariants())('rules: simulate and the live core agree ($name)', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let time: ManualTime;
  let u: Record<string, string>;
  const config = rulesConfig();

  beforeEach(async () => {
    storage = await variant.open();
    time = new ManualTime(new Date(AT));
    ctx = testContext(storage, time, config);
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' },
      { platform: 'slack', id: 'UIT1', name: 'Alan' },
      { platform: 'slack', id: 'UIT2', name: 'Bea' },
      { platform: 'feishu', id: 'ou_f1', name: 'Fei' },
      { platform: 'feishu', id: 'ou_f2', name: 'Fang' },
      { platform: 'slack', id: 'UCS1', name: 'Cass' },
      { platform: 'slack', id: 'UCS2', name: 'Cole' },
    ]);
  });
  afterEach(async () => {
    await storage.close();
  });

  it('gives every ticket the same department, priority, assignee, sensitivity, SLA policy and rules', async () => {
    const live = [];
    for (const t of TICKETS) {
      const { ticket } = value(await createTicket(ctx, { meta: as(u.UREQ!), categoryId: t.category, priority: t.priority, title: t.title, description: t.description, fields: { ...t.fields } }));
      const trail = await getAuditTrail(ctx, ticket.key);
      const clock = (await getTicketView(ctx, ticket.key))!.clocks.find((c) => c.kind === 'first_response');
      live.push({
        department: ticket.department_id,
        priority: ticket.priority,
        assignee: ticket.assignee_id,
        sensitive: ticket.sensitive === 1,
        policy: clock?.policy_id ?? null,
        rules: trail.filter((e) => e.action === 'rule_applied').map((e) => JSON.parse(e.data!) as { rule: string; field: string; value: string }).map((d) => `${d.rule}:${d.field}=${d.value}`),
      });
      time.advance(60_000);
    }

    const csv = ['created_at,category,priority,requester,title,description,source'];
    TICKETS.forEach((t, i) => csv.push(`${new Date(Date.parse(AT) + i * 60_000).toISOString()},${t.category},${t.priority},${u.UREQ},${t.title},${t.description},slack`));
    const simulated = simulateTickets(config, parseTicketsCsv(csv.join('\n'), config, 'tickets.csv')).tickets.map((t) => ({
      department: t.departmentId,
      priority: t.priority,
      assignee: t.assignee,
      sensitive: t.rules.some((r) => r.field === 'sensitive' && r.value === 'true'),
      policy: t.policyId,
      rules: t.rules.map((r) => `${r.ruleId}:${r.field}=${r.value}`),
    }));

    expect(simulated).toEqual(live);
    // And what they agree on is what the rules say.
    expect(live.map((t) => [t.priority, t.assignee])).toEqual([
      ['urgent', expect.stringMatching(/^slack:UIT[12]$/)], // on call this week
      ['normal', null], // IT posts for claiming
      ['normal', 'feishu:ou_f1'], // finance round robin
      ['high', 'feishu:ou_f2'], // rule big-refunds-to-fiona
      ['urgent', 'slack:UCS1'], // cs: the round-robin pilot, not its own least_active
      ['low', 'slack:UCS2'],
    ]);
    expect(live[0]!.rules).toEqual(['outage-is-urgent:priority=urgent', 'urgent-fault-to-on-call:assign=on_call']);
    expect(live[0]!.policy).toBe('urgent');
    expect(live[3]!.sensitive).toBe(true);
  });

  it('the card says which rule set a field until a person changes it', async () => {
    const { ticket } = value(await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', title: 'VPN outage', description: '', fields: { account: 'a', device: 'b' } }));
    const card = async () => ticketCardView((await getTicketView(ctx, ticket.key))!, 'en', { config, timeZone: 'UTC', now: time.now() }).ruleNotes;
    expect(await card()).toEqual(['priority set by rule outage-is-urgent', 'assignee set by rule urgent-fault-to-on-call']);
    const zh = ticketCardView((await getTicketView(ctx, ticket.key))!, 'zh-CN', { config, timeZone: 'UTC', now: time.now() }).ruleNotes;
    expect(zh[0]).toBe('优先级由规则 outage-is-urgent 设定');
    time.advance(60_000);
    value(await changePriority(ctx, { meta: as(ticket.assignee_id!), ticket: ticket.key, priority: 'high' }));
    expect((await getTicketView(ctx, ticket.key))!.ticket.priority).toBe('high');
    expect(await card()).toEqual(['assignee set by rule urgent-fault-to-on-call']);
  });
});

describe.each(storageVariants())('pilots act in the live bot ($name)', (variant) => {
  it('an auto-close pilot turns auto-close on in its department only; the others keep it off', async () => {
    const raw = parse(readFileSync(FIXTURE_CONFIG, 'utf8')) as Record<string, any>;
    raw.closing = { confirm_within: '1d', auto_close: false, survey: true };
    raw.rollout = [{ id: 'close-pilot', auto_close: true, departments: ['finance'] }];
    const parsed = parseConfigText(stringify(raw));
    if (!parsed.ok) throw new Error('bad config');
    const storage = await variant.open();
    try {
      const time = new ManualTime(new Date(AT));
      const ctx = testContext(storage, time, parsed.config);
      const u = await seedUsers(ctx, [
        { platform: 'slack', id: 'UREQ', name: 'Rita' },
        { platform: 'slack', id: 'UIT1', name: 'Alan' },
        { platform: 'feishu', id: 'ou_f1', name: 'Fei' },
      ]);
      const timerAfterResolve = async (categoryId: string, fields: Record<string, string>, agent: string) => {
        const { ticket } = value(await createTicket(ctx, { meta: as(u.UREQ!), categoryId, title: 'x', description: 'y', fields }));
        if (!ticket.assignee_id) value(await claimTicket(ctx, { meta: as(agent), ticket: ticket.key }));
        value(await resolveTicket(ctx, { meta: as(ticket.assignee_id ?? agent), ticket: ticket.key, note: 'done' }));
        const timer = await ctx.db.selectFrom('timers').select('next_action_at').where('id', '=', `close:${ticket.id}`).executeTakeFirst();
        return timer?.next_action_at ?? null;
      };
      expect(await timerAfterResolve('refund-request', { order_id: '1', amount: '2' }, u.ou_f1!)).not.toBeNull(); // finance: the pilot turns it on
      expect(await timerAfterResolve('no-code', { account: 'a', device: 'b' }, u.UIT1!)).toBeNull(); // it: the config's "off" stays
    } finally {
      await storage.close();
    }
  });
});
