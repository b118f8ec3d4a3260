// The `v1_sync_runs.stats` baton-sdk saves when a sync ends (pkg/dotc1z/c1file.go `stats`): the
// c1.reader.v2.SyncStats counts, marshalled with Go's encoding/json (its generated struct tags:
// snake_case names in field order, zero values and empty maps left out, map keys sorted).
import type Database from 'better-sqlite3';
import { compareUtf8 } from './struct.js';
import type { C1SyncType } from './sync-options.js';

type Counts = Map<string, number>;

function countsBy(db: Database.Database, table: string, syncId: string): Counts {
  const rows = db
    .prepare<[string], { type: string; n: number }>(
      `select resource_type_id as type, count(*) as n from ${table} where sync_id = ? group by resource_type_id`,
    )
    .all(syncId);
  return new Map(rows.map((r) => [r.type, r.n]));
}

function sortedObject(counts: Counts): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => compareUtf8(a, b)));
}

const total = (counts: Counts) => [...counts.values()].reduce((sum, n) => sum + n, 0);

/** The stats JSON of one sync, as baton-sdk computes and stores it at the end of the sync. */
export function syncStatsJson(db: Database.Database, syncId: string, syncType: C1SyncType): string {
  const resourceTypeIds = db
    .prepare<[string], { id: string }>('select external_id as id from v1_resource_types where sync_id = ?')
    .all(syncId)
    .map((r) => r.id);
  // Every resource type of the catalogue appears, with 0 when it has no resources; resources of
  // types outside the catalogue are not counted.
  const resourceCounts = countsBy(db, 'v1_resources', syncId);
  const resources: Counts = new Map(resourceTypeIds.map((id) => [id, resourceCounts.get(id) ?? 0]));
  const entitlements =
    syncType === 'resources_only' ? new Map<string, number>() : countsBy(db, 'v1_entitlements', syncId);
  const grants =
    syncType === 'resources_only' ? new Map<string, number>() : countsBy(db, 'v1_grants', syncId);
  const assets =
    db.prepare<[string], { n: number }>('select count(*) as n from v1_assets where sync_id = ?').get(syncId)
      ?.n ?? 0;
  const stats: Record<string, unknown> = {
    resource_types: resourceTypeIds.length,
    resources: total(resources),
    entitlements: total(entitlements),
    grants: total(grants),
    resources_by_resource_type: sortedObject(resources),
    grants_by_resource_type: sortedObject(grants),
    entitlements_by_resource_type: sortedObject(entitlements),
    assets,
  };
  for (const [key, value] of Object.entries(stats)) {
    if (value === 0 || (typeof value === 'object' && Object.keys(value as object).length === 0))
      delete stats[key];
  }
  return JSON.stringify(stats);
}
