// The sync worker end to end: clusters registered in a real Postgres, jobs on a real Redis, the
// simulator's demo world reached through the real AWS and Kubernetes clients.
import { randomBytes } from 'node:crypto';
import {
  createCluster,
  enqueueSyncRun,
  getCluster,
  getSyncRun,
  listGrants,
  type Database,
} from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { CredentialCache } from '@eks-access/eks-core';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import {
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scheduledSyncJob } from './scheduled-sync.js';
import { syncClusterJob, type SyncJobDeps } from './sync-cluster.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let prefix: string;
const consumers: { close(o?: { timeoutMs?: number }): Promise<void> }[] = [];

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
  database = await createTestDatabase(ADMIN_URL);
  redis = await createRedisConnection({ url: REDIS_URL, role: 'worker', logger });
  prefix = `wtest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({
    connection: redis,
    prefix,
    policies: { 'cluster.sync': { attempts: 3, backoff: { type: 'exponential', delayMs: 50, jitter: 0 } } },
  });
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.close({ timeoutMs: 100 })));
  sim.faults.setRules([]);
});
afterAll(async () => {
  await producer.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
  await sim.close();
});

function deps(workerId: string): SyncJobDeps {
  return {
    database,
    producer,
    limiter: createRedisRateLimiter({ connection: redis, prefix }),
    locks: createLockManager({ connection: redis, prefix }),
    credentialCache: new CredentialCache(),
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    workerId,
    retention: 3,
    accessEntryConcurrency: 5,
    clusterLockMs: 5_000,
  };
}

function startWorker(workerId: string, shutdownTimeoutMs = 100) {
  const d = deps(workerId);
  const consumer = createConsumer({
    connection: redis,
    queue: 'eks-sync',
    prefix,
    concurrency: 2,
    logger,
    shutdownTimeoutMs,
    handBackTimeoutMs: 2000,
    handlers: {
      'cluster.sync': (payload, ctx) => syncClusterJob(d, payload, ctx),
      'cluster.scheduled-sync': (payload) => scheduledSyncJob(d, payload),
      'cluster.doctor': async () => undefined,
    },
  });
  consumers.push(consumer);
  return consumer;
}

async function register(
  db: Database,
  name: string,
  region: string,
  extra: Partial<Parameters<typeof createCluster>[1]> = {},
) {
  return createCluster(db, {
    name,
    region,
    hostingMode: 'self-hosted',
    roleArn: DEMO.connector.roleArn,
    credentials: {
      static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    },
    ...extra,
  });
}

async function queueSync(clusterId: string) {
  const { run } = await enqueueSyncRun(database, clusterId, 'api');
  await producer.enqueue('cluster.sync', { clusterId, syncRunId: run.id, trigger: 'api' });
  return run.id;
}

async function waitForRun(id: string, done: (status: string) => boolean, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await getSyncRun(database, id);
    if (done(run.status)) return run;
    if (Date.now() > until) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the sync worker', () => {
  it('syncs a registered cluster and makes its snapshot current', async () => {
    const cluster = await register(database, 'staging-us', 'us-east-1');
    startWorker('w1');
    const runId = await queueSync(cluster.id);
    const run = await waitForRun(runId, (s) => s !== 'queued' && s !== 'running');
    expect(run.status).toBe('succeeded');
    expect(run.totalApiCalls).toBeGreaterThan(5);
    const after = await getCluster(database, cluster.id);
    expect(after).toMatchObject({
      currentSyncRunId: runId,
      arn: 'arn:aws:eks:us-east-1:111111111111:cluster/staging-us',
      accountId: '111111111111',
    });
    const masters = await listGrants(database, cluster.id, {
      entitlementId: 'k8s_group:system:masters:member',
    });
    expect(masters.items.map((g) => g.principal.id).sort()).toEqual([
      `arn:aws:iam::111111111111:role/BreakGlassAdmin`,
      DEMO.alice.userArn,
    ]);
  });

  it('records a cluster it cannot assume into as failed at once, and keeps the last good snapshot', async () => {
    const cluster = await register(database, 'legacy-us', 'us-east-1', {
      roleArn: DEMO.connector.legacyRoleArn,
      externalId: DEMO.connector.externalId,
    });
    startWorker('w1');
    const good = await queueSync(cluster.id);
    expect((await waitForRun(good, (s) => s !== 'queued' && s !== 'running')).status).toBe('succeeded');

    const { updateCluster } = await import('@eks-access/db');
    await updateCluster(database, cluster.id, { externalId: 'wrong-external-id' });
    const bad = await queueSync(cluster.id);
    const failed = await waitForRun(bad, (s) => s === 'failed');
    expect(failed.error).toMatchObject({ code: 'ASSUME_ROLE_DENIED' });
    expect(failed.attempt).toBe(1);
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(good);
  });

  it('a worker stopped mid-sync hands the job back; another finishes it and the old snapshot stays current until then', async () => {
    const cluster = await register(database, 'prod-eu', 'eu-west-1');
    startWorker('w1');
    const first = await queueSync(cluster.id);
    await waitForRun(first, (s) => s === 'succeeded');

    // Slow every access-entry read so the next sync is surely in flight when the worker stops.
    sim.faults.setRules([{ target: 'eks:DescribeAccessEntry', latencyMs: 400 }]);
    const slowWorker = startWorker('w-slow', 50);
    await Promise.all(consumers.slice(0, -1).map((c) => c.close({ timeoutMs: 100 })));
    consumers.splice(0, consumers.length - 1);
    const second = await queueSync(cluster.id);
    await waitForRun(second, (s) => s === 'running');
    await slowWorker.close({ timeoutMs: 50 });
    consumers.splice(consumers.indexOf(slowWorker), 1);
    expect((await getSyncRun(database, second)).status).toBe('running');
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(first);

    sim.faults.setRules([]);
    startWorker('w2');
    const done = await waitForRun(second, (s) => s === 'succeeded');
    expect(done.attempt).toBe(2);
    expect(done.worker).toBe('w2');
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(second);
  });

  it('two worker processes share the clusters between them and each cluster is synced once', async () => {
    const clusters = await Promise.all([
      register(database, 'prod-eu', 'eu-west-2'),
      register(database, 'staging-us', 'us-west-2'),
    ]);
    // Those names do not exist in those regions: both runs must fail cleanly, once each.
    startWorker('wa');
    startWorker('wb');
    const runs = await Promise.all(clusters.map((c) => queueSync(c.id)));
    const finished = await Promise.all(runs.map((id) => waitForRun(id, (s) => s === 'failed')));
    for (const run of finished) {
      expect(run.error).toMatchObject({ code: 'CLUSTER_NOT_FOUND' });
      expect(run.attempt).toBe(1);
    }
  });
});
