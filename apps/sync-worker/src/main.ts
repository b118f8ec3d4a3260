// The sync worker process: consume `eks-sync` jobs with a shared Redis rate limiter and per-cluster
// locks; any number of these processes can run against one Redis and Postgres. SIGTERM stops
// taking jobs, lets running syncs finish for SHUTDOWN_TIMEOUT_MS, then hands the rest back. Syncs of
// one AWS account are capped across workers (SYNC_MAX_PER_ACCOUNT), and the process stops taking
// jobs while Postgres or Redis is slow (BACKPRESSURE_*).
// /healthz, /readyz and /metrics on HEALTH_PORT (9464).
import { Counter } from 'prom-client';
import { CredentialCache } from '@eks-access/eks-core';
import { JOBS, createSemaphore, settingsForCeilings } from '@eks-access/queue';
import { awsEndpoints, runMain } from '@eks-access/runtime';
import { startWorkerProcess } from '@eks-access/worker-kit';
import { loadConfig } from './config.js';
import { doctorClusterJob } from './jobs/doctor-cluster.js';
import { reconcileRuns } from './jobs/reconcile-runs.js';
import { scheduledSyncJob } from './jobs/scheduled-sync.js';
import { syncClusterJob, type SyncJobDeps } from './jobs/sync-cluster.js';

runMain(
  'eks-access-sync-worker',
  async () => {
    const config = loadConfig();
    const worker = await startWorkerProcess({
      service: 'sync-worker',
      config,
      queue: 'eks-sync',
      concurrency: config.SYNC_CONCURRENCY,
      maxConnections: config.SYNC_CONCURRENCY * 2 + 2,
      backpressure: {
        maxPgWaiting: config.BACKPRESSURE_PG_WAITING_MAX,
        maxRedisLatencyMs: config.BACKPRESSURE_REDIS_LATENCY_MS,
        checkEveryMs: config.BACKPRESSURE_CHECK_MS,
      },
      rateSettings: settingsForCeilings({
        aws: config.AWS_MAX_CALLS_PER_SECOND,
        kube: config.KUBE_MAX_CALLS_PER_SECOND,
      }),
    });
    const { database, producer, locks, logger, jobHealth } = worker;
    const drift = new Counter({
      name: 'eks_access_sync_drift_total',
      help: "Grants and resources a full sync found different from the watcher's incremental snapshot it replaced",
      labelNames: ['table'],
      registers: [worker.registry],
    });
    const deps: SyncJobDeps = {
      database,
      producer,
      limiter: worker.limiter,
      locks,
      credentialCache: new CredentialCache(),
      endpoints: awsEndpoints(config),
      workerId: config.WORKER_ID,
      retention: config.SNAPSHOT_RETENTION,
      accessEntryConcurrency: config.ACCESS_ENTRY_CONCURRENCY,
      clusterLockMs: config.JOB_LOCK_MS,
      accountSlots: {
        semaphore: createSemaphore({ connection: worker.redis, prefix: config.QUEUE_PREFIX }),
        maxPerAccount: config.SYNC_MAX_PER_ACCOUNT,
        // A dead worker's slot frees about when its job's lock does and another worker takes the job.
        leaseMs: config.JOB_LOCK_MS,
        deferMs: config.SYNC_DEFER_MS,
      },
      onChanges: (changes) => {
        if (!changes.drift) return;
        drift.inc({ table: 'grants' }, changes.grantsAdded + changes.grantsRemoved);
        drift.inc({ table: 'resources' }, changes.resourcesChanged);
      },
    };
    await worker.consume({
      'cluster.sync': (payload, ctx) => syncClusterJob(deps, payload, ctx),
      'cluster.scheduled-sync': (payload) => scheduledSyncJob(deps, payload),
      'cluster.doctor': (payload, ctx) =>
        doctorClusterJob({ database, endpoints: deps.endpoints, workerId: config.WORKER_ID }, payload, ctx),
    });
    worker.every('sync run reconciliation', config.RECONCILE_EVERY_MS, async () => {
      const r = await reconcileRuns({
        database,
        producer,
        locks,
        staleAfterMs: config.JOB_LOCK_MS * 4,
        lockMs: config.JOB_LOCK_MS,
        maxStarts: JOBS['cluster.sync'].attempts * 2,
      });
      jobHealth.onJanitor('sync_run', 'requeued', r.requeued);
      jobHealth.onJanitor('sync_run', 'failed', r.failed);
      if (r.failed > 0 || r.requeued > 0) logger.warn(r, 'sync runs whose job was lost were fixed');
    });
    logger.info({ concurrency: config.SYNC_CONCURRENCY, health: worker.health.url }, 'sync worker ready');
    return worker.stop;
  },
  process,
);
