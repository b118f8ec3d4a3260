// How each snapshot table's rows are encoded for COPY: the columns after sync_run_id and the values
// of one model row in that order. The encoded line is also what the content hash covers
// (content-hash.ts), so a change here changes every hash once (older snapshots are then written
// again on their next sync, never wrongly reused).
import type { SnapshotPart } from './content-hash.js';
import type { CopyValue } from './copy.js';
import type { EntitlementInput, GrantInput, ResourceInput } from './snapshot-types.js';

/** One snapshot table: its name, its columns after sync_run_id, and a row's values in that order. */
export interface SnapshotColumns<T> {
  part: SnapshotPart;
  /** The columns after sync_run_id, in COPY order. */
  columns: readonly string[];
  toValues: (row: T) => readonly CopyValue[];
}

export const RESOURCES: SnapshotColumns<ResourceInput> = {
  part: 'resources',
  columns: ['type', 'resource_id', 'parent_type', 'parent_id', 'display_name', 'profile', 'annotations'],
  toValues: (r) => [
    r.type,
    r.id,
    r.parent?.type ?? null,
    r.parent?.id ?? null,
    r.displayName,
    { json: r.profile },
    { json: r.annotations },
  ],
};
export const ENTITLEMENTS: SnapshotColumns<EntitlementInput> = {
  part: 'entitlements',
  columns: [
    'entitlement_id',
    'resource_type',
    'resource_id',
    'slug',
    'display_name',
    'description',
    'purpose',
    'grantable_to',
  ],
  toValues: (e) => [
    e.id,
    e.resource.type,
    e.resource.id,
    e.slug,
    e.displayName,
    e.description,
    e.purpose,
    e.grantableTo,
  ],
};
export const GRANTS: SnapshotColumns<GrantInput> = {
  part: 'grants',
  columns: [
    'grant_id',
    'entitlement_id',
    'resource_type',
    'resource_id',
    'principal_type',
    'principal_id',
    'annotations',
    'sources',
    'conditions',
  ],
  toValues: (g) => [
    g.id,
    g.entitlementId,
    g.resource.type,
    g.resource.id,
    g.principal.type,
    g.principal.id,
    { json: g.annotations },
    g.sources && g.sources.length > 0 ? { json: g.sources } : null,
    g.conditions && g.conditions.length > 0 ? { json: g.conditions } : null,
  ],
};
