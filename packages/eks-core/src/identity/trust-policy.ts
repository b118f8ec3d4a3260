// Who can assume an IAM role, read from its trust policy (AssumeRolePolicyDocument). baton-eks keeps
// only `:user/` principals of statements whose action is exactly sts:AssumeRole, so roles reached
// through SSO, OIDC (CI pipelines), other roles or whole accounts look unassumable. This parser keeps
// every principal kind, records conditions, and applies explicit Deny statements; anything it cannot
// evaluate exactly is reported as a problem and resolved towards "more access", never less.
import type { GrantCondition } from '../model.js';
import { isAccountId, parseArn, parseIamPrincipalArn, roleArnFromAssumedRole } from './arn.js';

export const ASSUME_ACTIONS = [
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
] as const;
export type AssumeAction = (typeof ASSUME_ACTIONS)[number];

export type TrustPrincipal =
  /** `"Principal": "*"` or `{"AWS": "*"}`: any AWS identity anywhere (conditions may narrow it). */
  | { kind: 'anyone' }
  /** An account root ARN or a bare account id: every principal of the account whose own policy allows it. */
  | { kind: 'account'; accountId: string; arn?: string }
  | { kind: 'iam_user'; arn: string }
  | { kind: 'role'; arn: string }
  /** One session of a role (`assumed-role/<name>/<session>`). */
  | { kind: 'role-session'; arn: string; roleArn: string; sessionName: string }
  | { kind: 'federated-user'; arn: string }
  /** IAM replaces a deleted principal by its unique id (AIDA…/AROA…); it no longer grants anything. */
  | { kind: 'deleted-principal'; uniqueId: string }
  /** A SAML provider; `sso` for IAM Identity Center's `AWSSSO_…` provider. */
  | { kind: 'saml-provider'; arn: string; sso: boolean }
  /** An OIDC provider: an IAM provider ARN (`provider` is its URL) or a built-in one (cognito, google…). */
  | { kind: 'oidc-provider'; provider: string; arn?: string }
  | { kind: 'service'; service: string }
  | { kind: 'canonical-user'; id: string }
  | { kind: 'unrecognized'; principalKey: string; value: string };

export interface TrustCondition {
  operator: string;
  key: string;
  /** Left out for sts:ExternalId: the value is a shared secret between the role owner and the caller. */
  values?: string[];
}

export interface TrustAllow {
  principal: TrustPrincipal;
  /** Assume actions the statement allows that this kind of principal can use. */
  actions: AssumeAction[];
  statementIndex: number;
  sid?: string;
  conditions: TrustCondition[];
  requiresExternalId: boolean;
  conditionKeys: string[];
  /** Set for Allow + NotPrincipal: reported as `anyone` except these. */
  except?: TrustPrincipal[];
  /** Deny statements with conditions that may remove this access at request time. */
  conditionalDenies?: number[];
}

export interface TrustDeny {
  /** Undefined for a NotPrincipal deny. */
  principal?: TrustPrincipal;
  notPrincipal?: TrustPrincipal[];
  actions: AssumeAction[];
  statementIndex: number;
  sid?: string;
  conditions: TrustCondition[];
}

export interface TrustProblem {
  statementIndex?: number;
  message: string;
}

export interface TrustPolicyAnalysis {
  /** Who can assume the role, one entry per (statement, principal). */
  allows: TrustAllow[];
  denies: TrustDeny[];
  /** Allows an unconditional Deny cancels completely. */
  denied: { allow: TrustAllow; byStatement: number }[];
  problems: TrustProblem[];
}

const UNIQUE_ID = /^A[A-Z0-9]{15,127}$/;

// Which assume call each kind of principal makes; a statement only helps a principal for these.
function actionsFor(principal: TrustPrincipal): readonly AssumeAction[] {
  switch (principal.kind) {
    case 'anyone':
      return ASSUME_ACTIONS;
    case 'saml-provider':
      return ['sts:AssumeRoleWithSAML'];
    case 'oidc-provider':
      return ['sts:AssumeRoleWithWebIdentity'];
    case 'account':
    case 'iam_user':
    case 'role':
    case 'role-session':
    case 'federated-user':
    case 'deleted-principal':
    case 'service':
    case 'canonical-user':
    case 'unrecognized':
      return ['sts:AssumeRole'];
  }
}

function toList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function globMatches(pattern: string, action: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  // IAM action names are case-insensitive.
  return new RegExp(`^${source}$`, 'i').test(action);
}

function parseAwsPrincipal(value: string): TrustPrincipal {
  if (value === '*') return { kind: 'anyone' };
  if (isAccountId(value)) return { kind: 'account', accountId: value };
  if (UNIQUE_ID.test(value)) return { kind: 'deleted-principal', uniqueId: value };
  const parsed = parseIamPrincipalArn(value);
  switch (parsed?.kind) {
    case 'root':
      return { kind: 'account', accountId: parsed.accountId, arn: value };
    case 'user':
      return { kind: 'iam_user', arn: value };
    case 'role':
      return { kind: 'role', arn: value };
    case 'assumed-role':
      return {
        kind: 'role-session',
        arn: value,
        roleArn: roleArnFromAssumedRole(value) ?? value,
        sessionName: parsed.sessionName ?? '',
      };
    case 'federated-user':
      return { kind: 'federated-user', arn: value };
    case undefined:
      return { kind: 'unrecognized', principalKey: 'AWS', value };
  }
}

function parseFederatedPrincipal(value: string): TrustPrincipal {
  const arn = parseArn(value);
  if (!arn) {
    // Built-in web identity providers are named by domain (cognito-identity.amazonaws.com, accounts.google.com).
    return /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(value)
      ? { kind: 'oidc-provider', provider: value }
      : { kind: 'unrecognized', principalKey: 'Federated', value };
  }
  if (arn.service === 'iam' && arn.resource.startsWith('saml-provider/')) {
    const name = arn.resource.slice('saml-provider/'.length);
    return { kind: 'saml-provider', arn: value, sso: name.startsWith('AWSSSO_') };
  }
  if (arn.service === 'iam' && arn.resource.startsWith('oidc-provider/')) {
    return { kind: 'oidc-provider', provider: arn.resource.slice('oidc-provider/'.length), arn: value };
  }
  return { kind: 'unrecognized', principalKey: 'Federated', value };
}

function parsePrincipalBlock(block: unknown, index: number, problems: TrustProblem[]): TrustPrincipal[] {
  if (block === '*') return [{ kind: 'anyone' }];
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    problems.push({ statementIndex: index, message: 'Principal is neither "*" nor an object' });
    return [];
  }
  const out: TrustPrincipal[] = [];
  for (const [key, raw] of Object.entries(block)) {
    for (const value of toList(raw)) {
      if (typeof value !== 'string') {
        problems.push({ statementIndex: index, message: `Principal.${key} holds a non-string value` });
        continue;
      }
      let principal: TrustPrincipal;
      switch (key) {
        case 'AWS':
          principal = parseAwsPrincipal(value);
          break;
        case 'Federated':
          principal = parseFederatedPrincipal(value);
          break;
        case 'Service':
          principal = { kind: 'service', service: value };
          break;
        case 'CanonicalUser':
          principal = { kind: 'canonical-user', id: value };
          break;
        default:
          principal = { kind: 'unrecognized', principalKey: key, value };
      }
      if (principal.kind === 'unrecognized') {
        problems.push({ statementIndex: index, message: `unrecognized principal ${key}: "${value}"` });
      }
      out.push(principal);
    }
  }
  return out;
}

function parseConditions(block: unknown, index: number, problems: TrustProblem[]): TrustCondition[] {
  if (block === undefined) return [];
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    problems.push({ statementIndex: index, message: 'Condition is not an object' });
    return [];
  }
  const out: TrustCondition[] = [];
  for (const [operator, keys] of Object.entries(block as Record<string, unknown>)) {
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
      problems.push({ statementIndex: index, message: `Condition.${operator} is not an object` });
      continue;
    }
    for (const [key, raw] of Object.entries(keys as Record<string, unknown>)) {
      const condition: TrustCondition = { operator, key };
      if (key.toLowerCase() !== 'sts:externalid') condition.values = toList(raw).map((v) => String(v));
      out.push(condition);
    }
  }
  return out;
}

// The caller must present an ExternalId: a positive string test on sts:ExternalId that does not
// pass when the key is absent (IfExists and ForAllValues do pass on absence).
function requiresExternalId(conditions: TrustCondition[], block: unknown): boolean {
  return conditions.some((c) => {
    if (c.key.toLowerCase() !== 'sts:externalid') return false;
    if (c.operator.endsWith('IfExists') || c.operator.startsWith('ForAllValues:')) return false;
    const base = c.operator.replace(/^ForAnyValue:/, '');
    if (base === 'Null') {
      const raw = (block as Record<string, Record<string, unknown>>)[c.operator]?.[c.key];
      return toList(raw).some((v) => String(v).toLowerCase() === 'false');
    }
    return base === 'StringEquals' || base === 'StringEqualsIgnoreCase' || base === 'StringLike';
  });
}

interface ParsedStatement {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  principals?: TrustPrincipal[];
  notPrincipals?: TrustPrincipal[];
  allowsAction(action: AssumeAction): boolean;
  conditions: TrustCondition[];
  rawCondition: unknown;
}

function parseStatement(raw: unknown, index: number, problems: TrustProblem[]): ParsedStatement | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push({ statementIndex: index, message: 'statement is not an object' });
    return undefined;
  }
  const s = raw as Record<string, unknown>;
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
    problems.push({
      statementIndex: index,
      message: `Effect must be "Allow" or "Deny", found ${JSON.stringify(s.Effect)}`,
    });
    return undefined;
  }
  const hasAction = s.Action !== undefined;
  const hasNotAction = s.NotAction !== undefined;
  if (hasAction === hasNotAction) {
    problems.push({ statementIndex: index, message: 'statement needs exactly one of Action and NotAction' });
    return undefined;
  }
  const patterns = toList(hasAction ? s.Action : s.NotAction);
  if (!patterns.every((p) => typeof p === 'string')) {
    problems.push({ statementIndex: index, message: 'Action holds a non-string value' });
    return undefined;
  }
  const matchesAny = (action: string): boolean =>
    patterns.some((p) => typeof p === 'string' && globMatches(p, action));
  const hasPrincipal = s.Principal !== undefined;
  const hasNotPrincipal = s.NotPrincipal !== undefined;
  if (hasPrincipal === hasNotPrincipal) {
    problems.push({
      statementIndex: index,
      message: 'a trust policy statement needs exactly one of Principal and NotPrincipal',
    });
    return undefined;
  }
  const statement: ParsedStatement = {
    index,
    effect: s.Effect,
    allowsAction: (action) => (hasAction ? matchesAny(action) : !matchesAny(action)),
    conditions: parseConditions(s.Condition, index, problems),
    rawCondition: s.Condition,
  };
  if (typeof s.Sid === 'string' && s.Sid !== '') statement.sid = s.Sid;
  if (hasPrincipal) statement.principals = parsePrincipalBlock(s.Principal, index, problems);
  else statement.notPrincipals = parsePrincipalBlock(s.NotPrincipal, index, problems);
  return statement;
}

function decodeDocument(document: unknown): unknown {
  if (typeof document !== 'string') return document;
  try {
    return JSON.parse(document) as unknown;
  } catch {
    // IAM returns the document URL-encoded; the SDK does not decode it.
    return JSON.parse(decodeURIComponent(document)) as unknown;
  }
}

function principalAccount(p: TrustPrincipal): string | undefined {
  if (p.kind === 'account') return p.accountId;
  if (
    p.kind === 'iam_user' ||
    p.kind === 'role' ||
    p.kind === 'role-session' ||
    p.kind === 'federated-user'
  ) {
    return parseIamPrincipalArn(p.arn)?.accountId;
  }
  return undefined;
}

function principalKey(p: TrustPrincipal): string {
  return JSON.stringify(p).toLowerCase();
}

// Whether a Deny naming `deny` applies to a request by `allow`: anyone covers all, an account covers
// every identity in it, otherwise only the same principal.
function denyCovers(deny: TrustPrincipal, allow: TrustPrincipal): boolean {
  if (deny.kind === 'anyone') return true;
  if (deny.kind === 'account') return principalAccount(allow) === deny.accountId;
  if (deny.kind === 'role' && allow.kind === 'role-session') {
    return deny.arn.toLowerCase() === allow.roleArn.toLowerCase();
  }
  return principalKey(deny) === principalKey(allow);
}

/**
 * Parses a role trust policy (JSON text, URL-encoded JSON text, or the parsed object) into who can
 * assume the role. Never throws: a malformed document yields problems and no allows.
 */
export function parseTrustPolicy(document: unknown): TrustPolicyAnalysis {
  const result: TrustPolicyAnalysis = { allows: [], denies: [], denied: [], problems: [] };
  let doc: unknown;
  try {
    doc = decodeDocument(document);
  } catch (error) {
    result.problems.push({ message: `trust policy is not JSON: ${(error as Error).message}` });
    return result;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    result.problems.push({ message: 'trust policy is not a JSON object' });
    return result;
  }
  const rawStatements = (doc as Record<string, unknown>).Statement;
  if (rawStatements === undefined) {
    result.problems.push({ message: 'trust policy has no Statement' });
    return result;
  }
  const statements = toList(rawStatements)
    .map((raw, index) => parseStatement(raw, index, result.problems))
    .filter((s): s is ParsedStatement => s !== undefined);

  for (const s of statements) {
    const base = { statementIndex: s.index, conditions: s.conditions, ...(s.sid ? { sid: s.sid } : {}) };
    if (s.effect === 'Deny') {
      const actions = ASSUME_ACTIONS.filter((a) => s.allowsAction(a));
      if (actions.length === 0) continue;
      if (s.notPrincipals) {
        result.denies.push({ ...base, notPrincipal: s.notPrincipals, actions });
        result.problems.push({
          statementIndex: s.index,
          message:
            'Deny with NotPrincipal is not evaluated; the principals listed as able to assume may be too many',
        });
      } else {
        for (const principal of s.principals ?? []) result.denies.push({ ...base, principal, actions });
      }
      continue;
    }
    const targets: { principal: TrustPrincipal; except?: TrustPrincipal[] }[] = s.notPrincipals
      ? [{ principal: { kind: 'anyone' }, except: s.notPrincipals }]
      : (s.principals ?? []).map((principal) => ({ principal }));
    if (s.notPrincipals) {
      result.problems.push({
        statementIndex: s.index,
        message:
          'Allow with NotPrincipal lets everyone except the listed principals assume the role; reported as anyone',
      });
    }
    for (const { principal, except } of targets) {
      const actions = actionsFor(principal).filter((a) => s.allowsAction(a));
      if (actions.length === 0) {
        const allowed = ASSUME_ACTIONS.filter((a) => s.allowsAction(a));
        if (allowed.length > 0) {
          result.problems.push({
            statementIndex: s.index,
            message: `${allowed.join(', ')} is not usable by a principal of kind ${principal.kind}; the statement gives it nothing`,
          });
        }
        continue;
      }
      const allow: TrustAllow = {
        ...base,
        principal,
        actions,
        requiresExternalId: requiresExternalId(s.conditions, s.rawCondition),
        conditionKeys: [...new Set(s.conditions.map((c) => c.key))].sort(),
      };
      if (except) allow.except = except;
      result.allows.push(allow);
    }
  }

  result.allows = result.allows.filter((allow) => {
    for (const deny of result.denies) {
      if (!deny.principal || !denyCovers(deny.principal, allow.principal)) continue;
      if (!allow.actions.some((a) => deny.actions.includes(a))) continue;
      if (deny.conditions.length > 0) {
        allow.conditionalDenies = [...new Set([...(allow.conditionalDenies ?? []), deny.statementIndex])];
        continue;
      }
      allow.actions = allow.actions.filter((a) => !deny.actions.includes(a));
      if (allow.actions.length === 0) {
        result.denied.push({ allow, byStatement: deny.statementIndex });
        return false;
      }
    }
    return true;
  });
  return result;
}

/** The grant principal (`iam_user` or `role`) a trust principal stands for, if it is one IAM identity. */
export function trustPrincipalRef(
  principal: TrustPrincipal,
): { type: 'iam_user' | 'role'; id: string } | undefined {
  if (principal.kind === 'iam_user') return { type: 'iam_user', id: principal.arn };
  if (principal.kind === 'role') return { type: 'role', id: principal.arn };
  if (principal.kind === 'role-session') return { type: 'role', id: principal.roleArn };
  return undefined;
}

/** Grant conditions for a trust allow: ExternalId, a pinned session, and any other IAM condition keys. */
export function trustAllowConditions(allow: TrustAllow): GrantCondition[] {
  const out: GrantCondition[] = [];
  if (allow.requiresExternalId) out.push({ kind: 'external-id-required' });
  if (allow.principal.kind === 'role-session') {
    out.push({ kind: 'session-name', value: allow.principal.sessionName, raw: true });
  }
  for (const c of allow.conditions) {
    if (c.key.toLowerCase() === 'sts:externalid') continue;
    const condition: GrantCondition = { kind: 'iam-condition', operator: c.operator, key: c.key };
    if (c.values) condition.values = c.values;
    out.push(condition);
  }
  return out;
}
