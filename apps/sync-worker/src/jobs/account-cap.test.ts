// The per-account sync cap end to end: a real Postgres, Redis and BullMQ consumer, the simulator's
// demo world. A sync whose AWS account has no free slot steps aside (its job delayed, its run still
// queued, no attempt spent) and runs as soon as a slot frees, including the slot of a worker process
// killed while it held it (once that slot's lease lapses).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createCluster, enqueueSyncRun, getSyncRun } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { CredentialCache } from '@eks-access/eks-core';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import {
  accountSlotKey,
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
  createSemaphore,
  type Consumer,
  type Producer,
  type RedisConnection,
  type Semaphore,
} from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferDelayMs, syncClusterJob, type SyncJobDeps } from './sync-cluster.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let consumer: Consumer;
let semaphore: Semaphore;
let prefix: string;

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 4 });
  redis = await createRedisConnection({ url: REDIS_URL, role: 'worker', logger });
  prefix = `atest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({ connection: redis, prefix });
  semaphore = createSemaphore({ connection: redis, prefix });
  const deps: SyncJobDeps = {
    database,
    producer,
    limiter: createRedisRateLimiter({ connection: redis, prefix }),
    locks: createLockManager({ connection: redis, prefix }),
    credentialCache: new CredentialCache(),
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    workerId: 'w-cap',
    retention: 3,
    accessEntryConcurrency: 5,
    clusterLockMs: 5_000,
    // One sync per account at a time.
    accountSlots: { semaphore, maxPerAccount: 1, leaseMs: 5_000, deferMs: 50 },
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
      'cluster.scheduled-sync': async () => undefined,
      'cluster.doctor': async () => undefined,
    },
  });
});
afterAll(async () => {
  await consumer?.close({ timeoutMs: 100 });
  await producer.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
  await sim.close();
});

// A worker process as far as the slot is concerned: it takes the slot, says so, and works forever.
const HOLD_SLOT = `
import { createRedisConnection, createSemaphore } from '@eks-access/queue';
const [url, prefix, key] = process.argv.slice(1);
const logger = { debug() {}, info() {}, warn() {}, error() {}, child() { return logger; } };
const redis = await createRedisConnection({ url, role: 'producer', logger });
await createSemaphore({ connection: redis, prefix }).withSlot(key, { limit: 1, leaseMs: 3000 }, () => {
  console.log('holding');
  return new Promise(() => {});
});
`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function register(name: string, region: string) {
  const cluster = await createCluster(database, {
    name,
    region,
    hostingMode: 'self-hosted',
    roleArn: DEMO.connector.roleArn,
    credentials: {
      static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    },
  });
  expect(cluster.accountId).toMatch(/^\d{12}$/);
  return cluster as typeof cluster & { accountId: string };
}

/** Queues a sync and waits until its job came round, found no slot and went back to the delayed set. */
async function queueSyncAndWaitUntilDeferred(clusterId: string) {
  const { run } = await enqueueSyncRun(database, clusterId, 'api');
  const payload = { clusterId, syncRunId: run.id, trigger: 'api' as const };
  await producer.enqueue('cluster.sync', payload);
  await waitFor('the job to be deferred', async () =>
    (await producer.jobState('cluster.sync', payload)) === 'delayed' ? true : undefined,
  );
  expect((await getSyncRun(database, run.id)).status).toBe('queued');
  return run;
}

async function waitForRunToFinish(id: string) {
  return waitFor('the run to finish', async () => {
    const r = await getSyncRun(database, id);
    return r.status === 'queued' || r.status === 'running' ? undefined : r;
  });
}

describe('the per-account sync cap', () => {
  it('defers a sync while its account is at the cap, leaving its run queued, and runs it once a slot frees', async () => {
    const cluster = await register('prod-eu', 'eu-west-1');

    // Another worker holds the account's only slot (a long sync of another of its clusters).
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = semaphore.withSlot(
      accountSlotKey(cluster.accountId),
      { limit: 1, leaseMs: 5_000 },
      () => released,
    );

    const run = await queueSyncAndWaitUntilDeferred(cluster.id);

    release();
    await holder;
    // Started once, on its first attempt: the deferrals spent nothing.
    expect(await waitForRunToFinish(run.id)).toMatchObject({ status: 'succeeded', attempt: 1 });
  });

  it(
    'runs the sync once the slot of a worker process killed while holding it lapses',
    { timeout: 120_000 },
    async () => {
      const cluster = await register('staging-us', 'us-east-1');
      // Another worker process takes the account's only slot for a sync that never ends, then dies.
      const child = spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          HOLD_SLOT,
          REDIS_URL,
          prefix,
          accountSlotKey(cluster.accountId),
        ],
        { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = once(child, 'exit');
      try {
        const lines = createInterface({ input: child.stdout });
        let holding = false;
        for await (const line of lines) if ((holding = line === 'holding')) break;
        expect(holding, 'the holder process took the slot').toBe(true);
        const run = await queueSyncAndWaitUntilDeferred(cluster.id);

        child.kill('SIGKILL');
        await exited;
        // Nothing released the slot: the sync runs once the dead worker's lease (3 s) lapses.
        expect(await waitForRunToFinish(run.id)).toMatchObject({ status: 'succeeded', attempt: 1 });
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  );

  it('defers for longer after each deferral, with jitter, never over a minute', () => {
    expect(deferDelayMs(1_000, 0, () => 0)).toBe(500);
    expect(deferDelayMs(1_000, 0, () => 1)).toBe(1_000);
    expect(deferDelayMs(1_000, 3, () => 1)).toBe(8_000);
    expect(deferDelayMs(1_000, 50, () => 1)).toBe(60_000);
  });
});
