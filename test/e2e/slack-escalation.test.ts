import { createTimerHandler } from '../../src/app/timers';
import { Scheduler } from '../../src/jobs/scheduler';
import { ACTION } from '../../src/slack/ids';
import { SlackHarness, blockText } from '../fakes/slack-harness';

/** An overdue ticket reaches the supervisor as a DM whose buttons act: Take over, Extend…, Open. */
describe('Slack escalation DM', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('lets the supervisor take over, extend and open from the escalation', async () => {
    await h.command('UREQ', 'VPN drops every hour');
    const ticket = await h.storage.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    await h.deliver();
    const scheduler = new Scheduler({ db: h.storage.db, dialect: h.storage.dialect, owner: 'test', tickMs: 10, batchSize: 50, leaseMs: 60_000, time: h.time, logger: h.ctx.logger, handler: createTimerHandler(h.ctx) });
    h.time.advance(5 * 3_600_000); // first response (4h) is overdue
    await scheduler.tickOnce();
    await h.deliver();
    const escalation = h.fake.messagesIn('DUBOSS').find((m) => (m.text ?? '').startsWith('Escalation'))!;
    expect(escalation).toBeDefined();
    const json = JSON.stringify(escalation.blocks);
    for (const id of [ACTION.takeOver, ACTION.reassign, ACTION.extend, ACTION.open]) expect(json).toContain(`"action_id":"${id}"`);
    expect(escalation.text).toContain('First response');
    const where = { channel: 'DUBOSS', ts: escalation.ts, blocks: escalation.blocks };

    await h.press('UBOSS', ACTION.open, ticket.id, where);
    expect(h.fake.responses.at(-1)!.body.text).toContain(ticket.key);

    await h.press('UBOSS', ACTION.extend, `${ticket.id}:first_response`, where);
    const modal = h.lastView();
    const bad = await h.submit('UBOSS', modal, { duration: 'soon', reason: 'Vendor is on it' });
    expect(Object.values(bad.body.errors as Record<string, string>)[0]).toContain('30m, 2h or 1d');
    const ok = await h.submit('UBOSS', modal, { duration: '2h', reason: 'Vendor is on it' });
    expect(ok.body).toBeNull();
    const extended = await h.storage.db.selectFrom('audit_events').selectAll().where('ticket_id', '=', ticket.id).where('action', '=', 'extended').execute();
    expect(extended).toEqual([expect.objectContaining({ actor_id: 'slack:UBOSS', reason: 'Vendor is on it' })]);

    await h.press('UBOSS', ACTION.takeOver, ticket.id, where);
    const after = await h.storage.db.selectFrom('tickets').selectAll().where('id', '=', ticket.id).executeTakeFirstOrThrow();
    expect(after.assignee_id).toBe('slack:UBOSS');
    await h.deliver();
    expect(blockText(h.cardIn('C0IT', ticket.key)!.blocks)).toContain('<@UBOSS>');
  });
});
