// EKS Pod Identity associations: CreatePodIdentityAssociation, ListPodIdentityAssociations,
// DescribePodIdentityAssociation, DeletePodIdentityAssociation. An association gives the pods of
// one service account credentials for a role through the Pod Identity agent (oidc/endpoints.ts).
// EKS allows one association per (namespace, service account) and does not check the role's
// trust policy when it is created: a role that does not trust pods.eks.amazonaws.com fails later,
// when a pod asks for credentials.
import type { PodIdentityAssociation } from '../world/types.js';
import { AwsError, type AwsCall, type AwsReply } from './server.js';
import {
  bodyStringMap,
  epochSeconds,
  findCluster,
  paginate,
  queryString,
  readJsonBody,
  readMaxResults,
  requiredBodyString,
  resourceNotFound,
  invalidParameter,
  validateTags,
} from './eks-request.js';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function associationJson(a: PodIdentityAssociation): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationArn: a.associationArn,
    associationId: a.associationId,
    tags: { ...a.tags },
    createdAt: epochSeconds(a.createdAt),
    modifiedAt: epochSeconds(a.modifiedAt),
    disableSessionTags: false,
  };
}

function summaryJson(a: PodIdentityAssociation): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    associationArn: a.associationArn,
    associationId: a.associationId,
  };
}

/** CreatePodIdentityAssociation. */
export function createPodIdentityAssociation(call: AwsCall, clusterName: string): AwsReply {
  const cluster = findCluster(call, clusterName);
  const body = readJsonBody(call);
  const namespace = requiredBodyString(body, 'namespace');
  const serviceAccount = requiredBodyString(body, 'serviceAccount');
  const roleArn = requiredBodyString(body, 'roleArn');
  const tags = bodyStringMap(body, 'tags');
  validateTags(tags);
  if (!K8S_NAME.test(namespace))
    throw invalidParameter(`namespace ${namespace} is not a valid Kubernetes name.`);
  if (!K8S_NAME.test(serviceAccount)) {
    throw invalidParameter(`serviceAccount ${serviceAccount} is not a valid Kubernetes name.`);
  }
  if (!ROLE_ARN.test(roleArn)) throw invalidParameter(`roleArn ${roleArn} is not a valid IAM role ARN.`);
  const existing = [...cluster.podIdentityAssociations.values()].find(
    (a) => a.namespace === namespace && a.serviceAccount === serviceAccount,
  );
  if (existing) {
    throw new AwsError(
      'ResourceInUseException',
      `Association already exists: ${existing.associationId}`,
      409,
      { body: { clusterName: cluster.name } },
    );
  }
  const association = call.world.addPodIdentityAssociation(cluster, {
    namespace,
    serviceAccount,
    roleArn,
    now: call.now,
    ...(tags ? { tags } : {}),
  });
  return { body: { association: associationJson(association) } };
}

/** ListPodIdentityAssociations, filtered by `namespace` and `serviceAccount`. */
export function listPodIdentityAssociations(call: AwsCall, clusterName: string): AwsReply {
  const cluster = findCluster(call, clusterName);
  const maxResults = readMaxResults(call);
  const namespace = queryString(call, 'namespace');
  const serviceAccount = queryString(call, 'serviceAccount');
  const matching = [...cluster.podIdentityAssociations.values()].filter(
    (a) =>
      (namespace === undefined || a.namespace === namespace) &&
      (serviceAccount === undefined || a.serviceAccount === serviceAccount),
  );
  const page = paginate(
    call,
    matching,
    (a) => a.associationId,
    `ListPodIdentityAssociations/${cluster.arn}/${namespace ?? ''}/${serviceAccount ?? ''}`,
    maxResults,
  );
  return {
    body: {
      associations: page.items.map(summaryJson),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    },
  };
}

function findAssociation(call: AwsCall, clusterName: string, id: string): PodIdentityAssociation {
  const association = findCluster(call, clusterName).podIdentityAssociations.get(id);
  if (!association) throw resourceNotFound(`No Pod Identity Association found for id: ${id}.`);
  return association;
}

/** DescribePodIdentityAssociation. */
export function describePodIdentityAssociation(call: AwsCall, clusterName: string, id: string): AwsReply {
  return { body: { association: associationJson(findAssociation(call, clusterName, id)) } };
}

/** DeletePodIdentityAssociation: answers with the association it removed. */
export function deletePodIdentityAssociation(call: AwsCall, clusterName: string, id: string): AwsReply {
  const association = findAssociation(call, clusterName, id);
  findCluster(call, clusterName).podIdentityAssociations.delete(id);
  return { body: { association: associationJson(association) } };
}
