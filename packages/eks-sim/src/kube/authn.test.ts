import { ApiException, AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Credential } from '../world/types.js';
import {
  kubeConfigOptions,
  rawRequest,
  startKubeEndpoint,
  tokenFor,
  type KubeEndpoint,
} from './test-helpers.js';
import { ACCOUNT, awsAuthData, buildTestWorld, type TestWorld } from './test-world.js';
import { verifyEksToken } from './authn.js';
import { EKS_TOKEN_PREFIX } from './token.js';

const UNAUTHORIZED = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};

let t: TestWorld;
const endpoints = new Map<Cluster, KubeEndpoint>();

beforeAll(async () => {
  t = buildTestWorld();
  for (const cluster of Object.values(t.clusters)) {
    endpoints.set(cluster, await startKubeEndpoint({ world: t.world, cluster }));
  }
});

afterAll(async () => {
  await Promise.all([...endpoints.values()].map((e) => e.close()));
});

function clientsWithToken(cluster: Cluster, token: string) {
  const kc = new KubeConfig();
  kc.loadFromOptions(kubeConfigOptions(endpoints.get(cluster)!, token));
  return { core: kc.makeApiClient(CoreV1Api), authn: kc.makeApiClient(AuthenticationV1Api) };
}

async function whoAmI(cluster: Cluster, credential: Credential) {
  const { authn } = clientsWithToken(cluster, await tokenFor(credential, cluster));
  const review = await authn.createSelfSubjectReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status?.userInfo;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: number; body: unknown }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiException);
  const apiErr = err as ApiException<string | undefined>;
  // client-node drops the body of a 401 (its OpenAPI spec declares none); other codes keep it.
  return { code: apiErr.code, body: apiErr.body === undefined ? undefined : JSON.parse(apiErr.body) };
}

describe('EKS bearer token authentication', () => {
  it('accepts a fresh token minted for this cluster', async () => {
    const user = await whoAmI(t.clusters.api, t.credentials.alice);
    expect(user?.username).toBe('alice');
  });

  it('answers 401 with the API server Status to a token minted for another cluster', async () => {
    const token = await tokenFor(t.credentials.alice, t.clusters.mixed);
    const { core } = clientsWithToken(t.clusters.api, token);
    expect((await rejection(core.listNamespacedConfigMap({ namespace: 'team-a' }))).code).toBe(401);
    const raw = await rawRequest(endpoints.get(t.clusters.api)!, {
      path: '/api/v1/namespaces/team-a/configmaps',
      token,
    });
    expect(raw.status).toBe(401);
    expect(raw.json).toEqual(UNAUTHORIZED);
  });

  it('answers 401 to a request without a token, except on /version', async () => {
    const endpoint = endpoints.get(t.clusters.api)!;
    expect((await rawRequest(endpoint, { path: '/api/v1/namespaces' })).status).toBe(401);
    expect((await rawRequest(endpoint, { path: '/version' })).status).toBe(200);
  });

  it('rejects a token signed more than 15 minutes ago and accepts one signed 14 minutes ago', async () => {
    const cluster = t.clusters.api;
    const stale = await tokenFor(t.credentials.alice, cluster, new Date(Date.now() - 16 * 60_000));
    expect((await rejection(clientsWithToken(cluster, stale).core.listNamespace())).code).toBe(401);
    const older = await tokenFor(t.credentials.alice, cluster, new Date(Date.now() - 14 * 60_000));
    await expect(
      clientsWithToken(cluster, older).core.listNamespacedConfigMap({ namespace: 'team-a' }),
    ).resolves.toBeDefined();
  });

  it('rejects a token whose presigned URL was tampered with', async () => {
    const cluster = t.clusters.api;
    const token = await tokenFor(t.credentials.alice, cluster);
    const url = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    const tampered = [
      // another principal's access key under the same signature
      url.replace(t.credentials.alice.accessKeyId, t.credentials.bob.accessKeyId),
      // a different action
      url.replace('Action=GetCallerIdentity', 'Action=GetSessionToken'),
      // a host that is not STS
      url.replace('sts.us-west-2.amazonaws.com', 'sts.evil.example.com'),
    ].map((u) => EKS_TOKEN_PREFIX + Buffer.from(u).toString('base64url'));
    const flipped = token.slice(0, -3) + (token.endsWith('A') ? 'B' : 'A') + token.slice(-2);
    for (const bad of [...tampered, flipped, 'k8s-aws-v1.not-a-url', 'some-other-token']) {
      expect((await rejection(clientsWithToken(cluster, bad).core.listNamespace())).code).toBe(401);
    }
  });

  it('rejects temporary credentials after they expire', async () => {
    const cluster = t.clusters.api;
    const token = await tokenFor(t.credentials.dev, cluster);
    const saved = t.credentials.dev.expiresAt;
    t.credentials.dev.expiresAt = new Date(Date.now() - 1000);
    try {
      expect((await rejection(clientsWithToken(cluster, token).core.listNamespace())).code).toBe(401);
    } finally {
      t.credentials.dev.expiresAt = saved!;
    }
  });
});

describe('mapping IAM principals to Kubernetes users', () => {
  it('maps through access entries only on an API-mode cluster, rejecting an aws-auth-only principal', async () => {
    const cluster = t.clusters.api;
    expect(await whoAmI(cluster, t.credentials.alice)).toMatchObject({
      username: 'alice',
      groups: ['team-a-viewers', 'system:authenticated'],
    });
    const token = await tokenFor(t.credentials.bob, cluster);
    expect((await rejection(clientsWithToken(cluster, token).core.listNamespace())).code).toBe(401);
  });

  it('maps through aws-auth only on a CONFIG_MAP cluster, rejecting an access-entry-only principal', async () => {
    const cluster = t.clusters.configMap;
    expect(await whoAmI(cluster, t.credentials.alice)).toMatchObject({
      username: 'alice-from-aws-auth',
      groups: ['system:authenticated'],
    });
    expect(await whoAmI(cluster, t.credentials.bob)).toMatchObject({
      username: 'bob',
      groups: ['team-a-viewers', 'system:authenticated'],
    });
    const token = await tokenFor(t.credentials.dev, cluster);
    expect((await rejection(clientsWithToken(cluster, token).core.listNamespace())).code).toBe(401);
  });

  it('prefers the access entry over aws-auth on an API_AND_CONFIG_MAP cluster and falls back to aws-auth', async () => {
    const cluster = t.clusters.mixed;
    expect((await whoAmI(cluster, t.credentials.alice))?.username).toBe('alice');
    expect((await whoAmI(cluster, t.credentials.bob))?.username).toBe('bob');
  });

  it('matches an aws-auth role ARN without the IAM path, and never one written with the path', async () => {
    const cluster = t.clusters.configMap;
    // role/ops/Admin is listed as role/Admin: it matches, and {{SessionName}} turns '@' into '-'.
    expect(await whoAmI(cluster, t.credentials.admin)).toMatchObject({
      username: 'admin:alice-example.com',
      groups: ['system:masters', 'system:authenticated'],
    });
    // role/teams/Auditor is listed with its path, which aws-iam-authenticator never matches.
    const token = await tokenFor(t.credentials.auditor, cluster);
    expect((await rejection(clientsWithToken(cluster, token).core.listNamespace())).code).toBe(401);
  });

  it('expands {{SessionName}} in access entry usernames and keeps the role path out of the default one', async () => {
    expect((await whoAmI(t.clusters.api, t.credentials.dev))?.username).toBe('dev:dana');
    // The default username keeps no role path; {{SessionName}} transliterates '@' as in aws-auth.
    expect((await whoAmI(t.clusters.api, t.credentials.admin))?.username).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice-example.com`,
    );
  });

  it('reports the caller ARNs as extra user info, as aws-iam-authenticator does', async () => {
    const user = await whoAmI(t.clusters.api, t.credentials.admin);
    expect(user?.extra).toMatchObject({
      arn: [`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice@example.com`],
      canonicalArn: [`arn:aws:iam::${ACCOUNT}:role/Admin`],
      sessionName: ['alice@example.com'],
    });
  });

  it('treats a malformed aws-auth as mapping nobody, without failing other requests', async () => {
    const cluster = t.clusters.configMap;
    const kube = cluster.kube;
    const current = kube.get('configmaps', 'kube-system', 'aws-auth')!;
    kube.update('configmaps', {
      ...current,
      data: { mapRoles: '- rolearn: [unclosed', mapUsers: awsAuthData().mapUsers! },
    });
    try {
      const token = await tokenFor(t.credentials.bob, cluster);
      expect((await rejection(clientsWithToken(cluster, token).core.listNamespace())).code).toBe(401);
    } finally {
      const broken = kube.get('configmaps', 'kube-system', 'aws-auth')!;
      kube.update('configmaps', { ...broken, data: awsAuthData() });
    }
    expect((await whoAmI(cluster, t.credentials.bob))?.username).toBe('bob');
  });

  it('stops mapping a principal as soon as its access entry is deleted', async () => {
    const cluster = t.clusters.api;
    const entry = cluster.accessEntries.get(t.users.alice.arn)!;
    const token = await tokenFor(t.credentials.alice, cluster);
    cluster.accessEntries.delete(entry.principalArn);
    try {
      expect((await rejection(clientsWithToken(cluster, token).core.listNamespace())).code).toBe(401);
    } finally {
      cluster.accessEntries.set(entry.principalArn, entry);
    }
  });
});

describe('verifyEksToken', () => {
  it('names why a token fails, so each 401 above is for the intended reason', async () => {
    const cluster = t.clusters.api;
    const now = new Date();
    const verify = (token: string, at = now) => {
      const result = verifyEksToken(token, cluster.name, t.world, at);
      return result.ok ? 'ok' : result.reason;
    };
    const token = await tokenFor(t.credentials.alice, cluster, now);
    expect(verify(token)).toBe('ok');
    expect(verify(await tokenFor(t.credentials.alice, t.clusters.mixed, now))).toMatch(
      /^SignatureDoesNotMatch/,
    );
    expect(verify(token, new Date(now.getTime() + 16 * 60_000))).toBe('token expired');
    expect(verify(token, new Date(now.getTime() - 10 * 60_000))).toBe('token signed in the future');
    const url = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    const reencode = (u: string) => EKS_TOKEN_PREFIX + Buffer.from(u).toString('base64url');
    expect(verify(reencode(url.replace('sts.us-west-2.amazonaws.com', 'sts.example.com')))).toMatch(
      /is not STS/,
    );
    expect(verify(reencode(`${url}&Extra=1`))).toMatch(/unexpected query parameter/);
    expect(
      verify(reencode(url.replace('X-Amz-SignedHeaders=host%3Bx-k8s-aws-id', 'X-Amz-SignedHeaders=host'))),
    ).toMatch(/does not sign host and x-k8s-aws-id/);
  });

  it('checks the signature over the STS host, so a token cannot be moved to another STS host', async () => {
    const token = await tokenFor(t.credentials.alice, t.clusters.api);
    const url = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    // sts.amazonaws.com passes the host check; the signature, made for sts.us-west-2, does not.
    const moved =
      EKS_TOKEN_PREFIX +
      Buffer.from(url.replace('sts.us-west-2.amazonaws.com', 'sts.amazonaws.com')).toString('base64url');
    const result = verifyEksToken(moved, t.clusters.api.name, t.world, new Date());
    expect(result.ok ? 'ok' : result.reason).toMatch(/^SignatureDoesNotMatch/);
  });
});
