// The raw inventory of one cluster: what the AWS and Kubernetes APIs returned, normalised into
// plain objects (no SDK classes), with the status of every source. The mapping to C1's model is a
// pure function of this, so it can be tested without a network and re-run without API calls.
import type { AuthenticationMode } from '../identity/identity-map.js';
import type { ClusterDescription } from '../session.js';

export type SourceName =
  | 'eks:accessPolicies'
  | 'eks:accessEntries'
  | 'iam:roles'
  | 'kube:awsAuth'
  | 'kube:rbac'
  | 'kube:namespaces'
  | 'kube:serviceAccounts';

export type SourceStatus =
  | { state: 'read'; note?: string }
  | { state: 'not_applicable'; reason: string }
  | { state: 'failed'; code: string; message: string };

export interface AccessScopeRecord {
  type: 'cluster' | 'namespace';
  namespaces: string[];
}

export interface AccessEntryRecord {
  principalArn: string;
  type: string;
  username: string;
  kubernetesGroups: string[];
  associations: {
    policyArn: string;
    accessScope: AccessScopeRecord;
    associatedAt?: string;
    modifiedAt?: string;
  }[];
  createdAt?: string;
}

export interface IamRoleRecord {
  arn: string;
  roleName: string;
  roleId: string;
  path: string;
  createDate?: string;
  description?: string;
  /** The decoded trust policy; undefined when it could not be decoded (see trustPolicyError). */
  trustPolicy?: unknown;
  trustPolicyError?: string;
}

export interface KubeMeta {
  name: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface KubeRoleRecord {
  meta: KubeMeta;
  rules: KubeRule[];
  aggregationRule?: { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] };
}

export interface KubeSubject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface KubeBindingRecord {
  meta: KubeMeta;
  roleRef: { kind: string; name: string; apiGroup: string };
  subjects: KubeSubject[];
}

export interface ClusterInventory {
  cluster: Omit<ClusterDescription, 'caData'>;
  authenticationMode: AuthenticationMode;
  accessPolicies: { name: string; arn: string }[];
  accessEntries: AccessEntryRecord[];
  iamRoles: IamRoleRecord[];
  /** data of kube-system/aws-auth; undefined when absent, not applicable or unreadable. */
  awsAuth?: Record<string, string>;
  namespaces: KubeMeta[];
  serviceAccounts: KubeMeta[];
  clusterRoles: KubeRoleRecord[];
  roles: KubeRoleRecord[];
  clusterRoleBindings: KubeBindingRecord[];
  roleBindings: KubeBindingRecord[];
  sources: Record<SourceName, SourceStatus>;
  /** How long reading each source took, in milliseconds. */
  sourceDurationsMs: Record<SourceName, number>;
  /** Problems that did not fail a source (an undecodable trust policy, a describe that vanished). */
  warnings: string[];
}
