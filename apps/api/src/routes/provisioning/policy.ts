// The API's early look at the provisioning policy, so a request the provisioner would refuse is
// answered at once (403, or 422 for an entitlement that cannot be provisioned) instead of being
// recorded and refused later. The policy itself is @eks-access/model's `decideProvisioning`; the
// provisioner enforces it again for every request, whatever its origin, and its answer counts.
import { decideProvisioning, type ClusterProvisioning, type ProvisioningSubject } from '@eks-access/model';
import { ApiError } from '../../errors.js';

/** Throws FORBIDDEN (or UNPROCESSABLE) with the policy's reason when the cluster would refuse the request. */
export function checkProvisioningAllowed(cluster: ClusterProvisioning, subject: ProvisioningSubject): void {
  const decision = decideProvisioning(cluster, subject);
  if (decision.allowed) return;
  const status = decision.code === 'INVALID_ENTITLEMENT' ? 'UNPROCESSABLE' : 'FORBIDDEN';
  throw new ApiError(status, decision.message, {
    code: decision.code,
    ...(decision.rule !== undefined ? { rule: decision.rule } : {}),
  });
}
