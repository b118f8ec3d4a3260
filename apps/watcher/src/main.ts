// The watcher process: watches the clusters it leases (Kubernetes watches, EKS polls) and applies
// each change to their current snapshots in Postgres within seconds, with change events. Any number
// of replicas share the clusters through Redis leases; SIGTERM releases them so the others take
// over at once. /healthz, /readyz and /metrics on HEALTH_PORT (9467).
import { CredentialCache } from '@eks-access/eks-core';
import { createLeaseTable, settingsForCeilings } from '@eks-access/queue';
import { awsEndpoints, runMain } from '@eks-access/runtime';
import { startWorkerProcess } from '@eks-access/worker-kit';
import { loadConfig } from './config.js';
import { createWatcherMetrics } from './metrics.js';
import { startWatcher, type Watcher } from './watcher.js';

runMain(
  'eks-access-watcher',
  async () => {
    const config = loadConfig();
    let ready = false;
    const worker = await startWorkerProcess({
      service: 'watcher',
      config,
      concurrency: 1,
      maxConnections: 8,
      ready: () => ready,
      rateSettings: settingsForCeilings({
        aws: config.AWS_MAX_CALLS_PER_SECOND,
        kube: config.KUBE_MAX_CALLS_PER_SECOND,
      }),
    });
    const { database, logger } = worker;
    const leases = createLeaseTable({
      connection: worker.redis,
      prefix: config.QUEUE_PREFIX,
      name: 'watcher',
      replicaId: config.WORKER_ID,
      leaseMs: config.WATCH_LEASE_MS,
    });
    let feeds: Watcher['feeds'] = () => new Map();
    const metrics = createWatcherMetrics(worker.registry, () => feeds());
    const watcher = startWatcher({
      database,
      leases,
      logger,
      balanceMs: Math.min(config.WATCH_BALANCE_MS, Math.floor(config.WATCH_LEASE_MS / 3)),
      maxClusters: config.WATCH_MAX_CLUSTERS,
      feedDeps: {
        database,
        limiter: worker.limiter,
        credentialCache: new CredentialCache(),
        endpoints: awsEndpoints(config),
        workerId: config.WORKER_ID,
        logger,
        settings: {
          debounceMs: config.WATCH_DEBOUNCE_MS,
          eksPollMs: config.WATCH_EKS_POLL_MS,
          describeEvery: config.WATCH_EKS_DESCRIBE_EVERY,
          iamRefreshMs: config.WATCH_IAM_REFRESH_MS,
          watchTimeoutSeconds: config.WATCH_TIMEOUT_SECONDS,
          retryMs: config.WATCH_RETRY_MS,
          retention: config.SNAPSHOT_RETENTION,
        },
        onApplied: (info) => metrics.onApplied(info),
        onRebase: () => metrics.onRebase(),
      },
    });
    feeds = () => watcher.feeds();
    worker.onStop(() => watcher.stop());
    await watcher.balance();
    ready = true;
    logger.info({ health: worker.health.url, clusters: watcher.feeds().size }, 'watcher ready');
    return worker.stop;
  },
  process,
);
