import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { ALWAYS, calendarsFromConfig } from '../../src/domain/calendar';
import { meetClock, pauseClock, restartClock, resumeClock, startClock, stopClock, type ClockState } from '../../src/domain/clock';
import { compileLadder, evaluateLadder, levelThresholdMs, type LadderLevel } from '../../src/domain/escalation';
import type { EscalationLevelConfig } from '../../src/config/schema';

const H = 3_600_000;
const M = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const t = (ms: number) => new Date(T0 + ms).toISOString();
const level = (cfg: Partial<EscalationLevelConfig> & { at: string }): EscalationLevelConfig => ({ notify: 'assignee', urgent: false, ...cfg });

const frt = (targetMs = 4 * H) => startClock({ kind: 'first_response', targetMs, calendar: ALWAYS, policyId: 'p', now: t(0) });
const evaluate = (clock: ClockState, ladder: LadderLevel[], now: number, fired: Iterable<string> = []) =>
  evaluateLadder({ clockId: 'clk1', clock, ladder, calendar: ALWAYS, now: t(now), fired: new Set(fired) });

describe('compileLadder', () => {
  it('compiles the example ladder', () => {
    const config = loadConfigFile(join(__dirname, '../../config/example.yaml'));
    expect(compileLadder(config.raw.escalation)).toEqual([
      { index: 0, at: { kind: 'percent', value: 75 }, notify: [{ kind: 'assignee' }], urgent: false, urgentVia: [] },
      { index: 1, at: { kind: 'percent', value: 100 }, notify: [{ kind: 'department_channel' }, { kind: 'supervisors' }], urgent: false, urgentVia: [] },
      { index: 2, at: { kind: 'percent', value: 150 }, notify: [{ kind: 'supervisors' }], repeatMs: 2 * H, maxRepeats: 3, urgent: true, urgentVia: ['app'] },
    ]);
  });

  it('reads signed offsets, named users, urgent channels and clock filters', () => {
    const [before, after, user] = compileLadder([
      level({ at: '-30m' }),
      level({ at: '+2h', notify: ['on_call', 'feishu:ou_boss'], urgent: true, urgent_via: ['app', 'sms'] }),
      level({ at: '50%', notify: 'slack:U0BOSS', urgent: true, clocks: ['leg_accept'] }),
    ]);
    expect(before!.at).toEqual({ kind: 'offset', ms: -30 * M });
    expect(after).toMatchObject({ at: { kind: 'offset', ms: 2 * H }, notify: [{ kind: 'on_call' }, { kind: 'user', ref: 'feishu:ou_boss' }], urgentVia: ['app', 'sms'] });
    expect(user).toMatchObject({ notify: [{ kind: 'user', ref: 'slack:U0BOSS' }], urgentVia: ['app'], clocks: ['leg_accept'] });
    expect(levelThresholdMs(before!, 4 * H)).toBe(3.5 * H);
    expect(levelThresholdMs(after!, 4 * H)).toBe(6 * H);
    expect(levelThresholdMs(before!, 10 * M)).toBe(0); // an offset before the start fires at the start
  });
});

describe('evaluateLadder', () => {
  const ladder = compileLadder([level({ at: '75%' }), level({ at: '-30m', notify: 'supervisors' }), level({ at: '+2h', notify: 'on_call', urgent: true })]);

  it('reports nothing before the first level and when it will be due', () => {
    expect(evaluate(frt(), ladder, 2 * H)).toEqual({ due: [], nextAt: t(3 * H) });
  });

  it('fires a percentage level once per clock cycle', () => {
    const r = evaluate(frt(), ladder, 3 * H);
    expect(r.due).toEqual([{ level: 0, repeat: 0, dueAt: t(3 * H), key: 'clk1:1:0:0' }]);
    expect(r.nextAt).toBe(t(3.5 * H));
    expect(evaluate(frt(), ladder, 3 * H + M, ['clk1:1:0:0']).due).toEqual([]);
  });

  it('fires negative and positive offsets around the target', () => {
    expect(evaluate(frt(), ladder, 3.5 * H, ['clk1:1:0:0'])).toEqual({ due: [{ level: 1, repeat: 0, dueAt: t(3.5 * H), key: 'clk1:1:1:0' }], nextAt: t(6 * H) });
    const late = evaluate(frt(), ladder, 6 * H, ['clk1:1:0:0', 'clk1:1:1:0']);
    expect(late).toEqual({ due: [{ level: 2, repeat: 0, dueAt: t(6 * H), key: 'clk1:1:2:0' }], nextAt: null });
  });

  it('fires every overdue level at once after an outage, with the time each became due', () => {
    expect(evaluate(frt(), ladder, 10 * H).due.map((f) => [f.level, f.dueAt])).toEqual([
      [0, t(3 * H)],
      [1, t(3.5 * H)],
      [2, t(6 * H)],
    ]);
  });

  it('repeats up to max_repeats and then stops', () => {
    const repeating = compileLadder([level({ at: '100%', repeat: '2h', max_repeats: 2 })]);
    const fired: string[] = [];
    const seen: string[] = [];
    let now = 0;
    for (let i = 0; i < 10; i++) {
      const r = evaluate(frt(), repeating, now, fired);
      for (const f of r.due) {
        fired.push(f.key);
        seen.push(`${f.repeat}@${f.dueAt}`);
      }
      if (r.nextAt === null) break;
      now = Date.parse(r.nextAt) - T0;
    }
    expect(seen).toEqual([`0@${t(4 * H)}`, `1@${t(6 * H)}`, `2@${t(8 * H)}`]);
    expect(evaluate(frt(), repeating, 30 * H, fired)).toEqual({ due: [], nextAt: null });
  });

  it('fires only the latest overdue repeat, not a burst', () => {
    const repeating = compileLadder([level({ at: '100%', repeat: '1h', max_repeats: 5 })]);
    expect(evaluate(frt(), repeating, 7.5 * H, ['clk1:1:0:0']).due).toEqual([{ level: 0, repeat: 3, dueAt: t(7 * H), key: 'clk1:1:0:3' }]);
    expect(evaluate(frt(), repeating, 100 * H).due).toEqual([{ level: 0, repeat: 5, dueAt: t(9 * H), key: 'clk1:1:0:5' }]);
  });

  it('repeats without max_repeats forever, yet always names a finite next time', () => {
    const endless = compileLadder([level({ at: '100%', repeat: '30m' })]);
    // (1000h - 4h) / 30m = repeat 1992
    expect(evaluate(frt(), endless, 1000 * H).due).toEqual([{ level: 0, repeat: 1992, dueAt: t(1000 * H), key: 'clk1:1:0:1992' }]);
    expect(evaluate(frt(), endless, 1000 * H, ['clk1:1:0:1992'])).toEqual({ due: [], nextAt: t(1000.5 * H) });
  });

  it('only watches the clocks a level names', () => {
    const onlyResolution = compileLadder([level({ at: '50%', clocks: ['resolution'] }), level({ at: '90%' })]);
    expect(evaluate(frt(), onlyResolution, 3 * H).due).toEqual([]);
    expect(evaluate(frt(), onlyResolution, 3 * H).nextAt).toBe(t(3.6 * H));
    const resolution = startClock({ kind: 'resolution', targetMs: 4 * H, calendar: ALWAYS, policyId: 'p', now: t(0) });
    expect(evaluate(resolution, onlyResolution, 3 * H).due.map((f) => f.level)).toEqual([0]);
  });

  it('stops when the clock is met, paused or stopped', () => {
    const running = frt();
    for (const c of [meetClock(running, ALWAYS, t(H)), pauseClock(running, ALWAYS, t(H)), stopClock(running, ALWAYS, t(H))]) {
      expect(evaluate(c, ladder, 10 * H)).toEqual({ due: [], nextAt: null });
    }
  });

  it('counts paused time out and keys firings by cycle', () => {
    const paused = pauseClock(frt(), ALWAYS, t(2 * H)); // 2h used
    const resumed = resumeClock(paused, ALWAYS, t(10 * H));
    expect(evaluate(resumed, ladder, 10.5 * H)).toEqual({ due: [], nextAt: t(11 * H) });
    const r = evaluate(resumed, ladder, 11 * H);
    expect(r.due).toEqual([{ level: 0, repeat: 0, dueAt: t(11 * H), key: 'clk1:1:0:0' }]);
    const second = restartClock(meetClock(resumed, ALWAYS, t(12 * H)), ALWAYS, t(20 * H), 'new message');
    expect(evaluate(second, ladder, 23 * H).due[0]!.key).toBe('clk1:2:0:0');
  });

  it('measures levels in business time', () => {
    const cnOffice = calendarsFromConfig(loadConfigFile(join(__dirname, '../../config/example.yaml')).raw).get('cn-office')!;
    const clock = startClock({ kind: 'first_response', targetMs: 4 * H, calendar: cnOffice, policyId: 'p', now: '2026-10-08T01:00:00.000Z' });
    // 75% of 4h = 3h: 09:00–12:00 local, so the level is due at the start of lunch
    const r = evaluateLadder({ clockId: 'c', clock, ladder, calendar: cnOffice, now: '2026-10-08T02:00:00.000Z', fired: new Set() });
    expect(r.nextAt).toBe('2026-10-08T04:00:00.000Z');
    const atLunch = evaluateLadder({ clockId: 'c', clock, ladder, calendar: cnOffice, now: '2026-10-08T05:00:00.000Z', fired: new Set() });
    expect(atLunch.due).toEqual([{ level: 0, repeat: 0, dueAt: '2026-10-08T04:00:00.000Z', key: 'c:1:0:0' }]);
    expect(atLunch.nextAt).toBe('2026-10-08T06:00:00.000Z'); // -30m: 3h30m business → 14:00 local
  });
});
