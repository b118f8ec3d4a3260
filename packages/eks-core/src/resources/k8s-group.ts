// k8s_group: every Kubernetes group that matters on the cluster: groups named in aws-auth, in access
// entries and in binding subjects, and always system:masters. Its `member` grants go to the IAM
// principals mapped into it, so "who is in system:masters" is one grant list, and bindings to a
// group (grants to k8s_group:<g> with GrantExpandable) expand to those members.
import { GRANTABLE_TO, groupMemberEntitlementId, type Entitlement, type Resource } from '../model.js';
import { isManagedName } from '../provision/names.js';
import { GrantCollector, type MapContext, type ResourceMapper } from './context.js';

export const SUPERUSER_GROUP = 'system:masters';

const DESCRIPTIONS: Record<string, string> = {
  'system:masters': 'Kubernetes superuser group: members bypass RBAC entirely',
  'system:authenticated': 'Every authenticated identity belongs to this group',
};

/** The groups of a cluster, sorted. */
export function clusterGroups(ctx: MapContext): string[] {
  const groups = new Set<string>([SUPERUSER_GROUP]);
  for (const g of ctx.identity.groups.keys()) groups.add(g);
  for (const b of [...ctx.inventory.clusterRoleBindings, ...ctx.inventory.roleBindings]) {
    for (const s of b.subjects) if (s.kind === 'Group') groups.add(s.name);
  }
  // Our per-principal groups are plumbing: bindings to them are reported as direct grants.
  return [...groups].filter((g) => !isManagedName(g)).sort();
}

export const k8sGroupMapper: ResourceMapper = {
  type: 'k8s_group',

  *resources(ctx: MapContext): Iterable<Resource> {
    for (const g of clusterGroups(ctx)) {
      yield {
        type: 'k8s_group',
        id: g,
        displayName: g,
        profile: {
          name: g,
          system: g.startsWith('system:'),
          description: DESCRIPTIONS[g] ?? `Kubernetes group ${g}`,
        },
        annotations: [],
      };
    }
  },

  *entitlements(ctx: MapContext): Iterable<Entitlement> {
    for (const g of clusterGroups(ctx)) {
      yield {
        id: groupMemberEntitlementId(g),
        resource: { type: 'k8s_group', id: g },
        slug: 'member',
        displayName: `${g} member`,
        description: DESCRIPTIONS[g] ?? `Member of Kubernetes group ${g}`,
        purpose: 'assignment',
        grantableTo: GRANTABLE_TO.k8s_group ?? [],
      };
    }
  },

  grants(ctx: MapContext) {
    const grants = new GrantCollector();
    for (const g of clusterGroups(ctx)) {
      for (const m of ctx.identity.lookupGroup(g)) {
        grants.add({
          entitlementId: groupMemberEntitlementId(g),
          resource: { type: 'k8s_group', id: g },
          principal: { type: m.principalType, id: m.principalArn },
          sources: [{ kind: 'identity-mapping', identity: m.source }],
          ...(m.conditions.length > 0 ? { conditions: m.conditions } : {}),
        });
      }
    }
    return grants.values();
  },
};
