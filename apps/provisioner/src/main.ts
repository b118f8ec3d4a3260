// The provisioner process: consume `eks-provision` jobs (grant and revoke requests) with the shared
// Redis rate limiter and per-principal locks, and reconcile expired time-bound grants on a timer.
import { createDb } from '@eks-access/db';
import { CredentialCache } from '@eks-access/eks-core';
import {
  JOBS,
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
} from '@eks-access/queue';
import { awsEndpoints, createJobHealthMetrics, runMain } from '@eks-access/runtime';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from './config.js';
import { reconcileExpiries } from './jobs/reconcile-expiries.js';
import { reconcileRequests } from './jobs/reconcile-requests.js';
import { runProvisioningRequest, type ProvisionJobDeps } from './jobs/run-request.js';

runMain(
  'eks-access-provisioner',
  async () => {
    const config = loadConfig();
    const logger = pino({
      level: config.LOG_LEVEL,
      base: { service: 'provisioner', worker: config.WORKER_ID },
    });
    const database = createDb({
      url: config.DATABASE_URL,
      encryptionKey: config.ENCRYPTION_KEY,
      maxConnections: config.PROVISION_CONCURRENCY * 2 + 2,
      applicationName: 'eks-access-provisioner',
      onPoolError: (err) => logger.warn({ err }, 'postgres connection dropped'),
    });
    const connection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'worker',
      logger,
      name: `provisioner-${config.WORKER_ID}`,
    });
    const producerConnection = await createRedisConnection({
      url: config.REDIS_URL,
      role: 'producer',
      logger,
      name: `provisioner-producer-${config.WORKER_ID}`,
    });
    const endpoints = awsEndpoints(config);
    const limiter = createRedisRateLimiter({ connection, logger, prefix: config.QUEUE_PREFIX });
    const producer = createProducer({ connection: producerConnection, prefix: config.QUEUE_PREFIX, logger });
    const jobHealth = createJobHealthMetrics(new Registry());
    const locks = createLockManager({ connection, prefix: config.QUEUE_PREFIX });
    const deps: ProvisionJobDeps = {
      database,
      producer,
      limiter,
      locks,
      credentialCache: new CredentialCache(),
      endpoints,
      workerId: config.WORKER_ID,
      lockMs: config.JOB_LOCK_MS,
    };
    const consumer = createConsumer({
      connection,
      queue: 'eks-provision',
      prefix: config.QUEUE_PREFIX,
      concurrency: config.PROVISION_CONCURRENCY,
      logger,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      lockDurationMs: config.JOB_LOCK_MS,
      stalledIntervalMs: config.STALLED_CHECK_MS,
      events: jobHealth.events,
      handlers: {
        'access.grant': (payload, ctx) => runProvisioningRequest(deps, payload.requestId, ctx),
        'access.revoke': (payload, ctx) => runProvisioningRequest(deps, payload.requestId, ctx),
      },
    });
    await consumer.ready();
    const reconcile = setInterval(() => {
      reconcileExpiries({ database, producer, locks, workerId: config.WORKER_ID }).then(
        (n) => n > 0 && logger.info({ queued: n }, 'expired grants queued for revoke'),
        (err: unknown) => logger.warn({ err }, 'expiry reconciliation failed; will retry'),
      );
      reconcileRequests({
        database,
        producer,
        locks,
        workerId: config.WORKER_ID,
        staleAfterMs: config.JOB_LOCK_MS * 4,
        lockMs: config.JOB_LOCK_MS,
        maxStarts: JOBS['access.grant'].attempts * 2,
      }).then(
        (r) => {
          jobHealth.onJanitor('provisioning_request', 'requeued', r.requeued);
          jobHealth.onJanitor('provisioning_request', 'failed', r.failed);
          if (r.requeued > 0 || r.failed > 0)
            logger.warn(r, 'provisioning requests whose job was lost were fixed');
        },
        (err: unknown) => logger.warn({ err }, 'provisioning request reconciliation failed; will retry'),
      );
    }, config.RECONCILE_EVERY_MS);
    logger.info({ concurrency: config.PROVISION_CONCURRENCY }, 'provisioner ready');

    return async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      clearInterval(reconcile);
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
