// Waiting on state another process moves forward (a sync run, an upload, a provisioning request):
// re-read it every `intervalMs` until it is done, giving up as soon as the signal aborts.
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions<T> {
  intervalMs: number;
  signal: AbortSignal;
  /** Called on every read that is not done yet (e.g. to repair a lost job). */
  onPending?: (value: T, polls: number) => Promise<void> | void;
}

/** Reads until `done(value)`; rejects with the signal's reason once it aborts. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: PollOptions<T>,
): Promise<T> {
  for (let polls = 1; ; polls++) {
    options.signal.throwIfAborted();
    const value = await read();
    if (done(value)) return value;
    await options.onPending?.(value, polls);
    await sleep(options.intervalMs, undefined, { signal: options.signal }).catch((err: unknown) => {
      throw options.signal.aborted ? (options.signal.reason as Error) : err;
    });
  }
}

/** Waits until `at` (no wait when it has passed); rejects with the signal's reason once it aborts. */
export async function waitUntil(at: Date | null | undefined, signal: AbortSignal): Promise<void> {
  const ms = at ? at.getTime() - Date.now() : 0;
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal.aborted ? (signal.reason as Error) : err;
  });
}
