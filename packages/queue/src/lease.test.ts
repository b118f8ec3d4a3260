import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisConnection } from './connection.js';
import { createLeaseTable, fairShare, type LeaseTable } from './lease.js';
import { createTestRedis, uniquePrefix } from './test-support.js';

describe('lease table', () => {
  let prefix: string;
  let env: ReturnType<typeof createTestRedis>;
  let redis: RedisConnection;
  let a: LeaseTable;
  let b: LeaseTable;

  beforeEach(async () => {
    prefix = uniquePrefix();
    env = createTestRedis(prefix);
    redis = await env.connect('producer');
    // Long leases: nothing here may expire by the clock; expiry is simulated explicitly.
    a = createLeaseTable({ connection: redis, prefix, name: 'watcher', replicaId: 'a', leaseMs: 600_000 });
    b = createLeaseTable({ connection: redis, prefix, name: 'watcher', replicaId: 'b', leaseMs: 600_000 });
  });
  afterEach(() => env.cleanup());

  it('gives each item to one replica only', async () => {
    const results = await Promise.all([a.tryAcquire('c1'), b.tryAcquire('c1')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const owner = results[0] ? 'a' : 'b';
    expect(await a.holder('c1')).toBe(owner);
  });

  it('reports a lease taken over by another replica as lost, and never extends it', async () => {
    expect(await a.tryAcquire('c1')).toBe(true);
    expect(await a.tryAcquire('c2')).toBe(true);
    // a's lease on c1 lapses (a was paused past its TTL) and b takes it.
    await redis.del(`${prefix}:lease:watcher:item:c1`);
    expect(await b.tryAcquire('c1')).toBe(true);
    expect(await a.renew(['c1', 'c2'])).toEqual(['c1']);
    expect(await a.holder('c1')).toBe('b');
    // a's release of c1 must not free b's lease.
    await a.release('c1');
    expect(await a.holder('c1')).toBe('b');
    await a.release('c2');
    expect(await b.tryAcquire('c2')).toBe(true);
  });

  it('counts live replicas, forgets dead ones and lets a leaving replica go at once', async () => {
    expect(await a.heartbeat()).toBe(1);
    expect(await b.heartbeat()).toBe(2);
    // b's announcement expires (it died): scored in the past.
    await redis.zadd(`${prefix}:lease:watcher:replicas`, Date.now() - 1, 'b');
    expect(await a.heartbeat()).toBe(1);
    await b.heartbeat();
    await b.leave();
    expect(await a.heartbeat()).toBe(1);
  });

  it('shares items fairly', () => {
    expect(fairShare(100, 2)).toBe(50);
    expect(fairShare(101, 2)).toBe(51);
    expect(fairShare(3, 0)).toBe(3);
  });
});
