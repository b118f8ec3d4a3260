// Identity-based policies: whether the caller's own policies (inline and attached managed ones)
// allow an action on a resource, following IAM's documented evaluation: a matching explicit Deny
// wins, otherwise a matching Allow grants, otherwise the request is implicitly denied. Principals
// whose policies the world does not model (no `policies` object) may do anything, so worlds
// written before policies were simulated keep working; the account root always may.
//
// Refusals are worded as AWS words them, so a user of the simulator learns to read the real ones.
import type { CallerIdentity, IdentityPolicies, PolicyDocument, PolicyStatement } from '../world/types.js';
import type { World } from '../world/world.js';
import { arnMatches, failingCondition, statementNamesAction, statementsOf, toList } from './trust-policy.js';

export type IdentityDecision = 'allow' | 'explicit-deny' | 'implicit-deny' | 'unrestricted';

export interface IdentityRequest {
  /** `eks:DescribeCluster`, `iam:ListRoles`… */
  action: string;
  /** The resource ARN, or `*` for actions that take none. */
  resource: string;
  /** Condition keys, lower-cased. */
  context?: Readonly<Record<string, string | undefined>>;
}

/** The policies of the IAM user or role behind a caller; undefined = not modelled (anything goes). */
export function policiesOf(world: World, caller: CallerIdentity): IdentityPolicies | undefined {
  switch (caller.kind) {
    case 'root':
      return undefined;
    case 'user':
      return world.users.get(caller.arn)?.policies;
    case 'assumed-role':
      return caller.roleArn === undefined ? undefined : world.roles.get(caller.roleArn)?.policies;
  }
}

function documentsOf(world: World, policies: IdentityPolicies): PolicyDocument[] {
  const docs = [...policies.inline.values()];
  for (const arn of policies.managed) {
    const managed = world.managedPolicies.get(arn);
    if (managed) docs.push(managed.document);
  }
  return docs;
}

function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  if (resource === '*') return false;
  return arnMatches(resource, pattern);
}

function statementMatches(statement: PolicyStatement, request: IdentityRequest): boolean {
  if (!statementNamesAction(statement, request.action)) return false;
  if (statement.Resource !== undefined) {
    if (!toList(statement.Resource).some((p) => resourceMatches(p, request.resource))) return false;
  } else if (
    statement.NotResource === undefined ||
    toList(statement.NotResource).some((p) => resourceMatches(p, request.resource))
  ) {
    return false;
  }
  return failingCondition(statement.Condition, request.context ?? {}) === undefined;
}

/** Evaluates a set of identity policies for one request. */
export function evaluateIdentityPolicies(
  documents: PolicyDocument[],
  request: IdentityRequest,
): IdentityDecision {
  let allowed = false;
  for (const document of documents) {
    for (const statement of statementsOf(document)) {
      if (!statementMatches(statement, request)) continue;
      if (statement.Effect === 'Deny') return 'explicit-deny';
      if (statement.Effect === 'Allow') allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** What the caller's identity policies say about a request. */
export function decideForCaller(
  world: World,
  caller: CallerIdentity,
  request: IdentityRequest,
): IdentityDecision {
  const policies = policiesOf(world, caller);
  if (policies === undefined) return 'unrestricted';
  const context = {
    'aws:principalarn': caller.kind === 'assumed-role' ? caller.roleArn : caller.arn,
    'aws:principalaccount': caller.accountId,
    'aws:userid': caller.userId,
    ...request.context,
  };
  return evaluateIdentityPolicies(documentsOf(world, policies), { ...request, context });
}

/** AWS's wording of an identity-policy refusal. */
export function accessDeniedMessage(
  caller: CallerIdentity,
  action: string,
  resource: string,
  decision: IdentityDecision,
): string {
  const why =
    decision === 'explicit-deny'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${action} action`;
  return `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}
