// The snapshot model of one cluster, in the shape of C1's connector v2 messages (ResourceType,
// Resource, Entitlement, Grant, annotations) so the c1z writer is a mechanical translation. Type ids,
// entitlement slugs and the id formats are the ones baton-eks uses, so C1 and C1's AWS connector
// recognise the objects; `k8s_group` is ours (baton-eks drops groups, including system:masters).
import { parseIamPrincipalArn } from './identity/arn.js';

export type ResourceTrait = 'USER' | 'GROUP' | 'ROLE' | 'APP' | 'SECRET';

export const RESOURCE_TYPE_IDS = [
  'access_policy',
  'role',
  'cluster_role',
  'namespace_role',
  'namespace',
  'service_account',
  'iam_user',
  'configmap',
  'k8s_group',
] as const;
export type ResourceTypeId = (typeof RESOURCE_TYPE_IDS)[number];

export interface ResourceType {
  id: ResourceTypeId;
  displayName: string;
  traits: ResourceTrait[];
  description: string;
}

export interface ResourceRef {
  type: string;
  id: string;
}

// Annotations carry C1 semantics that are not fields of the messages themselves.
export type Annotation =
  /** On a grant to a placeholder principal: C1 swaps in the external (AWS connector) resource with this id. */
  | { type: 'ExternalResourceMatchID'; id: string }
  /** Holders of these entitlements inherit the grant (a grant to a role reaches whoever can assume it). */
  | { type: 'GrantExpandable'; entitlementIds: string[]; shallow?: boolean; resourceTypeIds?: string[] }
  /** Resources of this type are listed under this resource (service accounts per namespace). */
  | { type: 'ChildResourceType'; resourceTypeId: string }
  /** The id of the object in the source system when it differs from the resource id (a Kubernetes UID). */
  | { type: 'ExternalId'; id: string; link?: string; description?: string }
  | { type: 'SkipEntitlementsAndGrants' }
  /** The grant is observed, not provisionable through this connector (e.g. derived from a trust policy). */
  | { type: 'GrantImmutable'; sourceId?: string };
export type AnnotationType = Annotation['type'];

export type ResourceAnnotation = Extract<
  Annotation,
  { type: 'ChildResourceType' | 'ExternalId' | 'SkipEntitlementsAndGrants' }
>;
export type GrantAnnotation = Extract<
  Annotation,
  { type: 'ExternalResourceMatchID' | 'GrantExpandable' | 'GrantImmutable' }
>;

export interface Resource {
  type: ResourceTypeId;
  id: string;
  displayName: string;
  parent?: ResourceRef;
  profile: Record<string, unknown>;
  annotations: ResourceAnnotation[];
}

export interface Entitlement {
  id: string;
  resource: ResourceRef;
  slug: string;
  displayName: string;
  description: string;
  purpose: 'assignment' | 'permission';
  grantableTo: ResourceTypeId[];
}

/** Where a Kubernetes identity (username or group) of an IAM principal comes from. */
export type IdentitySource =
  | { kind: 'aws-auth'; key: 'mapRoles' | 'mapUsers' | 'mapAccounts'; index: number }
  | { kind: 'access-entry'; principalArn: string; accessEntryArn?: string }
  /** The API server adds `system:authenticated` to every authenticated identity. */
  | { kind: 'implicit'; group: string };

export interface BindingRef {
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  name: string;
  namespace?: string;
}

export interface BindingSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

/** Provenance of a grant, so a reviewer can see through which object access was given. */
export type GrantSource =
  | { kind: 'rbac-binding'; binding: BindingRef; subject: BindingSubject; identity?: IdentitySource }
  | { kind: 'identity-mapping'; identity: IdentitySource }
  | { kind: 'access-policy-association'; principalArn: string; policyArn: string; accessEntryArn?: string }
  | { kind: 'trust-policy'; roleArn: string; statementIndex: number; sid?: string };

/**
 * A restriction on a grant that the snapshot can describe but not enforce. Session names are chosen
 * by the caller of sts:AssumeRole unless the trust policy pins them, so `session-name` narrows who is
 * meant, not who can.
 */
export type GrantCondition =
  | { kind: 'external-id-required' }
  | { kind: 'session-name'; value: string; raw: boolean }
  | { kind: 'ec2-private-dns-name'; value: string }
  | { kind: 'access-key-id'; value: string }
  | { kind: 'iam-condition'; operator: string; key: string; values?: string[] };

export interface Grant {
  id: string;
  entitlementId: string;
  /** The resource the entitlement belongs to. */
  resource: ResourceRef;
  principal: ResourceRef;
  annotations: GrantAnnotation[];
  /** Every object that gives this grant; several bindings can give the same grant id. */
  sources?: GrantSource[];
  conditions?: GrantCondition[];
}

/** The resource types this connector advertises, ids and display names as baton-eks. */
export const RESOURCE_TYPES: Readonly<Record<ResourceTypeId, ResourceType>> = {
  access_policy: {
    id: 'access_policy',
    displayName: 'Access Policy',
    traits: ['ROLE'],
    description: 'EKS Access Policy',
  },
  role: { id: 'role', displayName: 'IAM Role', traits: ['ROLE'], description: 'AWS IAM Role' },
  cluster_role: {
    id: 'cluster_role',
    displayName: 'Cluster Role',
    traits: ['ROLE'],
    description: 'Kubernetes ClusterRole',
  },
  namespace_role: {
    id: 'namespace_role',
    displayName: 'Namespace Role',
    traits: ['ROLE'],
    description: 'Kubernetes Namespace Role',
  },
  namespace: { id: 'namespace', displayName: 'Namespace', traits: [], description: 'Kubernetes Namespace' },
  service_account: {
    id: 'service_account',
    displayName: 'Service Account',
    traits: ['USER'],
    description: 'Kubernetes Service Account',
  },
  iam_user: { id: 'iam_user', displayName: 'IAM User', traits: ['USER'], description: 'AWS IAM User' },
  configmap: { id: 'configmap', displayName: 'Config Map', traits: [], description: 'Kubernetes ConfigMap' },
  k8s_group: {
    id: 'k8s_group',
    displayName: 'Kubernetes Group',
    traits: ['GROUP'],
    description: 'Kubernetes group named in RBAC bindings and identity mappings (system:masters included)',
  },
};

/** Types whose resources the connector lists; `iam_user` only appears as a principal (C1 takes users from its AWS connector). */
export const LISTED_RESOURCE_TYPE_IDS: readonly ResourceTypeId[] = RESOURCE_TYPE_IDS.filter((t) => t !== 'iam_user');

/** Principal types that may receive each entitlement-bearing type's grants. */
export const GRANTABLE_TO: Readonly<Partial<Record<ResourceTypeId, ResourceTypeId[]>>> = {
  access_policy: ['iam_user', 'role'],
  // Role chaining: a role whose trust policy names another role is assumable by that role.
  role: ['iam_user', 'role'],
  cluster_role: ['iam_user', 'role', 'service_account', 'k8s_group'],
  namespace_role: ['iam_user', 'role', 'service_account', 'k8s_group'],
  k8s_group: ['iam_user', 'role'],
  service_account: ['cluster_role', 'namespace_role'],
  configmap: ['cluster_role', 'namespace_role'],
};

export const CONFIGMAP_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;
export type ConfigMapVerb = (typeof CONFIGMAP_VERBS)[number];

/** `<type>:<resourceId>:<slug>`, the baton entitlement id. */
export function entitlementId(type: string, resourceId: string, slug: string): string {
  return `${type}:${resourceId}:${slug}`;
}

/** `<entitlementId>:<principalType>:<principalId>`, the baton grant id. */
export function grantId(entitlementIdValue: string, principalType: string, principalId: string): string {
  return `${entitlementIdValue}:${principalType}:${principalId}`;
}

export type EntitlementScope = { type: 'cluster' } | { type: 'namespace'; namespace: string };

/** An entitlement id taken apart into what the provisioner needs. */
export type ParsedEntitlementId = { resourceId: string; slug: string } & (
  | { resourceType: 'access_policy'; policyArn: string; scope: EntitlementScope }
  | { resourceType: 'cluster_role'; clusterRole: string; scope: EntitlementScope }
  | { resourceType: 'namespace_role'; namespace: string; name: string }
  | { resourceType: 'role'; roleArn: string }
  | { resourceType: 'k8s_group'; group: string }
  | { resourceType: 'service_account'; namespace: string; name: string }
  | { resourceType: 'configmap'; namespace: string; name: string; verb: ConfigMapVerb }
);

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

// Kubernetes namespace names are DNS-1123 labels, so they never contain ':' or '/'. That is what
// makes ids with colon-laden names (ARNs, system:masters, eks:... roles) parseable from the right.
const NAMESPACE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** True for a valid Kubernetes namespace name. */
export function isNamespaceName(value: string): boolean {
  return NAMESPACE.test(value);
}

function fail<T>(id: string, why: string): ParseResult<T> {
  return { ok: false, error: `entitlement id "${id}": ${why}` };
}

function splitNamespaced(resourceId: string): { namespace: string; name: string } | undefined {
  if (resourceId === '*') return { namespace: '*', name: '*' };
  const slash = resourceId.indexOf('/');
  if (slash < 0) return undefined;
  const namespace = resourceId.slice(0, slash);
  const name = resourceId.slice(slash + 1);
  if (!isNamespaceName(namespace) || name === '') return undefined;
  return { namespace, name };
}

/**
 * Parses the entitlement ids this connector issues. Names may contain colons (ARNs, `system:masters`,
 * `eks:...` cluster roles), so each type is parsed from its known prefix and its known slug suffix.
 * Inherited from baton-eks: a namespace named `all` (cluster_role) or `cluster` (access_policy)
 * cannot be told apart from the cluster-wide entitlement; those ids parse as cluster scope.
 */
export function parseEntitlementId(id: string): ParseResult<ParsedEntitlementId> {
  const colon = id.indexOf(':');
  if (colon < 0) return fail(id, 'no resource type prefix');
  const type = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  switch (type) {
    case 'access_policy': {
      const at = rest.lastIndexOf(':assigned:');
      if (at < 0) return fail(id, 'expected "<policy arn>:assigned:<cluster|namespace>"');
      const policyArn = rest.slice(0, at);
      const scopeName = rest.slice(at + ':assigned:'.length);
      if (!policyArn.startsWith('arn:')) return fail(id, 'policy is not an ARN');
      const scope = scopeOf(scopeName, 'cluster');
      if (!scope) return fail(id, `"${scopeName}" is not "cluster" or a namespace name`);
      return {
        ok: true,
        value: { resourceType: type, resourceId: policyArn, slug: `assigned:${scopeName}`, policyArn, scope },
      };
    }
    case 'cluster_role': {
      if (!rest.endsWith(':member')) return fail(id, 'expected slug "<all|namespace>:member"');
      const body = rest.slice(0, -':member'.length);
      const cut = body.lastIndexOf(':');
      if (cut <= 0) return fail(id, 'expected "<cluster role>:<all|namespace>:member"');
      const clusterRole = body.slice(0, cut);
      const scopeName = body.slice(cut + 1);
      const scope = scopeOf(scopeName, 'all');
      if (!scope) return fail(id, `"${scopeName}" is not "all" or a namespace name`);
      return {
        ok: true,
        value: { resourceType: type, resourceId: clusterRole, slug: `${scopeName}:member`, clusterRole, scope },
      };
    }
    case 'namespace_role': {
      if (!rest.endsWith(':member')) return fail(id, 'expected slug "member"');
      const resourceId = rest.slice(0, -':member'.length);
      const parts = splitNamespaced(resourceId);
      if (!parts || parts.namespace === '*') return fail(id, 'expected resource id "<namespace>/<role>"');
      return { ok: true, value: { resourceType: type, resourceId, slug: 'member', ...parts } };
    }
    case 'role': {
      if (!rest.endsWith(':assignment')) return fail(id, 'expected slug "assignment"');
      const roleArn = rest.slice(0, -':assignment'.length);
      if (parseIamPrincipalArn(roleArn)?.kind !== 'role') return fail(id, 'resource is not an IAM role ARN');
      return { ok: true, value: { resourceType: type, resourceId: roleArn, slug: 'assignment', roleArn } };
    }
    case 'k8s_group': {
      if (!rest.endsWith(':member')) return fail(id, 'expected slug "member"');
      const group = rest.slice(0, -':member'.length);
      if (group === '') return fail(id, 'empty group name');
      return { ok: true, value: { resourceType: type, resourceId: group, slug: 'member', group } };
    }
    case 'service_account': {
      if (!rest.endsWith(':impersonate')) return fail(id, 'expected slug "impersonate"');
      const resourceId = rest.slice(0, -':impersonate'.length);
      const parts = splitNamespaced(resourceId);
      if (!parts) return fail(id, 'expected resource id "<namespace>/<name>"');
      return { ok: true, value: { resourceType: type, resourceId, slug: 'impersonate', ...parts } };
    }
    case 'configmap': {
      const cut = rest.lastIndexOf(':');
      const verb = rest.slice(cut + 1);
      if (cut < 0 || !isConfigMapVerb(verb)) return fail(id, `expected a verb slug (${CONFIGMAP_VERBS.join(', ')})`);
      const resourceId = rest.slice(0, cut);
      const parts = splitNamespaced(resourceId);
      if (!parts) return fail(id, 'expected resource id "<namespace>/<name>"');
      return { ok: true, value: { resourceType: type, resourceId, slug: verb, verb, ...parts } };
    }
    default:
      return fail(id, `resource type "${type}" has no entitlements this connector issues`);
  }
}

function isConfigMapVerb(value: string): value is ConfigMapVerb {
  return (CONFIGMAP_VERBS as readonly string[]).includes(value);
}

function scopeOf(name: string, clusterWord: string): EntitlementScope | undefined {
  if (name === clusterWord) return { type: 'cluster' };
  return isNamespaceName(name) ? { type: 'namespace', namespace: name } : undefined;
}

/** Formats a parsed entitlement id back to its string form (the inverse of parseEntitlementId). */
export function formatEntitlementId(parsed: ParsedEntitlementId): string {
  return entitlementId(parsed.resourceType, parsed.resourceId, parsed.slug);
}

/** `cluster_role:<name>:all:member` or `cluster_role:<name>:<namespace>:member`. */
export function clusterRoleEntitlementId(clusterRole: string, namespace?: string): string {
  return entitlementId('cluster_role', clusterRole, `${namespace ?? 'all'}:member`);
}

/** `namespace_role:<namespace>/<name>:member`. */
export function namespaceRoleEntitlementId(namespace: string, name: string): string {
  return entitlementId('namespace_role', `${namespace}/${name}`, 'member');
}

/** `access_policy:<policy arn>:assigned:cluster` or `...:assigned:<namespace>`. */
export function accessPolicyEntitlementId(policyArn: string, namespace?: string): string {
  return entitlementId('access_policy', policyArn, `assigned:${namespace ?? 'cluster'}`);
}

/** `role:<role arn>:assignment`: holding it means being able to assume the role. */
export function roleAssignmentEntitlementId(roleArnValue: string): string {
  return entitlementId('role', roleArnValue, 'assignment');
}

/** `k8s_group:<group>:member`. */
export function groupMemberEntitlementId(group: string): string {
  return entitlementId('k8s_group', group, 'member');
}

export interface ParsedGrantId {
  entitlementId: string;
  entitlement: ParsedEntitlementId;
  principal: ResourceRef;
}

const PRINCIPAL_TYPES: readonly ResourceTypeId[] = ['iam_user', 'role', 'service_account', 'k8s_group'];

function isValidPrincipal(type: ResourceTypeId, id: string): boolean {
  if (type === 'iam_user') return parseIamPrincipalArn(id)?.kind === 'user';
  if (type === 'role') return parseIamPrincipalArn(id)?.kind === 'role';
  if (type === 'service_account') return splitNamespaced(id) !== undefined;
  return id !== '';
}

/**
 * Parses a grant id of this connector. Both halves may contain colons, so every `:<principal type>:`
 * position is tried from the left and the first split whose halves both parse wins.
 */
export function parseGrantId(id: string): ParseResult<ParsedGrantId> {
  const candidates: { at: number; type: ResourceTypeId }[] = [];
  for (const type of PRINCIPAL_TYPES) {
    const marker = `:${type}:`;
    for (let at = id.indexOf(marker); at >= 0; at = id.indexOf(marker, at + 1)) candidates.push({ at, type });
  }
  candidates.sort((a, b) => a.at - b.at);
  for (const { at, type } of candidates) {
    const entitlementPart = id.slice(0, at);
    const principalId = id.slice(at + type.length + 2);
    const entitlement = parseEntitlementId(entitlementPart);
    if (entitlement.ok && isValidPrincipal(type, principalId)) {
      return {
        ok: true,
        value: { entitlementId: entitlementPart, entitlement: entitlement.value, principal: { type, id: principalId } },
      };
    }
  }
  return { ok: false, error: `grant id "${id}": no split into a known entitlement id and principal` };
}

/**
 * The annotations baton-eks puts on a grant for this principal: IAM users are placeholders matched to
 * the AWS connector's user by ARN; roles and groups expand to whoever holds their entitlement.
 */
export function grantAnnotationsFor(principal: ResourceRef): GrantAnnotation[] {
  switch (principal.type) {
    case 'iam_user':
      return [{ type: 'ExternalResourceMatchID', id: principal.id }];
    case 'role':
      return [{ type: 'GrantExpandable', entitlementIds: [roleAssignmentEntitlementId(principal.id)] }];
    case 'k8s_group':
      return [{ type: 'GrantExpandable', entitlementIds: [groupMemberEntitlementId(principal.id)] }];
    default:
      return [];
  }
}

export interface CreateGrantInput {
  entitlementId: string;
  resource: ResourceRef;
  principal: ResourceRef;
  sources?: GrantSource[];
  conditions?: GrantCondition[];
  immutable?: boolean;
}

/** Builds a grant with its baton id and the standard annotations for its principal type. */
export function createGrant(input: CreateGrantInput): Grant {
  const annotations = grantAnnotationsFor(input.principal);
  if (input.immutable) annotations.push({ type: 'GrantImmutable' });
  const grant: Grant = {
    id: grantId(input.entitlementId, input.principal.type, input.principal.id),
    entitlementId: input.entitlementId,
    resource: input.resource,
    principal: input.principal,
    annotations,
  };
  if (input.sources && input.sources.length > 0) grant.sources = input.sources;
  if (input.conditions && input.conditions.length > 0) grant.conditions = input.conditions;
  return grant;
}
