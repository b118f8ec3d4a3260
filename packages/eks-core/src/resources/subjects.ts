// RBAC binding subjects → snapshot principals. Users go through the identity map to IAM principals
// (with template conditions), groups become k8s_group principals that C1 expands to their members,
// and service accounts keep their own namespace (a RoleBinding subject without one is in the
// binding's namespace).
import type { BindingRef, BindingSubject, GrantCondition, GrantSource, ResourceRef } from '../model.js';
import { isManagedName } from '../provision/names.js';
import type { IdentityMatch } from '../identity/identity-map.js';
import type { KubeSubject } from '../sync/inventory.js';
import type { MapContext } from './context.js';

export interface SubjectPrincipal {
  principal: ResourceRef;
  source: GrantSource;
  conditions?: GrantCondition[];
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Resolves one binding subject to the principals it grants to (none when it maps to nobody). */
export function principalsForSubject(
  subject: KubeSubject,
  binding: BindingRef,
  ctx: MapContext,
): SubjectPrincipal[] {
  const ref: BindingSubject | undefined =
    subject.kind === 'User' || subject.kind === 'Group' || subject.kind === 'ServiceAccount'
      ? {
          kind: subject.kind,
          name: subject.name,
          ...(subject.namespace ? { namespace: subject.namespace } : {}),
        }
      : undefined;
  if (!ref) {
    ctx.warnings.push(
      `${binding.kind} ${binding.namespace ? `${binding.namespace}/` : ''}${binding.name}: subject kind "${subject.kind}" is not User, Group or ServiceAccount`,
    );
    return [];
  }
  if (
    (subject.kind === 'User' || subject.kind === 'Group') &&
    subject.apiGroup !== undefined &&
    subject.apiGroup !== '' &&
    subject.apiGroup !== RBAC_GROUP
  ) {
    return [];
  }
  switch (ref.kind) {
    case 'ServiceAccount': {
      const namespace = subject.namespace ?? binding.namespace;
      if (!namespace) {
        ctx.warnings.push(
          `${binding.kind} ${binding.name}: ServiceAccount subject ${subject.name} has no namespace`,
        );
        return [];
      }
      return [
        {
          principal: { type: 'service_account', id: `${namespace}/${subject.name}` },
          source: { kind: 'rbac-binding', binding, subject: ref },
        },
      ];
    }
    case 'Group':
      // Our own per-principal groups (what the provisioner binds) stand for exactly one IAM
      // principal: report the grant to it directly, as the grant C1 asked for.
      if (isManagedName(subject.name))
        return viaIdentity(ctx.identity.lookupGroup(subject.name), binding, ref);
      return [
        {
          principal: { type: 'k8s_group', id: subject.name },
          source: { kind: 'rbac-binding', binding, subject: ref },
        },
      ];
    case 'User': {
      const matches = ctx.identity.lookupUser(subject.name);
      if (matches.length === 0)
        ctx.unmappedUsers.set(subject.name, (ctx.unmappedUsers.get(subject.name) ?? 0) + 1);
      return viaIdentity(matches, binding, ref);
    }
  }
}

function viaIdentity(
  matches: readonly IdentityMatch[],
  binding: BindingRef,
  ref: BindingSubject,
): SubjectPrincipal[] {
  return matches.map((m) => ({
    principal: { type: m.principalType, id: m.principalArn },
    source: { kind: 'rbac-binding', binding, subject: ref, identity: m.source },
    ...(m.conditions.length > 0 ? { conditions: m.conditions } : {}),
  }));
}
