import { describe, expect, it } from 'vitest';
import { parseAwsAuth } from './aws-auth.js';
import {
  buildIdentityMap,
  type AccessEntryInput,
  type AuthenticationMode,
  type IdentityMap,
} from './identity-map.js';

const ACCT = '111122223333';
const SSO_ADMIN = `arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef`;
const DEPLOYER = `arn:aws:iam::${ACCT}:role/team/deployer`;
const NODE = `arn:aws:iam::${ACCT}:role/eks-node`;
const ALICE = `arn:aws:iam::${ACCT}:user/alice`;
const BOB = `arn:aws:iam::${ACCT}:user/bob`;

// aws-auth must name roles without their path; the real roles have one.
const awsAuth = parseAwsAuth({
  mapRoles: `
- rolearn: arn:aws:iam::${ACCT}:role/AWSReservedSSO_Admin_0123456789abcdef
  username: sso-admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::${ACCT}:role/deployer
  username: deployer
  groups: [deployers]
`,
  mapUsers: `
- userarn: ${ALICE}
  username: alice
  groups: [viewers]
`,
}).mappings;

const accessEntries: AccessEntryInput[] = [
  { principalArn: DEPLOYER, type: 'STANDARD', kubernetesGroups: ['ci'] },
  { principalArn: BOB, type: 'STANDARD', username: 'bob' },
  { principalArn: NODE, type: 'EC2_LINUX' },
];

const knownRoleArns = [SSO_ADMIN, DEPLOYER, NODE];

function build(mode: AuthenticationMode): IdentityMap {
  return buildIdentityMap({ authenticationMode: mode, awsAuth, accessEntries, knownRoleArns });
}

function arns(matches: { principalArn: string }[]): string[] {
  return matches.map((m) => m.principalArn);
}

describe('buildIdentityMap per authentication mode', () => {
  it('CONFIG_MAP: only aws-auth counts, access entries are reported as ignored', () => {
    const map = build('CONFIG_MAP');
    expect(map.identities.map((i) => [i.principalArn, i.username, i.groups, i.source])).toEqual([
      [
        SSO_ADMIN,
        'sso-admin:{{SessionName}}',
        ['system:masters'],
        { kind: 'aws-auth', key: 'mapRoles', index: 0 },
      ],
      [DEPLOYER, 'deployer', ['deployers'], { kind: 'aws-auth', key: 'mapRoles', index: 1 }],
      [ALICE, 'alice', ['viewers'], { kind: 'aws-auth', key: 'mapUsers', index: 0 }],
    ]);
    expect(arns(map.lookupGroup('system:masters'))).toEqual([SSO_ADMIN]);
    expect(arns(map.lookupGroup('deployers'))).toEqual([DEPLOYER]);
    expect(map.lookupGroup('ci')).toEqual([]);
    expect(map.lookupUser('bob')).toEqual([]);
    expect(map.ignored.map((i) => [i.principalArn, i.reason])).toEqual([
      [DEPLOYER, 'authenticationMode CONFIG_MAP ignores access entries'],
      [BOB, 'authenticationMode CONFIG_MAP ignores access entries'],
      [NODE, 'authenticationMode CONFIG_MAP ignores access entries'],
    ]);
  });

  it('API: only STANDARD access entries count, with the EKS default username for roles', () => {
    const map = build('API');
    expect(map.identities.map((i) => [i.principalArn, i.username, i.groups])).toEqual([
      [DEPLOYER, `arn:aws:sts::${ACCT}:assumed-role/deployer/{{SessionName}}`, ['ci']],
      [BOB, 'bob', []],
    ]);
    expect(map.lookupGroup('system:masters')).toEqual([]);
    expect(map.lookupUser('alice')).toEqual([]);
    expect(arns(map.lookupGroup('ci'))).toEqual([DEPLOYER]);
    expect(map.ignored.map((i) => i.reason)).toEqual([
      'access entry type EC2_LINUX is a node or system identity, not a user mapping',
      'authenticationMode API ignores aws-auth (mapRoles[0], groups system:masters)',
      'authenticationMode API ignores aws-auth (mapRoles[1], groups deployers)',
      'authenticationMode API ignores aws-auth (mapUsers[0], groups viewers)',
    ]);
  });

  it('API_AND_CONFIG_MAP: both count, and an access entry takes precedence over aws-auth for the same role', () => {
    const map = build('API_AND_CONFIG_MAP');
    expect(map.identities.map((i) => [i.principalArn, i.source.kind])).toEqual([
      [SSO_ADMIN, 'aws-auth'],
      [DEPLOYER, 'access-entry'],
      [ALICE, 'aws-auth'],
      [BOB, 'access-entry'],
    ]);
    // The aws-auth mapping of the deployer role (path-less) is shadowed by its access entry (with path).
    expect(map.lookupGroup('deployers')).toEqual([]);
    expect(map.lookupUser('deployer')).toEqual([]);
    expect(arns(map.lookupGroup('ci'))).toEqual([DEPLOYER]);
    expect(arns(map.lookupGroup('system:masters'))).toEqual([SSO_ADMIN]);
    expect(map.ignored).toContainEqual({
      source: { kind: 'aws-auth', key: 'mapRoles', index: 1 },
      principalArn: DEPLOYER,
      reason: 'the principal has an access entry, which takes precedence',
    });
  });

  it('puts every identity the mode admits in system:authenticated', () => {
    expect(arns(build('API_AND_CONFIG_MAP').lookupGroup('system:authenticated'))).toEqual(
      [ALICE, SSO_ADMIN, DEPLOYER, BOB].sort(),
    );
    expect(
      build('API')
        .groups.get('system:authenticated')
        ?.map((m) => m.source),
    ).toEqual([
      { kind: 'implicit', group: 'system:authenticated' },
      { kind: 'implicit', group: 'system:authenticated' },
    ]);
  });
});

describe('aws-auth role ARNs and paths', () => {
  it('restores the IAM path of aws-auth role ARNs from the known roles, and says when it could not', () => {
    const withKnown = buildIdentityMap({ authenticationMode: 'CONFIG_MAP', awsAuth, knownRoleArns });
    expect(
      withKnown.identities
        .filter((i) => i.principalType === 'role')
        .map((i) => [i.principalArn, i.arnResolution]),
    ).toEqual([
      [SSO_ADMIN, 'path-restored'],
      [DEPLOYER, 'path-restored'],
    ]);
    const without = buildIdentityMap({ authenticationMode: 'CONFIG_MAP', awsAuth });
    expect(
      without.identities
        .filter((i) => i.principalType === 'role')
        .map((i) => [i.principalArn, i.arnResolution]),
    ).toEqual([
      [`arn:aws:iam::${ACCT}:role/AWSReservedSSO_Admin_0123456789abcdef`, 'unresolved'],
      [`arn:aws:iam::${ACCT}:role/deployer`, 'unresolved'],
    ]);
  });

  it('works in other partitions', () => {
    const map = buildIdentityMap({
      authenticationMode: 'CONFIG_MAP',
      awsAuth: parseAwsAuth({ mapRoles: `- rolearn: arn:aws-cn:iam::${ACCT}:role/ops\n  username: ops\n` })
        .mappings,
      knownRoleArns: [`arn:aws:iam::${ACCT}:role/x/ops`, `arn:aws-cn:iam::${ACCT}:role/platform/ops`],
    });
    expect(arns(map.lookupUser('ops'))).toEqual([`arn:aws-cn:iam::${ACCT}:role/platform/ops`]);
  });

  it('ignores an aws-auth role ARN written with its path, because the authenticator never matches it', () => {
    const map = buildIdentityMap({
      authenticationMode: 'CONFIG_MAP',
      awsAuth: parseAwsAuth({
        mapRoles: `- rolearn: ${DEPLOYER}\n  username: deployer\n  groups: [system:masters]\n`,
      }).mappings,
      knownRoleArns,
    });
    expect(map.lookupGroup('system:masters')).toEqual([]);
    expect(map.ignored).toEqual([
      {
        source: { kind: 'aws-auth', key: 'mapRoles', index: 0 },
        principalArn: DEPLOYER,
        reason: 'rolearn includes an IAM path and never matches',
      },
    ]);
  });

  it('expands the sso matcher to the SSO roles of that permission set', () => {
    const map = buildIdentityMap({
      authenticationMode: 'CONFIG_MAP',
      awsAuth: parseAwsAuth({
        mapRoles: `- sso: {permissionSetName: Admin, accountID: "${ACCT}"}\n  username: admin\n- sso: {permissionSetName: Nope, accountID: "${ACCT}"}\n  username: nope\n`,
      }).mappings,
      knownRoleArns,
    });
    expect(arns(map.lookupUser('admin'))).toEqual([SSO_ADMIN]);
    expect(map.problems).toEqual([
      {
        source: { kind: 'aws-auth', key: 'mapRoles', index: 1 },
        message: `no known role matches sso permission set "Nope" in account ${ACCT}`,
      },
    ]);
  });

  it('uses only the last of duplicate aws-auth entries for one role, as the authenticator does', () => {
    const map = buildIdentityMap({
      authenticationMode: 'CONFIG_MAP',
      awsAuth: parseAwsAuth({
        mapRoles: `- rolearn: arn:aws:iam::${ACCT}:role/deployer\n  username: old\n- rolearn: arn:aws:iam::${ACCT}:role/Deployer\n  username: new\n`,
      }).mappings,
      knownRoleArns,
    });
    expect(map.lookupUser('old')).toEqual([]);
    expect(arns(map.lookupUser('new'))).toEqual([DEPLOYER]);
  });
});

describe('template usernames', () => {
  it('matches a binding subject to a templated username and records the session it names', () => {
    const map = build('CONFIG_MAP');
    expect(map.lookupUser('sso-admin:alice')).toEqual([
      {
        principalArn: SSO_ADMIN,
        principalType: 'role',
        source: { kind: 'aws-auth', key: 'mapRoles', index: 0 },
        conditions: [{ kind: 'session-name', value: 'alice', raw: false }],
      },
    ]);
    // The template itself is never a rendered username.
    expect(map.lookupUser('sso-admin:{{SessionName}}')).toEqual([]);
    // {{SessionName}} renders '@' as '-', so an e-mail never appears verbatim.
    expect(map.lookupUser('sso-admin:alice@example.com')).toEqual([]);
    expect(map.lookupUser('sso-admin:')).toEqual([]);
  });

  it('matches the default access entry username of a role for any session', () => {
    const map = build('API');
    expect(map.lookupUser(`arn:aws:sts::${ACCT}:assumed-role/deployer/gitlab-ci`)).toMatchObject([
      { principalArn: DEPLOYER, conditions: [{ kind: 'session-name', value: 'gitlab-ci', raw: false }] },
    ]);
    expect(map.lookupUser(`arn:aws:sts::${ACCT}:assumed-role/other/gitlab-ci`)).toEqual([]);
  });

  it('fills {{AccountID}} from the mapped principal and keeps {{SessionNameRaw}} e-mails', () => {
    const map = buildIdentityMap({
      authenticationMode: 'CONFIG_MAP',
      awsAuth: parseAwsAuth({
        mapRoles: `- rolearn: arn:aws:iam::${ACCT}:role/deployer\n  username: "aws:{{AccountID}}:{{SessionNameRaw}}"\n`,
      }).mappings,
      knownRoleArns,
    });
    expect(map.lookupUser(`aws:${ACCT}:alice@example.com`)).toMatchObject([
      {
        principalArn: DEPLOYER,
        conditions: [{ kind: 'session-name', value: 'alice@example.com', raw: true }],
      },
    ]);
    expect(map.lookupUser('aws:999999999999:alice@example.com')).toEqual([]);
  });
});

describe('mapAccounts', () => {
  it('admits any principal of a mapped account under its own ARN, unless it has its own mapping', () => {
    const map = buildIdentityMap({
      authenticationMode: 'CONFIG_MAP',
      awsAuth: parseAwsAuth({
        mapAccounts: '- "444455556666"\n',
        mapUsers: '- userarn: arn:aws:iam::444455556666:user/dave\n  username: dave\n',
      }).mappings,
      knownRoleArns: ['arn:aws:iam::444455556666:role/ops/runner'],
    });
    expect(map.lookupUser('arn:aws:iam::444455556666:user/carol')).toEqual([
      {
        principalArn: 'arn:aws:iam::444455556666:user/carol',
        principalType: 'iam_user',
        source: { kind: 'aws-auth', key: 'mapAccounts', index: 0 },
        conditions: [],
      },
    ]);
    // dave is mapped explicitly, so he authenticates as "dave", not as his ARN.
    expect(map.lookupUser('arn:aws:iam::444455556666:user/dave')).toEqual([]);
    // A known role of the account is listed with its path-less ARN as username.
    expect(arns(map.lookupUser('arn:aws:iam::444455556666:role/runner'))).toEqual([
      'arn:aws:iam::444455556666:role/ops/runner',
    ]);
    expect(arns(map.lookupGroup('system:authenticated'))).toEqual([
      'arn:aws:iam::444455556666:role/ops/runner',
      'arn:aws:iam::444455556666:user/dave',
    ]);
    expect(map.lookupUser('arn:aws:iam::777777777777:user/eve')).toEqual([]);
  });

  it('does not count mapAccounts where aws-auth is ignored', () => {
    const map = buildIdentityMap({
      authenticationMode: 'API',
      awsAuth: parseAwsAuth({ mapAccounts: '- "444455556666"\n' }).mappings,
    });
    expect(map.lookupUser('arn:aws:iam::444455556666:user/carol')).toEqual([]);
    expect(map.mappedAccounts).toEqual([]);
  });
});
