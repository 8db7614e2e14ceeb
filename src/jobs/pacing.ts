/**
 * Send pacing and retry delays for the outbox dispatcher. Pure, in-memory and clock-injected:
 * the pacer is per process (two replicas together may exceed a channel's rate; the platform's
 * 429 with Retry-After then slows both down).
 */

/** Per-target spacing: after a send to a target, the next one waits `intervalMs`. */
export class TargetPacer {
  private readonly nextAllowed = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  isReady(target: string, nowMs: number): boolean {
    return (this.nextAllowed.get(target) ?? 0) <= nowMs;
  }

  /** A request to the target went out at `nowMs` (successful or not: it used the slot). */
  markSent(target: string, nowMs: number): void {
    this.push(target, nowMs + this.intervalMs);
  }

  /** The platform asked us to hold off this target until `untilMs`. */
  holdUntil(target: string, untilMs: number): void {
    this.push(target, untilMs);
  }

  /** Targets that must not be sent to at `nowMs`; forgets targets that are free again. */
  busyTargets(nowMs: number): string[] {
    const busy: string[] = [];
    for (const [target, at] of this.nextAllowed) {
      if (at > nowMs) busy.push(target);
      else this.nextAllowed.delete(target);
    }
    return busy;
  }

  /** When the earliest busy target frees up, or undefined when none is busy. */
  nextFreeAt(nowMs: number): number | undefined {
    let min: number | undefined;
    for (const at of this.nextAllowed.values()) if (at > nowMs && (min === undefined || at < min)) min = at;
    return min;
  }

  private push(target: string, at: number): void {
    if (at > (this.nextAllowed.get(target) ?? 0)) this.nextAllowed.set(target, at);
  }
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential back-off with "equal jitter": half the exponential delay is fixed, half random, so
 * retries after an outage spread out but never come sooner than half the nominal delay.
 * `attempt` counts failed attempts so far (1 after the first failure).
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}
