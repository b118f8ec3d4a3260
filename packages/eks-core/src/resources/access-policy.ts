// access_policy: every EKS access policy ListAccessPolicies returns (not a hard-coded five).
// Entitlements `assigned:cluster` and `assigned:<namespace>`; grants from access-entry policy
// associations, counted only when the authentication mode makes access entries effective.
import { principalTypeOf } from '../identity/arn.js';
import { GRANTABLE_TO, accessPolicyEntitlementId, type Entitlement, type Resource } from '../model.js';
import { GrantCollector, expandNamespacePattern, type MapContext, type ResourceMapper } from './context.js';

export const accessPolicyMapper: ResourceMapper = {
  type: 'access_policy',

  *resources(ctx: MapContext): Iterable<Resource> {
    for (const p of ctx.inventory.accessPolicies) {
      yield {
        type: 'access_policy',
        id: p.arn,
        displayName: p.name,
        profile: { display_name: p.name, policy_arn: p.arn, description: `EKS access policy ${p.name}` },
        annotations: [],
      };
    }
  },

  *entitlements(ctx: MapContext): Iterable<Entitlement> {
    const grantableTo = GRANTABLE_TO.access_policy ?? [];
    for (const p of ctx.inventory.accessPolicies) {
      const resource = { type: 'access_policy', id: p.arn };
      for (const ns of ctx.namespaces) {
        yield {
          id: accessPolicyEntitlementId(p.arn, ns),
          resource,
          slug: `assigned:${ns}`,
          displayName: `${p.name} in ${ns}`,
          description: `${p.name} associated with namespace scope ${ns}`,
          purpose: 'assignment',
          grantableTo,
        };
      }
      yield {
        id: accessPolicyEntitlementId(p.arn),
        resource,
        slug: 'assigned:cluster',
        displayName: `${p.name} (cluster)`,
        description: `${p.name} associated with cluster scope`,
        purpose: 'assignment',
        grantableTo,
      };
    }
  },

  grants(ctx: MapContext) {
    const grants = new GrantCollector();
    if (!ctx.identity.accessEntriesEffective) return [];
    const known = new Set(ctx.inventory.accessPolicies.map((p) => p.arn));
    for (const entry of ctx.inventory.accessEntries) {
      const principalType = principalTypeOf(entry.principalArn);
      if (!principalType) {
        if (entry.associations.length > 0)
          ctx.warnings.push(
            `access entry ${entry.principalArn} is not an IAM user or role; its policy associations are not reported`,
          );
        continue;
      }
      for (const a of entry.associations) {
        if (!known.has(a.policyArn))
          ctx.warnings.push(
            `access entry ${entry.principalArn} has policy ${a.policyArn}, which ListAccessPolicies did not return`,
          );
        const scopes =
          a.accessScope.type === 'cluster'
            ? [undefined]
            : a.accessScope.namespaces.flatMap((pattern) => {
                const matched = expandNamespacePattern(pattern, ctx.namespaces);
                if (matched.length === 0)
                  ctx.warnings.push(
                    `access entry ${entry.principalArn}: ${a.policyArn} is scoped to namespace "${pattern}", which does not exist`,
                  );
                return matched;
              });
        for (const ns of scopes) {
          grants.add({
            entitlementId: accessPolicyEntitlementId(a.policyArn, ns),
            resource: { type: 'access_policy', id: a.policyArn },
            principal: { type: principalType, id: entry.principalArn },
            sources: [
              { kind: 'access-policy-association', principalArn: entry.principalArn, policyArn: a.policyArn },
            ],
          });
        }
      }
    }
    return grants.values();
  },
};
