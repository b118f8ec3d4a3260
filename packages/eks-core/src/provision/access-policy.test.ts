// Access-policy scopes: merging, widening, narrowing; 20 concurrent grants with and without a
// lock; a crash between CreateAccessEntry and AssociateAccessPolicy; carrying an aws-auth mapping
// over into a new access entry on an API_AND_CONFIG_MAP cluster.
import { DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantAccess } from './grant-access.js';
import {
  AP,
  T,
  TEST_MAX_ATTEMPTS,
  associationScope,
  clusterState,
  createMutex,
  createProvisioningWorld,
  credentialsOf,
  listConfigMapsAs,
  withSession,
} from './provision.test-support.js';
import { revokeAccess } from './revoke-access.js';
import type { AccessChange } from './types.js';

const VIEW = `${AP}/AmazonEKSViewPolicy`;
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

const carolView = (scope: string): AccessChange => ({
  entitlementId: `access_policy:${VIEW}:assigned:${scope}`,
  principal: { type: 'iam_user', arn: T.carol.arn },
});
const grant = (change: AccessChange) => withSession(sim, 'prod-eu', (s) => grantAccess(s, change));
const revoke = (change: AccessChange) => withSession(sim, 'prod-eu', (s) => revokeAccess(s, change));
const scope = () => associationScope(sim, 'prod-eu', T.carol.arn, VIEW);

describe('access policy scopes', () => {
  it('merges namespaces on grant and narrows them on revoke', async () => {
    await grant(carolView('team-a'));
    const second = await grant(carolView('team-b'));
    expect(scope()).toEqual({ type: 'namespace', namespaces: ['team-a', 'team-b'] });
    expect(second.steps.find((s) => s.operation === 'AssociateAccessPolicy')).toMatchObject({
      state: 'applied',
      before: { accessScope: { type: 'namespace', namespaces: ['team-a'] } },
      after: { accessScope: { type: 'namespace', namespaces: ['team-a', 'team-b'] } },
    });

    expect((await revoke(carolView('team-a'))).result).toBe('revoked');
    expect(scope()).toEqual({ type: 'namespace', namespaces: ['team-b'] });
    const creds = await credentialsOf(sim, T.carol);
    expect(await listConfigMapsAs(sim, 'prod-eu', creds, 'team-a')).toBe('forbidden');
    expect(await listConfigMapsAs(sim, 'prod-eu', creds, 'team-b')).toBe('allowed');

    const last = await revoke(carolView('team-b'));
    expect(last.steps.map((s) => `${s.operation}:${s.state}`)).toEqual(['DisassociateAccessPolicy:applied']);
    expect(scope()).toBeUndefined();
    // The access entry stays: it may carry other policies or groups.
    expect(sim.findCluster('prod-eu')?.accessEntries.has(T.carol.arn)).toBe(true);
    expect(last.notes.join(' ')).toContain('access entry is kept');
  });

  it('widens a namespace scope to the cluster and treats namespaces inside a cluster scope as granted', async () => {
    await grant(carolView('team-a'));
    const widened = await grant(carolView('cluster'));
    expect(widened.result).toBe('granted');
    expect(widened.steps.find((s) => s.operation === 'AssociateAccessPolicy')?.note).toMatch(
      /widens namespaces \[team-a\] to the whole cluster/,
    );
    expect(scope()).toEqual({ type: 'cluster', namespaces: [] });

    const inside = await grant(carolView('team-b'));
    expect(inside.result).toBe('already-granted');
    expect(inside.steps.at(-1)?.note).toMatch(/cluster scope already covers namespace team-b/);
    // A namespace is not held on its own under a cluster scope, so revoking it changes nothing.
    expect((await revoke(carolView('team-b'))).result).toBe('already-revoked');
    expect(scope()).toEqual({ type: 'cluster', namespaces: [] });

    expect((await revoke(carolView('cluster'))).result).toBe('revoked');
    expect(scope()).toBeUndefined();
  });

  it('revoking the cluster scope leaves a namespace scope alone (those are other entitlements)', async () => {
    await grant(carolView('team-a'));
    const outcome = await revoke(carolView('cluster'));
    expect(outcome.result).toBe('already-revoked');
    expect(scope()).toEqual({ type: 'namespace', namespaces: ['team-a'] });
  });

  it('a namespace matched by a prefix pattern is already granted, and cannot be revoked on its own', async () => {
    const entry = sim.findCluster('prod-eu')?.accessEntries.get(DEMO.roles.ssoDeveloper);
    const at = new Date();
    entry?.associations.set(VIEW, {
      policyArn: VIEW,
      accessScope: { type: 'namespace', namespaces: ['team-*'] },
      associatedAt: at,
      modifiedAt: at,
    });
    const change: AccessChange = {
      entitlementId: `access_policy:${VIEW}:assigned:team-b`,
      principal: { type: 'role', arn: DEMO.roles.ssoDeveloper },
    };
    expect((await grant(change)).result).toBe('already-granted');
    await expect(revoke(change)).rejects.toMatchObject({
      code: 'PROVISIONING_REFUSED',
      message: expect.stringContaining('pattern team-*'),
    });
  });
});

describe('concurrent grants to one principal', () => {
  const namespaces = Array.from({ length: 20 }, (_, i) => `load-${String(i).padStart(2, '0')}`);
  const addNamespaces = () => {
    const kube = sim.findCluster('prod-eu')?.kube;
    for (const name of namespaces) kube?.create('namespaces', { metadata: { name } });
  };

  it('20 grants of different namespaces under a per-principal lock end with all 20 in the scope', async () => {
    addNamespaces();
    const lock = createMutex();
    const outcomes = await Promise.all(namespaces.map((ns) => lock(T.carol.arn, () => grant(carolView(ns)))));
    expect(outcomes.every((o) => o.result === 'granted')).toBe(true);
    expect(scope()?.namespaces.slice().sort()).toEqual(namespaces);
  });

  it('without the lock, read–merge–write loses namespaces (why the provisioner locks); re-running the grants repairs it', async () => {
    addNamespaces();
    // Slow writes widen the window between each grant's read and its write, as a busy API would.
    sim.faults.setRules([{ target: 'eks:AssociateAccessPolicy', latencyMs: 150 }]);
    const outcomes = await Promise.all(namespaces.map((ns) => grant(carolView(ns))));
    // Every grant saw its own write succeed, yet later writes replaced earlier scopes.
    expect(outcomes.every((o) => o.result === 'granted')).toBe(true);
    const kept = scope()?.namespaces ?? [];
    expect(kept.length).toBeLessThan(namespaces.length);

    sim.faults.setRules([]);
    const rerun = [];
    for (const ns of namespaces) rerun.push((await grant(carolView(ns))).result);
    expect(rerun.filter((r) => r === 'already-granted').length).toBe(kept.length);
    expect(scope()?.namespaces.slice().sort()).toEqual(namespaces);
  });
});

describe('crash safety', () => {
  it('a run that dies between CreateAccessEntry and AssociateAccessPolicy is completed by a re-run', async () => {
    sim.faults.setRules([
      { target: 'eks:AssociateAccessPolicy', errorRate: 1, errorStatus: 500, count: TEST_MAX_ATTEMPTS },
    ]);
    await expect(grant(carolView('team-a'))).rejects.toMatchObject({ code: 'AWS_UNAVAILABLE' });
    expect(sim.findCluster('prod-eu')?.accessEntries.has(T.carol.arn)).toBe(true);
    expect(scope()).toBeUndefined();

    const rerun = await grant(carolView('team-a'));
    expect(rerun.result).toBe('granted');
    expect(rerun.steps.map((s) => `${s.operation}:${s.state}`)).toEqual([
      'CreateAccessEntry:unchanged',
      'AssociateAccessPolicy:applied',
    ]);
    expect(await listConfigMapsAs(sim, 'prod-eu', await credentialsOf(sim, T.carol), 'team-a')).toBe(
      'allowed',
    );
  });
});

describe('API_AND_CONFIG_MAP: an access entry replaces the aws-auth mapping', () => {
  it('a new access entry carries the mapping over, so the principal keeps what aws-auth gave it', async () => {
    const change: AccessChange = {
      entitlementId: `access_policy:${VIEW}:assigned:team-a`,
      principal: { type: 'role', arn: DEMO.roles.platformDeployer },
    };
    const outcome = await withSession(sim, 'staging-us', (s) => grantAccess(s, change));
    const create = outcome.steps.find((s) => s.operation === 'CreateAccessEntry');
    expect(create).toMatchObject({
      state: 'applied',
      request: { username: 'platform-deployer:{{SessionName}}', kubernetesGroups: ['platform-deployers'] },
      note: expect.stringContaining('mapRoles #2'),
    });
    const creds = await credentialsOf(
      sim,
      {
        arn: DEMO.alice.userArn,
        accessKeyId: DEMO.alice.accessKeyId,
        secretAccessKey: DEMO.alice.secretAccessKey,
      },
      DEMO.roles.platformDeployer,
    );
    expect(await listConfigMapsAs(sim, 'staging-us', creds, 'team-a')).toBe('allowed');
    // team-b comes from the deployer Role through the carried-over platform-deployers group.
    expect(await listConfigMapsAs(sim, 'staging-us', creds, 'team-b')).toBe('allowed');
    expect(await listConfigMapsAs(sim, 'staging-us', creds, 'monitoring')).toBe('forbidden');
  });

  it('refuses when the mapping holds system: groups an access entry cannot carry, and changes nothing', async () => {
    const before = clusterState(sim, 'staging-us');
    const change: AccessChange = {
      entitlementId: `access_policy:${VIEW}:assigned:team-a`,
      principal: { type: 'iam_user', arn: DEMO.alice.userArn },
    };
    await expect(withSession(sim, 'staging-us', (s) => grantAccess(s, change))).rejects.toMatchObject({
      code: 'PROVISIONING_REFUSED',
      message: expect.stringContaining('system:masters'),
    });
    expect(clusterState(sim, 'staging-us')).toBe(before);
  });
});
