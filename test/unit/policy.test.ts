import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema';
import { buildConfig, type Config } from '../../src/config/model';
import { effectiveRouting, legLimits, resolvePolicy } from '../../src/domain/policy';

const H = 3_600_000;
const M = 60_000;
const biz = (ms: number) => ({ kind: 'business', ms });
const exampleRaw = () => parse(readFileSync(join(__dirname, '../../config/example.yaml'), 'utf8')) as Record<string, unknown>;
const configWith = (change: (raw: Record<string, unknown>) => void): Config => {
  const raw = exampleRaw();
  change(raw);
  return buildConfig(configSchema.parse(raw));
};
const example = configWith(() => {});

describe('resolvePolicy with the example config', () => {
  it('urgent tickets use wall-clock time', () => {
    const p = resolvePolicy(example, { priority: 'urgent', categoryId: 'crash', departmentId: 'eng' });
    expect(p).toMatchObject({ id: 'urgent', calendarId: 'always', firstResponse: biz(15 * M), nextResponse: biz(30 * M), resolution: biz(4 * H), pauseWhenWaiting: true });
    expect(p.ladder.map((l) => l.at)).toEqual([
      { kind: 'percent', value: 75 },
      { kind: 'percent', value: 100 },
      { kind: 'percent', value: 150 },
    ]);
  });

  it("other policies default to the department's calendar", () => {
    expect(resolvePolicy(example, { priority: 'high', categoryId: 'not-received', departmentId: 'warehouse' })).toMatchObject({ id: 'high', calendarId: 'cn-warehouse', firstResponse: biz(H) });
    const low = resolvePolicy(example, { priority: 'low', categoryId: 'how-to', departmentId: 'cs' });
    expect(low).toMatchObject({ id: 'low', calendarId: 'cn-office', firstResponse: biz(24 * H), resolution: biz(5 * 24 * H) });
    expect(low.nextResponse).toBeUndefined();
  });

  it('throws for an unknown department', () => {
    expect(() => resolvePolicy(example, { priority: 'low', categoryId: 'how-to', departmentId: 'nope' })).toThrow(/unknown department "nope"/);
  });
});

describe('resolvePolicy matching', () => {
  const config = configWith((raw) => {
    raw.sla = [
      { id: 'vip', match: { requester: { tier: ['vip', 'gold'] }, priority: ['high', 'urgent'] }, first_response: '10m' },
      { id: 'complaints', match: { category: 'complaint' }, first_response: '30m', pause_when_waiting: false, escalation: [{ at: '-10m', notify: 'supervisors' }] },
      { id: 'finance-login', match: { category: ['login', 'data-sync'], department: 'finance' }, resolution: '2d', calendar: 'cn-ops-24x7' },
      { match: { requester: { country: 'JP' } }, first_response: '2h' },
      { id: 'pilot', match: { priority: 'normal' }, first_response: '1h' },
      { id: 'normal', match: { priority: 'normal' }, first_response: '4h' },
    ];
    raw.rollout = [{ id: 'try-1h', sla_policy: 'pilot', departments: ['finance'] }];
  });

  it('first match wins; requester attributes match a value or any of a list', () => {
    expect(resolvePolicy(config, { priority: 'high', categoryId: 'attitude', departmentId: 'cs', requester: { tier: 'gold' } }).id).toBe('vip');
    expect(resolvePolicy(config, { priority: 'normal', categoryId: 'attitude', departmentId: 'cs', requester: { tier: 'gold' } }).id).toBe('complaints');
    expect(resolvePolicy(config, { priority: 'high', categoryId: 'attitude', departmentId: 'cs', requester: { tier: 'silver' } }).id).toBe('complaints');
  });

  it('a category matches the leaf or any ancestor', () => {
    const p = resolvePolicy(config, { priority: 'low', categoryId: 'slow-response', departmentId: 'cs' });
    expect(p).toMatchObject({ id: 'complaints', firstResponse: biz(30 * M), pauseWhenWaiting: false });
    expect(p.ladder).toEqual([{ index: 0, at: { kind: 'offset', ms: -10 * M }, notify: [{ kind: 'supervisors' }], urgent: false, urgentVia: [] }]);
    expect(resolvePolicy(config, { priority: 'low', categoryId: 'wrong-password', departmentId: 'finance' })).toMatchObject({ id: 'finance-login', calendarId: 'cn-ops-24x7', resolution: biz(48 * H) });
    expect(resolvePolicy(config, { priority: 'low', categoryId: 'wrong-password', departmentId: 'eng' }).id).toBeNull();
  });

  it('a policy without an id is named by its position', () => {
    expect(resolvePolicy(config, { priority: 'low', categoryId: 'how-to', departmentId: 'cs', requester: { country: 'JP' } })).toMatchObject({ id: 'sla[3]', firstResponse: biz(2 * H) });
  });

  it('a missing requester attribute does not match', () => {
    expect(resolvePolicy(config, { priority: 'high', categoryId: 'how-to', departmentId: 'cs' }).id).toBeNull();
  });

  it('a rollout restricts its policy to the pilot departments', () => {
    expect(resolvePolicy(config, { priority: 'normal', categoryId: 'refund-request', departmentId: 'finance' }).id).toBe('pilot');
    expect(resolvePolicy(config, { priority: 'normal', categoryId: 'how-to', departmentId: 'cs' }).id).toBe('normal');
  });

  it('no match means no targets, in the department calendar, with the default ladder', () => {
    const p = resolvePolicy(config, { priority: 'urgent', categoryId: 'crash', departmentId: 'eng' });
    expect(p).toMatchObject({ id: null, calendarId: 'cn-office', pauseWhenWaiting: true });
    expect(p.firstResponse ?? p.nextResponse ?? p.resolution).toBeUndefined();
    expect(p.ladder).toHaveLength(3);
  });
});

describe('legLimits and effectiveRouting', () => {
  it("gives a department's handoff limits in its calendar", () => {
    expect(legLimits(example, 'cs')).toEqual({ accept: biz(30 * M), resolve: biz(4 * H), calendarId: 'cn-office' });
    expect(legLimits(example, 'ops')).toEqual({ accept: biz(15 * M), resolve: biz(4 * H), calendarId: 'cn-ops-24x7' });
    const noHandoff = configWith((raw) => {
      delete (raw.departments as Record<string, unknown>[])[0]!.handoff;
    });
    expect(legLimits(noHandoff, 'cs')).toEqual({ calendarId: 'cn-office' });
  });

  it('applies a routing rollout to its pilot departments only', () => {
    const config = configWith((raw) => {
      raw.rollout = [{ id: 'rr-pilot', routing: 'round_robin', departments: ['cs'] }];
    });
    expect(effectiveRouting(config, 'cs')).toEqual({ strategy: 'round_robin', capacity: 10 });
    expect(effectiveRouting(config, 'warehouse')).toEqual({ strategy: 'least_active', capacity: 12 });
    expect(effectiveRouting(config, 'ops')).toEqual({ strategy: 'on_call', onCall: ['slack:U0OPS1', 'slack:U0OPS2'] });
  });
});
