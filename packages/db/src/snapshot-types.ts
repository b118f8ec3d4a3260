// What a sync hands to completeSyncRun and what the snapshot reads give back. The snapshot shapes
// are @eks-access/model's, the one definition eks-core builds and the c1z writer takes; the names
// here are kept as aliases so this package's files (and its callers) need no other change.
import type { Entitlement, Grant, Resource, ResourceRef } from '@eks-access/model';

export type { ResourceRef };
export type ResourceInput = Resource;
export type EntitlementInput = Entitlement;
export type GrantInput = Grant;

/** Anything that can be iterated row by row; async so a sync can stream rows as it maps them. */
export type RowSource<T> = AsyncIterable<T> | Iterable<T>;

/** eks-core's Snapshot (and ClusterSync) satisfy this: three streams, each read once. */
export interface SnapshotSource {
  resources(): RowSource<Resource>;
  entitlements(): RowSource<Entitlement>;
  grants(): RowSource<Grant>;
}

export interface OperationStatsInput {
  calls: number;
  retries: number;
  throttled: number;
  failed: number;
  totalMs: number;
}

/** The parts of eks-core's SyncReport that a sync run records. */
export interface SyncReportInput {
  /** `partial` when a source could not be read; such a run never becomes current. */
  status: 'complete' | 'partial';
  sources: Record<string, object>;
  sourceDurationsMs: Record<string, number>;
  counts: {
    resources: Record<string, number | undefined>;
    entitlements: Record<string, number | undefined>;
    grants: Record<string, number | undefined>;
  };
  apiCalls: Record<string, OperationStatsInput>;
  totalApiCalls: number;
  warnings: readonly string[];
  unmappedUsers?: Record<string, number>;
  durationMs?: number;
}

/** A resource as read back from a snapshot. */
export type SnapshotResource = Resource;
/** An entitlement as read back from a snapshot. */
export type SnapshotEntitlement = Entitlement;
/** A grant as read back from a snapshot. */
export type SnapshotGrant = Grant;
