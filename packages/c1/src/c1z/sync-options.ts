// What a C1 full-sync task asks of the file (SyncFullTask's options), applied to a snapshot the
// way baton-sdk's syncer applies them (pkg/sync/syncer.go, v0.25.0):
// - targeted resources make a `partial` sync of just those resources: each one found in the
//   snapshot, the resources listed under it through its ChildResourceType annotations (and
//   theirs, recursively), and the entitlements and grants of those resources. Every resource type
//   is kept. Grants are never expanded in a partial sync.
// - skip_entitlements_and_grants keeps resources only, in a `resources_only` sync (a partial one
//   stays `partial`); skip_grants keeps resources and entitlements.
// - sync resource type ids keep only those resource types, the resources of those types and
//   their entitlements and grants; targeted resources of other types are dropped.
import type { C1Entitlement, C1Grant, C1Resource, C1ResourceRef, C1Snapshot, C1Source } from './model.js';

/** `v1_sync_runs.sync_type` as baton-sdk's connectorstore names the kinds this writer produces. */
export type C1SyncType = 'full' | 'partial' | 'resources_only';

/** The options of a C1 full-sync task, as the writer applies them. */
export interface C1SyncOptions {
  /** A partial sync of just these resources (SyncFullTask.targeted_sync_resources). */
  targetedResources?: readonly C1ResourceRef[];
  /** Only these resource types (SyncFullTask.sync_resource_type_ids). */
  resourceTypeIds?: readonly string[];
  /** Resource types and resources only (SyncFullTask.skip_entitlements_and_grants). */
  skipEntitlementsAndGrants?: boolean;
  /** Resources and entitlements, no grants (SyncFullTask.skip_grants). */
  skipGrants?: boolean;
  /**
   * Expand grants as baton-sdk's syncer does when C1 does not ask it to skip that
   * (`!SyncFullTask.skip_expand_grants`). Off by default: in service mode C1 expands them itself.
   */
  expandGrants?: boolean;
}

/** The sync type a file written with these options records. */
export function syncTypeOf(options: C1SyncOptions): C1SyncType {
  if ((options.targetedResources?.length ?? 0) > 0) return 'partial';
  return options.skipEntitlementsAndGrants ? 'resources_only' : 'full';
}

/** Whether the writer expands grants: asked for, in a full sync that has grants. */
export function expandsGrants(options: C1SyncOptions): boolean {
  return options.expandGrants === true && syncTypeOf(options) === 'full' && options.skipGrants !== true;
}

const keyOf = (ref: C1ResourceRef) => `${ref.type}\0${ref.id}`;

async function* filtered<T>(source: C1Source<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of source) if (keep(item)) yield item;
}

function childTypesOf(resource: C1Resource): string[] {
  return (resource.annotations ?? []).flatMap((a) =>
    a.type === 'ChildResourceType' ? [a.resourceTypeId] : [],
  );
}

/**
 * The targeted resources found in the snapshot and everything listed under them, as resource keys.
 * Reads `resources()` once, keeping only each resource's key, parent and child types.
 */
async function targetedKeys(
  snapshot: C1Snapshot,
  targets: readonly C1ResourceRef[],
  typeAllowed: (type: string) => boolean,
): Promise<Set<string>> {
  const children = new Map<string, C1ResourceRef[]>();
  const childTypes = new Map<string, string[]>();
  const present = new Set<string>();
  for await (const resource of snapshot.resources()) {
    const key = keyOf(resource);
    present.add(key);
    const types = childTypesOf(resource);
    if (types.length > 0) childTypes.set(key, types);
    if (resource.parent) {
      const parentKey = keyOf(resource.parent);
      const list = children.get(parentKey) ?? [];
      list.push({ type: resource.type, id: resource.id });
      children.set(parentKey, list);
    }
  }
  const selected = new Set<string>();
  const pending = targets.filter((t) => typeAllowed(t.type) && present.has(keyOf(t))).map(keyOf);
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    if (selected.has(key)) continue;
    selected.add(key);
    const listed = new Set((childTypes.get(key) ?? []).filter(typeAllowed));
    for (const child of children.get(key) ?? []) if (listed.has(child.type)) pending.push(keyOf(child));
  }
  return selected;
}

/** Whether the options change what is written (otherwise the snapshot is written as it is). */
export function selectsSubset(options: C1SyncOptions): boolean {
  return (
    (options.targetedResources?.length ?? 0) > 0 ||
    (options.resourceTypeIds?.length ?? 0) > 0 ||
    options.skipEntitlementsAndGrants === true ||
    options.skipGrants === true
  );
}

/**
 * The snapshot as a sync with these options would have collected it. For a targeted sync,
 * `resources()` is read twice: once to find what hangs off the targeted resources, once to write.
 */
export function selectForSync(snapshot: C1Snapshot, options: C1SyncOptions): C1Snapshot {
  const types = options.resourceTypeIds?.length ? new Set(options.resourceTypeIds) : undefined;
  const typeAllowed = (type: string) => types === undefined || types.has(type);
  const targets = options.targetedResources ?? [];
  const withinTypes = targets.filter((t) => typeAllowed(t.type));
  // As baton-sdk: targets all filtered out by the type list leave a sync of every allowed type.
  const targeted = withinTypes.length > 0;
  const skipEntitlements = options.skipEntitlementsAndGrants === true;
  const skipGrants = skipEntitlements || options.skipGrants === true;
  let selection: Promise<Set<string>> | undefined;
  const selected = () => (selection ??= targetedKeys(snapshot, withinTypes, typeAllowed));
  const keepResource = async (): Promise<(ref: C1ResourceRef) => boolean> => {
    if (!targeted) return (ref) => typeAllowed(ref.type);
    const keys = await selected();
    return (ref) => keys.has(keyOf(ref));
  };
  return {
    resourceTypes: filtered(snapshot.resourceTypes, (rt) => typeAllowed(rt.id)),
    async *resources(): AsyncGenerator<C1Resource> {
      const keep = await keepResource();
      yield* filtered(snapshot.resources(), (r) => keep(r));
    },
    async *entitlements(): AsyncGenerator<C1Entitlement> {
      if (skipEntitlements) return;
      const keep = await keepResource();
      yield* filtered(snapshot.entitlements(), (e) => keep(e.resource));
    },
    async *grants(): AsyncGenerator<C1Grant> {
      if (skipGrants) return;
      const keep = await keepResource();
      yield* filtered(snapshot.grants(), (g) => keep(g.resource));
    },
  };
}
