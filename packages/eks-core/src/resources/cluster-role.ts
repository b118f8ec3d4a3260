// cluster_role: Kubernetes ClusterRoles. Entitlements `all:member` (bound by a ClusterRoleBinding)
// and `<namespace>:member` (bound by a RoleBinding in that namespace), as baton-eks. A RoleBinding
// subject is granted only in the binding's namespace, never cluster-wide.
import { GRANTABLE_TO, clusterRoleEntitlementId, type Entitlement, type Resource } from '../model.js';
import type { KubeBindingRecord } from '../sync/inventory.js';
import { GrantCollector, type MapContext, type ResourceMapper } from './context.js';
import { principalsForSubject } from './subjects.js';

function bindingsByClusterRole(bindings: readonly KubeBindingRecord[]): Map<string, KubeBindingRecord[]> {
  const out = new Map<string, KubeBindingRecord[]>();
  for (const b of bindings) {
    if (b.roleRef.kind !== 'ClusterRole') continue;
    const list = out.get(b.roleRef.name);
    if (list) list.push(b);
    else out.set(b.roleRef.name, [b]);
  }
  return out;
}

export const clusterRoleMapper: ResourceMapper = {
  type: 'cluster_role',

  *resources(ctx: MapContext): Iterable<Resource> {
    for (const r of ctx.inventory.clusterRoles) {
      yield {
        type: 'cluster_role',
        id: r.meta.name,
        displayName: r.meta.name,
        profile: {
          name: r.meta.name,
          ...(r.meta.uid ? { uid: r.meta.uid } : {}),
          ...(r.meta.creationTimestamp ? { creation_timestamp: r.meta.creationTimestamp } : {}),
          ...(r.meta.labels ? { labels: r.meta.labels } : {}),
          ...(r.meta.annotations ? { annotations: r.meta.annotations } : {}),
          ...(r.aggregationRule ? { aggregation_rule: r.aggregationRule } : {}),
          rules: r.rules,
        },
        annotations: r.meta.uid ? [{ type: 'ExternalId', id: r.meta.uid }] : [],
      };
    }
  },

  *entitlements(ctx: MapContext): Iterable<Entitlement> {
    const grantableTo = GRANTABLE_TO.cluster_role ?? [];
    for (const r of ctx.inventory.clusterRoles) {
      const name = r.meta.name;
      const resource = { type: 'cluster_role', id: name };
      yield {
        id: clusterRoleEntitlementId(name),
        resource,
        slug: 'all:member',
        displayName: `${name} (all namespaces)`,
        description: `Bound to ClusterRole ${name} cluster-wide by a ClusterRoleBinding`,
        purpose: 'assignment',
        grantableTo,
      };
      for (const ns of ctx.namespaces) {
        yield {
          id: clusterRoleEntitlementId(name, ns),
          resource,
          slug: `${ns}:member`,
          displayName: `${name} in ${ns}`,
          description: `Bound to ClusterRole ${name} in namespace ${ns} by a RoleBinding`,
          purpose: 'assignment',
          grantableTo,
        };
      }
    }
  },

  grants(ctx: MapContext) {
    const grants = new GrantCollector();
    const known = new Set(ctx.inventory.clusterRoles.map((r) => r.meta.name));
    const namespaces = new Set(ctx.namespaces);
    const emit = (b: KubeBindingRecord, kind: 'ClusterRoleBinding' | 'RoleBinding') => {
      if (!known.has(b.roleRef.name)) {
        ctx.warnings.push(
          `${kind} ${b.meta.namespace ? `${b.meta.namespace}/` : ''}${b.meta.name} refers to ClusterRole ${b.roleRef.name}, which does not exist`,
        );
        return;
      }
      const namespace = kind === 'RoleBinding' ? b.meta.namespace : undefined;
      if (namespace !== undefined && !namespaces.has(namespace)) return;
      const entitlement = clusterRoleEntitlementId(b.roleRef.name, namespace);
      const binding = { kind, name: b.meta.name, ...(namespace ? { namespace } : {}) };
      for (const subject of b.subjects) {
        for (const p of principalsForSubject(subject, binding, ctx)) {
          grants.add({
            entitlementId: entitlement,
            resource: { type: 'cluster_role', id: b.roleRef.name },
            principal: p.principal,
            sources: [p.source],
            ...(p.conditions ? { conditions: p.conditions } : {}),
          });
        }
      }
    };
    for (const list of bindingsByClusterRole(ctx.inventory.clusterRoleBindings).values())
      for (const b of list) emit(b, 'ClusterRoleBinding');
    for (const list of bindingsByClusterRole(ctx.inventory.roleBindings).values())
      for (const b of list) emit(b, 'RoleBinding');
    return grants.values();
  },
};
