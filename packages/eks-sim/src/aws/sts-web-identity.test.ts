// IRSA against the simulator with the AWS SDK's own web-identity provider (the one the default
// chain uses when AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set), given its options
// explicitly so the test does not depend on this process's environment.
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTokenFile } from '@aws-sdk/credential-provider-web-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintServiceAccountToken } from '../oidc/service-account-token.js';
import { startSim, type RunningSim } from '../sim.js';
import { allowConnectorPods, DEMO_PODS } from '../world/connector-pods.js';
import { createDemoWorld, DEMO } from '../world/demo.js';

let sim: RunningSim;
const dir = mkdtempSync(join(tmpdir(), 'eks-sim-irsa-'));

beforeAll(async () => {
  sim = await startSim({
    world: () => {
      const world = allowConnectorPods(createDemoWorld());
      const host = world.getCluster(DEMO.accounts.main, 'eu-west-1', 'prod-eu')!;
      host.kube.create('serviceaccounts', { metadata: { name: 'x', namespace: 'default' } });
      return world;
    },
  });
});

afterAll(async () => {
  await sim.close();
});

const host = () => sim.findCluster('prod-eu')!;

function tokenFile(name: string, token: string): string {
  const file = join(dir, name);
  writeFileSync(file, token);
  return file;
}

function podToken(
  serviceAccount: string = DEMO_PODS.serviceAccount,
  namespace: string = DEMO_PODS.namespace,
  audience?: string,
) {
  return mintServiceAccountToken(sim.world, host(), {
    namespace,
    serviceAccount,
    ...(audience ? { audience } : {}),
  }).token;
}

/** The SDK's provider, exactly as the default chain builds it from the two variables. */
function webIdentity(token: string, roleArn: string = DEMO_PODS.roleArn) {
  return fromTokenFile({
    webIdentityTokenFile: tokenFile(`t-${Math.random()}`, token),
    roleArn,
    roleSessionName: 'pod-session',
    clientConfig: { region: 'eu-west-1', endpoint: sim.awsEndpoint },
  });
}

function sts(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return new STSClient({ region: 'eu-west-1', endpoint: sim.awsEndpoint, credentials, maxAttempts: 1 });
}

describe('sts:AssumeRoleWithWebIdentity (IRSA)', () => {
  it("gives the service account's token the role, and the role chains into a cluster role with its ExternalId", async () => {
    const credentials = await webIdentity(podToken())();
    const me = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:sts::${DEMO.accounts.main}:assumed-role/EksAccessConnectorPod/pod-session`);
    expect(credentials.expiration!.getTime()).toBeGreaterThan(Date.now());

    const chained = await sts(credentials).send(
      new AssumeRoleCommand({
        RoleArn: DEMO.connector.legacyRoleArn,
        RoleSessionName: 'sync',
        ExternalId: DEMO.connector.externalId,
      }),
    );
    expect(chained.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${DEMO.accounts.legacy}:assumed-role/EksAccessConnector/sync`,
    );
  });

  it('refuses another service account with one line naming the condition that failed', async () => {
    const err = await webIdentity(podToken('x', 'default'))().then(
      () => new Error('expected a refusal'),
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const provider = host().oidcIssuer.replace('https://', '');
    expect(err.message).toBe(
      `Not authorized to perform sts:AssumeRoleWithWebIdentity: role ${DEMO_PODS.roleArn} cannot be assumed with web identity: ` +
        `condition StringEquals ${provider}:sub = system:serviceaccount:eks-access:eks-access-connector did not match system:serviceaccount:default:x`,
    );
    expect(err.message).not.toContain('\n');
  });

  it('refuses a token for an audience the OIDC provider does not list', async () => {
    const err = await webIdentity(podToken(undefined, undefined, 'pods.eks.amazonaws.com'))().then(
      () => new Error('expected a refusal'),
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ name: 'InvalidIdentityTokenException' });
    expect(err.message).toMatch(/^Incorrect token audience: pods\.eks\.amazonaws\.com is not a client id of/);
  });

  it('refuses an expired token, a tampered one, and one whose issuer the role account never registered', async () => {
    const expired = mintServiceAccountToken(sim.world, host(), {
      namespace: DEMO_PODS.namespace,
      serviceAccount: DEMO_PODS.serviceAccount,
      now: new Date(Date.now() - 2 * 3600_000),
    }).token;
    await expect(webIdentity(expired)()).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      message: expect.stringMatching(/^Token expired: current date\/time/),
    });

    const [header, payload, signature] = podToken().split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' }),
    ).toString('base64url');
    await expect(webIdentity(`${header}.${forged}.${signature}`)()).rejects.toMatchObject({
      name: 'InvalidIdentityTokenException',
      message: expect.stringContaining('signature does not verify'),
    });

    // A role in the legacy account that names prod-eu's issuer, with no OIDC provider there.
    const issuerUrl = host().oidcIssuer.replace('https://', '');
    const stranger = sim.world.addRole({
      accountId: DEMO.accounts.legacy,
      roleName: `IrsaWithoutProvider${Math.floor(Math.random() * 1e6)}`,
      assumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${DEMO.accounts.legacy}:oidc-provider/${issuerUrl}` },
            Action: 'sts:AssumeRoleWithWebIdentity',
          },
        ],
      },
    });
    await expect(webIdentity(podToken(), stranger.arn)()).rejects.toMatchObject({
      name: 'InvalidIdentityTokenException',
      message: `No OpenIDConnect provider found in your account for ${host().oidcIssuer}`,
    });
  });

  it("publishes the issuer's discovery document and keys, which verify its tokens", async () => {
    const issuer = host().oidcIssuer;
    const base = `${sim.awsEndpoint}/_oidc/${issuer.replace('https://', '')}`;
    const discovery = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(issuer);
    const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Record<string, string>[] };
    const [header, payload, signature] = podToken().split('.') as [string, string, string];
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const jwk = keys.find((k) => k.kid === kid)!;
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    expect(
      verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url')),
    ).toBe(true);
    expect(
      (await fetch(`${sim.awsEndpoint}/_oidc/oidc.eks.eu-west-1.amazonaws.com/id/NOPE/keys`)).status,
    ).toBe(404);
  });
});
