// Every AWS and Kubernetes call goes through here: wait for the rate limiter, count the call,
// classify a failure, slow the limiter down on throttling, and retry what is retryable with full
// jitter (honouring Retry-After). The SDKs' own retries are turned off so that counts, limits and
// backoff are decided in one place.
import { EksAccessError, THROTTLE_CODES } from '../errors.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 20_000 };

export interface OperationStats {
  calls: number;
  retries: number;
  throttled: number;
  failed: number;
  totalMs: number;
}

/** Per-operation call counts, the figures a sync report and the benchmarks print. */
export class CallStats {
  private readonly ops = new Map<string, OperationStats>();

  private entry(op: string): OperationStats {
    let s = this.ops.get(op);
    if (!s) this.ops.set(op, (s = { calls: 0, retries: 0, throttled: 0, failed: 0, totalMs: 0 }));
    return s;
  }

  record(op: string, outcome: { ms: number; retry: boolean; throttled: boolean; failed: boolean }): void {
    const s = this.entry(op);
    s.calls++;
    s.totalMs += outcome.ms;
    if (outcome.retry) s.retries++;
    if (outcome.throttled) s.throttled++;
    if (outcome.failed) s.failed++;
  }

  snapshot(): Record<string, OperationStats> {
    return Object.fromEntries(
      [...this.ops]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, { ...v, totalMs: Math.round(v.totalMs) }]),
    );
  }

  total(): number {
    let n = 0;
    for (const s of this.ops.values()) n += s.calls;
    return n;
  }
}

export interface CallPolicy {
  limiter: RateLimiter;
  retry: RetryPolicy;
  stats: CallStats;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** Full-jitter exponential backoff: random in [0, min(max, base·2^attempt)]. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/**
 * Runs `fn` under the policy. `classify` turns whatever `fn` throws into an EksAccessError;
 * `retryWhen` may veto retries for codes that are retryable in general but not here.
 */
export async function callWithPolicy<T>(
  policy: CallPolicy,
  call: {
    operation: string;
    limiterKey: string;
    classify: (err: unknown) => EksAccessError;
    retryWhen?: (err: EksAccessError) => boolean;
  },
  fn: () => Promise<T>,
): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    await policy.limiter.acquire(call.limiterKey, policy.signal);
    const started = performance.now();
    try {
      const result = await fn();
      policy.stats.record(call.operation, {
        ms: performance.now() - started,
        retry: attempt > 0,
        throttled: false,
        failed: false,
      });
      await policy.limiter.onSuccess(call.limiterKey);
      return result;
    } catch (raw) {
      const err = call.classify(raw);
      const throttled = THROTTLE_CODES.has(err.code);
      policy.stats.record(call.operation, {
        ms: performance.now() - started,
        retry: attempt > 0,
        throttled,
        failed: true,
      });
      if (throttled) await policy.limiter.onThrottle(call.limiterKey, err.retryAfterMs);
      const mayRetry =
        err.retryable && (call.retryWhen?.(err) ?? true) && attempt + 1 < policy.retry.maxAttempts;
      if (!mayRetry) throw err;
      // A throttle already paused the limiter; other retryable failures back off here.
      const wait = Math.max(err.retryAfterMs ?? 0, throttled ? 0 : backoffMs(policy.retry, attempt));
      await sleep(wait, policy.signal);
    }
  }
}

export { EksAccessError };
