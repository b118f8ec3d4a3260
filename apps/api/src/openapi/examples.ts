// Examples shown in the document (and in Swagger UI) for every request and answer: one coherent
// story (the `prod-eu` cluster in account 111122223333, its syncs, a grant of `view` to alice), so
// the examples read as real traffic. The contract test validates each against its schema.

const CLUSTER_ID = '3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17';
const RUN_ID = '9b2d4e6f-1a3c-4e5f-8a7b-6c5d4e3f2a1b';
const PREVIOUS_RUN_ID = '5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716';
const REQUEST_ID = 'c7d8e9f0-a1b2-4c3d-8e4f-5a6b7c8d9e0f';
const KEY_ID = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const DEPLOYER = 'arn:aws:iam::111122223333:role/Deployer';
export const EXAMPLE_IDS = {
  cluster: CLUSTER_ID,
  syncRun: RUN_ID,
  provisioningRequest: REQUEST_ID,
  apiKey: KEY_ID,
  principal: ALICE,
};

export const clusterRegistration = {
  name: 'prod-eu',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::111122223333:role/C1EksConnector',
  externalId: 'c1-tenant-7f3a',
  schedule: { everyMs: 3_600_000 },
  provisioningEnabled: true,
  provisioningPolicy: { deny: ['cluster_role:*:kube-system:member'] },
  labels: { env: 'prod', team: 'platform' },
};

export const bulkRegistration = {
  summary: { created: 1, updated: 0, unchanged: 1, invalid: 1 },
  items: [
    {
      index: 0,
      status: 'unchanged',
      name: 'prod-eu',
      region: 'eu-west-1',
      accountId: '111122223333',
      id: CLUSTER_ID,
    },
    {
      index: 1,
      status: 'created',
      name: 'staging-eu',
      region: 'eu-west-1',
      accountId: '111122223333',
      id: '5b1d7e20-8c4f-4a6b-b3d2-9e0f1a2b3c4d',
    },
    {
      index: 2,
      status: 'invalid',
      name: 'bad name!',
      region: 'eu-west-1',
      problems: [{ path: '/name', message: 'must be a valid EKS cluster name' }],
    },
  ],
};

export const clusterPatch = {
  enabled: false,
  schedule: { cron: '0 */6 * * *' },
  labels: { env: 'prod', team: 'platform', tier: '1' },
};

export const cluster = {
  id: CLUSTER_ID,
  name: 'prod-eu',
  region: 'eu-west-1',
  accountId: '111122223333',
  arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu',
  roleArn: 'arn:aws:iam::111122223333:role/C1EksConnector',
  hostingMode: 'default-chain',
  c1ClientId: null,
  schedule: { every_ms: 3_600_000 },
  provisioningEnabled: true,
  provisioningPolicy: { deny: ['cluster_role:*:kube-system:member'] },
  labels: { env: 'prod', team: 'platform' },
  enabled: true,
  snapshotRetention: null,
  currentSyncRunId: RUN_ID,
  createdAt: '2026-05-04T09:30:00.000Z',
  updatedAt: '2026-05-04T09:30:00.000Z',
  hasExternalId: true,
  hasCredentials: false,
  hasC1ClientSecret: false,
};

const DOCTOR_RUN_ID = '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d';
export const doctorRequest = { provisioning: false };
export const doctorRun = {
  id: DOCTOR_RUN_ID,
  clusterId: CLUSTER_ID,
  status: 'succeeded',
  provisioning: false,
  result: 'fail',
  requestedAt: '2026-05-04T09:40:00.000Z',
  startedAt: '2026-05-04T09:40:01.000Z',
  finishedAt: '2026-05-04T09:40:02.000Z',
  error: null,
  report: {
    cluster: {
      name: 'prod-eu',
      region: 'eu-west-1',
      arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu',
      accountId: '111122223333',
      authenticationMode: 'API',
    },
    identity: {
      arn: 'arn:aws:sts::111122223333:assumed-role/C1EksConnector/eks-access-doctor',
      accountId: '111122223333',
      principalArn: 'arn:aws:iam::111122223333:role/C1EksConnector',
    },
    provisioning: false,
    status: 'fail',
    checks: [
      {
        id: 'aws:iam:ListRoles',
        group: 'aws',
        title: 'iam:ListRoles (IAM roles and who may assume them)',
        status: 'fail',
        detail:
          'AccessDenied: User: arn:aws:sts::111122223333:assumed-role/C1EksConnector/eks-access-doctor is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::111122223333:role/ because no identity-based policy allows the iam:ListRoles action',
        fix: {
          kind: 'iam-policy',
          summary:
            'allow iam:ListRoles in the identity policy of arn:aws:iam::111122223333:role/C1EksConnector',
          text: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles"],"Resource":"*"}]}',
        },
      },
    ],
    fixes: [
      {
        kind: 'iam-policy',
        summary:
          'allow iam:ListRoles in the identity policy of arn:aws:iam::111122223333:role/C1EksConnector',
        text: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles"],"Resource":"*"}]}',
      },
    ],
    checkedAt: '2026-05-04T09:40:01.000Z',
    durationMs: 840,
  },
};
export const queuedDoctorRun = {
  ...doctorRun,
  status: 'queued',
  result: null,
  startedAt: null,
  finishedAt: null,
  report: null,
  created: true,
};
export const clusterWithDoctor = { ...cluster, doctor: doctorRun };

export const newCluster = { ...cluster, arn: null, currentSyncRunId: null };
export const clusterPage = {
  items: [cluster],
  nextCursor: 'eyJjIjoiMjAyNi0wNS0wNFQwOTozMDowMC4wMDBaIiwiaSI6IjNmMGM5YTUyIn0',
};

export const syncRun = {
  id: RUN_ID,
  clusterId: CLUSTER_ID,
  trigger: 'schedule',
  status: 'succeeded',
  attempt: 1,
  worker: 'sync-worker-6f9c7d-2xk4p',
  progress: null,
  counts: {
    resources: { role: 42, cluster_role: 68, namespace: 9, iam_user: 12 },
    entitlements: { role: 42, cluster_role: 620 },
    grants: { role: 57, cluster_role: 143 },
    totals: { resources: 131, entitlements: 662, grants: 200 },
    written: { resources: 0, entitlements: 0, grants: 3 },
  },
  apiCalls: { 'eks.ListAccessEntries': { calls: 1, retries: 0, throttled: 0, failed: 0, totalMs: 84 } },
  sources: {
    accessEntries: { status: 'read' },
    awsAuth: { status: 'not-applicable', reason: 'authenticationMode API' },
  },
  sourceDurationsMs: { accessEntries: 310, rbac: 95, iam: 420 },
  warnings: [],
  error: null,
  totalApiCalls: 37,
  queuedAt: '2026-05-04T10:30:00.000Z',
  startedAt: '2026-05-04T10:30:00.412Z',
  finishedAt: '2026-05-04T10:30:02.973Z',
  contentHash: '5d41402abc4b2a76b9719d911017c592aa2c9a1b0e6b7f9d8c3e2a1f0b9c8d7e',
};

export const queuedSyncRun = {
  ...syncRun,
  trigger: 'api',
  status: 'queued',
  attempt: 0,
  worker: null,
  counts: null,
  apiCalls: null,
  sources: null,
  sourceDurationsMs: null,
  warnings: null,
  totalApiCalls: null,
  startedAt: null,
  finishedAt: null,
  contentHash: null,
  created: true,
};

export const bulkSync = { items: [{ ...queuedSyncRun, trigger: 'bulk' }] };
export const syncRunPage = { items: [syncRun] };

export const grant = {
  id: `cluster_role:view:all:member:iam_user:${ALICE}`,
  entitlementId: 'cluster_role:view:all:member',
  resource: { type: 'cluster_role', id: 'view' },
  principal: { type: 'iam_user', id: ALICE },
  annotations: [{ type: 'ExternalResourceMatchID', id: ALICE }],
  sources: [
    {
      kind: 'rbac-binding',
      binding: { kind: 'ClusterRoleBinding', name: 'eks-access-view-alice' },
      subject: { kind: 'User', name: 'alice' },
      identity: { kind: 'access-entry', principalArn: ALICE },
    },
  ],
};

const roleGrant = {
  id: `role:${DEPLOYER}:assignment:iam_user:${ALICE}`,
  entitlementId: `role:${DEPLOYER}:assignment`,
  resource: { type: 'role', id: DEPLOYER },
  principal: { type: 'iam_user', id: ALICE },
  annotations: [{ type: 'ExternalResourceMatchID', id: ALICE }, { type: 'GrantImmutable' }],
  sources: [{ kind: 'trust-policy', roleArn: DEPLOYER, statementIndex: 0 }],
};

export const resourcePage = {
  syncRunId: RUN_ID,
  items: [
    { type: 'cluster_role', id: 'view', displayName: 'view', profile: { aggregated: true }, annotations: [] },
    {
      type: 'namespace',
      id: 'payments',
      displayName: 'payments',
      profile: { labels: { team: 'payments' } },
      annotations: [{ type: 'ChildResourceType', resourceTypeId: 'service_account' }],
    },
  ],
  nextCursor: 'eyJyIjoiOWIyZDRlNmYiLCJrIjpbIm5hbWVzcGFjZSIsInBheW1lbnRzIl19',
};

export const entitlementPage = {
  syncRunId: RUN_ID,
  items: [
    {
      id: 'cluster_role:view:all:member',
      resource: { type: 'cluster_role', id: 'view' },
      slug: 'all:member',
      displayName: 'view (all namespaces)',
      description: 'Bound to the view ClusterRole in every namespace',
      purpose: 'assignment',
      grantableTo: ['iam_user', 'role', 'k8s_group'],
    },
  ],
};

export const grantPage = { syncRunId: RUN_ID, items: [grant] };

export const principalAccess = {
  principalArn: ALICE,
  items: [
    {
      cluster: { id: CLUSTER_ID, name: 'prod-eu', region: 'eu-west-1', accountId: '111122223333' },
      syncRunId: RUN_ID,
      grant,
      via: [],
    },
    {
      cluster: { id: CLUSTER_ID, name: 'prod-eu', region: 'eu-west-1', accountId: '111122223333' },
      syncRunId: RUN_ID,
      grant: {
        id: `cluster_role:edit:payments:member:role:${DEPLOYER}`,
        entitlementId: 'cluster_role:edit:payments:member',
        resource: { type: 'cluster_role', id: 'edit' },
        principal: { type: 'role', id: DEPLOYER },
        annotations: [{ type: 'GrantExpandable', entitlementIds: [`role:${DEPLOYER}:assignment`] }],
      },
      via: [roleGrant.id],
    },
  ],
};

export const snapshotDiff = { fromRunId: PREVIOUS_RUN_ID, toRunId: RUN_ID, added: [grant], removed: [] };

export const provisioningRequestBody = {
  clusterId: CLUSTER_ID,
  action: 'grant',
  entitlementId: 'cluster_role:view:all:member',
  principal: { type: 'iam_user', arn: ALICE },
  expiresAt: '2026-05-05T18:00:00Z',
  reason: 'INC-4521: read-only access for the payments incident',
};

const provisioningRequest = {
  id: REQUEST_ID,
  clusterId: CLUSTER_ID,
  action: 'grant',
  entitlementId: 'cluster_role:view:all:member',
  principalType: 'iam_user',
  principalArn: ALICE,
  reason: 'INC-4521: read-only access for the payments incident',
  expiresAt: '2026-05-05T18:00:00.000Z',
  durationMs: null,
  dryRun: false,
  idempotencyKey: 'inc-4521-alice-view',
  requestedBy: `api-key:${KEY_ID}`,
  status: 'pending',
  result: null,
  plan: null,
  error: null,
  attempt: 0,
  worker: null,
  parentRequestId: null,
  createdAt: '2026-05-04T11:02:10.118Z',
  startedAt: null,
  finishedAt: null,
};

export const acceptedProvisioningRequest = { ...provisioningRequest, created: true };

const succeededRequest = {
  ...provisioningRequest,
  status: 'succeeded',
  result: 'granted',
  attempt: 1,
  worker: 'provisioner-7d8f9c-q2w3e',
  plan: [{ call: 'CreateClusterRoleBinding', name: 'eks-access-view-alice', applied: true }],
  startedAt: '2026-05-04T11:02:10.402Z',
  finishedAt: '2026-05-04T11:02:11.020Z',
};

export const provisioningRequestWithAudit = {
  ...succeededRequest,
  audit: [
    {
      id: 1843,
      at: '2026-05-04T11:02:11.020Z',
      actor: 'worker:provisioner-7d8f9c-q2w3e',
      action: 'access.grant',
      clusterId: CLUSTER_ID,
      target: REQUEST_ID,
      before: null,
      after: { binding: 'eks-access-view-alice' },
      requestId: null,
      details: null,
    },
    {
      id: 1841,
      at: '2026-05-04T11:02:10.118Z',
      actor: `api-key:${KEY_ID}`,
      action: 'access.grant.request',
      clusterId: CLUSTER_ID,
      target: REQUEST_ID,
      before: null,
      after: {
        entitlementId: 'cluster_role:view:all:member',
        principalArn: ALICE,
        expiresAt: '2026-05-05T18:00:00.000Z',
        durationMs: null,
        dryRun: false,
        reason: 'INC-4521: read-only access for the payments incident',
      },
      requestId: 'b7e0f1d2-4c5a-4e8b-9f3a-0d1c2b3a4f5e',
      details: null,
    },
  ],
};

export const provisioningRequestPage = { items: [succeededRequest] };

const deadUpload = {
  id: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
  clusterId: CLUSTER_ID,
  syncRunId: RUN_ID,
  c1TaskId: '2xKq9ZbW1mN4pR7sT0vY',
  status: 'dead',
  attempt: 5,
  maxAttempts: 5,
  nextAttemptAt: null,
  lastError: {
    code: 'UNAVAILABLE',
    message: 'C1 answered UNAVAILABLE: upload service overloaded',
    retryable: true,
  },
  worker: null,
  bytes: null,
  sha256: null,
  createdAt: '2026-05-04T10:30:03.100Z',
  startedAt: '2026-05-04T10:41:12.530Z',
  finishedAt: '2026-05-04T10:41:15.002Z',
  c1zOptions: null,
};

export const uploadPage = { items: [deadUpload] };
export const retriedUpload = {
  ...deadUpload,
  status: 'pending',
  attempt: 5,
  maxAttempts: 10,
  lastError: deadUpload.lastError,
  finishedAt: null,
};

export const newApiKey = { name: 'ci-deployer', scopes: ['read', 'sync'], expiresAt: '2027-01-01T00:00:00Z' };
export const apiKeyRotation = { expiresAt: '2027-06-01T00:00:00Z' };

const apiKey = {
  id: KEY_ID,
  name: 'ci-deployer',
  prefix: 'eak_3kQ9xZ2m',
  scopes: ['read', 'sync'],
  createdAt: '2026-05-04T08:00:00.000Z',
  lastUsedAt: '2026-05-04T10:58:31.207Z',
  expiresAt: '2027-01-01T00:00:00.000Z',
  revokedAt: null,
  rotatedFrom: null,
};

export const apiKeyList = {
  items: [
    apiKey,
    {
      ...apiKey,
      id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
      name: 'grafana',
      prefix: 'eak_Lp0sW8vA',
      scopes: ['read'],
      lastUsedAt: null,
      expiresAt: null,
    },
  ],
};
export const apiKeyWithSecret = {
  ...apiKey,
  lastUsedAt: null,
  key: 'eak_3kQ9xZ2m_Xw7Tq4Rb1Ns8Lk2Vc6Hd0Jf5Gp3Ym9Ze',
};
export const rotatedApiKey = {
  ...apiKeyWithSecret,
  id: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
  prefix: 'eak_Rt5Yb2Nc',
  expiresAt: '2027-06-01T00:00:00.000Z',
  rotatedFrom: KEY_ID,
  key: 'eak_Rt5Yb2Nc_Gh8Kj3Lm6Pq1Rs4Tu7Vw0Xy2Za5Bc',
};

export const health = { status: 'ok' };
export const readiness = { status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true } } };
export const notReady = {
  status: 'not ready',
  checks: { postgres: { ok: true }, redis: { ok: false, error: 'no answer within 2000 ms' } },
};
export const metrics =
  '# HELP eks_access_http_requests_total HTTP requests by method, route and status\n# TYPE eks_access_http_requests_total counter\neks_access_http_requests_total{method="GET",route="/v1/clusters",status="200"} 42\n';

export const changeEventPage = {
  items: [
    {
      id: '1042',
      clusterId: CLUSTER_ID,
      syncRunId: RUN_ID,
      kind: 'grant',
      source: 'watch',
      drift: false,
      principal: { type: 'iam_role', id: ALICE },
      resource: { type: 'cluster_role', id: 'cluster-admin' },
      entitlementId: 'cluster_role:cluster-admin:all:member',
      grantId: `cluster_role:cluster-admin:all:member:iam_role:${ALICE}`,
      finding: null,
      detail: {
        grant: {
          id: `cluster_role:cluster-admin:all:member:iam_role:${ALICE}`,
          entitlementId: 'cluster_role:cluster-admin:all:member',
          resource: { type: 'cluster_role', id: 'cluster-admin' },
          principal: { type: 'iam_role', id: ALICE },
          annotations: [],
        },
      },
      occurredAt: '2026-05-04T09:30:00.000Z',
    },
  ],
  cursor: '1042',
  hasMore: false,
};

export const eventStream = `retry: 2000\n\nid: 1042\nevent: grant\ndata: {"id":"1042","kind":"grant",…}\n\n`;
