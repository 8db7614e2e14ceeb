import { readFileSync } from 'node:fs';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { changePriority, createTicket, getAuditTrail, getTicketView, resolveTicket, claimTicket } from '../../src/app';
import { ticketCardView } from '../../src/chat/views';
import type { AppContext } from '../../src/app/context';
import { editTicket } from '../../src/app/editTicket';
import { escalateTicket } from '../../src/app/escalateTicket';
import type { OutboxRecord, OutboxSender } from '../../src/app/outbox';
import { setQuietHours } from '../../src/app/quietHours';
import { recategoriseTicket } from '../../src/app/recategoriseTicket';
import type { UseCaseResult } from '../../src/app/runner';
import { historyView } from '../../src/chat/history';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { loadTicketHistory, userNames } from '../../src/cli/show';
import { OutboxDispatcher } from '../../src/jobs/outbox-dispatcher';
import { generateProcessDoc, policySummary } from '../../src/reports/docs';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createDashboardRouter } from '../../src/web/dashboard/router';
import { signDashboardLink } from '../../src/web/dashboard/signing';
import { formatStatsText, statsSummary } from '../../src/reports/stats';
import { runReportTask } from '../../src/reports/tasks';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Storage } from '../../src/storage/database';
import { as, FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/** Issue 17 core: rules again on change, watchers, recategorise, manual escalate, history, quiet hours. */
function workflowConfig(): Config {
  const raw = parse(readFileSync(FIXTURE_CONFIG, 'utf8')) as Record<string, any>;
  raw.priorities = { urgent: { criteria: { en: 'Many people cannot work.', 'zh-CN': '多人无法工作。' } } };
  raw.rules = [
    { id: 'outage-is-urgent', when: { text: '\\b(down|outage)\\b|宕机' }, then: { priority: 'urgent' } },
    { id: 'vip-watch', when: { category: 'fault' }, then: { add_watchers: ['slack:UWATCH'] } },
    { id: 'refunds-watched', when: { category: 'refund' }, then: { add_watchers: 'feishu:ou_audit' } },
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

describe.each(storageVariants())('workflow automation core ($name)', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let time: ManualTime;
  let u: Record<string, string>;
  const config = workflowConfig();

  beforeEach(async () => {
    storage = await variant.open();
    time = new ManualTime(new Date(AT));
    ctx = testContext(storage, time, config);
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' },
      { platform: 'slack', id: 'UIT1', name: 'Alan' },
      { platform: 'slack', id: 'UWATCH', name: 'Wendy', locale: 'en' },
      { platform: 'slack', id: 'UBOSS', name: 'Boss' },
      { platform: 'feishu', id: 'ou_f1', name: 'Fei' },
      { platform: 'feishu', id: 'ou_finboss', name: 'FinBoss' },
    ]);
  });
  afterEach(async () => {
    await storage.close();
  });

  const outbox = (event: string) => ctx.db.selectFrom('outbox').selectAll().where('event', '=', event).orderBy('created_at').orderBy('id').execute();
  const newTicket = (title: string, description = '', priority: 'normal' | 'low' = 'normal') =>
    createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', priority, title, description, fields: { account: 'a', device: 'b' } }).then(value);

  it('runs rules again when the text changes, and a priority a person set wins afterwards', async () => {
    const { ticket } = await newTicket('VPN slow');
    expect(ticket.priority).toBe('normal');
    time.advance(60_000);
    const edited = value(await editTicket(ctx, { meta: as(u.UREQ!), ticket: ticket.key, description: 'now the VPN is down' }));
    expect(edited.ticket.priority).toBe('urgent');
    const trail = await getAuditTrail(ctx, ticket.key);
    const applied = trail.filter((e) => e.action === 'rule_applied').map((e) => JSON.parse(e.data!));
    expect(applied).toEqual([
      { rule: 'vip-watch', field: 'add_watchers', value: 'slack:UWATCH' },
      { rule: 'outage-is-urgent', field: 'priority', value: 'urgent', on: 'text' },
    ]);
    // The first-response clock now runs on the urgent policy, keeping its elapsed minute.
    const clock = await ctx.db.selectFrom('clocks').selectAll().where('ticket_id', '=', ticket.id).where('kind', '=', 'first_response').executeTakeFirstOrThrow();
    expect(clock.policy_id).toBe('urgent');

    // A person lowers it: the rule does not raise it again on the next text edit.
    time.advance(60_000);
    value(await changePriority(ctx, { meta: as(u.UIT1!), ticket: ticket.key, priority: 'high' }));
    time.advance(60_000);
    const again = value(await editTicket(ctx, { meta: as(u.UREQ!), ticket: ticket.key, title: 'VPN outage' }));
    expect(again.ticket.priority).toBe('high');
    expect((await getAuditTrail(ctx, ticket.key)).filter((e) => e.action === 'rule_applied')).toHaveLength(2);
  });

  it('tells the watchers a rule added of every status change, by DM through the outbox', async () => {
    const { ticket } = await newTicket('Printer jam');
    expect(await ctx.db.selectFrom('ticket_watchers').select(['user_ref', 'added_by']).where('ticket_id', '=', ticket.id).execute()).toEqual([{ user_ref: 'slack:UWATCH', added_by: 'rule vip-watch' }]);
    const card = ticketCardView((await getTicketView(ctx, ticket.key))!, 'en', { config, timeZone: 'UTC', now: time.now() });
    expect(card.watchers).toBe('Watchers: Wendy');
    expect(card.ruleNotes).toContain('watchers set by rule vip-watch');
    expect(ticketCardView((await getTicketView(ctx, ticket.key))!, 'zh-CN', { config, timeZone: 'UTC', now: time.now() }).watchers).toBe('关注人:Wendy');
    value(await claimTicket(ctx, { meta: as(u.UIT1!, 'ev-claim'), ticket: ticket.key }));
    value(await resolveTicket(ctx, { meta: as(u.UIT1!, 'ev-resolve'), ticket: ticket.key, note: 'fixed' }));
    const notices = await outbox('ticket.watch_status');
    expect(notices.map((n) => [n.target_kind, n.target_id, JSON.parse(n.payload).params.state])).toEqual([
      ['user', 'UWATCH', 'assigned'],
      ['user', 'UWATCH', 'resolved'],
    ]);
  });

  it('recategorises: asks for missing fields, then moves the ticket as a "miscategorised" handoff with the new SLA policy', async () => {
    const { ticket } = await newTicket('Refund please');
    const asked = value(await recategoriseTicket(ctx, { meta: as(u.UIT1!), ticket: ticket.key, categoryId: 'refund-request' }));
    expect(asked).toMatchObject({ kind: 'needs_fields', missing: ['order_id', 'amount'] });
    expect((await getAuditTrail(ctx, ticket.key)).some((e) => e.action === 'recategorised')).toBe(false);

    time.advance(30 * 60_000);
    const done = value(await recategoriseTicket(ctx, { meta: as(u.UIT1!), ticket: ticket.key, categoryId: 'refund-request', fields: { order_id: 'O-1', amount: '12' } }));
    expect(done).toMatchObject({ kind: 'done', movedTo: 'finance' });
    if (done.kind !== 'done') throw new Error('unreachable');
    expect(done.ticket).toMatchObject({ category_id: 'refund-request', department_id: 'finance', home_department_id: 'finance', state: 'new' });
    const legs = await ctx.db.selectFrom('legs').selectAll().where('ticket_id', '=', ticket.id).orderBy('seq').execute();
    expect(legs.map((l) => [l.department_id, l.state, l.reason])).toEqual([
      ['it', 'handed_off', null],
      ['finance', 'pending', 'miscategorised'],
    ]);
    const trail = await getAuditTrail(ctx, ticket.key);
    expect(trail.find((e) => e.action === 'recategorised')).toMatchObject({ reason: 'miscategorised' });
    // A rule on the new category ran (category changed).
    expect(trail.filter((e) => e.action === 'rule_applied').map((e) => JSON.parse(e.data!).rule)).toContain('refunds-watched');
    // The fields given with the second call were stored.
    const fields = await ctx.db.selectFrom('ticket_fields').select(['field_id', 'value']).where('ticket_id', '=', ticket.id).orderBy('field_id').execute();
    expect(fields.map((f) => f.field_id)).toEqual(['account', 'amount', 'device', 'order_id']);
    expect((await recategoriseTicket(ctx, { meta: as(u.UREQ!), ticket: ticket.key, categoryId: 'no-code' })).ok).toBe(false);
  });

  it('escalates by hand: supervisors get an urgent DM at once, the priority is raised, the escalation is recorded', async () => {
    const { ticket } = await newTicket('Mail broken', '', 'low');
    const r = value(await escalateTicket(ctx, { meta: as(u.UREQ!, 'ev-esc'), ticket: ticket.key, reason: 'CEO cannot mail', raiseTo: 'high' }));
    expect(r.raisedFrom).toBe('low');
    expect(r.ticket.priority).toBe('high');
    // Replaying the same event writes nothing new.
    value(await escalateTicket(ctx, { meta: as(u.UREQ!, 'ev-esc'), ticket: ticket.key, reason: 'CEO cannot mail', raiseTo: 'high' }));
    const dms = await outbox('ticket.escalated_by_person');
    expect(dms.map((d) => [d.target_id, d.urgent, JSON.parse(d.payload).params.reason])).toEqual([['UBOSS', 1, 'CEO cannot mail']]);
    const trail = await getAuditTrail(ctx, ticket.key);
    expect(trail.filter((e) => e.action === 'escalated_by_person')).toHaveLength(1);
    expect((await escalateTicket(ctx, { meta: as(u.UREQ!), ticket: ticket.key, reason: '  ' })).ok).toBe(false);
  });

  it('shows the history in words, both languages, with handoff reasons and why each clock is due then', async () => {
    const { ticket } = await newTicket('Login down');
    time.advance(5 * 60_000);
    value(await recategoriseTicket(ctx, { meta: as(u.UIT1!), ticket: ticket.key, categoryId: 'refund-request', fields: { order_id: '1', amount: '2' } }));
    const h = (await loadTicketHistory(ctx.db, ticket.key))!;
    const names = await userNames(ctx.db, h);
    const en = historyView(config, { ...h, names }, 'en', 'UTC');
    expect(en.title).toBe(`History of ${ticket.key}`);
    expect(en.trail).toEqual(
      expect.arrayContaining([
        '2026-11-23 01:00 UTC · Rita raised it (No verification code, Urgent)',
        '2026-11-23 01:00 UTC · rule outage-is-urgent set priority: Urgent',
        '2026-11-23 01:05 UTC · Alan changed the category No verification code → Refund request (reason: miscategorised)',
        '2026-11-23 01:05 UTC · Alan handed it off IT → Finance, reason: miscategorised',
      ]),
    );
    expect(en.clocks.some((l) => /^First response: running, due 2026-11-23 01:15 UTC$/.test(l))).toBe(true);
    expect(en.clocks.some((l) => l.startsWith('  why: '))).toBe(true);
    const zh = historyView(config, { ...h, names }, 'zh-CN', 'Asia/Shanghai');
    expect(zh.trail).toContain('2026-11-23 09:05 GMT+8 · Alan 转交 信息技术部 → 财务部,原因:miscategorised');
    // Why each clock is due then, in the reader's words and zone (the stored line is English, UTC).
    expect(zh.clocks.some((l) => /^ {2}原因:.*到期:/.test(l) && !/\bdue\b/.test(l))).toBe(true);
  });

  it('holds non-urgent DMs in quiet hours and delivers them merged per ticket when they end; urgent ones go at once', async () => {
    // Wendy (a watcher) is quiet 22:00–08:00 in UTC; it is 01:00 UTC.
    const set = value(await setQuietHours(ctx, { meta: as(u.UWATCH!), range: '22:00-08:00', zone: 'UTC' }));
    expect(set).toEqual({ on: true, start: '22:00', end: '08:00', zone: 'UTC' });
    expect((await setQuietHours(ctx, { meta: as(u.UWATCH!), range: 'soon' })).ok).toBe(false);
    const { ticket } = await newTicket('Printer jam');
    value(await claimTicket(ctx, { meta: as(u.UIT1!, 'c1'), ticket: ticket.key }));
    time.advance(60_000);
    value(await resolveTicket(ctx, { meta: as(u.UIT1!, 'r1'), ticket: ticket.key, note: 'fixed' }));
    // An urgent DM to the same person about the same ticket is not held back.
    await ctx.db
      .insertInto('outbox')
      .values({ id: 'zz-urgent', idempotency_key: 'urgent-1', ticket_id: ticket.id, ticket_version: 1, platform: 'slack', target_kind: 'user', target_id: 'UWATCH', event: 'ticket.escalation', payload: JSON.stringify({ messageKey: 'event.ticket.escalation', params: { key: ticket.key }, thread: 'none' }), locale: 'en', urgent: 1, order_key: `${ticket.id}:slack:UWATCH`, status: 'pending', next_attempt_at: time.now().toISOString(), lease_owner: null, lease_until: null, last_error: null, created_at: time.now().toISOString(), sent_at: null })
      .execute();

    const sent: OutboxRecord[] = [];
    const sender: OutboxSender = { platform: 'slack', send: async (row) => (sent.push(row), { ok: true }) };
    let ids = 0;
    const dispatcher = new OutboxDispatcher({ db: storage.db, dialect: storage.dialect, owner: 'd1', sender, time, logger: pino({ level: 'silent' }), admins: [], defaultLocale: 'en', newId: () => `n${ids++}`, targetIntervalMs: 0 });
    const toWendy = () => sent.filter((r) => r.target_id === 'UWATCH');
    for (let i = 0; i < 4; i++) await dispatcher.tickOnce();
    expect(toWendy().map((r) => r.event)).toEqual(['ticket.escalation']);
    expect(await ctx.db.selectFrom('outbox_quiet_holds').select('held_until').execute()).toEqual([{ held_until: '2026-11-23T08:00:00.000Z' }, { held_until: '2026-11-23T08:00:00.000Z' }]);

    time.set('2026-11-23T07:59:00.000Z');
    for (let i = 0; i < 3; i++) await dispatcher.tickOnce();
    expect(toWendy()).toHaveLength(1);

    time.set('2026-11-23T08:00:00.000Z');
    for (let i = 0; i < 3; i++) await dispatcher.tickOnce();
    const merged = toWendy().slice(1);
    expect(merged).toHaveLength(1);
    expect(JSON.parse(merged[0]!.payload)).toMatchObject({ messageKey: 'event.quiet.merged', params: { key: ticket.key, count: 2 } });
    expect(JSON.parse(merged[0]!.payload).params.latest).toContain('Resolved');
    expect(await ctx.db.selectFrom('outbox').select('id').where('target_id', '=', 'UWATCH').where('status', '=', 'pending').execute()).toEqual([]);

    // Off: the next notice goes at once.
    value(await setQuietHours(ctx, { meta: as(u.UWATCH!), range: 'off' }));
  });

  it('counts misrouting per category and manual escalations in stats, and publishes the definitions and priority criteria', async () => {
    const a = (await newTicket('Refund please')).ticket;
    await newTicket('Code late');
    time.advance(60_000);
    value(await recategoriseTicket(ctx, { meta: as(u.UIT1!), ticket: a.key, categoryId: 'refund-request', fields: { order_id: '1', amount: '2' } }));
    value(await escalateTicket(ctx, { meta: as(u.UREQ!), ticket: a.key, reason: 'please hurry' }));
    time.advance(60 * 60_000);
    const stats = await statsSummary(ctx, { days: 7 });
    if (!stats.ok) throw new Error('stats failed');
    expect(stats.value.workflow).toEqual({ misrouting: [{ categoryId: 'no-code', created: 2, misrouted: 1, rate: 0.5 }], manualEscalations: 1 });
    const text = formatStatsText(stats.value, 'en');
    expect(text).toContain('Wrong category (moved to another department): No verification code 1/2');
    expect(text).toContain('Manual escalations: 1');
    expect(formatStatsText(stats.value, 'zh-CN')).toContain('手动升级:1 次');
    // The metrics CSV carries the same two figures, per scope.
    const fromMs = Date.parse(AT) - 86_400_000;
    const csv = (await runReportTask(ctx, { kind: 'metrics_csv', nowMs: time.now().getTime(), filter: { fromMs, toMs: time.now().getTime() }, locale: 'en', departmentId: undefined, perDepartment: ['it', 'finance'] })) as string;
    const rows: string[][] = parseCsv(csv, { bom: true });
    expect(rows.filter((r) => r[1] === 'Manual escalations').map((r) => [r[0], r[2]])).toEqual([['all departments', '1'], ['IT', '0'], ['Finance', '1']]);
    expect(rows.find((r) => r[0] === 'all departments' && r[1] === 'Misrouting rate (all categories)')?.slice(2)).toEqual(['50', '%', '2']);
    expect(rows.find((r) => r[0] === 'Finance' && r[1] === 'Misrouting rate (all categories)')?.slice(2)).toEqual(['', '%', '0']);
    expect(rows.find((r) => r[0] === 'IT' && r[1] === 'Misrouting rate: Fault / Login / No verification code')?.slice(2)).toEqual(['50', '%', '2']);

    const doc = generateProcessDoc(config, 'en', new Date(AT));
    expect(doc).toContain('## Priority criteria');
    expect(doc).toContain('- Urgent: Many people cannot work.');
    expect(doc).toContain('- High: no criteria published (config priorities.high.criteria).');
    expect(doc).toMatch(/\*\*outage-is-urgent\*\*: when the title or description matches .* then set the priority to Urgent\./);
    expect(doc).toContain('add slack:UWATCH as watchers (told of every status change)');
    expect(doc).toMatch(/- Misrouting rate \(per category\): Per category: the share/);
    const policy = policySummary(config, 'zh-CN');
    expect(policy).toContain('紧急:多人无法工作。');
    expect(policy.some((l) => l.startsWith('手动升级次数:'))).toBe(true);
  });

  it('serves the history on the dashboard ticket page to a viewer of a department the ticket was in, and to nobody else', async () => {
    const { ticket } = await newTicket('Login down');
    time.advance(5 * 60_000);
    value(await recategoriseTicket(ctx, { meta: as(u.UIT1!), ticket: ticket.key, categoryId: 'refund-request', fields: { order_id: '1', amount: '2' } }));
    const app = express();
    app.use(createDashboardRouter({ ctx, secret: 'secret' }));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const get = async (departments: string[] | '*', lang = 'en') => {
        const token = signDashboardLink({ userId: u.UBOSS!, departments, expiresAt: time.now().getTime() + 60_000 }, 'secret');
        const res = await fetch(`${base}/dashboard/ticket/${ticket.key}?lang=${lang}&t=${encodeURIComponent(token)}`);
        return { status: res.status, html: await res.text() };
      };
      const it = await get(['it']);
      expect(it.status).toBe(200);
      expect(it.html).toContain(`History of ${ticket.key}`);
      expect(it.html).toContain('Alan handed it off IT → Finance, reason: miscategorised');
      expect(it.html).toContain('Many people cannot work.');
      expect((await get(['finance'], 'zh-CN')).html).toContain('转交 信息技术部 → 财务部,原因:miscategorised');
      expect((await get(['cs'])).status).toBe(404);
      expect((await get('*')).status).toBe(200);
      // The overview shows the workflow figures beside the six, each with its definition.
      const token = signDashboardLink({ userId: u.UBOSS!, departments: '*', expiresAt: time.now().getTime() + 60_000 }, 'secret');
      const overview = await (await fetch(`${base}/dashboard?lang=en&period=7&t=${encodeURIComponent(token)}`)).text();
      expect(overview).toContain('Misrouting rate (per category)');
      expect(overview).toMatch(/No verification code: 1\/1 \(100%\)/);
      expect(overview).toContain('Manual escalations');
      expect(overview).toContain('Per category: the share of tickets raised');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
