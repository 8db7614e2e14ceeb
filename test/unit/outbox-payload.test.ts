import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOutboxPayload, parseOutboxPayload } from '../../src/app/outbox';

/** The outbox payload is defined once (src/app/outbox.ts); the core writes it and every sender reads it with that schema. */
describe('outbox payload', () => {
  it('round-trips what the core writes, with defaults filled', () => {
    const raw = encodeOutboxPayload({ messageKey: 'event.ticket.claimed', params: { key: 'IT-1', assignee: 'Alan' }, thread: 'card', urgentVia: ['sms'] });
    expect(parseOutboxPayload(raw)).toEqual({ messageKey: 'event.ticket.claimed', params: { key: 'IT-1', assignee: 'Alan' }, thread: 'card', urgentVia: ['sms'] });
    expect(parseOutboxPayload(JSON.stringify({ messageKey: 'x' }))).toEqual({ messageKey: 'x', params: {}, thread: 'none' });
  });

  it('refuses what no sender could send', () => {
    expect(parseOutboxPayload('{')).toBeUndefined();
    expect(parseOutboxPayload(JSON.stringify({ params: {} }))).toBeUndefined();
    expect(parseOutboxPayload(JSON.stringify({ messageKey: 'x', urgentVia: ['pigeon'] }))).toBeUndefined();
    expect(() => encodeOutboxPayload({ messageKey: 'x', thread: 'side' as never })).toThrow();
  });

  it('carries a file as a reference to its source, never its bytes (issue 17 item 5)', () => {
    const file = { platform: 'feishu' as const, fileId: 'file_v3_1', name: 'log.txt', messageId: 'om_1', kind: 'file' as const, channel: 'oc_help' };
    const raw = encodeOutboxPayload({ messageKey: 'event.ticket.file_not_copied', params: { key: 'IT-1', name: 'log.txt', link: '' }, thread: 'requester', file });
    expect(parseOutboxPayload(raw)?.file).toEqual(file);
    expect(parseOutboxPayload(JSON.stringify({ messageKey: 'x', file: { platform: 'email', fileId: 'f', name: 'n' } }))).toBeUndefined();
    expect(parseOutboxPayload(JSON.stringify({ messageKey: 'x', file: { platform: 'slack', fileId: '', name: 'n' } }))).toBeUndefined();
    expect(Object.keys(JSON.parse(raw).file)).not.toContain('bytes');
  });

  it('is not redefined by a sender', () => {
    for (const file of ['src/slack/sender.ts', 'src/feishu/sender.ts']) {
      const text = readFileSync(join(__dirname, '..', '..', file), 'utf8');
      expect([file, /z\.object\(|interface OutboxPayload|as OutboxPayload/.test(text)]).toEqual([file, false]);
      expect([file, text.includes('parseOutboxPayload(')]).toEqual([file, true]);
    }
  });
});
