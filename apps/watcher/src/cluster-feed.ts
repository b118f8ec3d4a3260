// One watched cluster: its ClusterWatch (eks-core) and the loop that applies each change to the
// cluster's current snapshot in Postgres.
//
// Invariants:
// - Only the replica holding the cluster's lease runs a feed for it; the feed stops as soon as the
//   lease is lost. A stale feed that still writes cannot corrupt anything: every write names the
//   snapshot it was computed against and is refused once that moved (applySnapshotDelta).
// - `applied` is what this feed believes the current snapshot holds (its run id and rows). A change
//   is the difference between the watch's snapshot and `applied`, written as one `watch` run with
//   its change events in the same transaction. After a crash nothing is lost: the next feed for the
//   cluster starts from a full read and compares it with the stored snapshot.
// - When the current snapshot moved under the feed (a full sync landed), the feed re-bases: it reads
//   IAM again (the sync's view of it is newer), compares table hashes with the stored snapshot,
//   loads only tables that differ, and applies what its watch knows on top. The full sync's own
//   difference from the incremental state is reported by completeSyncRun as drift.
// - No snapshot is written before the cluster's first full sync: the incremental state always
//   starts from one, so a cluster's first answer is never half-watched.
// - Flushes run one at a time; changes arriving meanwhile are coalesced into the next.
import {
  appendChangeEvents,
  applySnapshotDelta,
  changeSetOf,
  currentSnapshotInfo,
  diffSnapshotContent,
  getClusterCredentials,
  isEmptyDelta,
  loadTableContent,
  pruneSyncRuns,
  SNAPSHOT_PARTS,
  tableContent,
  tableHash,
  type Database,
  type SnapshotContent,
  type SnapshotPart,
} from '@eks-access/db';
import {
  ClusterSession,
  ClusterWatch,
  credentialsFromStoredSecrets,
  type AwsEndpoints,
  type ClusterWatchStats,
  type CredentialCache,
  type RateLimiter,
} from '@eks-access/eks-core';
import type { Logger } from '@eks-access/queue';

export interface ClusterFeedSettings {
  debounceMs: number;
  eksPollMs: number;
  describeEvery: number;
  iamRefreshMs: number;
  watchTimeoutSeconds: number;
  retryMs: number;
  retention: number;
}

export interface ClusterFeedDeps {
  database: Database;
  limiter: RateLimiter;
  credentialCache: CredentialCache;
  endpoints: AwsEndpoints | undefined;
  workerId: string;
  logger: Logger;
  settings: ClusterFeedSettings;
  /** Called after each applied change: rows per table and the delay from first event to commit. */
  onApplied?: (info: {
    clusterId: string;
    runId: string;
    latencyMs: number;
    rows: number;
    events: number;
  }) => void;
  onRebase?: (clusterId: string) => void;
  /** Limits how many feeds read their cluster in full at once (start-up of a replica). */
  startSlots: { run<T>(fn: () => Promise<T>): Promise<T> };
}

export type FeedState = 'starting' | 'watching' | 'waiting-for-first-sync' | 'retrying' | 'stopped';

export interface ClusterFeed {
  readonly clusterId: string;
  state(): FeedState;
  stats(): ClusterWatchStats | undefined;
  /** The run id of the snapshot the feed last wrote or re-based on. */
  appliedRunId(): string | null | undefined;
  /** Stops watching; resolves when every loop and write has ended. */
  stop(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Starts watching one cluster whose lease this replica holds. */
export function startClusterFeed(deps: ClusterFeedDeps, clusterId: string): ClusterFeed {
  const controller = new AbortController();
  const { signal } = controller;
  const log = deps.logger.child({ clusterId });
  let state: FeedState = 'starting';
  let watch: ClusterWatch | undefined;
  let applied: { runId: string | null; content: SnapshotContent } | undefined;
  let dirtySince: number | undefined;
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let needsRebase = true;
  let lastPrune = 0;

  const schedule = () => {
    dirtySince ??= performance.now();
    if (timer || state === 'starting') return;
    timer = setTimeout(() => {
      timer = undefined;
      void kick();
    }, deps.settings.debounceMs);
  };

  // One flush loop at a time. `flushing` is set only after the loop's promise exists and cleared
  // only by its own kick once it has settled: a loop that found nothing to do finishes synchronously,
  // and clearing the slot from inside it (before the assignment) left it set forever, so that every
  // later change was ignored.
  const kick = async (): Promise<void> => {
    if (flushing) return;
    const current = (async () => {
      try {
        while (dirtySince !== undefined && !signal.aborted) await flush();
      } catch (err) {
        if (!signal.aborted) log.warn({ err }, 'applying a watched change failed; retrying');
        if (!signal.aborted) {
          dirtySince ??= performance.now();
          await sleep(1_000, signal);
          needsRebase = true;
        }
      }
    })();
    flushing = current;
    try {
      await current;
    } finally {
      if (flushing === current) flushing = undefined;
    }
    if (dirtySince !== undefined && !signal.aborted) schedule();
  };

  async function currentContent(): Promise<SnapshotContent> {
    const s = await watch!.snapshot();
    return {
      resources: tableContent('resources', s.resources),
      entitlements: tableContent('entitlements', s.entitlements),
      grants: tableContent('grants', s.grants),
    };
  }

  // Takes the stored current snapshot as `applied`, loading only the tables whose hash differs.
  async function rebase(content: SnapshotContent): Promise<boolean> {
    const info = await currentSnapshotInfo(deps.database, clusterId);
    if (info.runId === null) {
      state = 'waiting-for-first-sync';
      applied = undefined;
      return false;
    }
    const base: SnapshotContent = { resources: new Map(), entitlements: new Map(), grants: new Map() };
    for (const part of SNAPSHOT_PARTS) {
      const holder = info.holders[part];
      if (info.hashes[part] !== null && info.hashes[part] === tableHash(part, content[part])) {
        (base as Record<SnapshotPart, unknown>)[part] = content[part];
      } else if (holder !== null) {
        (base as Record<SnapshotPart, unknown>)[part] = await loadTableContent(deps.database, part, holder);
      }
    }
    applied = { runId: info.runId, content: base };
    needsRebase = false;
    state = 'watching';
    deps.onRebase?.(clusterId);
    return true;
  }

  async function flush(): Promise<void> {
    const since = dirtySince!;
    dirtySince = undefined;
    let content = await currentContent();
    if (needsRebase || !applied) {
      if (!(await rebase(content))) return;
    }
    for (let tries = 0; tries < 3; tries++) {
      const base = applied!;
      const delta = diffSnapshotContent(base.content, content);
      if (isEmptyDelta(delta)) return;
      const hashes = Object.fromEntries(SNAPSHOT_PARTS.map((p) => [p, tableHash(p, content[p])])) as Record<
        SnapshotPart,
        string
      >;
      const totals = Object.fromEntries(SNAPSHOT_PARTS.map((p) => [p, content[p].size])) as Record<
        SnapshotPart,
        number
      >;
      let events = 0;
      const result = await applySnapshotDelta(deps.database, clusterId, {
        baseRunId: base.runId,
        delta,
        hashes,
        totals,
        worker: deps.workerId,
        // The change events commit with the snapshot change, or neither does.
        beforeCommit: async (client, runId) => {
          events = (await appendChangeEvents(client, changeSetOf(clusterId, runId, delta, base.content)))
            .count;
        },
      });
      if (result.status === 'applied') {
        applied = { runId: result.runId, content };
        const rows = SNAPSHOT_PARTS.reduce((n, p) => n + delta[p].upsert.length + delta[p].removed.length, 0);
        deps.onApplied?.({
          clusterId,
          runId: result.runId,
          latencyMs: performance.now() - since,
          rows,
          events,
        });
        log.info({ runId: result.runId, rows, events, written: result.written }, 'watched change applied');
        await prune();
        return;
      }
      if (result.status === 'cluster-gone') return;
      // A full sync landed: its IAM view is newer than ours; re-base on it and apply on top.
      log.info({ currentRunId: result.currentRunId }, 'the current snapshot moved; re-basing');
      await watch!.refreshIam().catch((err: unknown) => log.warn({ err }, 'IAM refresh failed'));
      content = await currentContent();
      if (!(await rebase(content))) return;
    }
    throw new Error('the current snapshot kept moving while applying a watched change');
  }

  async function prune(): Promise<void> {
    const now = Date.now();
    if (now - lastPrune < 60_000) return;
    lastPrune = now;
    await pruneSyncRuns(deps.database, clusterId, deps.settings.retention).catch((err: unknown) =>
      log.warn({ err }, 'pruning old runs failed'),
    );
  }

  const main = (async () => {
    while (!signal.aborted) {
      const inner = new AbortController();
      const stopInner = () => inner.abort();
      signal.addEventListener('abort', stopInner, { once: true });
      let session: ClusterSession | undefined;
      try {
        state = 'starting';
        await deps.startSlots.run(async () => {
          const secrets = await getClusterCredentials(deps.database, clusterId);
          session = new ClusterSession({
            cluster: { name: secrets.name, region: secrets.region },
            credentials: credentialsFromStoredSecrets(secrets),
            ...(deps.endpoints ? { endpoints: deps.endpoints } : {}),
            limiter: deps.limiter,
            credentialCache: deps.credentialCache,
            signal: inner.signal,
          });
          watch = new ClusterWatch({
            session,
            signal: inner.signal,
            onChange: schedule,
            onError: (source, err) => log.debug({ err, source }, 'watch source failed; reconnecting'),
            accessEntryPollMs: deps.settings.eksPollMs,
            describeEveryPolls: deps.settings.describeEvery,
            iamRefreshMs: deps.settings.iamRefreshMs,
            watchTimeoutSeconds: deps.settings.watchTimeoutSeconds,
          });
          await watch.start();
        });
        if (signal.aborted) break;
        needsRebase = true;
        state = 'watching';
        dirtySince ??= performance.now();
        await kick();
        log.info({ state }, 'watching cluster');
        // A feed waiting for the first full sync looks again now and then.
        while (!signal.aborted) {
          await sleep(deps.settings.retryMs, signal);
          if ((state as FeedState) === 'waiting-for-first-sync') {
            dirtySince ??= performance.now();
            await kick();
          }
        }
      } catch (err) {
        if (signal.aborted) break;
        state = 'retrying';
        log.warn({ err }, 'watching the cluster failed; trying again later');
        inner.abort();
        await watch?.stopped();
        await sleep(deps.settings.retryMs, signal);
      } finally {
        signal.removeEventListener('abort', stopInner);
        inner.abort();
        session?.close();
      }
    }
  })();

  return {
    clusterId,
    state: () => state,
    stats: () => watch?.stats,
    appliedRunId: () => applied?.runId,
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      await main;
      await flushing;
      await watch?.stopped();
      state = 'stopped';
    },
  };
}
