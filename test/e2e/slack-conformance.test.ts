import { SlackHarness, blockText } from '../fakes/slack-harness';

/**
 * Issue 19's Slack defects, end to end against the stricter fake: each test failed on the code
 * before the fix (escaped text shown twice, reactions on thread replies, ephemeral answers lost,
 * expired trigger_ids reported only to the log).
 */

const dm = (user: string) => `D${user}`;

describe('Slack conformance (issue 19)', () => {
  let h: SlackHarness;
  beforeEach(async () => {
    h = await SlackHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  const tickets = () => h.storage.db.selectFrom('tickets').selectAll().orderBy('created_at').execute();

  it('a quick ticket with <!channel>, & and a link: stored as plain text, shown escaped once, nobody pinged', async () => {
    await h.command('UREQ', '<!channel> printer & scanner <https://wiki.example.com/p|wiki> broke');
    await h.idle();
    const t = (await tickets()).at(-1)!;
    expect(t.title).toBe('@channel printer & scanner wiki (https://wiki.example.com/p) broke');
    await h.deliver();
    const card = h.fake.callsOf('chat.postMessage').find((c) => c.args.channel === 'C0IT')!;
    // The notification text and the blocks are mrkdwn: no live <!channel>, and & escaped once.
    expect(card.args.text).not.toContain('<!channel>');
    expect(card.args.text).toContain('printer &amp; scanner');
    expect(JSON.stringify(card.args.blocks)).not.toContain('&amp;amp;');
    expect(JSON.stringify(card.args.blocks)).not.toContain('<!channel>');
  });

  it('feedback and DM text are stored as written, not as Slack escaped them', async () => {
    await h.command('UIT1', 'feedback Q&A <templates> for <@UIT2>');
    await h.say('UREQ', dm('UREQ'), 'Mouse & keyboard <broken>');
    await h.idle();
    expect((await h.storage.db.selectFrom('feedback').select('text').execute()).map((f) => f.text)).toEqual(['Q&A <templates> for @UIT2']);
    expect((await tickets()).at(-1)!.title).toBe('Mouse & keyboard <broken>');
  });

  it('the intake reaction on a thread reply raises a ticket from that reply', async () => {
    const parent = h.fake.addMessage({ channel: 'C0GEN', user: 'UZH', text: 'Weekly thread' });
    const reply = h.fake.addMessage({ channel: 'C0GEN', user: 'UZH', text: 'The VPN drops every hour', thread_ts: parent.ts });
    const before = (await tickets()).length;
    await h.event({ type: 'reaction_added', user: 'UIT1', reaction: 'ticket', item: { type: 'message', channel: 'C0GEN', ts: reply.ts }, item_user: 'UZH' });
    await h.idle();
    const all = await tickets();
    expect(all).toHaveLength(before + 1);
    expect(all.at(-1)!.title).toBe('The VPN drops every hour');
  });

  it('an answer for someone not in the channel goes to their DM instead of being lost', async () => {
    await h.command('UREQ', 'Laptop fan is loud');
    await h.idle();
    await h.deliver();
    const card = h.fake.messagesIn('C0IT').find((m) => m.blocks)!;
    // Otto is not in #it-desk (as with a shared channel); his thread reply is refused and must reach him.
    await h.say('UOUT', 'C0IT', 'me too', { threadTs: card.ts });
    await h.idle();
    expect(h.fake.callsOf('chat.postEphemeral').some((c) => c.args.user === 'UOUT')).toBe(true);
    expect(h.fake.ephemerals.some((e) => e.user === 'UOUT')).toBe(false);
    expect(h.fake.messagesIn(dm('UOUT')).length).toBeGreaterThan(0);
  });

  it('a form that missed its 3-second trigger_id tells the person to click again', async () => {
    h.fake.triggerTtlMs = -1;
    await h.command('UREQ', 'new');
    await h.idle();
    expect(h.fake.callsOf('views.open')).toHaveLength(1);
    expect(h.fake.views.size).toBe(0);
    const said = h.fake.messagesIn(dm('UREQ')).map((m) => blockText(m.blocks) || m.text || '');
    expect(said.join('\n')).toContain('Please click again');
  });
});
