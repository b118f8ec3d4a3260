// Which IAM principals a Kubernetes username or group stands for on one cluster. Two sources exist
// (aws-auth and access entries) and the cluster's authenticationMode decides which of them the API
// server consults; reporting a mapping the cluster ignores is a false finding, so every source that
// does not count is kept in `ignored` with the reason instead.
import type { GrantCondition, IdentitySource } from '../model.js';
import {
  createRoleArnIndex,
  parseIamPrincipalArn,
  principalMatchKey,
  principalTypeOf,
  roleArn,
  type RoleArnIndex,
} from './arn.js';
import type { AwsAuthMapping, AwsAuthRoleMapping, AwsAuthUserMapping } from './aws-auth.js';
import { compileTemplate, type CompiledTemplate } from './template.js';

export const AUTHENTICATION_MODES = ['CONFIG_MAP', 'API_AND_CONFIG_MAP', 'API'] as const;
export type AuthenticationMode = (typeof AUTHENTICATION_MODES)[number];

/** The API server adds this group to every authenticated request. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** An access entry as DescribeAccessEntry returns it (only the fields identity mapping needs). */
export interface AccessEntryInput {
  principalArn: string;
  /** Defaults to STANDARD. */
  type?: string;
  username?: string;
  kubernetesGroups?: readonly string[];
  accessEntryArn?: string;
}

export interface IdentityMapInput {
  authenticationMode: AuthenticationMode;
  awsAuth?: readonly AwsAuthMapping[];
  accessEntries?: readonly AccessEntryInput[];
  /** Role ARNs with their paths (from IAM ListRoles), to restore paths that aws-auth leaves out. */
  knownRoleArns?: Iterable<string>;
  /** User ARNs, so principals admitted account-wide by mapAccounts can be listed. */
  knownUserArns?: Iterable<string>;
  /** Groups every identity belongs to; defaults to `system:authenticated`. */
  implicitGroups?: readonly string[];
}

/**
 * How the principal ARN of a mapping was obtained. aws-auth role ARNs carry no path; `path-restored`
 * means a known role with that name was found, `unresolved` that the path-less ARN is kept as written
 * (the real role may have a path, and then its C1 id differs).
 */
export type ArnResolution = 'exact' | 'path-restored' | 'unresolved';

export interface MappedIdentity {
  principalArn: string;
  principalType: 'iam_user' | 'role';
  /** As configured; may hold templates such as {{SessionName}}. Empty when aws-auth gives none. */
  username: string;
  groups: string[];
  source: IdentitySource;
  arnResolution: ArnResolution;
}

export interface IdentityMatch {
  principalArn: string;
  principalType: 'iam_user' | 'role';
  source: IdentitySource;
  /** Empty when the name always applies; otherwise what the session must look like (see template.ts). */
  conditions: GrantCondition[];
}

export interface IgnoredIdentitySource {
  source: IdentitySource;
  principalArn?: string;
  reason: string;
}

export interface IdentityProblem {
  source?: IdentitySource;
  message: string;
}

export interface IdentityMap {
  authenticationMode: AuthenticationMode;
  awsAuthEffective: boolean;
  accessEntriesEffective: boolean;
  /** Every identity the cluster would hand out, sorted by principal ARN then source. */
  identities: readonly MappedIdentity[];
  /** Accounts whose every IAM principal is admitted by aws-auth mapAccounts (username = its ARN). */
  mappedAccounts: readonly { accountId: string; source: IdentitySource }[];
  /** Exact username (templates kept literally) → principals. */
  users: ReadonlyMap<string, readonly IdentityMatch[]>;
  /** Group (implicit groups included) → members. */
  groups: ReadonlyMap<string, readonly IdentityMatch[]>;
  ignored: readonly IgnoredIdentitySource[];
  problems: readonly IdentityProblem[];
  /** Principals a binding subject `User <name>` reaches, templates and mapAccounts included. */
  lookupUser(name: string): IdentityMatch[];
  /** Principals a binding subject `Group <name>` reaches. */
  lookupGroup(name: string): IdentityMatch[];
}

/** Whether aws-auth counts under this authentication mode. */
export function isAwsAuthEffective(mode: AuthenticationMode): boolean {
  return mode === 'CONFIG_MAP' || mode === 'API_AND_CONFIG_MAP';
}

/** Whether access entries count under this authentication mode. */
export function areAccessEntriesEffective(mode: AuthenticationMode): boolean {
  return mode === 'API' || mode === 'API_AND_CONFIG_MAP';
}

/** The username EKS gives an access entry created without one. */
export function defaultAccessEntryUsername(principalArn: string): string {
  const parsed = parseIamPrincipalArn(principalArn);
  if (parsed?.kind === 'role') {
    return `arn:${parsed.partition}:sts::${parsed.accountId}:assumed-role/${parsed.name}/{{SessionName}}`;
  }
  return principalArn;
}

function sourceOrder(source: IdentitySource): string {
  switch (source.kind) {
    case 'access-entry':
      return `0|${source.principalArn}`;
    case 'aws-auth':
      return `1|${source.key}|${String(source.index).padStart(6, '0')}`;
    case 'implicit':
      return `2|${source.group}`;
  }
}

// Code-unit order, not localeCompare: the output must not depend on the host's locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareMatches(a: IdentityMatch, b: IdentityMatch): number {
  return (
    compare(a.principalArn, b.principalArn) ||
    compare(sourceOrder(a.source), sourceOrder(b.source)) ||
    compare(JSON.stringify(a.conditions), JSON.stringify(b.conditions))
  );
}

function resolveRole(arn: string, index: RoleArnIndex): { arn: string; resolution: ArnResolution } {
  const known = index.resolve(arn);
  return known ? { arn: known, resolution: 'path-restored' } : { arn, resolution: 'unresolved' };
}

interface CompiledIdentity {
  identity: MappedIdentity;
  username: CompiledTemplate;
  groups: CompiledTemplate[];
}

/**
 * Builds the identity map of one cluster from aws-auth mappings and access entries, counting each
 * source only where the authentication mode makes it effective. In API_AND_CONFIG_MAP an access entry
 * takes precedence over aws-auth for the same principal, as in EKS.
 */
export function buildIdentityMap(input: IdentityMapInput): IdentityMap {
  const mode = input.authenticationMode;
  const awsAuthEffective = isAwsAuthEffective(mode);
  const accessEntriesEffective = areAccessEntriesEffective(mode);
  // Copied once: the inputs may be one-shot iterables and are read twice.
  const knownRoleArns = [...(input.knownRoleArns ?? [])];
  const knownUserArns = [...(input.knownUserArns ?? [])];
  const roleIndex = createRoleArnIndex(knownRoleArns);
  const implicitGroups = input.implicitGroups ?? [AUTHENTICATED_GROUP];
  const identities: MappedIdentity[] = [];
  const ignored: IgnoredIdentitySource[] = [];
  const problems: IdentityProblem[] = [];

  // Principals that have an access entry of any type: the API server stops there in the API* modes.
  const withAccessEntry = new Set<string>();
  for (const entry of input.accessEntries ?? []) {
    const source: IdentitySource = { kind: 'access-entry', principalArn: entry.principalArn };
    if (entry.accessEntryArn) source.accessEntryArn = entry.accessEntryArn;
    const principalType = principalTypeOf(entry.principalArn);
    if (!principalType) {
      problems.push({
        source,
        message: `access entry principal "${entry.principalArn}" is not an IAM user or role ARN`,
      });
      continue;
    }
    if (!accessEntriesEffective) {
      ignored.push({
        source,
        principalArn: entry.principalArn,
        reason: `authenticationMode ${mode} ignores access entries`,
      });
      continue;
    }
    withAccessEntry.add(principalMatchKey(entry.principalArn));
    const type = entry.type ?? 'STANDARD';
    if (type !== 'STANDARD') {
      ignored.push({
        source,
        principalArn: entry.principalArn,
        reason: `access entry type ${type} is a node or system identity, not a user mapping`,
      });
      continue;
    }
    identities.push({
      principalArn: entry.principalArn,
      principalType,
      username: entry.username || defaultAccessEntryUsername(entry.principalArn),
      groups: [...(entry.kubernetesGroups ?? [])],
      source,
      arnResolution: 'exact',
    });
  }

  const mappedAccounts: { accountId: string; source: IdentitySource }[] = [];
  // The authenticator keys mappings by lower-cased ARN, so a later duplicate replaces an earlier one.
  const lastIndex = new Map<string, number>();
  for (const m of input.awsAuth ?? []) {
    if (m.key === 'mapRoles' && m.roleArn) lastIndex.set(`r|${m.roleArn.toLowerCase()}`, m.index);
    if (m.key === 'mapUsers') lastIndex.set(`u|${m.userArn.toLowerCase()}`, m.index);
  }
  for (const m of input.awsAuth ?? []) {
    const source: IdentitySource = { kind: 'aws-auth', key: m.key, index: m.index };
    if (!awsAuthEffective) {
      // Name the principal and the groups it would have had: a leftover system:masters mapping that
      // no longer works is exactly what a reviewer needs to see explained.
      const arn = m.key === 'mapRoles' ? m.roleArn : m.key === 'mapUsers' ? m.userArn : undefined;
      const groups = m.key === 'mapAccounts' ? [] : m.groups;
      ignored.push({
        source,
        ...(arn ? { principalArn: arn } : {}),
        reason: `authenticationMode ${mode} ignores aws-auth (${m.key}[${m.index}]${groups.length > 0 ? `, groups ${groups.join(', ')}` : ''})`,
      });
      continue;
    }
    if (m.key === 'mapAccounts') {
      mappedAccounts.push({ accountId: m.accountId, source });
      continue;
    }
    for (const resolved of resolveAwsAuthMapping(m, roleIndex, source, ignored, problems)) {
      const dupKey =
        m.key === 'mapRoles' ? `r|${(m.roleArn ?? '').toLowerCase()}` : `u|${m.userArn.toLowerCase()}`;
      const winner = lastIndex.get(dupKey);
      if (winner !== undefined && winner !== m.index) {
        ignored.push({ source, principalArn: resolved.arn, reason: `replaced by ${m.key} entry #${winner}` });
        continue;
      }
      if (withAccessEntry.has(principalMatchKey(resolved.arn))) {
        ignored.push({
          source,
          principalArn: resolved.arn,
          reason: 'the principal has an access entry, which takes precedence',
        });
        continue;
      }
      identities.push({
        principalArn: resolved.arn,
        principalType: m.key === 'mapRoles' ? 'role' : 'iam_user',
        username: m.username ?? '',
        groups: [...m.groups],
        source,
        arnResolution: resolved.resolution,
      });
    }
  }

  // Known principals of mapAccounts accounts that no explicit mapping covers are admitted with their
  // ARN as username (path-less for roles, as the authenticator derives it from the STS session).
  const mapped = new Set(identities.map((i) => principalMatchKey(i.principalArn)));
  for (const { accountId, source } of mappedAccounts) {
    for (const arn of [...knownRoleArns, ...knownUserArns]) {
      const parsed = parseIamPrincipalArn(arn);
      if (!parsed || parsed.accountId !== accountId) continue;
      const key = principalMatchKey(arn);
      if (mapped.has(key) || withAccessEntry.has(key)) continue;
      const principalType = principalTypeOf(arn);
      if (!principalType) continue;
      mapped.add(key);
      identities.push({
        principalArn: arn,
        principalType,
        username: principalType === 'role' ? roleArn(parsed.partition, parsed.accountId, parsed.name) : arn,
        groups: [],
        source,
        arnResolution: 'exact',
      });
    }
  }

  identities.sort(
    (a, b) =>
      compare(a.principalArn, b.principalArn) || compare(sourceOrder(a.source), sourceOrder(b.source)),
  );

  const compiled: CompiledIdentity[] = identities.map((identity) => {
    const accountId = parseIamPrincipalArn(identity.principalArn)?.accountId ?? '';
    return {
      identity,
      username: compileTemplate(identity.username, accountId),
      groups: identity.groups.map((g) => compileTemplate(g, accountId)),
    };
  });

  // Most names are literal: index those so a sync resolving thousands of binding subjects does not
  // run every template for each one; only templated names are matched by pattern.
  const literalUsers = new Map<string, CompiledIdentity[]>();
  const literalGroups = new Map<string, CompiledIdentity[]>();
  const patternUsers: CompiledIdentity[] = [];
  const patternGroups: { c: CompiledIdentity; template: CompiledTemplate }[] = [];
  for (const c of compiled) {
    if (c.username.literal) {
      const list = literalUsers.get(c.username.rendered) ?? [];
      list.push(c);
      literalUsers.set(c.username.rendered, list);
    } else patternUsers.push(c);
    for (const g of c.groups) {
      if (g.literal) {
        const list = literalGroups.get(g.rendered) ?? [];
        list.push(c);
        literalGroups.set(g.rendered, list);
      } else patternGroups.push({ c, template: g });
    }
  }

  const users = new Map<string, IdentityMatch[]>();
  const groups = new Map<string, IdentityMatch[]>();
  const push = (map: Map<string, IdentityMatch[]>, key: string, match: IdentityMatch): void => {
    const list = map.get(key);
    if (list) list.push(match);
    else map.set(key, [match]);
  };
  for (const { identity } of compiled) {
    const base = { principalArn: identity.principalArn, principalType: identity.principalType };
    if (identity.username !== '')
      push(users, identity.username, { ...base, source: identity.source, conditions: [] });
    for (const g of identity.groups) push(groups, g, { ...base, source: identity.source, conditions: [] });
    for (const g of implicitGroups)
      push(groups, g, { ...base, source: { kind: 'implicit', group: g }, conditions: [] });
  }
  for (const list of [...users.values(), ...groups.values()]) list.sort(compareMatches);

  const mappedAccountIds = new Map(mappedAccounts.map((a) => [a.accountId, a.source]));

  return {
    authenticationMode: mode,
    awsAuthEffective,
    accessEntriesEffective,
    identities,
    mappedAccounts,
    users,
    groups,
    ignored,
    problems,
    lookupUser(name) {
      const out: IdentityMatch[] = [];
      // An empty username is what a mapping without one renders to; no binding subject names it.
      if (name === '') return out;
      for (const c of literalUsers.get(name) ?? []) out.push({ ...matchBase(c.identity), conditions: [] });
      for (const c of patternUsers) {
        const conditions = c.username.match(name);
        if (conditions) out.push({ ...matchBase(c.identity), conditions });
      }
      const viaAccount = matchMappedAccount(name, mappedAccountIds, roleIndex, mapped, withAccessEntry);
      if (viaAccount) out.push(viaAccount);
      return dedupe(out);
    },
    lookupGroup(name) {
      const out: IdentityMatch[] = [];
      for (const c of literalGroups.get(name) ?? []) out.push({ ...matchBase(c.identity), conditions: [] });
      for (const { c, template } of patternGroups) {
        const conditions = template.match(name);
        if (conditions) out.push({ ...matchBase(c.identity), conditions });
      }
      if (implicitGroups.includes(name)) {
        for (const c of compiled) {
          out.push({ ...matchBase(c.identity), source: { kind: 'implicit', group: name }, conditions: [] });
        }
      }
      return dedupe(out);
    },
  };
}

function matchBase(identity: MappedIdentity): Omit<IdentityMatch, 'conditions'> {
  return {
    principalArn: identity.principalArn,
    principalType: identity.principalType,
    source: identity.source,
  };
}

function dedupe(matches: IdentityMatch[]): IdentityMatch[] {
  const seen = new Set<string>();
  return matches.sort(compareMatches).filter((m) => {
    const key = JSON.stringify([m.principalArn, m.source, m.conditions]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// A mapAccounts principal without an explicit mapping authenticates as its own ARN (roles path-less),
// so a binding naming that ARN reaches it even when IAM ListRoles did not show the role.
function matchMappedAccount(
  name: string,
  accounts: Map<string, IdentitySource>,
  roleIndex: RoleArnIndex,
  mapped: Set<string>,
  withAccessEntry: Set<string>,
): IdentityMatch | undefined {
  const parsed = parseIamPrincipalArn(name);
  if (!parsed || (parsed.kind !== 'user' && parsed.kind !== 'role')) return undefined;
  if (parsed.kind === 'role' && parsed.path !== '/') return undefined;
  const source = accounts.get(parsed.accountId);
  if (!source) return undefined;
  const key = principalMatchKey(name);
  if (mapped.has(key) || withAccessEntry.has(key)) return undefined;
  if (parsed.kind === 'user')
    return { principalArn: name, principalType: 'iam_user', source, conditions: [] };
  return { principalArn: roleIndex.resolve(name) ?? name, principalType: 'role', source, conditions: [] };
}

function resolveAwsAuthMapping(
  m: AwsAuthRoleMapping | AwsAuthUserMapping,
  roleIndex: RoleArnIndex,
  source: IdentitySource,
  ignored: IgnoredIdentitySource[],
  problems: IdentityProblem[],
): { arn: string; resolution: ArnResolution }[] {
  if (m.key === 'mapUsers') return [{ arn: m.userArn, resolution: 'exact' }];
  if (m.roleArn) {
    if (parseIamPrincipalArn(m.roleArn)?.path !== '/') {
      ignored.push({
        source,
        principalArn: m.roleArn,
        reason: 'rolearn includes an IAM path and never matches',
      });
      return [];
    }
    return [resolveRole(m.roleArn, roleIndex)];
  }
  if (m.sso) {
    const { partition, accountId, permissionSetName } = m.sso;
    const arns = roleIndex.rolesWithPrefix(partition, accountId, `AWSReservedSSO_${permissionSetName}_`);
    if (arns.length === 0) {
      problems.push({
        source,
        message: `no known role matches sso permission set "${permissionSetName}" in account ${accountId}`,
      });
    }
    return arns.map((arn) => ({ arn, resolution: 'path-restored' as const }));
  }
  return [];
}
