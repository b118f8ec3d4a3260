import { describe, expect, it } from 'vitest';
import {
  parseTrustPolicy,
  trustAllowConditions,
  trustPrincipalRef,
  type TrustPolicyAnalysis,
} from './trust-policy.js';

const ACCT = '111122223333';
const ALICE = `arn:aws:iam::${ACCT}:user/engineering/alice`;
const CI_ROLE = `arn:aws:iam::${ACCT}:role/ci`;

function policy(...statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function who(result: TrustPolicyAnalysis): unknown[] {
  return result.allows.map((a) => [a.principal, a.actions]);
}

describe('parseTrustPolicy: who can assume the role', () => {
  it('lists IAM users and roles, including role chaining', () => {
    const result = parseTrustPolicy(
      policy({ Effect: 'Allow', Principal: { AWS: [ALICE, CI_ROLE] }, Action: 'sts:AssumeRole' }),
    );
    expect(who(result)).toEqual([
      [{ kind: 'iam_user', arn: ALICE }, ['sts:AssumeRole']],
      [{ kind: 'role', arn: CI_ROLE }, ['sts:AssumeRole']],
    ]);
    expect(result.allows.map((a) => trustPrincipalRef(a.principal))).toEqual([
      { type: 'iam_user', id: ALICE },
      { type: 'role', id: CI_ROLE },
    ]);
    expect(result.problems).toEqual([]);
  });

  it('treats an account root ARN and a bare account id alike: the whole account may assume', () => {
    const result = parseTrustPolicy(
      policy({
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam::${ACCT}:root`, '444455556666'] },
        Action: 'sts:AssumeRole',
      }),
    );
    expect(who(result)).toEqual([
      [{ kind: 'account', accountId: ACCT, arn: `arn:aws:iam::${ACCT}:root` }, ['sts:AssumeRole']],
      [{ kind: 'account', accountId: '444455556666' }, ['sts:AssumeRole']],
    ]);
    expect(trustPrincipalRef(result.allows[0]!.principal)).toBeUndefined();
  });

  it('reports "*" as anyone, with every assume action', () => {
    expect(who(parseTrustPolicy(policy({ Effect: 'Allow', Principal: '*', Action: 'sts:*' })))).toEqual([
      [{ kind: 'anyone' }, ['sts:AssumeRole', 'sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity']],
    ]);
    expect(who(parseTrustPolicy(policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: '*' })))).toEqual([
      [{ kind: 'anyone' }, ['sts:AssumeRole', 'sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity']],
    ]);
  });

  it('recognises the IAM Identity Center SAML provider of an SSO permission-set role', () => {
    const result = parseTrustPolicy(
      policy({
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${ACCT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE` },
        Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
        Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
      }),
    );
    expect(who(result)).toEqual([
      [
        {
          kind: 'saml-provider',
          arn: `arn:aws:iam::${ACCT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
          sso: true,
        },
        ['sts:AssumeRoleWithSAML'],
      ],
    ]);
    expect(result.allows[0]?.conditions).toEqual([
      { operator: 'StringEquals', key: 'SAML:aud', values: ['https://signin.aws.amazon.com/saml'] },
    ]);
  });

  it('recognises OIDC web identity (a CI pipeline) and keeps the subject condition that restricts it', () => {
    const result = parseTrustPolicy(
      policy({
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${ACCT}:oidc-provider/token.actions.githubusercontent.com` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/deploy:*' } },
      }),
    );
    expect(result.allows).toEqual([
      {
        principal: {
          kind: 'oidc-provider',
          provider: 'token.actions.githubusercontent.com',
          arn: `arn:aws:iam::${ACCT}:oidc-provider/token.actions.githubusercontent.com`,
        },
        actions: ['sts:AssumeRoleWithWebIdentity'],
        statementIndex: 0,
        conditions: [
          {
            operator: 'StringLike',
            key: 'token.actions.githubusercontent.com:sub',
            values: ['repo:acme/deploy:*'],
          },
        ],
        requiresExternalId: false,
        conditionKeys: ['token.actions.githubusercontent.com:sub'],
      },
    ]);
    expect(
      who(
        parseTrustPolicy(
          policy({
            Effect: 'Allow',
            Principal: { Federated: 'cognito-identity.amazonaws.com' },
            Action: 'sts:AssumeRoleWithWebIdentity',
          }),
        ),
      ),
    ).toEqual([
      [
        { kind: 'oidc-provider', provider: 'cognito-identity.amazonaws.com' },
        ['sts:AssumeRoleWithWebIdentity'],
      ],
    ]);
  });

  it('records service principals, which are not IAM principals of a grant', () => {
    const result = parseTrustPolicy(
      policy({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    );
    expect(who(result)).toEqual([[{ kind: 'service', service: 'ec2.amazonaws.com' }, ['sts:AssumeRole']]]);
    expect(trustPrincipalRef(result.allows[0]!.principal)).toBeUndefined();
  });

  it('flags a required ExternalId without copying its value', () => {
    const result = parseTrustPolicy(
      policy({
        Sid: 'C1',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::999988887777:role/conductorone' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'super-secret-value' } },
      }),
    );
    const allow = result.allows[0]!;
    expect(allow).toMatchObject({ sid: 'C1', requiresExternalId: true, conditionKeys: ['sts:ExternalId'] });
    expect(JSON.stringify(result)).not.toContain('super-secret-value');
    expect(trustAllowConditions(allow)).toEqual([{ kind: 'external-id-required' }]);
    // StringEqualsIfExists passes when no ExternalId is sent, so it does not require one.
    const optional = parseTrustPolicy(
      policy({
        Effect: 'Allow',
        Principal: { AWS: ALICE },
        Action: 'sts:AssumeRole',
        Condition: { StringEqualsIfExists: { 'sts:ExternalId': 'x' } },
      }),
    );
    expect(optional.allows[0]?.requiresExternalId).toBe(false);
  });

  it('never treats a Deny as an Allow, and removes principals an unconditional Deny covers', () => {
    const result = parseTrustPolicy(
      policy(
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: 'sts:AssumeRole' },
        { Effect: 'Allow', Principal: { AWS: [ALICE, CI_ROLE] }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', Principal: { AWS: ALICE }, Action: 'sts:AssumeRole' },
        {
          Effect: 'Deny',
          Principal: { AWS: CI_ROLE },
          Action: 'sts:AssumeRole',
          Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } },
        },
      ),
    );
    expect(result.allows.map((a) => [a.principal.kind, a.conditionalDenies])).toEqual([
      ['account', undefined],
      ['role', [3]],
    ]);
    expect(result.denied).toMatchObject([
      { allow: { principal: { kind: 'iam_user', arn: ALICE } }, byStatement: 2 },
    ]);
    expect(result.denies.map((d) => d.principal)).toEqual([
      { kind: 'iam_user', arn: ALICE },
      { kind: 'role', arn: CI_ROLE },
    ]);
  });

  it('applies a Deny on an account to every principal of that account', () => {
    const result = parseTrustPolicy(
      policy(
        {
          Effect: 'Allow',
          Principal: { AWS: [ALICE, 'arn:aws:iam::444455556666:user/bob'] },
          Action: 'sts:AssumeRole',
        },
        { Effect: 'Deny', Principal: { AWS: ACCT }, Action: 'sts:*' },
      ),
    );
    expect(who(result)).toEqual([
      [{ kind: 'iam_user', arn: 'arn:aws:iam::444455556666:user/bob' }, ['sts:AssumeRole']],
    ]);
  });

  it('reports Allow with NotPrincipal as anyone and flags it', () => {
    const result = parseTrustPolicy(
      policy({ Effect: 'Allow', NotPrincipal: { AWS: ALICE }, Action: 'sts:AssumeRole' }),
    );
    expect(result.allows).toMatchObject([
      { principal: { kind: 'anyone' }, except: [{ kind: 'iam_user', arn: ALICE }] },
    ]);
    expect(result.problems.map((p) => p.message)).toEqual([
      'Allow with NotPrincipal lets everyone except the listed principals assume the role; reported as anyone',
    ]);
  });

  it('leaves access in place for a Deny with NotPrincipal, and says it did not evaluate it', () => {
    const result = parseTrustPolicy(
      policy(
        { Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', NotPrincipal: { AWS: CI_ROLE }, Action: 'sts:AssumeRole' },
      ),
    );
    expect(who(result)).toEqual([[{ kind: 'iam_user', arn: ALICE }, ['sts:AssumeRole']]]);
    expect(result.problems).toEqual([
      {
        statementIndex: 1,
        message:
          'Deny with NotPrincipal is not evaluated; the principals listed as able to assume may be too many',
      },
    ]);
  });

  it('gives nothing for statements whose only action is not an assume call usable by the principal', () => {
    const tagOnly = parseTrustPolicy(
      policy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sts:TagSession' }),
    );
    expect(tagOnly.allows).toEqual([]);
    const wrongKind = parseTrustPolicy(
      policy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sts:AssumeRoleWithSAML' }),
    );
    expect(wrongKind.allows).toEqual([]);
    expect(wrongKind.problems[0]?.message).toBe(
      'sts:AssumeRoleWithSAML is not usable by a principal of kind iam_user; the statement gives it nothing',
    );
    const notAction = parseTrustPolicy(
      policy({ Effect: 'Allow', Principal: { AWS: ALICE }, NotAction: 'sts:TagSession' }),
    );
    expect(who(notAction)).toEqual([[{ kind: 'iam_user', arn: ALICE }, ['sts:AssumeRole']]]);
  });

  it('shows deleted principals (IAM unique ids) and pinned role sessions for what they are', () => {
    const result = parseTrustPolicy(
      policy({
        Effect: 'Allow',
        Principal: { AWS: ['AIDAJQABLZS4A3QDU576Q', `arn:aws:sts::${ACCT}:assumed-role/ci/deploy-bot`] },
        Action: 'sts:AssumeRole',
      }),
    );
    expect(result.allows.map((a) => a.principal)).toEqual([
      { kind: 'deleted-principal', uniqueId: 'AIDAJQABLZS4A3QDU576Q' },
      {
        kind: 'role-session',
        arn: `arn:aws:sts::${ACCT}:assumed-role/ci/deploy-bot`,
        roleArn: CI_ROLE,
        sessionName: 'deploy-bot',
      },
    ]);
    expect(trustAllowConditions(result.allows[1]!)).toEqual([
      { kind: 'session-name', value: 'deploy-bot', raw: true },
    ]);
  });

  it('reads the URL-encoded document IAM returns', () => {
    const encoded = encodeURIComponent(
      policy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sts:AssumeRole' }),
    );
    expect(who(parseTrustPolicy(encoded))).toEqual([[{ kind: 'iam_user', arn: ALICE }, ['sts:AssumeRole']]]);
  });

  it('reports malformed documents and statements instead of throwing', () => {
    expect(parseTrustPolicy('{"Statement": [').problems[0]?.message).toMatch(/^trust policy is not JSON/);
    expect(parseTrustPolicy('[]').problems).toEqual([{ message: 'trust policy is not a JSON object' }]);
    expect(parseTrustPolicy({ Version: '2012-10-17' }).problems).toEqual([
      { message: 'trust policy has no Statement' },
    ]);
    const mixed = parseTrustPolicy(
      policy(
        { Effect: 'Permit', Principal: { AWS: ALICE }, Action: 'sts:AssumeRole' },
        { Effect: 'Allow', Action: 'sts:AssumeRole' },
        { Effect: 'Allow', Principal: { AWS: 'bogus' }, Action: 'sts:AssumeRole' },
        { Effect: 'Allow', Principal: { AWS: CI_ROLE }, Action: 'sts:AssumeRole' },
      ),
    );
    expect(mixed.problems.map((p) => [p.statementIndex, p.message])).toEqual([
      [0, 'Effect must be "Allow" or "Deny", found "Permit"'],
      [1, 'a trust policy statement needs exactly one of Principal and NotPrincipal'],
      [2, 'unrecognized principal AWS: "bogus"'],
    ]);
    // The good statement still counts.
    expect(mixed.allows.map((a) => a.principal)).toContainEqual({ kind: 'role', arn: CI_ROLE });
  });
});
