// The uploader process: runs C1 service mode for the clusters that have C1 credentials (one loop
// per cluster across all uploader processes) and consumes `c1-upload` jobs. Any number of these
// processes can run against one Redis and Postgres. SIGTERM stops the loops (running tasks are
// reported to C1 as retryable), lets running uploads finish for SHUTDOWN_TIMEOUT_MS, then hands
// the rest back.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHelloInfo } from '@eks-access/c1';
import { createDb } from '@eks-access/db';
import {
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
} from '@eks-access/queue';
import { createJobHealthMetrics, runMain } from '@eks-access/runtime';
import { pino } from 'pino';
import { c1EndpointOf, tenantRateSettings } from './c1.js';
import { Registry } from 'prom-client';

import { loadConfig } from './config.js';
import { reconcileUploads } from './jobs/reconcile-uploads.js';
import { uploadSnapshotJob, type UploadJobDeps } from './jobs/upload-snapshot.js';
import { createClusterLoops } from './service/cluster-loops.js';

const VERSION = '0.1.0';

runMain(
  'eks-access-uploader',
  async () => {
    const config = loadConfig();
    const logger = pino({ level: config.LOG_LEVEL, base: { service: 'uploader', worker: config.WORKER_ID } });
    const database = createDb({
      url: config.DATABASE_URL,
      encryptionKey: config.ENCRYPTION_KEY,
      maxConnections: config.UPLOAD_CONCURRENCY * 2 + 4,
      applicationName: 'eks-access-uploader',
      onPoolError: (err) => logger.warn({ err }, 'postgres connection dropped'),
    });
    const workerConnection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'worker',
      logger,
      name: `uploader-${config.WORKER_ID}`,
    });
    const connection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'producer',
      logger,
      name: `uploader-producer-${config.WORKER_ID}`,
    });
    // The queue's retries must outlast the upload's budget in Postgres, or a pending upload would
    // be left without a job.
    const producer = createProducer({
      connection,
      prefix: config.QUEUE_PREFIX,
      logger,
      policies: {
        'upload.snapshot': {
          attempts: config.UPLOAD_MAX_ATTEMPTS,
          backoff: { type: 'exponential', delayMs: config.UPLOAD_BACKOFF_MS, jitter: 0.5 },
        },
      },
    });
    const limiter = createRedisRateLimiter({
      connection,
      logger,
      prefix: config.QUEUE_PREFIX,
      settingsFor: () => tenantRateSettings(config.C1_TENANT_RATE_PER_SECOND),
    });
    const c1 = c1EndpointOf(config);
    const workDir = config.WORK_DIR ?? join(tmpdir(), 'eks-access-uploader');
    await mkdir(workDir, { recursive: true });
    const uploadDeps: UploadJobDeps = {
      database,
      limiter,
      c1,
      workerId: config.WORKER_ID,
      backoff: { baseMs: config.UPLOAD_BACKOFF_MS, maxMs: config.UPLOAD_MAX_BACKOFF_MS },
      workDir,
    };
    const jobHealth = createJobHealthMetrics(new Registry());
    const consumer = createConsumer({
      connection: workerConnection,
      queue: 'c1-upload',
      concurrency: config.UPLOAD_CONCURRENCY,
      logger,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      lockDurationMs: config.JOB_LOCK_MS,
      stalledIntervalMs: config.STALLED_CHECK_MS,
      prefix: config.QUEUE_PREFIX,
      events: jobHealth.events,
      handlers: { 'upload.snapshot': (payload, ctx) => uploadSnapshotJob(uploadDeps, payload, ctx) },
    });
    await consumer.ready();
    const locks = createLockManager({ connection, prefix: config.QUEUE_PREFIX });
    const janitor = setInterval(() => {
      reconcileUploads({
        database,
        producer,
        locks,
        staleAfterMs: config.JOB_LOCK_MS * 4,
        lockMs: config.JOB_LOCK_MS,
      }).then(
        (r) => {
          jobHealth.onJanitor('upload', 'requeued', r.requeued);
          if (r.requeued > 0) logger.warn(r, 'uploads whose job was lost were queued again');
        },
        (err: unknown) => logger.warn({ err }, 'upload reconciliation failed; will retry'),
      );
    }, config.RECONCILE_EVERY_MS);
    const loops = createClusterLoops({
      database,
      producer,
      locks,
      logger,
      c1,
      helloInfo: defaultHelloInfo({
        packageName: '@eks-access/uploader',
        packageVersion: VERSION,
        displayName: 'Amazon EKS (eks-access-connector)',
        description: 'Who can get into which EKS cluster with which permissions',
      }),
      lockMs: config.LOOP_LOCK_MS,
      scanMs: config.CLUSTER_SCAN_MS,
      pollMs: config.TASK_POLL_MS,
      uploadMaxAttempts: config.UPLOAD_MAX_ATTEMPTS,
    });
    loops.start();
    logger.info(
      { concurrency: config.UPLOAD_CONCURRENCY, c1ApiHost: config.C1_API_HOST ?? 'from each client id' },
      'uploader ready',
    );

    return async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      clearInterval(janitor);
      await loops.stop();
      await consumer.close();
      await limiter.close();
      await producer.close();
      workerConnection.disconnect();
      connection.disconnect();
      await database.close();
      logger.info('stopped');
    };
  },
  process,
);
