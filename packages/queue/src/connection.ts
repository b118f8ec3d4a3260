// Redis connections for the two kinds of user. Workers hold blocking connections that BullMQ
// requires to retry forever (`maxRetriesPerRequest: null`) so a Redis restart pauses them instead
// of failing jobs. Producers (the API, schedulers, the rate limiter and locks) must fail fast: an
// HTTP request should get a 503, not hang on a queue of offline commands.
import { Redis, type RedisOptions } from 'ioredis';
import { RedisUnavailableError } from './errors.js';
import type { Logger } from './logger.js';

export type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  role: RedisRole;
  logger: Logger;
  /** How long the first connection (and each reconnection) may take. Default 2 s for producers, 10 s for workers. */
  connectTimeoutMs?: number;
  /** Shown by `CLIENT LIST`, so an operator can tell the API's connections from a worker's. */
  name?: string;
}

export type RedisConnection = Redis;

const ERROR_LOG_INTERVAL_MS = 30_000;

/** Opens a Redis connection for `role`, failing with a clear error when Redis is unreachable. */
export async function createRedisConnection(options: RedisConnectionOptions): Promise<RedisConnection> {
  const { url, role, logger } = options;
  const connectTimeout = options.connectTimeoutMs ?? (role === 'worker' ? 10_000 : 2_000);
  const roleOptions: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const redis = new Redis(url, {
    ...roleOptions,
    lazyConnect: true,
    connectTimeout,
    ...(options.name === undefined ? {} : { connectionName: options.name }),
  });

  // ioredis emits 'error' on every failed reconnection attempt; without a listener Node prints
  // each one. Log the first of a kind and then at most every 30 s, so an outage is visible but
  // does not flood the log.
  let lastError: Error | undefined;
  let lastLoggedAt = 0;
  let lastLoggedMessage = '';
  redis.on('error', (err: Error) => {
    lastError = err;
    const now = Date.now();
    if (err.message === lastLoggedMessage && now - lastLoggedAt < ERROR_LOG_INTERVAL_MS) return;
    lastLoggedAt = now;
    lastLoggedMessage = err.message;
    logger.warn({ err, redis: redactUrl(url), role }, 'redis connection error');
  });

  try {
    await withTimeout(redis.connect(), connectTimeout + 500);
  } catch (err) {
    redis.disconnect();
    const reason = lastError?.message ?? (err instanceof Error ? err.message : String(err));
    throw new RedisUnavailableError(
      `cannot reach Redis at ${redactUrl(url)}: ${reason}; check the Redis URL and that Redis is running`,
      lastError ?? err,
    );
  }
  await checkEvictionPolicy(redis, logger);
  return redis;
}

/** Warns when Redis may evict keys: BullMQ loses jobs and locks silently under any policy but `noeviction`. */
export async function checkEvictionPolicy(
  redis: Pick<Redis, 'info'>,
  logger: Logger,
): Promise<string | undefined> {
  let policy: string | undefined;
  try {
    // INFO rather than CONFIG GET: managed Redis services often disable CONFIG.
    const info = await redis.info('memory');
    policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  } catch (err) {
    logger.warn({ err }, 'could not read the redis eviction policy');
    return undefined;
  }
  if (policy !== undefined && policy !== 'noeviction') {
    logger.warn(
      { maxmemoryPolicy: policy },
      'redis maxmemory-policy is not noeviction: under memory pressure Redis may delete queued jobs and locks; set maxmemory-policy noeviction',
    );
  }
  return policy;
}

/** The URL with its password masked, safe to log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
