// The "default chain → AssumeRole" hosting mode in a pod: the SDK's own default chain reads the
// environment EKS gives a pod (here EKS Pod Identity; IRSA runs in test/e2e/pod-credentials) and
// eks-core chains into the cluster's role. Also what a user sees when the pod's identity is
// refused or missing. The environment is this test file's own (each file runs in its own worker).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allowConnectorPods,
  createDemoWorld,
  DEMO,
  DEMO_PODS,
  mintServiceAccountToken,
  POD_IDENTITY_AUDIENCE,
  startSim,
  type RunningSim,
} from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCluster } from '../sync/sync-cluster.js';

let sim: RunningSim;
const dir = mkdtempSync(join(tmpdir(), 'eks-core-pod-'));

beforeAll(async () => {
  sim = await startSim({
    world: () => {
      const world = allowConnectorPods(createDemoWorld());
      world
        .getCluster(DEMO.accounts.main, 'eu-west-1', 'prod-eu')!
        .kube.create('serviceaccounts', { metadata: { name: 'lonely', namespace: 'eks-access' } });
      return world;
    },
  });
});
afterAll(async () => {
  await sim.close();
});

const POD_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
];

/** Runs `fn` with exactly `vars` among the credential variables, and no shared config files. */
async function withPodEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(POD_VARIABLES.map((k) => [k, process.env[k]]));
  for (const k of POD_VARIABLES) delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    ...vars,
  });
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function podIdentityEnv(serviceAccount: string): Record<string, string> {
  const host = sim.findCluster('prod-eu')!;
  const file = join(dir, `token-${serviceAccount}`);
  writeFileSync(
    file,
    mintServiceAccountToken(sim.world, host, {
      namespace: 'eks-access',
      serviceAccount,
      audience: POD_IDENTITY_AUDIENCE,
    }).token,
  );
  return {
    AWS_CONTAINER_CREDENTIALS_FULL_URI: sim.ready().podIdentityAgent,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file,
  };
}

function syncLegacy() {
  return syncCluster({
    cluster: { name: 'legacy-us', region: 'us-east-1' },
    credentials: {
      base: { kind: 'default-chain' },
      assume: [{ roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId }],
    },
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
  });
}

describe('the default chain in a pod', () => {
  it("EKS Pod Identity: the pod's role, then the cluster's role with its ExternalId, and the sync completes", async () => {
    const sync = await withPodEnv(podIdentityEnv(DEMO_PODS.serviceAccount), syncLegacy);
    for await (const _ of sync.resources()) void _;
    expect(sync.report.status).toBe('complete');
    expect(sync.report.apiCalls['sts:AssumeRole']?.calls).toBe(1);
    expect(sim.faults.snapshot().operations['eks-auth:AssumeRoleForPodIdentity']).toBeGreaterThan(0);
  });

  it("says in one line why the Pod Identity agent refused the pod's credentials", async () => {
    const err = await withPodEnv(podIdentityEnv('lonely'), syncLegacy).then(
      () => ({ code: 'none', message: 'expected a refusal' }),
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err.code).toBe('AWS_CREDENTIALS_INVALID');
    expect(err.message).toBe(
      "the EKS Pod Identity agent (AWS_CONTAINER_CREDENTIALS_FULL_URI) refused the pod's credentials: ResourceNotFoundException: no pod identity association for service account eks-access/lonely in cluster prod-eu",
    );
  });

  it('names the variables to set when the process has no identity at all', async () => {
    await expect(withPodEnv({}, syncLegacy)).rejects.toMatchObject({
      code: 'AWS_CREDENTIALS_INVALID',
      message: expect.stringMatching(
        /^no AWS credentials for the process's own identity: set up IRSA \(AWS_ROLE_ARN \+ AWS_WEB_IDENTITY_TOKEN_FILE\) or EKS Pod Identity/,
      ),
    });
  });
});
