// The `kube-system/aws-auth` ConfigMap as aws-iam-authenticator reads it: `mapRoles`, `mapUsers`
// and `mapAccounts` are YAML lists inside string values. Field names match case-insensitively
// (the authenticator decodes with Go's encoding/json, so `rolearn` and `roleARN` both work), ARNs
// are compared lower-cased, and a document that does not parse contributes no mappings at all.
import { parse } from 'yaml';
import type { KubeObject, KubeStore } from './store.js';

export interface AwsAuthMapping {
  /** As written in the ConfigMap (a role ARN here must be path-free to ever match). */
  arn: string;
  username: string;
  groups: string[];
}

export interface AwsAuthConfig {
  /** Keyed by lower-cased ARN; a later duplicate replaces an earlier one, as in the authenticator. */
  roles: Map<string, AwsAuthMapping>;
  users: Map<string, AwsAuthMapping>;
  accounts: Set<string>;
  /** Why parts of the ConfigMap were ignored (for tests and the admin API). */
  problems: string[];
}

const EMPTY: AwsAuthConfig = { roles: new Map(), users: new Map(), accounts: new Set(), problems: [] };

/** Stored objects are immutable versions, so a parse can be cached against the object itself. */
const cache = new WeakMap<KubeObject, AwsAuthConfig>();

function field(entry: Record<string, unknown>, name: string): unknown {
  for (const [key, value] of Object.entries(entry)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function parseList(text: string | undefined, what: string): unknown[] | string {
  if (text === undefined || text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    return `${what}: ${err instanceof Error ? err.message.split('\n')[0] : 'unparseable YAML'}`;
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) return `${what}: expected a YAML list`;
  return doc as unknown[];
}

function parseMappings(
  text: string | undefined,
  what: 'mapRoles' | 'mapUsers',
  arnField: string,
): Map<string, AwsAuthMapping> | string {
  const list = parseList(text, what);
  if (typeof list === 'string') return list;
  const out = new Map<string, AwsAuthMapping>();
  for (const [i, raw] of list.entries()) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return `${what}[${i}]: expected a mapping`;
    }
    const entry = raw as Record<string, unknown>;
    const arn = field(entry, arnField);
    const username = field(entry, 'username');
    const groups = field(entry, 'groups') ?? [];
    if (typeof arn !== 'string' || !arn.startsWith('arn:')) return `${what}[${i}]: ${arnField} is not an ARN`;
    if (username !== undefined && typeof username !== 'string') {
      return `${what}[${i}]: username is not a string`;
    }
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      return `${what}[${i}]: groups is not a list of strings`;
    }
    out.set(arn.toLowerCase(), { arn, username: username ?? '', groups });
  }
  return out;
}

/** Parses the data of an aws-auth ConfigMap; any malformed key voids the whole document. */
export function parseAwsAuth(data: Record<string, unknown> | undefined): AwsAuthConfig {
  const text = (key: string) => (typeof data?.[key] === 'string' ? data[key] : undefined);
  const roles = parseMappings(text('mapRoles'), 'mapRoles', 'rolearn');
  const users = parseMappings(text('mapUsers'), 'mapUsers', 'userarn');
  const accounts = parseList(text('mapAccounts'), 'mapAccounts');
  const problems = [roles, users, accounts].filter((r): r is string => typeof r === 'string');
  if (
    typeof accounts !== 'string' &&
    !accounts.every((a) => typeof a === 'string' || typeof a === 'number')
  ) {
    problems.push('mapAccounts: expected a list of account IDs');
  }
  if (
    problems.length > 0 ||
    typeof roles === 'string' ||
    typeof users === 'string' ||
    typeof accounts === 'string'
  ) {
    return { ...EMPTY, problems };
  }
  return { roles, users, accounts: new Set(accounts.map(String)), problems: [] };
}

/** The current aws-auth mappings of a cluster (none when the ConfigMap is absent or malformed). */
export function readAwsAuth(store: KubeStore): AwsAuthConfig {
  const cm = store.get('configmaps', 'kube-system', 'aws-auth');
  if (!cm) return EMPTY;
  let config = cache.get(cm);
  if (!config) {
    config = parseAwsAuth(cm.data as Record<string, unknown> | undefined);
    cache.set(cm, config);
  }
  return config;
}
