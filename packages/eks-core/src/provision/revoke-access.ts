// Revoke: validate the request's shape, then take the access away. Neither the principal nor the
// entitlement's objects have to exist any more: a deleted IAM user's bindings must still be
// removable, and a binding can outlive the role it references.
import type { ClusterSession } from '../session.js';
import { revokeAccessPolicy } from './access-policy.js';
import { openContext } from './context.js';
import { revokeRole } from './rbac.js';
import type { AccessChange, ProvisionOptions, ProvisionOutcome } from './types.js';

/** Revokes an entitlement from an IAM user or role on the session's cluster (or plans it, in a dry run). */
export async function revokeAccess(
  session: ClusterSession,
  change: AccessChange,
  options: ProvisionOptions = {},
): Promise<ProvisionOutcome> {
  const { ctx, target } = await openContext(session, change, options);
  switch (target.type) {
    case 'access_policy':
      await revokeAccessPolicy(ctx, target);
      break;
    case 'cluster_role':
    case 'namespace_role':
      await revokeRole(ctx, target);
      break;
  }
  const { log } = ctx;
  const result = !log.changed() ? 'already-revoked' : log.dryRun ? 'planned' : 'revoked';
  return { result, steps: log.steps, notes: log.notes };
}
