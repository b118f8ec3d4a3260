// CONFIG_MAP provisioning through kube-system/aws-auth on legacy-us: creating missing keys,
// keeping everyone else's entries byte for byte, optimistic concurrency against outside writers,
// and never rewriting an entry the connector does not own.
import { DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantAccess } from './grant-access.js';
import { managedGroupFor, principalHash } from './names.js';
import {
  T,
  awsAuthData,
  clusterState,
  createProvisioningWorld,
  credentialsOf,
  listConfigMapsAs,
  withSession,
} from './provision.test-support.js';
import { revokeAccess } from './revoke-access.js';
import type { AccessChange } from './types.js';

let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ world: createProvisioningWorld });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.faults.setRules([]);
});

const viewTeamA = (type: 'iam_user' | 'role', arn: string): AccessChange => ({
  entitlementId: 'cluster_role:view:team-a:member',
  principal: { type, arn },
});
const grant = (change: AccessChange) => withSession(sim, 'legacy-us', (s) => grantAccess(s, change));
const revoke = (change: AccessChange) => withSession(sim, 'legacy-us', (s) => revokeAccess(s, change));

function legacy() {
  const cluster = sim.findCluster('legacy-us');
  if (!cluster) throw new Error('no legacy-us');
  return cluster;
}

/** Replaces aws-auth's data directly in the store, as kubectl or eksctl would. */
function writeAwsAuth(data: Record<string, string>): void {
  const cm = legacy().kube.get('configmaps', 'kube-system', 'aws-auth');
  if (!cm) throw new Error('no aws-auth');
  legacy().kube.update('configmaps', { ...cm, metadata: { ...cm.metadata }, data });
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition never held');
}

describe('aws-auth (CONFIG_MAP)', () => {
  it('creates the mapUsers key when it is missing (baton-eks fails there) and leaves mapRoles byte for byte', async () => {
    const { mapRoles } = awsAuthData(sim, 'legacy-us');
    writeAwsAuth({ mapRoles: mapRoles ?? '' });
    const outcome = await grant(viewTeamA('iam_user', T.dave.arn));
    expect(outcome.result).toBe('granted');
    const after = awsAuthData(sim, 'legacy-us');
    expect(after.mapRoles).toBe(mapRoles);
    expect(after.mapUsers).toBe(
      `- userarn: ${T.dave.arn}\n  username: eks-access:${principalHash(T.dave.arn)}\n  groups:\n    - ${managedGroupFor(T.dave.arn)}\n`,
    );
    expect(await listConfigMapsAs(sim, 'legacy-us', await credentialsOf(sim, T.dave), 'team-a')).toBe(
      'allowed',
    );
  });

  it('appends a role entry without its IAM path and keeps every existing entry as written', async () => {
    const before = awsAuthData(sim, 'legacy-us');
    await grant(viewTeamA('role', T.legacyTester));
    const after = awsAuthData(sim, 'legacy-us');
    expect(after.mapUsers).toBe(before.mapUsers);
    expect(after.mapRoles?.startsWith(before.mapRoles ?? '')).toBe(true);
    expect(after.mapRoles?.slice(before.mapRoles?.length)).toBe(
      `- rolearn: arn:aws:iam::222222222222:role/LegacyTester\n  username: eks-access:${principalHash(T.legacyTester)}:{{SessionName}}\n  groups:\n    - ${managedGroupFor(T.legacyTester)}\n`,
    );
    // Revoking leaves the mapping: it may serve the principal's other grants.
    await revoke(viewTeamA('role', T.legacyTester));
    expect(awsAuthData(sim, 'legacy-us')).toEqual(after);
  });

  it('retries a 409 Conflict on aws-auth after reading it again', async () => {
    sim.faults.setRules([{ target: 'kube:update:configmaps', conflictRate: 1, count: 1 }]);
    const outcome = await grant(viewTeamA('iam_user', T.dave.arn));
    expect(outcome.result).toBe('granted');
    expect(outcome.steps.find((s) => s.operation === 'update:configmaps')?.note).toMatch(
      /after 1 conflicting write/,
    );
    expect(awsAuthData(sim, 'legacy-us').mapUsers).toContain(T.dave.arn);
  });

  it('an outside writer editing aws-auth between our read and our write loses nothing', async () => {
    const erin = '- userarn: arn:aws:iam::222222222222:user/erin\n  username: erin\n  groups: [erin-team]\n';
    sim.faults.setRules([
      { target: 'kube:update:configmaps', cluster: 'legacy-us', latencyMs: 300, count: 1 },
    ]);
    const updates = () => sim.faults.snapshot().operations['kube:update:configmaps'] ?? 0;
    const seen = updates();
    const pending = grant(viewTeamA('iam_user', T.dave.arn));
    // Our update is in flight with the resourceVersion we read; eksctl writes first.
    await waitFor(() => updates() > seen);
    const current = awsAuthData(sim, 'legacy-us');
    writeAwsAuth({ ...current, mapUsers: `${current.mapUsers ?? ''}${erin}` });

    const outcome = await pending;
    expect(outcome.result).toBe('granted');
    expect(outcome.steps.find((s) => s.operation === 'update:configmaps')?.note).toMatch(
      /after 1 conflicting write/,
    );
    const mapUsers = awsAuthData(sim, 'legacy-us').mapUsers ?? '';
    expect(mapUsers).toContain(erin);
    expect(mapUsers).toContain(`userarn: ${T.dave.arn}`);
    expect(mapUsers.startsWith(`${current.mapUsers ?? ''}${erin}`)).toBe(true);
  });

  it("adds the managed group to the connector's own entry, keeping its other groups and fields", async () => {
    const own = `- userarn: ${T.dave.arn}\n  username: eks-access:${principalHash(T.dave.arn)}\n  groups: [auditors]\n  comment: set up by hand\n`;
    const data = awsAuthData(sim, 'legacy-us');
    writeAwsAuth({ ...data, mapUsers: `${data.mapUsers ?? ''}${own}` });
    const outcome = await grant(viewTeamA('iam_user', T.dave.arn));
    expect(outcome.steps.find((s) => s.operation === 'update:configmaps')).toMatchObject({
      state: 'applied',
      before: { entry: { groups: ['auditors'], comment: 'set up by hand' } },
      after: { entry: { groups: ['auditors', managedGroupFor(T.dave.arn)], comment: 'set up by hand' } },
    });
    expect(awsAuthData(sim, 'legacy-us').mapUsers?.startsWith(data.mapUsers ?? '')).toBe(true);
  });

  it('binds the fixed username of an entry it does not own and leaves that entry alone', async () => {
    const before = awsAuthData(sim, 'legacy-us');
    const change = viewTeamA('iam_user', DEMO.legacyAdmin.userArn);
    const outcome = await grant(change);
    expect(outcome.result).toBe('granted');
    expect(awsAuthData(sim, 'legacy-us')).toEqual(before);
    expect(outcome.steps.find((s) => s.operation === 'create:rolebindings')?.request).toMatchObject({
      subjects: [{ kind: 'User', name: 'legacy-admin' }],
    });
    expect(outcome.notes.join(' ')).toContain('was not written by the connector');
    expect((await revoke(change)).result).toBe('revoked');
  });

  it('refuses a principal whose foreign entry has a per-session username, and changes nothing', async () => {
    const before = clusterState(sim, 'legacy-us');
    await expect(grant(viewTeamA('role', DEMO.roles.legacyDeployer))).rejects.toMatchObject({
      code: 'PROVISIONING_REFUSED',
      message: expect.stringContaining('changes with every session'),
    });
    expect(clusterState(sim, 'legacy-us')).toBe(before);
  });

  it('maps a principal of another account without checking it in IAM, and says so', async () => {
    const outcome = await grant(viewTeamA('iam_user', T.carol.arn));
    expect(outcome.result).toBe('granted');
    expect(outcome.notes.join(' ')).toMatch(
      /not the connector's account 222222222222; its existence was not checked/,
    );
    expect(await listConfigMapsAs(sim, 'legacy-us', await credentialsOf(sim, T.carol), 'team-a')).toBe(
      'allowed',
    );
  });
});
