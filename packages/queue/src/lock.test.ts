import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisConnection } from './connection.js';
import { LockBusyError, LockLostError, RedisUnavailableError } from './errors.js';
import { clusterLockKey, createLockManager, principalLockKey, type LockManager } from './lock.js';
import { createTestRedis, uniquePrefix } from './test-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('distributed lock', () => {
  let prefix: string;
  let env: ReturnType<typeof createTestRedis>;
  let redis: RedisConnection;
  let one: LockManager;
  let two: LockManager;
  const key = clusterLockKey('0b6a1f9e-4a4e-4a53-9a59-7f2f3b8c1d22');

  beforeEach(async () => {
    prefix = uniquePrefix();
    env = createTestRedis(prefix);
    redis = await env.connect('producer');
    one = createLockManager({ connection: redis, prefix });
    two = createLockManager({ connection: await env.connect('producer'), prefix });
  });
  afterEach(() => env.cleanup());

  it('lets only one holder at a time run, across managers', async () => {
    let inside = 0;
    let maxInside = 0;
    let runs = 0;
    const work = (manager: LockManager) =>
      manager.withLock(key, { ttlMs: 1_000, waitMs: 5_000 }, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(10);
        inside--;
        runs++;
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => work(i % 2 ? one : two)));
    expect(runs).toBe(10);
    expect(maxInside).toBe(1);
    expect(await redis.exists(`${prefix}:${key}`)).toBe(0);
  });

  it('renews the lock while a long holder works', async () => {
    // The holder keeps working past the lock's first expiry; it watches the key's remaining time go
    // back up (each rise is a renewal). A 3 s ttl renewed every second survives a 2 s stall of the
    // loaded test machine: no timing margin is needed for the assertions below.
    const ttlMs = 3_000;
    const redisKey = `${prefix}:${key}`;
    let renewals = 0;
    const holding = one.withLock(key, { ttlMs }, async (signal) => {
      const acquired = Date.now();
      let previous = await redis.pttl(redisKey);
      while (renewals < 2 || Date.now() - acquired <= ttlMs) {
        await sleep(50);
        const left = await redis.pttl(redisKey);
        if (left > previous) renewals++;
        previous = left;
        if (signal.aborted) break;
      }
      // Past the first expiry, the lock is still held: another manager cannot take it.
      const stolen = await two.withLock(key, { ttlMs }, async () => 'stolen').catch((e: unknown) => e);
      return { aborted: signal.aborted, stolen };
    });
    const result = await holding;
    expect(result.aborted).toBe(false);
    expect(result.stolen).toBeInstanceOf(LockBusyError);
    expect(renewals).toBeGreaterThanOrEqual(2);
    // Released on return: the other manager gets it at once.
    expect(await two.withLock(key, { ttlMs }, async () => 'mine')).toBe('mine');
  });

  it('aborts the holder when the lock is lost', async () => {
    let seen: AbortSignal | undefined;
    const holding = one.withLock(key, { ttlMs: 150 }, async (signal) => {
      seen = signal;
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error)),
      );
    });
    await sleep(20);
    // Someone else takes the key over (as after an expiry during a long pause).
    await redis.set(`${prefix}:${key}`, 'someone-else');
    await expect(holding).rejects.toBeInstanceOf(LockLostError);
    expect(seen?.aborted).toBe(true);
    // The holder's release must not delete the new owner's lock.
    expect(await redis.get(`${prefix}:${key}`)).toBe('someone-else');
  });

  it('gives up with LockBusyError when the lock stays busy past waitMs', async () => {
    let release!: () => void;
    const holding = one.withLock(key, { ttlMs: 5_000 }, () => new Promise<void>((r) => (release = r)));
    await sleep(20);
    const start = Date.now();
    const err = await two
      .withLock(key, { ttlMs: 1_000, waitMs: 150 }, async () => 'never')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBusyError);
    expect((err as LockBusyError).retryable).toBe(true);
    expect((err as LockBusyError).message).toContain(key);
    expect(Date.now() - start).toBeGreaterThanOrEqual(140);
    release();
    await holding;
  });

  it('waits for a busy lock that is released within waitMs', async () => {
    const holding = one.withLock(key, { ttlMs: 1_000 }, () => sleep(100));
    await sleep(10);
    expect(await two.withLock(key, { ttlMs: 1_000, waitMs: 2_000 }, async () => 'after')).toBe('after');
    await holding;
  });

  it('reports an unreachable Redis as RedisUnavailableError', async () => {
    const lost = await env.connect('producer');
    const manager = createLockManager({ connection: lost, prefix });
    lost.disconnect();
    await expect(manager.withLock(key, { ttlMs: 1_000 }, async () => 'never')).rejects.toBeInstanceOf(
      RedisUnavailableError,
    );
  });

  it('builds principal lock keys without the ARN colons', () => {
    const k = principalLockKey('c1', 'arn:aws:iam::111122223333:role/Admin');
    expect(k).toMatch(/^lock:principal:c1:[0-9a-f]{32}$/);
    expect(principalLockKey('c1', 'arn:aws:iam::111122223333:role/Admin')).toBe(k);
    expect(principalLockKey('c1', 'arn:aws:iam::111122223333:role/Other')).not.toBe(k);
  });
});
