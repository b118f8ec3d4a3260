import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisConnection } from './connection.js';
import {
  createConsumer,
  isNonRetryable,
  type ConsumerOptions,
  type DeadLetteredJob,
  type JobContext,
  type StalledJob,
} from './consumer.js';
import { createProducer, jobOptionsFor, type Producer } from './producer.js';
import { JOBS, type QueueName } from './catalogue.js';
import {
  createTestLogger,
  createTestRedis,
  uniquePrefix,
  waitFor,
  waitForJobState,
  type LogLine,
} from './test-support.js';

class FakeAwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

function syncPayload() {
  return { clusterId: randomUUID(), syncRunId: randomUUID(), trigger: 'api' as const };
}

describe('consumer', () => {
  let prefix: string;
  let env: ReturnType<typeof createTestRedis>;
  let redis: RedisConnection;
  let workerRedis: RedisConnection;
  let producer: Producer;
  let lines: LogLine[];

  beforeEach(async () => {
    prefix = uniquePrefix();
    env = createTestRedis(prefix);
    redis = await env.connect('producer');
    workerRedis = await env.connect('worker');
    lines = [];
    // Short, jitter-free backoff so retries happen within the test.
    const fast = { attempts: 3, backoff: { type: 'exponential' as const, delayMs: 50, jitter: 0 } };
    producer = createProducer({
      connection: redis,
      prefix,
      policies: { 'cluster.sync': fast, 'access.grant': fast },
    });
    env.onCleanup(() => producer.close());
  });
  afterEach(() => env.cleanup());

  function start<Q extends QueueName>(
    queue: Q,
    handlers: ConsumerOptions<Q>['handlers'],
    extra: Partial<ConsumerOptions<Q>> = {},
  ) {
    const consumer = createConsumer({
      connection: workerRedis,
      queue,
      handlers,
      concurrency: 2,
      logger: createTestLogger(lines),
      prefix,
      ...extra,
    });
    env.onCleanup(() => consumer.close({ timeoutMs: 1_000, handBackTimeoutMs: 500 }));
    return consumer;
  }

  const noop = async () => undefined;
  const completionLines = (jobId: string) =>
    lines.filter((l) => l.msg === 'job finished' && l.fields.jobId === jobId);

  it('runs the handler with the validated payload and logs one completion line', async () => {
    const payload = syncPayload();
    const seen: { payload: unknown; ctx: JobContext }[] = [];
    start('eks-sync', {
      'cluster.sync': async (p, ctx) => {
        seen.push({ payload: p, ctx });
        await ctx.updateProgress({ phase: 'listing' });
        return { grants: 3 };
      },
      'cluster.scheduled-sync': noop,
      'cluster.doctor': noop,
    });
    const { id } = await producer.enqueue('cluster.sync', payload);
    const job = await waitForJobState(env.inspect(redis, 'eks-sync'), id, ['completed']);
    expect(job.returnvalue).toEqual({ grants: 3 });
    expect(job.progress).toEqual({ phase: 'listing' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.payload).toEqual(payload);
    expect(seen[0]?.ctx.job).toMatchObject({
      id,
      name: 'cluster.sync',
      queue: 'eks-sync',
      attempt: 1,
      maxAttempts: 3,
    });
    expect(seen[0]?.ctx.signal.aborted).toBe(false);
    await waitFor(() => (completionLines(id).length ? true : undefined));
    expect(completionLines(id)).toHaveLength(1);
    expect(completionLines(id)[0]).toMatchObject({
      level: 'info',
      fields: {
        queue: 'eks-sync',
        job: 'cluster.sync',
        jobId: id,
        attempt: 1,
        outcome: 'completed',
        result: { grants: 3 },
      },
    });
    expect(completionLines(id)[0]?.fields.durationMs).toEqual(expect.any(Number));
  });

  it('fails a job with an invalid payload at once, without retries, naming the problem', async () => {
    let calls = 0;
    start('eks-sync', {
      'cluster.sync': async () => {
        calls++;
      },
      'cluster.scheduled-sync': noop,
      'cluster.doctor': noop,
    });
    // Added behind the producer's back, as an old or foreign producer might.
    const raw = env.inspect(redis, 'eks-sync');
    await raw.add(
      'cluster.sync',
      { clusterId: 'nope' },
      { jobId: 'raw-1', ...jobOptionsFor(JOBS['cluster.sync']) },
    );
    const job = await waitForJobState(raw, 'raw-1', ['failed']);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/invalid payload for job cluster\.sync: clusterId: .*syncRunId/);
    expect(calls).toBe(0);
    await waitFor(() => (completionLines('raw-1').length ? true : undefined));
    expect(completionLines('raw-1')[0]).toMatchObject({ level: 'error', fields: { outcome: 'failed' } });
  });

  it('fails a job whose name has no handler on this queue', async () => {
    start('eks-provision', { 'access.grant': noop, 'access.revoke': noop });
    const raw = env.inspect(redis, 'eks-provision');
    await raw.add('cluster.sync', syncPayload(), { jobId: 'stray-1', attempts: 3 });
    const job = await waitForJobState(raw, 'stray-1', ['failed']);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe('no handler for job cluster.sync on queue eks-provision');
  });

  it('retries a retryable error with backoff and then succeeds', async () => {
    const attempts: { attempt: number; at: number }[] = [];
    start('eks-sync', {
      'cluster.sync': async (_p, ctx) => {
        attempts.push({ attempt: ctx.attempt, at: Date.now() });
        if (ctx.attempt < 3) throw new FakeAwsError('AWS_THROTTLED', 'slow down', true);
        return 'ok';
      },
      'cluster.scheduled-sync': noop,
      'cluster.doctor': noop,
    });
    const { id } = await producer.enqueue('cluster.sync', syncPayload());
    const job = await waitForJobState(env.inspect(redis, 'eks-sync'), id, ['completed']);
    // BullMQ counts the successful try too.
    expect(job.attemptsMade).toBe(3);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Exponential: ~50 ms, then ~100 ms.
    const [a1, a2, a3] = attempts;
    expect(a2!.at - a1!.at).toBeGreaterThanOrEqual(40);
    expect(a3!.at - a2!.at).toBeGreaterThanOrEqual(90);
    await waitFor(() => (completionLines(id).length === 3 ? true : undefined));
    expect(completionLines(id).map((l) => l.fields.outcome)).toEqual(['retrying', 'retrying', 'completed']);
  });

  it('fails a non-retryable error at once, keeping its code in the failed reason', async () => {
    let calls = 0;
    start('eks-provision', {
      'access.grant': async () => {
        calls++;
        throw new FakeAwsError('AWS_ACCESS_DENIED', 'eks:CreateAccessEntry: access denied', false);
      },
      'access.revoke': noop,
    });
    const { id } = await producer.enqueue('access.grant', { requestId: randomUUID() });
    const job = await waitForJobState(env.inspect(redis, 'eks-provision'), id, ['failed']);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe('[AWS_ACCESS_DENIED] eks:CreateAccessEntry: access denied');
    expect(calls).toBe(1);
  });

  it('lets a running job finish when closed gracefully', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const consumer = start('eks-sync', {
      'cluster.sync': async () => {
        started();
        await new Promise((r) => setTimeout(r, 300));
        return 'finished';
      },
      'cluster.scheduled-sync': noop,
      'cluster.doctor': noop,
    });
    const { id } = await producer.enqueue('cluster.sync', syncPayload());
    await running;
    await consumer.close({ timeoutMs: 5_000 });
    const job = await env.inspect(redis, 'eks-sync').getJob(id);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toBe('finished');
  });

  it('hands a job aborted at close back to the queue, where a second consumer runs it', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const first = start('eks-sync', {
      'cluster.sync': async (_p, ctx) => {
        started();
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
        );
      },
      'cluster.scheduled-sync': noop,
      'cluster.doctor': noop,
    });
    const { id } = await producer.enqueue('cluster.sync', syncPayload());
    await running;
    await first.close({ timeoutMs: 100 });
    const queue = env.inspect(redis, 'eks-sync');
    const handedBack = await queue.getJob(id);
    expect(await handedBack?.getState()).toBe('waiting');
    expect(handedBack?.attemptsMade).toBe(0);
    expect(completionLines(id)[0]).toMatchObject({ fields: { outcome: 'handed-back' } });

    const attempts: number[] = [];
    start('eks-sync', {
      'cluster.sync': async (_p, ctx) => {
        attempts.push(ctx.attempt);
        return 'second';
      },
      'cluster.scheduled-sync': noop,
      'cluster.doctor': noop,
    });
    const done = await waitForJobState(queue, id, ['completed']);
    expect(done.returnvalue).toBe('second');
    expect(attempts).toEqual([1]);
  });

  it('runs the jobs a cluster schedule produces, and an upsert does not duplicate them', async () => {
    const clusterId = randomUUID();
    const runs: string[] = [];
    start('eks-sync', {
      'cluster.sync': noop,
      'cluster.doctor': noop,
      'cluster.scheduled-sync': async (p) => {
        runs.push(p.clusterId);
      },
    });
    await producer.upsertSchedule(clusterId, { everyMs: 150 });
    await waitFor(() => (runs.length >= 3 ? true : undefined), 5_000, 'three scheduled runs');
    expect(new Set(runs)).toEqual(new Set([clusterId]));

    await producer.upsertSchedule(clusterId, { everyMs: 60_000 });
    const queue = env.inspect(redis, 'eks-sync');
    expect(await queue.getJobSchedulersCount()).toBe(1);
    const before = runs.length;
    await new Promise((r) => setTimeout(r, 400));
    // At most the one job that was already due when the schedule changed.
    expect(runs.length - before).toBeLessThanOrEqual(1);
    expect((await queue.getJobs(['waiting', 'delayed'])).length).toBeLessThanOrEqual(1);
  });

  it('treats only an explicit retryable: false as non-retryable', () => {
    expect(isNonRetryable({ retryable: false })).toBe(true);
    expect(isNonRetryable(new FakeAwsError('X', 'x', true))).toBe(false);
    expect(isNonRetryable(new Error('plain'))).toBe(false);
    expect(isNonRetryable(undefined)).toBe(false);
  });

  it('reports a job whose worker died holding it twice: a stall line and event, then a dead letter the handler never saw', async () => {
    const payload = syncPayload();
    const { id } = await producer.enqueue('cluster.sync', payload);
    // A worker that takes the job and then never renews its lock: a process killed mid-job.
    const dying = new Worker('eks-sync', null, {
      connection: workerRedis,
      prefix,
      lockDuration: 300,
      autorun: false,
    });
    env.onCleanup(() => dying.close(true));
    const taken = await dying.getNextJob(randomUUID());
    expect(taken?.id).toBe(id);
    // It already stalled once before (BullMQ allows one stall), so this stall is one too many.
    await redis.hset(`${prefix}:eks-sync:${id}`, 'stc', '1');

    const stalled: StalledJob[] = [];
    const dead: DeadLetteredJob[] = [];
    let handled = 0;
    start(
      'eks-sync',
      {
        'cluster.sync': async () => {
          handled++;
        },
        'cluster.scheduled-sync': noop,
        'cluster.doctor': noop,
      },
      {
        stalledIntervalMs: 200,
        events: { onStalled: (j) => stalled.push(j), onDeadLettered: (j) => dead.push(j) },
      },
    );
    await waitFor(() => (dead.length > 0 ? true : undefined), 15_000, 'the dead letter');
    expect(stalled).toEqual([{ queue: 'eks-sync', jobId: id }]);
    expect(dead).toEqual([
      expect.objectContaining({ queue: 'eks-sync', jobId: id, name: 'cluster.sync', stalled: true }),
    ]);
    expect(handled).toBe(0);
    expect(lines.filter((l) => l.msg === 'job stalled; its worker stopped renewing the lock')).toHaveLength(
      1,
    );
    expect(lines.filter((l) => l.msg === 'job dead-lettered' && l.level === 'error')).toHaveLength(1);
    expect(await env.inspect(redis, 'eks-sync').getJobState(id)).toBe('failed');
  });

  it('reports a job that used up its attempts as dead-lettered once, not its retries', async () => {
    const dead: DeadLetteredJob[] = [];
    start(
      'eks-sync',
      {
        'cluster.sync': async () => {
          throw new Error('still broken');
        },
        'cluster.scheduled-sync': noop,
        'cluster.doctor': noop,
      },
      { events: { onDeadLettered: (j) => dead.push(j) } },
    );
    const { id } = await producer.enqueue('cluster.sync', syncPayload());
    await waitForJobState(env.inspect(redis, 'eks-sync'), id, ['failed'], 10_000);
    await waitFor(() => (dead.length > 0 ? true : undefined), 5_000, 'the dead letter');
    expect(dead).toEqual([
      expect.objectContaining({ jobId: id, attempts: 3, reason: 'still broken', stalled: false }),
    ]);
  });
});
