// Test support (not built): a real Postgres database, Redis queues under a unique prefix, the
// simulator's demo world and a stand-in C1 over real gRPC; the uploader's own job consumer and
// service loops; and, in place of the sync worker and the provisioner (apps do not import each
// other), small consumers that do their part: a sync through eks-core into Postgres, and a
// provisioning outcome chosen by the test.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHelloInfo, generateClientCredentials } from '@eks-access/c1';
import { startStandInC1, type StandInC1, type StandInCredentials } from '@eks-access/c1/standin';
import {
  completeSyncRun,
  createCluster,
  enqueueSyncRun,
  failSyncRun,
  finishProvisioningRequest,
  getClusterCredentials,
  getProvisioningRequest,
  setClusterIdentity,
  startProvisioningRequest,
  startSyncRun,
  type CreateClusterInput,
  type ProvisioningOutcome,
  type ProvisioningRequest,
} from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { CredentialCache, credentialsFromStoredSecrets, syncCluster } from '@eks-access/eks-core';
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
  type RedisRateLimiter,
} from '@eks-access/queue';
import { pino, type Logger } from 'pino';
import { tenantRateSettings, type C1Endpoint } from '../c1.js';
import { uploadSnapshotJob, type UploadJobDeps } from '../jobs/upload-snapshot.js';
import { createClusterLoops, type ClusterLoops } from '../service/cluster-loops.js';

export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps its lines (debug and up) for assertions. */
export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

export const ERROR_LEVEL = 50;

/** How the in-test provisioner ends each request. */
export type ProvisionOutcome = (request: ProvisioningRequest) => ProvisioningOutcome;

export interface Harness {
  sim: RunningSim;
  database: TestDatabase;
  redis: RedisConnection;
  prefix: string;
  producer: Producer;
  limiter: RedisRateLimiter;
  standIn: StandInC1;
  workDir: string;
  logs: LogLine[];
  logger: Logger;
  /** Where the uploader reaches the stand-in. */
  c1: C1Endpoint;
  /** Set by a test to decide the outcome of provisioning requests. */
  provisionOutcome: ProvisionOutcome;
  uploadDeps(overrides?: Partial<UploadJobDeps>): UploadJobDeps;
  /** Starts the uploader's `c1-upload` consumer. */
  startUploadConsumer(overrides?: Partial<UploadJobDeps>): Consumer;
  /** Starts the in-test sync worker and provisioner. */
  startHelpers(): void;
  /** An uploader process's service loops. */
  loops(workerId: string, options?: { uploadMaxAttempts?: number }): ClusterLoops;
  /** Registers a demo cluster with the connector's demo credentials, and C1 credentials when given. */
  registerCluster(name: string, region: string, extra?: Partial<CreateClusterInput>): Promise<{ id: string }>;
  /** C1 credentials the stand-in accepts. */
  c1Credentials(): StandInCredentials;
  /** Well-formed C1 credentials the stand-in has never heard of. */
  unknownC1Credentials(): StandInCredentials;
  /** Syncs a cluster once, in-process, and returns the run id. */
  syncNow(clusterId: string): Promise<string>;
  close(): Promise<void>;
}

const STOPPERS = Symbol('stoppers');

/** Starts everything a test file needs; call `close()` in afterAll. */
export async function startHarness(): Promise<Harness> {
  const sim = await startSim({ world: createDemoWorld });
  const database = await createTestDatabase(ADMIN_URL);
  const redis = await createRedisConnection({
    url: REDIS_URL,
    role: 'worker',
    logger: pino({ level: 'silent' }),
  });
  const prefix = `uploader-test-${randomBytes(4).toString('hex')}`;
  const producer = createProducer({
    connection: redis,
    prefix,
    policies: {
      'cluster.sync': { attempts: 1 },
      'upload.snapshot': { attempts: 10, backoff: { type: 'exponential', delayMs: 50, jitter: 0 } },
    },
  });
  const limiter = createRedisRateLimiter({
    connection: redis,
    prefix,
    settingsFor: () => tenantRateSettings(50),
  });
  const standIn = await startStandInC1({ nextPollMs: 50, nextHeartbeatMs: 1_000 });
  const workDir = await mkdtemp(join(tmpdir(), 'uploader-test-'));
  const { logger, lines } = memoryLogger();
  const endpoints = { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint };
  const c1: C1Endpoint = {
    hostId: 'uploader-test',
    apiHost: standIn.grpcTarget,
    tokenUrl: standIn.tokenUrl,
    tls: false,
  };
  const stoppers: (() => Promise<unknown>)[] = [];

  async function syncRun(clusterId: string, syncRunId: string, signal?: AbortSignal): Promise<void> {
    const run = await startSyncRun(database, syncRunId, 'test-sync-worker');
    try {
      const secrets = await getClusterCredentials(database, clusterId);
      const sync = await syncCluster({
        cluster: { name: secrets.name, region: secrets.region },
        credentials: credentialsFromStoredSecrets(secrets),
        endpoints,
        credentialCache: new CredentialCache(),
        ...(signal ? { signal } : {}),
      });
      // As the sync worker does; it touches the cluster row (which must not restart its C1 loop).
      await setClusterIdentity(database, clusterId, {
        arn: sync.report.cluster.arn,
        accountId: sync.report.cluster.accountId,
      });
      await completeSyncRun(database, syncRunId, {
        snapshot: sync,
        report: () => sync.finish(),
        attempt: run.attempt,
      });
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      await failSyncRun(
        database,
        syncRunId,
        { code: typeof e.code === 'string' ? e.code : 'INTERNAL', message: String(e.message) },
        run.attempt,
      );
      throw err;
    }
  }

  const harness: Harness & { [STOPPERS]: typeof stoppers } = {
    sim,
    database,
    redis,
    prefix,
    producer,
    limiter,
    standIn,
    workDir,
    logs: lines,
    logger,
    c1,
    provisionOutcome: () => ({ status: 'succeeded', result: 'granted' }),
    [STOPPERS]: stoppers,

    uploadDeps(overrides = {}) {
      return {
        database,
        limiter,
        c1,
        workerId: 'uploader-test',
        backoff: { baseMs: 50, maxMs: 200 },
        workDir,
        ...overrides,
      };
    },

    startUploadConsumer(overrides = {}) {
      const deps = harness.uploadDeps(overrides);
      const consumer = createConsumer({
        connection: redis,
        queue: 'c1-upload',
        prefix,
        concurrency: 2,
        logger,
        shutdownTimeoutMs: 200,
        handBackTimeoutMs: 2_000,
        handlers: { 'upload.snapshot': (payload, ctx) => uploadSnapshotJob(deps, payload, ctx) },
      });
      stoppers.push(() => consumer.close({ timeoutMs: 200 }));
      return consumer;
    },

    startHelpers() {
      const quiet = pino({ level: 'silent' });
      const syncs = createConsumer({
        connection: redis,
        queue: 'eks-sync',
        prefix,
        concurrency: 1,
        logger: quiet,
        shutdownTimeoutMs: 200,
        handlers: {
          'cluster.sync': async (payload, ctx) => {
            await syncRun(payload.clusterId, payload.syncRunId, ctx.signal);
            return { syncRunId: payload.syncRunId };
          },
          'cluster.scheduled-sync': async () => undefined,
          'cluster.doctor': async () => undefined,
        },
      });
      const provisioner = createConsumer({
        connection: redis,
        queue: 'eks-provision',
        prefix,
        concurrency: 1,
        logger: quiet,
        shutdownTimeoutMs: 200,
        handlers: {
          'access.grant': (payload) => provision(payload.requestId),
          'access.revoke': (payload) => provision(payload.requestId),
        },
      });
      const provision = async (requestId: string) => {
        const started = await startProvisioningRequest(database, requestId, 'test-provisioner');
        const request = await getProvisioningRequest(database, requestId);
        await finishProvisioningRequest(database, requestId, harness.provisionOutcome(request), {
          attempt: started.attempt,
          actor: 'worker:test-provisioner',
        });
        return { requestId };
      };
      stoppers.push(
        () => syncs.close({ timeoutMs: 200 }),
        () => provisioner.close({ timeoutMs: 200 }),
      );
    },

    loops(workerId, options = {}) {
      const loops = createClusterLoops({
        database,
        producer,
        locks: createLockManager({ connection: redis, prefix }),
        logger: logger.child({ worker: workerId }),
        c1: { ...c1, hostId: workerId },
        helloInfo: defaultHelloInfo({
          packageName: '@eks-access/uploader',
          packageVersion: '0.0.0-test',
          displayName: 'EKS (test)',
        }),
        lockMs: 1_000,
        scanMs: 100,
        pollMs: 50,
        uploadMaxAttempts: options.uploadMaxAttempts ?? 3,
        backoff: { initialMs: 50, maxMs: 200 },
      });
      stoppers.push(() => loops.stop());
      return loops;
    },

    async registerCluster(name, region, extra = {}) {
      return createCluster(database, {
        name,
        region,
        hostingMode: 'self-hosted',
        roleArn: DEMO.connector.roleArn,
        credentials: {
          static: {
            accessKeyId: DEMO.connector.accessKeyId,
            secretAccessKey: DEMO.connector.secretAccessKey,
          },
        },
        ...extra,
      });
    },

    c1Credentials: () => standIn.registerClient(),
    unknownC1Credentials: () => generateClientCredentials(standIn.audience, 'unknown-client'),

    async syncNow(clusterId) {
      const { run } = await enqueueSyncRun(database, clusterId, 'api');
      await syncRun(clusterId, run.id);
      return run.id;
    },

    async close() {
      await stopAll(harness);
      await producer.close();
      await limiter.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await standIn.close();
      await database.drop();
      await sim.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Stops the consumers and loops a test started (call in afterEach). */
export async function stopAll(harness: Harness): Promise<void> {
  const stoppers = (harness as Harness & { [STOPPERS]: (() => Promise<unknown>)[] })[STOPPERS];
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
}

/** Polls `read` until `done`, or fails after `timeoutMs`. */
export async function eventually<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
