// runDoctor against the simulator: a connector with more than it needs is warned about (the C1
// guide's cluster-admin for provisioning), and a refused DescribeCluster fails with its statement
// while everything that depends on the cluster is skipped rather than reported as broken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowConnectorProvisioning,
  CONNECTOR_SYNC_POLICY,
  createDemoWorld,
  DEMO,
  startSim,
  type RunningSim,
} from '@eks-access/eks-sim';
import type { CredentialsConfig } from '../aws/credentials.js';
import { runDoctor } from './run-doctor.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ world: () => allowConnectorProvisioning(createDemoWorld()) });
});
afterAll(async () => {
  await sim.close();
});

const keys = {
  kind: 'static' as const,
  accessKeyId: DEMO.connector.accessKeyId,
  secretAccessKey: DEMO.connector.secretAccessKey,
};
const endpoints = () => ({ sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint });
const prodEu: CredentialsConfig = { base: keys, assume: [{ roleArn: DEMO.connector.roleArn }] };
const legacy: CredentialsConfig = {
  base: keys,
  assume: [{ roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId }],
};

describe('runDoctor', () => {
  it('warns when the connector holds a cluster-admin access policy, with the disassociate command', async () => {
    const report = await runDoctor({
      cluster: { name: 'prod-eu', region: 'eu-west-1' },
      credentials: prodEu,
      endpoints: endpoints(),
      provisioning: true,
    });
    const check = report.checks.find((c) => c.id === 'kube:least-privilege');
    expect(check?.status).toBe('warn');
    expect(check?.detail).toContain('AmazonEKSClusterAdminPolicy');
    expect(check?.fix?.text).toContain(
      'aws eks disassociate-access-policy --cluster-name prod-eu --region eu-west-1 --principal-arn arn:aws:iam::111111111111:role/EksAccessConnector --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
    );
    expect(report.status).toBe('warn');
  });

  it('warns when RBAC makes the connector a cluster administrator, naming the binding', async () => {
    const report = await runDoctor({
      cluster: { name: 'legacy-us', region: 'us-east-1' },
      credentials: legacy,
      endpoints: endpoints(),
    });
    const check = report.checks.find((c) => c.id === 'kube:least-privilege');
    expect(check?.status).toBe('warn');
    expect(check?.detail).toContain('ClusterRoleBinding "eks-access-connector-provisioner"');
  });

  it('fails a refused DescribeCluster with its statement and skips what depends on the cluster', async () => {
    const role = sim.world.roles.get(DEMO.connector.roleArn)!;
    const saved = role.policies!.inline.get(CONNECTOR_SYNC_POLICY)!;
    role.policies!.inline.set(CONNECTOR_SYNC_POLICY, {
      ...saved,
      Statement: [...saved.Statement, { Effect: 'Deny', Action: 'eks:DescribeCluster', Resource: '*' }],
    });
    try {
      const report = await runDoctor({
        cluster: { name: 'staging-us', region: 'us-east-1' },
        credentials: prodEu,
        endpoints: endpoints(),
      });
      const describe = report.checks.find((c) => c.id === 'aws:eks:DescribeCluster');
      expect(describe?.status).toBe('fail');
      expect(describe?.detail).toContain('with an explicit deny in an identity-based policy');
      expect(describe?.fix?.text).toContain('"arn:aws:eks:us-east-1:111111111111:cluster/staging-us"');
      expect(report.checks.find((c) => c.id === 'kube:identity')?.status).toBe('skip');
      expect(report.checks.find((c) => c.id === 'aws:iam:ListRoles')?.status).toBe('pass');
      expect(report.status).toBe('fail');
    } finally {
      role.policies!.inline.set(CONNECTOR_SYNC_POLICY, saved);
    }
  });
});
