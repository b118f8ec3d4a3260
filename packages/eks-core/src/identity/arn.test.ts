import { describe, expect, it } from 'vitest';
import {
  accountIdOf,
  createRoleArnIndex,
  isAccountRoot,
  isSsoRole,
  roleArnFromAssumedRole,
  ssoPermissionSetName,
  stripRolePath,
} from './arn.js';

const SSO =
  'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef';

describe('canonical forms', () => {
  it('strips the role path for aws-auth and leaves other ARNs alone', () => {
    expect(stripRolePath(SSO)).toBe('arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef');
    expect(stripRolePath('arn:aws-us-gov:iam::111122223333:role/team/deployer')).toBe(
      'arn:aws-us-gov:iam::111122223333:role/deployer',
    );
    expect(stripRolePath('arn:aws:iam::111122223333:user/engineering/alice')).toBe(
      'arn:aws:iam::111122223333:user/engineering/alice',
    );
  });

  it('turns an STS session ARN into the role it is a session of', () => {
    expect(
      roleArnFromAssumedRole(
        'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com',
      ),
    ).toBe('arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef');
    expect(roleArnFromAssumedRole('arn:aws:iam::111122223333:role/ops')).toBeUndefined();
  });

  it('recognises SSO roles with or without their path and names their permission set', () => {
    expect(isSsoRole(SSO)).toBe(true);
    expect(isSsoRole(stripRolePath(SSO))).toBe(true);
    expect(isSsoRole('arn:aws:iam::111122223333:role/custom/AWSReservedSSO_Admin_0123456789abcdef')).toBe(
      false,
    );
    expect(isSsoRole('arn:aws:iam::111122223333:role/ops')).toBe(false);
    expect(ssoPermissionSetName(SSO)).toBe('Admin');
    expect(
      ssoPermissionSetName('arn:aws:iam::111122223333:role/AWSReservedSSO_Read_Only_0123456789abcdef'),
    ).toBe('Read_Only');
  });

  it('detects account roots and reads account ids from ARNs or bare ids', () => {
    expect(isAccountRoot('arn:aws:iam::111122223333:root')).toBe(true);
    expect(isAccountRoot('arn:aws:iam::111122223333:user/root')).toBe(false);
    expect(accountIdOf('111122223333')).toBe('111122223333');
    expect(accountIdOf('arn:aws-cn:iam::444455556666:role/x')).toBe('444455556666');
  });

  it('restores the path of a path-less role ARN from the known roles, ignoring case as IAM does', () => {
    const index = createRoleArnIndex([
      SSO,
      'arn:aws:iam::111122223333:role/team/Deployer',
      'arn:aws-cn:iam::111122223333:role/team/deployer',
    ]);
    expect(index.resolve('arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef')).toBe(SSO);
    expect(index.resolve('arn:aws:iam::111122223333:role/deployer')).toBe(
      'arn:aws:iam::111122223333:role/team/Deployer',
    );
    expect(index.resolve('arn:aws-cn:iam::111122223333:role/deployer')).toBe(
      'arn:aws-cn:iam::111122223333:role/team/deployer',
    );
    expect(index.resolve('arn:aws:sts::111122223333:assumed-role/deployer/ci')).toBe(
      'arn:aws:iam::111122223333:role/team/Deployer',
    );
    expect(index.resolve('arn:aws:iam::999999999999:role/deployer')).toBeUndefined();
  });
});
