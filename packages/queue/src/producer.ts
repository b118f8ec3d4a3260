// The producer side: enqueue catalogue jobs and manage per-cluster sync schedules. A payload is
// validated before any Redis call, so a bad payload never becomes a job that a worker has to
// reject later.
import { Queue, type JobsOptions } from 'bullmq';
import {
  DEFAULT_PREFIX,
  JOBS,
  QUEUE_NAMES,
  isSafeJobId,
  jobIdFor,
  parsePayload,
  type JobName,
  type JobPayloadInput,
  type QueueName,
  type RetryPolicy,
} from './catalogue.js';
import type { RedisConnection } from './connection.js';
import { InvalidJobPayloadError, QueueError, QueueFullError, RedisUnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { scheduleOffsetMs, scheduleProblem, type Schedule } from './schedule.js';

export type { Schedule } from './schedule.js';

export interface ProducerOptions {
  /** A connection from `createRedisConnection({ role: 'producer' })`; the producer does not close it. */
  connection: RedisConnection;
  prefix?: string;
  /** Changes to the catalogue's retry policy per job (tests, tuning). */
  policies?: Partial<Record<JobName, Partial<RetryPolicy>>>;
  /**
   * The longest any call waits for Redis before it throws RedisUnavailableError. Default 5 s. A
   * call made while the connection is down throws at once instead of waiting for it to come back.
   */
  commandTimeoutMs?: number;
  /** Where the queues' own connection errors are logged (otherwise BullMQ prints them unstructured). */
  logger?: Logger;
}

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  /** 1 is the highest priority; jobs without a priority run first. */
  priority?: number;
}

export interface EnqueuedJob {
  id: string;
  name: JobName;
  queue: QueueName;
}

export const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];
export type QueueCounts = Record<QueueName, Record<JobState, number>>;

/** The stable id of a cluster's job scheduler, so an upsert replaces rather than adds. */
export function scheduleIdFor(clusterId: string): string {
  return `schedule-${clusterId}`;
}

/** Turns a retry policy into BullMQ job options. */
export function jobOptionsFor(policy: RetryPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    backoff: { type: policy.backoff.type, delay: policy.backoff.delayMs, jitter: policy.backoff.jitter },
    removeOnComplete: { age: policy.removeOnComplete.ageSeconds, count: policy.removeOnComplete.count },
    removeOnFail: { age: policy.removeOnFail.ageSeconds, count: policy.removeOnFail.count },
  };
}

// ioredis's messages for a connection that is down or going down; anything else is a real error.
const CONNECTION_DOWN =
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|max retries per request|Reached the max retries/i;

/** True when `err` says Redis could not be reached, rather than that a command was wrong. */
export function isRedisConnectionError(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (err instanceof QueueError) return false;
  return err instanceof Error && CONNECTION_DOWN.test(`${err.name} ${err.message}`);
}

/** Creates a producer for every queue of the catalogue. */
export function createProducer(options: ProducerOptions) {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const timeoutMs = options.commandTimeoutMs ?? 5_000;
  const queues = new Map<QueueName, Queue>();

  function queueFor(name: QueueName): Queue {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: options.connection, prefix });
      // Without a listener BullMQ prints connection errors to stderr as plain text.
      queue.on('error', (err) => options.logger?.warn({ err, queue: name }, 'queue connection error'));
      queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Runs one Redis-backed operation within the time bound. A queue created while Redis is down
   * waits for the connection indefinitely, so the bound is what keeps an HTTP request from hanging;
   * the operation itself may still land later, which is harmless because job ids are deterministic.
   */
  async function bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    const status = options.connection.status;
    if (status !== 'ready') {
      throw new RedisUnavailableError(`cannot ${what}: the Redis connection is ${status}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new RedisUnavailableError(`cannot ${what}: Redis did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const running = work();
    running.catch(() => undefined);
    try {
      return await Promise.race([running, timeout]);
    } catch (err) {
      if (isRedisConnectionError(err) && !(err instanceof RedisUnavailableError)) {
        throw new RedisUnavailableError(`cannot ${what}: ${(err as Error).message}`, err);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  function policyOf(name: JobName): RetryPolicy {
    const { attempts, backoff, removeOnComplete, removeOnFail } = JOBS[name];
    return { attempts, backoff, removeOnComplete, removeOnFail, ...options.policies?.[name] };
  }

  return {
    /** Validates `payload` and adds the job; adding a job whose id already exists is a no-op. */
    async enqueue<N extends JobName>(
      name: N,
      payload: JobPayloadInput<N>,
      opts: EnqueueOptions = {},
    ): Promise<EnqueuedJob> {
      if (!Object.hasOwn(JOBS, name))
        throw new InvalidJobPayloadError(name, [{ path: '(job)', message: 'not a job of the catalogue' }]);
      const parsed = parsePayload(name, payload);
      if (!parsed.ok) throw new InvalidJobPayloadError(name, parsed.problems);
      const jobId = jobIdFor(name, parsed.value);
      if (jobId !== undefined && !isSafeJobId(jobId)) {
        throw new InvalidJobPayloadError(name, [
          { path: '(job id)', message: `${jobId} cannot be a job id (no ":" and not all digits)` },
        ]);
      }
      const queueName = JOBS[name].queue;
      const job = await bounded(`enqueue ${name}`, () =>
        queueFor(queueName).add(name, parsed.value, {
          ...jobOptionsFor(policyOf(name)),
          ...(jobId === undefined ? {} : { jobId }),
          ...(opts.delayMs === undefined ? {} : { delay: opts.delayMs }),
          ...(opts.priority === undefined ? {} : { priority: opts.priority }),
        }),
      );
      return { id: job.id ?? jobId ?? '', name, queue: queueName };
    },

    /**
     * Enqueues a job again although a finished job with the same deterministic id is still kept
     * (in the failed set as a dead letter, or completed): that job is removed first, otherwise the
     * add would be a no-op. A waiting, delayed or running job is left alone, so this stays idempotent.
     */
    async requeue<N extends JobName>(
      name: N,
      payload: JobPayloadInput<N>,
      opts: EnqueueOptions = {},
    ): Promise<EnqueuedJob> {
      const parsed = Object.hasOwn(JOBS, name) ? parsePayload(name, payload) : undefined;
      const jobId = parsed?.ok ? jobIdFor(name, parsed.value) : undefined;
      if (jobId !== undefined && isSafeJobId(jobId)) {
        await bounded(`requeue ${name}`, async () => {
          const existing = await queueFor(JOBS[name].queue).getJob(jobId);
          const state = existing ? await existing.getState() : undefined;
          if (existing && (state === 'failed' || state === 'completed')) await existing.remove();
        });
      }
      return this.enqueue(name, payload, opts);
    },

    /**
     * The state of the job a payload maps to (its deterministic id): BullMQ's state, or `missing`
     * when no such job is kept (never added, removed, or lost with Redis).
     */
    async jobState<N extends JobName>(name: N, payload: JobPayloadInput<N>): Promise<string> {
      const parsed = parsePayload(name, payload);
      if (!parsed.ok) throw new InvalidJobPayloadError(name, parsed.problems);
      const jobId = jobIdFor(name, parsed.value);
      if (jobId === undefined) return 'missing';
      return bounded(`read job ${jobId}`, async () => {
        const job = await queueFor(JOBS[name].queue).getJob(jobId);
        return job ? await job.getState() : 'missing';
      });
    },

    /**
     * Creates or replaces the periodic sync of a cluster (`cluster.scheduled-sync` jobs). An interval
     * schedule fires at the cluster's own offset in each interval (`scheduleOffsetMs`), so the first
     * run comes within one interval rather than at once; a cron schedule fires when its pattern says.
     */
    async upsertSchedule(clusterId: string, schedule: Schedule): Promise<void> {
      const parsed = parsePayload('cluster.scheduled-sync', { clusterId });
      if (!parsed.ok) throw new InvalidJobPayloadError('cluster.scheduled-sync', parsed.problems);
      const problem = scheduleProblem(schedule);
      if (problem !== undefined) {
        throw new InvalidJobPayloadError('cluster.scheduled-sync', [
          { path: 'everyMs' in schedule ? 'everyMs' : 'cron', message: problem },
        ]);
      }
      const queue = queueFor(JOBS['cluster.scheduled-sync'].queue);
      const id = scheduleIdFor(clusterId);
      let repeat: { every: number; offset: number } | { pattern: string; tz?: string };
      if ('everyMs' in schedule) {
        // BullMQ reads an offset of 0 as "no offset" (first run at once); a whole interval is the same
        // place in the interval and keeps the alignment.
        const offset = scheduleOffsetMs(clusterId, schedule.everyMs) || schedule.everyMs;
        repeat = { every: schedule.everyMs, offset };
        // BullMQ keeps a scheduler's next run when the interval is unchanged, whatever the offset: a
        // schedule made before offsets (or with another one) is removed so it takes its own place.
        const existing = await bounded('read a sync schedule', () => queue.getJobScheduler(id));
        if (existing?.every === schedule.everyMs && existing.offset !== offset) {
          await bounded('replace a sync schedule', () => queue.removeJobScheduler(id));
        }
      } else {
        repeat = { pattern: schedule.cron, ...(schedule.tz === undefined ? {} : { tz: schedule.tz }) };
      }
      await bounded('upsert a sync schedule', () =>
        queue.upsertJobScheduler(id, repeat, {
          name: 'cluster.scheduled-sync',
          data: parsed.value,
          opts: jobOptionsFor(policyOf('cluster.scheduled-sync')),
        }),
      );
    },

    /**
     * Brings a cluster's next schedule tick forward to now (its job moves from delayed to waiting);
     * the ticks after it keep their times. False when there is no pending tick to move.
     */
    async promoteSchedule(clusterId: string): Promise<boolean> {
      const queue = queueFor(JOBS['cluster.scheduled-sync'].queue);
      const id = scheduleIdFor(clusterId);
      return bounded('run a sync schedule now', async () => {
        const scheduler = await queue.getJobScheduler(id);
        if (scheduler?.next === undefined || scheduler.next === null) return false;
        // BullMQ names a scheduler's jobs after the scheduler and the tick's time.
        const job = await queue.getJob(`repeat:${id}:${scheduler.next}`);
        if (!job || !(await job.isDelayed())) return false;
        await job.promote();
        return true;
      });
    },

    /** Stops the periodic sync of a cluster; false when it had none. */
    async removeSchedule(clusterId: string): Promise<boolean> {
      return bounded('remove a sync schedule', () =>
        queueFor(JOBS['cluster.scheduled-sync'].queue).removeJobScheduler(scheduleIdFor(clusterId)),
      );
    },

    /** The schedule of a cluster, or undefined when it has none. */
    async getSchedule(clusterId: string): Promise<(Schedule & { nextRunAt?: number }) | undefined> {
      const scheduler = await bounded('read a sync schedule', () =>
        queueFor(JOBS['cluster.scheduled-sync'].queue).getJobScheduler(scheduleIdFor(clusterId)),
      );
      if (!scheduler) return undefined;
      const next = scheduler.next === undefined ? {} : { nextRunAt: scheduler.next };
      if (scheduler.every) return { everyMs: Number(scheduler.every), ...next };
      return { cron: scheduler.pattern ?? '', ...(scheduler.tz ? { tz: scheduler.tz } : {}), ...next };
    },

    /** Job counts per queue and state, for metrics. */
    async queueCounts(): Promise<QueueCounts> {
      const entries = await Promise.all(
        QUEUE_NAMES.map(async (name) => {
          const counts = await bounded('count jobs', () => queueFor(name).getJobCounts(...JOB_STATES));
          const byState = Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<
            JobState,
            number
          >;
          return [name, byState] as const;
        }),
      );
      return Object.fromEntries(entries) as QueueCounts;
    },

    /**
     * BullMQ's own Prometheus text for one queue (`bullmq_job_count{queue,state}`,
     * `bullmq_job_completed_total`, `bullmq_job_failed_total`), with `labels` added to every sample.
     */
    async prometheusMetrics(name: QueueName, labels?: Record<string, string>): Promise<string> {
      return bounded('export queue metrics', () => queueFor(name).exportPrometheusMetrics(labels));
    },

    /**
     * Jobs of `name` ready to run and not yet taken (waiting and prioritized). Delayed jobs are not
     * counted: every interval schedule keeps its next tick there, and a deferred job is not due.
     */
    async backlog(name: QueueName): Promise<number> {
      const counts = await bounded('count jobs', () => queueFor(name).getJobCounts('waiting', 'prioritized'));
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    },

    /**
     * Throws QueueFullError when `name`'s backlog is `max` or more, RedisUnavailableError unless
     * Redis answers: checked before recording work that needs a job on that queue.
     */
    async assertRoom(name: QueueName, max: number): Promise<void> {
      const backlog = await this.backlog(name);
      if (backlog >= max) throw new QueueFullError(name, backlog, max);
    },

    /** Throws RedisUnavailableError unless Redis answers now: checked before recording work that needs a job. */
    async assertAvailable(): Promise<void> {
      await bounded('reach Redis', () => options.connection.ping());
    },

    /** Closes the producer's queues (not the connection, which the caller owns). */
    async close(): Promise<void> {
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}

export type Producer = ReturnType<typeof createProducer>;
