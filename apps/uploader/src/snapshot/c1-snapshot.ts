// One sync run's snapshot, read from Postgres page by page and handed to the c1z writer as
// streams, so a cluster with hundreds of thousands of grants never sits in memory at once.
// Annotations are stored as loose JSON; only the kinds the c1z format knows, with well-formed
// fields, are passed on.
import type {
  C1Entitlement,
  C1Grant,
  C1GrantAnnotation,
  C1Resource,
  C1ResourceAnnotation,
  C1Snapshot,
} from '@eks-access/c1';
import {
  listEntitlements,
  listGrants,
  listResources,
  type Database,
  type SnapshotEntitlement,
  type SnapshotGrant,
  type SnapshotPage,
  type SnapshotResource,
} from '@eks-access/db';
import { RESOURCE_TYPE_IDS, RESOURCE_TYPES } from '@eks-access/model';

const PAGE_SIZE = 1000;

type Loose = { type: string; [field: string]: unknown };

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** The annotation as the c1z writer takes it, or undefined for a kind it cannot encode. */
export function toResourceAnnotation(a: Loose): C1ResourceAnnotation | undefined {
  switch (a.type) {
    case 'ChildResourceType':
      return isString(a.resourceTypeId)
        ? { type: 'ChildResourceType', resourceTypeId: a.resourceTypeId }
        : undefined;
    case 'ExternalId':
      if (!isString(a.id)) return undefined;
      return {
        type: 'ExternalId',
        id: a.id,
        ...(isString(a.link) ? { link: a.link } : {}),
        ...(isString(a.description) ? { description: a.description } : {}),
      };
    case 'SkipEntitlementsAndGrants':
      return { type: 'SkipEntitlementsAndGrants' };
    default:
      return undefined;
  }
}

/** The grant annotation as the c1z writer takes it, or undefined for a kind it cannot encode. */
export function toGrantAnnotation(a: Loose): C1GrantAnnotation | undefined {
  switch (a.type) {
    case 'ExternalResourceMatchID':
      return isString(a.id) ? { type: 'ExternalResourceMatchID', id: a.id } : undefined;
    case 'GrantExpandable':
      if (!isStringList(a.entitlementIds)) return undefined;
      return {
        type: 'GrantExpandable',
        entitlementIds: a.entitlementIds,
        ...(a.shallow === true ? { shallow: true } : {}),
        ...(isStringList(a.resourceTypeIds) ? { resourceTypeIds: a.resourceTypeIds } : {}),
      };
    case 'GrantImmutable':
      return { type: 'GrantImmutable', ...(isString(a.sourceId) ? { sourceId: a.sourceId } : {}) };
    default:
      return undefined;
  }
}

function defined<T>(items: (T | undefined)[]): T[] {
  return items.filter((i): i is T => i !== undefined);
}

function toResource(r: SnapshotResource): C1Resource {
  return {
    type: r.type,
    id: r.id,
    displayName: r.displayName,
    ...(r.parent ? { parent: r.parent } : {}),
    profile: r.profile,
    annotations: defined(r.annotations.map(toResourceAnnotation)),
  };
}

function toEntitlement(e: SnapshotEntitlement): C1Entitlement {
  return { ...e, purpose: e.purpose === 'permission' ? 'permission' : 'assignment' };
}

function toGrant(g: SnapshotGrant): C1Grant {
  return {
    id: g.id,
    entitlementId: g.entitlementId,
    resource: g.resource,
    principal: g.principal,
    annotations: defined(g.annotations.map(toGrantAnnotation)),
  };
}

async function* allPages<T, U>(
  read: (cursor: string | undefined) => Promise<SnapshotPage<T>>,
  map: (item: T) => U,
): AsyncGenerator<U> {
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    for (const item of page.items) yield map(item);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/**
 * The snapshot of one sync run of a cluster, in c1z writer form. Resource types are the ones the
 * connector advertises (baton-eks's, plus `k8s_group`), as eks-core's own c1z stream has them.
 * Reading a run that was pruned meanwhile throws NotFoundError.
 */
export function c1SnapshotOf(database: Database, clusterId: string, syncRunId: string): C1Snapshot {
  const page = (cursor: string | undefined) => ({
    syncRunId,
    limit: PAGE_SIZE,
    ...(cursor === undefined ? {} : { cursor }),
  });
  return {
    resourceTypes: RESOURCE_TYPE_IDS.map((id) => RESOURCE_TYPES[id]),
    resources: () => allPages((cursor) => listResources(database, clusterId, page(cursor)), toResource),
    entitlements: () =>
      allPages((cursor) => listEntitlements(database, clusterId, page(cursor)), toEntitlement),
    grants: () => allPages((cursor) => listGrants(database, clusterId, page(cursor)), toGrant),
  };
}
