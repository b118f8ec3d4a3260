// Reads everything a sync needs from one cluster, with as few calls as the APIs allow:
// - access policies: ListAccessPolicies (all pages), never a hard-coded list;
// - access entries: ListAccessEntries once, then DescribeAccessEntry + ListAssociatedAccessPolicies
//   once per entry with bounded concurrency (no per-policy re-listing);
// - IAM roles with their trust policies from ListRoles itself (MaxItems 1000, no GetRole per role);
// - Kubernetes: cluster-wide lists at 500 per page, and one GET of kube-system/aws-auth.
// Which sources count follows the cluster's authentication mode; a source that fails is recorded
// as failed with its reason, never treated as empty.
import {
  DescribeAccessEntryCommand,
  ListAccessEntriesCommand,
  ListAccessPoliciesCommand,
  ListAssociatedAccessPoliciesCommand,
} from '@aws-sdk/client-eks';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Namespace,
  V1ObjectMeta,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { EksAccessError } from '../errors.js';
import { mapWithConcurrency } from '../limits/concurrency.js';
import type { ClusterSession } from '../session.js';
import type {
  AccessEntryRecord,
  ClusterInventory,
  IamRoleRecord,
  KubeBindingRecord,
  KubeMeta,
  KubeRoleRecord,
  SourceName,
  SourceStatus,
} from './inventory.js';

export interface CollectOptions {
  /** Parallel DescribeAccessEntry/ListAssociatedAccessPolicies calls. */
  accessEntryConcurrency?: number;
  /** Only IAM roles under this path (ListRoles PathPrefix); all roles when unset. */
  iamRolePathPrefix?: string;
  kubePageSize?: number;
  onProgress?: (event: { source: SourceName; done: number; total?: number }) => void;
}

function failed(err: unknown): SourceStatus {
  if (err instanceof EksAccessError) return { state: 'failed', code: err.code, message: err.message };
  return { state: 'failed', code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The compact metadata a snapshot keeps of a Kubernetes object. */
export function meta(m: V1ObjectMeta | undefined): KubeMeta {
  const out: KubeMeta = { name: m?.name ?? '' };
  if (m?.namespace) out.namespace = m.namespace;
  if (m?.uid) out.uid = m.uid;
  if (m?.creationTimestamp) out.creationTimestamp = new Date(m.creationTimestamp).toISOString();
  if (m?.labels && Object.keys(m.labels).length > 0) out.labels = m.labels;
  if (m?.annotations && Object.keys(m.annotations).length > 0) {
    // kubectl's last-applied copy repeats the whole object; it is noise in a snapshot.
    const { ['kubectl.kubernetes.io/last-applied-configuration']: _lastApplied, ...rest } = m.annotations;
    if (Object.keys(rest).length > 0) out.annotations = rest;
  }
  return out;
}

/** A ClusterRole or Role as the inventory keeps it. */
export function role(r: V1ClusterRole | V1Role): KubeRoleRecord {
  const out: KubeRoleRecord = {
    meta: meta(r.metadata),
    rules: (r.rules ?? []).map((rule) => ({
      verbs: rule.verbs,
      ...(rule.apiGroups ? { apiGroups: rule.apiGroups } : {}),
      ...(rule.resources ? { resources: rule.resources } : {}),
      ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}),
      ...(rule.nonResourceURLs ? { nonResourceURLs: rule.nonResourceURLs } : {}),
    })),
  };
  const agg = (r as V1ClusterRole).aggregationRule;
  if (agg?.clusterRoleSelectors) {
    out.aggregationRule = {
      clusterRoleSelectors: agg.clusterRoleSelectors.map((s) =>
        s.matchLabels ? { matchLabels: s.matchLabels } : {},
      ),
    };
  }
  return out;
}

/** A ClusterRoleBinding or RoleBinding as the inventory keeps it. */
export function binding(b: V1ClusterRoleBinding | V1RoleBinding): KubeBindingRecord {
  return {
    meta: meta(b.metadata),
    roleRef: {
      kind: b.roleRef.kind,
      name: b.roleRef.name,
      apiGroup: b.roleRef.apiGroup ?? 'rbac.authorization.k8s.io',
    },
    subjects: (b.subjects ?? []).map((s) => ({
      kind: s.kind,
      name: s.name,
      ...(s.namespace ? { namespace: s.namespace } : {}),
      ...(s.apiGroup ? { apiGroup: s.apiGroup } : {}),
    })),
  };
}

function decodeTrustPolicy(encoded: string | undefined): {
  trustPolicy?: unknown;
  trustPolicyError?: string;
} {
  if (!encoded) return { trustPolicyError: 'ListRoles returned no AssumeRolePolicyDocument' };
  try {
    return { trustPolicy: JSON.parse(decodeURIComponent(encoded)) as unknown };
  } catch (err) {
    return {
      trustPolicyError: `trust policy is not URL-encoded JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** Every EKS access policy (ListAccessPolicies, all pages). */
export async function listAccessPolicies(session: ClusterSession): Promise<{ name: string; arn: string }[]> {
  const out: { name: string; arn: string }[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await session.awsCall('eks', 'ListAccessPolicies', undefined, () =>
      session.aws.eks.send(
        new ListAccessPoliciesCommand({ maxResults: 100, ...(token ? { nextToken: token } : {}) }),
      ),
    );
    for (const p of page.accessPolicies ?? [])
      if (p.arn) out.push({ name: p.name ?? p.arn.split('/').pop()!, arn: p.arn });
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** The principal ARNs of a cluster's access entries (ListAccessEntries, all pages). */
export async function listAccessEntryArns(session: ClusterSession, clusterName: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await session.awsCall('eks', 'ListAccessEntries', clusterName, () =>
      session.aws.eks.send(
        new ListAccessEntriesCommand({
          clusterName,
          maxResults: 100,
          ...(token ? { nextToken: token } : {}),
        }),
      ),
    );
    arns.push(...(page.accessEntries ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

/**
 * One access entry with its associations (DescribeAccessEntry + ListAssociatedAccessPolicies);
 * undefined when it was deleted after it was listed.
 */
export async function readAccessEntry(
  session: ClusterSession,
  clusterName: string,
  principalArn: string,
): Promise<AccessEntryRecord | undefined> {
  try {
    const [described, associations] = await Promise.all([
      session.awsCall('eks', 'DescribeAccessEntry', principalArn, () =>
        session.aws.eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn })),
      ),
      listAssociations(session, clusterName, principalArn),
    ]);
    const e = described.accessEntry;
    return {
      principalArn,
      type: e?.type ?? 'STANDARD',
      username: e?.username ?? '',
      kubernetesGroups: e?.kubernetesGroups ?? [],
      associations,
      ...(e?.createdAt ? { createdAt: e.createdAt.toISOString() } : {}),
    };
  } catch (err) {
    if (err instanceof EksAccessError && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

async function listAccessEntries(
  session: ClusterSession,
  clusterName: string,
  options: CollectOptions,
  warnings: string[],
): Promise<AccessEntryRecord[]> {
  const arns = await listAccessEntryArns(session, clusterName);
  let done = 0;
  const entries = await mapWithConcurrency(
    arns,
    options.accessEntryConcurrency ?? 10,
    async (principalArn) => {
      try {
        const record = await readAccessEntry(session, clusterName, principalArn);
        // Deleted between the list and the describe: it no longer grants anything. Say so.
        if (!record) warnings.push(`access entry ${principalArn} disappeared during the sync`);
        return record;
      } finally {
        options.onProgress?.({ source: 'eks:accessEntries', done: ++done, total: arns.length });
      }
    },
  );
  return entries.filter((e): e is AccessEntryRecord => e !== undefined);
}

/** The access policies associated with one access entry (all pages). */
export async function listAssociations(
  session: ClusterSession,
  clusterName: string,
  principalArn: string,
): Promise<AccessEntryRecord['associations']> {
  const out: AccessEntryRecord['associations'] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await session.awsCall('eks', 'ListAssociatedAccessPolicies', principalArn, () =>
      session.aws.eks.send(
        new ListAssociatedAccessPoliciesCommand({
          clusterName,
          principalArn,
          maxResults: 100,
          ...(token ? { nextToken: token } : {}),
        }),
      ),
    );
    for (const a of page.associatedAccessPolicies ?? []) {
      if (!a.policyArn) continue;
      out.push({
        policyArn: a.policyArn,
        accessScope: {
          type: a.accessScope?.type === 'namespace' ? 'namespace' : 'cluster',
          namespaces: a.accessScope?.namespaces ?? [],
        },
        ...(a.associatedAt ? { associatedAt: a.associatedAt.toISOString() } : {}),
        ...(a.modifiedAt ? { modifiedAt: a.modifiedAt.toISOString() } : {}),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** Every IAM role with its decoded trust policy, from ListRoles alone. */
export async function listRoles(session: ClusterSession, options: CollectOptions): Promise<IamRoleRecord[]> {
  const out: IamRoleRecord[] = [];
  let marker: string | undefined;
  do {
    const m = marker;
    const page = await session.awsCall('iam', 'ListRoles', undefined, () =>
      session.aws.iam.send(
        new ListRolesCommand({
          MaxItems: 1000,
          ...(m ? { Marker: m } : {}),
          ...(options.iamRolePathPrefix ? { PathPrefix: options.iamRolePathPrefix } : {}),
        }),
      ),
    );
    for (const r of page.Roles ?? []) {
      if (!r.Arn || !r.RoleName) continue;
      out.push({
        arn: r.Arn,
        roleName: r.RoleName,
        roleId: r.RoleId ?? '',
        path: r.Path ?? '/',
        ...(r.CreateDate ? { createDate: r.CreateDate.toISOString() } : {}),
        ...(r.Description ? { description: r.Description } : {}),
        ...decodeTrustPolicy(r.AssumeRolePolicyDocument),
      });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
    options.onProgress?.({ source: 'iam:roles', done: out.length });
  } while (marker);
  return out;
}

/** Reads one cluster's raw inventory. Throws only when the cluster itself cannot be described. */
export async function collectInventory(
  session: ClusterSession,
  options: CollectOptions = {},
): Promise<ClusterInventory> {
  const cluster = await session.describe();
  const mode = cluster.authenticationMode;
  const warnings: string[] = [];
  const sources = {} as Record<SourceName, SourceStatus>;
  const pageSize = options.kubePageSize ?? 500;
  const { caData: _ca, ...clusterInfo } = cluster;
  const inventory: ClusterInventory = {
    cluster: clusterInfo,
    authenticationMode: mode,
    accessPolicies: [],
    accessEntries: [],
    iamRoles: [],
    namespaces: [],
    serviceAccounts: [],
    clusterRoles: [],
    roles: [],
    clusterRoleBindings: [],
    roleBindings: [],
    sources,
    sourceDurationsMs: {} as Record<SourceName, number>,
    warnings,
  };

  const run = async (source: SourceName, fn: () => Promise<SourceStatus | void>) => {
    const started = performance.now();
    try {
      sources[source] = (await fn()) ?? { state: 'read' };
    } catch (err) {
      sources[source] = failed(err);
    } finally {
      inventory.sourceDurationsMs[source] = Math.round(performance.now() - started);
    }
  };

  const kube = await session.kube();
  await Promise.all([
    run('eks:accessPolicies', async () => {
      inventory.accessPolicies = await listAccessPolicies(session);
    }),
    run('eks:accessEntries', async () => {
      if (mode === 'CONFIG_MAP')
        return { state: 'not_applicable', reason: 'authentication mode CONFIG_MAP ignores access entries' };
      inventory.accessEntries = await listAccessEntries(session, cluster.name, options, warnings);
    }),
    run('iam:roles', async () => {
      inventory.iamRoles = await listRoles(session, options);
      for (const r of inventory.iamRoles)
        if (r.trustPolicyError) warnings.push(`role ${r.arn}: ${r.trustPolicyError}`);
    }),
    run('kube:awsAuth', async () => {
      if (mode === 'API') {
        // Read it anyway: a leftover aws-auth is ignored by EKS, and saying which mappings no longer
        // work is a finding (reporting them as access would be a false one).
        const reason = 'authentication mode API ignores the aws-auth ConfigMap';
        try {
          const cm = await kube.getConfigMap('kube-system', 'aws-auth');
          if (cm) inventory.awsAuth = cm.data ?? {};
          return {
            state: 'not_applicable',
            reason: cm ? `${reason}; its mappings are listed as ignored` : reason,
          };
        } catch {
          return { state: 'not_applicable', reason };
        }
      }
      const cm = await kube.getConfigMap('kube-system', 'aws-auth');
      if (!cm) return { state: 'read', note: 'kube-system/aws-auth does not exist' };
      inventory.awsAuth = cm.data ?? {};
    }),
    run('kube:namespaces', async () => {
      inventory.namespaces = (
        await kube.listAll<V1Namespace, KubeMeta>('namespaces', pageSize, (n) => meta(n.metadata))
      ).items;
    }),
    run('kube:serviceAccounts', async () => {
      inventory.serviceAccounts = (
        await kube.listAll<V1ServiceAccount, KubeMeta>('serviceaccounts', pageSize, (s) => meta(s.metadata))
      ).items;
    }),
    run('kube:rbac', async () => {
      const [cr, r, crb, rb] = await Promise.all([
        kube.listAll<V1ClusterRole, KubeRoleRecord>('clusterroles', pageSize, role),
        kube.listAll<V1Role, KubeRoleRecord>('roles', pageSize, role),
        kube.listAll<V1ClusterRoleBinding, KubeBindingRecord>('clusterrolebindings', pageSize, binding),
        kube.listAll<V1RoleBinding, KubeBindingRecord>('rolebindings', pageSize, binding),
      ]);
      inventory.clusterRoles = cr.items;
      inventory.roles = r.items;
      inventory.clusterRoleBindings = crb.items;
      inventory.roleBindings = rb.items;
      const restarts = cr.restarts + r.restarts + crb.restarts + rb.restarts;
      if (restarts > 0)
        return { state: 'read', note: `${restarts} list(s) restarted after an expired continue token` };
    }),
  ]);
  // A cancelled sync is not a partial one: its sources "failed" only because we stopped them.
  session.options.signal?.throwIfAborted();
  return inventory;
}
