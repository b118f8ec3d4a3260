// The `cluster.sync` job: sync one cluster through eks-core and store the snapshot.
// - One sync per cluster at a time, across every worker process (a Redis lock).
// - The run's attempt number fences stale workers: a worker that lost its job (stalled, handed
//   back) cannot complete the run after another attempt took over.
// - The cluster's current snapshot moves only when the new one is complete and written, in one
//   transaction; a failed, partial or interrupted sync leaves the previous one current.
// - A failure is recorded on the run only when no retry will follow (non-retryable, or the last
//   attempt); otherwise the run stays running and the next attempt picks it up.
// - At most `accountSlots.maxPerAccount` syncs of one AWS account run at once across every worker
//   (a Redis semaphore with leases). A job whose account is full is deferred before it touches its
//   run (which stays queued) and without spending an attempt, so its worker slot goes to another
//   account's cluster; the defer delay grows with each deferral, with jitter, up to a minute.
import {
  completeSyncRun,
  failSyncRun,
  getCluster,
  getClusterCredentials,
  pruneSyncRuns,
  recordProgress,
  setClusterIdentity,
  startSyncRun,
  type Database,
} from '@eks-access/db';
import {
  credentialsFromStoredSecrets,
  syncCluster,
  type AwsEndpoints,
  type CredentialCache,
  type RateLimiter,
} from '@eks-access/eks-core';
import {
  accountSlotKey,
  clusterLockKey,
  isNonRetryable,
  type JobContext,
  type JobPayload,
  type LockManager,
  type Producer,
  type Semaphore,
} from '@eks-access/queue';

export interface SyncJobDeps {
  database: Database;
  /** Scheduled ticks queue `cluster.sync` jobs through it. */
  producer: Producer;
  limiter: RateLimiter;
  locks: LockManager;
  credentialCache: CredentialCache;
  endpoints: AwsEndpoints;
  workerId: string;
  retention: number;
  accessEntryConcurrency: number;
  /**
   * TTL of the per-cluster lock (renewed while the sync runs). It matches the job lock, so the lock
   * of a worker that died lapses about when its job is handed to another worker.
   */
  clusterLockMs: number;
  /** The per-account cap; without it syncs are not capped per account (tests of other things). */
  accountSlots?: AccountSlots;
  /**
   * Told what a sync changed against the snapshot it replaced; `drift` when that snapshot was the
   * watcher's incremental one (what the watch had missed).
   */
  onChanges?: (changes: {
    grantsAdded: number;
    grantsRemoved: number;
    resourcesChanged: number;
    drift: boolean;
  }) => void;
}

export interface AccountSlots {
  semaphore: Semaphore;
  /** Syncs of one AWS account running at once across all workers (SYNC_MAX_PER_ACCOUNT). */
  maxPerAccount: number;
  /** How long a slot outlives a worker that stopped renewing it (died, lost Redis). */
  leaseMs: number;
  /** The first deferral's delay (SYNC_DEFER_MS); each further one doubles it, up to a minute. */
  deferMs: number;
}

const MAX_DEFER_MS = 60_000;

/** How long to put back a job its account had no slot for: growing per deferral, jittered, capped. */
export function deferDelayMs(baseMs: number, deferrals: number, random: () => number = Math.random): number {
  const grown = Math.min(MAX_DEFER_MS, baseMs * 2 ** Math.min(deferrals, 10));
  // Half fixed, half random: deferred jobs of one account do not all come back in the same instant.
  return Math.round(grown / 2 + random() * (grown / 2));
}

export interface SyncJobResult {
  syncRunId: string;
  status: 'succeeded' | 'partial' | 'skipped';
  grants?: number;
  apiCalls?: number;
  durationMs?: number;
}

const PROGRESS_EVERY_MS = 1000;

function errorOf(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

/** Runs one queued sync run of one cluster to completion (or records why it could not). */
export async function syncClusterJob(
  deps: SyncJobDeps,
  payload: JobPayload<'cluster.sync'>,
  ctx: JobContext,
): Promise<SyncJobResult> {
  const slots = deps.accountSlots;
  if (!slots) return syncUnderLock(deps, payload, ctx);
  // A cluster whose account is not known yet (no role ARN, never synced) is not capped: it cannot
  // be counted against an account, and its first sync is what learns the account.
  const accountId = await getCluster(deps.database, payload.clusterId).then(
    (c) => c.accountId,
    () => null,
  );
  if (accountId === null) return syncUnderLock(deps, payload, ctx);
  const slot = await slots.semaphore.withSlot(
    accountSlotKey(accountId),
    { limit: slots.maxPerAccount, leaseMs: slots.leaseMs, signal: ctx.signal },
    (signal) => syncUnderLock(deps, payload, { ...ctx, signal }),
  );
  if (slot.acquired) return slot.value;
  const delayMs = deferDelayMs(slots.deferMs, ctx.job.deferrals);
  ctx.logger.debug({ accountId, holders: slot.holders, delayMs }, 'account at its sync cap; job deferred');
  return ctx.defer(delayMs);
}

async function syncUnderLock(
  deps: SyncJobDeps,
  payload: JobPayload<'cluster.sync'>,
  ctx: JobContext,
): Promise<SyncJobResult> {
  const { clusterId, syncRunId } = payload;
  // Wait a little longer than one lock lifetime: long enough to outlast a dead worker's lock.
  return deps.locks.withLock(
    clusterLockKey(clusterId),
    { ttlMs: deps.clusterLockMs, waitMs: deps.clusterLockMs + 1_000, signal: ctx.signal },
    async (signal) => {
      let run;
      try {
        run = await startSyncRun(deps.database, syncRunId, deps.workerId);
      } catch (err) {
        // A duplicate delivery of a job whose run already finished: nothing left to do.
        if ((err as { code?: string }).code === 'sync_run_state') return { syncRunId, status: 'skipped' };
        throw err;
      }
      const attempt = run.attempt;
      try {
        const secrets = await getClusterCredentials(deps.database, clusterId);
        let lastProgress = 0;
        const sync = await syncCluster({
          cluster: { name: secrets.name, region: secrets.region },
          credentials: credentialsFromStoredSecrets(secrets),
          endpoints: deps.endpoints,
          limiter: deps.limiter,
          credentialCache: deps.credentialCache,
          signal,
          accessEntryConcurrency: deps.accessEntryConcurrency,
          onProgress: (event) => {
            const now = Date.now();
            if (now - lastProgress < PROGRESS_EVERY_MS) return;
            lastProgress = now;
            const progress = {
              phase: 'collect',
              source: event.source,
              done: event.done,
              ...(event.total === undefined ? {} : { total: event.total }),
            };
            void recordProgress(deps.database, syncRunId, progress, attempt).catch(() => undefined);
            void ctx.updateProgress(progress).catch(() => undefined);
          },
        });
        signal.throwIfAborted();
        await setClusterIdentity(deps.database, clusterId, {
          arn: sync.report.cluster.arn,
          accountId: sync.report.cluster.accountId,
        });
        await ctx.updateProgress({ phase: 'store' });
        const completed = await completeSyncRun(deps.database, syncRunId, {
          snapshot: sync,
          report: () => sync.finish(),
          attempt,
        });
        if (completed.changes) deps.onChanges?.(completed.changes);
        if (completed.changes?.drift && completed.changes.grantsAdded + completed.changes.grantsRemoved > 0) {
          ctx.logger.warn(completed.changes, 'the full sync found grants the watcher had missed (drift)');
        }
        await pruneSyncRuns(deps.database, clusterId, deps.retention);
        const report = sync.report;
        const grants = Object.values(report.counts.grants).reduce<number>((n, v) => n + (v ?? 0), 0);
        return {
          syncRunId,
          status: report.status === 'complete' ? 'succeeded' : 'partial',
          grants,
          apiCalls: report.totalApiCalls,
          ...(report.durationMs === undefined ? {} : { durationMs: report.durationMs }),
        };
      } catch (err) {
        const last = isNonRetryable(err) || ctx.attempt >= ctx.job.maxAttempts;
        if (last && !signal.aborted) {
          await failSyncRun(deps.database, syncRunId, errorOf(err), attempt).catch((failErr: unknown) =>
            ctx.logger.warn({ err: failErr }, 'could not record the failed run'),
          );
        }
        throw err;
      }
    },
  );
}
