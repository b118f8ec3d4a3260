// access_policy entitlements: an access-policy association on the principal's access entry.
// AssociateAccessPolicy replaces the association's scope, so every change reads the current
// association and writes the merged scope (read–merge–write; the caller's per-principal lock keeps
// two of ours from interleaving, since EKS has no concurrency token here).
import {
  AssociateAccessPolicyCommand,
  DisassociateAccessPolicyCommand,
  ListAssociatedAccessPoliciesCommand,
  type AccessScope,
} from '@aws-sdk/client-eks';
import { EksAccessError } from '../errors.js';
import { describeAccessEntry } from './access-entry.js';
import type { ProvisionContext } from './context.js';
import { currentIdentity, ensureAccessEntryFor } from './identity.js';
import { namespaceExists, type ProvisionTarget } from './validate.js';

type PolicyTarget = Extract<ProvisionTarget, { type: 'access_policy' }>;

interface Scope {
  type: 'cluster' | 'namespace';
  namespaces: string[];
}

/** The policy's current association scope on the principal's entry; undefined when not associated. */
async function currentScope(ctx: ProvisionContext, policyArn: string): Promise<Scope | undefined> {
  const { session, cluster, principal } = ctx;
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await session.awsCall('eks', 'ListAssociatedAccessPolicies', principal.arn, () =>
      session.aws.eks.send(
        new ListAssociatedAccessPoliciesCommand({
          clusterName: cluster.name,
          principalArn: principal.arn,
          maxResults: 100,
          ...(token ? { nextToken: token } : {}),
        }),
      ),
    );
    const hit = out.associatedAccessPolicies?.find((a) => a.policyArn === policyArn);
    if (hit)
      return {
        type: hit.accessScope?.type === 'namespace' ? 'namespace' : 'cluster',
        namespaces: [...(hit.accessScope?.namespaces ?? [])],
      };
    nextToken = out.nextToken;
  } while (nextToken);
  return undefined;
}

// EKS accepts `prefix*` patterns in namespace scopes.
function covers(pattern: string, namespace: string): boolean {
  return pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
}

function describe(scope: Scope | undefined): string {
  if (!scope) return 'not associated';
  return scope.type === 'cluster' ? 'cluster scope' : `namespaces [${scope.namespaces.join(', ')}]`;
}

async function associate(
  ctx: ProvisionContext,
  policyArn: string,
  before: Scope | undefined,
  scope: Scope,
  note?: string,
): Promise<void> {
  const { session, cluster, principal, log } = ctx;
  const accessScope: AccessScope =
    scope.type === 'cluster' ? { type: 'cluster' } : { type: 'namespace', namespaces: scope.namespaces };
  const request = { clusterName: cluster.name, principalArn: principal.arn, policyArn, accessScope };
  await log.write(
    {
      system: 'eks',
      operation: 'AssociateAccessPolicy',
      target: policyArn,
      request,
      before: before ? { accessScope: before } : null,
      after: { accessScope: scope },
      ...(note ? { note } : {}),
    },
    () =>
      session.awsCall('eks', 'AssociateAccessPolicy', `${principal.arn} ${policyArn}`, () =>
        session.aws.eks.send(new AssociateAccessPolicyCommand(request)),
      ),
  );
}

async function disassociate(
  ctx: ProvisionContext,
  policyArn: string,
  before: Scope,
  note?: string,
): Promise<void> {
  const { session, cluster, principal, log } = ctx;
  const request = { clusterName: cluster.name, principalArn: principal.arn, policyArn };
  try {
    await log.write(
      {
        system: 'eks',
        operation: 'DisassociateAccessPolicy',
        target: policyArn,
        request,
        before: { accessScope: before },
        after: null,
        ...(note ? { note } : {}),
      },
      () =>
        session.awsCall('eks', 'DisassociateAccessPolicy', `${principal.arn} ${policyArn}`, () =>
          session.aws.eks.send(new DisassociateAccessPolicyCommand(request)),
        ),
    );
  } catch (err) {
    // Disassociated since we read it: the goal is reached.
    if (!(err instanceof EksAccessError && err.code === 'NOT_FOUND')) throw err;
    log.unchanged({
      system: 'eks',
      operation: 'DisassociateAccessPolicy',
      target: policyArn,
      before: { accessScope: before },
      note: 'disassociated concurrently by another writer',
    });
  }
}

function refuseConfigMap(ctx: ProvisionContext): EksAccessError {
  return new EksAccessError(
    'PROVISIONING_REFUSED',
    `cluster ${ctx.cluster.name}: the cluster's authentication mode CONFIG_MAP has no access entries; switch to API_AND_CONFIG_MAP or use a cluster role`,
  );
}

/**
 * Grants an access policy: ensure the access entry, then associate with the merged scope. A
 * cluster-scope grant widens a namespace scope; a namespace inside a cluster scope (or matched by a
 * `prefix*` pattern) is already granted.
 */
export async function grantAccessPolicy(ctx: ProvisionContext, target: PolicyTarget): Promise<void> {
  if (ctx.cluster.authenticationMode === 'CONFIG_MAP') throw refuseConfigMap(ctx);
  const { policyArn } = target;
  const entry = await ensureAccessEntryFor(ctx, await currentIdentity(ctx));
  const before = entry.planned ? undefined : await currentScope(ctx, policyArn);
  const unchanged = (note: string) =>
    ctx.log.unchanged({
      system: 'eks',
      operation: 'AssociateAccessPolicy',
      target: policyArn,
      before: before ? { accessScope: before } : null,
      note,
    });

  if (target.scope.type === 'cluster') {
    if (before?.type === 'cluster') return unchanged('already associated with cluster scope');
    const note = before
      ? `widens ${describe(before)} to the whole cluster (an association has one scope)`
      : undefined;
    return associate(ctx, policyArn, before, { type: 'cluster', namespaces: [] }, note);
  }
  const ns = target.scope.namespace;
  if (before?.type === 'cluster') return unchanged(`cluster scope already covers namespace ${ns}`);
  const pattern = before?.namespaces.find((p) => covers(p, ns));
  if (pattern !== undefined)
    return unchanged(
      pattern === ns
        ? `namespace ${ns} is in the scope`
        : `namespace ${ns} is covered by the scope's pattern ${pattern}`,
    );
  const namespaces = [...(before?.namespaces ?? []), ns];
  return associate(
    ctx,
    policyArn,
    before,
    { type: 'namespace', namespaces },
    before ? `adds ${ns} to ${describe(before)}` : undefined,
  );
}

/**
 * Revokes an access policy: narrow the namespace list, or disassociate when nothing would remain.
 * The access entry is never deleted: other associations, groups or tools may rely on it.
 */
export async function revokeAccessPolicy(ctx: ProvisionContext, target: PolicyTarget): Promise<void> {
  const { policyArn } = target;
  const step = { system: 'eks' as const, operation: 'DisassociateAccessPolicy', target: policyArn };
  if (ctx.cluster.authenticationMode === 'CONFIG_MAP') {
    ctx.log.unchanged({
      ...step,
      note: 'CONFIG_MAP clusters have no access entries, so no policy can be associated',
    });
    return;
  }
  const entry = await describeAccessEntry(ctx);
  const before = entry ? await currentScope(ctx, policyArn) : undefined;
  if (!before)
    return ctx.log.unchanged({
      ...step,
      note: entry ? 'the policy is not associated' : 'the principal has no access entry',
    });
  ctx.log.note(
    'the access entry is kept: it may hold other policies or groups, and deleting it could cut access granted elsewhere',
  );

  // With a namespace named `cluster`, `assigned:cluster` could mean either: revoke both readings.
  const ambiguous = target.scope.type === 'cluster' && (await namespaceExists(ctx, 'cluster'));
  if (ambiguous)
    ctx.log.note(
      'a namespace named "cluster" exists, so the id is ambiguous; both the cluster scope and that namespace were revoked',
    );
  const namespace =
    target.scope.type === 'namespace' ? target.scope.namespace : ambiguous ? 'cluster' : undefined;

  if (before.type === 'cluster') {
    if (target.scope.type === 'cluster') return disassociate(ctx, policyArn, before);
    return ctx.log.unchanged({
      ...step,
      before: { accessScope: before },
      note: `the association has cluster scope; namespace ${namespace ?? ''} is not granted on its own (revoke the cluster entitlement to remove it)`,
    });
  }
  if (namespace === undefined) {
    return ctx.log.unchanged({
      ...step,
      before: { accessScope: before },
      note: `the association is namespace-scoped (${describe(before)}); those namespaces are separate entitlements`,
    });
  }
  if (!before.namespaces.includes(namespace)) {
    const pattern = before.namespaces.find((p) => covers(p, namespace));
    if (pattern !== undefined) {
      throw new EksAccessError(
        'PROVISIONING_REFUSED',
        `namespace ${namespace} is covered by the pattern ${pattern} in the scope of ${policyArn}; removing it would also remove every other namespace the pattern matches`,
      );
    }
    return ctx.log.unchanged({
      ...step,
      before: { accessScope: before },
      note: `namespace ${namespace} is not in ${describe(before)}`,
    });
  }
  const rest = before.namespaces.filter((n) => n !== namespace);
  if (rest.length === 0) return disassociate(ctx, policyArn, before, `${namespace} was the last namespace`);
  return associate(
    ctx,
    policyArn,
    before,
    { type: 'namespace', namespaces: rest },
    `narrows ${describe(before)} by ${namespace}`,
  );
}
