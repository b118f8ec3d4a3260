// The simulated world: AWS accounts, IAM principals, credentials and EKS clusters. Every server of
// the simulator (AWS endpoint, per-cluster Kubernetes endpoints, admin API) reads and writes this
// one structure, so a change made through one API is seen by the others at once, as on AWS.
import type { KubeStore } from '../kube/store.js';

export const AUTHENTICATION_MODES = ['CONFIG_MAP', 'API_AND_CONFIG_MAP', 'API'] as const;
export type AuthenticationMode = (typeof AUTHENTICATION_MODES)[number];

export const ACCESS_ENTRY_TYPES = [
  'STANDARD',
  'EC2_LINUX',
  'EC2_WINDOWS',
  'FARGATE_LINUX',
  'EC2',
  'HYBRID_LINUX',
  'HYPERPOD_LINUX',
] as const;
export type AccessEntryType = (typeof ACCESS_ENTRY_TYPES)[number];

export type PolicyValue = string | string[];

/** One statement of an IAM policy document (trust policies use Principal; identity policies do not). */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, PolicyValue>;
  NotPrincipal?: '*' | Record<string, PolicyValue>;
  Action?: PolicyValue;
  NotAction?: PolicyValue;
  Resource?: PolicyValue;
  NotResource?: PolicyValue;
  Condition?: Record<string, Record<string, PolicyValue>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface Account {
  id: string;
  alias?: string;
}

/**
 * A principal's identity-based policies. A principal without this object predates policy modelling
 * in the simulator and may do anything (worlds written before it keep working); one with it, even
 * empty, is evaluated as IAM evaluates: explicit deny, then allow, else implicit deny.
 */
export interface IdentityPolicies {
  /** Inline policies by name (PutRolePolicy / PutUserPolicy). */
  inline: Map<string, PolicyDocument>;
  /** ARNs of attached managed policies (the world's `managedPolicies`). */
  managed: string[];
}

/** A customer or AWS managed policy. */
export interface ManagedPolicy {
  arn: string;
  policyName: string;
  document: PolicyDocument;
}

export interface IamUser {
  accountId: string;
  userName: string;
  userId: string;
  path: string;
  arn: string;
  createDate: Date;
  tags: Tag[];
  policies?: IdentityPolicies;
}

export interface IamRole {
  accountId: string;
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  createDate: Date;
  description?: string;
  maxSessionDuration: number;
  assumeRolePolicyDocument: PolicyDocument;
  tags: Tag[];
  policies?: IdentityPolicies;
}

/**
 * Who a set of credentials acts as. For an assumed role `arn` is the STS session ARN
 * (`arn:aws:sts::<acct>:assumed-role/<name>/<session>`) and `roleArn` the IAM role ARN with its path.
 */
export interface CallerIdentity {
  kind: 'user' | 'assumed-role' | 'root';
  accountId: string;
  arn: string;
  userId: string;
  roleArn?: string;
  sessionName?: string;
}

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Temporary credentials stop working at this instant. */
  expiresAt?: Date;
  identity: CallerIdentity;
}

export interface AccessScope {
  type: 'cluster' | 'namespace';
  namespaces: string[];
}

export interface PolicyAssociation {
  policyArn: string;
  accessScope: AccessScope;
  associatedAt: Date;
  modifiedAt: Date;
}

export interface AccessEntry {
  clusterName: string;
  principalArn: string;
  type: AccessEntryType;
  username: string;
  kubernetesGroups: string[];
  accessEntryArn: string;
  createdAt: Date;
  modifiedAt: Date;
  tags: Record<string, string>;
  /** Keyed by policy ARN. */
  associations: Map<string, PolicyAssociation>;
}

/**
 * An IAM OIDC identity provider (`CreateOpenIDConnectProvider`): the account trusts tokens from
 * this issuer for the listed audiences. For IRSA it is the cluster's OIDC issuer and the audience
 * `sts.amazonaws.com`.
 */
export interface OidcProvider {
  accountId: string;
  /** `arn:aws:iam::<account>:oidc-provider/<url>`. */
  arn: string;
  /** The issuer without its scheme, as IAM stores it: `oidc.eks.<region>.amazonaws.com/id/<ID>`. */
  url: string;
  clientIds: string[];
  createDate: Date;
}

/** An EKS Pod Identity association: pods of this service account get credentials for the role. */
export interface PodIdentityAssociation {
  associationId: string;
  associationArn: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  createdAt: Date;
  modifiedAt: Date;
  tags: Record<string, string>;
}

/** TLS material of one cluster's Kubernetes endpoint; `caPem` is what DescribeCluster reports. */
export interface ClusterTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface Cluster {
  name: string;
  region: string;
  accountId: string;
  arn: string;
  version: string;
  authenticationMode: AuthenticationMode;
  createdAt: Date;
  tags: Record<string, string>;
  /** Keyed by principal ARN exactly as given to CreateAccessEntry (path included). */
  accessEntries: Map<string, AccessEntry>;
  /** Keyed by association id. */
  podIdentityAssociations: Map<string, PodIdentityAssociation>;
  /** The cluster's service-account token issuer, `https://oidc.eks.<region>.amazonaws.com/id/<ID>`. */
  oidcIssuer: string;
  kube: KubeStore;
  /** Set when the simulator serves the cluster. */
  endpoint?: string;
  tls?: ClusterTls;
  /**
   * A role that can reach the cluster's Kubernetes API, assumed with the simulator's first listed
   * credential: what `eks-sim kubeconfig` uses unless told otherwise (the demo: the connector's role).
   */
  operator?: { roleArn: string; externalId?: string };
}

/** Key of a cluster in the world: clusters are unique per account and region, as in AWS. */
export function clusterKey(accountId: string, region: string, name: string): string {
  return `${accountId}/${region}/${name}`;
}
