import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import { resolvePolicy, rolloutInForceAt, ruleInForce } from '../../src/domain/policy';
import { evaluateRules, routingPlan, ruleSource, type RuleFacts } from '../../src/domain/rules';
import { ruleLines } from '../../src/reports/docs';

/** The example config with `rules` (and other top-level keys) replaced. */
const exampleRaw = () => parse(readFileSync(join(__dirname, '../../config/example.yaml'), 'utf8')) as Record<string, unknown>;
function check(extra: Record<string, unknown>) {
  return parseConfigText(stringify({ ...exampleRaw(), ...extra }));
}
function configWith(extra: Record<string, unknown>): Config {
  const parsed = check(extra);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return parsed.config;
}

const SEED_RULES = [
  { id: 'outage-is-urgent', when: { text: '\\b(down|outage)\\b|宕机|瘫痪' }, then: { priority: 'urgent' } },
  { id: 'urgent-fault-to-on-call', when: { category: 'fault', priority: 'urgent' }, then: { assign: 'on_call', department: 'ops' } },
];

const facts = (over: Partial<RuleFacts> = {}): RuleFacts => ({
  title: 'Cannot log in',
  description: 'The code never arrives',
  categoryId: 'no-code',
  priority: 'normal',
  departmentId: 'eng',
  requester: { id: 'slack:U1' },
  source: 'slack',
  ...over,
});

describe('evaluateRules', () => {
  const config = configWith({ rules: SEED_RULES });

  it('matches the text regex case-insensitively over title and description, and chains into later rules', () => {
    const out = evaluateRules(config, facts({ description: 'The whole login service is DOWN' }));
    expect(out.priority).toBe('urgent');
    expect(out.departmentId).toBe('ops');
    expect(out.assign).toEqual({ kind: 'strategy', strategy: 'on_call' });
    expect(out.applied).toEqual([
      { ruleId: 'outage-is-urgent', field: 'priority', value: 'urgent' },
      { ruleId: 'urgent-fault-to-on-call', field: 'department', value: 'ops' },
      { ruleId: 'urgent-fault-to-on-call', field: 'assign', value: 'on_call' },
    ]);
    expect(evaluateRules(config, facts({ title: '服务器宕机了' })).priority).toBe('urgent');
  });

  it('leaves a ticket no rule matches as it was', () => {
    const out = evaluateRules(config, facts({ title: 'Downloads are slow' }));
    expect(out).toEqual({ priority: 'normal', departmentId: 'eng', applied: [] });
  });

  it('a category node matches its whole subtree, and only it', () => {
    expect(evaluateRules(config, facts({ priority: 'urgent', categoryId: 'crash' })).departmentId).toBe('ops');
    expect(evaluateRules(config, facts({ priority: 'urgent', categoryId: 'refund-request', departmentId: 'finance' })).applied).toEqual([]);
  });

  it('the first rule to set a field wins it; a later match sets only the fields still free', () => {
    const c = configWith({
      rules: [
        { id: 'vip-high', when: { requester: { tier: 'vip' } }, then: { priority: 'high' } },
        { id: 'feishu-low', when: { source: 'feishu' }, then: { priority: 'low', sensitive: true } },
        { id: 'cs-to-ann', when: { department: 'cs', priority: ['high', 'urgent'] }, then: { assign: 'slack:U0ANN' } },
      ],
    });
    const out = evaluateRules(c, facts({ requester: { id: 'x', tier: 'vip' }, source: 'feishu', departmentId: 'cs', categoryId: 'how-to' }));
    expect(out.priority).toBe('high');
    expect(out.sensitive).toBe(true);
    expect(out.assign).toEqual({ kind: 'user', ref: 'slack:U0ANN' });
    expect(out.applied.map((a) => `${a.ruleId}:${a.field}`)).toEqual(['vip-high:priority', 'feishu-low:sensitive', 'cs-to-ann:assign']);
    // Without the attribute, the source rule's priority applies and the cs rule no longer matches.
    const plain = evaluateRules(c, facts({ source: 'feishu', departmentId: 'cs', categoryId: 'how-to' }));
    expect(plain.priority).toBe('low');
    expect(plain.assign).toBeUndefined();
  });

  it('names sources as rules do', () => {
    expect([ruleSource('slack'), ruleSource('feishu'), ruleSource('cli')]).toEqual(['slack', 'feishu', 'api']);
  });
});

describe('config check of rules', () => {
  const problemsOf = (rules: unknown[]) => {
    const parsed = check({ rules });
    expect(parsed.ok).toBe(false);
    return parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('reports bad regexes and bad values with their key paths', () => {
    expect(
      problemsOf([
        { id: 'ok', when: { text: 'down' }, then: { priority: 'urgent' } },
        { id: 'bad-regex', when: { text: '(unclosed' }, then: { priority: 'urgent' } },
        { id: 'bad-then', when: {}, then: { priority: 'sky-high' } },
        { id: 'watchers', then: { add_watchers: ['U1'] } },
      ]),
    ).toEqual([
      expect.stringMatching(/^rules\[1\]\.when\.text: not a valid regular expression: .*Unterminated group/),
      expect.stringMatching(/^rules\[2\]\.then\.priority: /),
      expect.stringMatching(/^rules\[3\]\.then\.add_watchers/),
    ]);
  });

  it('reports unknown references and duplicate ids with their key paths', () => {
    expect(
      problemsOf([
        { id: 'bad-refs', when: { category: 'nope', department: 'nowhere' }, then: { department: 'mars' } },
        { id: 'no-rotation', when: { department: 'eng' }, then: { assign: 'on_call' } },
        { id: 'bad-refs', then: { priority: 'low' } },
      ]),
    ).toEqual([
      'rules[0].when.category: unknown category "nope"',
      'rules[0].when.department: unknown department "nowhere"',
      'rules[0].then.department: unknown department "mars"',
      'rules[1].then.assign: assign on_call: none of the departments (eng) has an on_call rotation',
      'rules[2].id: duplicate rule "bad-refs"',
    ]);
  });

  it('accepts the rules of the seed example', () => {
    expect(check({ rules: SEED_RULES }).ok).toBe(true);
  });
});

describe('routingPlan: a rule assignment, else the routing in force', () => {
  const config = configWith({ rules: SEED_RULES, rollout: [{ id: 'rr-pilot', routing: 'round_robin', departments: ['cs'] }] });

  it('a rule assignment wins and names its rule', () => {
    const out = evaluateRules(config, facts({ title: 'outage' }));
    expect(routingPlan(config, out.departmentId, out)).toMatchObject({ kind: 'strategy', strategy: 'on_call', onCall: ['slack:U0OPS1', 'slack:U0OPS2'], origin: 'rule urgent-fault-to-on-call' });
  });

  it('without one: the pilot strategy in the pilot department, the own strategy elsewhere', () => {
    expect(routingPlan(config, 'cs')).toMatchObject({ kind: 'strategy', strategy: 'round_robin', capacity: 10, origin: 'rollout rr-pilot' });
    expect(routingPlan(config, 'finance')).toMatchObject({ kind: 'strategy', strategy: 'round_robin', origin: 'department' });
    expect(routingPlan(config, 'eng')).toMatchObject({ kind: 'strategy', strategy: 'claim', origin: 'department' });
  });
});

describe('ruleInForce: pilots apply to their departments only', () => {
  it('an auto-close pilot turns auto-close on in the pilot while the others keep it off', () => {
    const config = configWith({ closing: { confirm_within: '3d', auto_close: false, survey: true }, rollout: [{ id: 'close-pilot', auto_close: true, departments: ['cs'] }] });
    expect(ruleInForce(config, 'cs').autoClose).toEqual({ enabled: true, rolloutId: 'close-pilot' });
    expect(ruleInForce(config, 'eng').autoClose).toEqual({ enabled: false, rolloutId: null });
  });

  it('an auto-close pilot turning it off leaves the others on', () => {
    const config = configWith({ rollout: [{ id: 'keep-open', auto_close: false, departments: ['eng'] }] });
    expect(ruleInForce(config, 'eng').autoClose.enabled).toBe(false);
    expect(ruleInForce(config, 'cs').autoClose.enabled).toBe(true);
  });

  it('an SLA pilot policy is skipped outside its departments; the first rollout naming a setting wins it', () => {
    const raw = exampleRaw();
    const sla = [{ id: 'fast', match: { priority: 'normal' }, first_response: '30m' }, ...(raw.sla as unknown[])];
    const config = configWith({
      sla,
      rollout: [
        { id: 'fast-sla', sla_policy: 'fast', departments: ['cs'] },
        { id: 'rr-a', routing: 'round_robin', departments: ['cs'] },
        { id: 'rr-b', routing: 'least_active', departments: ['cs', 'eng'] },
      ],
    });
    expect(ruleInForce(config, 'cs').sla).toEqual({ piloted: [{ policyId: 'fast', rolloutId: 'fast-sla' }], skipped: [] });
    expect(ruleInForce(config, 'eng').sla.skipped).toEqual(['fast']);
    expect(resolvePolicy(config, { priority: 'normal', categoryId: 'how-to', departmentId: 'cs' }).id).toBe('fast');
    expect(resolvePolicy(config, { priority: 'normal', categoryId: 'no-code', departmentId: 'eng' }).id).not.toBe('fast');
    expect(ruleInForce(config, 'cs').routing).toMatchObject({ strategy: 'round_robin', rolloutId: 'rr-a' });
    expect(ruleInForce(config, 'eng').routing).toMatchObject({ strategy: 'least_active', rolloutId: 'rr-b' });
    // The pilot groups the comparison in `stats` uses follow the same rule.
    expect(rolloutInForceAt(config, 'rr-a')).toEqual(['cs']);
    expect(rolloutInForceAt(config, 'rr-b')).toEqual(['eng']);
    expect(rolloutInForceAt(config, 'fast-sla')).toEqual(['cs']);
  });
});

describe('docs lists the rules in words', () => {
  it('in English and Chinese, in the order they are tried', () => {
    const config = configWith({ rules: SEED_RULES });
    expect(ruleLines(config, 'en')).toEqual([
      '1. **outage-is-urgent**: when the title or description matches `\\b(down|outage)\\b|宕机|瘫痪` (any case), then set the priority to Urgent.',
      '2. **urgent-fault-to-on-call**: when the category is in Fault and the priority is Urgent, then send it to Operations, assign it by on-call rotation.',
    ]);
    expect(ruleLines(config, 'zh-CN')[1]).toContain('urgent-fault-to-on-call');
    expect(ruleLines(config, 'zh-CN')[1]).toContain('故障类');
  });
});
