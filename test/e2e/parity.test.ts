import { t } from '../../src/chat/i18n';
import { FeishuParity, SlackParity, snapshot, type ParityDriver, type Seen } from '../fakes/parity-drivers';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * Slack and Feishu are one product: each scenario of this one table runs against both fakes (real
 * signed requests), and must leave the same database (tickets, legs, audit trail, messages,
 * feedback; people compared by role) and show the same things, privately. Nothing private may
 * reach a non-member, the group where a command was typed, or the requester.
 */

interface Scenario {
  name: string;
  /** Runs the steps; returns what was observed, which must equal `expected` on both platforms. */
  run(d: ParityDriver): Promise<Record<string, unknown>>;
  expected: Record<string, unknown>;
}

/** The member claims IT-1001 and asks the requester "Which floor exactly?" (Request info form): the ticket waits on them. */
async function waitOnRequester(d: ParityDriver): Promise<void> {
  await d.claim('member', 'IT-1001');
  await d.deliver();
  await d.form('member', 'IT-1001', 'request_info', { body: 'Which floor exactly?' });
  await d.deliver();
}

/** The requester raises "Printer on floor 3 jams" with `/ticket <text>` in a group; the card is posted. */
async function raise(d: ParityDriver): Promise<Seen> {
  const seen = await d.command('requester', 'Printer on floor 3 jams');
  await d.deliver();
  return seen;
}

const has = (seen: Seen | string, text: string) => (typeof seen === 'string' ? seen : seen.private).includes(text);
/** What others could read: in a Feishu group only a pointer to the DM may be said ("I answered you in a direct message."). */
const publicly = (seen: Seen) => seen.public.replace(t('en', 'chat.sent_privately'), '').trim();

const SCENARIOS: Scenario[] = [
  {
    name: 'quick create: /ticket <text> raises the ticket at once (no form), answered privately',
    expected: { created: true, form: false },
    async run(d) {
      const seen = await raise(d);
      expect(publicly(seen)).toBe('');
      return { created: has(seen, 'IT-1001 raised: Printer on floor 3 jams'), form: has(seen, '[form]') };
    },
  },
  {
    name: 'raise by a plain message to the bot',
    expected: { raised: true },
    async run(d) {
      const seen = await d.dm('requester', 'VPN drops every hour');
      await d.deliver();
      expect(publicly(seen)).toBe('');
      return { raised: true };
    },
  },
  {
    name: 'show by a member: the card, privately, with its buttons; by a non-member: the neutral answer, the same as for a key that does not exist',
    expected: { memberSees: true, outsider: expect.stringContaining('There is no ticket KEY that you can see'), same: true },
    async run(d) {
      await raise(d);
      const member = await d.command('member', 'show IT-1001');
      const outsider = await d.command('outsider', 'show IT-1001');
      const missing = await d.command('outsider', 'show IT-9999');
      for (const s of [member, outsider, missing]) expect(publicly(s)).toBe('');
      expect(d.groupText()).not.toContain('Printer on floor 3 jams');
      expect(d.everythingSeenBy('outsider')).not.toContain('Printer on floor 3 jams');
      return {
        memberSees: has(member, 'Printer on floor 3 jams'),
        outsider: outsider.private.replaceAll('IT-1001', 'KEY'),
        same: outsider.private.replaceAll('IT-1001', 'KEY') === missing.private.replaceAll('IT-9999', 'KEY'),
      };
    },
  },
  {
    name: 'claim, then a double claim by a colleague is refused with who has it',
    expected: { refused: true, ownRefused: false },
    async run(d) {
      await raise(d);
      await d.command('member2', 'lang en');
      await d.claim('member', 'IT-1001');
      // A double click by the one who has it is no error on any platform (Feishu used to say "already assigned to you").
      const own = await d.claim('member', 'IT-1001');
      const second = await d.claim('member2', 'IT-1001');
      await d.deliver();
      return { refused: /already assigned/.test(second.private), ownRefused: /already assigned/.test(own.private) };
    },
  },
  {
    name: 'a note in the card thread stays internal: the requester never sees it',
    expected: { noted: true },
    async run(d) {
      await raise(d);
      await d.claim('member', 'IT-1001');
      await d.note('member', 'IT-1001', 'internal: printer firmware is pirated');
      await d.deliver();
      expect(d.everythingSeenBy('requester')).not.toContain('pirated');
      expect(d.everythingSeenBy('outsider')).not.toContain('pirated');
      expect(d.groupText()).not.toContain('pirated');
      return { noted: true };
    },
  },
  {
    name: 'requester reply by a plain DM while a ticket waits on them: asked which ticket, one tap adds it',
    expected: { asked: true, added: true, secondTapIgnored: true },
    async run(d) {
      await raise(d);
      await waitOnRequester(d);
      const asked = await d.dm('requester', 'Floor 3, next to the kitchen');
      const tapped = await d.chooseTicket('requester', 0);
      const again = await d.chooseTicket('requester', 1);
      await d.deliver();
      return { asked: has(asked, 'waiting on your answer'), added: has(tapped, 'Added to IT-1001'), secondTapIgnored: has(again, 'already answered') };
    },
  },
  {
    name: 'a plain DM while a ticket waits: "new ticket" raises a new one instead',
    expected: { created: true },
    async run(d) {
      await raise(d);
      await waitOnRequester(d);
      await d.dm('requester', 'Another thing: the projector is dead');
      const tapped = await d.chooseTicket('requester', 1);
      return { created: has(tapped, 'IT-1002 raised') };
    },
  },
  {
    name: 'handoff, then return with a listed reason: stored by id, shown by name',
    expected: { shownByName: true, rawId: false, whileAway: { it: false, finance: true }, back: { it: true, finance: false } },
    async run(d) {
      await raise(d);
      await d.claim('member', 'IT-1001');
      await d.deliver();
      const handed = await d.form('member', 'IT-1001', 'hand_off', { department: 'finance', reason: 'looks like a refund' });
      expect(publicly(handed)).toBe('');
      await d.deliver();
      // Which cards carry buttons, one rule: only the department holding the ticket gets them.
      const whileAway = { it: d.cardHasButtons('IT-1001', 'it'), finance: d.cardHasButtons('IT-1001', 'finance') };
      await d.returnLeg('financeMember', 'IT-1001', 'wrong-department');
      await d.deliver();
      const shown = await d.command('member', 'show IT-1001');
      return { shownByName: has(shown, 'Wrong department'), rawId: has(shown, 'wrong-department'), whileAway, back: { it: d.cardHasButtons('IT-1001', 'it'), finance: d.cardHasButtons('IT-1001', 'finance') } };
    },
  },
  {
    name: 'the whole life through the platforms: reply, requester answers in their thread, resolve, "not yet", resolve, "yes", survey; internal notes never reach the requester',
    expected: {
      replySeen: true,
      noteHidden: true,
      states: ['in_progress', 'waiting_on_requester', 'in_progress', 'resolved', 'in_progress', 'resolved', 'closed'],
      surveyed: true,
      outsiderSawNothing: true,
    },
    async run(d) {
      await raise(d);
      const state = async () => (await d.storage.db.selectFrom('tickets').select('state').where('key', '=', 'IT-1001').executeTakeFirstOrThrow()).state;
      const states: string[] = [];
      await d.claim('member', 'IT-1001');
      await d.deliver();
      const replied = await d.form('member', 'IT-1001', 'reply', { body: 'We are sending someone up.' });
      expect(publicly(replied)).toBe('');
      await d.deliver();
      states.push(await state());
      await d.note('member', 'IT-1001', 'internal: toner vendor is late again');
      await d.form('member', 'IT-1001', 'request_info', { body: 'Which floor exactly?' });
      await d.deliver();
      states.push(await state());
      await d.threadReply('requester', 'IT-1001', 'Floor 3, by the kitchen');
      await d.deliver();
      states.push(await state());
      await d.form('member', 'IT-1001', 'resolve', { note: 'Cleared the paper path' });
      await d.deliver();
      states.push(await state());
      await d.answerResolved('requester', 'reopen');
      await d.deliver();
      states.push(await state());
      await d.form('member', 'IT-1001', 'resolve', { note: 'Replaced the roller' });
      await d.deliver();
      states.push(await state());
      await d.answerResolved('requester', 'confirm');
      await d.deliver();
      states.push(await state());
      await d.rate('requester', 5);
      await d.deliver();
      const requesterSaw = d.everythingSeenBy('requester');
      return {
        replySeen: requesterSaw.includes('We are sending someone up.'),
        noteHidden: !requesterSaw.includes('toner vendor') && !d.groupText().includes('toner vendor'),
        states,
        surveyed: (await d.storage.db.selectFrom('surveys').select('score').execute()).map((r) => r.score).join() === '5',
        outsiderSawNothing: !d.everythingSeenBy('outsider').includes('Printer') && !d.groupText().includes('Cleared the paper path') && !d.groupText().includes('Which floor'),
      };
    },
  },
  {
    name: 'forms refuse what is missing the same way: a hand-off without a reason, a resolve without a note',
    expected: { handedOff: false, resolved: false },
    async run(d) {
      await raise(d);
      await d.claim('member', 'IT-1001');
      await d.deliver();
      await d.form('member', 'IT-1001', 'hand_off', { department: 'finance', reason: '' });
      await d.form('member', 'IT-1001', 'resolve', { note: '' });
      const t = await d.storage.db.selectFrom('tickets').select(['state', 'department_id']).where('key', '=', 'IT-1001').executeTakeFirstOrThrow();
      return { handedOff: t.department_id === 'finance', resolved: t.state === 'resolved' };
    },
  },
  {
    name: 'feedback is stored with the author’s department',
    expected: { thanks: true, public: '' },
    async run(d) {
      const seen = await d.command('member', 'feedback Add a VPN FAQ');
      return { thanks: has(seen, 'Thanks'), public: publicly(seen) };
    },
  },
  {
    name: 'stats: refused for departments the asker is not in, periods over a year refused, both with a clear word',
    expected: { requester: true, other: true, long: true, own: true, admin: true },
    async run(d) {
      const requester = await d.command('requester', 'stats it');
      const other = await d.command('member', 'stats finance 30天');
      const long = await d.command('supervisor', 'stats 400d');
      const own = await d.command('member', 'stats 30天');
      const admin = await d.command('admin', 'stats');
      for (const s of [requester, other, long, own, admin]) expect(publicly(s)).toBe('');
      return {
        requester: has(requester, 'you are in none'),
        other: has(other, 'own departments only'),
        long: has(long, 'at most 365 days'),
        own: has(own, 'IT · last 30 days'),
        admin: has(admin, 'all departments'),
      };
    },
  },
  {
    name: 'stats help: the published definitions of every figure, to anyone, privately',
    expected: { usage: true, onTime: true, misrouting: true, selfService: true },
    async run(d) {
      const seen = await d.command('requester', 'stats help');
      expect(publicly(seen)).toBe('');
      return {
        usage: has(seen, 'at most 365 days'),
        onTime: has(seen, 'On-time rate: Share of SLA and handoff clocks'),
        misrouting: has(seen, 'Misrouting rate (per category)'),
        selfService: has(seen, 'Self-service rate'),
      };
    },
  },
  {
    name: 'queue: members see theirs, others are refused',
    expected: { member: true, outsider: true, other: true },
    async run(d) {
      await raise(d);
      const member = await d.command('member', 'queue');
      const outsider = await d.command('outsider', 'queue it');
      const other = await d.command('otherSupervisor', 'queue it');
      expect(d.everythingSeenBy('outsider')).not.toContain('Printer on floor 3 jams');
      expect(d.everythingSeenBy('otherSupervisor')).not.toContain('Printer on floor 3 jams');
      return { member: has(member, 'Printer on floor 3 jams'), outsider: has(outsider, 'you are in none'), other: has(other, 'own departments only') };
    },
  },
  {
    name: 'policy: one text, with calendars and handoff limits',
    expected: { text: expect.stringMatching(/office/) },
    async run(d) {
      const seen = await d.command('requester', 'policy');
      expect(publicly(seen)).toBe('');
      return { text: seen.private };
    },
  },
  {
    name: 'lang and help',
    expected: { zh: true, help: true },
    async run(d) {
      const zh = await d.command('requester', 'lang zh');
      const help = await d.command('requester', 'help');
      return { zh: has(zh, '语言已切换为中文'), help: has(help, '/工单 mine') };
    },
  },
  {
    name: 'an unknown command answers with the help',
    expected: { unknown: true, help: true },
    async run(d) {
      const seen = await d.command('requester', 'frobnicate');
      return { unknown: has(seen, 'I do not know "frobnicate"'), help: has(seen, '/ticket mine') };
    },
  },
  {
    name: 'buttons that open forms: only those who may do the write get the form',
    expected: { outsider: false, outsiderTold: true, member: true },
    async run(d) {
      await raise(d);
      await d.claim('member', 'IT-1001');
      await d.deliver();
      const outsider = await d.openForm('outsider', 'IT-1001', 'reply');
      const member = await d.openForm('member2', 'IT-1001', 'reply');
      return { outsider: outsider.opened, outsiderTold: has(outsider.seen, 'There is no ticket'), member: member.opened };
    },
  },
];

describe.each(storageVariants())('Slack and Feishu behave the same ($name)', (variant: StorageVariant) => {
  it.each(SCENARIOS.map((s): [string, Scenario] => [s.name, s]))('%s', async (_name, scenario) => {
    const results: Record<string, { observed: Record<string, unknown>; db: Record<string, unknown> }> = {};
    for (const start of [SlackParity.start, FeishuParity.start]) {
      const d = await start(await variant.open());
      try {
        const observed = await scenario.run(d);
        results[d.platform] = { observed, db: await snapshot(d) };
      } finally {
        await d.stop();
      }
    }
    expect({ platform: 'slack', ...results.slack!.observed }).toEqual({ platform: 'slack', ...scenario.expected });
    expect({ platform: 'feishu', ...results.feishu!.observed }).toEqual({ platform: 'feishu', ...scenario.expected });
    expect(results.feishu!.db).toEqual(results.slack!.db);
  });
});
