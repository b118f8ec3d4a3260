import { describe, expect, it } from 'vitest';
import { EksAccessError } from '../errors.js';
import { CallStats, callWithPolicy, type CallPolicy } from './call-policy.js';
import { InProcessRateLimiter } from './rate-limiter.js';

function policy(overrides: Partial<CallPolicy> = {}): CallPolicy & { slept: number[] } {
  const slept: number[] = [];
  return {
    limiter: new InProcessRateLimiter(),
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    stats: new CallStats(),
    sleep: async (ms) => {
      slept.push(ms);
    },
    slept,
    ...overrides,
  };
}

const classify = (err: unknown) =>
  err instanceof EksAccessError ? err : new EksAccessError('INTERNAL', String(err));

describe('callWithPolicy', () => {
  it('retries a retryable failure and counts every attempt', async () => {
    const p = policy();
    let n = 0;
    const result = await callWithPolicy(
      p,
      { operation: 'eks:ListAccessEntries', limiterKey: 'aws:1:eu-west-1:eks', classify },
      async () => {
        if (++n < 3) throw new EksAccessError('AWS_UNAVAILABLE', 'boom');
        return 'ok';
      },
    );
    expect(result).toBe('ok');
    expect(p.stats.snapshot()['eks:ListAccessEntries']).toMatchObject({ calls: 3, retries: 2, failed: 2 });
  });

  it('gives up at once on a non-retryable error', async () => {
    const p = policy();
    let n = 0;
    await expect(
      callWithPolicy(p, { operation: 'eks:DescribeCluster', limiterKey: 'k', classify }, async () => {
        n++;
        throw new EksAccessError('AWS_ACCESS_DENIED', 'denied');
      }),
    ).rejects.toMatchObject({ code: 'AWS_ACCESS_DENIED' });
    expect(n).toBe(1);
  });

  it('stops after maxAttempts and surfaces the last error', async () => {
    const p = policy();
    await expect(
      callWithPolicy(p, { operation: 'kube:list:roles', limiterKey: 'k', classify }, async () => {
        throw new EksAccessError('KUBE_UNAVAILABLE', 'down');
      }),
    ).rejects.toMatchObject({ code: 'KUBE_UNAVAILABLE' });
    expect(p.stats.snapshot()['kube:list:roles']?.calls).toBe(4);
  });

  it('waits at least the Retry-After the server asked for', async () => {
    const p = policy();
    let n = 0;
    await callWithPolicy(p, { operation: 'kube:list:roles', limiterKey: 'k', classify }, async () => {
      if (++n === 1) throw new EksAccessError('KUBE_UNAVAILABLE', 'busy', { retryAfterMs: 2500 });
      return 1;
    });
    expect(p.slept[0]).toBe(2500);
  });
});

describe('InProcessRateLimiter', () => {
  it('halves its rate on a throttle and recovers slowly on success', () => {
    let now = 0;
    const limiter = new InProcessRateLimiter({ now: () => now });
    const key = 'aws:1:eu-west-1:eks';
    void limiter.acquire(key);
    const start = limiter.state()[key]!.perSecond;
    limiter.onThrottle(key);
    const after = limiter.state()[key]!.perSecond;
    expect(after).toBeLessThan(start);
    for (let i = 0; i < 100; i++) limiter.onSuccess(key);
    now += 1000;
    expect(limiter.state()[key]!.perSecond).toBeGreaterThan(after);
    expect(limiter.state()[key]!.throttles).toBe(1);
  });

  it('spaces calls out to the configured rate once the burst is used', async () => {
    let now = 0;
    const limiter = new InProcessRateLimiter({
      now: () => now,
      settingsFor: () => ({
        initialPerSecond: 10,
        minPerSecond: 1,
        maxPerSecond: 10,
        burst: 2,
        increasePerSecond: 0,
        decrease: 0.5,
      }),
    });
    const key = 'kube:c';
    await limiter.acquire(key);
    await limiter.acquire(key);
    // the third call must wait ~100 ms at 10/s; advance the fake clock while it waits
    const third = limiter.acquire(key).then(() => now);
    await new Promise((r) => setTimeout(r, 5));
    now += 100;
    expect(await third).toBe(100);
  });

  it('keeps separate budgets per key', async () => {
    const limiter = new InProcessRateLimiter({
      settingsFor: () => ({
        initialPerSecond: 1,
        minPerSecond: 1,
        maxPerSecond: 1,
        burst: 1,
        increasePerSecond: 0,
        decrease: 0.5,
      }),
    });
    await limiter.acquire('kube:a');
    const started = Date.now();
    await limiter.acquire('kube:b');
    expect(Date.now() - started).toBeLessThan(50);
  });
});
