// Shared set-up of the provisioning tests: the demo world plus principals that start with no
// access anywhere, a connector that may write in every cluster, sessions as the provisioner opens
// them, and "act as the principal": mint its own EKS token and call the simulated API server.
import { Agent } from 'undici';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CoreV1Api,
  ServerConfiguration,
  createConfiguration,
  type RequestContext,
} from '@kubernetes/client-node';
import {
  DEMO,
  allowConnectorProvisioning,
  createDemoWorld,
  type RunningSim,
  type World,
} from '@eks-access/eks-sim';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { CredentialsConfig } from '../aws/credentials.js';
import { mintEksToken } from '../kube/eks-token.js';
import { ClusterSession } from '../session.js';

const MAIN = DEMO.accounts.main;
const LEGACY = DEMO.accounts.legacy;
const SSO_PATH = '/aws-reserved/sso.amazonaws.com/eu-west-1/';
export const AP = 'arn:aws:eks::aws:cluster-access-policy';

interface KeyedUser {
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Principals added for these tests; none of them has any access in any cluster at the start. */
export const T = {
  carol: {
    arn: `arn:aws:iam::${MAIN}:user/people/carol`,
    accessKeyId: 'AKIAEKSSIMCAROL00001',
    secretAccessKey: 'eksSimCarolSecretKeyDoNotUseInAws/000001',
  },
  dave: {
    arn: `arn:aws:iam::${LEGACY}:user/dave`,
    accessKeyId: 'AKIAEKSSIMDAVE000001',
    secretAccessKey: 'eksSimDaveSecretKeyDoNotUseInAwsAt/00001',
  },
  /** A role with an IAM path, assumable by carol. */
  tester: `arn:aws:iam::${MAIN}:role/teams/ProvisionTester`,
  /** An IAM Identity Center style role (SSO path), assumable by carol so the test can act as it. */
  ssoTester: `arn:aws:iam::${MAIN}:role${SSO_PATH}AWSReservedSSO_Tester_0123456789abcdef`,
  /** A path role in the legacy account, assumable by dave. */
  legacyTester: `arn:aws:iam::${LEGACY}:role/teams/LegacyTester`,
} as const satisfies Record<string, KeyedUser | string>;

export type ClusterName = 'prod-eu' | 'staging-us' | 'legacy-us';

export const CLUSTERS: Record<ClusterName, { region: string; mode: string }> = {
  'prod-eu': { region: 'eu-west-1', mode: 'API' },
  'staging-us': { region: 'us-east-1', mode: 'API_AND_CONFIG_MAP' },
  'legacy-us': { region: 'us-east-1', mode: 'CONFIG_MAP' },
};

const trust = (principal: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow' as const, Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
});

/**
 * The demo world, plus the test principals, plus write access for the connector (the demo maps it
 * read-only): AmazonEKSClusterAdminPolicy on its access entry in the API clusters, and a
 * ClusterRoleBinding to cluster-admin for its aws-auth username in legacy-us.
 */
export function createProvisioningWorld(): World {
  const world = createDemoWorld();
  for (const [accountId, user] of [
    [MAIN, T.carol],
    [LEGACY, T.dave],
  ] as const) {
    const parts = /user(\/.*\/|\/)([^/]+)$/.exec(user.arn);
    world.addUser({ accountId, userName: parts?.[2] ?? '', path: parts?.[1] ?? '/' });
    world.addAccessKey(user.arn, user.accessKeyId, user.secretAccessKey);
  }
  world.addRole({
    accountId: MAIN,
    roleName: 'ProvisionTester',
    path: '/teams/',
    assumeRolePolicyDocument: trust(T.carol.arn),
  });
  world.addRole({
    accountId: MAIN,
    roleName: 'AWSReservedSSO_Tester_0123456789abcdef',
    path: SSO_PATH,
    assumeRolePolicyDocument: trust(T.carol.arn),
  });
  world.addRole({
    accountId: LEGACY,
    roleName: 'LegacyTester',
    path: '/teams/',
    assumeRolePolicyDocument: trust(T.dave.arn),
  });

  return allowConnectorProvisioning(world);
}

const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 };
/** Attempts per call in these tests' sessions (a fault with this count exhausts one call). */
export const TEST_MAX_ATTEMPTS = FAST_RETRY.maxAttempts;

const connectorKeys = {
  kind: 'static',
  accessKeyId: DEMO.connector.accessKeyId,
  secretAccessKey: DEMO.connector.secretAccessKey,
} as const;

/** A session as the provisioner opens one: the connector role of the cluster's account (with the ExternalId for legacy). */
export function connectorSession(sim: RunningSim, cluster: ClusterName): ClusterSession {
  const credentials: CredentialsConfig =
    cluster === 'legacy-us'
      ? {
          base: connectorKeys,
          assume: [{ roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId }],
        }
      : { base: connectorKeys, assume: [{ roleArn: DEMO.connector.roleArn }] };
  return new ClusterSession({
    cluster: { name: cluster, region: CLUSTERS[cluster].region },
    credentials,
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    retry: FAST_RETRY,
  });
}

/** Runs `fn` with a fresh connector session and closes it afterwards. */
export async function withSession<T>(
  sim: RunningSim,
  cluster: ClusterName,
  fn: (s: ClusterSession) => Promise<T>,
): Promise<T> {
  const session = connectorSession(sim, cluster);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

/** The principal's own credentials: its access key, or a session of the role assumed with the key. */
export async function credentialsOf(
  sim: RunningSim,
  user: KeyedUser,
  roleArn?: string,
): Promise<AwsCredentialIdentity> {
  const keys = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
  if (!roleArn) return keys;
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: sim.awsEndpoint,
    credentials: keys,
    maxAttempts: 1,
  });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'provision-test' }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
    };
  } finally {
    sts.destroy();
  }
}

export type ListAnswer = 'allowed' | 'forbidden' | 'unauthenticated';

/** Acts as the principal: mints its EKS token and lists ConfigMaps in `namespace` on the simulated API server. */
export async function listConfigMapsAs(
  sim: RunningSim,
  cluster: ClusterName,
  credentials: AwsCredentialIdentity,
  namespace: string,
): Promise<ListAnswer> {
  const info = sim.clusters().find((c) => c.name === cluster);
  if (!info) throw new Error(`cluster ${cluster} is not served`);
  const token = await mintEksToken({
    credentials: async () => credentials,
    region: info.region,
    clusterName: info.name,
  });
  const agent = new Agent({ connect: { ca: Buffer.from(info.caData, 'base64').toString('utf8') } });
  const api = new CoreV1Api(
    createConfiguration({
      baseServer: new ServerConfiguration(info.endpoint, {}),
      authMethods: {
        default: {
          getName: () => 'eks-token',
          applySecurityAuthentication: async (ctx: RequestContext) => {
            ctx.setHeaderParam('Authorization', `Bearer ${token}`);
            ctx.setDispatcher(agent);
          },
        },
      },
    }),
  );
  try {
    await api.listNamespacedConfigMap({ namespace });
    return 'allowed';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 401) return 'unauthenticated';
    if (code === 403) return 'forbidden';
    throw err;
  } finally {
    await agent.destroy();
  }
}

/** Everything provisioning can change in a cluster: access entries and the Kubernetes store's revision. */
export function clusterState(sim: RunningSim, cluster: ClusterName): string {
  const c = sim.findCluster(cluster, CLUSTERS[cluster].region);
  if (!c) throw new Error(`no cluster ${cluster}`);
  const entries = [...c.accessEntries.values()].map((e) => ({
    ...e,
    associations: [...e.associations.values()],
  }));
  return JSON.stringify({ entries, revision: c.kube.list('configmaps').revision });
}

/** The aws-auth ConfigMap's data as stored in the simulator. */
export function awsAuthData(sim: RunningSim, cluster: ClusterName): Record<string, string> {
  const obj = sim
    .findCluster(cluster, CLUSTERS[cluster].region)
    ?.kube.get('configmaps', 'kube-system', 'aws-auth');
  return (obj?.data ?? {}) as Record<string, string>;
}

/** The scope of one policy association in the simulator, or undefined. */
export function associationScope(
  sim: RunningSim,
  cluster: ClusterName,
  principalArn: string,
  policyArn: string,
) {
  return sim
    .findCluster(cluster, CLUSTERS[cluster].region)
    ?.accessEntries.get(principalArn)
    ?.associations.get(policyArn)?.accessScope;
}

/** A one-at-a-time lock per key: what the provisioner app's distributed lock does, in process. */
export function createMutex(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    tails.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  };
}
