// The sync worker process: consume `eks-sync` jobs with a shared Redis rate limiter and per-cluster
// locks; any number of these processes can run against one Redis and Postgres. SIGTERM stops
// taking jobs, lets running syncs finish for SHUTDOWN_TIMEOUT_MS, then hands the rest back.
import { createDb } from '@eks-access/db';
import { CredentialCache } from '@eks-access/eks-core';
import {
  JOBS,
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
  settingsForCeilings,
} from '@eks-access/queue';
import { awsEndpoints, createJobHealthMetrics, runMain } from '@eks-access/runtime';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from './config.js';
import { doctorClusterJob } from './jobs/doctor-cluster.js';
import { reconcileRuns } from './jobs/reconcile-runs.js';
import { scheduledSyncJob } from './jobs/scheduled-sync.js';
import { syncClusterJob, type SyncJobDeps } from './jobs/sync-cluster.js';

runMain(
  'eks-access-sync-worker',
  async () => {
    const config = loadConfig();
    const logger = pino({
      level: config.LOG_LEVEL,
      base: { service: 'sync-worker', worker: config.WORKER_ID },
    });
    const database = createDb({
      url: config.DATABASE_URL,
      encryptionKey: config.ENCRYPTION_KEY,
      maxConnections: config.SYNC_CONCURRENCY * 2 + 2,
      applicationName: 'eks-access-sync-worker',
      onPoolError: (err) => logger.warn({ err }, 'postgres connection dropped'),
    });
    const connection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'worker',
      logger,
      name: `sync-worker-${config.WORKER_ID}`,
    });
    const endpoints = awsEndpoints(config);
    const limiter = createRedisRateLimiter({
      connection,
      logger,
      prefix: config.QUEUE_PREFIX,
      settingsFor: settingsForCeilings({
        aws: config.AWS_MAX_CALLS_PER_SECOND,
        kube: config.KUBE_MAX_CALLS_PER_SECOND,
      }),
    });
    const producerConnection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'producer',
      logger,
      name: `sync-worker-producer-${config.WORKER_ID}`,
    });
    const producer = createProducer({ connection: producerConnection, prefix: config.QUEUE_PREFIX, logger });
    const jobHealth = createJobHealthMetrics(new Registry());
    const deps: SyncJobDeps = {
      database,
      producer,
      limiter,
      locks: createLockManager({ connection, prefix: config.QUEUE_PREFIX }),
      credentialCache: new CredentialCache(),
      endpoints,
      workerId: config.WORKER_ID,
      retention: config.SNAPSHOT_RETENTION,
      accessEntryConcurrency: config.ACCESS_ENTRY_CONCURRENCY,
      clusterLockMs: config.JOB_LOCK_MS,
    };
    const consumer = createConsumer({
      connection,
      queue: 'eks-sync',
      concurrency: config.SYNC_CONCURRENCY,
      logger,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      lockDurationMs: config.JOB_LOCK_MS,
      stalledIntervalMs: config.STALLED_CHECK_MS,
      prefix: config.QUEUE_PREFIX,
      events: jobHealth.events,
      handlers: {
        'cluster.sync': (payload, ctx) => syncClusterJob(deps, payload, ctx),
        'cluster.scheduled-sync': (payload) => scheduledSyncJob(deps, payload),
        'cluster.doctor': (payload, ctx) =>
          doctorClusterJob({ database, endpoints, workerId: config.WORKER_ID }, payload, ctx),
      },
    });
    await consumer.ready();
    const janitor = setInterval(() => {
      reconcileRuns({
        database,
        producer,
        locks: deps.locks,
        staleAfterMs: config.JOB_LOCK_MS * 4,
        lockMs: config.JOB_LOCK_MS,
        maxStarts: JOBS['cluster.sync'].attempts * 2,
      }).then(
        (r) => {
          jobHealth.onJanitor('sync_run', 'requeued', r.requeued);
          jobHealth.onJanitor('sync_run', 'failed', r.failed);
          if (r.failed > 0 || r.requeued > 0) logger.warn(r, 'sync runs whose job was lost were fixed');
        },
        (err: unknown) => logger.warn({ err }, 'sync run reconciliation failed; will retry'),
      );
    }, config.RECONCILE_EVERY_MS);
    logger.info({ concurrency: config.SYNC_CONCURRENCY }, 'sync worker ready');

    return async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      clearInterval(janitor);
      await consumer.close();
      await limiter.close();
      await producer.close();
      connection.disconnect();
      producerConnection.disconnect();
      await database.close();
      logger.info('stopped');
    };
  },
  process,
);
