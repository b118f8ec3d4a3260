// A counting semaphore over Redis shared by every worker process: at most `limit` holders of one key
// at a time (the sync worker keys it by AWS account, so one account's clusters cannot take every
// worker). Each holder has a lease that its process renews while the work runs; a process that dies
// or loses Redis stops renewing, and its lease, with the slot, frees itself after `leaseMs`.
//
// A slot is a sorted-set member (a random token) scored by its lease's expiry on the Redis clock
// (TIME), so the hosts' clocks do not matter; expired members are dropped before each count.
// Taking a slot never waits: a caller that finds the key full does something else (the consumer
// defers the job) instead of holding a worker slot while it waits.
import { randomBytes } from 'node:crypto';
import { DEFAULT_PREFIX } from './catalogue.js';
import type { RedisConnection } from './connection.js';
import { LockLostError, RedisUnavailableError } from './errors.js';
import { defineLuaScript } from './lua.js';

export interface SlotOptions {
  /** Holders allowed at once, across every process. */
  limit: number;
  /** How long a slot lasts without renewal: the delay before a dead holder's slot frees. */
  leaseMs: number;
  /** Aborts the work (its signal follows this one). */
  signal?: AbortSignal;
}

export type SlotResult<T> = { acquired: true; value: T } | { acquired: false; holders: number };

export interface SemaphoreOptions {
  /** A fail-fast connection (`role: 'producer'`). */
  connection: RedisConnection;
  prefix?: string;
}

// The key lives as long as its longest lease, so an idle key (and a dead holder's) disappears.
const NOW_AND_TRIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function expireWithLongest()
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
end
`;

// ARGV: limit, leaseMs, token. Returns 1 when taken, otherwise -(live holders) (0 and below).
const acquireScript = defineLuaScript(`${NOW_AND_TRIM}
local holders = redis.call('ZCARD', KEYS[1])
if holders >= tonumber(ARGV[1]) then return -holders end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
expireWithLongest()
return 1
`);

// ARGV: token, leaseMs. Returns 1 when renewed, 0 when the lease had already lapsed or gone.
const renewScript = defineLuaScript(`${NOW_AND_TRIM}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
expireWithLongest()
return 1
`);

const holdersScript = defineLuaScript(`${NOW_AND_TRIM}
return redis.call('ZCARD', KEYS[1])
`);

/** Creates a semaphore client; clients on the same Redis and prefix share every key's slots. */
export function createSemaphore(options: SemaphoreOptions) {
  const { connection } = options;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const redisKey = (key: string) => `${prefix}:sem:${key}`;

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new RedisUnavailableError(`${what}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }

  return {
    /**
     * Runs `fn` in one of `key`'s slots, or answers `{ acquired: false }` at once when all `limit`
     * are held. The lease is renewed every `leaseMs / 3`; if a renewal finds it gone, or Redis stays
     * unreachable until it would lapse, `fn`'s signal aborts and this throws LockLostError.
     */
    async withSlot<T>(
      key: string,
      opts: SlotOptions,
      fn: (signal: AbortSignal) => Promise<T>,
    ): Promise<SlotResult<T>> {
      if (!(opts.leaseMs >= 30))
        throw new RangeError(`slot lease must be at least 30 ms, got ${opts.leaseMs}`);
      if (!(Number.isInteger(opts.limit) && opts.limit >= 1))
        throw new RangeError(`slot limit must be a whole number of at least 1, got ${opts.limit}`);
      opts.signal?.throwIfAborted();
      const k = redisKey(key);
      const token = randomBytes(16).toString('hex');
      const got = Number(
        await call(`could not take a slot of ${key}`, () =>
          acquireScript(connection, [k], [opts.limit, opts.leaseMs, token]),
        ),
      );
      if (got !== 1) return { acquired: false, holders: -got };

      const lost = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, lost.signal]) : lost.signal;
      const interval = Math.max(10, Math.floor(opts.leaseMs / 3));
      let lastRenewedAt = Date.now();
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const renew = async () => {
        try {
          const renewed = await renewScript(connection, [k], [token, opts.leaseMs]);
          if (Number(renewed) === 1) lastRenewedAt = Date.now();
          else lost.abort(new LockLostError(`slot of ${key}`));
        } catch (err) {
          // Unreachable Redis: once the next renewal would come after the lease lapses, another
          // process may hold the slot, so the work stops rather than run over the limit.
          if (Date.now() + interval >= lastRenewedAt + opts.leaseMs)
            lost.abort(new LockLostError(`slot of ${key}`, err));
        }
        if (!stopped && !lost.signal.aborted) timer = setTimeout(() => void renew(), interval);
      };
      timer = setTimeout(() => void renew(), interval);

      try {
        const value = await fn(signal);
        if (lost.signal.aborted) throw lost.signal.reason as Error;
        return { acquired: true, value };
      } catch (err) {
        if (lost.signal.aborted && !(err instanceof LockLostError))
          throw new LockLostError(`slot of ${key}`, err);
        throw err;
      } finally {
        stopped = true;
        clearTimeout(timer);
        // A failed release is harmless: the lease lapses after leaseMs.
        await connection.zrem(k, token).catch(() => undefined);
      }
    },

    /** Live holders of `key` now (expired leases not counted). */
    async holders(key: string): Promise<number> {
      return Number(
        await call(`could not count the slots of ${key}`, () =>
          holdersScript(connection, [redisKey(key)], []),
        ),
      );
    },
  };
}

export type Semaphore = ReturnType<typeof createSemaphore>;

/** The semaphore key that caps the concurrent syncs of one AWS account. */
export function accountSlotKey(accountId: string): string {
  return `account:${accountId}`;
}
