// Synthetic snapshots for tests and the benchmark, shaped like eks-core's output (cluster roles ×
// namespaces make the entitlements; grants go to IAM users). Rows are generated lazily, so a
// 700,000-entitlement snapshot costs no memory until it is consumed.
import type {
  EntitlementInput,
  GrantInput,
  ResourceInput,
  SnapshotSource,
  SyncReportInput,
} from './snapshot-types.js';

export interface SyntheticSnapshotOptions {
  resources?: number;
  entitlements: number;
  grants: number;
  principals?: number;
  /** Changes every id, so two snapshots of one size differ completely. */
  tag?: string;
}

/** The IAM user ARN of synthetic principal `n`. */
export function syntheticPrincipal(n: number): string {
  return `arn:aws:iam::123456789012:user/user-${n}`;
}

/** A lazily generated snapshot of the given size. */
export function syntheticSnapshot(options: SyntheticSnapshotOptions): SnapshotSource {
  const resourceCount = Math.max(1, options.resources ?? 100);
  const principals = Math.max(1, options.principals ?? 50);
  const tag = options.tag ?? '';
  if (options.grants > options.entitlements)
    throw new Error('synthetic snapshots have at most one grant per entitlement');
  const roleName = (r: number) => `role-${tag}${r}`;
  const entitlementOf = (i: number) => {
    const r = i % resourceCount;
    const ns = Math.floor(i / resourceCount);
    return {
      resourceId: roleName(r),
      slug: `ns-${ns}:member`,
      id: `cluster_role:${roleName(r)}:ns-${ns}:member`,
    };
  };
  // A multiplier coprime with the entitlement count spreads grants over entitlements without repeats.
  let step = 7919;
  while (gcd(step, options.entitlements) !== 1) step++;
  return {
    *resources(): Generator<ResourceInput> {
      for (let r = 0; r < resourceCount; r++) {
        yield {
          type: 'cluster_role',
          id: roleName(r),
          displayName: roleName(r),
          profile: { rules: [{ verbs: ['get', 'list'], resources: ['pods'] }] },
          annotations: [],
        };
      }
    },
    *entitlements(): Generator<EntitlementInput> {
      for (let i = 0; i < options.entitlements; i++) {
        const e = entitlementOf(i);
        yield {
          id: e.id,
          resource: { type: 'cluster_role', id: e.resourceId },
          slug: e.slug,
          displayName: `${e.resourceId} in ${e.slug}`,
          description: `Members of ${e.resourceId} (${e.slug})`,
          purpose: 'assignment',
          grantableTo: ['iam_user', 'role', 'service_account', 'k8s_group'],
        };
      }
    },
    *grants(): Generator<GrantInput> {
      for (let i = 0; i < options.grants; i++) {
        const e = entitlementOf((i * step) % options.entitlements);
        const arn = syntheticPrincipal(i % principals);
        yield {
          id: `${e.id}:iam_user:${arn}`,
          entitlementId: e.id,
          resource: { type: 'cluster_role', id: e.resourceId },
          principal: { type: 'iam_user', id: arn },
          annotations: [{ type: 'ExternalResourceMatchID', id: arn }],
          sources: [
            {
              kind: 'rbac-binding',
              binding: { kind: 'ClusterRoleBinding', name: `b-${i}` },
              subject: { kind: 'User', name: arn },
            },
          ],
        };
      }
    },
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A sync report with the given status and no API activity. */
export function syntheticReport(status: 'complete' | 'partial' = 'complete'): SyncReportInput {
  return {
    status,
    sources: {
      'kube:rbac': { state: 'read' },
      'eks:accessEntries':
        status === 'complete'
          ? { state: 'read' }
          : { state: 'failed', code: 'access_denied', message: 'AccessDenied' },
    },
    sourceDurationsMs: { 'kube:rbac': 12, 'eks:accessEntries': 3 },
    counts: {
      resources: { cluster_role: 1 },
      entitlements: { cluster_role: 1 },
      grants: { cluster_role: 1 },
    },
    apiCalls: { 'eks:ListAccessEntries': { calls: 1, retries: 0, throttled: 0, failed: 0, totalMs: 3 } },
    totalApiCalls: 1,
    warnings: [],
  };
}
