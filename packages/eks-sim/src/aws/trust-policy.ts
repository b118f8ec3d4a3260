// Evaluation of a role's trust policy for an STS request, following IAM's documented logic: a
// matching explicit Deny wins, otherwise a matching Allow grants, otherwise access is implicitly
// denied. Callers are IAM identities (`AWS` principals), OIDC web identities (`Federated`: the
// IAM OIDC provider ARN) and AWS services (`Service`, e.g. pods.eks.amazonaws.com for EKS Pod
// Identity); `CanonicalUser` principals never match. Identity policies are not modelled: the trust
// policy alone decides. `explainTrustDecision` also says why a request was refused, in one line,
// because "not authorized" alone leaves a user guessing which condition to fix.
import type { CallerIdentity, PolicyDocument, PolicyStatement } from '../world/types.js';

export type TrustDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** A web identity caller: a token from the OIDC provider with this IAM ARN. */
export interface FederatedCaller {
  kind: 'federated';
  provider: string;
}

/** An AWS service acting on its own behalf (EKS Pod Identity: `pods.eks.amazonaws.com`). */
export interface ServiceCaller {
  kind: 'service';
  service: string;
}

export type TrustCaller = CallerIdentity | FederatedCaller | ServiceCaller;

export interface TrustRequest {
  /** The STS action being authorised (`sts:AssumeRole`, `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`…). */
  action: string;
  caller: TrustCaller;
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
export function arnMatches(actual: string, expected: string): boolean {
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
export function toList(value: unknown): string[] {
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

/** The first condition of a statement that does not hold, as `[operator, key, policy values]`. */
export function failingCondition(
  condition: PolicyStatement['Condition'],
  context: TrustRequest['context'],
): [string, string, unknown] | undefined {
  for (const [operatorName, block] of Object.entries(condition ?? {})) {
    for (const [key, values] of Object.entries(block ?? {})) {
      if (!conditionHolds(operatorName, key, values, context)) return [operatorName, key, values];
    }
  }
  return undefined;
}

function awsPrincipalMatches(principal: string, caller: CallerIdentity): boolean {
  if (principal === '*') return true;
  if (/^\d{12}$/.test(principal)) return principal === caller.accountId;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(principal);
  if (root) return root[1] === caller.accountId;
  // A role ARN names every session of the role; a session ARN names that session only.
  return principal === caller.arn || (caller.roleArn !== undefined && principal === caller.roleArn);
}

function typedPrincipalMatches(type: string, value: string, caller: TrustCaller): boolean {
  switch (caller.kind) {
    case 'federated':
      return type === 'Federated' && value === caller.provider;
    case 'service':
      return type === 'Service' && value === caller.service;
    case 'user':
    case 'assumed-role':
    case 'root':
      return type === 'AWS' && awsPrincipalMatches(value, caller);
  }
}

function principalMatches(principal: PolicyStatement['Principal'], caller: TrustCaller): boolean {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  return Object.entries(principal).some(([type, values]) =>
    toList(values).some((p) => typedPrincipalMatches(type, p, caller)),
  );
}

/** Whether the statement names the action and the caller (conditions aside). */
function statementTargets(statement: PolicyStatement, request: TrustRequest): boolean {
  if (!statementNamesAction(statement, request.action)) return false;
  if (statement.Principal !== undefined) return principalMatches(statement.Principal, request.caller);
  return statement.NotPrincipal !== undefined && !principalMatches(statement.NotPrincipal, request.caller);
}

/** Whether a statement's Action (or NotAction) covers `action`; trust and identity policies alike. */
export function statementNamesAction(statement: PolicyStatement, action: string): boolean {
  // Action names are case-insensitive in IAM (`sts:assumerole` grants sts:AssumeRole).
  const matches = (patterns: unknown) => toList(patterns).some((p) => globMatches(p, action, true));
  if (statement.Action !== undefined) return matches(statement.Action);
  return statement.NotAction !== undefined && !matches(statement.NotAction);
}

/** A policy's statements (trust or identity). */
export function statementsOf(document: PolicyDocument): PolicyStatement[] {
  // World files may give a lone statement object, which IAM also accepts.
  const raw: unknown = document.Statement;
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as PolicyStatement[];
}

/** Decides whether a trust policy lets `request.caller` perform `request.action` on the role. */
export function evaluateTrustPolicy(document: PolicyDocument, request: TrustRequest): TrustDecision {
  return explainTrustDecision(document, request).decision;
}

function callerText(caller: TrustCaller): string {
  switch (caller.kind) {
    case 'federated':
      return `federated principal ${caller.provider}`;
    case 'service':
      return `service ${caller.service}`;
    case 'user':
    case 'assumed-role':
    case 'root':
      return caller.arn;
  }
}

/**
 * The decision and, when refused, one line saying why: the explicit Deny that matched, that no
 * statement names this action and caller, or the first condition of the closest statement that
 * did not hold (`condition StringEquals <key> = <expected> did not match <actual>`).
 */
export function explainTrustDecision(
  document: PolicyDocument,
  request: TrustRequest,
): { decision: TrustDecision; reason: string } {
  let allowed = false;
  let firstFailure: string | undefined;
  const statements = statementsOf(document);
  for (const [i, statement] of statements.entries()) {
    if (!statementTargets(statement, request)) continue;
    const failed = failingCondition(statement.Condition, request.context);
    if (failed === undefined) {
      if (statement.Effect === 'Deny') {
        return {
          decision: 'explicit-deny',
          reason: `statement ${statement.Sid ?? `#${i + 1}`} of its trust policy denies ${request.action}`,
        };
      }
      if (statement.Effect === 'Allow') allowed = true;
    } else if (statement.Effect === 'Allow' && firstFailure === undefined) {
      const [operator, key, expected] = failed;
      const actual = request.context[key.toLowerCase()];
      firstFailure = `condition ${operator} ${key} = ${toList(expected).join(' or ')} did not match ${actual ?? '(absent)'}`;
    }
  }
  if (allowed) return { decision: 'allow', reason: '' };
  return {
    decision: 'implicit-deny',
    reason:
      firstFailure ??
      `no statement of its trust policy allows ${request.action} for ${callerText(request.caller)}`,
  };
}
