// The consumer side: a BullMQ worker around typed handlers. It checks each payload against the
// catalogue on receipt, gives the handler a child logger and an abort signal, decides retries
// from the error's `retryable` flag, and writes one completion line per job.
//
// Shutdown hands work back rather than failing it: after the grace period the handlers' signals
// are aborted and each interrupted job is moved back to the waiting list with its attempt count
// unchanged, so another worker starts it again at once (at-least-once delivery; handlers must be
// idempotent). A handler that ignores its signal keeps its lock until the process exits; BullMQ's
// stalled-job check then gives the job to another worker.
//
// A handler that cannot run its job yet (its AWS account's slots are all taken) defers it with
// `ctx.defer(ms)`: the job goes to the delayed set without spending an attempt and the worker slot
// is free at once for a job that can run.
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import {
  DEFAULT_PREFIX,
  JOBS,
  isJobName,
  parsePayload,
  type JobName,
  type JobPayload,
  type JobsOf,
  type QueueName,
} from './catalogue.js';
import type { RedisConnection } from './connection.js';
import { InvalidJobPayloadError } from './errors.js';
import type { Logger } from './logger.js';

export interface JobInfo {
  id: string;
  name: JobName;
  queue: QueueName;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
  /** When the job was added (ms since the epoch). */
  enqueuedAt: number;
  /** Times the job was deferred (`ctx.defer`) since its last attempt began. */
  deferrals: number;
}

export type JobProgress = number | Record<string, unknown>;

export interface JobContext {
  job: JobInfo;
  /** Aborted when the worker shuts down (hand the job back) or BullMQ cancels the job. */
  signal: AbortSignal;
  attempt: number;
  /** Bound to the queue, job name, job id and attempt. */
  logger: Logger;
  updateProgress(progress: JobProgress): Promise<void>;
  /**
   * Puts the job back for `delayMs` without spending an attempt, and frees this worker slot: call
   * it as `return ctx.defer(ms)`; it always throws, and the consumer treats that as a deferral.
   */
  defer(delayMs: number): Promise<never>;
}

/** A job handler; its result is stored with the job and logged, so keep it small (counts, ids). */
export type JobHandler<N extends JobName> = (payload: JobPayload<N>, ctx: JobContext) => Promise<unknown>;
export type JobHandlers<Q extends QueueName> = { [N in JobsOf<Q>]: JobHandler<N> };

export type JobOutcome = 'completed' | 'retrying' | 'failed' | 'handed-back' | 'deferred';

/** A job BullMQ found without a live lock (its worker died or froze); it goes back to the queue. */
export interface StalledJob {
  queue: QueueName;
  jobId: string;
}

/** A job that failed for good and now sits in the failed set (the dead letters). */
export interface DeadLetteredJob {
  queue: QueueName;
  jobId: string;
  name: string;
  /** Tries started, the last one included. */
  attempts: number;
  reason: string;
  /** True when BullMQ gave up because the job stalled too often, without running the handler. */
  stalled: boolean;
}

/** One run of a handler, as it ended (the same figures as its "job finished" log line). */
export interface FinishedJob {
  queue: QueueName;
  name: string;
  outcome: JobOutcome;
  durationMs: number;
  /** 1 on the first try. */
  attempt: number;
  /**
   * The failure's stable code (`LOCK_LOST`, `THROTTLED`, `ECONNREFUSED`…), `UNCLASSIFIED` for an
   * error without one; absent when the job completed or was handed back.
   */
  errorCode?: string;
}

/**
 * Notifications for metrics: every finished run, and the jobs that went wrong outside a handler's
 * view. The consumer logs every one itself; these are called after the log line and must not throw.
 */
export interface ConsumerEvents {
  onJobFinished?(job: FinishedJob): void;
  onStalled?(job: StalledJob): void;
  onDeadLettered?(job: DeadLetteredJob): void;
  /** BullMQ could not renew the locks of these running jobs (Redis down or slow): they may run twice. */
  onLockRenewalFailed?(job: { queue: QueueName; jobIds: string[] }): void;
}

// A code is a label value in metrics: only short upper-case identifiers count as codes, so the set
// stays bounded whatever an error carries.
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** The stable code of a failure, for metrics: its own `code`, its cause's, or `UNCLASSIFIED`. */
export function errorCodeOf(err: unknown): string {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && ERROR_CODE.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'UNCLASSIFIED';
}

/** BullMQ's failed reason for a job whose stall count passed `maxStalledCount`. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

export interface ConsumerOptions<Q extends QueueName> {
  /** A connection from `createRedisConnection({ role: 'worker' })`; the consumer does not close it. */
  connection: RedisConnection;
  queue: Q;
  handlers: JobHandlers<Q>;
  /** Jobs run at once by this process. */
  concurrency: number;
  logger: Logger;
  /** How long a job's lock lasts without renewal; a crashed worker's job is retried after this. Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of crashed workers. Default 30 s (BullMQ's). */
  stalledIntervalMs?: number;
  prefix?: string;
  /** How long `close()` waits for running jobs before aborting them. Default 25 s. */
  shutdownTimeoutMs?: number;
  /** How long `close()` then waits for aborted handlers to return. Default 5 s. */
  handBackTimeoutMs?: number;
  events?: ConsumerEvents;
}

export interface CloseOptions {
  timeoutMs?: number;
  handBackTimeoutMs?: number;
}

class ShutdownError extends Error {
  constructor() {
    super('the worker is shutting down; the job is handed back to the queue');
    this.name = 'ShutdownError';
  }
}

/** True for errors that say retrying cannot help (`retryable === false`, as on EksAccessError). */
export function isNonRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false;
}

function toWorkerError(err: unknown): Error {
  if (err instanceof UnrecoverableError) return err;
  if (isNonRetryable(err)) {
    const e = err as { code?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    const unrecoverable = new UnrecoverableError(
      typeof e.code === 'string' ? `[${e.code}] ${message}` : message,
    );
    unrecoverable.cause = err;
    return unrecoverable;
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Starts a worker on `queue` that runs the given handlers. */
export function createConsumer<Q extends QueueName>(options: ConsumerOptions<Q>) {
  const { queue, logger } = options;
  const handlers = options.handlers as Partial<Record<string, JobHandler<JobName>>>;
  const shutdown = new AbortController();
  let running = 0;
  let intakePaused = false;

  async function runJob(
    job: Job<unknown, unknown, string>,
    token: string | undefined,
    bullSignal: AbortSignal | undefined,
  ): Promise<unknown> {
    const startedAt = performance.now();
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const log = logger.child({ queue, job: job.name, jobId: job.id, attempt });
    const signal = bullSignal ? AbortSignal.any([shutdown.signal, bullSignal]) : shutdown.signal;
    let outcome: JobOutcome = 'failed';
    let failure: Error | undefined;
    let thrown: unknown;
    let result: unknown;
    running++;
    try {
      if (intakePaused && token !== undefined) {
        // A fetch already in flight when intake paused still delivers one job: hand it back
        // untouched (no attempt spent) so that nothing new starts here while paused.
        await job.moveToWait(token);
        outcome = 'handed-back';
        throw new WaitingError();
      }
      const name = job.name;
      const handler = isJobName(name) && JOBS[name].queue === queue ? handlers[name] : undefined;
      if (!isJobName(name) || !handler)
        throw new UnrecoverableError(`no handler for job ${name} on queue ${queue}`);
      const parsed = parsePayload(name, job.data);
      if (!parsed.ok) throw new UnrecoverableError(new InvalidJobPayloadError(name, parsed.problems).message);
      const ctx: JobContext = {
        job: {
          id: job.id ?? '',
          name,
          queue,
          attempt,
          maxAttempts,
          enqueuedAt: job.timestamp,
          // Every start counts in attemptsStarted; a deferral is a start that spent no attempt.
          deferrals: Math.max(0, job.attemptsStarted - job.attemptsMade - 1),
        },
        signal,
        attempt,
        logger: log,
        updateProgress: (progress) => job.updateProgress(progress),
        defer: async (delayMs) => {
          if (token === undefined) throw new Error('a job can only be deferred while its worker holds it');
          await job.moveToDelayed(Date.now() + Math.max(0, Math.round(delayMs)), token);
          throw new DelayedError();
        },
      };
      result = await handler(parsed.value, ctx);
      outcome = 'completed';
      return result;
    } catch (err) {
      thrown = err;
      if (err instanceof WaitingError && outcome === 'handed-back') throw err;
      if (err instanceof DelayedError) {
        // Already moved by ctx.defer; BullMQ leaves a job alone when its processor throws this.
        outcome = 'deferred';
        throw err;
      }
      if (shutdown.signal.aborted && token !== undefined && !(err instanceof UnrecoverableError)) {
        // Interrupted by shutdown: the failure says nothing about the job, so put it back
        // without spending an attempt. WaitingError tells BullMQ the job has already moved.
        try {
          await job.moveToWait(token);
          outcome = 'handed-back';
          throw new WaitingError();
        } catch (moveErr) {
          if (moveErr instanceof WaitingError) throw moveErr;
          log.warn({ err: moveErr }, 'could not hand the job back; it will count as a failed attempt');
        }
      }
      failure = toWorkerError(err);
      outcome = failure instanceof UnrecoverableError || attempt >= maxAttempts ? 'failed' : 'retrying';
      throw failure;
    } finally {
      running--;
      const line = {
        durationMs: Math.round(performance.now() - startedAt),
        outcome,
        ...(failure ? { err: failure } : {}),
        ...(result === undefined ? {} : { result }),
      };
      if (outcome === 'failed') log.error(line, 'job finished');
      else if (outcome === 'retrying') log.warn(line, 'job finished');
      else if (outcome === 'deferred') log.debug(line, 'job finished');
      else log.info(line, 'job finished');
      notify(() =>
        options.events?.onJobFinished?.({
          queue,
          name: job.name,
          outcome,
          durationMs: line.durationMs,
          attempt,
          ...(outcome === 'failed' || outcome === 'retrying' ? { errorCode: errorCodeOf(thrown) } : {}),
        }),
      );
    }
  }

  const worker = new Worker<unknown, unknown, string>(queue, runJob, {
    connection: options.connection,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // Completed and failed counts (per minute, a day kept), which Queue.exportPrometheusMetrics reports
    // as totals.
    metrics: { maxDataPoints: 24 * 60 },
  });
  worker.on('error', (err) => logger.error({ err, queue }, 'queue worker error'));
  // A stall is seen by whichever worker's check finds the lapsed lock, so each one is counted once.
  worker.on('stalled', (jobId) => {
    logger.warn({ queue, jobId }, 'job stalled; its worker stopped renewing the lock');
    notify(() => options.events?.onStalled?.({ queue, jobId }));
  });
  worker.on('lockRenewalFailed', (jobIds) => {
    logger.warn({ queue, jobIds }, 'job locks could not be renewed; another worker may start these jobs');
    notify(() => options.events?.onLockRenewalFailed?.({ queue, jobIds }));
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const attempts = Math.max(job.attemptsMade, 1);
    const unrecoverable = err.name === 'UnrecoverableError' || err.message === STALLED_TOO_OFTEN;
    if (!unrecoverable && attempts < (job.opts.attempts ?? 1)) return;
    const stalled = err.message === STALLED_TOO_OFTEN;
    const dead: DeadLetteredJob = {
      queue,
      jobId: job.id ?? '',
      name: job.name,
      attempts,
      reason: err.message,
      stalled,
    };
    // The handler's own failures already wrote "job finished"; a stall failure never reached it.
    logger.error(dead, 'job dead-lettered');
    notify(() => options.events?.onDeadLettered?.(dead));
  });

  function notify(call: () => void): void {
    try {
      call();
    } catch (err) {
      logger.warn({ err, queue }, 'a consumer event listener threw');
    }
  }

  let closing: Promise<void> | undefined;

  return {
    /** Waits until the worker is connected and taking jobs (useful in tests). */
    async ready(): Promise<void> {
      await worker.waitUntilReady();
    },

    /**
     * True while the worker can take jobs: started, not closing, not paused (other than by
     * `pauseIntake`, which is a choice, not a fault), and its Redis connection is up. It turns false
     * during a Redis outage and true again once the connection is back.
     */
    isUsable(): boolean {
      return (
        closing === undefined &&
        // A paused worker's loop may stop until it resumes; intake paused on purpose still counts.
        (intakePaused || (worker.isRunning() && !worker.isPaused())) &&
        options.connection.status === 'ready'
      );
    },

    /** Stops taking new jobs (backpressure); running jobs carry on. */
    async pauseIntake(): Promise<void> {
      if (intakePaused || closing !== undefined) return;
      intakePaused = true;
      await worker.pause(true);
    },

    /** Takes jobs again after `pauseIntake`. */
    async resumeIntake(): Promise<void> {
      if (!intakePaused || closing !== undefined) return;
      intakePaused = false;
      await worker.resume();
    },

    /** True while `pauseIntake` holds new jobs back. */
    isIntakePaused(): boolean {
      return intakePaused;
    },

    /** Jobs running in this process now. */
    running(): number {
      return running;
    },

    /** Stops taking jobs, lets running ones finish, then aborts and hands back what is left. */
    close(closeOptions: CloseOptions = {}): Promise<void> {
      closing ??= (async () => {
        const timeoutMs = closeOptions.timeoutMs ?? options.shutdownTimeoutMs ?? 25_000;
        const handBackMs = closeOptions.handBackTimeoutMs ?? options.handBackTimeoutMs ?? 5_000;
        const closed = worker.close();
        if (await settlesWithin(closed, timeoutMs)) return;
        logger.warn({ queue, running, timeoutMs }, 'shutdown timeout reached; aborting running jobs');
        shutdown.abort(new ShutdownError());
        if (await settlesWithin(closed, handBackMs)) return;
        logger.error(
          { queue, running },
          'jobs ignored the abort signal; their locks will expire and another worker will retry them',
        );
      })();
      return closing;
    },
  };
}

export type Consumer = ReturnType<typeof createConsumer>;

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
