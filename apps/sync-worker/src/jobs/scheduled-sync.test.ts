// Scheduled syncs end to end: a BullMQ job scheduler on a real Redis ticks, the worker records a
// `schedule` run in a real Postgres and syncs the simulator's demo world through the real clients;
// a tick that finds a run already pending leaves it alone.
import { randomBytes } from 'node:crypto';
import { createCluster, enqueueSyncRun, getCluster, listSyncRuns, type SyncRun } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { CredentialCache } from '@eks-access/eks-core';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import {
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
  type Consumer,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledSyncJob, type ScheduledSyncResult } from './scheduled-sync.js';
import { syncClusterJob, type SyncJobDeps } from './sync-cluster.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const EVERY_MINUTE = { everyMs: 60_000 };

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let consumer: Consumer;
let prefix: string;
/** What each schedule tick's handler returned, by cluster. */
const ticks = new Map<string, ScheduledSyncResult[]>();

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 4 });
  redis = await createRedisConnection({ url: REDIS_URL, role: 'worker', logger });
  prefix = `stest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({ connection: redis, prefix });
  const deps: SyncJobDeps = {
    database,
    producer,
    limiter: createRedisRateLimiter({ connection: redis, prefix: `${prefix}:rl` }),
    locks: createLockManager({ connection: redis, prefix: `${prefix}:lock` }),
    credentialCache: new CredentialCache(),
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    workerId: 'w-sched',
    retention: 3,
    accessEntryConcurrency: 5,
    clusterLockMs: 5_000,
  };
  consumer = createConsumer({
    connection: redis,
    queue: 'eks-sync',
    prefix,
    concurrency: 2,
    logger,
    shutdownTimeoutMs: 100,
    handlers: {
      'cluster.sync': (payload, ctx) => syncClusterJob(deps, payload, ctx),
      'cluster.doctor': async () => undefined,
      'cluster.scheduled-sync': async (payload) => {
        const result = await scheduledSyncJob(deps, payload);
        ticks.set(payload.clusterId, [...(ticks.get(payload.clusterId) ?? []), result]);
        return result;
      },
    },
  });
});
afterAll(async () => {
  await consumer.close({ timeoutMs: 100 });
  await producer.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
  await sim.close();
});

async function register(name: string, region: string): Promise<string> {
  const cluster = await createCluster(database, {
    name,
    region,
    hostingMode: 'self-hosted',
    roleArn: DEMO.connector.roleArn,
    credentials: {
      static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    },
  });
  return cluster.id;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const runsOf = async (clusterId: string): Promise<SyncRun[]> =>
  (await listSyncRuns(database, clusterId)).items;

describe('scheduled syncs', () => {
  it('a cluster given a schedule is synced, when its tick comes, by a run triggered by the schedule', async () => {
    const clusterId = await register('staging-us', 'us-east-1');
    await producer.upsertSchedule(clusterId, EVERY_MINUTE);
    // The first tick falls at the cluster's place in the minute; bring it forward instead of waiting.
    expect(await producer.promoteSchedule(clusterId)).toBe(true);
    try {
      const run = await waitFor('the scheduled run to finish', async () =>
        (await runsOf(clusterId)).find((r) => r.status !== 'queued' && r.status !== 'running'),
      );
      expect(run).toMatchObject({ trigger: 'schedule', status: 'succeeded', worker: 'w-sched', attempt: 1 });
      expect(run.totalApiCalls).toBeGreaterThan(5);
      expect(await runsOf(clusterId)).toHaveLength(1);
      expect((await getCluster(database, clusterId)).currentSyncRunId).toBe(run.id);
      expect(ticks.get(clusterId)).toEqual([{ syncRunId: run.id, status: 'queued', created: true }]);
    } finally {
      await producer.removeSchedule(clusterId);
    }
  });

  it('a tick while a run is queued creates no second run, and re-queues the job of one that was lost', async () => {
    const clusterId = await register('prod-eu', 'eu-west-1');
    // Recorded but never put on the queue (as if the enqueue had been lost).
    const { run: pending } = await enqueueSyncRun(database, clusterId, 'api');
    await producer.upsertSchedule(clusterId, EVERY_MINUTE);
    await producer.promoteSchedule(clusterId);
    try {
      const [tick] = await waitFor('the schedule tick', async () => ticks.get(clusterId));
      expect(tick).toEqual({ syncRunId: pending.id, status: 'queued', created: false });
      const done = await waitFor('the repaired run to finish', async () =>
        (await runsOf(clusterId)).find((r) => r.status === 'succeeded'),
      );
      expect(done).toMatchObject({ id: pending.id, trigger: 'api' });
      expect(await runsOf(clusterId)).toHaveLength(1);
    } finally {
      await producer.removeSchedule(clusterId);
    }
  });
});
