// The `cluster.doctor` job end to end: a cluster registered in a real Postgres with its stored
// credentials, the job on a real Redis, the doctor run against the simulator's doctor world, and
// the report kept on the run where the API reads it.
import { randomBytes } from 'node:crypto';
import { createCluster, enqueueDoctorRun, latestDoctorRun } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { createDoctorWorld, DEMO, DOCTOR, startSim, type RunningSim } from '@eks-access/eks-sim';
import {
  createConsumer,
  createProducer,
  createRedisConnection,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorClusterJob } from './doctor-cluster.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let prefix: string;
let consumer: { close(o?: { timeoutMs?: number }): Promise<void> };

beforeAll(async () => {
  sim = await startSim({ world: createDoctorWorld });
  database = await createTestDatabase(ADMIN_URL);
  redis = await createRedisConnection({ url: REDIS_URL, role: 'worker', logger });
  prefix = `dtest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({ connection: redis, prefix });
  const deps = {
    database,
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    workerId: 'd1',
  };
  consumer = createConsumer({
    connection: redis,
    queue: 'eks-sync',
    prefix,
    concurrency: 2,
    logger,
    shutdownTimeoutMs: 100,
    handlers: {
      'cluster.sync': async () => undefined,
      'cluster.scheduled-sync': async () => undefined,
      'cluster.doctor': (payload, ctx) => doctorClusterJob(deps, payload, ctx),
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

async function doctorOf(clusterId: string, timeoutMs = 60_000) {
  const { run } = await enqueueDoctorRun(database, clusterId);
  await producer.enqueue('cluster.doctor', { clusterId, doctorRunId: run.id });
  const until = Date.now() + timeoutMs;
  for (;;) {
    const latest = await latestDoctorRun(database, clusterId);
    if (latest && latest.status !== 'queued' && latest.status !== 'running') return latest;
    if (Date.now() > until)
      throw new Error(`doctor run ${run.id} still ${latest?.status ?? '?'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const connectorKeys = {
  static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
};

describe('the cluster.doctor job', () => {
  it('keeps a passing report for a cluster set up as the guide intends', async () => {
    const cluster = await createCluster(database, {
      name: 'prod-eu',
      region: 'eu-west-1',
      hostingMode: 'self-hosted',
      roleArn: DEMO.connector.roleArn,
      credentials: connectorKeys,
    });
    const run = await doctorOf(cluster.id);
    expect(run).toMatchObject({ status: 'succeeded', result: 'pass', worker: 'd1' });
    expect(run.report).toMatchObject({ status: 'pass', identity: { principalArn: DEMO.connector.roleArn } });
  });

  it('keeps the findings and fixes for a misconfigured cluster, using its stored ExternalId', async () => {
    const cluster = await createCluster(database, {
      name: 'broken-api',
      region: 'eu-west-1',
      hostingMode: 'self-hosted',
      roleArn: DOCTOR.connectorRoleArn,
      externalId: DOCTOR.externalId,
      credentials: connectorKeys,
    });
    const run = await doctorOf(cluster.id);
    expect(run).toMatchObject({ status: 'succeeded', result: 'fail' });
    const checks = (run.report as { checks: { id: string; status: string; fix?: { text: string } }[] })
      .checks;
    expect(checks.find((c) => c.id === 'assume-role:1')?.status).toBe('pass');
    expect(checks.find((c) => c.id === 'aws:iam:ListRoles')?.status).toBe('fail');
    expect(checks.find((c) => c.id === 'kube:identity')?.fix?.text).toContain(
      'aws eks create-access-entry --cluster-name broken-api',
    );
  });
});
