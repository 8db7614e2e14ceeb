import { readFileSync } from 'node:fs';
import { dispatch, type Intent } from '../../src/chat/dispatcher';
import { parseConfigText } from '../../src/config/load';
import type { Storage } from '../../src/storage/database';
import { FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * The intake reaction is an Intent (issue 14 follow-up): the chat layer decides which reaction
 * raises a ticket and raises it like any quick create; a platform only reports the reaction and
 * the message it points at (Slack used to call the chat layer's quickCreate itself).
 */
const fixture = readFileSync(FIXTURE_CONFIG, 'utf8');
const text = fixture.replace('intake: { default_category: how-to, default_priority: normal }', 'intake: { default_category: how-to, default_priority: normal, reaction: ticket }');
if (text === fixture) throw new Error('fixture changed: could not set the intake reaction');
const parsed = parseConfigText(text);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const config = parsed.config;

describe.each(storageVariants())('reaction intents on $name', (variant) => {
  let storage: Storage;
  const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));
  let ctx: ReturnType<typeof testContext>;
  let users: Record<string, string>;

  beforeAll(async () => {
    storage = await variant.open();
    ctx = testContext(storage, time, config);
    users = await seedUsers(ctx, [{ platform: 'slack', id: 'UIT1', name: 'Alan' }]);
  });
  afterAll(() => storage.close());

  const reaction = (emoji: string, key: string, body: string): Intent => ({
    kind: 'reaction',
    actor: { id: users.UIT1!, locale: 'en' },
    platform: 'slack',
    dedupKey: key,
    replyTarget: undefined,
    emoji,
    text: body,
    source: { platform: 'slack', channel: 'C0GEN', messageId: '1700000000.000100', permalink: 'https://x.slack.com/archives/C0GEN/p1700000000000100' },
  });
  const tickets = () => storage.db.selectFrom('tickets').select(['title', 'description', 'requester_id', 'category_id']).orderBy('created_at').execute();

  it('the intake reaction raises a ticket from the message, once per event; other reactions do nothing', async () => {
    expect(await dispatch({ ctx }, reaction('thumbsup', 'slack:event:E1', 'Printer on floor 3 jams'))).toEqual({ replies: [] });
    expect(await tickets()).toEqual([]);
    expect(await dispatch({ ctx }, reaction('ticket', 'slack:event:E2', 'Printer on floor 3 jams\nsince this morning'))).toEqual({ replies: [] });
    await dispatch({ ctx }, reaction('ticket', 'slack:event:E2', 'Printer on floor 3 jams\nsince this morning'));
    expect(await tickets()).toEqual([{ title: 'Printer on floor 3 jams', description: 'Printer on floor 3 jams\nsince this morning', requester_id: users.UIT1, category_id: 'how-to' }]);
  });

  it('a reaction on a message without text asks for the form, as a quick create does', async () => {
    const answer = await dispatch({ ctx }, reaction('ticket', 'slack:event:E3', '  '));
    expect(answer.replies.map((r) => r.kind)).toEqual(['form']);
    expect(await tickets()).toHaveLength(1);
  });
});
