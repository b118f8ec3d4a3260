import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisConnection } from './connection.js';
import { RedisUnavailableError } from './errors.js';
import {
  DEFAULT_RATES,
  createRedisRateLimiter,
  defaultSettingsFor,
  settingsForCeilings,
  type RateSettings,
  type RedisRateLimiter,
} from './rate-limiter.js';
import { createTestRedis, uniquePrefix } from './test-support.js';

// Low enough to measure in a second, with no speed-up so the ceiling stays put.
const SLOW: RateSettings = {
  initialPerSecond: 20,
  minPerSecond: 1,
  maxPerSecond: 20,
  burst: 2,
  increasePerSecond: 0,
  decrease: 0.5,
};

describe('redis rate limiter', () => {
  let prefix: string;
  let env: ReturnType<typeof createTestRedis>;
  let a: RedisRateLimiter;
  let b: RedisRateLimiter;
  let redis: RedisConnection;
  const key = 'aws:111122223333:eu-west-1:eks';

  beforeEach(async () => {
    prefix = uniquePrefix();
    env = createTestRedis(prefix);
    // Two connections, as two worker processes would have.
    redis = await env.connect('producer');
    const other = await env.connect('producer');
    a = createRedisRateLimiter({ connection: redis, prefix, settingsFor: () => SLOW });
    b = createRedisRateLimiter({ connection: other, prefix, settingsFor: () => SLOW });
    env.onCleanup(() => Promise.all([a.close(), b.close()]));
  });
  afterEach(() => env.cleanup());

  async function hammer(limiter: RedisRateLimiter, until: number, grants: number[]): Promise<void> {
    const signal = AbortSignal.timeout(until - Date.now());
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (;;) {
          try {
            await limiter.acquire(key, signal);
          } catch {
            return;
          }
          if (Date.now() > until) return;
          grants.push(Date.now());
        }
      }),
    );
  }

  it('keeps two processes sharing a key under the configured rate together', async () => {
    const start = Date.now();
    const fromA: number[] = [];
    const fromB: number[] = [];
    await Promise.all([hammer(a, start + 1_000, fromA), hammer(b, start + 1_000, fromB)]);
    const total = fromA.length + fromB.length;
    // At most the burst plus one second at 20/s (one spare for the window edges).
    expect(total).toBeLessThanOrEqual(SLOW.burst + 20 + 1);
    expect(total).toBeGreaterThanOrEqual(15);
    expect(fromA.length).toBeGreaterThan(0);
    expect(fromB.length).toBeGreaterThan(0);
  });

  it('slows every process when one of them is throttled', async () => {
    await a.acquire(key);
    await b.onThrottle(key);
    expect((await a.state(key))?.perSecond).toBe(10);
    // A burst of throttles from calls already in flight cuts the rate once, not once per call.
    await Promise.all([a.onThrottle(key), b.onThrottle(key), a.onThrottle(key)]);
    expect((await b.state(key))?.perSecond).toBe(10);
  });

  it('pauses every process for the Retry-After of a throttle', async () => {
    await a.onThrottle(key, 400);
    const paused = (await b.state(key))?.pausedForMs ?? 0;
    expect(paused).toBeGreaterThan(300);
    const start = Date.now();
    await Promise.all([a.acquire(key), b.acquire(key)]);
    // Redis's clock decides, so allow a little skew against this process's clock.
    expect(Date.now() - start).toBeGreaterThanOrEqual(350);
  });

  it('raises the shared rate as successes are reported', async () => {
    const fast = createRedisRateLimiter({
      connection: redis,
      prefix,
      settingsFor: () => ({ ...SLOW, maxPerSecond: 100, increasePerSecond: 5 }),
      successFlushMs: 10,
    });
    env.onCleanup(() => fast.close());
    await fast.acquire(key);
    for (let i = 0; i < 20; i++) fast.onSuccess(key);
    await fast.flush();
    const rate = (await fast.state(key))?.perSecond ?? 0;
    expect(rate).toBeGreaterThan(24);
    expect(rate).toBeLessThan(25);
  });

  it('stops waiting when the signal aborts', async () => {
    await a.onThrottle(key, 5_000);
    const start = Date.now();
    await expect(a.acquire(key, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - start).toBeLessThan(1_000);
  });

  it('reports an unreachable Redis on acquire, and never hides a throttle behind it', async () => {
    const lost = await env.connect('producer');
    const limiter = createRedisRateLimiter({ connection: lost, prefix, settingsFor: () => SLOW });
    lost.disconnect();
    await expect(limiter.acquire(key)).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(limiter.onThrottle(key, 100)).resolves.toBeUndefined();
  });

  it('lets an idle bucket expire', async () => {
    await a.acquire(key);
    const ttl = await redis.pttl(`${prefix}:rl:${key}`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('with a stated ceiling, grants less than it in one second (steady rate plus burst) and starts at that rate', () => {
    const settingsFor = settingsForCeilings({ aws: 40 });
    const aws = settingsFor(key);
    expect([aws.maxPerSecond, aws.burst]).toEqual([34, 2]);
    expect(aws.initialPerSecond).toBe(aws.maxPerSecond);
    expect(settingsFor('kube:arn:aws:eks:eu-west-1:111122223333:cluster/a')).toBe(DEFAULT_RATES.kube);
    const kube = settingsForCeilings({ kube: 5 })('kube:arn:aws:eks:eu-west-1:111122223333:cluster/a');
    expect(kube.maxPerSecond + kube.burst).toBeLessThanOrEqual(5);
  });

  it('uses eks-core default rates: Kubernetes settings for kube: keys, AWS settings otherwise', () => {
    expect(defaultSettingsFor('kube:arn:aws:eks:eu-west-1:111122223333:cluster/a')).toBe(DEFAULT_RATES.kube);
    expect(defaultSettingsFor(key)).toBe(DEFAULT_RATES.aws);
    expect(DEFAULT_RATES.aws).toEqual({
      initialPerSecond: 50,
      minPerSecond: 1,
      maxPerSecond: 200,
      burst: 10,
      increasePerSecond: 5,
      decrease: 0.8,
    });
    expect(DEFAULT_RATES.kube).toEqual({
      initialPerSecond: 50,
      minPerSecond: 1,
      maxPerSecond: 400,
      burst: 20,
      increasePerSecond: 5,
      decrease: 0.5,
    });
  });
});
