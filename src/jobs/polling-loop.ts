/**
 * Runs `round()` again and again until stopped; each round returns how long to wait before the
 * next (0: at once). stop() wakes a waiting loop and resolves when the round in progress is over,
 * so callers can look at `stopping` inside a round to hand back work they have not started.
 */
export class PollingLoop {
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopRequested = false;

  constructor(private readonly round: () => Promise<number>) {}

  get stopping(): boolean {
    return this.stopRequested;
  }

  start(): void {
    if (this.loop) return;
    this.stopRequested = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopRequested) {
      const waitMs = await this.round();
      if (!this.stopRequested && waitMs > 0) await this.pause(waitMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timeout = setTimeout(done, ms);
      function done() {
        clearTimeout(timeout);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }
}
