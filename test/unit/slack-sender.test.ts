import { webApi } from '@slack/bolt';
import { createTicket } from '../../src/app/createTicket';
import { getTicketView } from '../../src/app/queries';
import type { AppContext } from '../../src/app/context';
import type { OutboxRecord } from '../../src/jobs/outbox-dispatcher';
import { SlackSender } from '../../src/slack/sender';
import type { Storage } from '../../src/storage/database';
import { FakeSlack } from '../fakes/slack-server';
import { slackTestConfig } from '../fakes/slack-harness';
import { storageSlackPorts } from '../../src/wiring/slack-ports';
import { ManualTime, seedUsers, testContext, as } from '../support/app';
import { storageVariants } from '../support/storage';

/** The Slack outbox sender against the fake Web API, on every database we support. */
describe.each(storageVariants())('SlackSender ($name)', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let fake: FakeSlack;
  let sender: SlackSender;

  beforeEach(async () => {
    storage = await variant.open();
    ctx = testContext(storage, new ManualTime(new Date('2026-03-02T02:00:00Z')), slackTestConfig());
    fake = new FakeSlack();
    await fake.start();
    fake.addUser({ id: 'UREQ', name: 'Rita' });
    fake.addChannel({ id: 'C0IT', name: 'it', members: ['UBOT'] });
    await seedUsers(ctx, [{ platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' }]);
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
    sender = new SlackSender({ ctx, client, ports: storageSlackPorts(ctx), teamId: fake.teamId, loadTicketView: (id) => getTicketView(ctx, id) });
  });
  afterEach(async () => {
    await fake.stop();
    await storage.close();
  });

  async function rows(): Promise<OutboxRecord[]> {
    const r = await createTicket(ctx, { meta: as('slack:UREQ', `e${Math.random()}`), categoryId: 'how-to', title: 'Wiki down', description: '' });
    if (!r.ok) throw new Error(r.error.code);
    return storage.db.selectFrom('outbox').selectAll().where('ticket_id', '=', r.value.ticket.id).orderBy('created_at').execute();
  }
  const cardRow = async () => (await rows()).find((r) => r.event === 'card.post')!;

  it('posts a card tagged with its outbox id and records the link', async () => {
    const row = await cardRow();
    const outcome = await sender.send(row);
    expect(outcome).toEqual({ ok: true, messageRef: expect.stringMatching(/^C0IT\//) });
    const post = fake.callsOf('chat.postMessage')[0]!;
    expect(post.args.metadata).toEqual({ event_type: 'ticketbot_outbox', event_payload: { outbox_id: row.id } });
    const links = await storage.db.selectFrom('chat_links').selectAll().execute();
    expect(links).toEqual([expect.objectContaining({ platform: 'slack', channel: 'C0IT', role: 'card', ticket_id: row.ticket_id })]);
  });

  it('reads the payload with the one outbox schema (src/app/outbox.ts): a row it cannot read is refused for good, not half-sent', async () => {
    const row = await cardRow();
    const notice = { ...row, event: 'ticket.claimed', payload: JSON.stringify({ params: { key: 'IT-1' } }) };
    expect(await sender.send(notice)).toEqual({ ok: false, error: 'unreadable outbox payload', permanent: true });
    expect(await sender.send({ ...notice, payload: '{' })).toEqual({ ok: false, error: 'unreadable outbox payload', permanent: true });
    expect(fake.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('finds the message of an earlier attempt instead of posting twice', async () => {
    const row = await cardRow();
    await sender.send(row);
    const again = await sender.send({ ...row, attempts: 1 });
    expect(again.ok).toBe(true);
    expect(fake.callsOf('chat.postMessage')).toHaveLength(1);
    expect(fake.callsOf('conversations.history')).toHaveLength(1);
  });

  it('reports 429 with its Retry-After, 503 as retryable, and an unreachable channel as permanent', async () => {
    const row = await cardRow();
    fake.failNext('chat.postMessage', { kind: 'ratelimited', retryAfterSec: 7 });
    expect(await sender.send(row)).toEqual({ ok: false, error: expect.stringContaining('ratelimited'), retryAfterMs: 7000 });
    fake.failNext('chat.postMessage', { kind: 'http', status: 503 });
    const outage = await sender.send(row);
    expect(outage).toEqual({ ok: false, error: 'http 503' });
    fake.failNext('chat.postMessage', { kind: 'error', error: 'not_in_channel' });
    const blocked = await sender.send(row);
    expect(blocked).toMatchObject({ ok: false, permanent: true });
    expect(!blocked.ok && blocked.error).toContain('/invite @ticketbot');
    expect(!blocked.ok && blocked.error).toContain('C0IT');
    expect(await storage.db.selectFrom('chat_links').selectAll().execute()).toHaveLength(0);
  });

  it('never lets an older refresh overwrite a newer card', async () => {
    const row = await cardRow();
    await sender.send(row);
    const refresh: OutboxRecord = { ...row, id: 'r1', event: 'card.refresh', ticket_version: 1 };
    expect(await sender.send(refresh)).toEqual({ ok: true });
    expect(fake.callsOf('chat.update')).toHaveLength(0);
    await storage.db.updateTable('tickets').set({ version: 3 }).where('id', '=', row.ticket_id!).execute();
    await sender.send({ ...refresh, id: 'r3', ticket_version: 3 });
    await sender.send({ ...refresh, id: 'r2', ticket_version: 2 });
    expect(fake.callsOf('chat.update')).toHaveLength(1);
    expect(fake.callsOf('chat.update')[0]!.args.blocks.length).toBeGreaterThan(3);
  });

  it('opens the requester thread once and threads later messages under it', async () => {
    const all = await rows();
    const created = all.find((r) => r.event === 'ticket.created')!;
    await sender.send(created);
    await sender.send({ ...created, id: 'later', event: 'ticket.assigned', payload: JSON.stringify({ messageKey: 'event.ticket.claimed', params: { key: 'IT-1001', assignee: 'Alan' }, thread: 'requester' }) });
    const dm = fake.messagesIn('DUREQ');
    expect(dm).toHaveLength(2);
    expect(dm[1]!.thread_ts).toBe(dm[0]!.ts);
    expect(dm[1]!.text).toBe('IT-1001 claimed by Alan.');
  });
});
