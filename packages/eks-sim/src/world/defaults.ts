// Content every simulated cluster tends to share: the user-facing ClusterRoles Kubernetes ships,
// the read-only ClusterRole the C1 setup guide tells users to create for the connector, and the
// fixed instant world-built objects carry. Used by the demo world and the generator alike.

/** The instant world-built objects carry (creation dates, timestamps), so rebuilt worlds match. */
export const WORLD_EPOCH = new Date('2024-01-01T00:00:00Z');

import type { PolicyRule } from '../aws/eks-access-policies.js';

export type { PolicyRule };

const WORKLOAD_GROUPS = ['', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'policy'];
const WORKLOAD_RESOURCES = [
  'pods',
  'pods/log',
  'services',
  'endpoints',
  'configmaps',
  'persistentvolumeclaims',
  'serviceaccounts',
  'deployments',
  'replicasets',
  'statefulsets',
  'daemonsets',
  'jobs',
  'cronjobs',
  'horizontalpodautoscalers',
  'ingresses',
  'networkpolicies',
  'poddisruptionbudgets',
];
const WRITE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_VERBS = ['get', 'list', 'watch'];

/**
 * The default user-facing ClusterRoles, simplified: the real ones are aggregated from many small
 * roles, but what they grant is the same in spirit (view reads, edit writes workloads and secrets,
 * admin adds namespace RBAC, cluster-admin is everything).
 */
export const STANDARD_CLUSTER_ROLES: Record<'cluster-admin' | 'admin' | 'edit' | 'view', PolicyRule[]> = {
  'cluster-admin': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  admin: [
    {
      apiGroups: WORKLOAD_GROUPS,
      resources: [...WORKLOAD_RESOURCES, 'secrets', 'pods/exec'],
      verbs: WRITE_VERBS,
    },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: WRITE_VERBS },
  ],
  edit: [
    {
      apiGroups: WORKLOAD_GROUPS,
      resources: [...WORKLOAD_RESOURCES, 'secrets', 'pods/exec'],
      verbs: WRITE_VERBS,
    },
  ],
  view: [{ apiGroups: WORKLOAD_GROUPS, resources: WORKLOAD_RESOURCES, verbs: READ_VERBS }],
};

/** Label the API server puts on the objects it bootstraps. */
export const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

/** The C1 guide's read-only ClusterRole ("read-only-access-cluster-role"), bound to the `readers` group. */
export const CONNECTOR_READ_CLUSTER_ROLE = 'read-only-access';
export const CONNECTOR_READERS_GROUP = 'readers';
export const CONNECTOR_READ_RULES: PolicyRule[] = [
  {
    apiGroups: [''],
    resources: [
      'pods',
      'services',
      'configmaps',
      'namespaces',
      'secrets',
      'endpoints',
      'persistentvolumeclaims',
      'serviceaccounts',
    ],
    verbs: READ_VERBS,
  },
  {
    apiGroups: ['apps', 'batch', 'extensions', 'networking.k8s.io', 'rbac.authorization.k8s.io'],
    resources: [
      'deployments',
      'replicasets',
      'statefulsets',
      'jobs',
      'cronjobs',
      'ingresses',
      'rolebindings',
      'clusterrolebindings',
      'roles',
      'clusterroles',
    ],
    verbs: READ_VERBS,
  },
];

export const CONNECTOR_USER_NAME = 'eks-access-connector';
export const CONNECTOR_ROLE_NAME = 'EksAccessConnector';

/** EKS access policy ARN for a policy name. */
export function accessPolicyArn(name: string): string {
  return `arn:aws:eks::aws:cluster-access-policy/${name}`;
}
