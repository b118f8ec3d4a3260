// Effective access: for every IAM principal in a snapshot, what it can reach in the cluster and through
// which chain of grants. C1 does this expansion itself from GrantExpandable annotations; we do it too
// so the API can answer "who can get into this cluster, and how" without C1, with the path kept.
import {
  parseEntitlementId,
  type EntitlementScope,
  type Grant,
  type GrantCondition,
  type GrantSource,
  type ResourceRef,
} from './model.js';

export type AccessStepKind = 'assume-role' | 'group-membership' | 'rbac-binding' | 'access-policy' | 'other';

/** One link of a path: a grant, held by `holder`, of `entitlementId`. */
export interface AccessStep {
  kind: AccessStepKind;
  holder: ResourceRef;
  entitlementId: string;
  grantId: string;
  sources: readonly GrantSource[];
  conditions: readonly GrantCondition[];
}

export interface EffectiveAccess {
  principalArn: string;
  principalType: 'iam_user' | 'role';
  cluster?: string;
  /** A cluster_role, namespace_role, access_policy or k8s_group entitlement. */
  entitlementId: string;
  resource: ResourceRef;
  scope: EntitlementScope;
  /** From the principal to the grant that gives the entitlement; the last step's holder holds it. */
  path: AccessStep[];
  /** Every condition met along the path (ExternalId, session name, ...), deduplicated. */
  conditions: GrantCondition[];
}

export interface EffectiveAccessInput {
  grants: Iterable<Grant> | AsyncIterable<Grant>;
  /** Copied into every record, for callers that merge several clusters. */
  cluster?: string;
}

const RECORDED_TYPES = new Set(['cluster_role', 'namespace_role', 'access_policy', 'k8s_group']);

function refKey(ref: ResourceRef): string {
  return `${ref.type}\u0000${ref.id}`;
}

function stepKind(resourceType: string): AccessStepKind {
  switch (resourceType) {
    case 'role':
      return 'assume-role';
    case 'k8s_group':
      return 'group-membership';
    case 'cluster_role':
    case 'namespace_role':
      return 'rbac-binding';
    case 'access_policy':
      return 'access-policy';
    default:
      return 'other';
  }
}

function scopeKey(scope: EntitlementScope): string {
  return scope.type === 'cluster' ? '' : scope.namespace;
}

async function collect<T>(items: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Computes, for every IAM user and role that appears as a grant principal, each cluster_role,
 * namespace_role, access_policy and k8s_group entitlement it reaches, following role assumption
 * (`role:<arn>:assignment`), group membership (`k8s_group:<g>:member`) and GrantExpandable
 * annotations. One record per (principal, entitlement, final grant); its path is a shortest one, ties
 * broken by sorted ids, so the output is stable. Cycles (roles assuming each other) are visited once.
 */
export async function computeEffectiveAccess(input: EffectiveAccessInput): Promise<EffectiveAccess[]> {
  const grants = await collect(input.grants);
  const held = new Map<string, Grant[]>();
  // Holding an entitlement lets you act as these principals.
  const actsAs = new Map<string, Map<string, ResourceRef>>();
  const addActsAs = (entitlementId: string, ref: ResourceRef): void => {
    let targets = actsAs.get(entitlementId);
    if (!targets) {
      targets = new Map<string, ResourceRef>();
      actsAs.set(entitlementId, targets);
    }
    targets.set(refKey(ref), ref);
  };

  const starts = new Map<string, ResourceRef>();
  for (const g of grants) {
    const key = refKey(g.principal);
    const list = held.get(key);
    if (list) list.push(g);
    else held.set(key, [g]);
    if (g.principal.type === 'iam_user' || g.principal.type === 'role') starts.set(key, g.principal);
    for (const a of g.annotations) {
      if (a.type === 'GrantExpandable') for (const e of a.entitlementIds) addActsAs(e, g.principal);
    }
    // Whoever may assume a role acts as it, and a group member acts as the group, with or without
    // the annotation (snapshots written by older code may lack it).
    if (g.resource.type === 'role' && g.entitlementId.endsWith(':assignment'))
      addActsAs(g.entitlementId, g.resource);
    if (g.resource.type === 'k8s_group' && g.entitlementId.endsWith(':member'))
      addActsAs(g.entitlementId, g.resource);
  }
  for (const list of held.values()) {
    list.sort((a, b) => compareStrings(a.entitlementId, b.entitlementId) || compareStrings(a.id, b.id));
  }

  const parsed = new Map<string, ReturnType<typeof parseEntitlementId>>();
  const parse = (id: string): ReturnType<typeof parseEntitlementId> => {
    let result = parsed.get(id);
    if (!result) parsed.set(id, (result = parseEntitlementId(id)));
    return result;
  };

  const records: EffectiveAccess[] = [];
  for (const start of starts.values()) {
    const principalType = start.type as 'iam_user' | 'role';
    const visited = new Set([refKey(start)]);
    const queue: { node: ResourceRef; path: AccessStep[] }[] = [{ node: start, path: [] }];
    for (let i = 0; i < queue.length; i++) {
      const { node, path } = queue[i]!;
      for (const g of held.get(refKey(node)) ?? []) {
        const step: AccessStep = {
          kind: stepKind(g.resource.type),
          holder: node,
          entitlementId: g.entitlementId,
          grantId: g.id,
          sources: g.sources ?? [],
          conditions: g.conditions ?? [],
        };
        const stepPath = [...path, step];
        const entitlement = parse(g.entitlementId);
        if (entitlement.ok && RECORDED_TYPES.has(entitlement.value.resourceType)) {
          const scope: EntitlementScope =
            'scope' in entitlement.value
              ? entitlement.value.scope
              : entitlement.value.resourceType === 'namespace_role'
                ? { type: 'namespace', namespace: entitlement.value.namespace }
                : { type: 'cluster' };
          const record: EffectiveAccess = {
            principalArn: start.id,
            principalType,
            entitlementId: g.entitlementId,
            resource: g.resource,
            scope,
            path: stepPath,
            conditions: mergeConditions(stepPath),
          };
          if (input.cluster !== undefined) record.cluster = input.cluster;
          records.push(record);
        }
        const next = [...(actsAs.get(g.entitlementId)?.values() ?? [])].sort((a, b) =>
          compareStrings(refKey(a), refKey(b)),
        );
        for (const target of next) {
          const key = refKey(target);
          if (visited.has(key)) continue;
          visited.add(key);
          queue.push({ node: target, path: stepPath });
        }
      }
    }
  }

  return records.sort(
    (a, b) =>
      compareStrings(a.principalArn, b.principalArn) ||
      compareStrings(a.entitlementId, b.entitlementId) ||
      compareStrings(scopeKey(a.scope), scopeKey(b.scope)) ||
      a.path.length - b.path.length ||
      compareStrings(a.path.map((s) => s.grantId).join('\n'), b.path.map((s) => s.grantId).join('\n')),
  );
}

function mergeConditions(path: AccessStep[]): GrantCondition[] {
  const seen = new Set<string>();
  const out: GrantCondition[] = [];
  for (const step of path) {
    for (const c of step.conditions) {
      const key = JSON.stringify(c);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
    }
  }
  return out;
}
