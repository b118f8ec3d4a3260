import { createHash, randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidJobPayloadError, QueueFullError, RedisUnavailableError } from './errors.js';
import { createProducer, scheduleIdFor, type Producer } from './producer.js';
import { scheduleOffsetMs, scheduleProblem } from './schedule.js';
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

    // An interval schedule has one pending tick at a time: the next one, at the cluster's offset.
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

  it('spreads a fleet of hourly schedules evenly over the hour instead of starting them together', async () => {
    const hour = 3_600_000;
    // Fixed ids (UUID-shaped hashes of an index), so the spread asserted here is the same on every run.
    const ids = Array.from({ length: 1_000 }, (_, i) => {
      const h = createHash('sha256').update(`fleet-cluster-${i}`).digest('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    });
    const before = Date.now();
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((id) => producer.upsertSchedule(id, { everyMs: hour })));
    }
    const after = Date.now();
    const queue = env.inspect(redis, 'eks-sync');
    const schedulers = await queue.getJobSchedulers(0, -1);
    expect(schedulers).toHaveLength(1_000);
    const minuteCounts = new Array<number>(60).fill(0);
    const quarterCounts = [0, 0, 0, 0];
    for (const scheduler of schedulers) {
      const next = scheduler.next ?? 0;
      // The first run is the next time the cluster's place in the hour comes round, never at once.
      expect(next).toBeGreaterThan(before);
      expect(next).toBeLessThanOrEqual(after + hour);
      const clusterId = scheduler.key.slice('schedule-'.length);
      expect(next % hour).toBe(scheduleOffsetMs(clusterId, hour));
      minuteCounts[Math.floor((next % hour) / 60_000)]!++;
      quarterCounts[Math.floor((next % hour) / (15 * 60_000))]!++;
    }
    // About 17 a minute and 250 a quarter; nothing close to a thundering herd at :00.
    expect(Math.max(...minuteCounts)).toBeLessThanOrEqual(35);
    expect(Math.min(...minuteCounts)).toBeGreaterThanOrEqual(5);
    for (const count of quarterCounts) expect(count).toBeGreaterThan(200);
    for (const count of quarterCounts) expect(count).toBeLessThan(300);
    // Each scheduler has exactly one pending tick, delayed to its own time.
    expect(await queue.getJobCounts('delayed', 'waiting')).toEqual({ delayed: 1_000, waiting: 0 });
  });

  it('keeps a schedule in its place on upsert, and moves one made without an offset into it', async () => {
    const hour = 3_600_000;
    const clusterId = randomUUID();
    const queue = env.inspect(redis, 'eks-sync');
    // A scheduler as the producer made them before offsets, its next tick at some other time.
    const elsewhere = Date.now() + 10 * 60_000 + 7_777;
    await queue.upsertJobScheduler(
      scheduleIdFor(clusterId),
      { every: hour, startDate: elsewhere },
      { name: 'cluster.scheduled-sync', data: { clusterId } },
    );
    expect(await producer.getSchedule(clusterId)).toMatchObject({ nextRunAt: elsewhere });

    await producer.upsertSchedule(clusterId, { everyMs: hour });
    const placed = await producer.getSchedule(clusterId);
    expect((placed?.nextRunAt ?? 0) % hour).toBe(scheduleOffsetMs(clusterId, hour));
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 1 });

    await producer.upsertSchedule(clusterId, { everyMs: hour });
    expect(await producer.getSchedule(clusterId)).toEqual(placed);
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 1 });

    // Running the tick now takes it off the delay; there is then none left to bring forward.
    expect(await producer.promoteSchedule(clusterId)).toBe(true);
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 1, delayed: 0 });
    expect(await producer.promoteSchedule(clusterId)).toBe(false);
    expect(await producer.promoteSchedule(randomUUID())).toBe(false);
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

  it('refuses new work once a queue has `max` jobs ready, and counts no delayed ones', async () => {
    await producer.upsertSchedule(randomUUID(), { everyMs: 3_600_000 });
    await producer.enqueue('access.grant', { requestId: randomUUID() }, { delayMs: 60_000 });
    await producer.assertRoom('eks-provision', 1);
    await producer.enqueue('access.grant', { requestId: randomUUID() });
    await producer.enqueue('access.revoke', { requestId: randomUUID() }, { priority: 1 });
    expect(await producer.backlog('eks-provision')).toBe(2);
    expect(await producer.backlog('eks-sync')).toBe(0);
    await producer.assertRoom('eks-provision', 3);
    const err = await producer.assertRoom('eks-provision', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ code: 'QUEUE_FULL', retryable: true, backlog: 2, max: 2 });
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
