// ListAccessPolicies and the association operations: ListAssociatedAccessPolicies,
// AssociateAccessPolicy, DisassociateAccessPolicy. Associating a policy that is already associated
// replaces its scope (namespace lists are replaced, not merged), which is what connectors that add
// one namespace at a time must cope with.
import type { AccessEntry, AccessScope, Cluster, PolicyAssociation } from '../world/types.js';
import { ACCESS_POLICIES, findAccessPolicy } from './eks-access-policies.js';
import { acceptsAccessPolicies, STANDARD_ONLY_MESSAGE } from './eks-access-entries.js';
import type { AwsCall, AwsReply } from './server.js';
import {
  bodyObject,
  bodyString,
  bodyStringList,
  epochSeconds,
  findAccessEntry,
  findCluster,
  invalidParameter,
  paginate,
  readJsonBody,
  readMaxResults,
  requireAccessEntryApi,
  requiredBodyString,
  resourceNotFound,
} from './eks-request.js';

const POLICY_ARN = /^arn:[a-z-]+:eks::aws:cluster-access-policy\/[A-Za-z0-9]+$/;
// A namespace name, or a prefix ending in `*` (EKS accepts `dev-*`).
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$|^[a-z0-9][-a-z0-9]{0,61}\*$/;

function associationJson(a: PolicyAssociation): Record<string, unknown> {
  return {
    policyArn: a.policyArn,
    accessScope: { type: a.accessScope.type, namespaces: [...a.accessScope.namespaces] },
    associatedAt: epochSeconds(a.associatedAt),
    modifiedAt: epochSeconds(a.modifiedAt),
  };
}

/** The entry whose policies an association call works on. */
function associationTarget(
  call: AwsCall,
  clusterName: string,
  principalArn: string,
): { cluster: Cluster; entry: AccessEntry } {
  const cluster = findCluster(call, clusterName);
  requireAccessEntryApi(cluster);
  return { cluster, entry: findAccessEntry(cluster, principalArn) };
}

/** ListAccessPolicies: the whole catalogue, by name. */
export function listAccessPolicies(call: AwsCall): AwsReply {
  const maxResults = readMaxResults(call);
  const page = paginate(call, [...ACCESS_POLICIES], (p) => p.name, 'ListAccessPolicies', maxResults);
  return {
    body: {
      accessPolicies: page.items.map((p) => ({ name: p.name, arn: p.arn })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    },
  };
}

/** ListAssociatedAccessPolicies: one entry's associations with their scopes. */
export function listAssociatedAccessPolicies(
  call: AwsCall,
  clusterName: string,
  principalArn: string,
): AwsReply {
  const maxResults = readMaxResults(call);
  const { cluster, entry } = associationTarget(call, clusterName, principalArn);
  const page = paginate(
    call,
    [...entry.associations.values()],
    (a) => a.policyArn,
    `ListAssociatedAccessPolicies/${cluster.arn}/${entry.principalArn}`,
    maxResults,
  );
  return {
    body: {
      clusterName: cluster.name,
      principalArn: entry.principalArn,
      associatedAccessPolicies: page.items.map(associationJson),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    },
  };
}

/** AssociateAccessPolicy: adds the policy, or replaces the scope of an existing association. */
export function associateAccessPolicy(call: AwsCall, clusterName: string, principalArn: string): AwsReply {
  const { cluster, entry } = associationTarget(call, clusterName, principalArn);
  const body = readJsonBody(call);
  const policyArn = requiredBodyString(body, 'policyArn');
  const scope = readScope(body);
  if (!POLICY_ARN.test(policyArn)) throw invalidParameter('The policyArn parameter format is not valid');
  if (!findAccessPolicy(policyArn))
    throw resourceNotFound(`The specified access policy ${policyArn} is not found.`);
  if (!acceptsAccessPolicies(entry)) throw invalidParameter(STANDARD_ONLY_MESSAGE);

  const existing = entry.associations.get(policyArn);
  const association: PolicyAssociation = {
    policyArn,
    accessScope: scope,
    associatedAt: existing?.associatedAt ?? call.now,
    modifiedAt: call.now,
  };
  entry.associations.set(policyArn, association);
  return {
    body: {
      clusterName: cluster.name,
      principalArn: entry.principalArn,
      associatedAccessPolicy: associationJson(association),
    },
  };
}

/** DisassociateAccessPolicy. */
export function disassociateAccessPolicy(
  call: AwsCall,
  clusterName: string,
  principalArn: string,
  policyArn: string,
): AwsReply {
  const { entry } = associationTarget(call, clusterName, principalArn);
  if (!entry.associations.delete(policyArn)) {
    throw resourceNotFound(`The access policy ${policyArn} is not associated with the access entry.`);
  }
  return { body: {} };
}

function readScope(body: Record<string, unknown>): AccessScope {
  const raw = bodyObject(body, 'accessScope');
  if (!raw) throw invalidParameter('accessScope is required.');
  const type = bodyString(raw, 'type');
  const namespaces = bodyStringList(raw, 'namespaces') ?? [];
  if (type === 'cluster') {
    if (namespaces.length > 0)
      throw invalidParameter('namespaces cannot be specified for an access scope of type cluster.');
    return { type, namespaces: [] };
  }
  if (type === 'namespace') {
    if (namespaces.length === 0)
      throw invalidParameter(
        'At least one namespace must be specified for an access scope of type namespace.',
      );
    const bad = namespaces.find((n) => !NAMESPACE.test(n));
    if (bad !== undefined)
      throw invalidParameter(`The namespace ${bad} is not a valid Kubernetes namespace name.`);
    return { type, namespaces: [...new Set(namespaces)] };
  }
  throw invalidParameter(`accessScope type must be one of [cluster, namespace]; got ${type ?? 'nothing'}.`);
}
