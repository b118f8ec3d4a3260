// Prometheus metrics of the API process: HTTP request counts and durations, plus gauges read on
// scrape: queue depths from Redis, and sync figures of the last day from Postgres. Workers export
// per-job figures from their own processes; the sync gauges here answer for the whole fleet,
// whichever worker ran the sync.
import type { SyncRunStats } from '@eks-access/db';
import { Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  queueJobs: Gauge<'queue' | 'state'>;
  syncRuns: Gauge<'status'>;
  syncDuration: Gauge<'cluster' | 'region' | 'account'>;
  syncApiCalls: Gauge<'operation'>;
  syncThrottledCalls: Gauge<'operation'>;
}

/** How far back the sync gauges look. */
export const SYNC_STATS_WINDOW_MS = 24 * 3600_000;

/** Creates a fresh registry (one per app, so tests never share global state). */
export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'eks_access_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'eks_access_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'eks_access_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    syncRuns: new Gauge({
      name: 'eks_access_sync_runs',
      help: 'Sync runs per status: queued or running now, or finished in the last 24 h',
      labelNames: ['status'],
      registers: [registry],
    }),
    syncDuration: new Gauge({
      name: 'eks_access_sync_duration_seconds',
      help: 'Duration of the last sync of each cluster that finished in the last 24 h, by cluster name, region and AWS account (one series per registered cluster)',
      labelNames: ['cluster', 'region', 'account'],
      registers: [registry],
    }),
    syncApiCalls: new Gauge({
      name: 'eks_access_sync_api_calls',
      help: 'AWS and Kubernetes API calls of syncs finished in the last 24 h, per operation',
      labelNames: ['operation'],
      registers: [registry],
    }),
    syncThrottledCalls: new Gauge({
      name: 'eks_access_sync_throttled_calls',
      help: 'Throttled API calls of syncs finished in the last 24 h, per operation',
      labelNames: ['operation'],
      registers: [registry],
    }),
  };
}

/** Replaces the sync gauges with `stats`; clusters and operations gone from the window drop out. */
export function setSyncStats(metrics: ApiMetrics, stats: SyncRunStats): void {
  for (const [status, n] of Object.entries(stats.runs)) metrics.syncRuns.set({ status }, n);
  metrics.syncDuration.reset();
  for (const { name, region, accountId, seconds } of stats.lastDurations)
    metrics.syncDuration.set({ cluster: name, region, account: accountId ?? '' }, seconds);
  metrics.syncApiCalls.reset();
  metrics.syncThrottledCalls.reset();
  for (const [operation, { calls, throttled }] of Object.entries(stats.apiCalls)) {
    metrics.syncApiCalls.set({ operation }, calls);
    metrics.syncThrottledCalls.set({ operation }, throttled);
  }
}
