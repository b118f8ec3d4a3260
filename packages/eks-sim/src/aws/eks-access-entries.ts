// Access entry operations: ListAccessEntries, CreateAccessEntry, DescribeAccessEntry,
// UpdateAccessEntry, DeleteAccessEntry. Validation follows the EKS user guide ("Create access
// entries") and the error texts EKS is seen returning; where AWS's wording is unknown the message
// says plainly what was wrong.
import { ACCESS_ENTRY_TYPES, type AccessEntry, type AccessEntryType, type Cluster } from '../world/types.js';
import { defaultAccessEntryUsername, type World } from '../world/world.js';
import { AwsError, type AwsCall, type AwsReply } from './server.js';
import {
  bodyString,
  bodyStringList,
  bodyStringMap,
  epochSeconds,
  findAccessEntry,
  findCluster,
  invalidParameter,
  paginate,
  queryString,
  readJsonBody,
  readMaxResults,
  requireAccessEntryApi,
  requiredBodyString,
  validateTags,
} from './eks-request.js';

const PARTITIONS = [
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
];
const PRINCIPAL_ARN = /^arn:([a-z-]+):iam::(\d{12}):(user|role)\/(.+)$/;
const RESERVED_USERNAME_PREFIXES = ['system:', 'eks:', 'aws:', 'amazon:', 'iam:'];
const SESSION_NAME_PLACEHOLDER = /\{\{SessionName(Raw)?\}\}/;

/** The access entry as the API returns it. */
export function accessEntryJson(entry: AccessEntry): Record<string, unknown> {
  return {
    clusterName: entry.clusterName,
    principalArn: entry.principalArn,
    kubernetesGroups: [...entry.kubernetesGroups],
    accessEntryArn: entry.accessEntryArn,
    createdAt: epochSeconds(entry.createdAt),
    modifiedAt: epochSeconds(entry.modifiedAt),
    tags: { ...entry.tags },
    username: entry.username,
    type: entry.type,
  };
}

/** Entries that may hold access policies: STANDARD, and EC2 (Auto Mode node classes take AmazonEKSAutoNodePolicy). */
export function acceptsAccessPolicies(entry: AccessEntry): boolean {
  return entry.type === 'STANDARD' || entry.type === 'EC2';
}

export const STANDARD_ONLY_MESSAGE =
  'This operation can only be performed on Access Entries with a type of "STANDARD".';

/** ListAccessEntries: principal ARNs of a cluster's entries, optionally only those holding one policy. */
export function listAccessEntries(call: AwsCall, clusterName: string): AwsReply {
  const maxResults = readMaxResults(call);
  const cluster = findCluster(call, clusterName);
  requireAccessEntryApi(cluster);
  const policyArn = queryString(call, 'associatedPolicyArn');
  const entries = [...cluster.accessEntries.values()].filter(
    (e) => policyArn === undefined || e.associations.has(policyArn),
  );
  const page = paginate(
    call,
    entries,
    (e) => e.principalArn,
    `ListAccessEntries/${cluster.arn}/${policyArn ?? ''}`,
    maxResults,
  );
  return {
    body: {
      accessEntries: page.items.map((e) => e.principalArn),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    },
  };
}

/** CreateAccessEntry. */
export function createAccessEntry(call: AwsCall, clusterName: string): AwsReply {
  const cluster = findCluster(call, clusterName);
  requireAccessEntryApi(cluster);
  const body = readJsonBody(call);
  const principalArn = requiredBodyString(body, 'principalArn');
  const type = readType(bodyString(body, 'type'));
  const username = bodyString(body, 'username');
  const groups = bodyStringList(body, 'kubernetesGroups');
  const tags = bodyStringMap(body, 'tags');

  validatePrincipal(call.world, cluster, principalArn, type);
  if (username !== undefined) validateUsername(username);
  if (groups !== undefined) validateGroups(groups);
  if (type !== 'STANDARD' && (username !== undefined || (groups !== undefined && groups.length > 0))) {
    throw invalidParameter(
      `kubernetesGroups and username can only be set on access entries of type STANDARD; this one is ${type}.`,
    );
  }
  validateTags(tags);
  if (cluster.accessEntries.has(principalArn)) {
    throw new AwsError(
      'ResourceInUseException',
      'The specified access entry resource is already in use on this cluster.',
      409,
    );
  }
  const entry = call.world.addAccessEntry(cluster, {
    principalArn,
    type,
    username: username ?? defaultUsername(type, principalArn),
    kubernetesGroups: groups === undefined ? defaultGroups(type) : unique(groups),
    tags: tags ?? {},
    now: call.now,
  });
  return { body: { accessEntry: accessEntryJson(entry) } };
}

/** DescribeAccessEntry. */
export function describeAccessEntry(call: AwsCall, clusterName: string, principalArn: string): AwsReply {
  const cluster = findCluster(call, clusterName);
  requireAccessEntryApi(cluster);
  return { body: { accessEntry: accessEntryJson(findAccessEntry(cluster, principalArn)) } };
}

/** UpdateAccessEntry: `kubernetesGroups`, when given, replaces the groups; `username` replaces the username. */
export function updateAccessEntry(call: AwsCall, clusterName: string, principalArn: string): AwsReply {
  const cluster = findCluster(call, clusterName);
  requireAccessEntryApi(cluster);
  const entry = findAccessEntry(cluster, principalArn);
  const body = readJsonBody(call);
  const username = bodyString(body, 'username');
  const groups = bodyStringList(body, 'kubernetesGroups');
  if (username !== undefined) validateUsername(username);
  if (groups !== undefined) validateGroups(groups);
  if (entry.type !== 'STANDARD' && (username !== undefined || groups !== undefined))
    throw invalidParameter(STANDARD_ONLY_MESSAGE);
  if (username === undefined && groups === undefined)
    return { body: { accessEntry: accessEntryJson(entry) } };
  if (username !== undefined) entry.username = username;
  if (groups !== undefined) entry.kubernetesGroups = unique(groups);
  entry.modifiedAt = call.now;
  return { body: { accessEntry: accessEntryJson(entry) } };
}

/** DeleteAccessEntry: the entry's policy associations go with it. */
export function deleteAccessEntry(call: AwsCall, clusterName: string, principalArn: string): AwsReply {
  const cluster = findCluster(call, clusterName);
  requireAccessEntryApi(cluster);
  findAccessEntry(cluster, principalArn);
  cluster.accessEntries.delete(principalArn);
  return { body: {} };
}

function readType(raw: string | undefined): AccessEntryType {
  if (raw === undefined) return 'STANDARD';
  const type = ACCESS_ENTRY_TYPES.find((t) => t === raw);
  if (!type) throw invalidParameter(`AccessEntry type must be one of [${ACCESS_ENTRY_TYPES.join(', ')}]`);
  return type;
}

/**
 * An access entry names one existing IAM user or role by its full ARN, path included. STS session
 * ARNs, service-linked roles and principals that do not exist are refused, as EKS refuses them.
 */
function validatePrincipal(
  world: World,
  cluster: Cluster,
  principalArn: string,
  type: AccessEntryType,
): void {
  const m = PRINCIPAL_ARN.exec(principalArn);
  if (!m || !PARTITIONS.includes(m[1] ?? ''))
    throw invalidParameter('The principalArn parameter format is not valid');
  const [, , accountId, kind, rest] = m;
  if (kind === 'role' && rest?.startsWith('aws-service-role/')) {
    throw invalidParameter(
      'The specified principalArn is invalid: access entries do not support service-linked roles.',
    );
  }
  const exists = kind === 'role' ? world.roles.has(principalArn) : world.users.has(principalArn);
  if (!exists) throw invalidParameter('The specified principalArn is invalid: invalid principal.');
  if (type !== 'STANDARD') {
    if (kind !== 'role') throw invalidParameter(`An access entry of type ${type} must name an IAM role.`);
    if (accountId !== cluster.accountId) {
      throw invalidParameter(
        `The principal of an access entry of type ${type} must be in the cluster's account.`,
      );
    }
  }
}

function validateUsername(username: string): void {
  if (username === '') throw invalidParameter('The username must not be empty.');
  const reserved = RESERVED_USERNAME_PREFIXES.find((p) => username.startsWith(p));
  if (reserved) throw invalidParameter(`The username must not begin with ${reserved}`);
  // The session name is substituted at login; EKS insists on a separator before it.
  const placeholder = SESSION_NAME_PLACEHOLDER.exec(username);
  if (placeholder && !username.slice(0, placeholder.index).includes(':')) {
    throw invalidParameter(
      `The username ${username} is invalid: a colon must come before ${placeholder[0]}.`,
    );
  }
}

function validateGroups(groups: string[]): void {
  for (const group of groups) {
    if (group === '') throw invalidParameter('A kubernetes group name must not be empty.');
    if (group.startsWith('system:'))
      throw invalidParameter(`The kubernetes group name ${group} is invalid, it cannot start with system:`);
  }
}

/** The username EKS generates when none is given (user guide table, by principal kind and entry type). */
function defaultUsername(type: AccessEntryType, principalArn: string): string {
  switch (type) {
    case 'STANDARD':
      return defaultAccessEntryUsername(principalArn);
    case 'EC2_LINUX':
    case 'EC2_WINDOWS':
    case 'EC2':
      return 'system:node:{{EC2PrivateDNSName}}';
    case 'FARGATE_LINUX':
    case 'HYBRID_LINUX':
    case 'HYPERPOD_LINUX':
      return 'system:node:{{SessionName}}';
  }
}

/** EKS puts self-managed, Fargate and hybrid node roles in system:nodes; Auto Mode nodes get a policy instead. */
function defaultGroups(type: AccessEntryType): string[] {
  return type === 'STANDARD' || type === 'EC2' ? [] : ['system:nodes'];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
