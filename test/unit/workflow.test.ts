import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { fieldsSetByPeople } from '../../src/app/rules';
import { parseTicketCommand } from '../../src/chat/commands';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { parseQuietRange, quietUntil } from '../../src/domain/quiet-hours';
import { evaluateRules, type RuleFacts } from '../../src/domain/rules';

/** Issue 17: watchers in rules, who set a field, quiet-hours windows, the quiet command. */
function configWith(extra: Record<string, unknown>): Config {
  const raw = parse(readFileSync(join(__dirname, '../../config/example.yaml'), 'utf8')) as Record<string, unknown>;
  const parsed = parseConfigText(stringify({ ...raw, ...extra }));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return parsed.config;
}

const facts: RuleFacts = { title: 'VPN down', description: '', categoryId: 'no-code', priority: 'normal', departmentId: 'eng', requester: { id: 'slack:U1' }, source: 'slack' };

describe('add_watchers', () => {
  it('adds up over every matching rule, each watcher once, each application recorded', () => {
    const config = configWith({
      rules: [
        { id: 'a', when: { text: 'vpn' }, then: { add_watchers: ['slack:UW1', 'email:boss@example.com'] } },
        { id: 'b', when: { text: 'down' }, then: { priority: 'urgent', add_watchers: ['slack:UW1', 'feishu:ou_w2'] } },
        { id: 'c', when: { text: 'printer' }, then: { add_watchers: 'slack:UW9' } },
      ],
    });
    const out = evaluateRules(config, facts);
    expect(out.watchers).toEqual(['slack:UW1', 'email:boss@example.com', 'feishu:ou_w2']);
    expect(out.applied).toEqual([
      { ruleId: 'a', field: 'add_watchers', value: 'slack:UW1,email:boss@example.com' },
      { ruleId: 'b', field: 'priority', value: 'urgent' },
      { ruleId: 'b', field: 'add_watchers', value: 'feishu:ou_w2' },
    ]);
  });

  it('refuses a watcher that is not a user reference', () => {
    const raw = parse(readFileSync(join(__dirname, '../../config/example.yaml'), 'utf8')) as Record<string, unknown>;
    const parsed = parseConfigText(stringify({ ...raw, rules: [{ id: 'w', then: { add_watchers: 'wendy' } }] }));
    expect(parsed.ok).toBe(false);
  });
});

describe('fieldsSetByPeople', () => {
  const e = (actor_id: string, action: string, data: unknown = null) => ({ actor_id, action, data: data === null ? null : JSON.stringify(data) });
  it('counts a person’s priority change and a manual escalation that raised it, not the system’s nor a plain escalation', () => {
    expect([...fieldsSetByPeople([e('system', 'priority_changed'), e('slack:U1', 'escalated_by_person', { from: 'low' })])]).toEqual([]);
    expect([...fieldsSetByPeople([e('slack:U1', 'escalated_by_person', { from: 'low', raisedTo: 'high' })])]).toEqual(['priority']);
    expect([...fieldsSetByPeople([e('slack:U1', 'priority_changed'), e('slack:U2', 'marked_sensitive')])].sort()).toEqual(['priority', 'sensitive']);
  });
});

describe('quiet hours', () => {
  it('reads ranges as people type them', () => {
    expect(parseQuietRange('22:00-08:00')).toEqual({ start: '22:00', end: '08:00' });
    expect(parseQuietRange('22-8')).toEqual({ start: '22:00', end: '08:00' });
    expect(parseQuietRange('12:30–13:30')).toEqual({ start: '12:30', end: '13:30' });
    expect(parseQuietRange('22:00到08:00')).toEqual({ start: '22:00', end: '08:00' });
    for (const bad of ['', 'soon', '25:00-08:00', '08:00-08:00', '22:00']) expect(parseQuietRange(bad)).toBeUndefined();
  });

  it('says when the window holding an instant ends, across midnight and in the person’s zone', () => {
    const night = { start: '22:00', end: '08:00', zone: 'Asia/Shanghai' };
    // 23:30 in Shanghai is 15:30 UTC: quiet until 08:00 Shanghai = 00:00 UTC next day.
    expect(quietUntil(night, Date.parse('2026-11-23T15:30:00Z'))).toBe('2026-11-24T00:00:00.000Z');
    // 07:59 in Shanghai: one minute left.
    expect(quietUntil(night, Date.parse('2026-11-23T23:59:00Z'))).toBe('2026-11-24T00:00:00.000Z');
    // 08:00 and 21:59 in Shanghai: outside.
    expect(quietUntil(night, Date.parse('2026-11-24T00:00:00Z'))).toBeUndefined();
    expect(quietUntil(night, Date.parse('2026-11-24T13:59:00Z'))).toBeUndefined();
    const lunch = { start: '12:00', end: '13:00', zone: 'UTC' };
    expect(quietUntil(lunch, Date.parse('2026-11-24T12:10:30Z'))).toBe('2026-11-24T13:00:00.000Z');
    expect(quietUntil(lunch, Date.parse('2026-11-24T11:59:59Z'))).toBeUndefined();
  });

  it('parses /ticket quiet and its Chinese alias', () => {
    const config = configWith({});
    expect(parseTicketCommand(config, 'quiet 22:00-08:00')).toEqual({ kind: 'quiet', range: '22:00-08:00' });
    expect(parseTicketCommand(config, 'quiet off')).toEqual({ kind: 'quiet', range: 'off' });
    expect(parseTicketCommand(config, '免打扰 22:00-08:00')).toEqual({ kind: 'quiet', range: '22:00-08:00' });
  });
});
