// A rate limiter shared by every worker process through Redis. It implements the same interface
// as eks-core's in-process limiter (structurally: this package does not import eks-core), with
// the same algorithm: a token bucket whose rate grows additively while calls succeed and shrinks
// multiplicatively on each throttling answer, pausing for Retry-After.
//
// Each operation is one Lua script, so reading and updating a bucket is atomic across processes,
// and the scripts read the clock with Redis TIME: worker hosts' clocks never have to agree.
// State lives in one hash per key (`<prefix>:rl:<key>`: rate, tokens, refilledAt, pausedUntil,
// decreasedAt) that expires after an hour without use, so buckets of removed clusters go away.
//
// Two differences from the in-process limiter, both because many processes share one bucket:
// - Throttles within one second of the last decrease only extend the pause. With N workers each
//   running several calls, one burst of 429s arrives N×concurrency times; cutting the rate on
//   each would drive it to the minimum from a single overload.
// - No tokens accrue while the bucket is paused, so calls resume at the reduced rate after a
//   Retry-After instead of firing a full burst at the server that just asked us to wait.
//
// Successes are counted locally and sent every 100 ms (one script call per key per flush),
// rather than one Redis call per successful API call. A success lost in a crash only delays the
// speed-up slightly.
import { DEFAULT_RATES, defaultSettingsFor, type RateSettings } from '@eks-access/model';
import { DEFAULT_PREFIX } from './catalogue.js';
import type { RedisConnection } from './connection.js';
import { RedisUnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { defineLuaScript } from './lua.js';
import { sleep } from './sleep.js';

/** Same shape as eks-core's `RateLimiter`, so this implementation plugs into it. */
export interface RateLimiter {
  /** Waits until one call under `key` may start. */
  acquire(key: string, signal?: AbortSignal): Promise<void>;
  /** A throttling answer arrived for `key`: slow down, and pause at least `retryAfterMs`. */
  onThrottle(key: string, retryAfterMs?: number): void | Promise<void>;
  /** A call under `key` succeeded. */
  onSuccess(key: string): void | Promise<void>;
}

// The starting settings are the model's, the same ones eks-core's in-process limiter uses: a CLI
// run and a worker fleet treat AWS and clusters alike.
export { DEFAULT_RATES, defaultSettingsFor, type RateSettings } from '@eks-access/model';

/**
 * Settings that keep a key below `perSecond` calls in any one-second window: a token bucket never
 * grants more than burst + rate in one second, so the steady rate is 85% of the ceiling and the
 * burst a twentieth of it, leaving the rest for calls that leave together but arrive bunched (a
 * stalled event loop, a slow network). The rate starts at that ceiling, since an operator who
 * states an account's or cluster's limit knows it; throttles still slow it down.
 */
export function ceilingSettings(base: RateSettings, perSecond: number): RateSettings {
  const burst = Math.max(1, Math.floor(perSecond / 20));
  const rate = Math.max(base.minPerSecond, Math.floor(perSecond * 0.85));
  return { ...base, burst, maxPerSecond: rate, initialPerSecond: rate };
}

/** `settingsFor` with optional ceilings for AWS keys (per account, region and service) and Kubernetes keys (per cluster). */
export function settingsForCeilings(ceilings: {
  aws?: number | undefined;
  kube?: number | undefined;
}): (key: string) => RateSettings {
  const aws =
    ceilings.aws === undefined ? DEFAULT_RATES.aws : ceilingSettings(DEFAULT_RATES.aws, ceilings.aws);
  const kube =
    ceilings.kube === undefined ? DEFAULT_RATES.kube : ceilingSettings(DEFAULT_RATES.kube, ceilings.kube);
  return (key) => (key.startsWith('kube:') ? kube : aws);
}

export interface RedisRateLimiterOptions {
  /** A fail-fast connection (`role: 'producer'`): a call should fail, not hang, while Redis is down. */
  connection: RedisConnection;
  settingsFor?: (key: string) => RateSettings;
  prefix?: string;
  /** A bucket unused this long is deleted. Default 1 h. */
  idleTtlMs?: number;
  /** How often counted successes are sent to Redis. Default 100 ms. */
  successFlushMs?: number;
  /** Receives errors of the best-effort updates (successes, throttles). */
  logger?: Logger;
}

export interface RateState {
  perSecond: number;
  tokens: number;
  /** How much longer calls are paused by a throttle (0 when not paused). */
  pausedForMs: number;
}

export interface RedisRateLimiter extends RateLimiter {
  onThrottle(key: string, retryAfterMs?: number): Promise<void>;
  onSuccess(key: string): void;
  /** Sends counted successes now. */
  flush(): Promise<void>;
  /** The shared state of `key` (for metrics and tests); undefined when it has none. */
  state(key: string): Promise<RateState | undefined>;
  /** Flushes and stops the background flush; the connection stays open. */
  close(): Promise<void>;
}

// Shared by every script. ARGV: 1 idle ttl ms, 2 initial rate, 3 min, 4 max, 5 burst,
// 6 increase per second, 7 decrease factor; 8+ are the operation's own.
const PRELUDE = `
local key = KEYS[1]
local ttl = tonumber(ARGV[1])
local initial = tonumber(ARGV[2])
local minRate = tonumber(ARGV[3])
local maxRate = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local increase = tonumber(ARGV[6])
local decrease = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', key, 'rate', 'tokens', 'refilledAt', 'pausedUntil', 'decreasedAt')
local rate = math.min(maxRate, math.max(minRate, tonumber(s[1]) or initial))
local tokens = tonumber(s[2]) or burst
local refilledAt = tonumber(s[3]) or now
local pausedUntil = tonumber(s[4]) or 0
local decreasedAt = tonumber(s[5]) or 0
-- refilledAt lies in the future while a throttle pause lasts: nothing accrues until then.
if now > refilledAt then
  tokens = math.min(burst, tokens + (now - refilledAt) / 1000 * rate)
  refilledAt = now
end
local function save()
  redis.call('HSET', key, 'rate', tostring(rate), 'tokens', tostring(tokens), 'refilledAt', tostring(refilledAt),
    'pausedUntil', tostring(pausedUntil), 'decreasedAt', tostring(decreasedAt))
  redis.call('PEXPIRE', key, ttl)
end
`;

// Returns 0 when a call may start, else how many ms to wait before asking again.
const acquireScript = defineLuaScript(`${PRELUDE}
if now < pausedUntil then
  return pausedUntil - now
end
if tokens >= 1 then
  tokens = tokens - 1
  save()
  return 0
end
save()
return math.max(1, math.ceil((1 - tokens) / rate * 1000))
`);

// ARGV[8]: Retry-After in ms, or -1 when the server gave none. ARGV[9]: decrease cooldown ms.
const throttleScript = defineLuaScript(`${PRELUDE}
if now - decreasedAt >= tonumber(ARGV[9]) then
  rate = math.max(minRate, rate * decrease)
  decreasedAt = now
end
tokens = math.min(tokens, 0)
local pause = tonumber(ARGV[8])
-- Without a Retry-After hint, pause for about one slot at the new rate so the burst drains.
if pause < 0 then pause = 1000 / rate end
pausedUntil = math.max(pausedUntil, now + math.ceil(pause))
refilledAt = math.max(refilledAt, pausedUntil)
save()
return tostring(rate)
`);

// ARGV[8]: successes since the last flush. Each one adds increase/rate, as in eks-core, so the
// rate grows by about \`increase\` per second of successful calls whatever the rate.
const successScript = defineLuaScript(`${PRELUDE}
local n = math.min(tonumber(ARGV[8]), 100000)
for _ = 1, n do
  rate = math.min(maxRate, rate + increase / rate)
end
save()
return tostring(rate)
`);

const stateScript = defineLuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'refilledAt', 'pausedUntil')
if not s[1] then return false end
local rate = tonumber(s[1])
local tokens = tonumber(s[2])
local refilledAt = tonumber(s[3])
if now > refilledAt then tokens = math.min(tonumber(ARGV[1]), tokens + (now - refilledAt) / 1000 * rate) end
return { tostring(rate), tostring(tokens), tostring(math.max(0, tonumber(s[4]) - now)) }
`);

const DECREASE_COOLDOWN_MS = 1000;

/** Creates the Redis-backed limiter; every process that uses the same Redis and prefix shares its buckets. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  const { connection } = options;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const settingsFor = options.settingsFor ?? defaultSettingsFor;
  const idleTtlMs = options.idleTtlMs ?? 3_600_000;
  const flushMs = options.successFlushMs ?? 100;
  const pendingSuccesses = new Map<string, number>();
  let flushTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const redisKey = (key: string) => `${prefix}:rl:${key}`;
  const settingsArgs = (key: string) => {
    const s = settingsFor(key);
    return [
      idleTtlMs,
      s.initialPerSecond,
      s.minPerSecond,
      s.maxPerSecond,
      s.burst,
      s.increasePerSecond,
      s.decrease,
    ];
  };

  async function flush(): Promise<void> {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const batch = [...pendingSuccesses];
    pendingSuccesses.clear();
    await Promise.all(
      batch.map(async ([key, count]) => {
        try {
          await successScript(connection, [redisKey(key)], [...settingsArgs(key), count]);
        } catch (err) {
          options.logger?.warn({ err, key }, 'could not record successful calls in the shared rate limiter');
        }
      }),
    );
  }

  return {
    async acquire(key, signal) {
      const args = settingsArgs(key);
      for (;;) {
        signal?.throwIfAborted();
        let wait: number;
        try {
          wait = Number(await acquireScript(connection, [redisKey(key)], args));
        } catch (err) {
          throw new RedisUnavailableError(
            `shared rate limiter could not reach Redis for ${key}: ${err instanceof Error ? err.message : String(err)}`,
            err,
          );
        }
        if (wait <= 0) return;
        // A little jitter so the waiters of several processes do not all ask again at once.
        await sleep(wait + Math.floor(Math.random() * Math.min(20, wait / 4)), signal);
      }
    },

    async onThrottle(key, retryAfterMs) {
      // Successes counted before the throttle are stale news: the server just said "too fast".
      pendingSuccesses.delete(key);
      const retryAfter =
        retryAfterMs === undefined || !Number.isFinite(retryAfterMs)
          ? -1
          : Math.max(0, Math.ceil(retryAfterMs));
      // Best effort: the caller is already handling the throttle error, which must not be
      // replaced by a Redis error; acquire reports an unreachable Redis.
      try {
        await throttleScript(
          connection,
          [redisKey(key)],
          [...settingsArgs(key), retryAfter, DECREASE_COOLDOWN_MS],
        );
      } catch (err) {
        options.logger?.warn({ err, key }, 'could not record a throttle in the shared rate limiter');
      }
    },

    onSuccess(key) {
      if (closed) return;
      pendingSuccesses.set(key, (pendingSuccesses.get(key) ?? 0) + 1);
      if (!flushTimer) {
        flushTimer = setTimeout(() => void flush(), flushMs);
        // Counted successes must not keep a finished process alive.
        flushTimer.unref();
      }
    },

    flush,

    async state(key) {
      const reply = (await stateScript(connection, [redisKey(key)], [settingsFor(key).burst])) as
        [string, string, string] | null;
      if (!reply) return undefined;
      return { perSecond: Number(reply[0]), tokens: Number(reply[1]), pausedForMs: Number(reply[2]) };
    },

    async close() {
      closed = true;
      await flush();
    },
  };
}
