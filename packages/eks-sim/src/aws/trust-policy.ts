// Evaluation of a role's trust policy for an STS request, following IAM's documented logic: a
// matching explicit Deny wins, otherwise a matching Allow grants, otherwise access is implicitly
// denied. Only IAM callers exist in the simulator, so `Federated`, `Service` and `CanonicalUser`
// principals never match. Identity policies are not modelled: the trust policy alone decides.
import type { CallerIdentity, PolicyDocument, PolicyStatement } from '../world/types.js';

export type TrustDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface TrustRequest {
  /** The STS action being authorised (`sts:AssumeRole`, `sts:SetSourceIdentity`). */
  action: string;
  caller: CallerIdentity;
  /** Request context keys, lower-cased (IAM matches key names case-insensitively); absent keys are undefined. */
  context: Readonly<Record<string, string | undefined>>;
}

interface Operator {
  /** Negated operators hold when no policy value matches, including when the key is absent. */
  negated: boolean;
  matches(actual: string, expected: string): boolean;
}

const globCache = new Map<string, RegExp>();

/** Whether `value` matches an IAM glob (`*` any run, `?` one character). */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = globCache.get(cacheKey);
  if (!re) {
    const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) =>
      c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`,
    );
    re = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re.test(value);
}

/** ARN globs match component by component, so a `*` never spans a colon outside the resource part. */
function arnMatches(actual: string, expected: string): boolean {
  const split = (arn: string) => {
    const parts = arn.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const a = split(actual);
  const e = split(expected);
  return a !== undefined && e !== undefined && e.every((pattern, i) => globMatches(pattern, a[i]!));
}

const equals = (a: string, e: string) => a === e;
const equalsIgnoreCase = (a: string, e: string) => a.toLowerCase() === e.toLowerCase();
const like = (a: string, e: string) => globMatches(e, a);

const OPERATORS: Record<string, Operator> = {
  StringEquals: { negated: false, matches: equals },
  StringNotEquals: { negated: true, matches: equals },
  StringEqualsIgnoreCase: { negated: false, matches: equalsIgnoreCase },
  StringNotEqualsIgnoreCase: { negated: true, matches: equalsIgnoreCase },
  StringLike: { negated: false, matches: like },
  StringNotLike: { negated: true, matches: like },
  ArnEquals: { negated: false, matches: arnMatches },
  ArnLike: { negated: false, matches: arnMatches },
  ArnNotEquals: { negated: true, matches: arnMatches },
  ArnNotLike: { negated: true, matches: arnMatches },
  Bool: { negated: false, matches: equalsIgnoreCase },
};

/** Policy values may be a single value or a list, and documents loaded from YAML may hold booleans or numbers. */
function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? (value as unknown[]) : [value]).map((v) => String(v));
}

function conditionHolds(
  operatorName: string,
  key: string,
  policyValues: unknown,
  context: TrustRequest['context'],
): boolean {
  const m = /^(ForAnyValue:|ForAllValues:)?(.+?)(IfExists)?$/.exec(operatorName);
  if (!m) return false;
  const setOperator = m[1];
  const base = m[2]!;
  const ifExists = m[3] !== undefined;
  const expected = toList(policyValues);
  const actual = context[key.toLowerCase()];

  if (base === 'Null' && !ifExists && setOperator === undefined) {
    // `"Null": {"k": "true"}` demands the key be absent, `"false"` that it be present.
    const wantsAbsent = expected.some((v) => v.toLowerCase() === 'true');
    return wantsAbsent === (actual === undefined);
  }
  const operator = Object.hasOwn(OPERATORS, base) ? OPERATORS[base] : undefined;
  if (!operator) return false; // IAM refuses unknown operators when a policy is saved; here they simply never hold.

  if (actual === undefined) {
    if (ifExists) return true;
    if (setOperator === 'ForAllValues:') return true; // vacuously true over an empty set, as IAM documents
    if (setOperator === 'ForAnyValue:') return false;
    return operator.negated;
  }
  // Every key the simulator supplies is single-valued, so the set operators see a one-element set.
  const anyMatch = expected.some((e) => operator.matches(actual, e));
  return operator.negated ? !anyMatch : anyMatch;
}

function conditionsHold(condition: PolicyStatement['Condition'], context: TrustRequest['context']): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition).every(([operatorName, block]) =>
    Object.entries(block ?? {}).every(([key, values]) => conditionHolds(operatorName, key, values, context)),
  );
}

function awsPrincipalMatches(principal: string, caller: CallerIdentity): boolean {
  if (principal === '*') return true;
  if (/^\d{12}$/.test(principal)) return principal === caller.accountId;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(principal);
  if (root) return root[1] === caller.accountId;
  // A role ARN names every session of the role; a session ARN names that session only.
  return principal === caller.arn || (caller.roleArn !== undefined && principal === caller.roleArn);
}

function principalMatches(principal: PolicyStatement['Principal'], caller: CallerIdentity): boolean {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  return Object.entries(principal).some(
    ([type, values]) => type === 'AWS' && toList(values).some((p) => awsPrincipalMatches(p, caller)),
  );
}

function statementApplies(statement: PolicyStatement, request: TrustRequest): boolean {
  // Action names are case-insensitive in IAM (`sts:assumerole` grants sts:AssumeRole).
  const actionMatches = (patterns: unknown) =>
    toList(patterns).some((p) => globMatches(p, request.action, true));
  if (statement.Action !== undefined) {
    if (!actionMatches(statement.Action)) return false;
  } else if (statement.NotAction === undefined || actionMatches(statement.NotAction)) {
    return false;
  }
  if (statement.Principal !== undefined) {
    if (!principalMatches(statement.Principal, request.caller)) return false;
  } else if (
    statement.NotPrincipal === undefined ||
    principalMatches(statement.NotPrincipal, request.caller)
  ) {
    return false;
  }
  return conditionsHold(statement.Condition, request.context);
}

/** Decides whether a trust policy lets `request.caller` perform `request.action` on the role. */
export function evaluateTrustPolicy(document: PolicyDocument, request: TrustRequest): TrustDecision {
  // World files may give a lone statement object, which IAM also accepts.
  const raw: unknown = document.Statement;
  const statements = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as PolicyStatement[];
  let allowed = false;
  for (const statement of statements) {
    if (!statementApplies(statement, request)) continue;
    if (statement.Effect === 'Deny') return 'explicit-deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}
