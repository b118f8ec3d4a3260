// What a sync hands to completeSyncRun and what the snapshot reads give back. The shapes mirror
// eks-core's Resource, Entitlement, Grant and SyncReport field for field, but are declared here:
// this package never imports eks-core, and a caller passes eks-core objects straight in because
// TypeScript compares the shapes, not the names.
import type { AnnotationRecord } from './schema.js';

export interface ResourceRefInput {
  type: string;
  id: string;
}

/** The input side of an annotation: any object with a `type` discriminator. */
export interface AnnotationInput {
  type: string;
  [field: string]: unknown;
}

export interface ResourceInput {
  type: string;
  id: string;
  displayName: string;
  parent?: ResourceRefInput;
  profile: Record<string, unknown>;
  annotations: readonly AnnotationInput[];
}

export interface EntitlementInput {
  id: string;
  resource: ResourceRefInput;
  slug: string;
  displayName: string;
  description: string;
  purpose: string;
  grantableTo: readonly string[];
}

export interface GrantInput {
  id: string;
  entitlementId: string;
  resource: ResourceRefInput;
  principal: ResourceRefInput;
  annotations: readonly AnnotationInput[];
  sources?: readonly object[];
  conditions?: readonly object[];
}

/** Anything that can be iterated row by row; async so a sync can stream rows as it maps them. */
export type RowSource<T> = AsyncIterable<T> | Iterable<T>;

/** eks-core's Snapshot (and ClusterSync) satisfy this: three streams, each read once. */
export interface SnapshotSource {
  resources(): RowSource<ResourceInput>;
  entitlements(): RowSource<EntitlementInput>;
  grants(): RowSource<GrantInput>;
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
  counts: { resources: Record<string, number | undefined>; entitlements: Record<string, number | undefined>; grants: Record<string, number | undefined> };
  apiCalls: Record<string, OperationStatsInput>;
  totalApiCalls: number;
  warnings: readonly string[];
  unmappedUsers?: Record<string, number>;
  durationMs?: number;
}

export interface ResourceRef {
  type: string;
  id: string;
}

/** A resource as read back from a snapshot. */
export interface SnapshotResource {
  type: string;
  id: string;
  displayName: string;
  parent?: ResourceRef;
  profile: Record<string, unknown>;
  annotations: AnnotationRecord[];
}

/** An entitlement as read back from a snapshot. */
export interface SnapshotEntitlement {
  id: string;
  resource: ResourceRef;
  slug: string;
  displayName: string;
  description: string;
  purpose: string;
  grantableTo: string[];
}

/** A grant as read back from a snapshot. */
export interface SnapshotGrant {
  id: string;
  entitlementId: string;
  resource: ResourceRef;
  principal: ResourceRef;
  annotations: AnnotationRecord[];
  sources?: Record<string, unknown>[];
  conditions?: Record<string, unknown>[];
}
