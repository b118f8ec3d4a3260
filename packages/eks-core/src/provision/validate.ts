// The checks that come before any write: the request's shape (pure), then that the principal and
// the entitlement's target exist in AWS and in the cluster (read fresh). Bad requests fail here
// with a code the API can turn into a clear 4xx instead of a half-done change.
import { GetRoleCommand, GetUserCommand } from '@aws-sdk/client-iam';
import { ListAccessPoliciesCommand } from '@aws-sdk/client-eks';
import { EksAccessError } from '../errors.js';
import { parseIamPrincipalArn } from '../identity/arn.js';
import { parseEntitlementId, type EntitlementScope } from '../model.js';
import type { ProvisionContext } from './context.js';
import type { AccessChange } from './types.js';

/** What a change is about, once its entitlement id is parsed and known to be provisionable. */
export type ProvisionTarget =
  | { type: 'access_policy'; policyArn: string; scope: EntitlementScope }
  | { type: 'cluster_role'; clusterRole: string; scope: EntitlementScope }
  | { type: 'namespace_role'; namespace: string; role: string };

/** The IAM principal of a change, its ARN taken apart. */
export interface ProvisionPrincipal {
  type: 'iam_user' | 'role';
  kind: 'user' | 'role';
  arn: string;
  partition: string;
  accountId: string;
  /** `/` or `/a/b/`; access entries need it, aws-auth role mappings must not have it. */
  path: string;
  name: string;
}

// The partitions AWS runs; the ARN grammar alone would accept `aws-anything`.
const PARTITIONS = new Set([
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
]);

/** The word that means "whole cluster" where a namespace name could also stand. */
export function clusterScopeWord(target: ProvisionTarget): 'all' | 'cluster' | undefined {
  if (target.type === 'cluster_role') return 'all';
  if (target.type === 'access_policy') return 'cluster';
  return undefined;
}

/** Parses and checks a change without any I/O: INVALID_ENTITLEMENT or INVALID_PRINCIPAL when it cannot be provisioned. */
export function validateChange(change: AccessChange): {
  target: ProvisionTarget;
  principal: ProvisionPrincipal;
} {
  const parsed = parseEntitlementId(change.entitlementId);
  if (!parsed.ok) throw new EksAccessError('INVALID_ENTITLEMENT', parsed.error);
  const e = parsed.value;
  let target: ProvisionTarget;
  switch (e.resourceType) {
    case 'access_policy':
      target = { type: 'access_policy', policyArn: e.policyArn, scope: e.scope };
      break;
    case 'cluster_role':
      target = { type: 'cluster_role', clusterRole: e.clusterRole, scope: e.scope };
      break;
    case 'namespace_role':
      target = { type: 'namespace_role', namespace: e.namespace, role: e.name };
      break;
    case 'role':
    case 'k8s_group':
    case 'service_account':
    case 'configmap':
      throw new EksAccessError(
        'INVALID_ENTITLEMENT',
        `entitlement "${change.entitlementId}" is a ${e.resourceType} entitlement; only access_policy, cluster_role and namespace_role entitlements can be provisioned`,
      );
  }

  const arn = change.principal.arn;
  const p = parseIamPrincipalArn(arn);
  if (!p || (p.kind !== 'user' && p.kind !== 'role')) {
    const hint = p?.kind === 'assumed-role' ? ' (an STS session ARN; use the role ARN, with its path)' : '';
    throw new EksAccessError('INVALID_PRINCIPAL', `principal "${arn}" is not an IAM user or role ARN${hint}`);
  }
  if (!PARTITIONS.has(p.partition)) {
    throw new EksAccessError(
      'INVALID_PRINCIPAL',
      `principal "${arn}" names partition "${p.partition}", which is not an AWS partition`,
    );
  }
  const expected = p.kind === 'user' ? 'iam_user' : 'role';
  if (change.principal.type !== expected) {
    throw new EksAccessError(
      'INVALID_PRINCIPAL',
      `principal type "${change.principal.type}" does not match ${arn}, which is an IAM ${p.kind}`,
    );
  }
  if (p.kind === 'role' && p.path.startsWith('/aws-service-role/')) {
    throw new EksAccessError(
      'INVALID_PRINCIPAL',
      `principal "${arn}" is a service-linked role; EKS does not map those to Kubernetes identities`,
    );
  }
  return {
    target,
    principal: {
      type: expected,
      kind: p.kind,
      arn,
      partition: p.partition,
      accountId: p.accountId,
      path: p.path,
      name: p.name,
    },
  };
}

/**
 * Checks the principal exists, with iam:GetUser / iam:GetRole. IAM only answers for the caller's
 * own account, so principals of other accounts are not checked (noted). The returned ARN must
 * equal the requested one: a wrong path would give an access entry nobody ever matches.
 */
export async function checkPrincipalExists(ctx: ProvisionContext): Promise<void> {
  const { principal, session, log } = ctx;
  if (principal.accountId !== ctx.connectorAccountId) {
    log.note(
      `principal ${principal.arn} is in account ${principal.accountId}, not the connector's account ${ctx.connectorAccountId}; its existence was not checked`,
    );
    return;
  }
  let found: string | undefined;
  try {
    if (principal.kind === 'user') {
      const out = await session.awsCall('iam', 'GetUser', principal.arn, () =>
        session.aws.iam.send(new GetUserCommand({ UserName: principal.name })),
      );
      found = out.User?.Arn;
    } else {
      const out = await session.awsCall('iam', 'GetRole', principal.arn, () =>
        session.aws.iam.send(new GetRoleCommand({ RoleName: principal.name })),
      );
      found = out.Role?.Arn;
    }
  } catch (err) {
    if (err instanceof EksAccessError && err.code === 'NOT_FOUND') {
      throw new EksAccessError(
        'PRINCIPAL_NOT_FOUND',
        `IAM ${principal.kind} ${principal.arn} does not exist in account ${principal.accountId}`,
        { cause: err },
      );
    }
    if (err instanceof EksAccessError && err.code === 'AWS_ACCESS_DENIED') {
      log.note(
        `the connector may not call iam:Get${principal.kind === 'user' ? 'User' : 'Role'}; the existence of ${principal.arn} was not checked`,
      );
      return;
    }
    throw err;
  }
  if (found !== undefined && found !== principal.arn) {
    throw new EksAccessError(
      'PRINCIPAL_NOT_FOUND',
      `IAM ${principal.kind} ${principal.arn} does not exist; the ${principal.kind} named "${principal.name}" is ${found}`,
    );
  }
}

/** True when the namespace exists (read fresh). */
export async function namespaceExists(ctx: ProvisionContext, name: string): Promise<boolean> {
  return exists(() =>
    ctx.kube.call('kube:get:namespaces', name, () => ctx.kube.core.readNamespace({ name })),
  );
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (err) {
    if (err instanceof EksAccessError && err.code === 'NOT_FOUND') return false;
    throw err;
  }
}

async function listAccessPolicyArns(ctx: ProvisionContext): Promise<Set<string>> {
  const arns = new Set<string>();
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await ctx.session.awsCall('eks', 'ListAccessPolicies', undefined, () =>
      ctx.session.aws.eks.send(
        new ListAccessPoliciesCommand({ maxResults: 100, ...(token ? { nextToken: token } : {}) }),
      ),
    );
    for (const p of out.accessPolicies ?? []) if (p.arn) arns.add(p.arn);
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

/**
 * Grant-time checks that the entitlement's objects exist: the ClusterRole or Role, the namespace,
 * the access policy. A cluster-wide id on a cluster that also has a namespace named `all`
 * (cluster_role) or `cluster` (access_policy) is ambiguous in baton ids and is refused.
 */
export async function checkGrantTarget(
  ctx: ProvisionContext,
  target: ProvisionTarget,
  entitlementId: string,
): Promise<void> {
  const missing = (what: string) =>
    new EksAccessError(
      'INVALID_ENTITLEMENT',
      `entitlement "${entitlementId}": ${what} does not exist in cluster ${ctx.cluster.name}`,
    );
  if (target.type === 'namespace_role' || target.scope.type === 'namespace') {
    const ns =
      target.type === 'namespace_role'
        ? target.namespace
        : target.scope.type === 'namespace'
          ? target.scope.namespace
          : '';
    if (!(await namespaceExists(ctx, ns))) throw missing(`namespace "${ns}"`);
  }
  switch (target.type) {
    case 'cluster_role': {
      const name = target.clusterRole;
      const found = await exists(() =>
        ctx.kube.call('kube:get:clusterroles', name, () => ctx.kube.rbac.readClusterRole({ name })),
      );
      if (!found) throw missing(`ClusterRole "${name}"`);
      break;
    }
    case 'namespace_role': {
      const { namespace, role } = target;
      const found = await exists(() =>
        ctx.kube.call('kube:get:roles', `${namespace}/${role}`, () =>
          ctx.kube.rbac.readNamespacedRole({ name: role, namespace }),
        ),
      );
      if (!found) throw missing(`Role "${namespace}/${role}"`);
      break;
    }
    case 'access_policy': {
      if (!(await listAccessPolicyArns(ctx)).has(target.policyArn))
        throw missing(`access policy ${target.policyArn}`);
      break;
    }
  }
  const word = clusterScopeWord(target);
  if (
    word &&
    target.type !== 'namespace_role' &&
    target.scope.type === 'cluster' &&
    (await namespaceExists(ctx, word))
  ) {
    throw new EksAccessError(
      'PROVISIONING_REFUSED',
      `entitlement "${entitlementId}" is ambiguous on cluster ${ctx.cluster.name}: it means the whole cluster, but a namespace named "${word}" also exists and baton ids cannot tell the two apart; grant it through the cluster's tooling instead`,
    );
  }
}
