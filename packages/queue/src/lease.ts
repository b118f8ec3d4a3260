// Leases: work items (clusters) spread over the live replicas of a horizontally scaled service (the
// watcher), each held by exactly one replica at a time, taken over when its replica dies.
//
// - A lease is a Redis key holding the owner's replica id with a TTL (SET NX PX). The owner renews
//   it well within the TTL; a renewal that finds another owner, or no key, means the lease is lost
//   and the owner must stop working on the item (another replica may already have it).
// - Replicas announce themselves in a sorted set scored by the time their announcement expires, so
//   every replica can count the live ones and take its fair share, ceil(items / replicas): a
//   replica over its share releases the surplus (a new replica gets work without a restart), one
//   under it takes unowned items. A dead replica's leases expire after `leaseMs` and are taken by
//   the others on their next balance.
// - Renewal and release compare the owner inside Lua, so a replica that was paused past its TTL can
//   never extend or delete a lease that now belongs to someone else.
import type { RedisConnection } from './connection.js';

const RENEW = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeaseTableOptions {
  connection: RedisConnection;
  /** The queue prefix (QUEUE_PREFIX), so deployments sharing a Redis stay apart. */
  prefix: string;
  /** What is leased, e.g. `watcher`: one lease table per service. */
  name: string;
  replicaId: string;
  /** A lease's lifetime; renew at least every third of it. */
  leaseMs: number;
}

export interface LeaseTable {
  readonly replicaId: string;
  /** Announces this replica as alive (for leaseMs) and returns how many replicas are alive. */
  heartbeat(): Promise<number>;
  /** Takes the lease on `item` if nobody holds it; true when this replica now holds it. */
  tryAcquire(item: string): Promise<boolean>;
  /** Renews the leases on `items`; returns those that were lost (expired or taken). */
  renew(items: readonly string[]): Promise<string[]>;
  /** Gives up `item` if this replica holds it. */
  release(item: string): Promise<void>;
  /** Who holds `item`, if anyone. */
  holder(item: string): Promise<string | null>;
  /** Leaves the replica set (on shutdown), so the others rebalance at once. */
  leave(): Promise<void>;
}

/** The fair share of `items` for each of `replicas` live replicas. */
export function fairShare(items: number, replicas: number): number {
  return Math.ceil(items / Math.max(1, replicas));
}

/** Opens the lease table `name` on Redis. */
export function createLeaseTable(options: LeaseTableOptions): LeaseTable {
  const { connection: redis, replicaId, leaseMs } = options;
  const base = `${options.prefix}:lease:${options.name}`;
  const keyOf = (item: string) => `${base}:item:${item}`;
  const replicasKey = `${base}:replicas`;
  return {
    replicaId,
    async heartbeat() {
      const now = Date.now();
      const [, , count] = (await redis
        .multi()
        .zadd(replicasKey, now + leaseMs, replicaId)
        .zremrangebyscore(replicasKey, '-inf', now)
        .zcard(replicasKey)
        .exec()) as [unknown, unknown, [Error | null, number]];
      return count[1];
    },
    async tryAcquire(item) {
      return (await redis.set(keyOf(item), replicaId, 'PX', leaseMs, 'NX')) === 'OK';
    },
    async renew(items) {
      if (items.length === 0) return [];
      const held = (await redis.eval(
        RENEW,
        items.length,
        ...items.map(keyOf),
        replicaId,
        String(leaseMs),
      )) as number[];
      return items.filter((_, i) => held[i] !== 1);
    },
    async release(item) {
      await redis.eval(RELEASE, 1, keyOf(item), replicaId);
    },
    async holder(item) {
      return redis.get(keyOf(item));
    },
    async leave() {
      await redis.zrem(replicasKey, replicaId);
    },
  };
}
