// Helpers for tests that drive one cluster's Kubernetes endpoint with real clients: serve it over
// HTTPS on a free loopback port with the cluster's own CA, mint tokens, and describe the endpoint
// as KubeConfig options (client-node's `loadFromOptions`), so callers need nothing but the world.
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Faults } from '../faults.js';
import type { CallerIdentity, Cluster, Credential, IamRole } from '../world/types.js';
import type { World } from '../world/world.js';
import { createKubeRequestHandler } from './server.js';
import { createClusterTls } from './tls.js';
import { mintEksToken } from './token.js';

export interface KubeEndpoint {
  url: string;
  caPem: string;
  faults: Faults;
  close(): Promise<void>;
}

export interface StartKubeEndpointOptions {
  world: World;
  cluster: Cluster;
  faults?: Faults;
  now?: () => Date;
  /** How often watches that allow bookmarks get one. */
  watchBookmarkMs?: number;
}

/** Serves `cluster`'s Kubernetes API over HTTPS on 127.0.0.1 (generating its TLS if it has none). */
export async function startKubeEndpoint(options: StartKubeEndpointOptions): Promise<KubeEndpoint> {
  const { world, cluster } = options;
  cluster.tls ??= await createClusterTls(cluster.name, ['127.0.0.1']);
  const faults = options.faults ?? new Faults();
  const server = createServer(
    { cert: cluster.tls.certPem, key: cluster.tls.keyPem },
    createKubeRequestHandler({
      cluster: () => cluster,
      world: () => world,
      faults,
      ...(options.now ? { now: options.now } : {}),
      ...(options.watchBookmarkMs === undefined ? {} : { watchBookmarkMs: options.watchBookmarkMs }),
      onError: (err) => console.error('eks-sim kube handler failed', err),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  cluster.endpoint = url;
  return {
    url,
    caPem: cluster.tls.caPem,
    faults,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Options for client-node's `KubeConfig.loadFromOptions` pointing at `endpoint` with `token`. */
export function kubeConfigOptions(endpoint: KubeEndpoint, token: string) {
  return {
    clusters: [
      {
        name: 'sim',
        server: endpoint.url,
        caData: Buffer.from(endpoint.caPem).toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'caller', token }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'caller' }],
    currentContext: 'sim',
  };
}

/** Issues temporary credentials for a session of `role`, as AssumeRole would. */
export function assumeRole(
  world: World,
  role: IamRole,
  sessionName: string,
  expiresAt = new Date(Date.now() + 3600_000),
): Credential {
  const identity: CallerIdentity = {
    kind: 'assumed-role',
    accountId: role.accountId,
    arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`,
    userId: `${role.roleId}:${sessionName}`,
    roleArn: role.arn,
    sessionName,
  };
  return world.issueTemporaryCredentials(identity, expiresAt);
}

/** An EKS token for `cluster` signed with `credential`. */
export function tokenFor(credential: Credential, cluster: Cluster, now?: Date): Promise<string> {
  return mintEksToken({
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken === undefined ? {} : { sessionToken: credential.sessionToken }),
    },
    region: cluster.region,
    clusterName: cluster.name,
    ...(now ? { now } : {}),
  });
}

/** Creates namespaces directly in the cluster's store. */
export function addNamespaces(cluster: Cluster, ...names: string[]): void {
  for (const name of names) {
    cluster.kube.create('namespaces', {
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  /** The body's bytes (for binary answers). */
  raw: Buffer;
}

/** A plain HTTPS request to the endpoint (for what typed clients cannot send: odd bodies, headers). */
export function rawRequest(
  endpoint: KubeEndpoint,
  options: {
    method?: string;
    path: string;
    token?: string;
    /** A list sends the header once per value (Impersonate-Group). */
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
  },
): Promise<RawResponse> {
  const url = new URL(options.path, endpoint.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: endpoint.caPem,
        headers: {
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
          ...(options.body === undefined
            ? {}
            : { 'Content-Length': String(Buffer.byteLength(options.body)) }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, raw });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
