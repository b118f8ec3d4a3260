import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidJobPayloadError, RedisUnavailableError } from './errors.js';
import { createProducer, scheduleIdFor, type Producer } from './producer.js';
import { scheduleProblem } from './schedule.js';
import { createTestRedis, uniquePrefix } from './test-support.js';
import type { RedisConnection } from './connection.js';

describe('producer', () => {
  let prefix: string;
  let env: ReturnType<typeof createTestRedis>;
  let redis: RedisConnection;
  let producer: Producer;

  beforeEach(async () => {
    prefix = uniquePrefix();
    env = createTestRedis(prefix);
    redis = await env.connect('producer');
    producer = createProducer({ connection: redis, prefix });
    env.onCleanup(() => producer.close());
  });
  afterEach(() => env.cleanup());

  async function keysUnderPrefix(): Promise<string[]> {
    return redis.keys(`${prefix}:*`);
  }

  it('rejects a bad payload with every problem listed, before anything reaches Redis', async () => {
    const err = await producer
      // @ts-expect-error: the payload type is checked at compile time too; this one is deliberately wrong.
      .enqueue('cluster.sync', { clusterId: 'not-a-uuid', syncRunId: randomUUID(), trigger: 'cron' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidJobPayloadError);
    const invalid = err as InvalidJobPayloadError;
    expect(invalid.code).toBe('INVALID_JOB_PAYLOAD');
    expect(invalid.retryable).toBe(false);
    expect(invalid.problems.map((p) => p.path).sort()).toEqual(['clusterId', 'trigger']);
    expect(invalid.message).toMatch(/^invalid payload for job cluster\.sync: .*clusterId/);
    expect(await keysUnderPrefix()).toEqual([]);
  });

  it('enqueues a job under its deterministic id, once however often it is enqueued', async () => {
    const payload = { clusterId: randomUUID(), syncRunId: randomUUID(), trigger: 'api' as const };
    const first = await producer.enqueue('cluster.sync', payload);
    const second = await producer.enqueue('cluster.sync', payload);
    expect(first).toEqual({ id: `sync-${payload.syncRunId}`, name: 'cluster.sync', queue: 'eks-sync' });
    expect(second.id).toBe(first.id);
    const queue = env.inspect(redis, 'eks-sync');
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    const job = await queue.getJob(first.id);
    expect(job?.data).toEqual(payload);
    expect(job?.opts.attempts).toBe(3);
    expect(job?.opts.backoff).toMatchObject({ type: 'exponential', jitter: 0.5 });
  });

  it('requeues a job whose dead letter is kept under the same id, and leaves a pending one alone', async () => {
    const payload = { uploadId: randomUUID() };
    const { id } = await producer.enqueue('upload.snapshot', payload);
    const queue = env.inspect(redis, 'c1-upload');
    const consumer = await env.connect('worker');
    const worker = new Worker('c1-upload', () => Promise.reject(new UnrecoverableError('gave up')), {
      connection: consumer,
      prefix,
    });
    env.onCleanup(() => worker.close());
    await new Promise((resolve) => worker.once('failed', resolve));
    await worker.close();
    expect(await queue.getJobState(id)).toBe('failed');
    await producer.enqueue('upload.snapshot', payload);
    expect(await queue.getJobState(id)).toBe('failed');

    expect((await producer.requeue('upload.snapshot', payload)).id).toBe(id);
    expect(await queue.getJobState(id)).toBe('waiting');
    await producer.requeue('upload.snapshot', payload);
    expect(await queue.getJobCounts('waiting', 'failed')).toEqual({ waiting: 1, failed: 0 });
  });

  it('puts each job on its queue and counts jobs per queue and state', async () => {
    await producer.enqueue('access.grant', { requestId: randomUUID() });
    await producer.enqueue('access.revoke', { requestId: randomUUID() });
    await producer.enqueue('upload.snapshot', { uploadId: randomUUID() }, { delayMs: 60_000 });
    const counts = await producer.queueCounts();
    expect(counts['eks-provision'].waiting).toBe(2);
    expect(counts['c1-upload'].delayed).toBe(1);
    expect(counts['eks-sync'].waiting).toBe(0);
  });

  it('replaces a cluster schedule on upsert instead of adding a second one, and removes it', async () => {
    const clusterId = randomUUID();
    const queue = env.inspect(redis, 'eks-sync');
    const pending = async () => queue.getJobs(['waiting', 'delayed']);

    // An interval schedule runs its first sync at once, then every interval.
    await producer.upsertSchedule(clusterId, { everyMs: 60_000 });
    await producer.upsertSchedule(clusterId, { everyMs: 120_000 });
    expect(await queue.getJobSchedulersCount()).toBe(1);
    expect(await pending()).toHaveLength(1);
    expect(await producer.getSchedule(clusterId)).toMatchObject({ everyMs: 120_000 });

    await producer.upsertSchedule(clusterId, { cron: '*/5 * * * *' });
    expect(await queue.getJobSchedulersCount()).toBe(1);
    expect(await producer.getSchedule(clusterId)).toMatchObject({ cron: '*/5 * * * *' });
    const jobs = await pending();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.name).toBe('cluster.scheduled-sync');
    expect(jobs[0]?.data).toEqual({ clusterId });
    expect(jobs[0]?.opts.attempts).toBe(2);

    expect(await producer.removeSchedule(clusterId)).toBe(true);
    expect(await producer.getSchedule(clusterId)).toBeUndefined();
    expect(await producer.removeSchedule(clusterId)).toBe(false);
    expect(await pending()).toHaveLength(0);
  });

  it('refuses a schedule for an invalid cluster id or interval without touching Redis', async () => {
    await expect(producer.upsertSchedule('cluster-1', { everyMs: 1000 })).rejects.toBeInstanceOf(
      InvalidJobPayloadError,
    );
    await expect(producer.upsertSchedule(randomUUID(), { everyMs: 0 })).rejects.toBeInstanceOf(
      InvalidJobPayloadError,
    );
    expect(await keysUnderPrefix()).toEqual([]);
    expect(scheduleIdFor('x')).toBe('schedule-x');
  });

  it('refuses cron patterns BullMQ could not run, before touching Redis', async () => {
    for (const cron of ['not a cron', '61 * * * *', '* * * * * * *', '0 0 31 2 *']) {
      expect(scheduleProblem({ cron }), cron).toBeDefined();
      await expect(producer.upsertSchedule(randomUUID(), { cron })).rejects.toBeInstanceOf(
        InvalidJobPayloadError,
      );
    }
    expect(scheduleProblem({ cron: '*/15 * * * *' })).toBeUndefined();
    expect(scheduleProblem({ cron: '0 30 2 * * 1-5' })).toBeUndefined();
    expect(await keysUnderPrefix()).toEqual([]);
  });

  it('answers at once with RedisUnavailableError while its connection is down, instead of waiting for it', async () => {
    const lost = await env.connect('producer');
    const cut = createProducer({ connection: lost, prefix });
    env.onCleanup(() => cut.close());
    lost.disconnect();
    const started = Date.now();
    for (const call of [
      () => cut.enqueue('access.grant', { requestId: randomUUID() }),
      () => cut.jobState('access.grant', { requestId: randomUUID() }),
      () => cut.upsertSchedule(randomUUID(), { everyMs: 60_000 }),
      () => cut.assertAvailable(),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect((err as RedisUnavailableError).retryable).toBe(true);
    }
    // Generous: the point is that nothing waited for a reconnection that never comes.
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
