import type { RoutingStrategy } from './types';
import { localDayNumber } from './zone';

/**
 * Choosing the agent for a new ticket among a department's candidates. The caller filters
 * nothing: it passes every member with their load and availability (off shift, on leave), and the
 * chooser skips those who are unavailable or at capacity. The result is a user id, or null with a
 * reason (claim mode, or nobody free) so the card is posted for someone to claim.
 */
export interface Candidate {
  userId: string;
  openCount: number;
  lastAssignedAt: string | null;
  available: boolean;
}

export interface RoutingChoice {
  userId: string | null;
  /** The round-robin cursor to persist (unchanged by the other strategies). */
  nextCursor: number;
  reason: string;
}

export function chooseAssignee(p: {
  strategy: RoutingStrategy;
  capacity?: number;
  candidates: Candidate[];
  cursor: number;
  onCall?: string[];
  now: string;
  calendarTz?: string;
}): RoutingChoice {
  const free = (c: Candidate) => c.available && (p.capacity === undefined || c.openCount < p.capacity);
  switch (p.strategy) {
    case 'claim':
      return { userId: null, nextCursor: p.cursor, reason: 'claim: the card is posted for agents to claim' };
    case 'round_robin':
      return roundRobin(p.candidates, p.cursor, free, p.capacity);
    case 'least_active':
      return leastActive(p.candidates, p.cursor, free, p.capacity);
    case 'on_call':
      return onCall(p.onCall ?? [], p.candidates, p.cursor, free, p.now, p.calendarTz ?? 'UTC');
  }
}

/**
 * The cursor is the position of the next candidate to try, in the order the caller lists them
 * (keep it stable, e.g. config order). Unavailable or full candidates are skipped, not lost: the
 * cursor moves past the chosen one only.
 */
function roundRobin(candidates: Candidate[], cursor: number, free: (c: Candidate) => boolean, capacity?: number): RoutingChoice {
  const n = candidates.length;
  if (n === 0) return { userId: null, nextCursor: cursor, reason: 'round_robin: the department has no members' };
  const start = ((cursor % n) + n) % n;
  for (let i = 0; i < n; i++) {
    const idx = (start + i) % n;
    const c = candidates[idx]!;
    if (free(c)) {
      const skipped = i > 0 ? ` (skipped ${i} unavailable or full)` : '';
      return { userId: c.userId, nextCursor: (idx + 1) % n, reason: `round_robin: turn ${idx + 1} of ${n}${skipped}` };
    }
  }
  return { userId: null, nextCursor: cursor, reason: `round_robin: ${nobodyFree(candidates, capacity)}` };
}

/** Fewest open tickets; ties go to whoever has waited longest since an assignment (never = longest). */
function leastActive(candidates: Candidate[], cursor: number, free: (c: Candidate) => boolean, capacity?: number): RoutingChoice {
  const eligible = candidates.filter(free);
  if (eligible.length === 0) return { userId: null, nextCursor: cursor, reason: `least_active: ${nobodyFree(candidates, capacity)}` };
  const idleSince = (c: Candidate) => (c.lastAssignedAt === null ? -Infinity : Date.parse(c.lastAssignedAt));
  const best = [...eligible].sort(
    (a, b) => a.openCount - b.openCount || idleSince(a) - idleSince(b) || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0),
  )[0]!;
  return { userId: best.userId, nextCursor: cursor, reason: `least_active: ${best.openCount} open, the fewest among ${eligible.length} free` };
}

/**
 * The rotation changes every Monday 00:00 in the department's calendar zone: the week counted
 * from the Monday 1969-12-29 (the ISO week containing the epoch) modulo the list length picks the
 * person on call. Counting weeks since a fixed Monday rather than using the ISO week number keeps
 * the rotation going across year ends (ISO years have 52 or 53 weeks). When the person on call is
 * unavailable or full, the next in the list takes it. People on the list the caller gave no
 * candidate entry for are taken as available.
 */
function onCall(rotation: string[], candidates: Candidate[], cursor: number, free: (c: Candidate) => boolean, now: string, tz: string): RoutingChoice {
  if (rotation.length === 0) return { userId: null, nextCursor: cursor, reason: 'on_call: no on-call rotation configured' };
  const week = onCallWeek(Date.parse(now), tz);
  const start = ((week % rotation.length) + rotation.length) % rotation.length;
  const byId = new Map(candidates.map((c) => [c.userId, c]));
  for (let i = 0; i < rotation.length; i++) {
    const userId = rotation[(start + i) % rotation.length]!;
    const c = byId.get(userId);
    if (c === undefined || free(c)) {
      const reason = i === 0 ? `on_call: on call this week (${start + 1} of ${rotation.length})` : `on_call: next in rotation (the ${i} before are unavailable or full)`;
      return { userId, nextCursor: cursor, reason };
    }
  }
  return { userId: null, nextCursor: cursor, reason: 'on_call: everyone in the rotation is unavailable or at capacity' };
}

/** Weeks since Monday 1969-12-29 of the local date of `ms` in `tz`. */
export function onCallWeek(ms: number, tz: string): number {
  return Math.floor((localDayNumber(ms, tz) + 3) / 7);
}

function nobodyFree(candidates: Candidate[], capacity?: number): string {
  const available = candidates.filter((c) => c.available);
  if (available.length === 0) return candidates.length === 0 ? 'the department has no members' : 'nobody is available';
  return `all ${available.length} available agents are at capacity (${capacity})`;
}
