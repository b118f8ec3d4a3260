// Backoff for service-mode calls: exponential with jitter, except that a wait C1 asked for
// (RateLimitDescription) is always honoured in full.
import { C1Error } from './errors.js';

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** Longest delay between two attempts (a rate-limit wait may be longer). */
  maxMs: number;
}

/** 1 s doubling up to 5 min, as baton-sdk backs off Hello. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 300_000 };

/**
 * Delay before retry number `attempt` (1-based). Without a rate-limit wait: exponential, with the
 * upper half jittered so that many connectors do not retry in step. With one: that wait, plus up
 * to 10 % so the retries C1 let through do not all land at the reset instant.
 */
export function retryDelayMs(
  err: unknown,
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  if (err instanceof C1Error && err.retryAfterMs !== undefined) {
    return Math.ceil(err.retryAfterMs + err.retryAfterMs * 0.1 * random());
  }
  const exponential = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/** Waits `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason a signal aborted, as an Error. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new C1Error('CANCELLED', typeof reason === 'string' ? reason : 'operation was cancelled', {
    retryable: false,
  });
}

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  backoff: BackoffOptions;
  signal?: AbortSignal;
  /** Called before each wait; for logging. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, throws a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retryable = err instanceof C1Error ? err.retryable : true;
      if (!retryable || attempt >= options.attempts || options.signal?.aborted) throw err;
      const delay = retryDelayMs(err, attempt, options.backoff);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
