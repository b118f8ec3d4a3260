// One C1 service-mode loop per cluster that has C1 credentials, across every uploader process.
// - The clusters are re-read every scan: a new or re-enabled cluster gets a loop, a removed or
//   disabled one (or one whose C1 credentials changed) has its loop stopped.
// - A Redis lock per cluster lets exactly one process run a cluster's loop; the others skip it
//   and take over at a later scan once the holder's lock lapses (it crashed or shut down).
// - When C1 refuses the cluster's credentials, the loop stops with one error line and is not
//   started again until the credentials change: no retry storm against C1's token endpoint.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNonRetryable, runServiceLoop, type C1Client, type HelloInfo } from '@eks-access/c1';
import { getClusterCredentials, listClusters, type Cluster, type Database } from '@eks-access/db';
import {
  LockBusyError,
  LockLostError,
  type LockManager,
  type Logger,
  type Producer,
} from '@eks-access/queue';
import { createClusterC1Client, type C1Endpoint } from '../c1.js';
import type { TaskDeps } from '../tasks/deps.js';
import { eventFeeds, runListEventsTask } from '../tasks/list-events.js';
import { runGrantTask, runRevokeTask } from '../tasks/provision.js';
import { runSyncFullTask } from '../tasks/sync-full.js';

export interface ClusterLoopsDeps {
  database: Database;
  producer: Producer;
  locks: LockManager;
  logger: Logger;
  c1: C1Endpoint;
  helloInfo: HelloInfo;
  /** TTL of the per-cluster loop lock (renewed while the loop runs). */
  lockMs: number;
  scanMs: number;
  pollMs: number;
  uploadMaxAttempts: number;
  /** Backoff of the loop's Hello, GetTask and FinishTask retries (tests shorten it). */
  backoff?: { initialMs: number; maxMs: number };
}

/** The lock that makes one process run a cluster's C1 loop. */
export function c1LoopLockKey(clusterId: string): string {
  return `lock:c1-loop:${clusterId}`;
}

interface RunningLoop {
  fingerprint: string;
  controller: AbortController;
  done: Promise<void>;
}

interface Eligible {
  cluster: Cluster;
  /**
   * Changes when the cluster's C1 credentials do, and only then: syncs touch the cluster row all
   * the time, and restarting its loop would abort the task that asked for the sync.
   */
  fingerprint: string;
}

async function eligibleClusters(database: Database): Promise<Eligible[]> {
  const found: Eligible[] = [];
  let cursor: string | undefined;
  do {
    const page = await listClusters(
      database,
      { enabled: true },
      { limit: 500, ...(cursor === undefined ? {} : { cursor }) },
    );
    for (const cluster of page.items) {
      if (!cluster.c1ClientId || !cluster.hasC1ClientSecret) continue;
      const secrets = await getClusterCredentials(database, cluster.id);
      const secretHash = createHash('sha256')
        .update(secrets.c1ClientSecret ?? '')
        .digest('hex');
      found.push({ cluster, fingerprint: `${secrets.c1ClientId ?? ''}|${secretHash}` });
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return found;
}

export function createClusterLoops(deps: ClusterLoopsDeps) {
  const loops = new Map<string, RunningLoop>();
  /** Clusters whose credentials C1 refused, with the fingerprint it refused. */
  const refused = new Map<string, string>();
  /** Clusters whose loop lock this process holds. */
  const holding = new Set<string>();
  const stopping = new AbortController();
  let scanner: Promise<void> | undefined;

  async function runLoop(cluster: Cluster, fingerprint: string, signal: AbortSignal): Promise<void> {
    const logger = deps.logger.child({ clusterId: cluster.id, cluster: cluster.name });
    try {
      await deps.locks.withLock(
        c1LoopLockKey(cluster.id),
        { ttlMs: deps.lockMs, signal },
        async (lockSignal) => {
          holding.add(cluster.id);
          let client: C1Client | undefined;
          try {
            const secrets = await getClusterCredentials(deps.database, cluster.id);
            client = createClusterC1Client(deps.c1, secrets);
            const taskDeps: TaskDeps = {
              database: deps.database,
              producer: deps.producer,
              clusterId: cluster.id,
              uploadMaxAttempts: deps.uploadMaxAttempts,
              pollMs: deps.pollMs,
            };
            logger.info({}, 'c1 service loop starting');
            await runServiceLoop({
              client,
              helloInfo: deps.helloInfo,
              logger,
              signal: lockSignal,
              ...(deps.backoff ? { backoff: deps.backoff } : {}),
              handlers: {
                syncFull: (task, ctx) => runSyncFullTask(taskDeps, task, ctx),
                grant: (task, ctx) => runGrantTask(taskDeps, task, ctx),
                revoke: (task, ctx) => runRevokeTask(taskDeps, task, ctx),
                listEventFeeds: async () => eventFeeds(),
                listEvents: (task) => runListEventsTask(taskDeps, task),
              },
            });
          } catch (err) {
            // Malformed credentials never reach the loop, which logs C1's own refusals itself.
            if (!client && isNonRetryable(err))
              logger.error({ err }, 'c1 credentials of the cluster are unusable; service mode stopped');
            throw err;
          } finally {
            client?.close();
            holding.delete(cluster.id);
          }
        },
      );
    } catch (err) {
      if (err instanceof LockBusyError) {
        logger.debug({}, 'another uploader runs this cluster’s c1 loop');
        return;
      }
      if (signal.aborted) return;
      if (isNonRetryable(err)) {
        refused.set(cluster.id, fingerprint);
        logger.info(
          { code: (err as { code?: string }).code },
          'c1 refused this connector; its loop stays stopped until the cluster’s c1 credentials change',
        );
        return;
      }
      if (err instanceof LockLostError) {
        logger.warn({}, 'lost the cluster’s c1 loop lock; another uploader may take over');
        return;
      }
      logger.warn({ err }, 'c1 service loop stopped; it restarts at the next scan');
    }
  }

  function start(cluster: Cluster, fingerprint: string): void {
    const controller = new AbortController();
    const entry: RunningLoop = { fingerprint, controller, done: Promise.resolve() };
    entry.done = runLoop(cluster, fingerprint, AbortSignal.any([controller.signal, stopping.signal])).finally(
      () => {
        if (loops.get(cluster.id) === entry) loops.delete(cluster.id);
      },
    );
    loops.set(cluster.id, entry);
  }

  /** Reads the clusters once: starts the loops that should run here and stops the ones that should not. */
  async function scan(): Promise<void> {
    const eligible = await eligibleClusters(deps.database);
    const wanted = new Map(eligible.map((e) => [e.cluster.id, e.fingerprint]));
    for (const [id, loop] of loops) {
      if (wanted.get(id) !== loop.fingerprint)
        loop.controller.abort(
          new Error('the cluster was removed or disabled, or its C1 credentials changed'),
        );
    }
    for (const [id, fingerprint] of refused) {
      if (wanted.get(id) !== fingerprint) refused.delete(id);
    }
    for (const { cluster, fingerprint } of eligible) {
      if (stopping.signal.aborted || refused.has(cluster.id)) continue;
      const running = loops.get(cluster.id);
      if (running && running.fingerprint === fingerprint) continue;
      // A changed cluster: wait for its old loop to let go of the lock before starting anew.
      if (running) await running.done;
      start(cluster, fingerprint);
    }
  }

  return {
    scan,

    /** Scans now and then every `scanMs` until stopped; a failed scan is logged and retried. */
    start(): void {
      scanner ??= (async () => {
        while (!stopping.signal.aborted) {
          await scan().catch((err: unknown) =>
            deps.logger.warn({ err }, 'could not read the clusters for c1 service mode'),
          );
          await sleep(deps.scanMs, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      })();
    },

    /** Cluster ids whose loop runs in this process (it holds their lock). */
    running(): string[] {
      return [...holding];
    },

    /** Stops every loop (running tasks are reported to C1 as retryable failures) and scanning. */
    async stop(): Promise<void> {
      stopping.abort(new Error('the uploader is shutting down'));
      await scanner;
      await Promise.all([...loops.values()].map((l) => l.done));
    },
  };
}

export type ClusterLoops = ReturnType<typeof createClusterLoops>;
