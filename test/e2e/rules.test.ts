import { FeishuParity, SlackParity, type ParityDriver } from '../fakes/parity-drivers';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * Automation rules through each platform's own signed requests (issue 17): a ticket raised with
 * `/ticket <text>` whose text matches gets the rule's priority and assignee, the audit trail names
 * the rules, and the department's card says which rule set what.
 */
const RULES = (ref: (p: 'member2') => string) => `
rules:
  - id: outage-is-urgent
    when: { text: "\\\\b(down|outage)\\\\b|宕机|瘫痪" }
    then: { priority: urgent }
  - id: urgent-inquiry-to-bo
    when: { category: inquiry, priority: urgent }
    then: { assign: ${ref('member2')} }
`;

describe.each(storageVariants())('automation rules on Slack and Feishu ($name)', (variant: StorageVariant) => {
  it.each([
    ['slack', SlackParity.start],
    ['feishu', FeishuParity.start],
  ] as const)('%s: a matching ticket gets its priority and assignee, a plain one does not', async (_platform, start) => {
    const d: ParityDriver = await start(await variant.open(), RULES);
    try {
      await d.command('requester', 'The VPN is DOWN for everyone');
      await d.command('requester', 'Printer on floor 3 jams');
      await d.deliver();
      const rows = await d.storage.db.selectFrom('tickets').select(['key', 'priority', 'assignee_id', 'state']).orderBy('key').execute();
      expect(rows).toEqual([
        { key: 'IT-1001', priority: 'urgent', assignee_id: d.userId('member2'), state: 'assigned' },
        { key: 'IT-1002', priority: 'normal', assignee_id: null, state: 'new' },
      ]);
      const applied = await d.storage.db.selectFrom('audit_events').select(['actor_id', 'data']).where('action', '=', 'rule_applied').orderBy('at').orderBy('id').execute();
      expect(applied.map((a) => [a.actor_id, JSON.parse(a.data!)])).toEqual([
        ['system', { rule: 'outage-is-urgent', field: 'priority', value: 'urgent' }],
        ['system', { rule: 'urgent-inquiry-to-bo', field: 'assign', value: d.userId('member2') }],
      ]);
      const card = d.cardText('IT-1001', 'it');
      expect(card).toContain('priority set by rule outage-is-urgent');
      expect(card).toContain('assignee set by rule urgent-inquiry-to-bo');
      expect(d.cardText('IT-1002', 'it')).not.toContain('set by rule');
    } finally {
      await d.stop();
    }
  });
});
