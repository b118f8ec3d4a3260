// The request janitor against a real Postgres and Redis: requests whose job is gone (never queued,
// lost, or dead-lettered after stalling) get a new job while starts remain and are failed with the
// reason after; live, young and expiry-owned requests are left alone.
import { randomBytes } from 'node:crypto';
import {
  createCluster,
  createExpiryRevoke,
  createProvisioningRequest,
  finishProvisioningRequest,
  getProvisioningRequest,
  startProvisioningRequest,
} from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  createLockManager,
  createProducer,
  createRedisConnection,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileRequests } from './reconcile-requests.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ALICE = 'arn:aws:iam::111111111111:user/alice';
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let prefix: string;
let clusterId: string;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
  redis = await createRedisConnection({
    url: REDIS_URL,
    role: 'producer',
    logger: pino({ level: 'silent' }),
  });
  prefix = `rqtest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({ connection: redis, prefix });
  clusterId = (
    await createCluster(database, { name: 'prod', region: 'eu-west-1', hostingMode: 'default-chain' })
  ).id;
});
afterAll(async () => {
  await producer.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
});

let n = 0;
async function request(opts: { starts?: number; ageMs?: number; expiresAt?: Date } = {}) {
  const { request: r } = await createProvisioningRequest(database, {
    clusterId,
    action: 'grant',
    entitlementId: `cluster_role:view:ns-${n++}:member`,
    principalType: 'iam_user',
    principalArn: ALICE,
    requestedBy: 'test',
    ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
  });
  for (let i = 0; i < (opts.starts ?? 0); i++) await startProvisioningRequest(database, r.id, 'dead-worker');
  const age = (opts.ageMs ?? 3_600_000) / 1000;
  await database.pool.query(
    `UPDATE provisioning_requests SET created_at = now() - make_interval(secs => $2), started_at = CASE WHEN started_at IS NULL THEN NULL ELSE now() - make_interval(secs => $2) END WHERE id = $1`,
    [r.id, age],
  );
  return r.id;
}

/** Leaves the job where BullMQ leaves a job that stalled once too often: in the failed set. */
async function deadLetter(requestId: string): Promise<void> {
  await producer.enqueue('access.grant', { requestId });
  const id = `grant-${requestId}`;
  await redis
    .multi()
    .lrem(`${prefix}:eks-provision:wait`, 0, id)
    .zadd(`${prefix}:eks-provision:failed`, Date.now(), id)
    .hset(
      `${prefix}:${'eks-provision'}:${id}`,
      'failedReason',
      'job stalled more than allowable limit',
      'finishedOn',
      String(Date.now()),
    )
    .exec();
}

const pass = () =>
  reconcileRequests({
    database,
    producer,
    locks: createLockManager({ connection: redis, prefix }),
    workerId: 'janitor',
    staleAfterMs: 60_000,
    lockMs: 5_000,
    maxStarts: 4,
  });

describe('the provisioning request janitor', () => {
  it('re-queues lost and dead-lettered requests, fails one past its last start with the reason, and leaves the rest alone', async () => {
    const neverQueued = await request();
    const stalledRunning = await request({ starts: 2 });
    await deadLetter(stalledRunning);
    const exhausted = await request({ starts: 4 });
    await deadLetter(exhausted);
    const live = await request({ starts: 1 });
    await producer.enqueue('access.grant', { requestId: live });
    const young = await request({ starts: 1, ageMs: 0 });

    expect(await pass()).toEqual({ requeued: 2, failed: 1 });

    for (const id of [neverQueued, stalledRunning]) {
      expect(await producer.jobState('access.grant', { requestId: id })).toBe('waiting');
    }
    expect(await getProvisioningRequest(database, stalledRunning)).toMatchObject({
      status: 'running',
      attempt: 2,
    });
    expect(await getProvisioningRequest(database, exhausted)).toMatchObject({
      status: 'failed',
      error: { code: 'JOB_LOST', message: expect.stringMatching(/after 4 starts/) as unknown },
    });
    expect(await getProvisioningRequest(database, live)).toMatchObject({ status: 'running', attempt: 1 });
    expect(await getProvisioningRequest(database, young)).toMatchObject({ status: 'running' });
    expect(await producer.jobState('access.grant', { requestId: young })).toBe('missing');

    // A second pass finds nothing more to do: the re-queued jobs are alive, the failed one is final.
    expect(await pass()).toEqual({ requeued: 0, failed: 0 });
  });

  it('leaves a pending revoke of a time-bound grant to the expiry reconciler', async () => {
    const grantId = await request({ starts: 1, expiresAt: new Date(Date.now() + 3_600_000) });
    const grant = await getProvisioningRequest(database, grantId);
    await finishProvisioningRequest(
      database,
      grantId,
      { status: 'succeeded', result: 'granted' },
      { attempt: 1, actor: 'test' },
    );
    const { request: revoke } = await createExpiryRevoke(database, grant, 'test');
    await database.pool.query(
      `UPDATE provisioning_requests SET created_at = now() - interval '1 hour' WHERE id = $1`,
      [revoke.id],
    );
    expect(await pass()).toEqual({ requeued: 0, failed: 0 });
    expect(await producer.jobState('access.revoke', { requestId: revoke.id })).toBe('missing');
  });
});
