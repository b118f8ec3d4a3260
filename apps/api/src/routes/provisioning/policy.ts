// Which entitlements may be provisioned on a cluster. Provisioning is off until enabled on the
// cluster (as BATON_PROVISIONING is in the C1 docs); then a per-cluster policy may allow or deny
// entitlement id patterns (`*` matches anything). Cluster-admin powers are denied unless the
// policy allows them explicitly.
import { ApiError } from '../../errors.js';

export const DEFAULT_DENY = ['cluster_role:cluster-admin:*', 'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy:*'];
export const PROVISIONABLE_TYPES = ['cluster_role', 'namespace_role', 'access_policy'];

export interface ProvisioningPolicy {
  allow?: string[];
  deny?: string[];
}

function matches(pattern: string, id: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(id);
}

/** Throws FORBIDDEN (with the reason) when the cluster's settings refuse this entitlement. */
export function checkProvisioningAllowed(cluster: { name: string; provisioningEnabled: boolean; provisioningPolicy: Record<string, unknown> }, entitlementId: string): void {
  if (!cluster.provisioningEnabled) {
    throw new ApiError('FORBIDDEN', `provisioning is off for cluster ${cluster.name}; enable it with PATCH /v1/clusters/{id} {"provisioningEnabled": true}`);
  }
  const type = entitlementId.split(':')[0] ?? '';
  if (!PROVISIONABLE_TYPES.includes(type)) {
    throw new ApiError('UNPROCESSABLE', `entitlements of type "${type}" cannot be provisioned; only ${PROVISIONABLE_TYPES.join(', ')}`);
  }
  const policy = cluster.provisioningPolicy as ProvisioningPolicy;
  const allowed = (policy.allow ?? []).some((p) => matches(p, entitlementId));
  const denied = [...DEFAULT_DENY, ...(policy.deny ?? [])].find((p) => matches(p, entitlementId));
  if (denied && !allowed) {
    throw new ApiError('FORBIDDEN', `cluster ${cluster.name}'s provisioning policy denies ${entitlementId} (matches "${denied}"); allow it explicitly in provisioningPolicy.allow`);
  }
}
