// The EKS API (REST-JSON, 2017-11-01): clusters, access entries, access policies and pod identity
// associations, routed from the method and decoded path segments. Principal and policy ARNs arrive
// URL-encoded inside one segment, so `/` in them never splits the path. Routes name their cluster
// so per-cluster fault rules apply to them.
import {
  createAccessEntry,
  deleteAccessEntry,
  describeAccessEntry,
  listAccessEntries,
  updateAccessEntry,
} from './eks-access-entries.js';
import { describeCluster, listClusters } from './eks-clusters.js';
import {
  createPodIdentityAssociation,
  deletePodIdentityAssociation,
  describePodIdentityAssociation,
  listPodIdentityAssociations,
} from './eks-pod-identity.js';
import {
  associateAccessPolicy,
  disassociateAccessPolicy,
  listAccessPolicies,
  listAssociatedAccessPolicies,
} from './eks-policy-associations.js';
import { accessEntryArnFor } from '../world/world.js';
import type { AwsCall, AwsReply, AwsRequest, AwsRoute, AwsService } from './server.js';

/**
 * A route; IAM authorizes it on the cluster's ARN, on the access entry's when `principal` is
 * given (as EKS's access-entry resource type), or on `*` when it names no cluster.
 */
function on(
  operation: string,
  cluster: string | undefined,
  handle: (call: AwsCall) => AwsReply,
  principal?: string,
): AwsRoute {
  if (cluster === undefined) return { operation, handle };
  const resource = (call: AwsCall) => {
    const account = call.caller.identity.accountId;
    return principal === undefined
      ? `arn:aws:eks:${call.region}:${account}:cluster/${cluster}`
      : accessEntryArnFor(call.region, account, cluster, principal);
  };
  return { operation, cluster, handle, resource };
}

function routeEks(req: AwsRequest): AwsRoute | undefined {
  const { method } = req;
  const [root, cluster, sub, principal, policies, policy, ...extra] = req.segments;
  if (extra.length > 0) return undefined;

  if (root === 'access-policies') {
    return cluster === undefined && method === 'GET'
      ? on('ListAccessPolicies', undefined, listAccessPolicies)
      : undefined;
  }
  if (root !== 'clusters') return undefined;
  if (cluster === undefined)
    return method === 'GET' ? on('ListClusters', undefined, listClusters) : undefined;
  if (sub === undefined)
    return method === 'GET' ? on('DescribeCluster', cluster, (c) => describeCluster(c, cluster)) : undefined;
  if (sub === 'pod-identity-associations') {
    if (policies !== undefined) return undefined;
    const id = principal;
    if (id === undefined) {
      if (method === 'GET')
        return on('ListPodIdentityAssociations', cluster, (c) => listPodIdentityAssociations(c, cluster));
      if (method === 'POST')
        return on('CreatePodIdentityAssociation', cluster, (c) => createPodIdentityAssociation(c, cluster));
      return undefined;
    }
    if (method === 'GET')
      return on('DescribePodIdentityAssociation', cluster, (c) =>
        describePodIdentityAssociation(c, cluster, id),
      );
    if (method === 'DELETE')
      return on('DeletePodIdentityAssociation', cluster, (c) => deletePodIdentityAssociation(c, cluster, id));
    return undefined;
  }
  if (sub !== 'access-entries') return undefined;

  if (principal === undefined) {
    if (method === 'GET') return on('ListAccessEntries', cluster, (c) => listAccessEntries(c, cluster));
    if (method === 'POST') return on('CreateAccessEntry', cluster, (c) => createAccessEntry(c, cluster));
    return undefined;
  }
  if (policies === undefined) {
    if (method === 'GET')
      return on('DescribeAccessEntry', cluster, (c) => describeAccessEntry(c, cluster, principal), principal);
    if (method === 'POST')
      return on('UpdateAccessEntry', cluster, (c) => updateAccessEntry(c, cluster, principal), principal);
    if (method === 'DELETE')
      return on('DeleteAccessEntry', cluster, (c) => deleteAccessEntry(c, cluster, principal), principal);
    return undefined;
  }
  if (policies !== 'access-policies') return undefined;
  if (policy === undefined) {
    if (method === 'GET')
      return on(
        'ListAssociatedAccessPolicies',
        cluster,
        (c) => listAssociatedAccessPolicies(c, cluster, principal),
        principal,
      );
    if (method === 'POST')
      return on(
        'AssociateAccessPolicy',
        cluster,
        (c) => associateAccessPolicy(c, cluster, principal),
        principal,
      );
    return undefined;
  }
  return method === 'DELETE'
    ? on(
        'DisassociateAccessPolicy',
        cluster,
        (c) => disassociateAccessPolicy(c, cluster, principal, policy),
        principal,
      )
    : undefined;
}

/** The EKS service of the AWS endpoint. */
export const eksService: AwsService = { name: 'eks', route: routeEks };
