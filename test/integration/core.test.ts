import { storageVariants } from '../support/storage';
import { ManualTime, as, seedUsers, testContext } from '../support/app';
import type { Storage } from '../../src/storage/database';
import type { AppContext } from '../../src/app/context';
import {
  acceptLeg, addNote, changePriority, claimTicket, confirmFixed, createTicket, getAuditTrail, getTicketView, handOff,
  rateTicket, reopenTicket, replyToRequester, requestInfo, requesterReply, resolveTicket, returnLeg, assignTicket, closeTicket, markSensitive,
} from '../../src/app';
import type { UseCaseResult } from '../../src/app/runner';

function value<T>(r: UseCaseResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code} ${JSON.stringify(r.error.params)}`);
  return r.value;
}

const MONDAY_9AM_SHANGHAI = '2026-11-23T01:00:00.000Z';

describe.each(storageVariants())('ticket core on $name', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let time: ManualTime;
  let u: Record<string, string>;

  beforeEach(async () => {
    storage = await variant.open();
    time = new ManualTime(new Date(MONDAY_9AM_SHANGHAI));
    ctx = testContext(storage, time);
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' },
      { platform: 'slack', id: 'UIT1', name: 'Alan' },
      { platform: 'slack', id: 'UIT2', name: 'Bea' },
      { platform: 'slack', id: 'UBOSS', name: 'Boss' },
      { platform: 'slack', id: 'UOUT', name: 'Outsider' },
      { platform: 'feishu', id: 'ou_f1', name: 'Fei', locale: 'zh-CN' },
      { platform: 'feishu', id: 'ou_f2', name: 'Fang' },
      { platform: 'slack', id: 'UCS1', name: 'Cass' },
      { platform: 'slack', id: 'UCS2', name: 'Cole' },
    ]);
  });
  afterEach(async () => {
    await storage.close();
  });

  const newFault = (eventKey?: string, extra: Partial<Parameters<typeof createTicket>[1]> = {}) =>
    createTicket(ctx, {
      meta: as(u.UREQ!, eventKey),
      categoryId: 'no-code',
      title: 'No SMS code',
      description: 'The login code never arrives',
      fields: { account: 'rita@example.com', device: 'iPhone 15' },
      ...extra,
    });

  it('runs the whole lifecycle and reads it back from the audit trail', async () => {
    const created = value(await newFault());
    expect(created.ticket.key).toMatch(/^IT-\d+$/);
    expect(created.ticket.state).toBe('new');
    const key = created.ticket.key;

    value(await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key }));
    time.advance(10 * 60_000);
    value(await replyToRequester(ctx, { meta: as(u.UIT1!), ticket: key, body: 'Looking into it' }));
    value(await handOff(ctx, { meta: as(u.UIT1!), ticket: key, toDepartmentId: 'finance', reason: 'Refund needed' }));
    value(await returnLeg(ctx, { meta: as(u.ou_f1!, undefined, 'feishu'), ticket: key, reason: 'wrong-department' }));
    let view = (await getTicketView(ctx, key))!;
    expect(view.ticket.department_id).toBe('it');
    expect(view.ticket.assignee_id).toBe(u.UIT1); // back to the person who had it
    value(await handOff(ctx, { meta: as(u.UIT1!), ticket: key, toDepartmentId: 'finance', reason: 'Really a refund' }));
    value(await acceptLeg(ctx, { meta: as(u.ou_f2!, undefined, 'feishu'), ticket: key }));
    value(await resolveTicket(ctx, { meta: as(u.ou_f2!, undefined, 'feishu'), ticket: key, note: 'Refunded' }));
    value(await reopenTicket(ctx, { meta: as(u.UREQ!), ticket: key }));
    value(await resolveTicket(ctx, { meta: as(u.ou_f2!, undefined, 'feishu'), ticket: key, note: 'Refunded, really' }));
    value(await confirmFixed(ctx, { meta: as(u.UREQ!), ticket: key }));
    value(await rateTicket(ctx, { meta: as(u.UREQ!), ticket: key, score: 5, comment: 'quick' }));

    const trail = await getAuditTrail(ctx, key);
    expect(trail.map((e) => e.action)).toEqual([
      'created', 'claimed', 'replied', 'handed_off', 'leg_returned', 'handed_off', 'leg_accepted',
      'resolved', 'reopened', 'resolved', 'confirmed', 'rated',
    ]);
    expect(trail.find((e) => e.action === 'leg_returned')!.reason).toBe('wrong-department');
    view = (await getTicketView(ctx, key))!;
    expect(view.ticket.state).toBe('closed');
    expect(view.ticket.reopen_count).toBe(1);
    expect(view.legs.map((l) => [l.department_id, l.state])).toEqual([
      ['it', 'handed_off'], ['finance', 'returned'], ['it', 'handed_off'], ['finance', 'accepted'],
    ]);
    const firstResponse = view.clocks.find((c) => c.kind === 'first_response')!;
    expect(firstResponse.status).toBe('met');
    expect(firstResponse.met_at).toBe('2026-11-23T01:10:00.000Z');
    const resolution = view.clocks.find((c) => c.kind === 'resolution')!;
    expect(resolution.status).toBe('met');
    expect(resolution.met_at).toBe(trail.filter((e) => e.action === 'resolved').at(-1)!.at);
    const survey = await ctx.db.selectFrom('surveys').selectAll().execute();
    expect(survey).toHaveLength(1);
    expect(survey[0]!.score).toBe(5);
  });

  it('writes one outbox row per person and channel, in their language', async () => {
    const key = value(await newFault('slack:cmd:1')).ticket.key;
    value(await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key }));
    const rows = await ctx.db.selectFrom('outbox').selectAll().orderBy('created_at').orderBy('id').execute();
    const created = rows.filter((r) => r.event === 'ticket.created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ platform: 'slack', target_kind: 'user', target_id: 'UREQ', locale: 'en' });
    expect(rows.filter((r) => r.event === 'card.post').map((r) => r.target_id)).toEqual(['C0IT']);
    expect(rows.filter((r) => r.event === 'ticket.assigned').map((r) => r.target_id)).toEqual(['UREQ']);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(rows.length);
  });

  it('applies the same create twice as one ticket', async () => {
    const first = await newFault('slack:event:Ev1');
    const second = await newFault('slack:event:Ev1');
    expect(first.ok && second.ok).toBe(true);
    expect(second.duplicate).toBe(true);
    expect(value(second).ticket.key).toBe(value(first).ticket.key);
    const count = await ctx.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('claims once on a double click and tells the second clicker who has it', async () => {
    const key = value(await newFault()).ticket.key;
    const a = await claimTicket(ctx, { meta: as(u.UIT1!, 'slack:action:1'), ticket: key });
    const again = await claimTicket(ctx, { meta: as(u.UIT1!, 'slack:action:1'), ticket: key });
    const b = await claimTicket(ctx, { meta: as(u.UIT2!, 'slack:action:2'), ticket: key });
    expect(a.ok).toBe(true);
    expect(again.duplicate).toBe(true);
    expect(b).toEqual({ ok: false, error: { code: 'ticket.already_assigned', params: { key, assignee: 'Alan' } } });
    const claims = (await getAuditTrail(ctx, key)).filter((e) => e.action === 'claimed');
    expect(claims).toHaveLength(1);
  });

  it('rejects what a role may not do, with stable codes', async () => {
    const key = value(await newFault()).ticket.key;
    expect(await claimTicket(ctx, { meta: as(u.UOUT!), ticket: key })).toMatchObject({ ok: false, error: { code: 'ticket.not_member' } });
    expect(await rateTicket(ctx, { meta: as(u.UIT1!), ticket: key, score: 5 })).toMatchObject({ ok: false, error: { code: 'ticket.not_requester' } });
    expect(await confirmFixed(ctx, { meta: as(u.UREQ!), ticket: key })).toMatchObject({ ok: false, error: { code: 'ticket.not_resolved' } });
    expect(await claimTicket(ctx, { meta: as(u.UIT1!), ticket: 'IT-999999' })).toMatchObject({ ok: false, error: { code: 'ticket.not_found' } });
    expect(await handOff(ctx, { meta: as(u.UIT1!), ticket: key, toDepartmentId: 'it', reason: 'x' })).toMatchObject({ ok: false, error: { code: 'ticket.same_department' } });
    expect(await handOff(ctx, { meta: as(u.UIT1!), ticket: key, toDepartmentId: 'finance', reason: ' ' })).toMatchObject({ ok: false, error: { code: 'ticket.reason_required' } });
    expect(await returnLeg(ctx, { meta: as(u.UIT1!), ticket: key, reason: 'nope' })).toMatchObject({ ok: false, error: { code: 'ticket.no_pending_leg' } });
    value(await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key }));
    expect(await resolveTicket(ctx, { meta: as(u.UIT1!), ticket: key, note: '' })).toMatchObject({ ok: false, error: { code: 'ticket.note_required' } });
    value(await closeTicket(ctx, { meta: as(u.UBOSS!), ticket: key, reason: 'duplicate' }));
    expect(await replyToRequester(ctx, { meta: as(u.UIT1!), ticket: key, body: 'hi' })).toMatchObject({ ok: false, error: { code: 'ticket.already_closed' } });
  });

  it('refuses a ticket with missing required fields and writes nothing', async () => {
    const r = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', title: 'x', description: '', fields: { account: 'a' } });
    expect(r).toEqual({ ok: false, error: { code: 'ticket.missing_fields', params: { fields: 'device' } } });
    const bad = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'nope', title: 'x', description: '' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'ticket.unknown_category' } });
    const amount = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'refund-request', title: 'x', description: '', fields: { order_id: '1', amount: 'lots' } });
    expect(amount).toMatchObject({ ok: false, error: { code: 'ticket.invalid_input', params: { field: 'amount' } } });
    for (const table of ['tickets', 'legs', 'clocks', 'outbox', 'audit_events'] as const) {
      const n = await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect([table, Number(n.n)]).toEqual([table, 0]);
    }
  });

  it('routes by strategy: round robin in finance, least active within capacity in cs', async () => {
    const refund = () => createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'refund-request', title: 'Refund', description: '', fields: { order_id: 'O1', amount: '12.5' } });
    const a = value(await refund()).ticket;
    const b = value(await refund()).ticket;
    const c = value(await refund()).ticket;
    expect(a.key).toMatch(/^FIN-/);
    expect([a.assignee_id, b.assignee_id, c.assignee_id]).toEqual([u.ou_f1, u.ou_f2, u.ou_f1]);
    const ask = () => createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'how-to', title: 'How?', description: '' });
    const assignees = [];
    for (let i = 0; i < 5; i++) assignees.push(value(await ask()).ticket.assignee_id);
    // capacity 2 each: two each, then nobody (posted for claiming)
    expect(assignees.filter((x) => x === u.UCS1)).toHaveLength(2);
    expect(assignees.filter((x) => x === u.UCS2)).toHaveLength(2);
    expect(assignees[4]).toBeNull();
  });

  it('pauses resolution while waiting on the requester and keeps elapsed time on a priority change', async () => {
    const key = value(await newFault()).ticket.key;
    value(await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key }));
    time.advance(60 * 60_000); // 1 business hour (09:00 → 10:00 Shanghai)
    value(await requestInfo(ctx, { meta: as(u.UIT1!), ticket: key, body: 'Which phone number?' }));
    let res = (await getTicketView(ctx, key))!.clocks.find((c) => c.kind === 'resolution')!;
    expect(res.status).toBe('paused');
    expect(Number(res.elapsed_ms)).toBe(3_600_000);
    time.advance(5 * 60 * 60_000);
    value(await requesterReply(ctx, { meta: as(u.UREQ!), ticket: key, body: '+86 138…' }));
    res = (await getTicketView(ctx, key))!.clocks.find((c) => c.kind === 'resolution')!;
    expect(res.status).toBe('running');
    expect(Number(res.elapsed_ms)).toBe(3_600_000);
    value(await changePriority(ctx, { meta: as(u.UIT1!), ticket: key, priority: 'high' }));
    res = (await getTicketView(ctx, key))!.clocks.find((c) => c.kind === 'resolution')!;
    expect(Number(res.target_ms)).toBe(86_400_000);
    expect(Number(res.elapsed_ms)).toBeGreaterThanOrEqual(3_600_000);
    const timer = await ctx.db.selectFrom('timers').selectAll().where('clock_id', '=', res.id).executeTakeFirstOrThrow();
    expect(timer.next_action_at).not.toBeNull();
  });

  it('keeps internal notes internal and mirrors requester replies to the department', async () => {
    const key = value(await newFault()).ticket.key;
    value(await assignTicket(ctx, { meta: as(u.UBOSS!), ticket: key, assigneeId: u.UIT2! }));
    value(await addNote(ctx, { meta: as(u.UIT2!), ticket: key, body: 'secret: the SMS vendor is down' }));
    value(await requesterReply(ctx, { meta: as(u.UREQ!), ticket: key, body: 'still nothing' }));
    const toRequester = await ctx.db.selectFrom('outbox').selectAll().where('target_id', '=', 'UREQ').execute();
    expect(toRequester.some((r) => r.payload.includes('SMS vendor'))).toBe(false);
    const mirrored = await ctx.db.selectFrom('outbox').selectAll().where('event', '=', 'ticket.requester_replied').execute();
    expect(mirrored.map((r) => r.target_id)).toEqual(['C0IT']);
    const notes = await ctx.db.selectFrom('messages').selectAll().where('visibility', '=', 'internal').execute();
    expect(notes).toHaveLength(1);
  });

  it('never auto-closes a sensitive ticket', async () => {
    const t = value(await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'attitude', title: 'Rude agent', description: '' })).ticket;
    expect(t.sensitive).toBe(1);
    value(await resolveTicket(ctx, { meta: as(t.assignee_id!), ticket: t.key, note: 'Apologised' }));
    const timer = await ctx.db.selectFrom('timers').selectAll().where('id', '=', `close:${t.id}`).executeTakeFirstOrThrow();
    expect(timer.next_action_at).toBeNull();
    value(await markSensitive(ctx, { meta: as(t.assignee_id!), ticket: t.key, sensitive: false }));
    const after = await ctx.db.selectFrom('timers').selectAll().where('id', '=', `close:${t.id}`).executeTakeFirstOrThrow();
    expect(after.next_action_at).not.toBeNull();
  });
});
