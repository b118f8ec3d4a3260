// Grant: validate, check the principal and the entitlement's objects exist, then make the change
// for the entitlement's type. Each part is idempotent, so the whole can be re-run after a crash.
import type { ClusterSession } from '../session.js';
import { grantAccessPolicy } from './access-policy.js';
import { openContext } from './context.js';
import { grantRole } from './rbac.js';
import type { AccessChange, ProvisionOptions, ProvisionOutcome } from './types.js';
import { checkGrantTarget, checkPrincipalExists } from './validate.js';

/** Grants an entitlement to an IAM user or role on the session's cluster (or plans it, in a dry run). */
export async function grantAccess(
  session: ClusterSession,
  change: AccessChange,
  options: ProvisionOptions = {},
): Promise<ProvisionOutcome> {
  const { ctx, target } = await openContext(session, change, options);
  await checkPrincipalExists(ctx);
  await checkGrantTarget(ctx, target, change.entitlementId);
  switch (target.type) {
    case 'access_policy':
      await grantAccessPolicy(ctx, target);
      break;
    case 'cluster_role':
    case 'namespace_role':
      await grantRole(ctx, target);
      break;
  }
  const { log } = ctx;
  const result = !log.changed() ? 'already-granted' : log.dryRun ? 'planned' : 'granted';
  return { result, steps: log.steps, notes: log.notes };
}
