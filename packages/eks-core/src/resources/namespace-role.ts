// namespace_role: Kubernetes Roles, id `<namespace>/<name>` (baton-eks renamed Kubernetes `role` to
// avoid the IAM role's type id). One `member` entitlement; grants from RoleBindings in the same
// namespace whose roleRef is that Role.
import { GRANTABLE_TO, namespaceRoleEntitlementId, type Entitlement, type Resource } from '../model.js';
import { GrantCollector, type MapContext, type ResourceMapper } from './context.js';
import { principalsForSubject } from './subjects.js';

export const namespaceRoleMapper: ResourceMapper = {
  type: 'namespace_role',

  *resources(ctx: MapContext): Iterable<Resource> {
    for (const r of ctx.inventory.roles) {
      const ns = r.meta.namespace ?? '';
      yield {
        type: 'namespace_role',
        id: `${ns}/${r.meta.name}`,
        displayName: r.meta.name,
        parent: { type: 'namespace', id: ns },
        profile: {
          name: r.meta.name,
          namespace: ns,
          ...(r.meta.uid ? { uid: r.meta.uid } : {}),
          ...(r.meta.creationTimestamp ? { creation_timestamp: r.meta.creationTimestamp } : {}),
          ...(r.meta.labels ? { labels: r.meta.labels } : {}),
          rules: r.rules,
        },
        annotations: r.meta.uid ? [{ type: 'ExternalId', id: r.meta.uid }] : [],
      };
    }
  },

  *entitlements(ctx: MapContext): Iterable<Entitlement> {
    const grantableTo = GRANTABLE_TO.namespace_role ?? [];
    for (const r of ctx.inventory.roles) {
      const ns = r.meta.namespace ?? '';
      yield {
        id: namespaceRoleEntitlementId(ns, r.meta.name),
        resource: { type: 'namespace_role', id: `${ns}/${r.meta.name}` },
        slug: 'member',
        displayName: `${r.meta.name} in ${ns}`,
        description: `Bound to Role ${ns}/${r.meta.name} by a RoleBinding`,
        purpose: 'assignment',
        grantableTo,
      };
    }
  },

  grants(ctx: MapContext) {
    const grants = new GrantCollector();
    const known = new Set(ctx.inventory.roles.map((r) => `${r.meta.namespace ?? ''}/${r.meta.name}`));
    for (const b of ctx.inventory.roleBindings) {
      if (b.roleRef.kind !== 'Role') continue;
      const ns = b.meta.namespace ?? '';
      const id = `${ns}/${b.roleRef.name}`;
      if (!known.has(id)) {
        ctx.warnings.push(`RoleBinding ${ns}/${b.meta.name} refers to Role ${id}, which does not exist`);
        continue;
      }
      const binding = { kind: 'RoleBinding' as const, name: b.meta.name, namespace: ns };
      for (const subject of b.subjects) {
        for (const p of principalsForSubject(subject, binding, ctx)) {
          grants.add({
            entitlementId: namespaceRoleEntitlementId(ns, b.roleRef.name),
            resource: { type: 'namespace_role', id },
            principal: p.principal,
            sources: [p.source],
            ...(p.conditions ? { conditions: p.conditions } : {}),
          });
        }
      }
    }
    return grants.values();
  },
};
