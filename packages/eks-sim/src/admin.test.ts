// The admin API over real HTTP, mounted on the AWS endpoint's dispatcher exactly as startSim mounts
// it, with a SimControl built from a real World and Faults (no Kubernetes endpoints needed).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminHandler } from './admin.js';
import {
  createSimAdminClient,
  SimAdminError,
  type KubeManifestInput,
  type SimAdminClient,
} from './admin-client.js';
import { createAwsHandler } from './aws/server.js';
import { Faults } from './faults.js';
import type { ReadyLine, SimControl } from './sim.js';
import { verifyServiceAccountToken } from './oidc/service-account-token.js';
import { createDemoWorld, DEMO } from './world/demo.js';
import type { World } from './world/world.js';

function createFakeSim(build: () => World): SimControl & { endpoint: string } {
  let world = build();
  const sim = {
    endpoint: '',
    get world() {
      return world;
    },
    faults: new Faults(),
    get awsEndpoint() {
      return sim.endpoint;
    },
    clusters: () =>
      [...world.clusters.values()].map((c) => ({
        name: c.name,
        region: c.region,
        accountId: c.accountId,
        arn: c.arn,
        authenticationMode: c.authenticationMode,
        endpoint: 'https://127.0.0.1:1',
        caData: '',
        oidcIssuer: c.oidcIssuer,
      })),
    ready: (): ReadyLine => ({
      event: 'ready',
      aws: { endpoint: sim.endpoint },
      admin: `${sim.endpoint}/_sim`,
      podIdentityAgent: `${sim.endpoint}/v1/credentials`,
      clusters: sim.clusters(),
      credentials: [...world.credentials.values()].map((c) => ({
        principalArn: c.identity.arn,
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
      })),
    }),
    reset: () => {
      world = build();
    },
    findCluster: (name: string, region?: string) =>
      [...world.clusters.values()].find((c) => c.name === name && (!region || c.region === region)),
  };
  return sim;
}

async function serve(sim: SimControl & { endpoint: string }): Promise<Server> {
  const server = createServer(
    createAwsHandler({
      world: () => sim.world,
      faults: sim.faults,
      services: [],
      host: '127.0.0.1',
      admin: createAdminHandler(sim),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sim.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return server;
}

async function rejection(promise: Promise<unknown>): Promise<SimAdminError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SimAdminError);
  return err as SimAdminError;
}

const sim = createFakeSim(createDemoWorld);
let server: Server;
let admin: SimAdminClient;

beforeAll(async () => {
  server = await serve(sim);
  admin = createSimAdminClient(`${sim.endpoint}/_sim`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  await admin.reset();
  await admin.clearFaults();
  await admin.resetCounters();
});

describe('admin API: info, counters, faults, reset', () => {
  it('serves the ready line with the connector credential first', async () => {
    const info = await admin.info();
    expect(info.event).toBe('ready');
    expect(info.clusters.map((c) => c.name)).toEqual(['prod-eu', 'staging-us', 'legacy-us']);
    expect(info.credentials[0]).toEqual({
      principalArn: DEMO.connector.userArn,
      accessKeyId: DEMO.connector.accessKeyId,
      secretAccessKey: DEMO.connector.secretAccessKey,
    });
  });

  it('reports request counters and resets them', async () => {
    sim.faults.decide('eks:ListAccessEntries', { cluster: 'prod-eu' });
    sim.faults.decide('eks:ListAccessEntries', { cluster: 'prod-eu' });
    expect(await admin.counters()).toEqual({
      operations: { 'eks:ListAccessEntries': 2 },
      clusters: { 'prod-eu': { 'eks:ListAccessEntries': 2 } },
      faults: {},
    });
    await admin.resetCounters();
    expect((await admin.counters()).operations).toEqual({});
  });

  it('replaces, adds, lists and clears fault rules, and the simulator applies them', async () => {
    await admin.setFaults([{ target: 'iam:*', throttleRate: 1 }]);
    expect(
      await admin.addFaults([{ target: 'kube:list:rolebindings', latencyMs: 5, cluster: 'prod-eu' }]),
    ).toHaveLength(2);
    expect(await admin.setFaults([{ target: 'eks:ListClusters', errorRate: 1, errorStatus: 503 }])).toEqual([
      { target: 'eks:ListClusters', errorRate: 1, errorStatus: 503 },
    ]);
    expect(sim.faults.decide('eks:ListClusters').errorStatus).toBe(503);
    expect(await admin.clearFaults()).toEqual([]);
    expect(await admin.faults()).toEqual([]);
  });

  it('accepts a single fault rule object as well as a list', async () => {
    const res = await fetch(`${sim.endpoint}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ target: '*', latencyMs: 1 }),
    });
    expect(res.status).toBe(200);
    expect(await admin.faults()).toEqual([{ target: '*', latencyMs: 1 }]);
  });

  it('rejects invalid fault rules with every problem and its path', async () => {
    const err = await rejection(
      admin.setFaults([{ target: 'x', throttleRate: 2 }, { latencyMs: -1 } as never]),
    );
    expect(err.status).toBe(400);
    expect(err.code).toBe('ValidationFailed');
    expect(err.problems.map((p) => p.path)).toEqual([
      'rules[0].throttleRate',
      'rules[1].target',
      'rules[1].latencyMs',
    ]);
    expect(await admin.faults()).toEqual([]);
  });

  it('answers malformed JSON with 400 InvalidJson', async () => {
    const res = await fetch(`${sim.endpoint}/_sim/faults`, { method: 'PUT', body: '{"target":' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidJson');
  });

  it('puts the world back to its initial state on reset', async () => {
    await admin.deleteObject('prod-eu', 'namespaces', undefined, 'team-a');
    await admin.deleteAccessEntry('prod-eu', DEMO.connector.roleArn);
    await admin.reset();
    const cluster = sim.findCluster('prod-eu')!;
    expect(cluster.kube.get('rolebindings', 'team-a', 'deployer')).toBeDefined();
    expect(cluster.accessEntries.has(DEMO.connector.roleArn)).toBe(true);
  });

  it('answers unknown routes with 404 and wrong methods with 405, in JSON', async () => {
    const missing = await fetch(`${sim.endpoint}/_sim/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'NotFound', message: 'no admin route GET /_sim/nothing-here' },
    });
    const wrong = await fetch(`${sim.endpoint}/_sim/reset`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});

describe('admin API: out-of-band cluster changes', () => {
  it('creates a Kubernetes object from a manifest, then replaces it keeping its uid', async () => {
    const manifest: KubeManifestInput & { kind: 'RoleBinding' } = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'drift', namespace: 'team-a', uid: 'ignored', resourceVersion: '1' },
      roleRef: { kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', name: 'mallory' }],
    };
    const created = await admin.putObject('prod-eu', manifest);
    expect(created.created).toBe(true);
    expect(created.object.metadata.uid).not.toBe('ignored');
    const replaced = await admin.putObject('prod-eu', {
      ...manifest,
      subjects: [{ kind: 'Group', name: 'everyone' }],
    });
    expect(replaced.created).toBe(false);
    expect(replaced.object.metadata.uid).toBe(created.object.metadata.uid);
    expect(sim.findCluster('prod-eu')!.kube.get('rolebindings', 'team-a', 'drift')!.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'everyone' },
    ]);
  });

  it('refuses an object in a namespace the cluster lacks, and invalid manifests', async () => {
    const ns = await rejection(
      admin.putObject('prod-eu', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'x', namespace: 'ghost' },
      }),
    );
    expect([ns.status, ns.code]).toEqual([404, 'NamespaceNotFound']);
    const kind = await rejection(
      admin.putObject('prod-eu', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } } as never),
    );
    expect([kind.status, kind.code, kind.problems[0]?.path]).toEqual([
      400,
      'ValidationFailed',
      'manifest.kind',
    ]);
    const ref = await rejection(
      admin.putObject('prod-eu', {
        kind: 'ClusterRoleBinding',
        metadata: { name: 'x' },
        roleRef: { kind: 'Role', name: 'deployer' },
      }),
    );
    expect(ref.problems).toEqual([
      { path: 'manifest.roleRef.kind', message: 'a ClusterRoleBinding can only refer to a ClusterRole' },
    ]);
  });

  it('deletes objects, and a namespace together with its contents', async () => {
    const deleted = await admin.deleteObject('prod-eu', 'rolebindings', 'team-a', 'deployer');
    expect(deleted.deleted.metadata.name).toBe('deployer');
    const ns = await admin.deleteObject('prod-eu', 'namespaces', undefined, 'team-b');
    expect(ns.alsoDeleted).toBe(4); // RoleBindings deployer and alice-edit, Role deployer, ServiceAccount app
    const cluster = sim.findCluster('prod-eu')!;
    expect(cluster.kube.list('rolebindings', { namespace: 'team-b' }).items).toEqual([]);
    const gone = await rejection(admin.deleteObject('prod-eu', 'rolebindings', 'team-a', 'deployer'));
    expect([gone.status, gone.code]).toEqual([404, 'ObjectNotFound']);
    const unknown = await rejection(admin.deleteObject('prod-eu', 'pods' as never, 'team-a', 'x'));
    expect([unknown.status, unknown.code]).toEqual([400, 'UnknownResource']);
    const scoped = await rejection(admin.deleteObject('prod-eu', 'rolebindings', undefined, 'x'));
    expect(scoped.status).toBe(400);
  });

  it('adds and removes access entries with their policies', async () => {
    const entry = await admin.addAccessEntry('staging-us', {
      principalArn: DEMO.roles.ssoReadOnly,
      kubernetesGroups: ['viewers'],
      policyAssociations: [
        { policyArn: 'AmazonEKSViewPolicy', accessScope: { type: 'namespace', namespaces: ['team-b'] } },
      ],
    });
    expect(entry.policyAssociations).toEqual([
      {
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy',
        accessScope: { type: 'namespace', namespaces: ['team-b'] },
      },
    ]);
    expect(entry.username).toBe(
      'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_ReadOnly_c4d7e9a1b3f50628/{{SessionName}}',
    );
    const dup = await rejection(admin.addAccessEntry('staging-us', { principalArn: DEMO.roles.ssoReadOnly }));
    expect([dup.status, dup.code]).toEqual([409, 'AlreadyExists']);
    expect(await admin.deleteAccessEntry('staging-us', DEMO.roles.ssoReadOnly)).toEqual({
      deleted: DEMO.roles.ssoReadOnly,
    });
    const again = await rejection(admin.deleteAccessEntry('staging-us', DEMO.roles.ssoReadOnly));
    expect([again.status, again.code]).toEqual([404, 'AccessEntryNotFound']);
  });

  it('refuses access entries on a CONFIG_MAP cluster and malformed principals', async () => {
    const mode = await rejection(
      admin.addAccessEntry('legacy-us', { principalArn: DEMO.legacyAdmin.userArn }),
    );
    expect([mode.status, mode.code]).toEqual([400, 'InvalidRequest']);
    const arn = await rejection(
      admin.addAccessEntry('prod-eu', { principalArn: 'arn:aws:iam::111111111111:group/x' }),
    );
    expect(arn.problems).toEqual([
      { path: 'accessEntry.principalArn', message: 'must be an IAM user or role ARN' },
    ]);
    const missing = await fetch(`${sim.endpoint}/_sim/clusters/prod-eu/access-entries`, { method: 'DELETE' });
    expect(missing.status).toBe(400);
  });

  it('adds an IAM role, refusing duplicates and unknown accounts', async () => {
    const trustPolicy = {
      Statement: [
        { Effect: 'Allow' as const, Principal: { AWS: DEMO.alice.userArn }, Action: 'sts:AssumeRole' },
      ],
    };
    const role = await admin.addRole({
      accountId: '111111111111',
      roleName: 'NewTeamRole',
      path: '/teams/',
      trustPolicy,
    });
    expect(role.arn).toBe('arn:aws:iam::111111111111:role/teams/NewTeamRole');
    expect(
      sim.world.findRoleByName('111111111111', 'NewTeamRole')?.assumeRolePolicyDocument.Statement,
    ).toHaveLength(1);
    const dup = await rejection(
      admin.addRole({ accountId: '111111111111', roleName: 'NewTeamRole', trustPolicy }),
    );
    expect([dup.status, dup.code]).toEqual([409, 'AlreadyExists']);
    const account = await rejection(admin.addRole({ accountId: '999999999999', roleName: 'X', trustPolicy }));
    expect([account.status, account.code]).toEqual([404, 'AccountNotFound']);
  });

  it('expires outstanding continue tokens on compact', async () => {
    const store = sim.findCluster('prod-eu')!.kube;
    const page = store.list('namespaces', { limit: 2 });
    await admin.putObject('prod-eu', { kind: 'Namespace', metadata: { name: 'late' } });
    expect((await admin.compact('prod-eu')).compactedRevision).toBe(store.currentRevision);
    expect(() => store.list('namespaces', { atRevision: page.revision, afterKey: page.lastKey! })).toThrow(
      /too old/,
    );
  });

  it('answers an unknown cluster with 404', async () => {
    const err = await rejection(admin.compact('nope'));
    expect([err.status, err.code]).toEqual([404, 'ClusterNotFound']);
  });
});

describe('admin API: pod credentials and rates', () => {
  it("mints a service account's token that the cluster's issuer vouches for, and refuses unknown accounts", async () => {
    const minted = await admin.serviceAccountToken('prod-eu', {
      namespace: 'monitoring',
      serviceAccount: 'prometheus',
      audience: 'pods.eks.amazonaws.com',
      expirationSeconds: 900,
    });
    expect(minted.subject).toBe('system:serviceaccount:monitoring:prometheus');
    const { claims, cluster } = verifyServiceAccountToken(sim.world, minted.token, new Date());
    expect([cluster.name, claims.aud, claims.exp - claims.iat]).toEqual([
      'prod-eu',
      ['pods.eks.amazonaws.com'],
      900,
    ]);
    const missing = await rejection(
      admin.serviceAccountToken('prod-eu', { namespace: 'monitoring', serviceAccount: 'nobody' }),
    );
    expect([missing.status, missing.code]).toEqual([404, 'ServiceAccountNotFound']);
    const short = await rejection(
      admin.serviceAccountToken('prod-eu', {
        namespace: 'monitoring',
        serviceAccount: 'prometheus',
        expirationSeconds: 60,
      }),
    );
    expect(short.status).toBe(400);
  });

  it('registers an OIDC provider for a cluster issuer and a pod identity association, once each', async () => {
    const provider = await admin.addOidcProvider({ accountId: '222222222222', cluster: 'prod-eu' });
    expect(provider.url).toBe(sim.findCluster('prod-eu')!.oidcIssuer.replace('https://', ''));
    expect(provider.clientIds).toEqual(['sts.amazonaws.com']);
    expect(
      (await rejection(admin.addOidcProvider({ accountId: '222222222222', cluster: 'prod-eu' }))).status,
    ).toBe(409);
    const association = await admin.addPodIdentityAssociation('prod-eu', {
      namespace: 'monitoring',
      serviceAccount: 'prometheus',
      roleArn: DEMO.roles.platformDeployer,
    });
    expect(association.associationArn).toMatch(
      /^arn:aws:eks:eu-west-1:111111111111:podidentityassociation\/prod-eu\/a-/,
    );
    const again = await rejection(
      admin.addPodIdentityAssociation('prod-eu', {
        namespace: 'monitoring',
        serviceAccount: 'prometheus',
        roleArn: DEMO.roles.platformDeployer,
      }),
    );
    expect(again.status).toBe(409);
  });

  it('reports observed call rates per account and cluster', async () => {
    sim.faults.decide('eks:DescribeCluster', { cluster: 'prod-eu', account: '111111111111' });
    const rates = await admin.rates();
    expect(rates.accounts['111111111111']?.eks).toMatchObject({ calls: 1, peakPerSecond: 1 });
    expect(rates.clusters['prod-eu']?.eks).toMatchObject({ calls: 1, throttled: 0 });
  });
});

describe('admin API: clusters sharing a name', () => {
  it('asks for a region when a name is ambiguous', async () => {
    const twin = createFakeSim(() => {
      const world = createDemoWorld();
      world.addCluster({
        accountId: '111111111111',
        region: 'ap-south-1',
        name: 'prod-eu',
        authenticationMode: 'API',
      });
      return world;
    });
    const s = await serve(twin);
    try {
      const client = createSimAdminClient(twin.endpoint);
      const err = await rejection(client.compact('prod-eu'));
      expect([err.status, err.code]).toEqual([409, 'AmbiguousCluster']);
      expect((await client.compact('prod-eu', { region: 'ap-south-1' })).cluster).toBe('prod-eu');
    } finally {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });
});
