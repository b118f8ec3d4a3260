// Health (the process is up), readiness (Postgres and Redis answer, within a bound) and Prometheus
// metrics. All public: orchestrators and scrapers call them without API keys.
import { sql } from 'drizzle-orm';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await within(2000, fn());
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** /healthz, /readyz and /metrics. */
export function registerHealthRoutes(app: App, deps: AppDeps): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const [postgres, redis] = await Promise.all([check(() => deps.database.db.execute(sql`select 1`)), check(() => deps.redis.ping())]);
    const ready = postgres.ok && redis.ok;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: { postgres, redis } });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    try {
      const counts = await within(2000, deps.producer.queueCounts());
      for (const [queue, states] of Object.entries(counts)) {
        for (const [state, n] of Object.entries(states)) deps.metrics.queueJobs.set({ queue, state }, n);
      }
    } catch {
      // Metrics must answer even when Redis does not; the queue gauges keep their last values.
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
