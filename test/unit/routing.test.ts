import { chooseAssignee, onCallWeek, type Candidate } from '../../src/domain/routing';

const NOW = '2026-10-08T02:00:00.000Z';
const agent = (userId: string, openCount = 0, lastAssignedAt: string | null = null, available = true): Candidate => ({ userId, openCount, lastAssignedAt, available });

describe('claim', () => {
  it('assigns nobody and posts the card', () => {
    const r = chooseAssignee({ strategy: 'claim', candidates: [agent('a')], cursor: 3, now: NOW });
    expect(r).toEqual({ userId: null, nextCursor: 3, reason: expect.stringContaining('claim') });
  });
});

describe('round_robin', () => {
  const team = [agent('a'), agent('b'), agent('c')];

  it('takes turns from the persisted cursor', () => {
    let cursor = 0;
    const picks: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const r = chooseAssignee({ strategy: 'round_robin', candidates: team, cursor, now: NOW });
      picks.push(r.userId);
      cursor = r.nextCursor;
    }
    expect(picks).toEqual(['a', 'b', 'c', 'a']);
    expect(cursor).toBe(1);
  });

  it('skips unavailable and full agents', () => {
    const r = chooseAssignee({ strategy: 'round_robin', capacity: 5, candidates: [agent('a'), agent('b', 0, null, false), agent('c', 5), agent('d', 4)], cursor: 1, now: NOW });
    expect(r).toMatchObject({ userId: 'd', nextCursor: 0 });
  });

  it('wraps a cursor left over from a larger team', () => {
    expect(chooseAssignee({ strategy: 'round_robin', candidates: team, cursor: 7, now: NOW })).toMatchObject({ userId: 'b', nextCursor: 2 });
  });

  it('returns nobody, keeping the cursor, when all are full or away', () => {
    const full = chooseAssignee({ strategy: 'round_robin', capacity: 2, candidates: [agent('a', 2), agent('b', 3)], cursor: 1, now: NOW });
    expect(full).toEqual({ userId: null, nextCursor: 1, reason: 'round_robin: all 2 available agents are at capacity (2)' });
    expect(chooseAssignee({ strategy: 'round_robin', candidates: [agent('a', 0, null, false)], cursor: 0, now: NOW }).reason).toBe('round_robin: nobody is available');
    expect(chooseAssignee({ strategy: 'round_robin', candidates: [], cursor: 0, now: NOW }).userId).toBeNull();
  });
});

describe('least_active', () => {
  it('picks the fewest open tickets', () => {
    const r = chooseAssignee({ strategy: 'least_active', candidates: [agent('a', 3), agent('b', 1), agent('c', 2)], cursor: 0, now: NOW });
    expect(r.userId).toBe('b');
  });

  it('breaks ties by the longest idle, never assigned counting as idlest', () => {
    const tied = [agent('a', 1, '2026-10-08T01:00:00.000Z'), agent('b', 1, '2026-10-07T09:00:00.000Z'), agent('c', 1, '2026-10-08T00:00:00.000Z')];
    expect(chooseAssignee({ strategy: 'least_active', candidates: tied, cursor: 0, now: NOW }).userId).toBe('b');
    expect(chooseAssignee({ strategy: 'least_active', candidates: [...tied, agent('d', 1, null)], cursor: 0, now: NOW }).userId).toBe('d');
  });

  it('leaves out the unavailable and those at capacity', () => {
    const r = chooseAssignee({ strategy: 'least_active', capacity: 3, candidates: [agent('a', 0, null, false), agent('b', 3), agent('c', 2)], cursor: 0, now: NOW });
    expect(r.userId).toBe('c');
    const none = chooseAssignee({ strategy: 'least_active', capacity: 3, candidates: [agent('a', 0, null, false), agent('b', 3)], cursor: 0, now: NOW });
    expect(none).toMatchObject({ userId: null, reason: 'least_active: all 1 available agents are at capacity (3)' });
  });
});

describe('on_call', () => {
  const rotation = ['slack:U1', 'slack:U2'];
  const pick = (now: string, candidates: Candidate[] = [], calendarTz = 'Asia/Shanghai') =>
    chooseAssignee({ strategy: 'on_call', candidates, cursor: 0, onCall: rotation, now, calendarTz }).userId;

  it('rotates every Monday 00:00 in the calendar zone', () => {
    const sunday = pick('2026-10-11T15:59:00.000Z'); // Sun 23:59 in Shanghai
    const monday = pick('2026-10-11T16:00:00.000Z'); // Mon 00:00 in Shanghai
    expect(sunday).not.toBe(monday);
    expect(pick('2026-10-11T16:00:00.000Z', [], 'UTC')).toBe(sunday); // still Sunday in UTC
    expect(pick('2026-10-05T02:00:00.000Z')).toBe(sunday);
  });

  it('keeps alternating across a year end with an ISO week 53', () => {
    // 2026 has 53 ISO weeks: week 53 (Dec 28) and week 1 of 2027 (Jan 4) must differ
    expect(pick('2026-12-29T02:00:00.000Z')).not.toBe(pick('2027-01-05T02:00:00.000Z'));
    expect(onCallWeek(Date.parse('2027-01-05T02:00:00.000Z'), 'UTC') - onCallWeek(Date.parse('2026-12-29T02:00:00.000Z'), 'UTC')).toBe(1);
  });

  it('falls through to the next in the rotation when the person on call is away or full', () => {
    const now = '2026-10-08T02:00:00.000Z';
    const onDuty = pick(now)!;
    const other = rotation.find((u) => u !== onDuty)!;
    const r = chooseAssignee({ strategy: 'on_call', capacity: 2, candidates: [agent(onDuty, 2), agent(other)], cursor: 0, onCall: rotation, now, calendarTz: 'Asia/Shanghai' });
    expect(r.userId).toBe(other);
    expect(r.reason).toContain('next in rotation');
    const nobody = chooseAssignee({ strategy: 'on_call', candidates: [agent(onDuty, 0, null, false), agent(other, 0, null, false)], cursor: 0, onCall: rotation, now });
    expect(nobody.userId).toBeNull();
  });

  it('without a rotation assigns nobody', () => {
    expect(chooseAssignee({ strategy: 'on_call', candidates: [agent('a')], cursor: 0, now: NOW })).toMatchObject({ userId: null, reason: 'on_call: no on-call rotation configured' });
  });
});
