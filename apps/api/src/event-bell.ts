// Wakes the event streams when Postgres announces new change events (`events:<id>` on the change
// channel), so a stream sends an event as soon as it commits instead of on its next poll.

export class EventBell {
  private waiters = new Set<() => void>();

  /** New events were committed: every waiting stream reads again. */
  ring(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next ring, after `ms`, or when `signal` aborts, whichever is first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
