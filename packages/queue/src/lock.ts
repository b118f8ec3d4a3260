// A distributed lock over one Redis key: SET NX PX with a random token, renewed while the work
// runs, released only by its holder (compare-and-delete). It guarantees mutual exclusion as long
// as renewals reach Redis; when they stop, the work's signal is aborted before the lock can have
// expired, so a holder that honours its signal stops before another process can start.
// (It is a single-Redis lock, not Redlock: with one Redis there is nothing to vote on.)
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_PREFIX } from './catalogue.js';
import type { RedisConnection } from './connection.js';
import { LockBusyError, LockLostError, RedisUnavailableError } from './errors.js';
import { defineLuaScript } from './lua.js';
import { sleep } from './sleep.js';

export interface LockOptions {
  /** How long the lock lasts without renewal: the delay before a crashed holder's lock frees. */
  ttlMs: number;
  /** How long to wait for a busy lock before giving up with LockBusyError. Default 0: try once. */
  waitMs?: number;
  /** Aborts the wait, and the work (its signal follows this one). */
  signal?: AbortSignal;
}

export interface LockManagerOptions {
  /** A fail-fast connection (`role: 'producer'`). */
  connection: RedisConnection;
  prefix?: string;
}

export interface LockManager {
  /** Runs `fn` while holding `key`; `fn`'s signal aborts if the lock is lost. */
  withLock<T>(key: string, options: LockOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/** The lock that serialises syncs of one cluster. */
export function clusterLockKey(clusterId: string): string {
  return `lock:cluster:${clusterId}`;
}

/** The lock that serialises provisioning for one principal on one cluster (the ARN is hashed: it is long and has colons). */
export function principalLockKey(clusterId: string, principalArn: string): string {
  const hash = createHash('sha256').update(principalArn).digest('hex').slice(0, 32);
  return `lock:principal:${clusterId}:${hash}`;
}

const renewScript = defineLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

const releaseScript = defineLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

const MIN_RETRY_MS = 25;
const MAX_RETRY_MS = 250;

/** Creates a lock manager; managers on the same Redis and prefix exclude each other. */
export function createLockManager(options: LockManagerOptions): LockManager {
  const { connection } = options;
  const prefix = options.prefix ?? DEFAULT_PREFIX;

  async function acquire(redisKey: string, key: string, token: string, opts: LockOptions): Promise<void> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      opts.signal?.throwIfAborted();
      const ok = await connection.set(redisKey, token, 'PX', opts.ttlMs, 'NX').catch((err: unknown) => {
        throw new RedisUnavailableError(
          `could not take lock ${key}: ${err instanceof Error ? err.message : String(err)}`,
          err,
        );
      });
      if (ok === 'OK') return;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new LockBusyError(key, await connection.pttl(redisKey).catch(() => undefined));
      // Back off a little more on each try, with jitter, so waiters do not poll in step.
      const backoff = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** attempt);
      await sleep(Math.min(remaining, backoff / 2 + Math.random() * (backoff / 2)), opts.signal);
    }
  }

  return {
    async withLock(key, opts, fn) {
      if (!(opts.ttlMs >= 30)) throw new RangeError(`lock ttl must be at least 30 ms, got ${opts.ttlMs}`);
      const redisKey = `${prefix}:${key}`;
      const token = randomBytes(16).toString('hex');
      await acquire(redisKey, key, token, opts);

      const lost = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, lost.signal]) : lost.signal;
      const interval = Math.max(10, Math.floor(opts.ttlMs / 3));
      let lastRenewedAt = Date.now();
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;

      const renew = async () => {
        try {
          const renewed = await renewScript(connection, [redisKey], [token, opts.ttlMs]);
          if (Number(renewed) === 1) lastRenewedAt = Date.now();
          else lost.abort(new LockLostError(key));
        } catch (err) {
          // Redis unreachable: the lock may still be ours, but once the next renewal would come
          // after it expires we can no longer claim exclusion, so stop the work now.
          if (Date.now() + interval >= lastRenewedAt + opts.ttlMs) lost.abort(new LockLostError(key, err));
        }
        if (!stopped && !lost.signal.aborted) timer = setTimeout(() => void renew(), interval);
      };
      timer = setTimeout(() => void renew(), interval);

      try {
        const result = await fn(signal);
        if (lost.signal.aborted) throw lost.signal.reason as Error;
        return result;
      } catch (err) {
        if (lost.signal.aborted && !(err instanceof LockLostError)) throw new LockLostError(key, err);
        throw err;
      } finally {
        stopped = true;
        clearTimeout(timer);
        // A failed release is harmless: the key expires after ttlMs.
        await releaseScript(connection, [redisKey], [token]).catch(() => undefined);
      }
    },
  };
}
