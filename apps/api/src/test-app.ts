// Test support: the API over a fresh migrated database and a uniquely prefixed queue, both real.
import { randomBytes } from 'node:crypto';
import { createApiKey } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  createProducer,
  createRedisConnection,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import type { FastifyReply, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach } from 'vitest';
import { buildApp, type App } from './app.js';
import type { AppDeps } from './deps.js';
import { EventBell } from './event-bell.js';
import { createApiMetrics } from './metrics.js';
import { createContractRecorder } from './openapi/contract.js';
import type { OpenApiDocument } from './openapi/document.js';

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

/** Every answer the suite's apps give, checked against their OpenAPI document. */
export const contract = createContractRecorder();

// The test that received an answer breaking the document fails (after its own assertions ran).
afterEach(() => contract.afterTest());
afterAll(() => contract.afterSuite());

/** Field paths present in `sent` (what the handler returned) and missing from `received`. */
function droppedFields(sent: unknown, received: unknown, path = ''): string[] {
  if (!sent || typeof sent !== 'object' || !received || typeof received !== 'object') return [];
  return Object.entries(sent).flatMap(([key, value]) =>
    key in received
      ? droppedFields(value, (received as Record<string, unknown>)[key], `${path}/${key}`)
      : [`${path}/${key}`],
  );
}

/**
 * Checks every answer `app` gives against its OpenAPI document: app.inject records each answer
 * with the contract recorder, and a field the handler returned that its response schema does not
 * declare (so the serializer dropped it) counts as a violation too. Call before `ready()`.
 */
export function checkContract(app: App): App {
  const returned = new WeakMap<FastifyReply, string>();
  app.addHook('preSerialization', async (_req, reply, payload) => {
    returned.set(reply, JSON.stringify(payload));
    return payload;
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const raw = returned.get(reply);
    if (raw !== undefined && typeof payload === 'string') {
      const lost = droppedFields(JSON.parse(raw), JSON.parse(payload));
      if (lost.length > 0)
        contract.violation(
          `${req.method} ${req.url} → ${reply.statusCode}: the response schema drops ${lost.join(', ')}`,
        );
    }
    return payload;
  });
  const inject = app.inject.bind(app);
  const document = () => app.swagger() as unknown as OpenApiDocument;
  app.inject = ((options?: string | InjectOptions) => {
    if (options === undefined) return inject();
    const opts: InjectOptions = typeof options === 'string' ? { url: options } : options;
    return inject(opts).then(async (res) => {
      const url = typeof opts.url === 'string' ? opts.url : typeof opts.path === 'string' ? opts.path : '';
      await contract.record(
        {
          method: opts.method ?? 'GET',
          url,
          status: res.statusCode,
          contentType: res.headers['content-type'],
          body: res.body,
        },
        document,
      );
      return res;
    });
  }) as App['inject'];
  return app;
}

/** Builds the app on real Postgres and Redis with an admin, a read-only and a sync API key. */
export async function startTestApi(): Promise<TestApi> {
  const logger = pino({ level: 'silent' });
  const database = await createTestDatabase(ADMIN_URL);
  const redis = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger });
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const producer = createProducer({ connection: redis, prefix });
  const deps: AppDeps = {
    config: { REQUEST_TIMEOUT_MS: 10_000, TRUST_PROXY: false, QUEUE_BACKLOG_MAX: 10_000 },
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
    eventBell: new EventBell(),
  };
  const app = checkContract(await buildApp(deps));
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
