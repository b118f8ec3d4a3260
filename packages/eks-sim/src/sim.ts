// Starts the simulator: the AWS endpoint on one port and one HTTPS Kubernetes endpoint per cluster,
// each served with that cluster's own CA (the CA DescribeCluster reports). The world can be reset
// to its initial state without restarting servers; TLS material survives resets so clients that
// pinned a cluster's CA keep working.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdminHandler } from './admin.js';
import { eksService } from './aws/eks.js';
import { iamService } from './aws/iam.js';
import { createAwsHandler } from './aws/server.js';
import { stsService } from './aws/sts.js';
import { Faults, type FaultRule } from './faults.js';
import { createOidcDiscovery, createPodIdentityAgent, POD_IDENTITY_PATH } from './oidc/endpoints.js';
import { IssuerKeys } from './oidc/issuer-keys.js';
import { createKubeRequestHandler } from './kube/server.js';
import { createClusterTls } from './kube/tls.js';
import { clusterKey, type Cluster, type ClusterTls } from './world/types.js';
import type { World } from './world/world.js';

export interface StartSimOptions {
  /** Builds the world; called again by reset(). */
  world: () => World;
  /** Host name advertised in endpoints, certificates and the ready line (default 127.0.0.1). */
  host?: string;
  /** Address the servers bind to (default 127.0.0.1; `0.0.0.0` in a container). */
  bindHost?: string;
  /** AWS endpoint port; 0 picks a free one. Kubernetes endpoints use the following ports when set. */
  port?: number;
  faults?: FaultRule[];
  /** Seed for fault randomness. */
  seed?: number;
  now?: () => Date;
}

export interface SimClusterInfo {
  name: string;
  region: string;
  accountId: string;
  arn: string;
  authenticationMode: string;
  endpoint: string;
  /** Base64 of the cluster CA PEM, as DescribeCluster's certificateAuthority.data. */
  caData: string;
  /** The cluster's service-account token issuer (DescribeCluster's identity.oidc.issuer). */
  oidcIssuer: string;
  /** The role `eks-sim kubeconfig` assumes by default to reach the cluster, when the world names one. */
  operator?: { roleArn: string; externalId?: string };
}

export interface SimCredentialInfo {
  principalArn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ReadyLine {
  event: 'ready';
  aws: { endpoint: string };
  admin: string;
  /** The EKS Pod Identity agent's credentials URL (AWS_CONTAINER_CREDENTIALS_FULL_URI). */
  podIdentityAgent: string;
  clusters: SimClusterInfo[];
  credentials: SimCredentialInfo[];
}

/** What the admin API and tests may control. */
export interface SimControl {
  readonly world: World;
  readonly faults: Faults;
  readonly awsEndpoint: string;
  clusters(): SimClusterInfo[];
  ready(): ReadyLine;
  reset(): void;
  findCluster(name: string, region?: string): Cluster | undefined;
}

export interface RunningSim extends SimControl {
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts every endpoint of the simulator and resolves once all are listening. */
export async function startSim(options: StartSimOptions): Promise<RunningSim> {
  const host = options.host ?? '127.0.0.1';
  const bindHost = options.bindHost ?? '127.0.0.1';
  const faults = new Faults(options.faults ?? [], options.seed ?? 1);
  // Issuer keys outlive world resets, like TLS material: a pod's token stays valid across them.
  const issuerKeys = new IssuerKeys();
  let world = options.world();
  world.issuerKeys = issuerKeys;
  const tlsByCluster = new Map<string, ClusterTls>();
  const endpointByCluster = new Map<string, string>();
  const servers: Server[] = [];

  const attach = (w: World) => {
    for (const [key, cluster] of w.clusters) {
      const tls = tlsByCluster.get(key);
      const endpoint = endpointByCluster.get(key);
      if (tls) cluster.tls = tls;
      if (endpoint) cluster.endpoint = endpoint;
    }
  };

  let awsEndpoint = '';
  const control: RunningSim = {
    get world() {
      return world;
    },
    faults,
    get awsEndpoint() {
      return awsEndpoint;
    },
    clusters: () =>
      [...world.clusters.values()]
        .filter((c) => c.endpoint && c.tls)
        .map((c) => ({
          name: c.name,
          region: c.region,
          accountId: c.accountId,
          arn: c.arn,
          authenticationMode: c.authenticationMode,
          endpoint: c.endpoint!,
          caData: Buffer.from(c.tls!.caPem).toString('base64'),
          oidcIssuer: c.oidcIssuer,
          ...(c.operator ? { operator: c.operator } : {}),
        })),
    ready: () => ({
      event: 'ready',
      aws: { endpoint: awsEndpoint },
      admin: `${awsEndpoint}/_sim`,
      podIdentityAgent: `${awsEndpoint}${POD_IDENTITY_PATH}`,
      clusters: control.clusters(),
      credentials: [...world.credentials.values()]
        .filter((c) => c.sessionToken === undefined)
        .map((c) => ({
          principalArn: c.identity.arn,
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
        })),
    }),
    reset: () => {
      const old = world;
      world = options.world();
      world.issuerKeys = issuerKeys;
      attach(world);
      // As after an API server restore: open watches end, and resuming any old version gets 410.
      for (const [key, cluster] of world.clusters) {
        const before = old.clusters.get(key);
        if (before) cluster.kube.startAfter(before.kube.currentRevision);
      }
      for (const cluster of old.clusters.values()) cluster.kube.retire();
    },
    findCluster: (name, region) =>
      [...world.clusters.values()].find(
        (c) => c.name === name && (region === undefined || c.region === region),
      ),
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };

  const awsServer = createHttpServer(
    createAwsHandler({
      world: () => world,
      faults,
      services: [stsService, iamService, eksService],
      host,
      admin: createAdminHandler(control),
      plain: [
        createPodIdentityAgent({ world: () => world, faults, ...(options.now ? { now: options.now } : {}) }),
        createOidcDiscovery({ world: () => world }),
      ],
      ...(options.now ? { now: options.now } : {}),
    }),
  );
  servers.push(awsServer);
  try {
    const awsPort = await listen(awsServer, options.port ?? 0, bindHost);
    awsEndpoint = `http://${host}:${awsPort}`;
    let nextPort = options.port ? awsPort + 1 : 0;
    for (const [key, cluster] of world.clusters) {
      const tls = await createClusterTls(cluster.name, [host]);
      tlsByCluster.set(key, tls);
      const server = createHttpsServer(
        { cert: tls.certPem, key: tls.keyPem },
        createKubeRequestHandler({
          cluster: () => world.clusters.get(key),
          world: () => world,
          faults,
          ...(options.now ? { now: options.now } : {}),
        }),
      );
      servers.push(server);
      const port = await listen(server, nextPort, bindHost);
      if (nextPort) nextPort++;
      endpointByCluster.set(key, `https://${host}:${port}`);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }
  attach(world);

  return control;
}

export { clusterKey };
