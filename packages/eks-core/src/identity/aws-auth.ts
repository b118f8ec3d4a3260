// Parsing of the kube-system/aws-auth ConfigMap. baton-eks swallows YAML errors, which silently turns
// a broken ConfigMap into "nobody has access"; here every entry that cannot be used, and every entry
// aws-iam-authenticator would read differently from how it looks, becomes a reported problem.
import { parseDocument } from 'yaml';
import { isAccountId, parseIamPrincipalArn } from './arn.js';
import { findTemplateVariables, type TemplateVariable } from './template.js';

export const AWS_AUTH_KEYS = ['mapRoles', 'mapUsers', 'mapAccounts'] as const;
export type AwsAuthKey = (typeof AWS_AUTH_KEYS)[number];

export interface SsoRoleMatcher {
  permissionSetName: string;
  accountId: string;
  partition: string;
}

interface MappingCommon {
  /** Position in the key's list, so a grant can name "mapRoles entry #i". */
  index: number;
  /** Undefined when the entry has none (the authenticator then renders an empty username). */
  username?: string;
  groups: string[];
  /** Placeholders found in the username or groups; rendered per session by the authenticator. */
  templates: TemplateVariable[];
}

export interface AwsAuthRoleMapping extends MappingCommon {
  key: 'mapRoles';
  /** As written; aws-iam-authenticator only matches it when it carries no IAM path. */
  roleArn?: string;
  /** aws-iam-authenticator's `sso` matcher: every AWSReservedSSO_<permissionSet>_* role of the account. */
  sso?: SsoRoleMatcher;
}

export interface AwsAuthUserMapping extends MappingCommon {
  key: 'mapUsers';
  userArn: string;
}

export interface AwsAuthAccountMapping {
  key: 'mapAccounts';
  index: number;
  accountId: string;
}

export type AwsAuthMapping = AwsAuthRoleMapping | AwsAuthUserMapping | AwsAuthAccountMapping;

export interface AwsAuthProblem {
  key: string;
  index?: number;
  message: string;
}

export interface AwsAuthParseResult {
  mappings: AwsAuthMapping[];
  problems: AwsAuthProblem[];
}

// The authenticator treats these values as "no entries" rather than as YAML.
function isSkippable(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === '' || trimmed === '``' || trimmed === '""';
}

// The authenticator decodes entries with Go's encoding/json, which matches field names ignoring
// case: `roleARN`, `RoleArn` and `rolearn` are all the same field.
function field(entry: Record<string, unknown>, name: string): unknown {
  if (name in entry) return entry[name];
  const lower = name.toLowerCase();
  const key = Object.keys(entry).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : entry[key];
}

// The failsafe schema reads every scalar as a string, so an explicit null arrives as text.
function isNullText(value: unknown): boolean {
  return (
    value === undefined ||
    value === '' ||
    value === '~' ||
    (typeof value === 'string' && /^null$/i.test(value))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/**
 * Reads one key as a YAML list. The failsafe schema keeps every scalar a string, as Go decodes into
 * string fields: an unquoted account id `012345678901` keeps its leading zero.
 */
function readList(key: string, text: string, problems: AwsAuthProblem[]): unknown[] {
  if (isSkippable(text)) return [];
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false });
  if (doc.errors.length > 0) {
    // The authenticator drops the whole key when its YAML does not parse; so do we, loudly.
    const detail = doc.errors.map((e) => firstLine(e.message)).join('; ');
    problems.push({ key, message: `malformed YAML, no entry of ${key} is used: ${detail}` });
    return [];
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({
      key,
      message: `expected a YAML list, found ${typeof value}; no entry of ${key} is used`,
    });
    return [];
  }
  return value;
}

function readCommon(
  key: AwsAuthKey,
  index: number,
  entry: Record<string, unknown>,
  problems: AwsAuthProblem[],
): Omit<MappingCommon, 'index'> {
  const rawUsername = field(entry, 'username');
  let username: string | undefined;
  if (isNullText(rawUsername)) {
    problems.push({ key, index, message: 'no username: the identity authenticates with an empty username' });
  } else if (typeof rawUsername === 'string') {
    username = rawUsername;
  } else {
    problems.push({ key, index, message: 'username is not a string; entry used without a username' });
  }

  const rawGroups = field(entry, 'groups');
  const groups: string[] = [];
  if (Array.isArray(rawGroups)) {
    for (const g of rawGroups) {
      if (typeof g === 'string' && g !== '') groups.push(g);
      else problems.push({ key, index, message: 'a group is not a non-empty string; it is skipped' });
    }
  } else if (!isNullText(rawGroups)) {
    problems.push({ key, index, message: 'groups is not a list; no group of this entry is used' });
  }

  const templates = new Set<TemplateVariable>();
  for (const text of [username ?? '', ...groups]) {
    const found = findTemplateVariables(text);
    for (const v of found.known) templates.add(v);
    for (const u of found.unknown) {
      problems.push({
        key,
        index,
        message: `${u} is not a template aws-iam-authenticator renders; kept literally`,
      });
    }
  }
  const result: Omit<MappingCommon, 'index'> = { groups, templates: [...templates] };
  if (username !== undefined) result.username = username;
  return result;
}

function readSso(value: unknown, index: number, problems: AwsAuthProblem[]): SsoRoleMatcher | undefined {
  if (!isRecord(value)) {
    problems.push({ key: 'mapRoles', index, message: 'sso is not a mapping' });
    return undefined;
  }
  const permissionSetName = field(value, 'permissionSetName');
  const accountId = field(value, 'accountID');
  const partition = field(value, 'partition');
  if (typeof permissionSetName !== 'string' || permissionSetName === '') {
    problems.push({ key: 'mapRoles', index, message: 'sso.permissionSetName is missing' });
    return undefined;
  }
  if (typeof accountId !== 'string' || !isAccountId(accountId)) {
    problems.push({ key: 'mapRoles', index, message: 'sso.accountID is not a 12-digit account id' });
    return undefined;
  }
  return {
    permissionSetName,
    accountId,
    partition: typeof partition === 'string' && partition !== '' ? partition : 'aws',
  };
}

function readRoles(text: string, problems: AwsAuthProblem[]): AwsAuthRoleMapping[] {
  const out: AwsAuthRoleMapping[] = [];
  const seen = new Map<string, number>();
  readList('mapRoles', text, problems).forEach((entry, index) => {
    if (!isRecord(entry)) {
      problems.push({ key: 'mapRoles', index, message: 'entry is not a mapping; skipped' });
      return;
    }
    const rawArn = field(entry, 'rolearn');
    const rawSso = field(entry, 'sso');
    const hasArn = typeof rawArn === 'string' && rawArn !== '';
    if (!hasArn && isNullText(rawSso)) {
      problems.push({ key: 'mapRoles', index, message: 'entry has no rolearn; skipped' });
      return;
    }
    const mapping: AwsAuthRoleMapping = {
      key: 'mapRoles',
      index,
      ...readCommon('mapRoles', index, entry, problems),
    };
    if (hasArn) {
      const parsed = parseIamPrincipalArn(rawArn);
      if (parsed?.kind !== 'role') {
        problems.push({
          key: 'mapRoles',
          index,
          message:
            parsed?.kind === 'assumed-role'
              ? `rolearn "${rawArn}" is an STS session ARN; the authenticator matches IAM role ARNs only; skipped`
              : `rolearn "${rawArn}" is not an IAM role ARN; skipped`,
        });
        return;
      }
      if (parsed.path !== '/') {
        problems.push({
          key: 'mapRoles',
          index,
          message: `rolearn "${rawArn}" includes the IAM path "${parsed.path}"; aws-iam-authenticator compares path-less role ARNs, so this entry never matches`,
        });
      }
      if (!isNullText(rawSso)) {
        problems.push({ key: 'mapRoles', index, message: 'entry has both rolearn and sso; sso is ignored' });
      }
      mapping.roleArn = rawArn;
      const dupKey = rawArn.toLowerCase();
      const earlier = seen.get(dupKey);
      if (earlier !== undefined) {
        problems.push({
          key: 'mapRoles',
          index: earlier,
          message: `duplicate rolearn "${rawArn}": entry #${index} replaces this one`,
        });
      }
      seen.set(dupKey, index);
    } else {
      const sso = readSso(rawSso, index, problems);
      if (!sso) return;
      mapping.sso = sso;
    }
    out.push(mapping);
  });
  return out;
}

function readUsers(text: string, problems: AwsAuthProblem[]): AwsAuthUserMapping[] {
  const out: AwsAuthUserMapping[] = [];
  const seen = new Map<string, number>();
  readList('mapUsers', text, problems).forEach((entry, index) => {
    if (!isRecord(entry)) {
      problems.push({ key: 'mapUsers', index, message: 'entry is not a mapping; skipped' });
      return;
    }
    const userArn = field(entry, 'userarn');
    if (typeof userArn !== 'string' || userArn === '') {
      problems.push({ key: 'mapUsers', index, message: 'entry has no userarn; skipped' });
      return;
    }
    if (parseIamPrincipalArn(userArn)?.kind !== 'user') {
      problems.push({
        key: 'mapUsers',
        index,
        message: `userarn "${userArn}" is not an IAM user ARN; skipped`,
      });
      return;
    }
    const dupKey = userArn.toLowerCase();
    const earlier = seen.get(dupKey);
    if (earlier !== undefined) {
      problems.push({
        key: 'mapUsers',
        index: earlier,
        message: `duplicate userarn "${userArn}": entry #${index} replaces this one`,
      });
    }
    seen.set(dupKey, index);
    out.push({ key: 'mapUsers', index, userArn, ...readCommon('mapUsers', index, entry, problems) });
  });
  return out;
}

function readAccounts(text: string, problems: AwsAuthProblem[]): AwsAuthAccountMapping[] {
  const out: AwsAuthAccountMapping[] = [];
  readList('mapAccounts', text, problems).forEach((entry, index) => {
    if (typeof entry === 'string' && isAccountId(entry.trim())) {
      out.push({ key: 'mapAccounts', index, accountId: entry.trim() });
    } else {
      problems.push({ key: 'mapAccounts', index, message: 'entry is not a 12-digit account id; skipped' });
    }
  });
  return out;
}

/**
 * Parses the aws-auth ConfigMap `data` (`mapRoles`, `mapUsers`, `mapAccounts` YAML strings) into typed
 * mappings plus problems. Never throws: a missing ConfigMap is `undefined` data and yields no mappings.
 */
export function parseAwsAuth(data: Readonly<Record<string, string>> | undefined): AwsAuthParseResult {
  const problems: AwsAuthProblem[] = [];
  if (!data) return { mappings: [], problems };
  for (const key of Object.keys(data)) {
    const wanted = AWS_AUTH_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (wanted && wanted !== key) {
      problems.push({
        key,
        message: `aws-iam-authenticator only reads "${wanted}" (keys are case-sensitive); ignored`,
      });
    }
  }
  const mappings: AwsAuthMapping[] = [
    ...(data.mapRoles === undefined ? [] : readRoles(data.mapRoles, problems)),
    ...(data.mapUsers === undefined ? [] : readUsers(data.mapUsers, problems)),
    ...(data.mapAccounts === undefined ? [] : readAccounts(data.mapAccounts, problems)),
  ];
  return { mappings, problems };
}
