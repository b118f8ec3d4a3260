// Test support: the API over a fresh migrated database and a uniquely prefixed queue, both real.
import { randomBytes } from 'node:crypto';
import { createApiKey } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { createProducer, createRedisConnection, type Producer, type RedisConnection } from '@eks-access/queue';
import { pino } from 'pino';
import { buildApp, type App } from './app.js';
import type { AppDeps } from './deps.js';
import { createApiMetrics } from './metrics.js';

export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApi {
  app: App;
  /** What the app was built with, to build a variant (a broken dependency) on the same database. */
  deps: AppDeps;
  database: TestDatabase;
  producer: Producer;
  redis: RedisConnection;
  prefix: string;
  keys: Record<'admin' | 'read' | 'sync', string>;
  close(): Promise<void>;
}

/** Builds the app on real Postgres and Redis with an admin, a read-only and a sync API key. */
export async function startTestApi(): Promise<TestApi> {
  const logger = pino({ level: 'silent' });
  const database = await createTestDatabase(ADMIN_URL);
  const redis = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger });
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const producer = createProducer({ connection: redis, prefix });
  const deps: AppDeps = {
    config: { REQUEST_TIMEOUT_MS: 10_000, TRUST_PROXY: false },
    logger,
    database,
    producer,
    redis,
    metrics: createApiMetrics(),
    verifyKey: async (plaintext) => {
      const { verifyApiKey } = await import('@eks-access/db');
      const key = await verifyApiKey(database, plaintext);
      return key ? { actor: `api-key:${key.id}`, scopes: key.scopes } : undefined;
    },
  };
  const app = await buildApp(deps);
  await app.ready();
  const keys = {
    admin: (await createApiKey(database, 'admin', ['admin'])).key,
    read: (await createApiKey(database, 'reader', ['read'])).key,
    sync: (await createApiKey(database, 'syncer', ['read', 'sync'])).key,
  };
  return {
    app,
    deps,
    database,
    producer,
    redis,
    prefix,
    keys,
    close: async () => {
      await app.close();
      const leftovers = await redis.keys(`${prefix}:*`);
      if (leftovers.length > 0) await redis.del(...leftovers);
      await producer.close();
      redis.disconnect();
      await database.drop();
    },
  };
}
