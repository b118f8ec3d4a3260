// What every step of one grant or revoke needs: the session, the cluster as it is right now (its
// authentication mode read fresh, not from a cache), the Kubernetes client, the principal and the
// step log.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { EksAccessError } from '../errors.js';
import { accountIdOf } from '../identity/arn.js';
import { AUTHENTICATION_MODES, type AuthenticationMode } from '../identity/identity-map.js';
import type { KubeClient } from '../kube/client.js';
import type { ClusterSession } from '../session.js';
import { managedGroupFor } from './names.js';
import { StepLog, type AccessChange, type ProvisionOptions } from './types.js';
import { validateChange, type ProvisionPrincipal, type ProvisionTarget } from './validate.js';

export interface ProvisionContext {
  session: ClusterSession;
  kube: KubeClient;
  cluster: { name: string; accountId: string; authenticationMode: AuthenticationMode };
  /** The account IAM calls answer for (the last assumed role's, else the cluster's). */
  connectorAccountId: string;
  principal: ProvisionPrincipal;
  /** `eks-access:<hash>`: the Kubernetes group bindings name for this principal. */
  managedGroup: string;
  entitlementId: string;
  log: StepLog;
}

/** Recorded as the field manager of every Kubernetes write, so `managedFields` show who changed what. */
export const FIELD_MANAGER = 'eks-access-connector';

/** Kubernetes 409s are handled by re-reading and redoing the edit, never by resending a stale write. */
export function noConflictRetry(err: EksAccessError): boolean {
  return err.code !== 'KUBE_CONFLICT';
}

function isAuthenticationMode(mode: string): mode is AuthenticationMode {
  return (AUTHENTICATION_MODES as readonly string[]).includes(mode);
}

/** Validates the change, then reads the cluster's current authentication mode and connects to it. */
export async function openContext(
  session: ClusterSession,
  change: AccessChange,
  options: ProvisionOptions,
): Promise<{ ctx: ProvisionContext; target: ProvisionTarget }> {
  const { target, principal } = validateChange(change);
  const name = session.cluster.name;
  // The session caches DescribeCluster for endpoint and CA; the mode can be switched at any time,
  // and it decides where identities live, so it is read again for every change.
  const out = await session.awsCall('eks', 'DescribeCluster', name, () =>
    session.aws.eks.send(new DescribeClusterCommand({ name })),
  );
  const mode: string = out.cluster?.accessConfig?.authenticationMode ?? 'CONFIG_MAP';
  if (!isAuthenticationMode(mode))
    throw new EksAccessError('INTERNAL', `cluster ${name} reports an unknown authentication mode "${mode}"`);
  const description = await session.describe();
  const kube = await session.kube();
  const assumed = session.options.credentials.assume.at(-1)?.roleArn;
  const ctx: ProvisionContext = {
    session,
    kube,
    cluster: { name, accountId: description.accountId, authenticationMode: mode },
    connectorAccountId: (assumed ? accountIdOf(assumed) : undefined) ?? description.accountId,
    principal,
    managedGroup: managedGroupFor(principal.arn),
    entitlementId: change.entitlementId,
    log: new StepLog(options.dryRun ?? false),
  };
  return { ctx, target };
}
