import { storageVariants } from '../support/storage';
import { ManualTime, as, seedUsers, testContext } from '../support/app';
import type { Storage } from '../../src/storage/database';
import type { AppContext } from '../../src/app/context';
import { claimTicket, createTicket, getAuditTrail, getTicketView, replyToRequester, resolveTicket } from '../../src/app';
import { createTimerHandler } from '../../src/app/timers';

/** Runs every due timer once, the way one scheduler tick would (the scheduler's claiming is tested on its own). */
async function runDueTimers(ctx: AppContext): Promise<number> {
  const handler = createTimerHandler(ctx);
  const now = ctx.time.now().toISOString();
  const due = await ctx.db.selectFrom('timers').selectAll().where('next_action_at', '<=', now).orderBy('next_action_at').execute();
  for (const timer of due) {
    await ctx.db.transaction().execute(async (tx) => {
      const { nextActionAt } = await handler(tx, timer, now);
      await tx.updateTable('timers').set({ next_action_at: nextActionAt, updated_at: now }).where('id', '=', timer.id).execute();
    });
  }
  return due.length;
}

describe.each(storageVariants())('timers and the escalation ladder on $name', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let time: ManualTime;
  let u: Record<string, string>;

  beforeEach(async () => {
    storage = await variant.open();
    // Monday 09:00 Asia/Shanghai
    time = new ManualTime(new Date('2026-11-23T01:00:00.000Z'));
    ctx = testContext(storage, time);
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' },
      { platform: 'slack', id: 'UIT1', name: 'Alan', locale: 'zh-CN' },
      { platform: 'slack', id: 'UBOSS', name: 'Boss', locale: 'en' },
    ]);
  });
  afterEach(() => storage.close());

  const create = (priority: 'high' | 'normal' | 'urgent' = 'high') =>
    createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', priority, title: 'No code', description: '', fields: { account: 'a', device: 'd' } });

  it('starts clocks with due times from the matching policy and business calendar', async () => {
    const r = await create('high');
    if (!r.ok) throw new Error(r.error.code);
    const view = (await getTicketView(ctx, r.value.ticket.key))!;
    const frt = view.clocks.find((c) => c.kind === 'first_response')!;
    const res = view.clocks.find((c) => c.kind === 'resolution')!;
    expect(frt.policy_id).toBe('high');
    expect(frt.due_at).toBe('2026-11-23T02:00:00.000Z'); // 10:00 Shanghai
    // 1 business day = 24 business hours of 7.5 h days: Mon 09:00 + 24h → Thu 13:30+… (lunch excluded)
    expect(res.calendar_id).toBe('cn-office');
    expect(Date.parse(res.due_at!)).toBeGreaterThan(Date.parse('2026-11-26T01:00:00.000Z'));
    expect(JSON.parse(frt.log).join('\n')).toMatch(/high|1h/);
  });

  it('reminds the assignee, tells the channel, escalates to supervisors once per level, and stops when met', async () => {
    const r = await create('high');
    if (!r.ok) throw new Error(r.error.code);
    const key = r.value.ticket.key;
    await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key });
    const outbox = async (event: string) => (await ctx.db.selectFrom('outbox').selectAll().where('event', '=', event).execute()).map((o) => `${o.platform}:${o.target_kind}:${o.target_id}:${o.locale}`).sort();

    time.set('2026-11-23T01:46:00.000Z'); // 76% of the 1h first response
    await runDueTimers(ctx);
    await runDueTimers(ctx); // a second look changes nothing
    expect(await outbox('ticket.reminder')).toEqual(['slack:user:UIT1:zh-CN']);

    time.set('2026-11-23T02:00:30.000Z'); // past due
    await runDueTimers(ctx);
    expect(await outbox('ticket.due_now')).toEqual(['slack:channel:C0IT:en']);
    expect(await outbox('ticket.escalation')).toEqual(['slack:user:UBOSS:en']);
    const frt = (await getTicketView(ctx, key))!.clocks.find((c) => c.kind === 'first_response')!;
    expect(frt.breached_at).toBe('2026-11-23T02:00:00.000Z'); // breached at the deadline, not when we noticed

    time.set('2026-11-23T02:31:00.000Z'); // 150%: supervisors again, urgent
    await runDueTimers(ctx);
    const urgent = await ctx.db.selectFrom('outbox').selectAll().where('event', '=', 'ticket.escalation').where('urgent', '=', 1).execute();
    expect(urgent.map((o) => o.target_id)).toEqual(['UBOSS']);
    expect(JSON.parse(urgent[0]!.payload)).toMatchObject({ actions: ['take_over', 'reassign', 'extend', 'open'], urgentVia: ['app'] });

    await replyToRequester(ctx, { meta: as(u.UIT1!), ticket: key, body: 'On it' });
    const before = (await ctx.db.selectFrom('escalation_firings').selectAll().execute()).length;
    time.set('2026-11-23T05:00:00.000Z'); // the 150% level would repeat every 2h — but first response is met
    await runDueTimers(ctx);
    const frtFirings = await ctx.db.selectFrom('escalation_firings').selectAll().where('clock_id', '=', frt.id).execute();
    expect(frtFirings.map((f) => f.level).sort()).toEqual([0, 1, 2]);
    expect((await ctx.db.selectFrom('escalation_firings').selectAll().execute()).length).toBeGreaterThanOrEqual(before);
    const stillBreached = (await getTicketView(ctx, key))!.clocks.find((c) => c.kind === 'first_response')!;
    expect(stillBreached.status).toBe('met');
    expect(stillBreached.breached_at).toBe('2026-11-23T02:00:00.000Z'); // sticky
  });

  it('auto-closes a resolved ticket after the confirm window in business time and sends the survey', async () => {
    const r = await create('normal');
    if (!r.ok) throw new Error(r.error.code);
    const key = r.value.ticket.key;
    await claimTicket(ctx, { meta: as(u.UIT1!), ticket: key });
    await resolveTicket(ctx, { meta: as(u.UIT1!), ticket: key, note: 'Fixed the SMS gateway' });
    const timer = await ctx.db.selectFrom('timers').selectAll().where('id', '=', `close:${r.value.ticket.id}`).executeTakeFirstOrThrow();
    // confirm_within 1d of business time (7.5 h days): Mon 09:00 → Thu morning Shanghai
    expect(Date.parse(timer.next_action_at!)).toBeGreaterThan(Date.parse('2026-11-25T01:00:00.000Z'));
    time.set(timer.next_action_at!);
    await runDueTimers(ctx);
    const view = (await getTicketView(ctx, key))!;
    expect(view.ticket.state).toBe('closed');
    expect((await getAuditTrail(ctx, key)).at(-1)!.action).toBe('auto_closed');
    const survey = await ctx.db.selectFrom('outbox').selectAll().where('event', '=', 'ticket.survey').execute();
    expect(survey.map((s) => s.target_id)).toEqual(['UREQ']);
  });
});
