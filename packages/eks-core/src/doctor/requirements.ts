// What the connector needs, stated once, for the doctor (which checks it) and setup (which grants
// it): the AWS actions of a sync and of provisioning with the narrowest resource ARNs, the
// Kubernetes verbs on each resource, and the names setup gives what it creates. The fixes printed
// for a failed check are built here too, so a check and its fix can never disagree.
import type { AuthenticationMode } from '../identity/identity-map.js';

export interface ClusterCoordinates {
  name: string;
  region: string;
  accountId: string;
  partition?: string;
}

export type ResourceScope = 'cluster' | 'access-entry' | 'any' | 'iam-role' | 'iam-user';

export interface AwsRequirement {
  /** `eks:DescribeCluster`… */
  action: string;
  scope: ResourceScope;
  /** Why the connector needs it, in a few words. */
  why: string;
  /** Only in these modes (access entries do not exist in CONFIG_MAP). */
  modes?: readonly AuthenticationMode[];
}

const API_MODES: readonly AuthenticationMode[] = ['API', 'API_AND_CONFIG_MAP'];

/** The AWS calls a sync makes. */
export const SYNC_AWS: readonly AwsRequirement[] = [
  { action: 'eks:DescribeCluster', scope: 'cluster', why: 'endpoint, CA and authentication mode' },
  { action: 'eks:ListAccessEntries', scope: 'cluster', why: 'who has an access entry', modes: API_MODES },
  {
    action: 'eks:DescribeAccessEntry',
    scope: 'access-entry',
    why: 'username and groups of each entry',
    modes: API_MODES,
  },
  {
    action: 'eks:ListAssociatedAccessPolicies',
    scope: 'access-entry',
    why: 'access policies of each entry',
    modes: API_MODES,
  },
  { action: 'eks:ListAccessPolicies', scope: 'any', why: 'the access policy catalogue' },
  { action: 'iam:ListRoles', scope: 'any', why: 'IAM roles and who may assume them' },
];

/** The AWS calls provisioning adds. */
export const PROVISION_AWS: readonly AwsRequirement[] = [
  {
    action: 'eks:CreateAccessEntry',
    scope: 'cluster',
    why: 'give a principal an access entry',
    modes: API_MODES,
  },
  {
    action: 'eks:UpdateAccessEntry',
    scope: 'access-entry',
    why: 'add a managed group to an entry',
    modes: API_MODES,
  },
  {
    action: 'eks:AssociateAccessPolicy',
    scope: 'access-entry',
    why: 'grant an access policy',
    modes: API_MODES,
  },
  {
    action: 'eks:DisassociateAccessPolicy',
    scope: 'access-entry',
    why: 'revoke an access policy',
    modes: API_MODES,
  },
  { action: 'iam:GetRole', scope: 'iam-role', why: 'check a grantee role exists' },
  { action: 'iam:GetUser', scope: 'iam-user', why: 'check a grantee user exists' },
];

export interface KubeRequirement {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  why: string;
  modes?: readonly AuthenticationMode[];
}

const AWS_AUTH_MODES: readonly AuthenticationMode[] = ['CONFIG_MAP', 'API_AND_CONFIG_MAP'];
const RBAC = 'rbac.authorization.k8s.io';

/** The Kubernetes reads of a sync (lists across all namespaces, and the aws-auth ConfigMap). */
export const SYNC_KUBE: readonly KubeRequirement[] = [
  { verb: 'list', group: '', resource: 'namespaces', why: 'namespaces' },
  { verb: 'list', group: '', resource: 'serviceaccounts', why: 'service accounts' },
  { verb: 'list', group: RBAC, resource: 'clusterroles', why: 'cluster roles' },
  { verb: 'list', group: RBAC, resource: 'roles', why: 'namespace roles' },
  { verb: 'list', group: RBAC, resource: 'clusterrolebindings', why: 'cluster role bindings' },
  { verb: 'list', group: RBAC, resource: 'rolebindings', why: 'role bindings' },
  {
    verb: 'get',
    group: '',
    resource: 'configmaps',
    namespace: 'kube-system',
    name: 'aws-auth',
    why: 'aws-auth mappings',
    modes: AWS_AUTH_MODES,
  },
];

/** The Kubernetes writes provisioning makes (bindings; the aws-auth ConfigMap where EKS reads it). */
export const PROVISION_KUBE: readonly KubeRequirement[] = [
  ...['get', 'create', 'update', 'delete'].map((verb) => ({
    verb,
    group: RBAC,
    resource: 'clusterrolebindings',
    why: `${verb} cluster role bindings`,
  })),
  ...['get', 'create', 'update', 'delete'].map((verb) => ({
    verb,
    group: RBAC,
    resource: 'rolebindings',
    why: `${verb} role bindings`,
  })),
  { verb: 'get', group: RBAC, resource: 'clusterroles', why: 'check a cluster role exists' },
  { verb: 'get', group: RBAC, resource: 'roles', why: 'check a namespace role exists' },
  { verb: 'bind', group: RBAC, resource: 'clusterroles', why: 'bind roles it does not hold itself' },
  { verb: 'bind', group: RBAC, resource: 'roles', why: 'bind namespace roles it does not hold itself' },
  { verb: 'get', group: '', resource: 'namespaces', why: 'check a namespace exists' },
  {
    verb: 'update',
    group: '',
    resource: 'configmaps',
    namespace: 'kube-system',
    name: 'aws-auth',
    why: 'map a principal in aws-auth',
    modes: ['CONFIG_MAP'],
  },
  {
    verb: 'create',
    group: '',
    resource: 'configmaps',
    namespace: 'kube-system',
    why: 'create aws-auth when it is missing',
    modes: ['CONFIG_MAP'],
  },
];

/** Whether a requirement applies in a mode. */
export function appliesIn(req: { modes?: readonly AuthenticationMode[] }, mode: AuthenticationMode): boolean {
  return req.modes === undefined || req.modes.includes(mode);
}

/** Names of what setup creates, so the doctor can recognise them and a re-run finds them. */
export const SETUP_NAMES = {
  readClusterRole: 'eks-access-connector-read',
  readBinding: 'eks-access-connector-read',
  readersGroup: 'eks-access-connector-readers',
  provisionClusterRole: 'eks-access-connector-provision',
  provisionBinding: 'eks-access-connector-provision',
  provisionRole: 'eks-access-connector-aws-auth',
  provisionersGroup: 'eks-access-connector-provisioners',
  awsAuthUsername: 'eks-access-connector',
  syncPolicy: 'EksAccessConnectorSync',
  provisionPolicy: 'EksAccessConnectorProvision',
  readAccessPolicy: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy',
} as const;

/** The narrowest resource ARN an action needs for this cluster. */
export function resourceFor(scope: ResourceScope, c: ClusterCoordinates): string {
  const p = c.partition ?? 'aws';
  switch (scope) {
    case 'cluster':
      return `arn:${p}:eks:${c.region}:${c.accountId}:cluster/${c.name}`;
    case 'access-entry':
      return `arn:${p}:eks:${c.region}:${c.accountId}:access-entry/${c.name}/*`;
    case 'iam-role':
      return `arn:${p}:iam::${c.accountId}:role/*`;
    case 'iam-user':
      return `arn:${p}:iam::${c.accountId}:user/*`;
    case 'any':
      return '*';
  }
}

export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
}

/** IAM policy statements granting `requirements` on one cluster, one statement per resource. */
export function policyStatements(
  requirements: readonly AwsRequirement[],
  c: ClusterCoordinates,
  sidPrefix = 'EksAccessConnector',
): PolicyStatementJson[] {
  const byResource = new Map<string, string[]>();
  for (const r of requirements) {
    const resource = resourceFor(r.scope, c);
    const list = byResource.get(resource) ?? [];
    if (!list.includes(r.action)) list.push(r.action);
    byResource.set(resource, list);
  }
  let i = 0;
  return [...byResource].map(([resource, actions]) => ({
    Sid: `${sidPrefix}${++i}`,
    Effect: 'Allow' as const,
    Action: actions,
    Resource: resource,
  }));
}

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** RBAC rules granting `requirements`, grouped by (group, names); namespaced ones are left out. */
export function rbacRules(requirements: readonly KubeRequirement[]): RbacRule[] {
  const rules = new Map<string, RbacRule>();
  for (const r of requirements) {
    const key = `${r.group}|${r.name ?? ''}|${r.verb}`;
    const rule = rules.get(key) ?? {
      apiGroups: [r.group],
      resources: [],
      verbs: [r.verb],
      ...(r.name ? { resourceNames: [r.name] } : {}),
    };
    if (!rule.resources.includes(r.resource)) rule.resources.push(r.resource);
    rules.set(key, rule);
  }
  // Merge rules that differ only in verbs, so the YAML stays short.
  const merged = new Map<string, RbacRule>();
  for (const rule of rules.values()) {
    const key = `${rule.apiGroups.join()}|${rule.resources.join()}|${rule.resourceNames?.join() ?? ''}`;
    const existing = merged.get(key);
    if (existing) existing.verbs.push(...rule.verbs.filter((v) => !existing.verbs.includes(v)));
    else merged.set(key, { ...rule, verbs: [...rule.verbs] });
  }
  return [...merged.values()];
}

/** The read rules the connector needs for a sync in this mode (the ClusterRole setup creates). */
export function syncReadRules(mode: AuthenticationMode): RbacRule[] {
  return rbacRules(SYNC_KUBE.filter((r) => appliesIn(r, mode)));
}

function yamlList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

/** A rule as YAML (list item, indented for a ClusterRole's `rules:`). */
export function ruleYaml(rule: RbacRule): string {
  return [
    `- apiGroups: ${yamlList(rule.apiGroups)}`,
    `  resources: ${yamlList(rule.resources)}`,
    ...(rule.resourceNames ? [`  resourceNames: ${yamlList(rule.resourceNames)}`] : []),
    `  verbs: ${yamlList(rule.verbs)}`,
  ].join('\n');
}

export interface Subject {
  kind: 'User' | 'Group';
  name: string;
}

/** A ClusterRole and its ClusterRoleBinding as YAML (what `kubectl apply -f` takes). */
export function clusterRoleYaml(
  name: string,
  rules: readonly RbacRule[],
  subject: Subject,
  bindingName = name,
): string {
  return [
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: ClusterRole',
    'metadata:',
    `  name: ${name}`,
    'rules:',
    ...rules.map(ruleYaml),
    '---',
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: ClusterRoleBinding',
    'metadata:',
    `  name: ${bindingName}`,
    'roleRef:',
    '  apiGroup: rbac.authorization.k8s.io',
    '  kind: ClusterRole',
    `  name: ${name}`,
    'subjects:',
    '- apiGroup: rbac.authorization.k8s.io',
    `  kind: ${subject.kind}`,
    `  name: ${JSON.stringify(subject.name)}`,
  ].join('\n');
}

/** The two commands that give a principal an access entry with the read-only access policy. */
export function accessEntryCommands(c: ClusterCoordinates, principalArn: string, withEntry: boolean): string {
  const lines: string[] = [];
  if (withEntry) {
    lines.push(
      `aws eks create-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${principalArn} --type STANDARD`,
    );
  }
  lines.push(
    `aws eks associate-access-policy --cluster-name ${c.name} --region ${c.region} --principal-arn ${principalArn} --policy-arn ${SETUP_NAMES.readAccessPolicy} --access-scope type=cluster`,
  );
  return lines.join('\n');
}

/** The aws-auth `mapRoles` (or `mapUsers`) entry that maps the connector, as YAML. */
export function awsAuthEntryYaml(principalArn: string, username: string, groups: readonly string[]): string {
  const isRole = /:role\//.test(principalArn);
  return [
    `- ${isRole ? 'rolearn' : 'userarn'}: ${awsAuthArn(principalArn)}`,
    `  username: ${username}`,
    '  groups:',
    ...groups.map((g) => `  - ${g}`),
  ].join('\n');
}

/** aws-auth matches roles by ARN without their IAM path. */
export function awsAuthArn(principalArn: string): string {
  const m = /^(arn:[^:]+:iam::\d{12}:role\/)(?:.*\/)?([^/]+)$/.exec(principalArn);
  return m ? `${m[1]}${m[2]}` : principalArn;
}
