// The job catalogue: every queue, every job on it, its payload schema and its retry policy, as
// data. Producers and consumers both read it, so a payload is checked against the same schema
// when it is enqueued and when a worker receives it.
//
// Payload schemas are plain (non-strict) objects on purpose: during a rolling deploy a newer
// producer may add a field that an older worker does not know yet; the worker drops it instead of
// failing the job.
import { SYNC_TRIGGERS, type SyncTrigger } from '@eks-access/model';
import { z } from 'zod';
import type { PayloadProblem } from './errors.js';

/** Redis key prefix shared by producers, consumers, the rate limiter and locks. */
export const DEFAULT_PREFIX = 'eks-access';

export const QUEUE_NAMES = ['eks-sync', 'eks-provision', 'c1-upload'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

// The trigger list is the model's (Postgres checks sync_runs.trigger against the same one).
export { SYNC_TRIGGERS, type SyncTrigger };

/** How many finished jobs BullMQ keeps, by age (seconds) and by count, whichever is reached first. */
export interface Retention {
  ageSeconds: number;
  count: number;
}

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  /** Exponential: delayMs, 2×delayMs, 4×delayMs…; `jitter` (0–1) randomises that share of each delay. */
  backoff: { type: 'exponential'; delayMs: number; jitter: number };
  removeOnComplete: Retention;
  /** The failed set is the dead-letter store: keep failed jobs long enough for someone to look. */
  removeOnFail: Retention;
}

export interface JobDefinition<
  Q extends QueueName = QueueName,
  S extends z.ZodType = z.ZodType,
> extends RetryPolicy {
  queue: Q;
  payload: S;
  /** Deterministic job id, so that enqueueing the same work twice is a no-op. */
  jobId?: (payload: z.output<S>) => string;
}

const KEEP_COMPLETED: Retention = { ageSeconds: 24 * 3600, count: 1_000 };
const KEEP_FAILED: Retention = { ageSeconds: 7 * 24 * 3600, count: 10_000 };

function defineJob<Q extends QueueName, S extends z.ZodType>(
  definition: JobDefinition<Q, S>,
): JobDefinition<Q, S> {
  return definition;
}

export const JOBS = {
  'cluster.sync': defineJob({
    queue: 'eks-sync',
    payload: z.object({ clusterId: z.uuid(), syncRunId: z.uuid(), trigger: z.enum(SYNC_TRIGGERS) }),
    // One job per sync run: the run row is the idempotency key, created before the job.
    jobId: (p) => `sync-${p.syncRunId}`,
    // A sync is heavy and usually fails for reasons that last (credentials, access): few tries,
    // spaced widely enough for a throttle or an API-server restart to pass.
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 15_000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  }),
  'cluster.scheduled-sync': defineJob({
    queue: 'eks-sync',
    payload: z.object({ clusterId: z.uuid() }),
    // Produced by the cluster's job scheduler, which names its own jobs.
    attempts: 2,
    backoff: { type: 'exponential', delayMs: 15_000, jitter: 0.5 },
    removeOnComplete: { ageSeconds: 3600, count: 100 },
    removeOnFail: KEEP_FAILED,
  }),
  'cluster.doctor': defineJob({
    queue: 'eks-sync',
    payload: z.object({ clusterId: z.uuid(), doctorRunId: z.uuid() }),
    // One job per doctor run: the run row is created first and names the job.
    jobId: (p) => `doctor-${p.doctorRunId}`,
    // The doctor reports failures as its result; a job failure means it could not run at all.
    attempts: 2,
    backoff: { type: 'exponential', delayMs: 5_000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  }),
  'access.grant': defineJob({
    queue: 'eks-provision',
    payload: z.object({ requestId: z.uuid() }),
    jobId: (p) => `grant-${p.requestId}`,
    // Provisioning requests wait on us; keep trying through throttling and short outages.
    attempts: 6,
    backoff: { type: 'exponential', delayMs: 5_000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  }),
  'access.revoke': defineJob({
    queue: 'eks-provision',
    payload: z.object({ requestId: z.uuid() }),
    jobId: (p) => `revoke-${p.requestId}`,
    attempts: 6,
    backoff: { type: 'exponential', delayMs: 5_000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  }),
  'upload.snapshot': defineJob({
    queue: 'c1-upload',
    payload: z.object({ uploadId: z.uuid() }),
    jobId: (p) => `upload-${p.uploadId}`,
    attempts: 5,
    backoff: { type: 'exponential', delayMs: 10_000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  }),
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.output<(typeof JOBS)[N]['payload']>;
/** What a caller may pass to `enqueue` (before defaults and transforms). */
export type JobPayloadInput<N extends JobName> = z.input<(typeof JOBS)[N]['payload']>;
/** The job names that run on queue `Q`. */
export type JobsOf<Q extends QueueName> = {
  [N in JobName]: (typeof JOBS)[N]['queue'] extends Q ? N : never;
}[JobName];

export const JOB_NAMES = Object.keys(JOBS) as JobName[];

/** True when `name` is a job in the catalogue. */
export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}

/** The job names of one queue. */
export function jobsOf<Q extends QueueName>(queue: Q): JobsOf<Q>[] {
  return JOB_NAMES.filter((n) => JOBS[n].queue === queue) as JobsOf<Q>[];
}

// BullMQ stores a job under `<prefix>:<queue>:<id>` and treats an all-digit id as one of its own
// counters, so custom ids must avoid both `:` and all-digit forms.
const SAFE_JOB_ID = /^(?!\d+$)[A-Za-z0-9._-]+$/;

/** True when `id` can be used as a custom BullMQ job id. */
export function isSafeJobId(id: string): boolean {
  return SAFE_JOB_ID.test(id);
}

export type ParsedPayload<N extends JobName> =
  { ok: true; value: JobPayload<N> } | { ok: false; problems: PayloadProblem[] };

/** Checks `data` against the payload schema of job `name`. */
export function parsePayload<N extends JobName>(name: N, data: unknown): ParsedPayload<N> {
  const result = JOBS[name].payload.safeParse(data);
  if (result.success) return { ok: true, value: result.data as JobPayload<N> };
  return {
    ok: false,
    problems: result.error.issues.map((i) => ({
      path: i.path.length ? i.path.map(String).join('.') : '(root)',
      message: i.message,
    })),
  };
}

/** The deterministic job id of a validated payload, or undefined when BullMQ should pick one. */
export function jobIdFor<N extends JobName>(name: N, payload: JobPayload<N>): string | undefined {
  // TypeScript cannot narrow the union of definitions by a generic N; the key fixes the pairing.
  const definition = JOBS[name] as unknown as { jobId?: (payload: JobPayload<N>) => string };
  return definition.jobId?.(payload);
}
