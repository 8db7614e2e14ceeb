import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { ALWAYS, calendarsFromConfig } from '../../src/domain/calendar';
import {
  breachCheckAt,
  elapsedAt,
  markBreachIfDue,
  MAX_LOG_LINES,
  meetClock,
  pauseClock,
  restartClock,
  resumeClock,
  retargetClock,
  startClock,
  stopClock,
} from '../../src/domain/clock';

const H = 3_600_000;
const M = 60_000;
const cnOffice = calendarsFromConfig(loadConfigFile(join(__dirname, '../../config/example.yaml')).raw).get('cn-office')!;
const local = (text: string) => new Date(Date.parse(`${text}+08:00`)).toISOString();

const frt = (now = local('2026-10-08T09:00:00'), targetMs = 4 * H) =>
  startClock({ kind: 'first_response', targetMs, calendar: cnOffice, policyId: 'normal', now, reason: 'ticket created' });

describe('startClock', () => {
  it('computes the due time in business time and logs why', () => {
    const c = frt();
    expect(c).toMatchObject({
      kind: 'first_response',
      cycle: 1,
      status: 'running',
      elapsedMs: 0,
      calendarId: 'cn-office',
      policyId: 'normal',
      startedAt: '2026-10-08T01:00:00.000Z',
      runningSince: '2026-10-08T01:00:00.000Z',
      dueAt: '2026-10-08T06:30:00.000Z', // 09:00 + 4h with lunch = 14:30 local
      metAt: null,
      breachedAt: null,
    });
    expect(c.log).toEqual([
      'started 2026-10-08T01:00:00.000Z (ticket created) by policy normal',
      'due 2026-10-08T06:30:00.000Z: 4h business in cn-office; lunch 12:00–13:30 excluded',
    ]);
  });

  it('mentions skipped holidays in the log', () => {
    const c = frt(local('2026-09-30T17:00:00'), 2 * H);
    expect(c.dueAt).toBe('2026-10-08T02:00:00.000Z');
    expect(c.log[1]).toBe('due 2026-10-08T02:00:00.000Z: 2h business in cn-office; 2026-10-01..07 holiday skipped (国庆节)');
  });
});

describe('pause and resume', () => {
  it('accumulates elapsed time, has no due time while paused, and recomputes it from the remainder', () => {
    const paused = pauseClock(frt(), cnOffice, local('2026-10-08T11:00:00'));
    expect(paused).toMatchObject({ status: 'paused', elapsedMs: 2 * H, dueAt: null, runningSince: null, pausedAt: '2026-10-08T03:00:00.000Z' });
    expect(elapsedAt(paused, cnOffice, local('2026-10-09T16:00:00'))).toBe(2 * H);
    expect(pauseClock(paused, cnOffice, local('2026-10-08T12:00:00'))).toBe(paused);

    const resumed = resumeClock(paused, cnOffice, local('2026-10-09T09:00:00'));
    expect(resumed).toMatchObject({ status: 'running', pausedAt: null, runningSince: '2026-10-09T01:00:00.000Z', dueAt: '2026-10-09T03:00:00.000Z' });
    expect(elapsedAt(resumed, cnOffice, local('2026-10-09T10:00:00'))).toBe(3 * H);
    expect(resumeClock(resumed, cnOffice, local('2026-10-09T10:00:00'))).toBe(resumed);
  });

  it('records a breach that happened before the pause', () => {
    const paused = pauseClock(frt(), cnOffice, local('2026-10-08T16:00:00'));
    expect(paused.breachedAt).toBe('2026-10-08T06:30:00.000Z');
    expect(paused.elapsedMs).toBe(5.5 * H);
    const resumed = resumeClock(paused, cnOffice, local('2026-10-09T09:00:00'));
    expect(resumed.dueAt).toBe('2026-10-09T01:00:00.000Z');
    expect(resumed.breachedAt).toBe('2026-10-08T06:30:00.000Z');
  });
});

describe('retargetClock', () => {
  it('keeps the elapsed time when the priority changes', () => {
    const c = frt();
    const shorter = retargetClock(c, { targetMs: 90 * M, calendar: cnOffice, policyId: 'high', now: local('2026-10-08T10:00:00'), reason: 'priority high' });
    expect(shorter).toMatchObject({ targetMs: 90 * M, policyId: 'high', elapsedMs: H, dueAt: '2026-10-08T02:30:00.000Z', breachedAt: null });
    expect(shorter.log[shorter.log.length - 2]).toBe('retargeted 2026-10-08T02:00:00.000Z to 1h30m (priority high); 1h already used');
    const longer = retargetClock(c, { targetMs: 8 * H, calendar: cnOffice, policyId: 'low', now: local('2026-10-08T10:00:00'), reason: 'priority low' });
    // 7h left from 10:00: 2h + 4h30m today, 30m on Friday
    expect(longer.dueAt).toBe('2026-10-09T01:30:00.000Z');
    expect(elapsedAt(longer, cnOffice, local('2026-10-08T11:00:00'))).toBe(2 * H);
  });

  it('a new target already exceeded is a breach now', () => {
    const c = retargetClock(frt(), { targetMs: H, calendar: cnOffice, policyId: 'urgent', now: local('2026-10-08T11:00:00'), reason: 'priority urgent' });
    expect(c.breachedAt).toBe('2026-10-08T03:00:00.000Z');
    expect(c.dueAt).toBe('2026-10-08T03:00:00.000Z');
  });

  it('measures elapsed time in the previous calendar when the policy changes calendars', () => {
    const wallClock = startClock({ kind: 'resolution', targetMs: 4 * H, calendar: ALWAYS, policyId: 'urgent', now: local('2026-10-09T17:00:00') });
    const p = { targetMs: 4 * H, calendar: cnOffice, policyId: 'normal', now: local('2026-10-09T19:00:00'), reason: 'priority normal' };
    // 2h of wall-clock time used; 2h left on the make-up Saturday 2026-10-10 from 09:00
    expect(retargetClock(wallClock, { ...p, previousCalendar: ALWAYS })).toMatchObject({ elapsedMs: 2 * H, calendarId: 'cn-office', dueAt: '2026-10-10T03:00:00.000Z' });
    // measured in cn-office only 17:00–18:00 counts
    expect(retargetClock(wallClock, p)).toMatchObject({ elapsedMs: H, dueAt: '2026-10-10T04:00:00.000Z' });
  });

  it('a paused clock takes the new target and stays paused; a met clock does not change', () => {
    const paused = pauseClock(frt(), cnOffice, local('2026-10-08T10:00:00'));
    const retargeted = retargetClock(paused, { targetMs: 2 * H, calendar: cnOffice, policyId: 'high', now: local('2026-10-08T15:00:00'), reason: 'priority high' });
    expect(retargeted).toMatchObject({ status: 'paused', targetMs: 2 * H, elapsedMs: H, dueAt: null });
    expect(resumeClock(retargeted, cnOffice, local('2026-10-08T16:00:00')).dueAt).toBe('2026-10-08T09:00:00.000Z');
    const met = meetClock(frt(), cnOffice, local('2026-10-08T10:00:00'));
    expect(retargetClock(met, { targetMs: H, calendar: cnOffice, policyId: 'x', now: local('2026-10-08T11:00:00'), reason: 'late change' })).toBe(met);
  });
});

describe('breach is sticky', () => {
  it('is recorded once the due time has passed and survives a longer target and the meeting', () => {
    const c = startClock({ kind: 'first_response', targetMs: H, calendar: ALWAYS, policyId: 'p', now: '2026-01-01T00:00:00.000Z' });
    expect(c.log[1]).toBe('due 2026-01-01T01:00:00.000Z: 1h wall-clock time');
    expect(breachCheckAt(c)).toBe('2026-01-01T01:00:00.001Z');
    expect(markBreachIfDue(c, '2026-01-01T01:00:00.000Z')).toBe(c); // exactly at due is still on time
    const breached = markBreachIfDue(c, '2026-01-01T01:30:00.000Z');
    expect(breached.breachedAt).toBe('2026-01-01T01:00:00.000Z');
    expect(breachCheckAt(breached)).toBeNull();
    expect(markBreachIfDue(breached, '2026-01-01T02:00:00.000Z')).toBe(breached);
    const relaxed = retargetClock(breached, { targetMs: 10 * H, calendar: ALWAYS, policyId: 'p2', now: '2026-01-01T01:45:00.000Z', reason: 'priority low' });
    expect(relaxed.dueAt).toBe('2026-01-01T10:00:00.000Z');
    expect(relaxed.breachedAt).toBe('2026-01-01T01:00:00.000Z');
    const met = meetClock(relaxed, ALWAYS, '2026-01-01T02:00:00.000Z');
    expect(met).toMatchObject({ status: 'met', metAt: '2026-01-01T02:00:00.000Z', breachedAt: '2026-01-01T01:00:00.000Z', elapsedMs: 2 * H });
  });
});

describe('meetClock and stopClock', () => {
  const start = () => startClock({ kind: 'first_response', targetMs: H, calendar: ALWAYS, policyId: null, now: '2026-01-01T00:00:00.000Z' });

  it('met at the due instant is on time; a millisecond later is a breach at the due time', () => {
    expect(meetClock(start(), ALWAYS, '2026-01-01T01:00:00.000Z')).toMatchObject({ status: 'met', breachedAt: null, elapsedMs: H });
    expect(meetClock(start(), ALWAYS, '2026-01-01T01:00:00.001Z').breachedAt).toBe('2026-01-01T01:00:00.000Z');
  });

  it('a paused clock can be met; its elapsed time decides', () => {
    const paused = pauseClock(start(), ALWAYS, '2026-01-01T00:30:00.000Z');
    expect(meetClock(paused, ALWAYS, '2026-01-05T00:00:00.000Z')).toMatchObject({ status: 'met', breachedAt: null, elapsedMs: 30 * M });
  });

  it('stop ends the clock unmet and is final', () => {
    const stopped = stopClock(start(), ALWAYS, '2026-01-01T00:20:00.000Z', 'ticket closed');
    expect(stopped).toMatchObject({ status: 'stopped', elapsedMs: 20 * M, runningSince: null, metAt: null, breachedAt: null });
    expect(stopped.log[stopped.log.length - 1]).toBe('stopped 2026-01-01T00:20:00.000Z (ticket closed)');
    expect(meetClock(stopped, ALWAYS, '2026-01-01T00:30:00.000Z')).toBe(stopped);
    expect(stopClock(start(), ALWAYS, '2026-01-01T02:00:00.000Z').breachedAt).toBe('2026-01-01T01:00:00.000Z');
  });
});

describe('restartClock', () => {
  it('starts the next cycle of a met next-response clock', () => {
    const first = startClock({ kind: 'next_response', targetMs: 30 * M, calendar: ALWAYS, policyId: 'urgent', now: '2026-01-01T00:00:00.000Z' });
    const late = meetClock(first, ALWAYS, '2026-01-01T01:00:00.000Z');
    const next = restartClock(late, ALWAYS, '2026-01-01T02:00:00.000Z', 'requester wrote again');
    expect(next).toMatchObject({ cycle: 2, status: 'running', elapsedMs: 0, breachedAt: null, metAt: null, startedAt: '2026-01-01T02:00:00.000Z', dueAt: '2026-01-01T02:30:00.000Z' });
  });

  it('does not restart a clock still waiting for its answer', () => {
    const running = startClock({ kind: 'next_response', targetMs: 30 * M, calendar: ALWAYS, policyId: null, now: '2026-01-01T00:00:00.000Z' });
    expect(restartClock(running, ALWAYS, '2026-01-01T00:10:00.000Z', 'another message')).toBe(running);
  });
});

describe('the log', () => {
  it(`keeps at most ${MAX_LOG_LINES} lines, newest last`, () => {
    let c = startClock({ kind: 'resolution', targetMs: 100 * H, calendar: ALWAYS, policyId: null, now: '2026-01-01T00:00:00.000Z' });
    for (let i = 1; i <= 20; i++) {
      c = pauseClock(c, ALWAYS, new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 2 * M).toISOString());
      c = resumeClock(c, ALWAYS, new Date(Date.parse('2026-01-01T00:00:00.000Z') + (i * 2 + 1) * M).toISOString());
    }
    expect(c.log).toHaveLength(MAX_LOG_LINES);
    expect(c.log[c.log.length - 1]).toMatch(/^due /);
    // 2 minutes before the first pause, then 1 minute between each resume and the next pause
    expect(c.elapsedMs).toBe(21 * M);
  });
});
