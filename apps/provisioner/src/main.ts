// The provisioner process: consume `eks-provision` jobs (grant and revoke requests) with the shared
// Redis rate limiter and per-principal locks, and reconcile expired time-bound grants on a timer.
// /healthz, /readyz and /metrics on HEALTH_PORT (9465).
import { CredentialCache } from '@eks-access/eks-core';
import { JOBS } from '@eks-access/queue';
import { awsEndpoints, runMain } from '@eks-access/runtime';
import { startWorkerProcess } from '@eks-access/worker-kit';
import { loadConfig } from './config.js';
import { reconcileExpiries } from './jobs/reconcile-expiries.js';
import { reconcileRequests } from './jobs/reconcile-requests.js';
import { runProvisioningRequest, type ProvisionJobDeps } from './jobs/run-request.js';

runMain(
  'eks-access-provisioner',
  async () => {
    const config = loadConfig();
    const worker = await startWorkerProcess({
      service: 'provisioner',
      config,
      queue: 'eks-provision',
      concurrency: config.PROVISION_CONCURRENCY,
      maxConnections: config.PROVISION_CONCURRENCY * 2 + 2,
    });
    const { database, producer, locks, logger, jobHealth } = worker;
    const deps: ProvisionJobDeps = {
      database,
      producer,
      limiter: worker.limiter,
      locks,
      credentialCache: new CredentialCache(),
      endpoints: awsEndpoints(config),
      workerId: config.WORKER_ID,
      lockMs: config.JOB_LOCK_MS,
    };
    await worker.consume({
      'access.grant': (payload, ctx) => runProvisioningRequest(deps, payload.requestId, ctx),
      'access.revoke': (payload, ctx) => runProvisioningRequest(deps, payload.requestId, ctx),
    });
    worker.every('expiry reconciliation', config.RECONCILE_EVERY_MS, async () => {
      const n = await reconcileExpiries({ database, producer, locks, workerId: config.WORKER_ID });
      if (n > 0) logger.info({ queued: n }, 'expired grants queued for revoke');
    });
    worker.every('provisioning request reconciliation', config.RECONCILE_EVERY_MS, async () => {
      const r = await reconcileRequests({
        database,
        producer,
        locks,
        workerId: config.WORKER_ID,
        staleAfterMs: config.JOB_LOCK_MS * 4,
        lockMs: config.JOB_LOCK_MS,
        maxStarts: JOBS['access.grant'].attempts * 2,
      });
      jobHealth.onJanitor('provisioning_request', 'requeued', r.requeued);
      jobHealth.onJanitor('provisioning_request', 'failed', r.failed);
      if (r.requeued > 0 || r.failed > 0)
        logger.warn(r, 'provisioning requests whose job was lost were fixed');
    });
    logger.info(
      { concurrency: config.PROVISION_CONCURRENCY, health: worker.health.url },
      'provisioner ready',
    );
    return worker.stop;
  },
  process,
);
