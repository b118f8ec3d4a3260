import { describe, expect, it } from 'vitest';
import type { CallerIdentity, PolicyStatement } from '../world/types.js';
import { evaluateTrustPolicy, type TrustRequest } from './trust-policy.js';

const alice: CallerIdentity = {
  kind: 'user',
  accountId: '111111111111',
  arn: 'arn:aws:iam::111111111111:user/eng/alice',
  userId: 'AIDAEXAMPLE',
};
const session: CallerIdentity = {
  kind: 'assumed-role',
  accountId: '111111111111',
  arn: 'arn:aws:sts::111111111111:assumed-role/deployer/run-1',
  userId: 'AROAEXAMPLE:run-1',
  roleArn: 'arn:aws:iam::111111111111:role/ci/deployer',
  sessionName: 'run-1',
};

function decide(statement: Partial<PolicyStatement>, caller = alice, context: TrustRequest['context'] = {}) {
  const full: PolicyStatement = { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', ...statement };
  return evaluateTrustPolicy({ Statement: [full] }, { action: 'sts:AssumeRole', caller, context });
}

describe('evaluateTrustPolicy', () => {
  it('matches action names case-insensitively and by wildcard, and honours NotAction', () => {
    expect(decide({ Action: 'STS:assumerole' })).toBe('allow');
    expect(decide({ Action: ['iam:*', 'sts:Assume*'] })).toBe('allow');
    expect(decide({ Action: 'sts:AssumeRoleWithSAML' })).toBe('implicit-deny');
    expect(decide({ Action: undefined, NotAction: 'sts:TagSession' })).toBe('allow');
    expect(decide({ Action: undefined, NotAction: 'sts:*' })).toBe('implicit-deny');
  });

  it('names a role session by the role ARN (with path) or by the session ARN', () => {
    expect(decide({ Principal: { AWS: 'arn:aws:iam::111111111111:role/ci/deployer' } }, session)).toBe(
      'allow',
    );
    expect(decide({ Principal: { AWS: 'arn:aws:iam::111111111111:role/deployer' } }, session)).toBe(
      'implicit-deny',
    );
    expect(decide({ Principal: { AWS: session.arn } }, session)).toBe('allow');
  });

  it('excludes the principals a NotPrincipal names', () => {
    const deny = {
      Effect: 'Deny' as const,
      Principal: undefined,
      NotPrincipal: { AWS: alice.arn },
      Action: '*',
    };
    const doc = {
      Statement: [{ Effect: 'Allow' as const, Principal: { AWS: '111111111111' }, Action: '*' }, deny],
    };
    expect(evaluateTrustPolicy(doc, { action: 'sts:AssumeRole', caller: alice, context: {} })).toBe('allow');
    expect(evaluateTrustPolicy(doc, { action: 'sts:AssumeRole', caller: session, context: {} })).toBe(
      'explicit-deny',
    );
  });

  it('treats an absent key as failing positive operators and satisfying negated ones, IfExists and ForAllValues', () => {
    const on = (op: string, value: string | string[] = 'x') =>
      decide({ Condition: { [op]: { 'sts:ExternalId': value } } });
    expect(on('StringEquals')).toBe('implicit-deny');
    expect(on('StringNotEquals')).toBe('allow');
    expect(on('StringLikeIfExists')).toBe('allow');
    expect(on('ForAnyValue:StringEquals')).toBe('implicit-deny');
    expect(on('ForAllValues:StringLike')).toBe('allow');
    expect(on('Null', 'true')).toBe('allow');
    expect(on('Null', 'false')).toBe('implicit-deny');
    expect(on('NoSuchOperator')).toBe('implicit-deny');
  });

  it('compares present keys with each operator, values of one key OR-ed and keys AND-ed', () => {
    const context = {
      'sts:externalid': 'Tenant-42',
      'aws:principalarn': alice.arn,
      'aws:multifactorauthpresent': 'true',
    };
    const on = (condition: PolicyStatement['Condition']) => decide({ Condition: condition }, alice, context);
    expect(on({ StringEquals: { 'STS:ExternalID': ['nope', 'Tenant-42'] } })).toBe('allow');
    expect(on({ StringEquals: { 'sts:ExternalId': 'tenant-42' } })).toBe('implicit-deny');
    expect(on({ StringEqualsIgnoreCase: { 'sts:ExternalId': 'tenant-42' } })).toBe('allow');
    expect(on({ StringLike: { 'sts:ExternalId': 'Tenant-??' } })).toBe('allow');
    expect(on({ StringNotLike: { 'sts:ExternalId': ['Other-*', 'Tenant-*'] } })).toBe('implicit-deny');
    expect(on({ ForAnyValue: { 'sts:ExternalId': 'Tenant-42' } })).toBe('implicit-deny');
    expect(on({ 'ForAnyValue:StringLike': { 'sts:ExternalId': 'Tenant-*' } })).toBe('allow');
    expect(on({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/eng/*' } })).toBe('allow');
    expect(on({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:*:111111111111' } })).toBe('implicit-deny');
    expect(on({ ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:user/eng/alice' } })).toBe(
      'implicit-deny',
    );
    expect(on({ Bool: { 'aws:MultiFactorAuthPresent': 'TRUE' } })).toBe('allow');
    expect(
      on({
        StringEquals: { 'sts:ExternalId': 'Tenant-42' },
        ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:user/bob' },
      }),
    ).toBe('implicit-deny');
  });
});
