// The run janitor against a real Postgres and Redis: runs whose job is gone are failed (running)
// or given their job again (queued); runs with a live job, and young runs, are left alone.
import { randomBytes } from 'node:crypto';
import { createCluster, enqueueSyncRun, getSyncRun, startSyncRun } from '@eks-access/db';
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
import { reconcileRuns } from './reconcile-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let prefix: string;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
  redis = await createRedisConnection({
    url: REDIS_URL,
    role: 'producer',
    logger: pino({ level: 'silent' }),
  });
  prefix = `rtest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({ connection: redis, prefix });
});
afterAll(async () => {
  await producer.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
});

async function run(name: string, status: 'queued' | 'running', ageMs: number, starts = 1) {
  const cluster = await createCluster(database, { name, region: 'eu-west-1', hostingMode: 'default-chain' });
  const { run: r } = await enqueueSyncRun(database, cluster.id, 'api');
  if (status === 'running')
    for (let i = 0; i < starts; i++) await startSyncRun(database, r.id, 'dead-worker');
  await database.pool.query(
    `UPDATE sync_runs SET queued_at = now() - make_interval(secs => $2), started_at = CASE WHEN started_at IS NULL THEN NULL ELSE now() - make_interval(secs => $2) END WHERE id = $1`,
    [r.id, ageMs / 1000],
  );
  return { clusterId: cluster.id, id: r.id };
}

describe('the sync run janitor', () => {
  it('fails a running run whose job is gone after its last start, re-queues a queued one, and leaves live and young runs alone', async () => {
    const lostRunning = await run('lost-running', 'running', 3_600_000, 3);
    const lostQueued = await run('lost-queued', 'queued', 3_600_000);
    const live = await run('live', 'running', 3_600_000);
    await producer.enqueue('cluster.sync', { clusterId: live.clusterId, syncRunId: live.id, trigger: 'api' });
    const young = await run('young', 'running', 0);

    const result = await reconcileRuns({
      database,
      producer,
      locks: createLockManager({ connection: redis, prefix }),
      staleAfterMs: 60_000,
      maxStarts: 3,
    });
    expect(result).toEqual({ failed: 1, requeued: 1 });

    expect(await getSyncRun(database, lostRunning.id)).toMatchObject({
      status: 'failed',
      error: { code: 'JOB_LOST' },
    });
    expect(await getSyncRun(database, lostQueued.id)).toMatchObject({ status: 'queued' });
    expect(
      await producer.jobState('cluster.sync', {
        clusterId: lostQueued.clusterId,
        syncRunId: lostQueued.id,
        trigger: 'api',
      }),
    ).toBe('waiting');
    expect(await getSyncRun(database, live.id)).toMatchObject({ status: 'running' });
    expect(await getSyncRun(database, young.id)).toMatchObject({ status: 'running' });
    // The failed run no longer blocks its cluster: a new sync can be queued.
    expect((await enqueueSyncRun(database, lostRunning.clusterId, 'api')).created).toBe(true);
  });

  it('gives a run whose job stalled twice (dead-lettered by BullMQ past its second start) a new job while starts remain', async () => {
    const stalled = await run('stalled-twice', 'running', 3_600_000, 2);
    const payload = { clusterId: stalled.clusterId, syncRunId: stalled.id, trigger: 'api' as const };
    await producer.enqueue('cluster.sync', payload);
    // What BullMQ leaves behind: the job in the failed set with its stall reason.
    const key = `${prefix}:eks-sync:sync-${stalled.id}`;
    await redis
      .multi()
      .lrem(`${prefix}:eks-sync:wait`, 0, `sync-${stalled.id}`)
      .zadd(`${prefix}:eks-sync:failed`, Date.now(), `sync-${stalled.id}`)
      .hset(key, 'failedReason', 'job stalled more than allowable limit', 'finishedOn', String(Date.now()))
      .exec();
    expect(await producer.jobState('cluster.sync', payload)).toBe('failed');

    const result = await reconcileRuns({
      database,
      producer,
      locks: createLockManager({ connection: redis, prefix }),
      staleAfterMs: 60_000,
      maxStarts: 3,
    });
    expect(result).toEqual({ failed: 0, requeued: 1 });
    expect(await producer.jobState('cluster.sync', payload)).toBe('waiting');
    // The run stays running: the next worker restarts it (attempt 3) and completes it.
    const again = await startSyncRun(database, stalled.id, 'next-worker');
    expect(again).toMatchObject({ status: 'running', attempt: 3 });
  });
});
