// Syncs one cluster: collect the inventory (all API calls happen here), then hand back the snapshot
// streams and a report of what was read, how, and what could not be.
import type { OperationStats } from '../limits/call-policy.js';
import { ClusterSession, type ClusterDescription, type SessionOptions } from '../session.js';
import { collectInventory, type CollectOptions } from './collect.js';
import type { ClusterInventory, SourceName, SourceStatus } from './inventory.js';
import { buildSnapshot, type Snapshot, type SnapshotCounts } from './snapshot.js';

export interface SyncClusterOptions extends CollectOptions, Omit<SessionOptions, 'stats' | 'now'> {
  now?: () => Date;
  /** Clock for EKS token lifetimes (tests). */
  tokenClock?: () => number;
}

export interface SyncReport {
  cluster: Omit<ClusterDescription, 'caData'>;
  status: 'complete' | 'partial';
  startedAt: string;
  /** Set by finish() once the streams have been consumed. */
  finishedAt?: string;
  durationMs?: number;
  sources: Record<SourceName, SourceStatus>;
  sourceDurationsMs: Record<SourceName, number>;
  counts: SnapshotCounts;
  apiCalls: Record<string, OperationStats>;
  totalApiCalls: number;
  warnings: string[];
  /** Kubernetes user names bound in RBAC that no IAM principal maps to, with how often. */
  unmappedUsers: Record<string, number>;
}

export interface ClusterSync extends Snapshot {
  inventory: ClusterInventory;
  report: SyncReport;
  /** Completes the report (counts, duration) after the streams were drained. */
  finish(): SyncReport;
}

/** Reads one cluster and returns its snapshot streams and report. Throws if the cluster cannot be reached at all. */
export async function syncCluster(options: SyncClusterOptions): Promise<ClusterSync> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const { now: _now, tokenClock, ...sessionOptions } = options;
  const session = new ClusterSession({ ...sessionOptions, ...(tokenClock ? { now: tokenClock } : {}) });
  let inventory: ClusterInventory;
  try {
    inventory = await collectInventory(session, options);
  } finally {
    session.close();
  }
  const snapshot = buildSnapshot(inventory);
  const failed = Object.values(inventory.sources).some((s) => s.state === 'failed');
  const report: SyncReport = {
    cluster: inventory.cluster,
    status: failed ? 'partial' : 'complete',
    startedAt: started.toISOString(),
    sources: inventory.sources,
    sourceDurationsMs: inventory.sourceDurationsMs,
    counts: snapshot.counts,
    apiCalls: session.stats.snapshot(),
    totalApiCalls: session.stats.total(),
    warnings: snapshot.warnings,
    unmappedUsers: {},
  };
  return {
    ...snapshot,
    inventory,
    report,
    finish() {
      const end = now();
      report.finishedAt = end.toISOString();
      report.durationMs = end.getTime() - started.getTime();
      report.unmappedUsers = Object.fromEntries(
        [...snapshot.unmappedUsers].sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      return report;
    },
  };
}
