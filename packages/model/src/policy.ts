// The provisioning policy: which grants the connector may carry out on a cluster. It is written
// once, here, and enforced by the provisioner for every request whatever its origin (the API, a C1
// grant task, an expiry revoke, the reconciler); the API and the uploader may ask it early to
// answer sooner, but the provisioner's answer is the one that counts.
//
// What a cluster says
// - `provisioningEnabled` (the cluster's switch, BATON_PROVISIONING in the C1 docs) is the consent
//   for the connector to write to the cluster at all. Off, every grant and revoke is refused with
//   PROVISIONING_DISABLED, except the revoke that ends a time-bound grant (see below).
// - `provisioningPolicy` = `{ allow?: Rule[], deny?: Rule[] }` (no other fields). A rule is either
//   a string, shorthand for `{ entitlement: <pattern> }`, or an object `{ entitlement?, principal? }`
//   (at least one of the two, no other fields); a rule matches a request when every pattern it has
//   matches.
//   - `entitlement` patterns match the baton entitlement id (`cluster_role:view:team-a:member`,
//     `namespace_role:team-a/deployer:member`, `access_policy:<policy arn>:assigned:cluster`);
//     `principal` patterns match the principal's full IAM ARN, path included
//     (`arn:aws:iam::111122223333:role/ops/BreakGlass`).
//   - Pattern syntax: a glob. `*` matches any run of characters, `:` and `/` included, or none;
//     every other character stands for itself, case-sensitively; a pattern without `*` is an exact
//     id. An entitlement pattern must start with `*` or a provisionable type followed by `:`
//     (`access_policy:`, `cluster_role:`, `namespace_role:`), and one without `*` must be a valid
//     entitlement id, so a typo cannot silently match nothing. A principal pattern is `*` or starts
//     with `arn:`.
// - Built-in denies (BUILTIN_DENY): cluster-admin powers, i.e. the `cluster-admin` ClusterRole in
//   any scope and the AmazonEKSClusterAdminPolicy access policy in any scope and partition.
//
// How a grant is decided, first match wins
// 1. The entitlement id must parse and be of a provisionable type (INVALID_ENTITLEMENT).
// 2. The switch must be on (PROVISIONING_DISABLED).
// 3. A stored policy that does not validate refuses every grant (POLICY_INVALID): fail closed.
// 4. A `deny` rule that matches refuses it (POLICY_DENIED), whatever `allow` says.
// 5. A built-in deny that matches refuses it (POLICY_DENIED) unless an `allow` rule matches too:
//    `allow` exists to lift the built-in denies, e.g. `allow: ["cluster_role:cluster-admin:all:member"]`
//    or `{ entitlement: "cluster_role:cluster-admin:*", principal: "arn:aws:iam::111122223333:role/BreakGlass" }`.
//    It is not an allow-list: entitlements no deny names are allowed without it.
// 6. Otherwise the grant is allowed.
//
// What a policy means for a revoke
// A policy limits what may be *given*; a revoke only takes away. So `allow`, `deny` and the
// built-in denies never refuse a revoke: a deny added after a grant, or the built-in cluster-admin
// deny, must not keep that access in place, and a revoke of cluster-admin stays possible. A
// revoke is refused only when its entitlement id is malformed or of a type the connector cannot
// provision (nothing to carry out), or when the switch is off and the revoke is not an expiry
// revoke. The revoke that ends a time-bound grant (`expiry: true`) is never refused for the switch
// either: turning provisioning off must not turn a time-bound grant into a permanent one.
import { isProvisionable, parseEntitlementId, PROVISIONABLE_TYPES } from './ids.js';

/** A rule of a provisioning policy: a string is shorthand for `{ entitlement: <pattern> }`. */
export type PolicyRule = string | { entitlement?: string; principal?: string };

export interface ProvisioningPolicy {
  /** Rules that lift the built-in denies for the grants they match. */
  allow?: PolicyRule[];
  /** Rules that refuse the grants they match, whatever `allow` says. */
  deny?: PolicyRule[];
}

/** Cluster-admin powers, denied unless a cluster's policy allows them explicitly. */
export const BUILTIN_DENY: readonly { rule: string; why: string }[] = [
  { rule: 'cluster_role:cluster-admin:*', why: 'the cluster-admin ClusterRole' },
  {
    rule: 'access_policy:arn:*:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy:*',
    why: 'the AmazonEKSClusterAdminPolicy access policy',
  },
];

/** Why a request is refused; stable codes, recorded on the refused request and shown to C1. */
export const REFUSAL_CODES = [
  'INVALID_ENTITLEMENT',
  'PROVISIONING_DISABLED',
  'POLICY_INVALID',
  'POLICY_DENIED',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** What a cluster says about provisioning: its switch and its policy (as stored, not yet validated). */
export interface ClusterProvisioning {
  name: string;
  provisioningEnabled: boolean;
  provisioningPolicy: unknown;
}

/** The request being decided. */
export interface ProvisioningSubject {
  action: 'grant' | 'revoke';
  entitlementId: string;
  principalArn: string;
  /** The revoke that ends a time-bound grant (never refused for the switch). */
  expiry?: boolean;
}

export type PolicyDecision =
  | { allowed: true }
  | {
      allowed: false;
      code: RefusalCode;
      message: string;
      /** The rule that refused the grant, as written (or the built-in one). */
      rule?: PolicyRule;
    };

export interface PolicyIssue {
  /** Where in the policy, e.g. `allow.2.principal`; empty for the policy itself. */
  path: (string | number)[];
  message: string;
}

const MAX_RULES = 100;
const MAX_PATTERN = 1000;
const ENTITLEMENT_PREFIX = new RegExp(`^(\\*|(${PROVISIONABLE_TYPES.join('|')}):)`);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkPattern(
  kind: 'entitlement' | 'principal',
  pattern: unknown,
  path: (string | number)[],
  issues: PolicyIssue[],
): void {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN) {
    issues.push({ path, message: `must be a pattern of 1 to ${MAX_PATTERN} characters` });
    return;
  }
  if (kind === 'principal') {
    if (pattern !== '*' && !pattern.startsWith('arn:')) {
      issues.push({
        path,
        message: `"${pattern}" is not a principal ARN pattern: use the full IAM ARN (arn:aws:iam::<account>:role/<path><name>), globbed with *`,
      });
    }
    return;
  }
  if (!ENTITLEMENT_PREFIX.test(pattern)) {
    issues.push({
      path,
      message: `"${pattern}" is not an entitlement id pattern: it must start with * or one of ${PROVISIONABLE_TYPES.map((t) => `${t}:`).join(', ')}`,
    });
    return;
  }
  if (!pattern.includes('*')) {
    const parsed = parseEntitlementId(pattern);
    if (!parsed.ok)
      issues.push({
        path,
        message: `${parsed.error} (an exact id must be a valid entitlement id; use * to glob)`,
      });
  }
}

function checkRule(rule: unknown, path: (string | number)[], issues: PolicyIssue[]): void {
  if (typeof rule === 'string') {
    checkPattern('entitlement', rule, path, issues);
    return;
  }
  if (!isPlainObject(rule)) {
    issues.push({
      path,
      message: 'must be an entitlement id pattern, or an object { entitlement?, principal? }',
    });
    return;
  }
  for (const key of Object.keys(rule)) {
    if (key !== 'entitlement' && key !== 'principal')
      issues.push({
        path: [...path, key],
        message: `unknown field "${key}" (a rule has entitlement and principal)`,
      });
  }
  if (rule.entitlement === undefined && rule.principal === undefined) {
    issues.push({ path, message: 'a rule needs an entitlement pattern, a principal pattern, or both' });
  }
  if (rule.entitlement !== undefined)
    checkPattern('entitlement', rule.entitlement, [...path, 'entitlement'], issues);
  if (rule.principal !== undefined) checkPattern('principal', rule.principal, [...path, 'principal'], issues);
}

/** Every problem with a provisioning policy (unknown fields included); empty when it is valid. */
export function validateProvisioningPolicy(value: unknown): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  if (!isPlainObject(value)) return [{ path: [], message: 'must be an object { allow?, deny? }' }];
  for (const key of Object.keys(value)) {
    if (key !== 'allow' && key !== 'deny')
      issues.push({
        path: [key],
        message: `unknown field "${key}" (a provisioning policy has allow and deny)`,
      });
  }
  for (const list of ['allow', 'deny'] as const) {
    const rules = value[list];
    if (rules === undefined) continue;
    if (!Array.isArray(rules)) {
      issues.push({ path: [list], message: 'must be a list of rules' });
      continue;
    }
    if (rules.length > MAX_RULES)
      issues.push({ path: [list], message: `must have at most ${MAX_RULES} rules` });
    rules.forEach((rule, i) => checkRule(rule, [list, i], issues));
  }
  return issues;
}

/** Type guard over validateProvisioningPolicy. */
export function isProvisioningPolicy(value: unknown): value is ProvisioningPolicy {
  return validateProvisioningPolicy(value).length === 0;
}

/**
 * True when `pattern` (`*` = any run of characters, all else literal) matches all of `value`.
 * Linear backtracking to the last `*` only, so a long pattern with many stars cannot blow up the
 * way a naive regular expression would.
 */
export function globMatches(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether a (valid) rule matches a request. */
export function ruleMatches(
  rule: PolicyRule,
  subject: Pick<ProvisioningSubject, 'entitlementId' | 'principalArn'>,
): boolean {
  const { entitlement, principal } =
    typeof rule === 'string' ? { entitlement: rule, principal: undefined } : rule;
  return (
    (entitlement === undefined || globMatches(entitlement, subject.entitlementId)) &&
    (principal === undefined || globMatches(principal, subject.principalArn))
  );
}

function describeRule(rule: PolicyRule): string {
  return typeof rule === 'string' ? `"${rule}"` : JSON.stringify(rule);
}

/** Decides one grant or revoke on a cluster, by the rules in this module's header. */
export function decideProvisioning(
  cluster: ClusterProvisioning,
  subject: ProvisioningSubject,
): PolicyDecision {
  const parsed = parseEntitlementId(subject.entitlementId);
  if (!parsed.ok) return { allowed: false, code: 'INVALID_ENTITLEMENT', message: parsed.error };
  if (!isProvisionable(parsed.value)) {
    return {
      allowed: false,
      code: 'INVALID_ENTITLEMENT',
      message: `entitlements of type "${parsed.value.resourceType}" cannot be provisioned; only ${PROVISIONABLE_TYPES.join(', ')}`,
    };
  }
  if (!cluster.provisioningEnabled && !(subject.action === 'revoke' && subject.expiry)) {
    return {
      allowed: false,
      code: 'PROVISIONING_DISABLED',
      message: `provisioning is off for cluster ${cluster.name}; enable it with PATCH /v1/clusters/{id} {"provisioningEnabled": true}`,
    };
  }
  if (subject.action === 'revoke') return { allowed: true };

  const policy = cluster.provisioningPolicy ?? {};
  const issues = validateProvisioningPolicy(policy);
  if (issues.length > 0 || !isProvisioningPolicy(policy)) {
    const first = issues[0];
    return {
      allowed: false,
      code: 'POLICY_INVALID',
      message: `cluster ${cluster.name}'s provisioning policy is not valid (${first ? `${first.path.join('.') || 'policy'}: ${first.message}` : 'unreadable'}); no grant is carried out until it is fixed`,
    };
  }
  const denied = (policy.deny ?? []).find((rule) => ruleMatches(rule, subject));
  if (denied !== undefined) {
    return {
      allowed: false,
      code: 'POLICY_DENIED',
      message: `cluster ${cluster.name}'s provisioning policy denies ${subject.entitlementId} to ${subject.principalArn} (deny rule ${describeRule(denied)})`,
      rule: denied,
    };
  }
  const builtin = BUILTIN_DENY.find((d) => globMatches(d.rule, subject.entitlementId));
  if (builtin && !(policy.allow ?? []).some((rule) => ruleMatches(rule, subject))) {
    return {
      allowed: false,
      code: 'POLICY_DENIED',
      message: `cluster ${cluster.name}'s provisioning policy denies ${subject.entitlementId} (${builtin.why} is denied by default, rule "${builtin.rule}"); allow it explicitly in provisioningPolicy.allow`,
      rule: builtin.rule,
    };
  }
  return { allowed: true };
}
