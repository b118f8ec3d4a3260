// Rate limiting keyed per AWS account + region + service and per cluster. The interface is what
// the queue package implements over Redis so every worker shares one budget; the in-process
// implementation here is the default for the CLI and for a single worker.
//
// The algorithm is additive-increase / multiplicative-decrease over a token bucket: AWS does not
// publish per-API rates for EKS, so the limiter starts from a configured guess, speeds up slowly
// while calls succeed and halves on every throttling answer (honouring Retry-After). The starting
// settings are shared with the Redis limiter (packages/queue) through @eks-access/model.
import { defaultSettingsFor, type RateSettings } from '@eks-access/model';

export { DEFAULT_RATES, type RateSettings } from '@eks-access/model';

export interface RateLimiter {
  /** Waits until one call under `key` may start. */
  acquire(key: string, signal?: AbortSignal): Promise<void>;
  /** A throttling answer arrived for `key`: slow down, and pause at least `retryAfterMs`. */
  onThrottle(key: string, retryAfterMs?: number): void | Promise<void>;
  /** A call under `key` succeeded. */
  onSuccess(key: string): void | Promise<void>;
}

interface Bucket {
  rate: number;
  tokens: number;
  refilledAt: number;
  pausedUntil: number;
  settings: RateSettings;
  throttles: number;
}

export interface InProcessRateLimiterOptions {
  /** Settings for a key, chosen by its prefix (`aws:` or `kube:`) unless overridden here. */
  settingsFor?: (key: string) => RateSettings;
  now?: () => number;
}

function abortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** AIMD token-bucket limiter kept in this process's memory. */
export class InProcessRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly settingsFor: (key: string) => RateSettings;

  constructor(options: InProcessRateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.settingsFor = options.settingsFor ?? defaultSettingsFor;
  }

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      const settings = this.settingsFor(key);
      b = {
        rate: settings.initialPerSecond,
        tokens: settings.burst,
        refilledAt: this.now(),
        pausedUntil: 0,
        settings,
        throttles: 0,
      };
      this.buckets.set(key, b);
    }
    return b;
  }

  private refill(b: Bucket, now: number): void {
    const elapsed = Math.max(0, now - b.refilledAt) / 1000;
    b.tokens = Math.min(b.settings.burst, b.tokens + elapsed * b.rate);
    b.refilledAt = now;
  }

  async acquire(key: string, signal?: AbortSignal): Promise<void> {
    const b = this.bucket(key);
    for (;;) {
      const now = this.now();
      if (now < b.pausedUntil) {
        await abortable(b.pausedUntil - now, signal);
        continue;
      }
      this.refill(b, now);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return;
      }
      await abortable(Math.ceil(((1 - b.tokens) / b.rate) * 1000), signal);
    }
  }

  onThrottle(key: string, retryAfterMs?: number): void {
    const b = this.bucket(key);
    b.throttles++;
    b.rate = Math.max(b.settings.minPerSecond, b.rate * b.settings.decrease);
    b.tokens = Math.min(b.tokens, 0);
    // Without a Retry-After hint, pause for roughly one slot at the new rate so the burst drains.
    const pause = retryAfterMs ?? 1000 / b.rate;
    b.pausedUntil = Math.max(b.pausedUntil, this.now() + pause);
  }

  onSuccess(key: string): void {
    const b = this.bucket(key);
    b.rate = Math.min(b.settings.maxPerSecond, b.rate + b.settings.increasePerSecond / b.rate);
  }

  /** The current rate and throttle count of each key (for reports and tests). */
  state(): Record<string, { perSecond: number; throttles: number }> {
    const out: Record<string, { perSecond: number; throttles: number }> = {};
    for (const [k, b] of this.buckets)
      out[k] = { perSecond: Math.round(b.rate * 10) / 10, throttles: b.throttles };
    return out;
  }
}

/** A limiter that never waits (tests of pure logic, or when the caller limits elsewhere). */
export const unlimited: RateLimiter = {
  acquire: async () => undefined,
  onThrottle: () => undefined,
  onSuccess: () => undefined,
};
