// A fleet world: many generated clusters over many AWS accounts and regions, as a large EKS estate
// looks to one connector deployment. `eks-sim serve --world fleet:clusters=1000,accounts=100,regions=4`
// (or a world file's `fleet:` section) builds it. Deterministic for its spec: the benchmark that
// registers the fleet computes the same cluster list with `fleetClusters` instead of reading it back.
//
// What varies, by cluster index (so every run gets the same mix):
// - authentication mode: API, API_AND_CONFIG_MAP and CONFIG_MAP in turn;
// - size: 80% small, 15% medium, 5% large (namespaces, bindings, access entries, service accounts);
// - account and region: clusters are dealt to accounts round-robin; an account's clusters are
//   spread over `regions` regions.
// One connector identity serves the whole fleet, as a deployment has: the first account's
// `eks-access-connector` user (the generator's fixed key). Every account has an
// `EksAccessConnector` role; in the first account it trusts the user directly, in every other
// account only with that account's ExternalId (`fleet-<accountId>`), the cross-account setup the
// setup guide recommends. Every account also gets IAM roles and users of varied trust.
//
// Limits are fault rules the spec turns on: `latencyMs` on every call, `eksPerAccount` (EKS calls
// per second per account in each region, as AWS counts them), `iamPerAccount` and `stsPerAccount`
// (likewise), and `kubePerCluster` (each API server's own limit, answered 429 with Retry-After as
// API Priority and Fairness does).
import type { FaultRule } from '../faults.js';
import { CONNECTOR_ROLE_NAME, CONNECTOR_USER_NAME } from './defaults.js';
import { generateInto } from './generate.js';
import { FLEET_REGIONS, type FleetSpec, fleetSpecSchema } from './schema.js';
import type { AuthenticationMode } from './types.js';
import { World } from './world.js';

export type { FleetSpec };

const MODES: AuthenticationMode[] = ['API', 'API_AND_CONFIG_MAP', 'CONFIG_MAP'];

export type FleetSize = 'small' | 'medium' | 'large';

const SIZES: Record<
  FleetSize,
  {
    namespaces: number;
    serviceAccounts: number;
    clusterRoles: number;
    roles: number;
    roleBindings: number;
    clusterRoleBindings: number;
    accessEntries: number;
  }
> = {
  small: {
    namespaces: 5,
    serviceAccounts: 10,
    clusterRoles: 3,
    roles: 5,
    roleBindings: 15,
    clusterRoleBindings: 3,
    accessEntries: 5,
  },
  medium: {
    namespaces: 20,
    serviceAccounts: 40,
    clusterRoles: 10,
    roles: 20,
    roleBindings: 60,
    clusterRoleBindings: 10,
    accessEntries: 20,
  },
  large: {
    namespaces: 60,
    serviceAccounts: 150,
    clusterRoles: 30,
    roles: 80,
    roleBindings: 300,
    clusterRoleBindings: 30,
    accessEntries: 60,
  },
};

export interface FleetCluster {
  index: number;
  name: string;
  accountId: string;
  region: string;
  authenticationMode: AuthenticationMode;
  size: FleetSize;
  /** The connector role to assume in the cluster's account. */
  roleArn: string;
  /** The ExternalId that role's trust policy requires; undefined in the connector's own account. */
  externalId?: string;
}

/** The fleet's account ids: 2000000000NN… (12 digits), the first one hosting the connector. */
export function fleetAccounts(spec: Pick<FleetSpec, 'accounts'>): string[] {
  return Array.from({ length: spec.accounts }, (_, a) => String(200_000_000_000 + a + 1));
}

function sizeOf(index: number): FleetSize {
  const bucket = index % 20;
  return bucket === 0 ? 'large' : bucket <= 3 ? 'medium' : 'small';
}

/** Every cluster of the fleet, in index order (round-robin over accounts). */
export function fleetClusters(spec: FleetSpec): FleetCluster[] {
  const accounts = fleetAccounts(spec);
  const out: FleetCluster[] = [];
  for (let i = 0; i < spec.clusters; i++) {
    const a = i % spec.accounts;
    const nth = Math.floor(i / spec.accounts);
    const accountId = accounts[a]!;
    out.push({
      index: i,
      name: `fleet-${String(a + 1).padStart(3, '0')}-${String(nth + 1).padStart(3, '0')}`,
      accountId,
      region: FLEET_REGIONS[(a + nth) % spec.regions]!,
      authenticationMode: MODES[i % MODES.length]!,
      size: sizeOf(i),
      roleArn: `arn:aws:iam::${accountId}:role/${CONNECTOR_ROLE_NAME}`,
      ...(a === 0 ? {} : { externalId: `fleet-${accountId}` }),
    });
  }
  return out;
}

/** The fault rules the spec's limits and latency stand for. */
export function fleetFaults(spec: FleetSpec): FaultRule[] {
  const rules: FaultRule[] = [];
  if (spec.latencyMs) rules.push({ target: '*', latencyMs: spec.latencyMs });
  const perAccount = [
    ['eks:*', spec.eksPerAccount],
    ['iam:*', spec.iamPerAccount],
    ['sts:*', spec.stsPerAccount],
  ] as const;
  for (const [target, limit] of perAccount)
    if (limit) rules.push({ target, throttleAbovePerSecond: limit, per: 'account-region' });
  if (spec.kubePerCluster)
    rules.push({
      target: 'kube:*',
      throttleAbovePerSecond: spec.kubePerCluster,
      per: 'cluster',
      retryAfterSeconds: 1,
    });
  return rules;
}

/** Builds the fleet world. */
export function createFleetWorld(spec: FleetSpec): World {
  const world = new World();
  const seed = spec.seed ?? 1;
  const clusters = fleetClusters(spec);
  const firstInAccount = new Set<string>();
  for (const c of clusters) {
    const first = !firstInAccount.has(c.accountId);
    firstInAccount.add(c.accountId);
    generateInto(world, {
      seed: seed * 100_003 + c.index,
      clusterName: c.name,
      accountId: c.accountId,
      region: c.region,
      authenticationMode: c.authenticationMode,
      ...SIZES[c.size],
      // IAM principals once per account: varied trust policies for the trust analysis.
      iamRoles: first ? 20 : 0,
      iamUsers: first ? 5 : 0,
    });
  }
  const accounts = fleetAccounts(spec);
  const hosting = world.findUserByName(accounts[0]!, CONNECTOR_USER_NAME)!;
  for (const [a, accountId] of accounts.entries()) {
    const role = world.findRoleByName(accountId, CONNECTOR_ROLE_NAME)!;
    role.assumeRolePolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: hosting.arn },
          Action: 'sts:AssumeRole',
          ...(a === 0 ? {} : { Condition: { StringEquals: { 'sts:ExternalId': `fleet-${accountId}` } } }),
        },
      ],
    };
  }
  return world;
}

/**
 * Splits `clusters=1000,accounts=100,regions=4[,key=value…]` into the fleet section of a world
 * document (validated with the rest of it, so a bad value is reported as `fleet.clusters: …`).
 */
export function parseFleetFlag(text: string): Record<string, string> {
  const raw: Record<string, string> = {};
  const bad: string[] = [];
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) bad.push(part);
    else raw[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (bad.length > 0)
    throw new Error(
      `--world fleet:${text}: ${bad.map((b) => `"${b}"`).join(', ')} is not key=value ` +
        '(keys: clusters accounts regions seed latencyMs eksPerAccount iamPerAccount stsPerAccount kubePerCluster)',
    );
  return raw;
}

/** The fleet spec of a world document, when it has one (after the document was validated). */
export function fleetSpecOf(doc: unknown): FleetSpec | undefined {
  const fleet = (doc as { fleet?: unknown } | null)?.fleet;
  return fleet === undefined ? undefined : fleetSpecSchema.parse(fleet);
}
