// What the provisioner does must show up in the next sync as exactly the grant C1 asked for:
// a binding to our per-principal group is a direct grant to that principal, not a group grant.
import { DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCluster } from '../sync/sync-cluster.js';
import { grantAccess } from './grant-access.js';
import { revokeAccess } from './revoke-access.js';
import {
  CLUSTERS,
  createProvisioningWorld,
  T,
  withSession,
  type ClusterName,
} from './provision.test-support.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ world: createProvisioningWorld });
});
afterAll(async () => {
  await sim.close();
});

async function grantIds(cluster: ClusterName): Promise<string[]> {
  const legacy = cluster === 'legacy-us';
  const sync = await syncCluster({
    cluster: { name: cluster, region: CLUSTERS[cluster].region },
    credentials: {
      base: {
        kind: 'static',
        accessKeyId: DEMO.connector.accessKeyId,
        secretAccessKey: DEMO.connector.secretAccessKey,
      },
      assume: [
        legacy
          ? { roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId }
          : { roleArn: DEMO.connector.roleArn },
      ],
    },
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
  });
  const ids: string[] = [];
  for await (const _ of sync.resources());
  for await (const _ of sync.entitlements());
  for await (const g of sync.grants()) ids.push(g.id);
  return ids;
}

describe('a provisioned grant in the next sync', () => {
  for (const [cluster, entitlementId, principal] of [
    ['prod-eu', 'cluster_role:view:team-a:member', { type: 'iam_user', arn: T.carol.arn }],
    ['legacy-us', 'namespace_role:legacy-apps/deployer:member', { type: 'role', arn: T.legacyTester }],
  ] as const) {
    it(`${cluster}: ${entitlementId} appears as its own grant id, and disappears after revoke`, async () => {
      const change = { entitlementId, principal: { type: principal.type, arn: principal.arn } };
      await withSession(sim, cluster, (s) => grantAccess(s, change));
      const grantId = `${entitlementId}:${principal.type}:${principal.arn}`;
      const after = await grantIds(cluster);
      expect(after).toContain(grantId);
      expect(after.some((id) => id.includes(':k8s_group:eks-access:'))).toBe(false);
      await withSession(sim, cluster, (s) => revokeAccess(s, change));
      expect(await grantIds(cluster)).not.toContain(grantId);
    });
  }
});
