import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText, configJsonSchema } from '../../src/config/load';
import { departmentChannels } from '../../src/domain/platforms';
import { digestTargets } from '../../src/reports/stats';

const example = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');

function problems(text: string): string[] {
  const r = parseConfigText(text);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('config', () => {
  it('accepts the shipped example with the seed categories and departments', () => {
    const r = parseConfigText(example);
    if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    const c = r.config;
    expect([...c.departments.keys()]).toEqual(['cs', 'ops', 'eng', 'finance', 'warehouse']);
    expect(c.raw.categories.map((x) => x.name['zh-CN'])).toEqual(['咨询类', '投诉类', '故障类', '售后类', '建议类', '账户类']);
    const leaf = c.leaves.get('no-code')!;
    expect(leaf.path.map((n) => n.name['zh-CN'])).toEqual(['故障类', '登录问题', '收不到验证码']);
    expect(leaf.department).toBe('eng');
    expect(leaf.required).toEqual(['account', 'device']);
    expect(c.leaves.get('attitude')!.sensitive).toBe(true);
    expect(c.departments.get('eng')!.keyPrefix).toBe('IT');
  });

  it('refuses a channel or chat id, or a malformed e-mail, where a person belongs (supervisors, watchers), naming the key', () => {
    const bad = example.replace('supervisors: [slack:U0CSBOSS, feishu:ou_csboss]', 'supervisors: [slack:C0CSTEAM, feishu:oc_boss, email:boss]');
    expect(problems(bad)).toEqual([
      'departments[0].supervisors[0]: slack:C0CSTEAM is a Slack channel or conversation id (C…, G…, D…), not a person (U… or W…)',
      'departments[0].supervisors[1]: feishu:oc_boss is a Feishu chat id (oc_…), not a person (ou_…, on_… or a user id)',
      'departments[0].supervisors[2]: "boss" is not an e-mail address',
    ]);
    const watcher = example.replace('add_watchers: [feishu:ou_finboss]', 'add_watchers: [feishu:ou_finboss, slack:C0INCIDENTS]');
    expect(problems(watcher)).toEqual(['rules[1].then.add_watchers[1]: slack:C0INCIDENTS is a Slack channel or conversation id (C…, G…, D…), not a person (U… or W…)']);
    expect(problems(watcher.replace(', slack:C0INCIDENTS', ', email:ann@example.com'))).toEqual([]);
  });

  it('takes a department’s channels as a map by platform, and still loads the older keys', () => {
    const channelsOf = (text: string) => {
      const r = parseConfigText(text);
      if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
      return [...r.config.departments.values()].map((d) => departmentChannels(d));
    };
    const now = channelsOf(example);
    expect(now[0]).toEqual([{ platform: 'slack', id: 'C0CS' }, { platform: 'feishu', id: 'oc_cs' }]);
    expect(now[3]).toEqual([{ platform: 'feishu', id: 'oc_fin' }]);
    // An old config file (before `channels:`) gives the same channels.
    const old = example.replace('channels: { slack: C0CS, feishu: oc_cs }', 'slack: { channel: C0CS }\n    feishu: { chat_id: oc_cs }').replace('channels: { feishu: oc_fin }', 'feishu: { chat_id: oc_fin }');
    expect(old).not.toBe(example);
    expect(channelsOf(old)).toEqual(now);
    // Given both ways, they must agree: the problem names the old key.
    const both = example.replace('channels: { slack: C0CS, feishu: oc_cs }', 'channels: { slack: C0CS, feishu: oc_cs }\n    slack: { channel: C0OTHER }');
    expect(problems(both)).toEqual(['departments[0].slack.channel: slack.channel (C0OTHER) differs from channels.slack (C0CS); keep one of them']);
    expect(problems(example.replace('channels: { slack: C0CS, feishu: oc_cs }', 'channels: { dingtalk: x }'))[0]).toMatch(/^departments\[0\]\.channels/);
    const weekly = (text: string) => { const r = parseConfigText(text); return r.ok ? digestTargets(r.config.raw.digest.weekly!) : []; };
    expect(weekly(example)).toEqual([{ platform: 'slack', channelId: 'C0LEADS' }, { platform: 'feishu', channelId: 'oc_leads' }]);
    expect(weekly(example.replace('channels: { slack: C0LEADS, feishu: oc_leads },', 'slack_channel: C0LEADS, feishu_chat_id: oc_leads,'))).toEqual(weekly(example));
  });

  it('names the key of a dangling reference', () => {
    const bad = example.replace('calendar: cn-warehouse', 'calendar: cn-ofice');
    expect(problems(bad)).toEqual(['departments[4].calendar: unknown calendar "cn-ofice"']);
  });

  it('reports every problem at once, each with its path', () => {
    const bad = example
      .replace('department: finance, required: [order_id, amount]', 'department: finanse, required: [order_id, amout]')
      .replace('first_response: 15m', 'first_response: 15 minutes')
      .replace('{ at: 75%, notify: assignee }', '{ at: 75, notify: assignee }')
      .replace('timezone: Asia/Shanghai', 'timezone: Asia/Shangai');
    const found = problems(bad);
    expect(found).toEqual(
      expect.arrayContaining([
        'calendars.cn-office.timezone: unknown IANA time zone',
        'sla[0].first_response: not a duration (use e.g. 15m, 4h, 1d = 24 working hours, or 3wd = 3 working days)',
        'escalation[0].at: expected string, got number',
      ]),
    );
    // cross-references are checked only once the shape is right, so fix the shape errors and look again
    const shapeOk = example.replace('department: finance, required: [order_id, amount]', 'department: finanse, required: [order_id, amout]');
    expect(problems(shapeOk)).toEqual([
      'categories[3].children[0].children[0].department: unknown department "finanse"',
      'categories[3].children[0].children[0].required[1]: unknown field "amout" (declare it under fields)',
    ]);
  });

  it('rejects unknown keys, a fourth category level and YAML syntax errors', () => {
    expect(problems(example.replace('locale: zh-CN', 'locale: zh-CN\nlocal: en'))).toEqual(['(root): unknown key "local"']);
    const deep = example.replace(
      "- { id: how-to, name: { en: How to use, zh-CN: 使用方法 } }",
      "- { id: how-to, name: { en: How to use, zh-CN: 使用方法 }, children: [{ id: deeper, name: { en: D, zh-CN: D } }] }",
    );
    expect(problems(deep)).toEqual(['categories[0].children[0].children[0].children: categories have at most three levels']);
    expect(problems('departments: [\n')[0]).toMatch(/^line \d+: /);
  });

  it('exports a JSON Schema for editors', () => {
    const schema = configJsonSchema() as { type: string; properties: Record<string, unknown> };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['calendars', 'departments', 'categories', 'sla', 'escalation', 'closing', 'templates', 'intake']));
  });
});
