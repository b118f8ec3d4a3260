import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, type KubeResource } from '../kube/store.js';
import { createDemoWorld, DEMO } from './demo.js';
import { GENERATED_BASELINE, GENERATOR_CONNECTOR_KEY, generateInto, generateWorld } from './generate.js';
import type { World } from './world.js';

const COUNTS = {
  namespaces: 30,
  serviceAccounts: 45,
  clusterRoles: 12,
  roles: 50,
  roleBindings: 400,
  clusterRoleBindings: 25,
  accessEntries: 60,
  iamRoles: 80,
  iamUsers: 15,
};

/** Everything observable about a world, minus the random object uids. */
function fingerprint(world: World): string {
  const kube = [...world.clusters.values()].map((c) =>
    (Object.keys(KUBE_RESOURCES) as KubeResource[]).map((r) =>
      c.kube.list(r).items.map(({ metadata: { uid: _uid, ...meta }, ...rest }) => ({ ...rest, meta })),
    ),
  );
  const entries = [...world.clusters.values()].flatMap((c) =>
    [...c.accessEntries.values()].map((e) => ({ ...e, associations: [...e.associations.values()] })),
  );
  const credentials = [...world.credentials.values()].map((c) => [c.accessKeyId, c.identity.arn]);
  return JSON.stringify({
    roles: [...world.roles.values()],
    users: [...world.users.values()],
    kube,
    entries,
    credentials,
  });
}

describe('generateWorld', () => {
  it('builds the same world for the same seed and a different one for another seed', () => {
    const a = fingerprint(generateWorld({ ...COUNTS, seed: 42 }));
    expect(fingerprint(generateWorld({ ...COUNTS, seed: 42 }))).toBe(a);
    expect(fingerprint(generateWorld({ ...COUNTS, seed: 43 }))).not.toBe(a);
  });

  it('creates exactly the requested counts on top of the documented baseline', () => {
    const world = generateWorld({ ...COUNTS, authenticationMode: 'API' });
    const cluster = world.getCluster('333333333333', 'us-west-2', 'generated')!;
    expect(cluster.kube.counts()).toEqual({
      namespaces: COUNTS.namespaces + GENERATED_BASELINE.namespaces.length,
      serviceaccounts: COUNTS.serviceAccounts,
      clusterroles: COUNTS.clusterRoles + GENERATED_BASELINE.clusterRoles.length,
      roles: COUNTS.roles,
      rolebindings: COUNTS.roleBindings,
      clusterrolebindings: COUNTS.clusterRoleBindings + GENERATED_BASELINE.clusterRoleBindings.length,
    });
    // One more of each for the connector's own role, user and access entry.
    expect(world.roles.size).toBe(COUNTS.iamRoles + 1);
    expect(world.users.size).toBe(COUNTS.iamUsers + 1);
    expect(cluster.accessEntries.size).toBe(COUNTS.accessEntries + 1);
  });

  it('gives every access entry one to three policies whose namespaces exist', () => {
    const world = generateWorld(COUNTS);
    const cluster = [...world.clusters.values()][0]!;
    for (const entry of cluster.accessEntries.values()) {
      expect(entry.associations.size).toBeGreaterThanOrEqual(1);
      expect(entry.associations.size).toBeLessThanOrEqual(3);
      for (const a of entry.associations.values()) {
        if (a.accessScope.type === 'namespace') {
          for (const ns of a.accessScope.namespaces)
            expect(cluster.kube.get('namespaces', undefined, ns)).toBeDefined();
        } else expect(a.accessScope.namespaces).toEqual([]);
      }
    }
  });

  it('binds only Roles that exist in the binding namespace and ClusterRoles that exist', () => {
    const cluster = [...generateWorld(COUNTS).clusters.values()][0]!;
    for (const rb of cluster.kube.list('rolebindings').items) {
      const ref = rb.roleRef as { kind: string; name: string };
      const target =
        ref.kind === 'Role'
          ? cluster.kube.get('roles', rb.metadata.namespace, ref.name)
          : cluster.kube.get('clusterroles', undefined, ref.name);
      expect(target, `${rb.metadata.namespace}/${rb.metadata.name} → ${ref.kind} ${ref.name}`).toBeDefined();
    }
  });

  it('uses principals of another account once the world runs out of its own', () => {
    const cluster = [
      ...generateWorld({
        iamRoles: 3,
        iamUsers: 2,
        accessEntries: 8,
        authenticationMode: 'API',
      }).clusters.values(),
    ][0]!;
    const external = [...cluster.accessEntries.keys()].filter((arn) =>
      arn.startsWith('arn:aws:iam::444444444444:role/'),
    );
    expect(external).toHaveLength(3);
  });

  it('gives the connector a way in that the cluster mode reads', () => {
    const api = [...generateWorld({ authenticationMode: 'API' }).clusters.values()][0]!;
    const connectorRole = 'arn:aws:iam::333333333333:role/EksAccessConnector';
    expect([...api.accessEntries.get(connectorRole)!.associations.keys()]).toEqual([
      'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy',
    ]);
    expect(api.kube.get('configmaps', 'kube-system', 'aws-auth')).toBeUndefined();

    const world = generateWorld({ authenticationMode: 'CONFIG_MAP', accessEntries: 10 });
    const cm = [...world.clusters.values()][0]!;
    expect(cm.accessEntries.size).toBe(0);
    const data = cm.kube.get('configmaps', 'kube-system', 'aws-auth')!.data as Record<string, string>;
    const mapRoles = parse(data.mapRoles!) as { rolearn: string; username: string; groups: string[] }[];
    const mapUsers = parse(data.mapUsers!) as unknown[];
    expect(mapRoles[0]).toEqual({
      rolearn: connectorRole,
      username: 'eks-access-connector',
      groups: ['readers'],
    });
    expect(mapRoles.length - 1 + mapUsers.length).toBe(10);
    // aws-auth matches roles without their IAM path.
    expect(mapRoles.every((m) => !m.rolearn.includes('aws-reserved'))).toBe(true);
    expect(world.credentials.get(GENERATOR_CONNECTOR_KEY.accessKeyId)?.identity.arn).toBe(
      'arn:aws:iam::333333333333:user/eks-access-connector',
    );
  });

  it('reuses the connector user and role when generating into an account that has them', () => {
    const world = createDemoWorld();
    const users = world.users.size;
    const cluster = generateInto(world, {
      accountId: DEMO.accounts.main,
      region: 'eu-west-1',
      clusterName: 'bulk',
      iamUsers: 0,
      iamRoles: 0,
    });
    expect(world.users.size).toBe(users);
    expect(cluster.accessEntries.has(DEMO.connector.roleArn)).toBe(true);
    expect(world.credentials.has(GENERATOR_CONNECTOR_KEY.accessKeyId)).toBe(false);
  });

  it('varies IAM trust: SSO SAML roles under the reserved path, users, roots, services and OIDC', () => {
    const world = generateWorld({ iamRoles: 200 });
    const principals = new Set(
      [...world.roles.values()].flatMap((r) =>
        r.assumeRolePolicyDocument.Statement.flatMap((s) =>
          Object.keys(s.Principal as Record<string, unknown>),
        ),
      ),
    );
    expect([...principals].sort()).toEqual(['AWS', 'Federated', 'Service']);
    const sso = [...world.roles.values()].filter((r) => r.roleName.startsWith('AWSReservedSSO_'));
    expect(sso.length).toBeGreaterThan(30);
    expect(sso.every((r) => r.path === '/aws-reserved/sso.amazonaws.com/us-west-2/')).toBe(true);
  });
});
