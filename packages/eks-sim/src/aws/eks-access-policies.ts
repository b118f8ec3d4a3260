// The catalogue of EKS access policies: what ListAccessPolicies returns, and the Kubernetes RBAC
// rules each policy grants. AWS never exposes those rules through its API (the user guide's
// "Review access policy permissions" page is the only statement of them), so the simulator's
// Kubernetes endpoint authorises access-policy holders from this table.
//
// Names: the 33 policies a published 2026 transcript of `aws eks list-access-policies` shows, plus
// AmazonEKSClusterInsightsPolicy, which the user guide documents (EKS attaches it to its own
// service-linked role) but that transcript does not list. Rules come in three grades,
// recorded per policy in `rulesFrom`:
// - 'guide-table': copied row for row from a rule table in AWS documentation (the EKS user guide,
//   or the ARC guide for AmazonARCRegionSwitchScalingPolicy);
// - 'guide-prose': AWS describes the permissions in sentences, not a table; the rules are our
//   reading of that text (resource names AWS narrows them to are not published, so some are wider);
// - 'assumed': AWS publishes no permissions; the rules are a conservative guess from the policy's
//   purpose. Treat them as placeholders.

/** One Kubernetes RBAC rule, as in a ClusterRole (`''` is the core API group). */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export type RulesSource = 'guide-table' | 'guide-prose' | 'assumed';

export interface AccessPolicyDefinition {
  name: string;
  arn: string;
  rules: PolicyRule[];
  rulesFrom: RulesSource;
  /** AWS says only service-linked roles may hold it; the simulator records this but does not enforce it. */
  serviceLinkedOnly: boolean;
}

export const ACCESS_POLICY_ARN_PREFIX = 'arn:aws:eks::aws:cluster-access-policy/';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL_OBJECT_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

function rule(
  apiGroups: string[],
  resources: string[],
  verbs: string[],
  resourceNames?: string[],
): PolicyRule {
  return resourceNames ? { apiGroups, resources, verbs, resourceNames } : { apiGroups, resources, verbs };
}

// AmazonEKSViewPolicy. Edit and Admin are supersets, so they are built from it below.
const VIEW_RULES: PolicyRule[] = [
  rule(
    ['apps'],
    [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
    READ,
  ),
  rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
  rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
  rule(['discovery.k8s.io'], ['endpointslices'], READ),
  rule(
    ['extensions'],
    [
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'ingresses',
      'ingresses/status',
      'networkpolicies',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'replicationcontrollers/scale',
    ],
    READ,
  ),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
  rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  rule(
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'pods',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/status',
    ],
    READ,
  ),
  rule(
    [''],
    [
      'bindings',
      'events',
      'limitranges',
      'namespaces/status',
      'pods/log',
      'pods/status',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
    ],
    READ,
  ),
  rule([''], ['namespaces'], READ),
];

const EDIT_RULES: PolicyRule[] = [
  ...VIEW_RULES,
  rule(
    ['apps'],
    [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
    ],
    WRITE,
  ),
  rule(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
  rule(['batch'], ['cronjobs', 'jobs'], WRITE),
  rule(
    ['extensions'],
    [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'ingresses',
      'networkpolicies',
      'replicasets',
      'replicasets/scale',
      'replicationcontrollers/scale',
    ],
    WRITE,
  ),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
  rule(['policy'], ['poddisruptionbudgets'], WRITE),
  rule(
    [''],
    ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'],
    READ,
  ),
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
  rule(
    [''],
    [
      'configmaps',
      'events',
      'persistentvolumeclaims',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'secrets',
      'serviceaccounts',
      'services',
      'services/proxy',
    ],
    WRITE,
  ),
];

const ADMIN_RULES: PolicyRule[] = [
  ...EDIT_RULES,
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  rule(
    ['rbac.authorization.k8s.io'],
    ['rolebindings', 'roles'],
    ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  ),
];

// Leader-election policies of EKS Auto Mode: AWS says they are limited to the component's own
// leases but does not name them, so these grant leases in general.
const LEASE_RULES: PolicyRule[] = [rule(['coordination.k8s.io'], ['leases'], ALL_OBJECT_VERBS)];

const EVENT_WRITE = rule(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update']);

interface Entry {
  rules: PolicyRule[];
  rulesFrom: RulesSource;
  serviceLinkedOnly?: boolean;
}

const CATALOGUE: Record<string, Entry> = {
  AmazonEKSClusterAdminPolicy: {
    rulesFrom: 'guide-table',
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
  },
  AmazonEKSAdminPolicy: { rulesFrom: 'guide-table', rules: ADMIN_RULES },
  AmazonEKSEditPolicy: { rulesFrom: 'guide-table', rules: EDIT_RULES },
  AmazonEKSViewPolicy: { rulesFrom: 'guide-table', rules: VIEW_RULES },
  AmazonEKSAdminViewPolicy: { rulesFrom: 'guide-table', rules: [rule(['*'], ['*'], READ)] },
  AmazonEKSSecretReaderPolicy: { rulesFrom: 'guide-table', rules: [rule([''], ['secrets'], READ)] },
  AmazonEKSHybridPolicy: {
    rulesFrom: 'guide-table',
    serviceLinkedOnly: true,
    rules: [rule(['*'], ['nodes'], ['list'])],
  },
  AmazonARCRegionSwitchScalingPolicy: {
    rulesFrom: 'guide-table',
    rules: [
      rule(['*'], ['*/scale'], ['get', 'update']),
      rule(['*'], ['*/status'], ['get']),
      rule(['autoscaling'], ['horizontalpodautoscalers'], ['get', 'patch']),
    ],
  },
  AmazonEKSClusterInsightsPolicy: {
    rulesFrom: 'guide-prose',
    serviceLinkedOnly: true,
    rules: [
      rule([''], ['nodes'], READ),
      rule([''], ['nodes/status'], ['get']),
      rule(['apps'], ['daemonsets'], ['get'], ['kube-proxy']),
    ],
  },
  AmazonEKSAutoNodePolicy: {
    rulesFrom: 'guide-prose',
    rules: [
      rule(
        [''],
        [
          'nodes',
          'pods',
          'services',
          'endpoints',
          'namespaces',
          'persistentvolumes',
          'persistentvolumeclaims',
        ],
        READ,
      ),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      rule(['storage.k8s.io'], ['csinodes', 'storageclasses', 'volumeattachments'], READ),
      EVENT_WRITE,
    ],
  },
  AmazonEKSBlockStoragePolicy: { rulesFrom: 'guide-prose', serviceLinkedOnly: true, rules: LEASE_RULES },
  AmazonEKSLoadBalancingPolicy: { rulesFrom: 'guide-prose', rules: LEASE_RULES },
  AmazonEKSNetworkingPolicy: { rulesFrom: 'guide-prose', rules: LEASE_RULES },
  AmazonEKSComputePolicy: { rulesFrom: 'guide-prose', serviceLinkedOnly: true, rules: LEASE_RULES },
  AmazonEKSBlockStorageClusterPolicy: {
    rulesFrom: 'guide-prose',
    serviceLinkedOnly: true,
    rules: [
      rule(['storage.k8s.io'], ['csidrivers'], ALL_OBJECT_VERBS),
      rule([''], ['persistentvolumes'], ALL_OBJECT_VERBS),
      rule([''], ['persistentvolumeclaims'], ['get', 'list', 'watch', 'update']),
      rule([''], ['persistentvolumeclaims/status'], ['patch']),
      rule([''], ['nodes', 'pods'], READ),
      rule(['', 'events.k8s.io'], ['events'], ['get', 'list', 'watch', 'create', 'update', 'patch']),
      rule(['storage.k8s.io'], ['storageclasses', 'csinodes', 'volumeattributesclasses'], READ),
      rule(['storage.k8s.io'], ['volumeattachments'], ['get', 'list', 'watch', 'update', 'patch']),
      rule(['storage.k8s.io'], ['volumeattachments/status'], ['patch']),
      rule(
        ['snapshot.storage.k8s.io'],
        [
          'volumesnapshots',
          'volumesnapshots/status',
          'volumesnapshotcontents',
          'volumesnapshotcontents/status',
          'volumesnapshotclasses',
        ],
        ALL_OBJECT_VERBS,
      ),
      rule(
        ['groupsnapshot.storage.k8s.io'],
        [
          'volumegroupsnapshots',
          'volumegroupsnapshots/status',
          'volumegroupsnapshotcontents',
          'volumegroupsnapshotcontents/status',
          'volumegroupsnapshotclasses',
        ],
        ALL_OBJECT_VERBS,
      ),
    ],
  },
  AmazonEKSComputeClusterPolicy: {
    rulesFrom: 'guide-prose',
    serviceLinkedOnly: true,
    rules: [
      rule(
        ['karpenter.sh'],
        ['nodepools', 'nodepools/status', 'nodeclaims', 'nodeclaims/status'],
        ALL_OBJECT_VERBS,
      ),
      rule(['eks.amazonaws.com'], ['nodeclasses', 'nodeclasses/status'], ALL_OBJECT_VERBS),
      rule(
        [''],
        [
          'pods',
          'nodes',
          'persistentvolumes',
          'persistentvolumeclaims',
          'replicationcontrollers',
          'namespaces',
        ],
        READ,
      ),
      rule(['storage.k8s.io'], ['storageclasses', 'csinodes', 'volumeattachments'], READ),
      rule(['apps'], ['deployments', 'daemonsets', 'replicasets', 'statefulsets'], ['list', 'watch']),
      rule(['policy'], ['poddisruptionbudgets'], READ),
      rule(['', 'events.k8s.io'], ['events'], ['get', 'list', 'watch', 'create', 'update', 'patch']),
      rule([''], ['nodes'], ['update', 'patch', 'delete']),
      rule([''], ['pods/eviction'], ['create']),
      rule([''], ['pods'], ['delete']),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create']),
      rule(
        ['apiextensions.k8s.io'],
        ['customresourcedefinitions'],
        ['get', 'list', 'watch', 'update', 'patch', 'delete'],
        [
          'nodeclasses.eks.amazonaws.com',
          'nodepools.karpenter.sh',
          'nodeclaims.karpenter.sh',
          'nodediagnostics.eks.amazonaws.com',
        ],
      ),
    ],
  },
  AmazonEKSLoadBalancingClusterPolicy: {
    rulesFrom: 'guide-prose',
    rules: [
      rule(['', 'events.k8s.io'], ['events'], ['create', 'patch']),
      rule([''], ['pods', 'nodes', 'endpoints', 'namespaces'], READ),
      rule([''], ['pods/status'], ['update', 'patch']),
      rule([''], ['services', 'services/status'], ALL_OBJECT_VERBS),
      rule(['networking.k8s.io'], ['ingresses', 'ingresses/status'], ALL_OBJECT_VERBS),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      rule(['networking.k8s.io'], ['ingressclasses'], READ),
      rule(
        ['eks.amazonaws.com'],
        ['targetgroupbindings', 'targetgroupbindings/status'],
        ['get', 'list', 'watch', 'create', 'update', 'patch'],
      ),
      rule(['eks.amazonaws.com'], ['ingressclassparams'], READ),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create', 'get', 'list', 'watch']),
      rule(
        ['apiextensions.k8s.io'],
        ['customresourcedefinitions'],
        ['update', 'patch', 'delete'],
        ['targetgroupbindings.eks.amazonaws.com', 'ingressclassparams.eks.amazonaws.com'],
      ),
      rule(
        ['admissionregistration.k8s.io'],
        ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        ['create', 'get', 'list', 'watch'],
      ),
      rule(
        ['admissionregistration.k8s.io'],
        ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        ['update', 'patch', 'delete'],
        ['eks-load-balancing-webhook'],
      ),
    ],
  },
  AmazonEKSNetworkingClusterPolicy: {
    rulesFrom: 'guide-prose',
    rules: [
      rule(['eks.amazonaws.com'], ['nodeclasses', 'nodeclasses/status'], READ),
      rule(['karpenter.sh'], ['nodeclaims', 'nodeclaims/status'], READ),
      rule([''], ['pods'], READ),
      rule(['eks.amazonaws.com'], ['cninodes', 'cninodes/status'], ALL_OBJECT_VERBS),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create', 'get', 'list', 'watch']),
      rule(
        ['apiextensions.k8s.io'],
        ['customresourcedefinitions'],
        ['update', 'patch', 'delete'],
        ['cninodes.eks.amazonaws.com'],
      ),
      rule(['', 'events.k8s.io'], ['events'], ['create', 'patch']),
    ],
  },
  // Third-party write-ups agree it grants every verb on secrets; AWS publishes no table.
  AmazonEKSSecretAdminPolicy: { rulesFrom: 'assumed', rules: [rule([''], ['secrets'], ['*'])] },
  AmazonEKSArgoCDClusterPolicy: {
    rulesFrom: 'assumed',
    rules: [
      rule([''], ['namespaces'], ALL_OBJECT_VERBS),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], READ),
      { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'], verbs: ['get'] },
    ],
  },
  AmazonEKSArgoCDPolicy: {
    rulesFrom: 'assumed',
    rules: [
      rule([''], ['secrets', 'configmaps'], ALL_OBJECT_VERBS),
      rule(['', 'events.k8s.io'], ['events'], ['get', 'list', 'watch', 'create', 'patch']),
      rule(['argoproj.io'], ['applications', 'applicationsets', 'appprojects'], ['*']),
    ],
  },
  AmazonEKSACKPolicy: {
    rulesFrom: 'assumed',
    rules: [
      rule(
        ['services.k8s.aws'],
        ['adoptedresources', 'adoptedresources/status', 'fieldexports', 'fieldexports/status'],
        ALL_OBJECT_VERBS,
      ),
      rule([''], ['namespaces', 'configmaps'], READ),
      EVENT_WRITE,
      ...LEASE_RULES,
    ],
  },
  AmazonEKSKROPolicy: {
    rulesFrom: 'assumed',
    rules: [
      rule(['kro.run'], ['resourcegraphdefinitions', 'resourcegraphdefinitions/status'], ALL_OBJECT_VERBS),
      rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ALL_OBJECT_VERBS),
      EVENT_WRITE,
    ],
  },
  AmazonEKSEventPolicy: { rulesFrom: 'assumed', rules: [rule(['', 'events.k8s.io'], ['events'], READ)] },
  AmazonEKSPodIdentityPolicy: {
    rulesFrom: 'assumed',
    serviceLinkedOnly: true,
    rules: [rule([''], ['serviceaccounts', 'pods'], READ)],
  },
  AmazonEMRJobPolicy: {
    rulesFrom: 'assumed',
    rules: [
      rule(
        [''],
        [
          'pods',
          'pods/log',
          'services',
          'configmaps',
          'secrets',
          'serviceaccounts',
          'persistentvolumeclaims',
          'events',
        ],
        ALL_OBJECT_VERBS,
      ),
      rule(['batch'], ['jobs'], ALL_OBJECT_VERBS),
      rule(['rbac.authorization.k8s.io'], ['roles', 'rolebindings'], READ),
    ],
  },
  AmazonAIOpsAssistantPolicy: { rulesFrom: 'assumed', rules: [...VIEW_RULES, rule([''], ['nodes'], READ)] },
  AIDevOpsAgentAccessPolicy: { rulesFrom: 'assumed', rules: [...VIEW_RULES, rule([''], ['nodes'], READ)] },
  AmazonSagemakerHyperpodClusterPolicy: {
    rulesFrom: 'assumed',
    rules: [rule([''], ['nodes', 'pods', 'namespaces'], READ)],
  },
  AmazonSagemakerHyperpodControllerPolicy: {
    rulesFrom: 'assumed',
    rules: [
      rule([''], ['nodes', 'pods', 'namespaces'], READ),
      rule([''], ['nodes'], ['patch', 'update']),
      EVENT_WRITE,
    ],
  },
  AmazonSagemakerHyperpodSpacePolicy: {
    rulesFrom: 'assumed',
    rules: [rule([''], ['pods', 'services', 'persistentvolumeclaims'], READ)],
  },
  AmazonSagemakerHyperpodSpaceTemplatePolicy: {
    rulesFrom: 'assumed',
    rules: [rule([''], ['configmaps'], READ)],
  },
  AmazonSagemakerHyperpodSystemNamespacePolicy: {
    rulesFrom: 'assumed',
    rules: [rule([''], ['pods', 'services', 'configmaps', 'events'], READ)],
  },
  AmazonSagemakerHyperpodUserClusterPolicy: {
    rulesFrom: 'assumed',
    rules: [rule([''], ['nodes', 'namespaces'], READ)],
  },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Every access policy EKS offers, in the order ListAccessPolicies returns them (by name, code-point
 * order). Frozen: the Kubernetes endpoint and the EKS API share these objects.
 */
export const ACCESS_POLICIES: readonly AccessPolicyDefinition[] = deepFreeze(
  Object.entries(CATALOGUE)
    .map(([name, entry]) => ({
      name,
      arn: `${ACCESS_POLICY_ARN_PREFIX}${name}`,
      // Copied so that policies built from shared rule lists do not share one array.
      rules: entry.rules.map((r) => structuredClone(r)),
      rulesFrom: entry.rulesFrom,
      serviceLinkedOnly: entry.serviceLinkedOnly ?? false,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
);

const BY_ARN = new Map(ACCESS_POLICIES.map((p) => [p.arn, p]));

/** The access policy with this ARN, or undefined if EKS has no such policy. */
export function findAccessPolicy(arn: string): AccessPolicyDefinition | undefined {
  return BY_ARN.get(arn);
}
