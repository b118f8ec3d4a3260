// A typed client of the simulator's admin API (fetch-based, no dependencies), for tests and
// benchmarks in any package: `createSimAdminClient(readyLine.aws.endpoint)`.
import type { z } from 'zod';
import type { AccessEntryJson, AdminErrorBody, AdminReplies, CounterSnapshot, RoleJson } from './admin.js';
import type { FaultRule } from './faults.js';
import type { KubeResource } from './kube/store.js';
import type { ReadyLine } from './sim.js';
import type { WorldProblem } from './world/load.js';
import type {
  accessEntrySchema,
  iamRoleSchema,
  kubeManifestSchema,
  oidcProviderSchema,
  podIdentityAssociationSchema,
} from './world/schema.js';

/** Which cluster, when a name alone is ambiguous (same name in two regions or accounts). */
export interface ClusterSelector {
  region?: string;
  accountId?: string;
}

export type AccessEntryInput = z.input<typeof accessEntrySchema>;
export type IamRoleInput = z.input<typeof iamRoleSchema>;
export type KubeManifestInput = z.input<typeof kubeManifestSchema>;
export type OidcProviderInput = z.input<typeof oidcProviderSchema>;
export type PodIdentityAssociationInput = z.input<typeof podIdentityAssociationSchema>;

/** What a service-account token is minted for (Kubernetes' TokenRequest, in short). */
export interface TokenRequestInput {
  namespace: string;
  serviceAccount: string;
  /** `sts.amazonaws.com` (IRSA, the default) or `pods.eks.amazonaws.com` (Pod Identity). */
  audience?: string | string[];
  /** 600 to 604800; default 3600. */
  expirationSeconds?: number;
}

/** An admin API error reply, with its stable `code` and any validation problems. */
export class SimAdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: WorldProblem[] = [],
  ) {
    super(message);
    this.name = 'SimAdminError';
  }
}

/** Creates a client for the admin API at `baseUrl` (the AWS endpoint, or the ready line's `admin` URL). */
export function createSimAdminClient(baseUrl: string, options: { fetch?: typeof fetch } = {}) {
  const root = `${baseUrl.replace(/\/+$/, '').replace(/\/_sim$/, '')}/_sim`;
  const doFetch = options.fetch ?? fetch;

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string | undefined> = {},
  ): Promise<T> {
    const qs = new URLSearchParams(
      Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString();
    const res = await doFetch(`${root}${path}${qs ? `?${qs}` : ''}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new SimAdminError(
        res.status,
        'InvalidResponse',
        `admin API answered ${res.status} with non-JSON: ${text.slice(0, 200)}`,
      );
    }
    if (!res.ok) {
      const err = (parsed as Partial<AdminErrorBody> | undefined)?.error;
      throw new SimAdminError(
        res.status,
        err?.code ?? 'Unknown',
        err?.message ?? `admin API answered ${res.status}`,
        err?.problems ?? [],
      );
    }
    return parsed as T;
  }

  const cluster = (name: string) => `/clusters/${encodeURIComponent(name)}`;
  const where = (s: ClusterSelector = {}) => ({ region: s.region, accountId: s.accountId });

  return {
    /** The ready line: endpoints, cluster CAs and long-lived credentials. */
    info: () => call<ReadyLine>('GET', '/info'),
    counters: () => call<CounterSnapshot>('GET', '/counters'),
    resetCounters: () => call<AdminReplies['ok']>('POST', '/counters/reset'),
    faults: async () => (await call<AdminReplies['faults']>('GET', '/faults')).rules,
    /** Replaces every fault rule. */
    setFaults: async (rules: FaultRule[]) =>
      (await call<AdminReplies['faults']>('PUT', '/faults', rules)).rules,
    addFaults: async (rules: FaultRule[]) =>
      (await call<AdminReplies['faults']>('POST', '/faults', rules)).rules,
    clearFaults: async () => (await call<AdminReplies['faults']>('DELETE', '/faults')).rules,
    /** Rebuilds the world from its definition; faults and counters are kept. */
    reset: () => call<AdminReplies['ok']>('POST', '/reset'),
    /** Expires every outstanding continue token of a cluster. */
    compact: (name: string, selector?: ClusterSelector) =>
      call<AdminReplies['compact']>('POST', `${cluster(name)}/compact`, undefined, where(selector)),
    /** Creates or replaces a Kubernetes object from a manifest. */
    putObject: (name: string, manifest: KubeManifestInput, selector?: ClusterSelector) =>
      call<AdminReplies['putObject']>('POST', `${cluster(name)}/objects`, manifest, where(selector)),
    deleteObject: (
      name: string,
      resource: KubeResource,
      namespace: string | undefined,
      objectName: string,
      selector?: ClusterSelector,
    ) =>
      call<AdminReplies['deleteObject']>(
        'DELETE',
        `${cluster(name)}/objects/${resource}/${encodeURIComponent(namespace ?? '-')}/${encodeURIComponent(objectName)}`,
        undefined,
        where(selector),
      ),
    addAccessEntry: (name: string, entry: AccessEntryInput, selector?: ClusterSelector) =>
      call<AccessEntryJson>('POST', `${cluster(name)}/access-entries`, entry, where(selector)),
    deleteAccessEntry: (name: string, principalArn: string, selector?: ClusterSelector) =>
      call<AdminReplies['deletedAccessEntry']>('DELETE', `${cluster(name)}/access-entries`, undefined, {
        ...where(selector),
        principalArn,
      }),
    addRole: (role: IamRoleInput) => call<RoleJson>('POST', '/iam/roles', role),
    /** Registers an IAM OIDC provider for a cluster's issuer in an account (IRSA). */
    addOidcProvider: (provider: OidcProviderInput) =>
      call<AdminReplies['oidcProvider']>('POST', '/iam/oidc-providers', provider),
    /** Gives a service account's pods the role through EKS Pod Identity. */
    addPodIdentityAssociation: (
      name: string,
      association: PodIdentityAssociationInput,
      selector?: ClusterSelector,
    ) =>
      call<AdminReplies['podIdentityAssociation']>(
        'POST',
        `${cluster(name)}/pod-identity-associations`,
        association,
        where(selector),
      ),
    /** Mints a projected service-account token signed by the cluster's OIDC issuer. */
    serviceAccountToken: (name: string, request: TokenRequestInput, selector?: ClusterSelector) =>
      call<AdminReplies['serviceAccountToken']>(
        'POST',
        `${cluster(name)}/service-account-token`,
        request,
        where(selector),
      ),
    /** Observed call rates per account and cluster since the last counters reset. */
    rates: () => call<AdminReplies['rates']>('GET', '/rates'),
  };
}

export type SimAdminClient = ReturnType<typeof createSimAdminClient>;
