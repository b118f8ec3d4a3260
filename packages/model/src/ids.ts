// The resource, entitlement and grant id grammar of baton-eks, formatted and parsed in one place:
//   entitlement id  `<type>:<resource id>:<slug>`
//   grant id        `<entitlement id>:<principal type>:<principal id>`
// Resource ids and principal ids contain colons (ARNs, `system:masters`, `eks:...` cluster roles),
// so nothing here splits on ':' blindly: each type is parsed from its known prefix and its known
// slug suffix, and a grant id is split where both halves parse.
import { parseIamPrincipalArn } from './arn.js';
import type { ResourceRef, ResourceTypeId } from './snapshot.js';

export const CONFIGMAP_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;
export type ConfigMapVerb = (typeof CONFIGMAP_VERBS)[number];

/** `<type>:<resourceId>:<slug>`, the baton entitlement id. */
export function entitlementId(type: string, resourceId: string, slug: string): string {
  return `${type}:${resourceId}:${slug}`;
}

/** `<entitlementId>:<principalType>:<principalId>`, the baton grant id. */
export function grantId(entitlementIdValue: string, principalType: string, principalId: string): string {
  return `${entitlementIdValue}:${principalType}:${principalId}`;
}

export type EntitlementScope = { type: 'cluster' } | { type: 'namespace'; namespace: string };

/** An entitlement id taken apart into what the provisioner and the policy need. */
export type ParsedEntitlementId = { resourceId: string; slug: string } & (
  | { resourceType: 'access_policy'; policyArn: string; scope: EntitlementScope }
  | { resourceType: 'cluster_role'; clusterRole: string; scope: EntitlementScope }
  | { resourceType: 'namespace_role'; namespace: string; name: string }
  | { resourceType: 'role'; roleArn: string }
  | { resourceType: 'k8s_group'; group: string }
  | { resourceType: 'service_account'; namespace: string; name: string }
  | { resourceType: 'configmap'; namespace: string; name: string; verb: ConfigMapVerb }
);

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

// Kubernetes namespace names are DNS-1123 labels, so they never contain ':' or '/'. That is what
// makes ids with colon-laden names (ARNs, system:masters, eks:... roles) parseable from the right.
const NAMESPACE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** True for a valid Kubernetes namespace name. */
export function isNamespaceName(value: string): boolean {
  return NAMESPACE.test(value);
}

function fail<T>(id: string, why: string): ParseResult<T> {
  return { ok: false, error: `entitlement id "${id}": ${why}` };
}

/** The resource id of a namespaced object (a Role, a ServiceAccount): `<namespace>/<name>`. */
export function namespacedResourceId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Takes `<namespace>/<name>` apart (the name may contain '/' and ':'); undefined when it is not one. */
export function parseNamespacedResourceId(
  resourceId: string,
): { namespace: string; name: string } | undefined {
  const slash = resourceId.indexOf('/');
  if (slash < 0) return undefined;
  const namespace = resourceId.slice(0, slash);
  const name = resourceId.slice(slash + 1);
  if (!isNamespaceName(namespace) || name === '') return undefined;
  return { namespace, name };
}

// Service account and configmap entitlements also take `*` (every object of the type) as resource id.
function splitNamespaced(resourceId: string): { namespace: string; name: string } | undefined {
  if (resourceId === '*') return { namespace: '*', name: '*' };
  return parseNamespacedResourceId(resourceId);
}

/**
 * Parses the entitlement ids this connector issues. Names may contain colons (ARNs, `system:masters`,
 * `eks:...` cluster roles), so each type is parsed from its known prefix and its known slug suffix.
 * Inherited from baton-eks: a namespace named `all` (cluster_role) or `cluster` (access_policy)
 * cannot be told apart from the cluster-wide entitlement; those ids parse as cluster scope.
 */
export function parseEntitlementId(id: string): ParseResult<ParsedEntitlementId> {
  const colon = id.indexOf(':');
  if (colon < 0) return fail(id, 'no resource type prefix');
  const type = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  switch (type) {
    case 'access_policy': {
      const at = rest.lastIndexOf(':assigned:');
      if (at < 0) return fail(id, 'expected "<policy arn>:assigned:<cluster|namespace>"');
      const policyArn = rest.slice(0, at);
      const scopeName = rest.slice(at + ':assigned:'.length);
      if (!policyArn.startsWith('arn:')) return fail(id, 'policy is not an ARN');
      const scope = scopeOf(scopeName, 'cluster');
      if (!scope) return fail(id, `"${scopeName}" is not "cluster" or a namespace name`);
      return {
        ok: true,
        value: { resourceType: type, resourceId: policyArn, slug: `assigned:${scopeName}`, policyArn, scope },
      };
    }
    case 'cluster_role': {
      if (!rest.endsWith(':member')) return fail(id, 'expected slug "<all|namespace>:member"');
      const body = rest.slice(0, -':member'.length);
      const cut = body.lastIndexOf(':');
      if (cut <= 0) return fail(id, 'expected "<cluster role>:<all|namespace>:member"');
      const clusterRole = body.slice(0, cut);
      const scopeName = body.slice(cut + 1);
      const scope = scopeOf(scopeName, 'all');
      if (!scope) return fail(id, `"${scopeName}" is not "all" or a namespace name`);
      return {
        ok: true,
        value: {
          resourceType: type,
          resourceId: clusterRole,
          slug: `${scopeName}:member`,
          clusterRole,
          scope,
        },
      };
    }
    case 'namespace_role': {
      if (!rest.endsWith(':member')) return fail(id, 'expected slug "member"');
      const resourceId = rest.slice(0, -':member'.length);
      const parts = splitNamespaced(resourceId);
      if (!parts || parts.namespace === '*') return fail(id, 'expected resource id "<namespace>/<role>"');
      return { ok: true, value: { resourceType: type, resourceId, slug: 'member', ...parts } };
    }
    case 'role': {
      if (!rest.endsWith(':assignment')) return fail(id, 'expected slug "assignment"');
      const roleArn = rest.slice(0, -':assignment'.length);
      if (parseIamPrincipalArn(roleArn)?.kind !== 'role') return fail(id, 'resource is not an IAM role ARN');
      return { ok: true, value: { resourceType: type, resourceId: roleArn, slug: 'assignment', roleArn } };
    }
    case 'k8s_group': {
      if (!rest.endsWith(':member')) return fail(id, 'expected slug "member"');
      const group = rest.slice(0, -':member'.length);
      if (group === '') return fail(id, 'empty group name');
      return { ok: true, value: { resourceType: type, resourceId: group, slug: 'member', group } };
    }
    case 'service_account': {
      if (!rest.endsWith(':impersonate')) return fail(id, 'expected slug "impersonate"');
      const resourceId = rest.slice(0, -':impersonate'.length);
      const parts = splitNamespaced(resourceId);
      if (!parts) return fail(id, 'expected resource id "<namespace>/<name>"');
      return { ok: true, value: { resourceType: type, resourceId, slug: 'impersonate', ...parts } };
    }
    case 'configmap': {
      const cut = rest.lastIndexOf(':');
      const verb = rest.slice(cut + 1);
      if (cut < 0 || !isConfigMapVerb(verb))
        return fail(id, `expected a verb slug (${CONFIGMAP_VERBS.join(', ')})`);
      const resourceId = rest.slice(0, cut);
      const parts = splitNamespaced(resourceId);
      if (!parts) return fail(id, 'expected resource id "<namespace>/<name>"');
      return { ok: true, value: { resourceType: type, resourceId, slug: verb, verb, ...parts } };
    }
    default:
      return fail(id, `resource type "${type}" has no entitlements this connector issues`);
  }
}

function isConfigMapVerb(value: string): value is ConfigMapVerb {
  return (CONFIGMAP_VERBS as readonly string[]).includes(value);
}

function scopeOf(name: string, clusterWord: string): EntitlementScope | undefined {
  if (name === clusterWord) return { type: 'cluster' };
  return isNamespaceName(name) ? { type: 'namespace', namespace: name } : undefined;
}

/** Formats a parsed entitlement id back to its string form (the inverse of parseEntitlementId). */
export function formatEntitlementId(parsed: ParsedEntitlementId): string {
  return entitlementId(parsed.resourceType, parsed.resourceId, parsed.slug);
}

/** `cluster_role:<name>:all:member` or `cluster_role:<name>:<namespace>:member`. */
export function clusterRoleEntitlementId(clusterRole: string, namespace?: string): string {
  return entitlementId('cluster_role', clusterRole, `${namespace ?? 'all'}:member`);
}

/** `namespace_role:<namespace>/<name>:member`. */
export function namespaceRoleEntitlementId(namespace: string, name: string): string {
  return entitlementId('namespace_role', namespacedResourceId(namespace, name), 'member');
}

/** `access_policy:<policy arn>:assigned:cluster` or `...:assigned:<namespace>`. */
export function accessPolicyEntitlementId(policyArn: string, namespace?: string): string {
  return entitlementId('access_policy', policyArn, `assigned:${namespace ?? 'cluster'}`);
}

/** `role:<role arn>:assignment`: holding it means being able to assume the role. */
export function roleAssignmentEntitlementId(roleArnValue: string): string {
  return entitlementId('role', roleArnValue, 'assignment');
}

/** `k8s_group:<group>:member`. */
export function groupMemberEntitlementId(group: string): string {
  return entitlementId('k8s_group', group, 'member');
}

export interface ParsedGrantId {
  entitlementId: string;
  entitlement: ParsedEntitlementId;
  principal: ResourceRef;
}

/** Types that can be the principal of a grant, in the order a grant id is tried. */
export const PRINCIPAL_TYPES: readonly ResourceTypeId[] = [
  'iam_user',
  'role',
  'service_account',
  'k8s_group',
];

function isValidPrincipal(type: ResourceTypeId, id: string): boolean {
  if (type === 'iam_user') return parseIamPrincipalArn(id)?.kind === 'user';
  if (type === 'role') return parseIamPrincipalArn(id)?.kind === 'role';
  if (type === 'service_account') return splitNamespaced(id) !== undefined;
  return id !== '';
}

/**
 * Parses a grant id of this connector. Both halves may contain colons, so every `:<principal type>:`
 * position is tried from the left and the first split whose halves both parse wins.
 */
export function parseGrantId(id: string): ParseResult<ParsedGrantId> {
  const candidates: { at: number; type: ResourceTypeId }[] = [];
  for (const type of PRINCIPAL_TYPES) {
    const marker = `:${type}:`;
    for (let at = id.indexOf(marker); at >= 0; at = id.indexOf(marker, at + 1)) candidates.push({ at, type });
  }
  candidates.sort((a, b) => a.at - b.at);
  for (const { at, type } of candidates) {
    const entitlementPart = id.slice(0, at);
    const principalId = id.slice(at + type.length + 2);
    const entitlement = parseEntitlementId(entitlementPart);
    if (entitlement.ok && isValidPrincipal(type, principalId)) {
      return {
        ok: true,
        value: {
          entitlementId: entitlementPart,
          entitlement: entitlement.value,
          principal: { type, id: principalId },
        },
      };
    }
  }
  return { ok: false, error: `grant id "${id}": no split into a known entitlement id and principal` };
}

/** The entitlement types a grant or revoke request can carry out (the others are observed only). */
export const PROVISIONABLE_TYPES = ['access_policy', 'cluster_role', 'namespace_role'] as const;
export type ProvisionableType = (typeof PROVISIONABLE_TYPES)[number];

/** A parsed entitlement id of a type that can be provisioned. */
export type ProvisionableEntitlement = Extract<ParsedEntitlementId, { resourceType: ProvisionableType }>;

/** True when the parsed entitlement is one a request can grant or revoke. */
export function isProvisionable(parsed: ParsedEntitlementId): parsed is ProvisionableEntitlement {
  return (PROVISIONABLE_TYPES as readonly string[]).includes(parsed.resourceType);
}
