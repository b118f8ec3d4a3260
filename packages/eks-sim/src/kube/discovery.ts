// Discovery documents (/version, /api, /apis, per-group resource lists) describing exactly what
// this emulator serves, so kubectl and client-node discovery resolve kinds and verbs correctly.
// Only the legacy (unaggregated) JSON forms are served; clients fall back to them by themselves.
import { createHash } from 'node:crypto';
import type { Cluster } from '../world/types.js';
import { KUBE_RESOURCES, type KubeResource } from './store.js';

/**
 * Verbs the emulator implements for a stored resource (no watch). Namespaces have no
 * deletecollection, as on the API server.
 */
export function objectVerbsFor(resource: KubeResource): string[] {
  return resource === 'namespaces'
    ? ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
    : ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
}

export interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  storageVersionHash?: string;
}

export const REVIEW_GROUPS = {
  'authorization.k8s.io': [
    {
      name: 'selfsubjectaccessreviews',
      singularName: 'selfsubjectaccessreview',
      namespaced: false,
      kind: 'SelfSubjectAccessReview',
      verbs: ['create'],
    },
    {
      name: 'selfsubjectrulesreviews',
      singularName: 'selfsubjectrulesreview',
      namespaced: false,
      kind: 'SelfSubjectRulesReview',
      verbs: ['create'],
    },
  ],
  'authentication.k8s.io': [
    {
      name: 'selfsubjectreviews',
      singularName: 'selfsubjectreview',
      namespaced: false,
      kind: 'SelfSubjectReview',
      verbs: ['create'],
    },
  ],
} as const satisfies Record<string, ApiResource[]>;

export type ReviewGroup = keyof typeof REVIEW_GROUPS;
export type ReviewResource = (typeof REVIEW_GROUPS)[ReviewGroup][number]['name'];

/** Patch releases EKS ran for each minor at the time of writing; unknown minors get .0. */
const EKS_PATCH: Record<string, number> = {
  '1.28': 15,
  '1.29': 13,
  '1.30': 11,
  '1.31': 7,
  '1.32': 3,
  '1.33': 1,
  '1.34': 0,
};

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** GET /version, in the shape an EKS control plane reports (`v1.31.7-eks-1a2b3c4`). */
export function versionInfo(cluster: Cluster): Record<string, string> {
  const [major = '1', minor = '0'] = cluster.version.split('.');
  const patch = EKS_PATCH[`${major}.${minor}`] ?? 0;
  return {
    major,
    minor,
    gitVersion: `v${major}.${minor}.${patch}-eks-${hash(cluster.version, 7)}`,
    gitCommit: hash(`commit ${cluster.version}`, 40),
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.22.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function storedResources(group: string): ApiResource[] {
  return (Object.entries(KUBE_RESOURCES) as [KubeResource, (typeof KUBE_RESOURCES)[KubeResource]][])
    .filter(([, info]) => info.group === group)
    .map(([name, info]) => ({
      name,
      singularName: info.kind.toLowerCase(),
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: objectVerbsFor(name),
      ...(info.shortNames.length > 0 ? { shortNames: [...info.shortNames] } : {}),
      storageVersionHash: Buffer.from(hash(`${group}/${name}`, 8), 'hex').toString('base64'),
    }));
}

/** The API groups served under /apis, each at v1. */
export function apiGroupNames(): string[] {
  const groups = new Set<string>();
  for (const info of Object.values(KUBE_RESOURCES)) if (info.group !== '') groups.add(info.group);
  for (const group of Object.keys(REVIEW_GROUPS)) groups.add(group);
  return [...groups];
}

function apiGroup(name: string): Record<string, unknown> {
  const version = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [version], preferredVersion: version };
}

/** GET /api. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** GET /apis. */
export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroupNames().map(apiGroup) };
}

/** GET /apis/<group>; undefined for a group not served. */
export function apiGroupDocument(group: string): Record<string, unknown> | undefined {
  return apiGroupNames().includes(group)
    ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) }
    : undefined;
}

/** GET /api/v1 or /apis/<group>/v1; undefined for a group/version not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  if (version !== 'v1') return undefined;
  const reviews: readonly ApiResource[] | undefined = REVIEW_GROUPS[group as ReviewGroup];
  const resources = reviews ? [...reviews] : storedResources(group);
  if (group !== '' && !reviews && resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? 'v1' : `${group}/v1`,
    resources,
  };
}
