// What the API needs from the outside world. main.ts builds it from the config; tests build it
// with a real Postgres and Redis of their own.
import { createDb, listenForChanges, verifyApiKey, type Database } from '@eks-access/db';
import {
  createProducer,
  createRedisConnection,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import type { Logger } from 'pino';
import type { VerifyKey } from './auth.js';
import type { ApiConfig } from './config.js';
import { EventBell } from './event-bell.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';
import { ReadCache } from './read-cache.js';

export interface AppDeps {
  config: Pick<ApiConfig, 'BOOTSTRAP_API_KEY' | 'REQUEST_TIMEOUT_MS' | 'TRUST_PROXY'> &
    Partial<Pick<ApiConfig, 'QUEUE_BACKLOG_MAX'>>;
  logger: Logger;
  database: Database;
  producer: Producer;
  /** For readiness checks. */
  redis: RedisConnection;
  metrics: ApiMetrics;
  verifyKey: VerifyKey;
  /** Answers and verified keys kept until Postgres announces a change (read-cache.ts); absent: none. */
  cache?: ReadCache;
  /** Rung when Postgres announces new change events (the event streams wait on it). */
  eventBell: EventBell;
}

/** Verifies keys through Postgres, keeping verified ones in `cache` (when there is one) until a key changes. */
export function cachedKeyVerifier(database: Database, cache?: ReadCache): VerifyKey {
  return async (plaintext) => {
    const hit = cache?.caller(plaintext);
    if (hit) return hit;
    const generation = cache?.keyGeneration ?? 0;
    const key = await verifyApiKey(database, plaintext);
    if (!key) return undefined;
    const caller = { actor: `api-key:${key.id}`, scopes: key.scopes };
    cache?.rememberCaller(plaintext, caller, key.expiresAt, generation);
    return caller;
  };
}

/** Opens the API's connections (Postgres pool, Redis, queue producer) and returns them with a closer. */
export async function createAppDeps(
  config: ApiConfig,
  logger: Logger,
): Promise<{ deps: AppDeps; close: () => Promise<void> }> {
  const database = createDb({
    url: config.DATABASE_URL,
    encryptionKey: config.ENCRYPTION_KEY,
    applicationName: 'eks-access-api',
    // Bounded waits, so an unreachable or stuck Postgres answers a request with a 503 in time.
    connectionTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
    queryTimeoutMs: config.REQUEST_TIMEOUT_MS,
    onPoolError: (err) => logger.warn({ err }, 'postgres connection dropped'),
  });
  let redis: RedisConnection;
  try {
    redis = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'producer',
      logger,
      name: 'eks-access-api',
    });
  } catch (err) {
    await database.close();
    throw err;
  }
  const producer = createProducer({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    logger,
    commandTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
  });
  const cache = new ReadCache(config.READ_CACHE_MB * 2 ** 20);
  const eventBell = new EventBell();
  // One LISTEN connection feeds the read cache (when it is on) and wakes the event streams.
  const listener = listenForChanges({
    url: config.DATABASE_URL,
    applicationName: 'eks-access-api-changes',
    onChange: (change) => {
      if (change.kind === 'events') eventBell.ring();
      else cache.onChange(change);
    },
    onState: (connected) => {
      cache.setLive(connected);
      if (config.READ_CACHE_MB > 0)
        logger.info({ connected }, connected ? 'read cache on' : 'read cache off until Postgres is back');
      // Whatever was announced while the connection was down: streams read again.
      if (connected) eventBell.ring();
    },
    onError: (err) => logger.warn({ err: { message: err.message } }, 'change listener lost its connection'),
  });
  const deps: AppDeps = {
    config,
    logger,
    database,
    producer,
    redis,
    metrics: createApiMetrics(),
    verifyKey: cachedKeyVerifier(database, cache),
    cache,
    eventBell,
  };
  return {
    deps,
    close: async () => {
      await listener.close();
      await producer.close();
      redis.disconnect();
      await database.close();
    },
  };
}
