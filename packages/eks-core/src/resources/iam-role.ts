// role: IAM roles from ListRoles (the trust policy comes with it: no GetRole per role). The
// `assignment` entitlement says who can assume the role; its grants come from the trust policy:
// IAM users, and roles (role chaining, expanded by C1 through the role's own `assignment`). Account
// roots, federated providers, services and wildcards are not single principals, so they are kept
// on the role's profile where a reviewer sees them, with their conditions.
import {
  parseTrustPolicy,
  trustAllowConditions,
  trustPrincipalRef,
  type TrustAllow,
  type TrustPrincipal,
} from '../identity/trust-policy.js';
import { GRANTABLE_TO, roleAssignmentEntitlementId, type Entitlement, type Resource } from '../model.js';
import type { IamRoleRecord } from '../sync/inventory.js';
import { GrantCollector, type MapContext, type ResourceMapper } from './context.js';

function describePrincipal(p: TrustPrincipal): string {
  switch (p.kind) {
    case 'anyone':
      return '*';
    case 'account':
      return p.arn ?? p.accountId;
    case 'iam_user':
    case 'role':
    case 'role-session':
    case 'federated-user':
    case 'saml-provider':
      return p.arn;
    case 'oidc-provider':
      return p.arn ?? p.provider;
    case 'deleted-principal':
      return p.uniqueId;
    case 'service':
      return p.service;
    case 'canonical-user':
      return p.id;
    case 'unrecognized':
      return `${p.principalKey}:${p.value}`;
  }
}

function trustSummary(allows: TrustAllow[]) {
  const entry = (a: TrustAllow) => ({
    principal: describePrincipal(a.principal),
    kind: a.principal.kind,
    actions: a.actions,
    ...(a.requiresExternalId ? { requires_external_id: true } : {}),
    ...(a.conditionKeys.length > 0 ? { condition_keys: a.conditionKeys } : {}),
  });
  return allows.filter((a) => !trustPrincipalRef(a.principal)).map(entry);
}

const analyses = new WeakMap<IamRoleRecord, ReturnType<typeof parseTrustPolicy> | undefined>();

function analyse(role: IamRoleRecord) {
  if (!analyses.has(role))
    analyses.set(role, role.trustPolicy === undefined ? undefined : parseTrustPolicy(role.trustPolicy));
  return analyses.get(role);
}

export const iamRoleMapper: ResourceMapper = {
  type: 'role',

  *resources(ctx: MapContext): Iterable<Resource> {
    for (const role of ctx.inventory.iamRoles) {
      const analysis = analyse(role);
      yield {
        type: 'role',
        id: role.arn,
        displayName: role.roleName,
        profile: {
          role_name: role.roleName,
          role_id: role.roleId,
          arn: role.arn,
          path: role.path,
          ...(role.createDate ? { create_date: role.createDate } : {}),
          ...(role.description ? { description: role.description } : {}),
          ...(analysis
            ? { trusted_non_iam_principals: trustSummary(analysis.allows) }
            : { trust_policy_error: role.trustPolicyError }),
        },
        annotations: [],
      };
    }
  },

  *entitlements(ctx: MapContext): Iterable<Entitlement> {
    for (const role of ctx.inventory.iamRoles) {
      yield {
        id: roleAssignmentEntitlementId(role.arn),
        resource: { type: 'role', id: role.arn },
        slug: 'assignment',
        displayName: `${role.roleName} assignment`,
        description: `Can assume the ${role.roleName} role in AWS`,
        purpose: 'assignment',
        grantableTo: GRANTABLE_TO.role ?? [],
      };
    }
  },

  grants(ctx: MapContext) {
    const grants = new GrantCollector();
    for (const role of ctx.inventory.iamRoles) {
      const analysis = analyse(role);
      if (!analysis) continue;
      for (const p of analysis.problems)
        ctx.warnings.push(
          `role ${role.arn} trust policy${p.statementIndex === undefined ? '' : ` statement ${p.statementIndex}`}: ${p.message}`,
        );
      for (const allow of analysis.allows) {
        const principal = trustPrincipalRef(allow.principal);
        if (!principal || !allow.actions.includes('sts:AssumeRole')) continue;
        grants.add({
          entitlementId: roleAssignmentEntitlementId(role.arn),
          resource: { type: 'role', id: role.arn },
          principal,
          sources: [
            {
              kind: 'trust-policy',
              roleArn: role.arn,
              statementIndex: allow.statementIndex,
              ...(allow.sid ? { sid: allow.sid } : {}),
            },
          ],
          conditions: trustAllowConditions(allow),
          // Trust policies are IAM's, not ours to change: C1 must not offer to revoke these.
          immutable: true,
        });
      }
    }
    return grants.values();
  },
};
