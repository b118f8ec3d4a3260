// The snapshot model of one cluster, in the shape of C1's connector v2 messages (ResourceType,
// Resource, Entitlement, Grant, annotations), declared once for everything that produces, stores or
// uploads a snapshot: eks-core builds it, db stores and reads it back, c1 writes it into a c1z.
// Type ids, entitlement slugs and the id formats are the ones baton-eks uses, so C1 and C1's AWS
// connector recognise the objects; `k8s_group` is ours (baton-eks drops groups, system:masters too).
//
// Ids in these objects are plain strings: a snapshot read back from Postgres or a c1z file is data,
// and only the catalogue below (RESOURCE_TYPE_IDS) says which type ids this connector issues.
import { groupMemberEntitlementId, grantId, roleAssignmentEntitlementId } from './ids.js';

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
  id: string;
  displayName: string;
  traits: readonly ResourceTrait[];
  description?: string;
}

export interface ResourceRef {
  type: string;
  id: string;
}

// Annotations carry C1 semantics that are not fields of the messages themselves. They are type
// aliases (not interfaces) so that an annotation also fits where loose `{ type, ...fields }` JSON
// is expected (the stored form).

/** On a grant to a placeholder principal: C1 swaps in the external (AWS connector) resource with this id. */
export type ExternalResourceMatchIdAnnotation = { type: 'ExternalResourceMatchID'; id: string };
/** Holders of these entitlements inherit the grant (a grant to a role reaches whoever can assume it). */
export type GrantExpandableAnnotation = {
  type: 'GrantExpandable';
  entitlementIds: readonly string[];
  shallow?: boolean;
  resourceTypeIds?: readonly string[];
};
/** Resources of this type are listed under this resource (service accounts per namespace). */
export type ChildResourceTypeAnnotation = { type: 'ChildResourceType'; resourceTypeId: string };
/** The id of the object in the source system when it differs from the resource id (a Kubernetes UID). */
export type ExternalIdAnnotation = { type: 'ExternalId'; id: string; link?: string; description?: string };
export type SkipEntitlementsAndGrantsAnnotation = { type: 'SkipEntitlementsAndGrants' };
/** The grant is observed, not provisionable through this connector (e.g. derived from a trust policy). */
export type GrantImmutableAnnotation = { type: 'GrantImmutable'; sourceId?: string };

export type ResourceAnnotation =
  ChildResourceTypeAnnotation | ExternalIdAnnotation | SkipEntitlementsAndGrantsAnnotation;
export type GrantAnnotation =
  ExternalResourceMatchIdAnnotation | GrantExpandableAnnotation | GrantImmutableAnnotation;
export type Annotation = ResourceAnnotation | GrantAnnotation;
export type AnnotationType = Annotation['type'];

export interface Resource {
  type: string;
  id: string;
  displayName: string;
  parent?: ResourceRef;
  description?: string;
  profile: Record<string, unknown>;
  annotations: readonly ResourceAnnotation[];
}

export interface Entitlement {
  id: string;
  resource: ResourceRef;
  slug: string;
  displayName: string;
  description: string;
  purpose: 'assignment' | 'permission';
  grantableTo: readonly string[];
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
  annotations: readonly GrantAnnotation[];
  /** Every object that gives this grant; several bindings can give the same grant id. */
  sources?: readonly GrantSource[];
  conditions?: readonly GrantCondition[];
}

/** The resource types this connector advertises, ids and display names as baton-eks. */
export const RESOURCE_TYPES: Readonly<
  Record<ResourceTypeId, ResourceType & { id: ResourceTypeId; description: string }>
> = {
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
export const LISTED_RESOURCE_TYPE_IDS: readonly ResourceTypeId[] = RESOURCE_TYPE_IDS.filter(
  (t) => t !== 'iam_user',
);

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
