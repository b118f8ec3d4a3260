// The queue package's error family. Like eks-core's EksAccessError, every error carries a stable
// `code` and a `retryable` flag, so a consumer wrapping code that throws these (a lock that is
// busy, a lost lock) decides about retries the same way it does for cloud errors.

export type QueueErrorCode =
  'INVALID_JOB_PAYLOAD' | 'UNKNOWN_JOB' | 'REDIS_UNAVAILABLE' | 'LOCK_BUSY' | 'LOCK_LOST' | 'QUEUE_FULL';

export class QueueError extends Error {
  readonly code: QueueErrorCode;
  readonly retryable: boolean;

  constructor(code: QueueErrorCode, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QueueError';
    this.code = code;
    this.retryable = options.retryable;
  }
}

export interface PayloadProblem {
  /** Dotted path into the payload, `(root)` for the payload itself. */
  path: string;
  message: string;
}

/** A payload does not match its job's schema. Thrown by `enqueue` before anything reaches Redis. */
export class InvalidJobPayloadError extends QueueError {
  readonly jobName: string;
  readonly problems: readonly PayloadProblem[];

  constructor(jobName: string, problems: readonly PayloadProblem[]) {
    super('INVALID_JOB_PAYLOAD', `invalid payload for job ${jobName}: ${formatProblems(problems)}`, {
      retryable: false,
    });
    this.name = 'InvalidJobPayloadError';
    this.jobName = jobName;
    this.problems = problems;
  }
}

/** Redis could not be reached (when connecting, or by the rate limiter and locks, which fail fast). */
export class RedisUnavailableError extends QueueError {
  constructor(message: string, cause?: unknown) {
    super('REDIS_UNAVAILABLE', message, { retryable: true, cause });
    this.name = 'RedisUnavailableError';
  }
}

/** Another holder kept the lock for longer than the caller was willing to wait. */
export class LockBusyError extends QueueError {
  readonly key: string;

  constructor(key: string, heldForMs: number | undefined) {
    const held =
      heldForMs === undefined || heldForMs < 0 ? '' : ` (it expires in ${heldForMs} ms unless renewed)`;
    super('LOCK_BUSY', `lock ${key} is held by another worker${held}`, { retryable: true });
    this.name = 'LockBusyError';
    this.key = key;
  }
}

/** The lock expired or was taken over while its holder was still working. */
export class LockLostError extends QueueError {
  readonly key: string;

  constructor(key: string, cause?: unknown) {
    super('LOCK_LOST', `lock ${key} was lost before the work under it finished`, { retryable: true, cause });
    this.name = 'LockLostError';
    this.key = key;
  }
}

/** A queue's backlog (jobs ready and not yet taken) is at its bound: new work must wait. */
export class QueueFullError extends QueueError {
  readonly queue: string;
  readonly backlog: number;
  readonly max: number;

  constructor(queue: string, backlog: number, max: number) {
    super('QUEUE_FULL', `queue ${queue} has ${backlog} jobs waiting (at most ${max} are accepted)`, {
      retryable: true,
    });
    this.name = 'QueueFullError';
    this.queue = queue;
    this.backlog = backlog;
    this.max = max;
  }
}

function formatProblems(problems: readonly PayloadProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}
