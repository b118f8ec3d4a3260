// The service-mode loop: Hello, then poll GetTask and run each task, finishing it with its result.
// Mirrors baton-sdk's c1api task manager (pkg/tasks/c1api, v0.25.0):
// - Hello backs off from 1 s to 5 min and gives up at once on credential or request errors;
//   GetTask honours next_poll (0–5 min); FinishTask has a 30 s deadline.
// - Only a full sync is heartbeated (next_heartbeat, 1 s–5 min; cancelled when C1 says so or after
//   10 failures in a row). Grant, revoke, list_event_feeds and list_events tasks run without
//   heartbeats, as the SDK runs them.
// - list_events answers one page of a feed (ListEventsResponse: events, cursor, has_more); a task
//   C1 cannot fix by retrying (a page size over 1000, a cursor this connector never gave, a feed it
//   does not serve) fails non-retryable. Without a listEvents handler the task is unsupported.
// - A hello task is answered with a Hello carrying its id, and nothing else (no FinishTask).
// - A failed grant or revoke is finished with non_retryable set, as the SDK joins every such error
//   with ErrTaskNonRetryable; the one exception is a task cut short because this loop is stopping,
//   which C1 may hand out again (the handlers are idempotent per task id).
// - A task type this connector does not run is finished as the SDK finishes a type it does not
//   know: status Unknown, "unsupported task type", retryable, no heartbeat.
import type { C1Client, FinishOutcome, GetTaskResult, HelloInfo } from './client.js';
import { C1Error, grpcCodeOf, isNonRetryable } from './errors.js';
import { type AnyMessage, type EventFeedMetadata, type Grant, messageCodecs, packAny } from './messages.js';
import {
  abortReason,
  type BackoffOptions,
  DEFAULT_BACKOFF,
  retryDelayMs,
  sleep,
  withRetry,
} from './retry.js';
import { listEventsResponse, type ListEventsResult } from './events.js';
import type {
  C1Task,
  GrantTask,
  ListEventFeedsTask,
  ListEventsTask,
  RevokeTask,
  SyncFullTask,
} from './tasks.js';

const MAX_POLL_MS = 5 * 60_000;
const DEFAULT_HEARTBEAT_MS = 30_000;
const MIN_HEARTBEAT_MS = 1_000;
const MAX_HEARTBEAT_MS = 5 * 60_000;
const MAX_HEARTBEAT_FAILURES = 10;
const FINISH_TASK_TIMEOUT_MS = 30_000;
const FINISH_TASK_ATTEMPTS = 5;
/** Used only when C1 sends no next_poll at all, so a silent server is not polled in a tight loop. */
const DEFAULT_POLL_MS = 1_000;
const MAX_ERROR_MESSAGE = 4_096;
const GRPC_UNKNOWN = 2;

/** The slice of pino the loop uses. */
export interface ServiceLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): ServiceLogger;
}

export interface TaskContext {
  taskId: string;
  /** Aborted when C1 cancels the task, heartbeats keep failing, or the loop stops. */
  signal: AbortSignal;
  logger: ServiceLogger;
}

/**
 * A full sync either hands back the c1z for the loop to upload, or says it uploaded the file
 * itself (an uploader that tracks uploads in its own store, so a resumed task is not uploaded twice).
 */
export type SyncFullResult = { c1zPath: string } | { uploaded: true };

export interface GrantResult {
  /** Include baton's GrantAlreadyExists annotation when nothing had to change. */
  annotations?: AnyMessage[];
  grants?: Grant[];
}

export interface RevokeResult {
  /** Include baton's GrantAlreadyRevoked annotation when nothing had to change. */
  annotations?: AnyMessage[];
}

export interface ServiceLoopHandlers {
  syncFull(task: SyncFullTask, ctx: TaskContext): Promise<SyncFullResult>;
  grant(task: GrantTask, ctx: TaskContext): Promise<GrantResult>;
  revoke(task: RevokeTask, ctx: TaskContext): Promise<RevokeResult>;
  /** The event feeds this connector serves; without a handler the answer is an empty list. */
  listEventFeeds?(task: ListEventFeedsTask, ctx: TaskContext): Promise<EventFeedMetadata[]>;
  /** One page of an event feed; without a handler, list_events tasks are unsupported. */
  listEvents?(task: ListEventsTask, ctx: TaskContext): Promise<ListEventsResult>;
}

export interface ServiceLoopOptions {
  client: C1Client;
  handlers: ServiceLoopHandlers;
  helloInfo: HelloInfo;
  logger: ServiceLogger;
  /** Stops the loop; a running task is aborted and reported to C1 as a retryable failure. */
  signal?: AbortSignal;
  /** Backoff for Hello, GetTask and FinishTask retries. */
  backoff?: BackoffOptions;
  defaultPollMs?: number;
}

/**
 * Runs until `signal` aborts (resolves) or C1 refuses this connector (rejects with the
 * non-retryable C1Error, logged once).
 */
export async function runServiceLoop(options: ServiceLoopOptions): Promise<void> {
  const { client, logger, signal } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  try {
    await sayHello(options, backoff);
    let failures = 0;
    while (!signal?.aborted) {
      let result: GetTaskResult;
      try {
        result = await client.getTask({ signal });
        failures = 0;
      } catch (err) {
        if (signal?.aborted) break;
        if (isNonRetryable(err)) throw stopWith(logger, err, 'c1 refused GetTask; service mode stopped');
        failures++;
        const delayMs = retryDelayMs(err, failures, backoff);
        logger.warn({ err: errorFields(err), attempt: failures, delayMs }, 'c1 get task failed; retrying');
        await sleep(delayMs, signal);
        continue;
      }
      if (result.task) await runTask(result.task, result.nextHeartbeatMs, options, backoff);
      const pollMs = clamp(result.nextPollMs ?? options.defaultPollMs ?? DEFAULT_POLL_MS, 0, MAX_POLL_MS);
      await sleep(pollMs, signal);
    }
  } catch (err) {
    // Stopping surfaces as a rejected sleep or call; that is the normal way out.
    if (signal?.aborted) return;
    throw err;
  }
}

async function sayHello(options: ServiceLoopOptions, backoff: BackoffOptions): Promise<void> {
  const { client, logger, signal } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.hello(options.helloInfo, { signal });
      logger.info({ hostId: client.hostId, attempts: attempt }, 'c1 hello accepted');
      return;
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (isNonRetryable(err)) throw stopWith(logger, err, 'c1 refused hello; service mode stopped');
      const delayMs = retryDelayMs(err, attempt, backoff);
      logger.warn({ err: errorFields(err), attempt, delayMs }, 'c1 hello failed; retrying');
      await sleep(delayMs, signal);
    }
  }
}

function stopWith(logger: ServiceLogger, err: unknown, message: string): unknown {
  logger.error({ err: errorFields(err) }, message);
  return err;
}

async function runTask(
  task: C1Task,
  getTaskHeartbeatMs: number | undefined,
  options: ServiceLoopOptions,
  backoff: BackoffOptions,
): Promise<void> {
  const { client, signal } = options;
  const logger = options.logger.child({ taskId: task.id, taskKind: task.kind });
  if (task.kind === 'hello') {
    await answerHelloTask(task.id, options, logger);
    return;
  }
  const startedAt = Date.now();
  const controller = new AbortController();
  const onStop = () => controller.abort(abortReason(signal));
  signal?.addEventListener('abort', onStop, { once: true });
  let heartbeat: Heartbeat | undefined;
  let outcome: FinishOutcome;
  let uploadedBytes: number | undefined;

  try {
    if (task.kind === 'unsupported' || (task.kind === 'listEvents' && !options.handlers.listEvents)) {
      outcome = { error: { code: GRPC_UNKNOWN, message: 'unsupported task type', nonRetryable: false } };
      logger.warn(
        { taskType: task.kind === 'unsupported' ? task.taskType : task.kind },
        'c1 sent a task type this connector does not run',
      );
    } else {
      if (task.kind === 'syncFull') {
        heartbeat = await startHeartbeat(client, task.id, getTaskHeartbeatMs, controller, logger);
      }
      const ctx: TaskContext = { taskId: task.id, signal: controller.signal, logger };
      const run = await executeTask(task, ctx, options);
      outcome = run.outcome;
      uploadedBytes = run.uploadedBytes;
    }
  } catch (err) {
    const cause = controller.signal.aborted ? abortReason(controller.signal) : err;
    const provisioning = task.kind === 'grant' || task.kind === 'revoke';
    outcome = errorOutcome(cause, provisioning && !signal?.aborted);
  }

  try {
    await withRetry(() => client.finishTask(task.id, outcome, { timeoutMs: FINISH_TASK_TIMEOUT_MS }), {
      attempts: FINISH_TASK_ATTEMPTS,
      backoff,
      signal,
      onRetry: (err, attempt, delayMs) =>
        logger.warn({ err: errorFields(err), attempt, delayMs }, 'c1 finish task failed; retrying'),
    });
  } catch (err) {
    logger.error({ err: errorFields(err) }, 'c1 finish task failed');
    if (isCredentialError(err)) throw err;
  } finally {
    heartbeat?.stop();
    signal?.removeEventListener('abort', onStop);
  }

  const failed = 'error' in outcome ? outcome.error : undefined;
  logger.info(
    {
      outcome: failed ? 'error' : 'success',
      durationMs: Date.now() - startedAt,
      ...(uploadedBytes === undefined ? {} : { uploadedBytes }),
      ...(failed ? { error: failed.message, nonRetryable: failed.nonRetryable } : {}),
    },
    'c1 task finished',
  );
}

/** A hello task is answered by a Hello with its id; the SDK sends no FinishTask for it. */
async function answerHelloTask(
  taskId: string,
  options: ServiceLoopOptions,
  logger: ServiceLogger,
): Promise<void> {
  try {
    await options.client.hello(options.helloInfo, { signal: options.signal, taskId });
    logger.info({}, 'c1 hello task answered');
  } catch (err) {
    if (options.signal?.aborted) return;
    logger.error({ err: errorFields(err) }, 'c1 hello task failed');
    if (isCredentialError(err)) throw err;
  }
}

function isCredentialError(err: unknown): boolean {
  return err instanceof C1Error && (err.code === 'UNAUTHENTICATED' || err.code === 'PERMISSION_DENIED');
}

async function executeTask(
  task: Exclude<C1Task, { kind: 'unsupported' | 'hello' }>,
  ctx: TaskContext,
  options: ServiceLoopOptions,
): Promise<{ outcome: FinishOutcome; uploadedBytes?: number }> {
  const { client, handlers } = options;
  const codecs = messageCodecs();
  switch (task.kind) {
    case 'syncFull': {
      const result = await handlers.syncFull(task, ctx);
      if ('uploaded' in result) return { outcome: { success: {} } };
      const upload = await client.uploadAsset(task.id, result.c1zPath, { signal: ctx.signal });
      ctx.logger.debug(
        { bytes: upload.bytes, attempts: upload.attempts, sha256: upload.sha256 },
        'c1z uploaded',
      );
      return { outcome: { success: {} }, uploadedBytes: upload.bytes };
    }
    case 'grant': {
      const result = await handlers.grant(task, ctx);
      const annotations = result.annotations ?? [];
      const response = packAny(codecs.grantResponse, { annotations, grants: result.grants ?? [] });
      return { outcome: { success: { annotations, response } } };
    }
    case 'revoke': {
      const result = await handlers.revoke(task, ctx);
      const annotations = result.annotations ?? [];
      return {
        outcome: { success: { annotations, response: packAny(codecs.revokeResponse, { annotations }) } },
      };
    }
    case 'listEventFeeds': {
      const list = (await handlers.listEventFeeds?.(task, ctx)) ?? [];
      return { outcome: { success: { response: packAny(codecs.listEventFeedsResponse, { list }) } } };
    }
    case 'listEvents': {
      const page = await handlers.listEvents!(task, ctx);
      return {
        outcome: { success: { response: packAny(codecs.listEventsResponse, listEventsResponse(page)) } },
      };
    }
  }
}

/**
 * Reports a failure to C1: non-retryable when `nonRetryable` says so (a failed grant or revoke) or
 * the error does (`retryable: false`), retryable otherwise.
 */
function errorOutcome(err: unknown, nonRetryable: boolean): FinishOutcome {
  const retryable = (err as { retryable?: unknown } | null)?.retryable;
  const message = err instanceof Error ? err.message : String(err);
  return {
    error: {
      code: grpcCodeOf(err),
      message: message.slice(0, MAX_ERROR_MESSAGE),
      nonRetryable: nonRetryable || retryable === false,
    },
  };
}

interface Heartbeat {
  stop(): void;
}

/**
 * Sends the first heartbeat (a failure or a cancellation fails the task before it starts), then
 * keeps heartbeating in the background until stopped.
 */
async function startHeartbeat(
  client: C1Client,
  taskId: string,
  fallbackMs: number | undefined,
  task: AbortController,
  logger: ServiceLogger,
): Promise<Heartbeat> {
  const stopper = new AbortController();
  const first = await client.heartbeat(taskId, { signal: task.signal }).catch((err: unknown) => {
    throw new C1Error('HEARTBEAT_FAILED', `first heartbeat failed: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  });
  if (first.cancelled) throw cancelledByC1();

  let intervalMs = heartbeatInterval(first.nextHeartbeatMs ?? fallbackMs);
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const tick = async (): Promise<void> => {
    try {
      const response = await client.heartbeat(taskId, { signal: stopper.signal });
      failures = 0;
      intervalMs = heartbeatInterval(response.nextHeartbeatMs);
      if (response.cancelled) {
        logger.info({}, 'c1 cancelled the task');
        task.abort(cancelledByC1());
        return;
      }
    } catch (err) {
      if (stopper.signal.aborted) return;
      failures++;
      logger.warn({ err: errorFields(err), failures }, 'c1 heartbeat failed');
      if (failures >= MAX_HEARTBEAT_FAILURES) {
        task.abort(
          new C1Error(
            'HEARTBEAT_FAILED',
            `${failures} heartbeats in a row failed; last: ${errorMessage(err)}`,
            {
              retryable: true,
              cause: err,
            },
          ),
        );
        return;
      }
    }
    schedule();
  };
  const schedule = () => {
    if (stopper.signal.aborted || task.signal.aborted) return;
    timer = setTimeout(() => void tick(), intervalMs);
  };
  schedule();

  return {
    stop() {
      stopper.abort();
      clearTimeout(timer);
    },
  };
}

function cancelledByC1(): C1Error {
  return new C1Error('TASK_CANCELLED', 'C1 cancelled the task', { retryable: true });
}

function heartbeatInterval(ms: number | undefined): number {
  return !ms ? DEFAULT_HEARTBEAT_MS : clamp(ms, MIN_HEARTBEAT_MS, MAX_HEARTBEAT_MS);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof C1Error) {
    return {
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    };
  }
  return { message: errorMessage(err) };
}
