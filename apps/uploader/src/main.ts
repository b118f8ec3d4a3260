// The uploader process: runs C1 service mode for the clusters that have C1 credentials (one loop
// per cluster across all uploader processes) and consumes `c1-upload` jobs. Any number of these
// processes can run against one Redis and Postgres. SIGTERM stops the loops (running tasks are
// reported to C1 as retryable), lets running uploads finish for SHUTDOWN_TIMEOUT_MS, then hands
// the rest back. /healthz, /readyz and /metrics on HEALTH_PORT (9466).
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHelloInfo } from '@eks-access/c1';
import { runMain } from '@eks-access/runtime';
import { startWorkerProcess } from '@eks-access/worker-kit';
import { c1EndpointOf, tenantRateSettings } from './c1.js';
import { loadConfig } from './config.js';
import { reconcileUploads } from './jobs/reconcile-uploads.js';
import { uploadSnapshotJob, type UploadJobDeps } from './jobs/upload-snapshot.js';
import { createClusterLoops } from './service/cluster-loops.js';

const VERSION = '0.1.0';

runMain(
  'eks-access-uploader',
  async () => {
    const config = loadConfig();
    const worker = await startWorkerProcess({
      service: 'uploader',
      config,
      queue: 'c1-upload',
      concurrency: config.UPLOAD_CONCURRENCY,
      maxConnections: config.UPLOAD_CONCURRENCY * 2 + 4,
      rateSettings: () => tenantRateSettings(config.C1_TENANT_RATE_PER_SECOND),
      // The queue's retries must outlast the upload's budget in Postgres, or a pending upload would
      // be left without a job.
      producerPolicies: {
        'upload.snapshot': {
          attempts: config.UPLOAD_MAX_ATTEMPTS,
          backoff: { type: 'exponential', delayMs: config.UPLOAD_BACKOFF_MS, jitter: 0.5 },
        },
      },
    });
    const { database, producer, locks, logger, jobHealth } = worker;
    const c1 = c1EndpointOf(config);
    const workDir = config.WORK_DIR ?? join(tmpdir(), 'eks-access-uploader');
    await mkdir(workDir, { recursive: true });
    const uploadDeps: UploadJobDeps = {
      database,
      limiter: worker.limiter,
      c1,
      workerId: config.WORKER_ID,
      backoff: { baseMs: config.UPLOAD_BACKOFF_MS, maxMs: config.UPLOAD_MAX_BACKOFF_MS },
      workDir,
    };
    await worker.consume({
      'upload.snapshot': (payload, ctx) => uploadSnapshotJob(uploadDeps, payload, ctx),
    });
    worker.every('upload reconciliation', config.RECONCILE_EVERY_MS, async () => {
      const r = await reconcileUploads({
        database,
        producer,
        locks,
        staleAfterMs: config.JOB_LOCK_MS * 4,
        lockMs: config.JOB_LOCK_MS,
      });
      jobHealth.onJanitor('upload', 'requeued', r.requeued);
      if (r.requeued > 0) logger.warn(r, 'uploads whose job was lost were queued again');
    });
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
    worker.onStop(() => loops.stop());
    loops.start();
    logger.info(
      {
        concurrency: config.UPLOAD_CONCURRENCY,
        c1ApiHost: config.C1_API_HOST ?? 'from each client id',
        health: worker.health.url,
      },
      'uploader ready',
    );
    return worker.stop;
  },
  process,
);
