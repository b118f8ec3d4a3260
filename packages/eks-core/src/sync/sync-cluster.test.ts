// Syncs the simulator's demo world through the real AWS SDK and Kubernetes clients, and checks the
// snapshot against the world's documented content (packages/eks-sim/src/world/demo.ts, "WHO
// REACHES WHAT"). Expectations are written out by hand from that table.
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialsConfig } from '../aws/credentials.js';
import type { Grant } from '../model.js';
import { syncCluster, type ClusterSync, type SyncClusterOptions } from './sync-cluster.js';

const MAIN = DEMO.accounts.main;
const LEGACY = DEMO.accounts.legacy;
const SSO = `arn:aws:iam::${MAIN}:role/aws-reserved/sso.amazonaws.com/eu-west-1`;
const ADMIN_SSO = `${SSO}/AWSReservedSSO_AdministratorAccess_3f2a9c1b7e5d4a60`;
const DEV_SSO = `${SSO}/AWSReservedSSO_Developer_8b1e6d2f0a9c3e47`;
const READONLY_SSO = `${SSO}/AWSReservedSSO_ReadOnly_c4d7e9a1b3f50628`;
const LEGACY_ADMIN_SSO = `arn:aws:iam::${LEGACY}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_9e0d1c2b3a4f5e6d`;
const AP = 'arn:aws:eks::aws:cluster-access-policy';
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 40 };

const connectorKeys = {
  kind: 'static',
  accessKeyId: DEMO.connector.accessKeyId,
  secretAccessKey: DEMO.connector.secretAccessKey,
} as const;
const mainCreds: CredentialsConfig = { base: connectorKeys, assume: [{ roleArn: DEMO.connector.roleArn }] };
const legacyCreds: CredentialsConfig = {
  base: connectorKeys,
  assume: [{ roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId }],
};

let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.faults.setRules([]);
});

function options(
  cluster: string,
  region: string,
  credentials: CredentialsConfig,
  extra: Partial<SyncClusterOptions> = {},
): SyncClusterOptions {
  return {
    cluster: { name: cluster, region },
    credentials,
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    retry: FAST_RETRY,
    ...extra,
  };
}

async function drain(
  sync: ClusterSync,
): Promise<{ grants: Grant[]; resources: string[]; entitlements: string[] }> {
  const resources: string[] = [];
  const entitlements: string[] = [];
  const grants: Grant[] = [];
  for await (const r of sync.resources()) resources.push(`${r.type}:${r.id}`);
  for await (const e of sync.entitlements()) entitlements.push(e.id);
  for await (const g of sync.grants()) grants.push(g);
  sync.finish();
  return { grants, resources, entitlements };
}

/** Grant ids to IAM principals, without the implicit system:authenticated membership. */
function iamGrantIds(grants: Grant[]): string[] {
  return grants
    .filter(
      (g) =>
        (g.principal.type === 'iam_user' || g.principal.type === 'role') &&
        g.resource.id !== 'system:authenticated',
    )
    .map((g) => g.id)
    .sort();
}

describe('syncing the demo world', () => {
  it('prod-eu (API mode): access entries count, the leftover aws-auth does not', async () => {
    const sync = await syncCluster(options('prod-eu', 'eu-west-1', mainCreds));
    const { grants, resources, entitlements } = await drain(sync);
    expect(sync.report.status).toBe('complete');
    expect(sync.report.sources['kube:awsAuth']).toEqual({
      state: 'not_applicable',
      reason: expect.stringContaining('API'),
    });
    expect(sync.report.sources['eks:accessEntries']).toEqual({ state: 'read' });

    expect(iamGrantIds(grants)).toEqual(
      [
        `access_policy:${AP}/AmazonEKSAdminViewPolicy:assigned:cluster:role:${DEMO.connector.roleArn}`,
        `access_policy:${AP}/AmazonEKSClusterAdminPolicy:assigned:cluster:role:${ADMIN_SSO}`,
        `access_policy:${AP}/AmazonEKSEditPolicy:assigned:team-a:role:${DEV_SSO}`,
        `access_policy:${AP}/AmazonEKSEditPolicy:assigned:team-b:role:${DEV_SSO}`,
        `access_policy:${AP}/AmazonEKSViewPolicy:assigned:cluster:role:${READONLY_SSO}`,
        `access_policy:${AP}/AmazonEKSViewPolicy:assigned:monitoring:iam_user:${DEMO.alice.userArn}`,
        `cluster_role:edit:team-b:member:iam_user:${DEMO.alice.userArn}`,
        `k8s_group:platform-deployers:member:role:arn:aws:iam::${MAIN}:role/PlatformDeployer`,
        `role:${DEMO.connector.roleArn}:assignment:iam_user:${DEMO.connector.userArn}`,
        `role:arn:aws:iam::${MAIN}:role/PlatformDeployer:assignment:iam_user:${DEMO.alice.userArn}`,
      ].sort(),
    );
    // BreakGlassAdmin is in aws-auth's system:masters, but API mode ignores aws-auth.
    expect(
      grants.filter((g) => g.resource.id === 'system:masters' && g.principal.type !== 'k8s_group'),
    ).toEqual([]);
    // The deployer Role is reached through the group, in both team namespaces, and by the CI service account.
    expect(
      grants
        .filter((g) => g.resource.type === 'namespace_role')
        .map((g) => g.id)
        .sort(),
    ).toEqual([
      'namespace_role:team-a/deployer:member:k8s_group:platform-deployers',
      'namespace_role:team-a/deployer:member:service_account:team-a/ci-deployer',
      'namespace_role:team-b/deployer:member:k8s_group:platform-deployers',
    ]);
    // A RoleBinding never yields a cluster-wide grant: team-a/app is bound to view in monitoring only.
    expect(grants.map((g) => g.id)).toContain(
      'cluster_role:view:monitoring:member:service_account:team-a/app',
    );
    expect(grants.map((g) => g.id)).not.toContain('cluster_role:view:all:member:service_account:team-a/app');
    // Every access policy of ListAccessPolicies, not a hard-coded five; scopes per namespace and cluster.
    expect(resources.filter((r) => r.startsWith('access_policy:')).length).toBeGreaterThan(15);
    expect(entitlements).toContain(`access_policy:${AP}/AmazonEKSHybridPolicy:assigned:cluster`);
    expect(entitlements).toContain('cluster_role:admin:team-b:member');
    expect(entitlements).toContain('namespace_role:team-a/deployer:member');
    expect(entitlements).toContain('service_account:team-a/ci-deployer:impersonate');
  });

  it('staging-us (API_AND_CONFIG_MAP): both sources count and system:masters members are visible', async () => {
    const sync = await syncCluster(options('staging-us', 'us-east-1', mainCreds));
    const { grants } = await drain(sync);
    expect(sync.report.sources['kube:awsAuth']).toEqual({ state: 'read' });
    const ids = iamGrantIds(grants);
    expect(ids.filter((id) => id.startsWith('k8s_group:system:masters:'))).toEqual([
      `k8s_group:system:masters:member:iam_user:${DEMO.alice.userArn}`,
      `k8s_group:system:masters:member:role:arn:aws:iam::${MAIN}:role/BreakGlassAdmin`,
    ]);
    expect(ids).toContain(`k8s_group:team-b-viewers:member:iam_user:${DEMO.bob.userArn}`);
    expect(ids).toContain(`access_policy:${AP}/AmazonEKSEditPolicy:assigned:team-a:role:${DEV_SSO}`);
    // The cluster-admin binding is to the group; the group's members are granted through expansion.
    const binding = grants.find(
      (g) => g.id === 'cluster_role:cluster-admin:all:member:k8s_group:system:masters',
    );
    expect(binding?.annotations).toEqual([
      { type: 'GrantExpandable', entitlementIds: ['k8s_group:system:masters:member'] },
    ]);
    // BreakGlassAdmin's aws-auth username is a {{SessionName}} template: the membership is unconditional.
    const breakGlass = grants.find(
      (g) => g.id === `k8s_group:system:masters:member:role:arn:aws:iam::${MAIN}:role/BreakGlassAdmin`,
    );
    expect(breakGlass?.sources?.[0]).toMatchObject({
      kind: 'identity-mapping',
      identity: { kind: 'aws-auth', key: 'mapRoles' },
    });
    // IAM-user grants carry the match id C1 uses to link them to its AWS connector's users.
    const aliceMasters = grants.find(
      (g) => g.id === `k8s_group:system:masters:member:iam_user:${DEMO.alice.userArn}`,
    );
    expect(aliceMasters?.annotations).toEqual([{ type: 'ExternalResourceMatchID', id: DEMO.alice.userArn }]);
  });

  it('legacy-us (CONFIG_MAP): aws-auth role ARNs get their IAM paths back; access entries do not apply', async () => {
    const sync = await syncCluster(options('legacy-us', 'us-east-1', legacyCreds));
    const { grants } = await drain(sync);
    expect(sync.report.sources['eks:accessEntries']).toEqual({
      state: 'not_applicable',
      reason: expect.stringContaining('CONFIG_MAP'),
    });
    const ids = iamGrantIds(grants);
    expect(ids.filter((id) => id.startsWith('k8s_group:system:masters:'))).toEqual([
      `k8s_group:system:masters:member:iam_user:arn:aws:iam::${LEGACY}:user/legacy-admin`,
      `k8s_group:system:masters:member:role:${LEGACY_ADMIN_SSO}`,
    ]);
    expect(ids).toContain(
      `k8s_group:legacy-deployers:member:role:arn:aws:iam::${LEGACY}:role/ci/LegacyDeployer`,
    );
    expect(ids).toContain(`k8s_group:readers:member:role:${DEMO.connector.legacyRoleArn}`);
    // The connector role is only assumable with the ExternalId: the grant says so.
    const assume = grants.find(
      (g) => g.id === `role:${DEMO.connector.legacyRoleArn}:assignment:iam_user:${DEMO.connector.userArn}`,
    );
    expect(assume?.conditions).toEqual([{ kind: 'external-id-required' }]);
    expect(ids.some((id) => id.startsWith('access_policy:'))).toBe(false);
  });

  it('legacy-us: every resource and entitlement, as the demo world defines them', async () => {
    const { resources, entitlements } = await drain(
      await syncCluster(options('legacy-us', 'us-east-1', legacyCreds)),
    );
    const byType = (type: string, list: string[]) =>
      list
        .filter((r) => r.startsWith(`${type}:`))
        .map((r) => r.slice(type.length + 1))
        .sort();
    expect(byType('namespace', resources)).toEqual(['default', 'kube-system', 'legacy-apps', 'team-a']);
    expect(byType('cluster_role', resources)).toEqual([
      'admin',
      'cluster-admin',
      'edit',
      'read-only-access',
      'view',
    ]);
    expect(byType('namespace_role', resources)).toEqual(['legacy-apps/deployer']);
    expect(byType('service_account', resources)).toEqual(['legacy-apps/ci']);
    expect(byType('k8s_group', resources)).toEqual([
      'legacy-deployers',
      'readers',
      'system:authenticated',
      'system:bootstrappers',
      'system:masters',
      'system:nodes',
    ]);
    expect(byType('role', resources)).toEqual(
      [
        DEMO.connector.legacyRoleArn,
        `arn:aws:iam::${LEGACY}:role/ci/LegacyDeployer`,
        `arn:aws:iam::${LEGACY}:role/EksNodeRole`,
        LEGACY_ADMIN_SSO,
      ].sort(),
    );
    // One cluster-wide and one per-namespace entitlement for every ClusterRole and access policy.
    expect(byType('cluster_role', entitlements).filter((e) => e.startsWith('view:'))).toEqual([
      'view:all:member',
      'view:default:member',
      'view:kube-system:member',
      'view:legacy-apps:member',
      'view:team-a:member',
    ]);
    const policies = byType('access_policy', resources).length;
    expect(byType('access_policy', entitlements)).toHaveLength(policies * 5);
    expect(byType('cluster_role', entitlements)).toHaveLength(5 * 5);
    expect(byType('namespace_role', entitlements)).toEqual(['legacy-apps/deployer:member']);
    expect(byType('service_account', entitlements)).toEqual(['legacy-apps/ci:impersonate']);
    expect(byType('role', entitlements)).toHaveLength(4);
    expect(byType('k8s_group', entitlements)).toContain('system:masters:member');
  });

  it('counts each API operation and never lists access entries per policy', async () => {
    const sync = await syncCluster(options('prod-eu', 'eu-west-1', mainCreds));
    await drain(sync);
    const calls = sync.report.apiCalls;
    expect(calls['eks:ListAccessEntries']?.calls).toBe(1);
    // prod-eu has 6 access entries: each described once and its policies listed once.
    expect(calls['eks:DescribeAccessEntry']?.calls).toBe(6);
    expect(calls['eks:ListAssociatedAccessPolicies']?.calls).toBe(6);
    expect(calls['iam:ListRoles']?.calls).toBe(1);
    expect(calls['iam:GetRole']).toBeUndefined();
    expect(calls['kube:list:rolebindings']?.calls).toBe(1);
  });
});

describe('hosting modes', () => {
  it('cloud-hosted: base → binding role with its ExternalId → tenant role with the tenant ExternalId', async () => {
    const world = sim.world;
    const binding = world.addRole({
      accountId: MAIN,
      roleName: `C1Binding${Date.now()}`,
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: DEMO.connector.userArn },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': 'binding-ext' } },
          },
        ],
      },
    });
    const tenant = world.roles.get(DEMO.connector.legacyRoleArn)!;
    tenant.assumeRolePolicyDocument.Statement.push({
      Effect: 'Allow',
      Principal: { AWS: binding.arn },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': DEMO.connector.externalId } },
    });
    try {
      const sync = await syncCluster(
        options('legacy-us', 'us-east-1', {
          base: connectorKeys,
          assume: [
            { roleArn: binding.arn, externalId: 'binding-ext' },
            { roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId },
          ],
        }),
      );
      await drain(sync);
      expect(sync.report.status).toBe('complete');
      expect(sync.report.apiCalls['sts:AssumeRole']?.calls).toBe(2);
    } finally {
      sim.reset();
    }
  });

  it('default credential chain: keys from the environment, then the connector role', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = DEMO.connector.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = DEMO.connector.secretAccessKey;
    try {
      const sync = await syncCluster(
        options('prod-eu', 'eu-west-1', {
          base: { kind: 'default-chain' },
          assume: [{ roleArn: DEMO.connector.roleArn }],
        }),
      );
      await drain(sync);
      expect(sync.report.status).toBe('complete');
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});

describe('bad configuration ends with one clear error', () => {
  it('a role that needs an ExternalId, assumed without one', async () => {
    await expect(
      syncCluster(
        options('legacy-us', 'us-east-1', {
          base: connectorKeys,
          assume: [{ roleArn: DEMO.connector.legacyRoleArn }],
        }),
      ),
    ).rejects.toMatchObject({
      code: 'ASSUME_ROLE_DENIED',
      message: expect.stringMatching(
        /cannot be assumed.*requires an ExternalId and none was given \(set BATON_EXTERNAL_ID\)/,
      ),
    });
  });

  it('an unknown cluster, or the right cluster in the wrong region', async () => {
    await expect(syncCluster(options('nope', 'eu-west-1', mainCreds))).rejects.toMatchObject({
      code: 'CLUSTER_NOT_FOUND',
      message: expect.stringContaining('BATON_EKS_REGION'),
    });
    await expect(syncCluster(options('prod-eu', 'us-east-1', mainCreds))).rejects.toMatchObject({
      code: 'CLUSTER_NOT_FOUND',
    });
  });

  it('a wrong secret key', async () => {
    await expect(
      syncCluster(
        options('prod-eu', 'eu-west-1', {
          base: { ...connectorKeys, secretAccessKey: 'wrong' },
          assume: [{ roleArn: DEMO.connector.roleArn }],
        }),
      ),
    ).rejects.toMatchObject({ code: 'AWS_CREDENTIALS_INVALID' });
  });

  it('a malformed role ARN and region are refused before any call', async () => {
    await expect(
      syncCluster(
        options('prod-eu', 'europe', { base: connectorKeys, assume: [{ roleArn: 'EksAccessConnector' }] }),
      ),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/not an IAM role ARN.*not an AWS region/),
    });
  });
});

describe('faults', () => {
  it('a source that fails is reported as failed, not as "no access"', async () => {
    sim.faults.setRules([{ target: 'kube:get:configmaps', errorRate: 1, errorStatus: 500 }]);
    const sync = await syncCluster(options('staging-us', 'us-east-1', mainCreds));
    const { grants } = await drain(sync);
    expect(sync.report.status).toBe('partial');
    expect(sync.report.sources['kube:awsAuth']).toMatchObject({ state: 'failed', code: 'KUBE_UNAVAILABLE' });
    // What the other sources give is still there.
    expect(iamGrantIds(grants)).toContain(
      `access_policy:${AP}/AmazonEKSEditPolicy:assigned:team-a:role:${DEV_SSO}`,
    );
  });

  it('absorbs throttling and 5xx storms and ends with the same snapshot', async () => {
    const clean = iamGrantIds(
      (await drain(await syncCluster(options('prod-eu', 'eu-west-1', mainCreds)))).grants,
    );
    sim.faults.setRules([
      { target: 'eks:*', throttleRate: 0.3 },
      { target: 'iam:*', errorRate: 0.3, errorStatus: 503 },
      { target: 'kube:*', throttleRate: 0.3, retryAfterSeconds: 0 },
      { target: 'kube:list:*', errorRate: 0.2, errorStatus: 502 },
    ]);
    const sync = await syncCluster(
      options('prod-eu', 'eu-west-1', mainCreds, {
        retry: { maxAttempts: 12, baseDelayMs: 5, maxDelayMs: 40 },
      }),
    );
    const stormy = iamGrantIds((await drain(sync)).grants);
    expect(sync.report.status).toBe('complete');
    expect(stormy).toEqual(clean);
    const throttled = Object.values(sync.report.apiCalls).reduce((n, s) => n + s.throttled, 0);
    expect(throttled).toBeGreaterThan(0);
  });

  it('a cancelled sync rejects instead of reporting its sources as failed', async () => {
    sim.faults.setRules([{ target: 'eks:DescribeAccessEntry', latencyMs: 300 }]);
    const controller = new AbortController();
    const pending = syncCluster(options('prod-eu', 'eu-west-1', mainCreds, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('worker shutting down')), 150);
    await expect(pending).rejects.toThrow('worker shutting down');
  });

  it('restarts a list whose continue token expired', async () => {
    // The first request opens the list; the second (with a continue token) gets 410 Gone.
    sim.faults.setRules([{ target: 'kube:list:namespaces', expireContinue: true, count: 2 }]);
    const sync = await syncCluster(options('prod-eu', 'eu-west-1', mainCreds, { kubePageSize: 2 }));
    const { resources } = await drain(sync);
    expect(sync.report.sources['kube:namespaces']).toEqual({ state: 'read' });
    expect(resources.filter((r) => r.startsWith('namespace:')).sort()).toEqual(
      ['default', 'kube-system', 'monitoring', 'team-a', 'team-b'].map((n) => `namespace:${n}`),
    );
    expect(sync.report.apiCalls['kube:list:namespaces']?.failed).toBe(1);
  });
});
