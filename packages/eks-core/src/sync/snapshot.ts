// Turns a cluster inventory into the snapshot stream (resource types, resources, entitlements,
// grants) and counts what went by, so the report is exact without holding the stream in memory.
// Entitlements are the big part (ClusterRoles × namespaces), so they are generated lazily.
import { parseAwsAuth } from '../identity/aws-auth.js';
import { buildIdentityMap, type IdentityMap } from '../identity/identity-map.js';
import {
  RESOURCE_TYPES,
  type Entitlement,
  type Grant,
  type Resource,
  type ResourceType,
  type ResourceTypeId,
} from '../model.js';
import { accessPolicyMapper } from '../resources/access-policy.js';
import { clusterRoleMapper } from '../resources/cluster-role.js';
import type { MapContext, ResourceMapper } from '../resources/context.js';
import { iamRoleMapper } from '../resources/iam-role.js';
import { k8sGroupMapper } from '../resources/k8s-group.js';
import { namespaceRoleMapper } from '../resources/namespace-role.js';
import { namespaceMapper } from '../resources/namespace.js';
import { serviceAccountMapper } from '../resources/service-account.js';
import type { ClusterInventory } from './inventory.js';

/** The mappers in the order their resources are emitted (parents before children). */
export const MAPPERS: readonly ResourceMapper[] = [
  namespaceMapper,
  serviceAccountMapper,
  clusterRoleMapper,
  namespaceRoleMapper,
  k8sGroupMapper,
  accessPolicyMapper,
  iamRoleMapper,
];

export interface SnapshotCounts {
  resources: Partial<Record<ResourceTypeId, number>>;
  entitlements: Partial<Record<ResourceTypeId, number>>;
  grants: Partial<Record<ResourceTypeId, number>>;
}

export interface Snapshot {
  resourceTypes: ResourceType[];
  resources(): AsyncIterable<Resource>;
  entitlements(): AsyncIterable<Entitlement>;
  grants(): AsyncIterable<Grant>;
  /** Counts of everything streamed so far (complete once every stream has been drained). */
  counts: SnapshotCounts;
  identity: IdentityMap;
  warnings: string[];
  unmappedUsers: Map<string, number>;
}

function bump(counter: Partial<Record<ResourceTypeId, number>>, type: ResourceTypeId): void {
  counter[type] = (counter[type] ?? 0) + 1;
}

/** Builds the identity map and the lazy snapshot streams of one inventory. */
export function buildSnapshot(inventory: ClusterInventory): Snapshot {
  const warnings = [...inventory.warnings];
  const awsAuth = parseAwsAuth(inventory.awsAuth);
  for (const p of awsAuth.problems) warnings.push(`aws-auth ${p.key}: ${p.message}`);
  const identity = buildIdentityMap({
    authenticationMode: inventory.authenticationMode,
    awsAuth: awsAuth.mappings,
    accessEntries: inventory.accessEntries,
    knownRoleArns: inventory.iamRoles.map((r) => r.arn),
  });
  for (const p of identity.problems) warnings.push(`identity mapping: ${p.message}`);
  const ctx: MapContext = {
    inventory,
    identity,
    namespaces: inventory.namespaces.map((n) => n.name).sort(),
    warnings,
    unmappedUsers: new Map(),
  };
  const counts: SnapshotCounts = { resources: {}, entitlements: {}, grants: {} };
  const types = MAPPERS.map((m) => RESOURCE_TYPES[m.type]);
  return {
    resourceTypes: [...types, RESOURCE_TYPES.iam_user],
    async *resources() {
      for (const m of MAPPERS)
        for (const r of m.resources(ctx)) {
          bump(counts.resources, m.type);
          yield r;
        }
    },
    async *entitlements() {
      for (const m of MAPPERS)
        for (const e of m.entitlements(ctx)) {
          bump(counts.entitlements, m.type);
          yield e;
        }
    },
    async *grants() {
      for (const m of MAPPERS)
        for (const g of m.grants(ctx)) {
          bump(counts.grants, m.type);
          yield g;
        }
    },
    counts,
    identity,
    warnings,
    unmappedUsers: ctx.unmappedUsers,
  };
}
