// EKS Pod Identity against the simulator with the AWS SDK's own container-credentials provider
// (what the default chain uses when AWS_CONTAINER_CREDENTIALS_FULL_URI is set), and the EKS API's
// pod identity associations through the real EKS client.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../sim.js';
import { allowConnectorPods, DEMO_PODS } from '../world/connector-pods.js';
import { createDemoWorld, DEMO } from '../world/demo.js';
import { mintServiceAccountToken, POD_IDENTITY_AUDIENCE } from './service-account-token.js';

let sim: RunningSim;
const dir = mkdtempSync(join(tmpdir(), 'eks-sim-pod-identity-'));
let files = 0;

beforeAll(async () => {
  sim = await startSim({
    world: () => {
      const world = allowConnectorPods(createDemoWorld());
      const host = world.getCluster(DEMO.accounts.main, 'eu-west-1', 'prod-eu')!;
      for (const name of ['unassociated', 'untrusted']) {
        host.kube.create('serviceaccounts', { metadata: { name, namespace: 'eks-access' } });
      }
      world.addPodIdentityAssociation(host, {
        namespace: 'eks-access',
        serviceAccount: 'untrusted',
        roleArn: DEMO.roles.platformDeployer,
      });
      return world;
    },
  });
});

afterAll(async () => {
  await sim.close();
});

const host = () => sim.findCluster('prod-eu')!;

/** The SDK's provider as the default chain builds it from the Pod Identity variables. */
function podIdentity(serviceAccount: string = DEMO_PODS.serviceAccount, audience = POD_IDENTITY_AUDIENCE) {
  const { token } = mintServiceAccountToken(sim.world, host(), {
    namespace: 'eks-access',
    serviceAccount,
    audience,
  });
  const file = join(dir, `token-${files++}`);
  writeFileSync(file, token);
  return fromHttp({
    awsContainerCredentialsFullUri: sim.ready().podIdentityAgent,
    awsContainerAuthorizationTokenFile: file,
    maxRetries: 0,
  });
}

function sts(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return new STSClient({ region: 'eu-west-1', endpoint: sim.awsEndpoint, credentials, maxAttempts: 1 });
}

describe('the EKS Pod Identity agent', () => {
  it("answers the associated role's credentials for the service account's token, and they chain on", async () => {
    const credentials = await podIdentity()();
    const me = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toMatch(
      new RegExp(
        `^arn:aws:sts::${DEMO.accounts.main}:assumed-role/EksAccessConnectorPod/eks-prod-eu-eks-access-connector-[0-9a-f]{12}$`,
      ),
    );
    const chained = await sts(credentials).send(
      new AssumeRoleCommand({ RoleArn: DEMO.connector.roleArn, RoleSessionName: 'sync' }),
    );
    expect(chained.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${DEMO.accounts.main}:assumed-role/EksAccessConnector/sync`,
    );
  });

  it('says why it refuses: no association, an IRSA-audience token, a role that does not trust pods', async () => {
    await expect(podIdentity('unassociated')()).rejects.toMatchObject({
      Code: 'ResourceNotFoundException',
      Message: 'no pod identity association for service account eks-access/unassociated in cluster prod-eu',
    });
    await expect(podIdentity(DEMO_PODS.serviceAccount, 'sts.amazonaws.com')()).rejects.toMatchObject({
      Code: 'InvalidTokenException',
      Message: "the token's audience sts.amazonaws.com is not pods.eks.amazonaws.com",
    });
    await expect(podIdentity('untrusted')()).rejects.toMatchObject({
      Code: 'AccessDeniedException',
      Message: `role ${DEMO.roles.platformDeployer} cannot be assumed by pods.eks.amazonaws.com: no statement of its trust policy allows sts:AssumeRole for service pods.eks.amazonaws.com`,
    });
  });
});

describe('EKS pod identity associations', () => {
  it('creates, lists, describes and deletes an association; a second one for the same service account is refused', async () => {
    const eks = new EKSClient({
      region: 'eu-west-1',
      endpoint: sim.awsEndpoint,
      credentials: { accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey },
      maxAttempts: 1,
    });
    const created = await eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'prod-eu',
        namespace: 'team-a',
        serviceAccount: 'app',
        roleArn: DEMO.roles.platformDeployer,
      }),
    );
    const id = created.association!.associationId!;
    expect(created.association).toMatchObject({
      clusterName: 'prod-eu',
      namespace: 'team-a',
      serviceAccount: 'app',
    });
    await expect(
      eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'prod-eu',
          namespace: 'team-a',
          serviceAccount: 'app',
          roleArn: DEMO.roles.platformDeployer,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceInUseException' });
    const listed = await eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: 'prod-eu', namespace: 'team-a' }),
    );
    expect(listed.associations?.map((a) => a.serviceAccount)).toEqual(['app']);
    const described = await eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: 'prod-eu', associationId: id }),
    );
    expect(described.association?.roleArn).toBe(DEMO.roles.platformDeployer);
    await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod-eu', associationId: id }));
    await expect(
      eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'prod-eu', associationId: id })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
