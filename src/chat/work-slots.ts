/**
 * Bounds the work listeners do after their ack. Under a burst the acks (cheap) stay fast while
 * the work (database, Web API) waits its turn, instead of every request competing for the event
 * loop and acks missing the platform's 3 s (Slack and Feishu alike).
 */
export class WorkSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** True when a new piece of work would have to wait for a slot. */
  get full(): boolean {
    return this.active >= this.limit;
  }

  /** Runs `fn` in a slot (waiting for one when all are taken). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
