// The document without a running API: the app is built with dependencies that refuse to be used
// (building it registers routes and calls none of them), so CI can lint the document and clients
// can be generated from it with no Postgres or Redis.
import { pino } from 'pino';
import { buildApp } from '../app.js';
import type { AppDeps } from '../deps.js';
import { EventBell } from '../event-bell.js';
import { createApiMetrics } from '../metrics.js';
import type { OpenApiDocument } from './document.js';

function unusable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      throw new Error(`${name}.${String(property)} is not available while building the OpenAPI document`);
    },
  });
}

/** The OpenAPI document GET /openapi.json serves, built offline. */
export async function buildOpenApiDocument(): Promise<OpenApiDocument> {
  const deps: AppDeps = {
    config: { REQUEST_TIMEOUT_MS: 30_000, TRUST_PROXY: false },
    logger: pino({ level: 'silent' }),
    database: unusable('database'),
    producer: unusable('producer'),
    redis: unusable('redis'),
    metrics: createApiMetrics(),
    verifyKey: async () => undefined,
    eventBell: new EventBell(),
  };
  const app = await buildApp(deps);
  try {
    await app.ready();
    return structuredClone(app.swagger()) as unknown as OpenApiDocument;
  } finally {
    await app.close();
  }
}
