// Health (the process is up), readiness (Postgres and Redis answer, within a bound) and Prometheus
// metrics. All public: orchestrators and scrapers call them without API keys.
import { getSyncRunStats } from '@eks-access/db';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { SYNC_STATS_WINDOW_MS, setSyncStats } from '../../metrics.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { healthOut, readinessOut } from './schemas.js';

const healthz = route({
  operationId: 'getHealth',
  summary: 'Check the process is up',
  description: 'For liveness probes: answers as long as the process runs, whatever its dependencies.',
  tag: 'operations',
  scope: 'public',
  method: 'GET',
  responses: { 200: { description: 'Up.', schema: healthOut, example: examples.health } },
});

const readyz = route({
  operationId: 'getReadiness',
  summary: 'Check Postgres and Redis answer',
  description:
    'For readiness probes and load balancers: 200 when Postgres and Redis both answer within 2 seconds, 503 otherwise.',
  tag: 'operations',
  scope: 'public',
  method: 'GET',
  responses: {
    200: { description: 'Ready.', schema: readinessOut, example: examples.readiness },
    // Not ready is a readiness answer (which check failed), not the error envelope.
    503: {
      description: 'Not ready: a dependency did not answer; `checks` says which.',
      schema: readinessOut,
      example: examples.notReady,
    },
  },
});

const metrics = route({
  operationId: 'getMetrics',
  summary: 'Read Prometheus metrics',
  description:
    'HTTP requests and durations, queue depths, and sync run statistics, in the Prometheus text format. Answers even when Redis or Postgres does not (a gauge keeps its last value).',
  tag: 'operations',
  scope: 'public',
  method: 'GET',
  responses: {
    200: {
      description: 'The metrics.',
      schema: z.string(),
      contentType: 'text/plain',
      example: examples.metrics,
    },
  },
});

/** How long a scrape waits for Redis or Postgres before answering with the last values. */
const SCRAPE_TIMEOUT_MS = 2000;

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
      ),
    ]);
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
  app.get('/healthz', healthz, async () => ({ status: 'ok' as const }));

  app.get('/readyz', readyz, async (_req, reply) => {
    const [postgres, redis] = await Promise.all([
      check(() => deps.database.db.execute(sql`select 1`)),
      check(() => deps.redis.ping()),
    ]);
    const ready = postgres.ok && redis.ok;
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? ('ready' as const) : ('not ready' as const), checks: { postgres, redis } });
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
    syncStatsInFlight ??= getSyncRunStats(deps.database, {
      windowMs: SYNC_STATS_WINDOW_MS,
      timeoutMs: SCRAPE_TIMEOUT_MS,
    })
      .then((stats) => setSyncStats(deps.metrics, stats))
      .finally(() => {
        syncStatsInFlight = undefined;
      });
    await within(SCRAPE_TIMEOUT_MS, syncStatsInFlight);
  };

  app.get('/metrics', metrics, async (req, reply) => {
    // Metrics must answer even when Redis or Postgres does not: a gauge that could not be read
    // keeps its last value.
    const failed = (await Promise.allSettled([refreshQueueGauges(), refreshSyncGauges()])).filter(
      (r) => r.status === 'rejected',
    );
    if (failed.length > 0)
      req.log.debug({ errors: failed.map((r) => String(r.reason)) }, 'metrics scrape used last values');
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
