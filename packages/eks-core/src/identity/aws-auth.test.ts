import { describe, expect, it } from 'vitest';
import { parseAwsAuth } from './aws-auth.js';

describe('parseAwsAuth', () => {
  it('reads roles, users and accounts with their usernames and groups', () => {
    const result = parseAwsAuth({
      mapRoles: `
- rolearn: arn:aws:iam::111122223333:role/eks-admins
  username: admin
  groups:
    - system:masters
- rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
`,
      mapUsers: `
- userarn: arn:aws:iam::111122223333:user/alice
  username: alice
`,
      mapAccounts: `
- 012345678901
`,
    });
    expect(result.problems).toEqual([]);
    expect(result.mappings).toEqual([
      {
        key: 'mapRoles',
        index: 0,
        roleArn: 'arn:aws:iam::111122223333:role/eks-admins',
        username: 'admin',
        groups: ['system:masters'],
        templates: [],
      },
      {
        key: 'mapRoles',
        index: 1,
        roleArn: 'arn:aws:iam::111122223333:role/node',
        username: 'system:node:{{EC2PrivateDNSName}}',
        groups: ['system:bootstrappers', 'system:nodes'],
        templates: ['EC2PrivateDNSName'],
      },
      {
        key: 'mapUsers',
        index: 0,
        userArn: 'arn:aws:iam::111122223333:user/alice',
        username: 'alice',
        groups: [],
        templates: [],
      },
      // Unquoted, an account id with a leading zero stays as written (Go decodes it as a string).
      { key: 'mapAccounts', index: 0, accountId: '012345678901' },
    ]);
  });

  it('accepts field names in any case, as the authenticator decodes them', () => {
    const result = parseAwsAuth({ mapRoles: '- roleARN: arn:aws:iam::111122223333:role/x\n  UserName: x\n' });
    expect(result.mappings).toMatchObject([{ roleArn: 'arn:aws:iam::111122223333:role/x', username: 'x' }]);
  });

  it('keeps session templates and flags them, and reports placeholders the authenticator does not render', () => {
    const result = parseAwsAuth({
      mapRoles: `
- rolearn: arn:aws:iam::111122223333:role/KubernetesAdmin
  username: admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/Developers
  username: "{{AccountID}}:{{SessionNameRaw}}"
- rolearn: arn:aws:iam::111122223333:role/Typo
  username: "{{SessionID}}"
`,
    });
    expect(result.mappings.map((m) => ('templates' in m ? m.templates : []))).toEqual([
      ['SessionName'],
      ['AccountID', 'SessionNameRaw'],
      [],
    ]);
    expect(result.mappings[0]).toMatchObject({ username: 'admin:{{SessionName}}' });
    expect(result.problems).toEqual([
      {
        key: 'mapRoles',
        index: 2,
        message: '{{SessionID}} is not a template aws-iam-authenticator renders; kept literally',
      },
    ]);
  });

  it('reports malformed YAML instead of silently treating the key as empty', () => {
    const result = parseAwsAuth({
      mapRoles: '- rolearn: arn:aws:iam::111122223333:role/x\n  groups: [system:masters\n',
      mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n',
    });
    expect(result.mappings).toMatchObject([
      { key: 'mapUsers', userArn: 'arn:aws:iam::111122223333:user/alice' },
    ]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ key: 'mapRoles' });
    expect(result.problems[0]?.message).toMatch(/^malformed YAML, no entry of mapRoles is used/);
  });

  it('reports entries without an ARN, with a wrong ARN, or without a username', () => {
    const result = parseAwsAuth({
      mapRoles: `
- username: orphan
  groups: [system:masters]
- rolearn: arn:aws:sts::111122223333:assumed-role/ops/alice
  username: ops
- rolearn: arn:aws:iam::111122223333:role/ops
  groups: [viewers]
`,
      mapUsers: '- username: nobody\n- userarn: arn:aws:iam::111122223333:role/not-a-user\n  username: x\n',
      mapAccounts: '- "12345"\n',
    });
    expect(result.mappings).toEqual([
      {
        key: 'mapRoles',
        index: 2,
        roleArn: 'arn:aws:iam::111122223333:role/ops',
        groups: ['viewers'],
        templates: [],
      },
    ]);
    expect(result.problems.map((p) => `${p.key}#${p.index}: ${p.message.split(';')[0]}`)).toEqual([
      'mapRoles#0: entry has no rolearn',
      'mapRoles#1: rolearn "arn:aws:sts::111122223333:assumed-role/ops/alice" is an STS session ARN',
      'mapRoles#2: no username: the identity authenticates with an empty username',
      'mapUsers#0: entry has no userarn',
      'mapUsers#1: userarn "arn:aws:iam::111122223333:role/not-a-user" is not an IAM user ARN',
      'mapAccounts#0: entry is not a 12-digit account id',
    ]);
  });

  it('warns that a role ARN with an IAM path never matches, and that a later duplicate wins', () => {
    const result = parseAwsAuth({
      mapRoles: `
- rolearn: arn:aws:iam::111122223333:role/team/deployer
  username: deployer
- rolearn: arn:aws:iam::111122223333:role/ops
  username: first
- rolearn: arn:aws:iam::111122223333:role/OPS
  username: second
`,
    });
    expect(result.mappings).toHaveLength(3);
    expect(result.problems).toEqual([
      {
        key: 'mapRoles',
        index: 0,
        message:
          'rolearn "arn:aws:iam::111122223333:role/team/deployer" includes the IAM path "/team/"; aws-iam-authenticator compares path-less role ARNs, so this entry never matches',
      },
      {
        key: 'mapRoles',
        index: 1,
        message: 'duplicate rolearn "arn:aws:iam::111122223333:role/OPS": entry #2 replaces this one',
      },
    ]);
  });

  it('treats a missing ConfigMap or empty keys as no mappings, and flags keys in the wrong case', () => {
    expect(parseAwsAuth(undefined)).toEqual({ mappings: [], problems: [] });
    expect(parseAwsAuth({ mapRoles: '', mapUsers: '""', mapAccounts: '   ' })).toEqual({
      mappings: [],
      problems: [],
    });
    expect(parseAwsAuth({ maproles: '- rolearn: arn:aws:iam::111122223333:role/x\n' }).problems).toEqual([
      {
        key: 'maproles',
        message: 'aws-iam-authenticator only reads "mapRoles" (keys are case-sensitive); ignored',
      },
    ]);
    expect(parseAwsAuth({ mapRoles: 'rolearn: x' }).problems[0]?.message).toMatch(/expected a YAML list/);
  });

  it('reads the sso matcher of newer aws-iam-authenticator versions', () => {
    const result = parseAwsAuth({
      mapRoles:
        '- sso:\n    permissionSetName: Admin\n    accountID: "111122223333"\n  username: sso-admin\n',
    });
    expect(result.mappings).toEqual([
      {
        key: 'mapRoles',
        index: 0,
        sso: { permissionSetName: 'Admin', accountId: '111122223333', partition: 'aws' },
        username: 'sso-admin',
        groups: [],
        templates: [],
      },
    ]);
  });
});
