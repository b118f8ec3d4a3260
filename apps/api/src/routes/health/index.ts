// Health (the process is up), readiness (Postgres and Redis answer, within a bound) and Prometheus
// metrics. All public: orchestrators and scrapers call them without API keys.
import { getSyncRunStats } from '@eks-access/db';
import { sql } from 'drizzle-orm';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { SYNC_STATS_WINDOW_MS, setSyncStats } from '../../metrics.js';

/** How long a scrape waits for Redis or Postgres before answering with the last values. */
const SCRAPE_TIMEOUT_MS = 2000;

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

  const refreshQueueGauges = async () => {
    const counts = await within(SCRAPE_TIMEOUT_MS, deps.producer.queueCounts());
    for (const [queue, states] of Object.entries(counts)) {
      for (const [state, n] of Object.entries(states)) deps.metrics.queueJobs.set({ queue, state }, n);
    }
  };

  // One stats query at a time: scrapes that arrive while Postgres is still answering the last one
  // wait for it rather than each taking another pooled connection from the API's requests.
  let syncStatsInFlight: Promise<void> | undefined;
  const refreshSyncGauges = async () => {
    syncStatsInFlight ??= getSyncRunStats(deps.database, { windowMs: SYNC_STATS_WINDOW_MS, timeoutMs: SCRAPE_TIMEOUT_MS })
      .then((stats) => setSyncStats(deps.metrics, stats))
      .finally(() => {
        syncStatsInFlight = undefined;
      });
    await within(SCRAPE_TIMEOUT_MS, syncStatsInFlight);
  };

  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    // Metrics must answer even when Redis or Postgres does not: a gauge that could not be read
    // keeps its last value.
    const failed = (await Promise.allSettled([refreshQueueGauges(), refreshSyncGauges()])).filter((r) => r.status === 'rejected');
    if (failed.length > 0) req.log.debug({ errors: failed.map((r) => String(r.reason)) }, 'metrics scrape used last values');
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
