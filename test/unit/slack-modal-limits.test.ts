import { missingFieldsModal, newTicketModal } from '../../src/slack/presenters';
import { slackTestConfig } from '../fakes/slack-harness';

const config = slackTestConfig();

/** private_metadata holds at most 3,000 characters (https://api.slack.com/reference/surfaces/views). */
describe('modal private_metadata stays within 3,000 characters', () => {
  const source = {
    channel: 'C0GEN',
    ts: '1700000000.000100',
    permalink: `https://example.slack.com/archives/C0GEN/p1700000000000100?thread_ts=${'1'.repeat(200)}`,
    author: 'U0REQ',
    files: Array.from({ length: 5 }, (_, i) => ({ id: `F${i}`, name: `"quoted" \\ name ${'😀'.repeat(60)}`, url: `https://files.slack.com/${'x'.repeat(150)}` })),
  };

  it('the missing-fields form opens with a description of newlines, quotes and emoji (JSON escaping grows it)', () => {
    const description = '"\n\\😀'.repeat(500);
    const view = missingFieldsModal({ config, locale: 'en', title: 'Refund "now"', fields: ['order_id'], metadata: { path: [], channel: 'C0GEN', source, categoryId: 'refund-request', title: 'Refund "now"', description } });
    expect(view.private_metadata!.length).toBeLessThanOrEqual(3000);
    const meta = JSON.parse(view.private_metadata!) as { description: string; categoryId: string; title: string };
    expect(meta.categoryId).toBe('refund-request');
    expect(meta.title).toBe('Refund "now"');
    expect(meta.description.endsWith('…')).toBe(true);
  });

  it('the new-ticket form opens from a message with five long file names and a long link', () => {
    const view = newTicketModal({ config, locale: 'zh-CN', metadata: { path: ['it'], channel: 'C0GEN', source: { ...source, files: [...source.files, ...source.files] } } });
    expect(view.private_metadata!.length).toBeLessThanOrEqual(3000);
    expect((JSON.parse(view.private_metadata!) as { source: { ts: string } }).source.ts).toBe(source.ts);
  });
});
