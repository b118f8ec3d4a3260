// Authorization as an EKS API server decides it, in the order of its authorizer chain: the
// system:masters superuser group; RBAC (ClusterRoleBindings cluster-wide, RoleBindings in their
// own namespace, ClusterRole aggregation honoured); then the EKS access policies associated with
// the caller's access entry, each within its access scope.
//
// RBAC is evaluated from a subject index kept beside each cluster's store and updated on every
// write, so a check costs a few map lookups rather than a scan of every binding; decisions are
// memoised until the next RBAC write.
import { findAccessPolicy, type PolicyRule } from '../aws/eks-access-policies.js';
import type { Cluster } from '../world/types.js';
import type { KubeUser } from './authn.js';
import { matchesStructuredSelector, type StructuredLabelSelector } from './selectors.js';
import { KubeError, qualifiedResource } from './status.js';
import type { KubeObject, KubeStore, StoreChange } from './store.js';

export type { PolicyRule };

export interface ResourceAttributes {
  kind: 'resource';
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** '' for cluster-scoped requests and lists across all namespaces. */
  namespace: string;
  /** '' when the request names no object (list, create). */
  name: string;
}

export interface NonResourceAttributes {
  kind: 'nonResource';
  verb: string;
  path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

export interface Decision {
  allowed: boolean;
  /** Why access was allowed (as SubjectAccessReview reports it); '' when denied. */
  reason: string;
}

const SUPERUSER_GROUP = 'system:masters';
const DENIED: Decision = { allowed: false, reason: '' };
const MAX_CACHED_DECISIONS = 50_000;

/**
 * What the bootstrap ClusterRoles system:discovery, system:basic-user and
 * system:public-info-viewer grant every authenticated user. Every cluster has them, so they apply
 * whether or not a simulated world seeded those objects.
 */
const BOOTSTRAP_RULES: PolicyRule[] = [
  {
    verbs: ['get'],
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/healthz',
      '/livez',
      '/readyz',
      '/version',
      '/version/',
      '/openapi',
      '/openapi/*',
    ],
  },
  {
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    verbs: ['create'],
  },
  { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
];

function has(list: readonly string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(value));
}

/** Whether one RBAC rule covers the request (the matching rules of the RBAC authorizer). */
export function ruleAllows(rule: PolicyRule, attrs: RequestAttributes): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (attrs.kind === 'nonResource') {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === attrs.path || (u.endsWith('*') && attrs.path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, attrs.group)) return false;
  const resources = rule.resources ?? [];
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const resourceMatch =
    resources.includes('*') ||
    resources.includes(combined) ||
    (attrs.subresource !== undefined && resources.includes(`*/${attrs.subresource}`));
  if (!resourceMatch) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (attrs.name !== '' && names.includes(attrs.name));
}

interface Grant {
  bindingKind: 'ClusterRoleBinding' | 'RoleBinding';
  bindingName: string;
  /** '' for a ClusterRoleBinding. */
  namespace: string;
  roleKind: 'Role' | 'ClusterRole';
  roleName: string;
  /** How the subject appeared, for SubjectAccessReview reasons (`User "alice"`). */
  subject: string;
}

interface Subject {
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
}

/** Index keys of a binding subject: users by name, groups by name, service accounts as their user. */
function subjectKey(subject: Subject, bindingNamespace: string): string | undefined {
  if (typeof subject.name !== 'string' || subject.name === '') return undefined;
  switch (subject.kind) {
    case 'User':
      return `u:${subject.name}`;
    case 'Group':
      return `g:${subject.name}`;
    case 'ServiceAccount': {
      // A RoleBinding's service-account subject defaults to the binding's namespace.
      const ns =
        typeof subject.namespace === 'string' && subject.namespace !== ''
          ? subject.namespace
          : bindingNamespace;
      return ns === '' ? undefined : `u:system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return undefined;
  }
}

function rulesOf(obj: KubeObject | undefined): PolicyRule[] {
  return obj && Array.isArray(obj.rules) ? (obj.rules as PolicyRule[]) : [];
}

/** The RBAC state of one store: who is bound to what, kept current by store change events. */
class RbacIndex {
  /** subject key → namespace ('' = cluster-wide) → binding key → grant. */
  private readonly grants = new Map<string, Map<string, Map<string, Grant>>>();
  private readonly aggregated = new Map<string, PolicyRule[]>();
  private readonly decisions = new Map<string, Decision>();

  constructor(private readonly store: KubeStore) {
    for (const resource of ['clusterrolebindings', 'rolebindings'] as const) {
      for (const obj of store.list(resource).items) this.index(resource, obj, 1);
    }
    store.onChange((change) => this.onChange(change));
  }

  private onChange(change: StoreChange): void {
    switch (change.resource) {
      case 'clusterrolebindings':
      case 'rolebindings':
        if (change.previous) this.index(change.resource, change.previous, -1);
        if (change.current) this.index(change.resource, change.current, 1);
        this.decisions.clear();
        break;
      case 'clusterroles':
        this.aggregated.clear();
        this.decisions.clear();
        break;
      case 'roles':
        this.decisions.clear();
        break;
      case 'namespaces':
      case 'serviceaccounts':
      case 'configmaps':
        break;
    }
  }

  private index(resource: 'clusterrolebindings' | 'rolebindings', binding: KubeObject, delta: 1 | -1): void {
    const namespace = resource === 'rolebindings' ? (binding.metadata.namespace ?? '') : '';
    const roleRef = (binding.roleRef ?? {}) as { kind?: unknown; name?: unknown };
    if (typeof roleRef.name !== 'string') return;
    // A ClusterRoleBinding can only grant a ClusterRole; a Role reference there grants nothing.
    if (roleRef.kind !== 'ClusterRole' && !(roleRef.kind === 'Role' && resource === 'rolebindings')) return;
    const bindingKey = `${namespace}/${binding.metadata.name}`;
    const subjects = Array.isArray(binding.subjects) ? (binding.subjects as Subject[]) : [];
    for (const subject of subjects) {
      if (typeof subject !== 'object' || subject === null) continue;
      const key = subjectKey(subject, namespace);
      if (key === undefined) continue;
      let byNamespace = this.grants.get(key);
      if (delta < 0) {
        const forNs = byNamespace?.get(namespace);
        forNs?.delete(bindingKey);
        if (forNs?.size === 0) byNamespace!.delete(namespace);
        if (byNamespace?.size === 0) this.grants.delete(key);
        continue;
      }
      if (!byNamespace) this.grants.set(key, (byNamespace = new Map<string, Map<string, Grant>>()));
      let forNs = byNamespace.get(namespace);
      if (!forNs) byNamespace.set(namespace, (forNs = new Map<string, Grant>()));
      forNs.set(bindingKey, {
        bindingKind: resource === 'rolebindings' ? 'RoleBinding' : 'ClusterRoleBinding',
        bindingName: binding.metadata.name,
        namespace,
        roleKind: roleRef.kind,
        roleName: roleRef.name,
        subject: `${String(subject.kind)} "${String(subject.name)}"`,
      });
    }
  }

  /** A ClusterRole's rules plus those of every ClusterRole its aggregationRule selects. */
  clusterRoleRules(name: string): PolicyRule[] {
    const cached = this.aggregated.get(name);
    if (cached) return cached;
    const rules: PolicyRule[] = [];
    const seen = new Set<string>();
    const visit = (roleName: string) => {
      if (seen.has(roleName)) return;
      seen.add(roleName);
      const role = this.store.get('clusterroles', undefined, roleName);
      if (!role) return;
      rules.push(...rulesOf(role));
      const selectors = (
        role.aggregationRule as { clusterRoleSelectors?: StructuredLabelSelector[] } | undefined
      )?.clusterRoleSelectors;
      if (!Array.isArray(selectors) || selectors.length === 0) return;
      for (const candidate of this.store.list('clusterroles').items) {
        if (selectors.some((s) => matchesStructuredSelector(s, candidate.metadata.labels))) {
          visit(candidate.metadata.name);
        }
      }
    };
    visit(name);
    this.aggregated.set(name, rules);
    return rules;
  }

  private grantRules(grant: Grant): PolicyRule[] {
    return grant.roleKind === 'Role'
      ? rulesOf(this.store.get('roles', grant.namespace, grant.roleName))
      : this.clusterRoleRules(grant.roleName);
  }

  /** Grants reaching `user` in `namespace` (cluster-wide ones always; namespaced ones only there). */
  *grantsFor(user: KubeUser, namespace: string): Generator<Grant> {
    const keys = [`u:${user.username}`, ...user.groups.map((g) => `g:${g}`)];
    for (const key of keys) {
      const byNamespace = this.grants.get(key);
      if (!byNamespace) continue;
      const clusterWide = byNamespace.get('');
      if (clusterWide) yield* clusterWide.values();
      const inNamespace = namespace === '' ? undefined : byNamespace.get(namespace);
      if (inNamespace) yield* inNamespace.values();
    }
  }

  decide(user: KubeUser, attrs: RequestAttributes): Decision {
    const cacheKey =
      attrs.kind === 'resource'
        ? `r\0${user.username}\0${user.groups.join('\u0001')}\0${attrs.verb}\0${attrs.group}\0${attrs.resource}\0${attrs.subresource ?? ''}\0${attrs.namespace}\0${attrs.name}`
        : `n\0${user.username}\0${user.groups.join('\u0001')}\0${attrs.verb}\0${attrs.path}`;
    const cached = this.decisions.get(cacheKey);
    if (cached) return cached;
    let decision = DENIED;
    const namespace = attrs.kind === 'resource' ? attrs.namespace : '';
    for (const grant of this.grantsFor(user, namespace)) {
      if (this.grantRules(grant).some((rule) => ruleAllows(rule, attrs))) {
        const binding =
          grant.bindingKind === 'RoleBinding'
            ? `"${grant.bindingName}/${grant.namespace}"`
            : `"${grant.bindingName}"`;
        decision = {
          allowed: true,
          reason: `RBAC: allowed by ${grant.bindingKind} ${binding} of ${grant.roleKind} "${grant.roleName}" to ${grant.subject}`,
        };
        break;
      }
    }
    if (this.decisions.size >= MAX_CACHED_DECISIONS) this.decisions.clear();
    this.decisions.set(cacheKey, decision);
    return decision;
  }
}

const indexes = new WeakMap<KubeStore, RbacIndex>();

function rbacIndex(store: KubeStore): RbacIndex {
  let index = indexes.get(store);
  if (!index) indexes.set(store, (index = new RbacIndex(store)));
  return index;
}

/** Whether an access scope namespace pattern (`team-*` or an exact name) covers `namespace`. */
export function scopeCovers(pattern: string, namespace: string): boolean {
  return pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
}

interface PolicyGrant {
  policyArn: string;
  rules: readonly PolicyRule[];
}

/** The access policies of the caller's access entry whose scope reaches `namespace` ('' = cluster). */
function policiesFor(cluster: Cluster, user: KubeUser, namespace: string): PolicyGrant[] {
  if (!user.accessEntry || cluster.authenticationMode === 'CONFIG_MAP') return [];
  const out: PolicyGrant[] = [];
  for (const association of user.accessEntry.associations.values()) {
    const scope = association.accessScope;
    const inScope =
      scope.type === 'cluster' ||
      (namespace !== '' && scope.namespaces.some((p) => scopeCovers(p, namespace)));
    if (!inScope) continue;
    const policy = findAccessPolicy(association.policyArn);
    if (policy) out.push({ policyArn: policy.arn, rules: policy.rules });
  }
  return out;
}

/** Decides whether `user` may perform the request on `cluster`. */
export function authorize(cluster: Cluster, user: KubeUser, attrs: RequestAttributes): Decision {
  if (user.groups.includes(SUPERUSER_GROUP)) {
    return { allowed: true, reason: `superuser: member of ${SUPERUSER_GROUP}` };
  }
  if (BOOTSTRAP_RULES.some((rule) => ruleAllows(rule, attrs))) {
    return {
      allowed: true,
      reason:
        'RBAC: allowed by the bootstrap discovery and self-review roles to Group "system:authenticated"',
    };
  }
  const rbac = rbacIndex(cluster.kube).decide(user, attrs);
  if (rbac.allowed) return rbac;
  const namespace = attrs.kind === 'resource' ? attrs.namespace : '';
  for (const policy of policiesFor(cluster, user, namespace)) {
    if (policy.rules.some((rule) => ruleAllows(rule, attrs))) {
      return {
        allowed: true,
        reason: `EKS Access Policy: allowed by access policy "${policy.policyArn}" associated with access entry "${user.accessEntry?.principalArn ?? ''}" to User "${user.username}"`,
      };
    }
  }
  return DENIED;
}

/** The 403 the API server answers a denied request with. */
export function forbidden(user: KubeUser, attrs: RequestAttributes): KubeError {
  if (attrs.kind === 'nonResource') {
    return new KubeError(
      403,
      'Forbidden',
      `forbidden: User "${user.username}" cannot ${attrs.verb} path "${attrs.path}"`,
      {},
    );
  }
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const subject = `${qualifiedResource(attrs.resource, attrs.group)}${attrs.name ? ` "${attrs.name}"` : ''}`;
  const where = attrs.namespace === '' ? 'at the cluster scope' : `in the namespace "${attrs.namespace}"`;
  return new KubeError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${where}`,
    {
      ...(attrs.name ? { name: attrs.name } : {}),
      ...(attrs.group ? { group: attrs.group } : {}),
      kind: attrs.resource,
    },
  );
}

export interface RulesReview {
  resourceRules: { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs: string[] }[];
  incomplete: boolean;
}

/** Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview, `kubectl auth can-i --list`). */
export function rulesFor(cluster: Cluster, user: KubeUser, namespace: string): RulesReview {
  const rules: PolicyRule[] = [];
  if (user.groups.includes(SUPERUSER_GROUP)) {
    rules.push(
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    );
  }
  rules.push(...BOOTSTRAP_RULES);
  const index = rbacIndex(cluster.kube);
  for (const grant of index.grantsFor(user, namespace)) {
    rules.push(
      ...(grant.roleKind === 'Role'
        ? rulesOf(cluster.kube.get('roles', grant.namespace, grant.roleName))
        : index.clusterRoleRules(grant.roleName)),
    );
  }
  for (const policy of policiesFor(cluster, user, namespace)) rules.push(...policy.rules);
  const review: RulesReview = { resourceRules: [], nonResourceRules: [], incomplete: false };
  for (const rule of rules) {
    if (rule.nonResourceURLs?.length) {
      review.nonResourceRules.push({ verbs: [...rule.verbs], nonResourceURLs: [...rule.nonResourceURLs] });
    } else {
      review.resourceRules.push({
        verbs: [...rule.verbs],
        apiGroups: [...(rule.apiGroups ?? [])],
        resources: [...(rule.resources ?? [])],
        ...(rule.resourceNames?.length ? { resourceNames: [...rule.resourceNames] } : {}),
      });
    }
  }
  return review;
}
