// What every resource mapper needs: the inventory, the cluster's identity map, the namespace list,
// and a place to put warnings. Mappers are pure functions of this context.
import type { IdentityMap } from '../identity/identity-map.js';
import {
  createGrant,
  type CreateGrantInput,
  type Entitlement,
  type Grant,
  type Resource,
  type ResourceTypeId,
} from '../model.js';
import type { ClusterInventory } from '../sync/inventory.js';

export interface MapContext {
  inventory: ClusterInventory;
  identity: IdentityMap;
  /** Namespace names, sorted. */
  namespaces: readonly string[];
  warnings: string[];
  /** Binding subjects that name a Kubernetes user no IAM principal maps to (OIDC users, system components). */
  unmappedUsers: Map<string, number>;
}

/** One resource type's part of a snapshot; each method is a lazy stream. */
export interface ResourceMapper {
  type: ResourceTypeId;
  resources(ctx: MapContext): Iterable<Resource>;
  entitlements(ctx: MapContext): Iterable<Entitlement>;
  grants(ctx: MapContext): Iterable<Grant>;
}

/**
 * Collects grants by id: the same grant (entitlement + principal) can come from several bindings or
 * mappings, and a reviewer should see every one of them as a source, not several copies.
 */
export class GrantCollector {
  private readonly byId = new Map<string, Grant>();

  add(input: CreateGrantInput): void {
    const grant = createGrant(input);
    const existing = this.byId.get(grant.id);
    if (!existing) {
      this.byId.set(grant.id, grant);
      return;
    }
    if (grant.sources) existing.sources = [...(existing.sources ?? []), ...grant.sources];
    // A grant given unconditionally by one source is unconditional, whatever the others say.
    if (!existing.conditions || !grant.conditions) delete existing.conditions;
  }

  values(): Iterable<Grant> {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** Namespace patterns in access scopes may end in `*`; expand them against the cluster's namespaces. */
export function expandNamespacePattern(pattern: string, namespaces: readonly string[]): string[] {
  if (!pattern.endsWith('*')) return namespaces.includes(pattern) ? [pattern] : [];
  const prefix = pattern.slice(0, -1);
  return namespaces.filter((n) => n.startsWith(prefix));
}
