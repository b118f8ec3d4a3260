// setupCluster with provisioning, against the simulator's doctor world: the narrow grants it makes
// are enough for the connector to provision (grant and revoke an access policy and a cluster role
// through the connector's own session), and nothing more: it still cannot write what it was not
// given. And the plan it prints is exactly what it then applies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDoctorWorld, DEMO, DOCTOR, startSim, type RunningSim } from '@eks-access/eks-sim';
import type { CredentialsConfig } from '../aws/credentials.js';
import { runDoctor } from '../doctor/run-doctor.js';
import { grantAccess } from '../provision/grant-access.js';
import { revokeAccess } from '../provision/revoke-access.js';
import { ClusterSession } from '../session.js';
import { setupCluster, type SetupStep } from './setup-cluster.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ world: createDoctorWorld });
});
afterAll(async () => {
  await sim.close();
});

const endpoints = () => ({ sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint });
const admin: CredentialsConfig = {
  base: {
    kind: 'static',
    accessKeyId: DOCTOR.admin.accessKeyId,
    secretAccessKey: DOCTOR.admin.secretAccessKey,
  },
  assume: [],
};
const connector: CredentialsConfig = {
  base: {
    kind: 'static',
    accessKeyId: DEMO.connector.accessKeyId,
    secretAccessKey: DEMO.connector.secretAccessKey,
  },
  assume: [{ roleArn: DOCTOR.connectorRoleArn, externalId: DOCTOR.externalId }],
};
const cluster = (name: string) => ({ name, region: 'eu-west-1' });

function setup(name: string, apply: boolean, onStep?: (s: SetupStep, phase: 'before' | 'after') => void) {
  return setupCluster({
    cluster: cluster(name),
    principalArn: DOCTOR.connectorRoleArn,
    admin,
    connector,
    endpoints: endpoints(),
    provisioning: true,
    apply,
    ...(onStep ? { onStep } : {}),
  });
}

async function asConnector<T>(name: string, fn: (s: ClusterSession) => Promise<T>): Promise<T> {
  const session = new ClusterSession({
    cluster: cluster(name),
    credentials: connector,
    endpoints: endpoints(),
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

const dev = { type: 'iam_user' as const, arn: DOCTOR.devUserArn };

describe('setupCluster and aws-auth', () => {
  it('redoes its aws-auth edit on a fresh read when someone else wrote it in between, keeping their change', async () => {
    const local = await startSim({ world: createDoctorWorld });
    try {
      const eu = local.findCluster('broken-eu', 'eu-west-1')!;
      let raced = false;
      const result = await setupCluster({
        cluster: cluster('broken-eu'),
        principalArn: DOCTOR.connectorRoleArn,
        admin,
        endpoints: { sts: local.awsEndpoint, iam: local.awsEndpoint, eks: local.awsEndpoint },
        apply: true,
        onStep: (step, phase) => {
          if (phase !== 'before' || step.action !== 'update:configmaps' || raced) return;
          raced = true;
          // Another writer (eksctl, GitOps) changes aws-auth after setup read it.
          const current = eu.kube.get('configmaps', 'kube-system', 'aws-auth')!;
          const data = (current as unknown as { data: Record<string, string> }).data;
          eu.kube.update('configmaps', {
            ...current,
            metadata: { ...current.metadata },
            data: {
              ...data,
              mapUsers: `${data.mapUsers ?? ''}- userarn: ${DOCTOR.devUserArn}\n  username: dev\n  groups:\n    - devs\n`,
            },
          });
        },
      });
      expect(raced).toBe(true);
      expect(result.steps.filter((s) => s.action === 'update:configmaps').map((s) => s.status)).toEqual([
        'applied',
      ]);
      expect(result.steps.find((s) => s.action === 'update:configmaps')?.detail).toContain(
        'redone on a fresh read after 1 conflicting write',
      );
      const data = (
        eu.kube.get('configmaps', 'kube-system', 'aws-auth') as unknown as { data: Record<string, string> }
      ).data;
      expect(data.mapUsers).toContain('username: dev');
      expect(data.mapUsers).toContain('sandbox-admin');
      expect(data.mapRoles).toContain('eks-access-connector-readers');
    } finally {
      await local.close();
    }
  });
});

describe('setupCluster on clusters that already work', () => {
  it.each([
    ['prod-eu', 'eu-west-1', DEMO.connector.roleArn, undefined, DEMO.alice],
    ['legacy-us', 'us-east-1', DEMO.connector.legacyRoleArn, DEMO.connector.externalId, DEMO.legacyAdmin],
  ])(
    'plans nothing for %s, where the connector already has what it needs',
    async (name, region, roleArn, externalId, who) => {
      const result = await setupCluster({
        cluster: { name, region },
        principalArn: roleArn,
        admin: {
          base: { kind: 'static', accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
          assume: [],
        },
        connector: {
          base: {
            kind: 'static',
            accessKeyId: DEMO.connector.accessKeyId,
            secretAccessKey: DEMO.connector.secretAccessKey,
          },
          assume: [{ roleArn, ...(externalId ? { externalId } : {}) }],
        },
        endpoints: endpoints(),
        apply: false,
      });
      expect(result.doctorBefore?.status).toBe('pass');
      expect(result.steps.filter((s) => s.status !== 'unchanged')).toEqual([]);
    },
  );
});

describe('setupCluster with provisioning', () => {
  it.each(['broken-eu', 'broken-api'])(
    'plans for %s exactly the writes it then makes, announcing each first',
    async (name) => {
      const plan = await setup(name, false);
      const planned = plan.steps.filter((s) => s.status === 'planned').map((s) => `${s.action} ${s.target}`);
      expect(planned.length).toBeGreaterThan(0);
      const announced: string[] = [];
      const applied = await setup(name, true, (s, phase) => {
        if (phase === 'before') announced.push(`${s.action} ${s.target}`);
      });
      expect(
        applied.steps.filter((s) => s.status === 'applied').map((s) => `${s.action} ${s.target}`),
      ).toEqual(planned);
      expect(announced).toEqual(planned);
      expect(planned.join('\n')).not.toContain('system:masters');
      const again = await setup(name, true);
      expect(again.steps.filter((s) => s.status !== 'unchanged')).toEqual([]);
    },
  );

  it.each(['broken-eu', 'broken-api'])(
    'leaves %s all green for the doctor, provisioning writes included',
    async (name) => {
      const report = await runDoctor({
        cluster: cluster(name),
        credentials: connector,
        endpoints: endpoints(),
        provisioning: true,
      });
      expect(report.checks.filter((c) => c.status === 'fail' || c.status === 'warn')).toEqual([]);
      expect(report.status).toBe('pass');
    },
  );

  it('gives the connector enough to grant and revoke a cluster role through aws-auth (CONFIG_MAP)', async () => {
    const change = { entitlementId: 'cluster_role:view:apps:member', principal: dev };
    const granted = await asConnector('broken-eu', (s) => grantAccess(s, change));
    expect(granted.result).toBe('granted');
    const revoked = await asConnector('broken-eu', (s) => revokeAccess(s, change));
    expect(revoked.result).toBe('revoked');
  });

  it('gives the connector enough to grant and revoke access policies and cluster roles (API)', async () => {
    const policy = {
      entitlementId: 'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned:apps',
      principal: dev,
    };
    expect((await asConnector('broken-api', (s) => grantAccess(s, policy))).result).toBe('granted');
    const role = { entitlementId: 'cluster_role:view:apps:member', principal: dev };
    expect((await asConnector('broken-api', (s) => grantAccess(s, role))).result).toBe('granted');
    expect((await asConnector('broken-api', (s) => revokeAccess(s, role))).result).toBe('revoked');
    expect((await asConnector('broken-api', (s) => revokeAccess(s, policy))).result).toBe('revoked');
  });

  it('still refuses the connector what provisioning does not need', async () => {
    await asConnector('broken-eu', async (s) => {
      const kube = await s.kube();
      await expect(
        kube.call('kube:create:configmaps', 'apps/x', () =>
          kube.core.createNamespacedConfigMap({ namespace: 'apps', body: { metadata: { name: 'x' } } }),
        ),
      ).rejects.toMatchObject({ code: 'KUBE_FORBIDDEN' });
      await expect(
        kube.call('kube:delete:namespaces', 'apps', () => kube.core.deleteNamespace({ name: 'apps' })),
      ).rejects.toMatchObject({ code: 'KUBE_FORBIDDEN' });
      await expect(
        kube.call('kube:update:configmaps', 'kube-system/other', () =>
          kube.core
            .createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'other' } } })
            .then(() =>
              kube.core.replaceNamespacedConfigMap({
                namespace: 'kube-system',
                name: 'other',
                body: { metadata: { name: 'other' }, data: { a: 'b' } },
              }),
            ),
        ),
      ).rejects.toMatchObject({ code: 'KUBE_FORBIDDEN' });
    });
  });
});
