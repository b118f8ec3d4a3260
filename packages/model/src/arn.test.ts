// IAM principal ARNs as grant ids and requests name them.
import { describe, expect, it } from 'vitest';
import { parseIamPrincipalArn, principalTypeOf } from './arn.js';

const SSO =
  'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef';

describe('IAM ARN parsing', () => {
  it('splits user and role ARNs with paths into path and name, in every partition', () => {
    expect(parseIamPrincipalArn('arn:aws:iam::111122223333:user/engineering/alice')).toMatchObject({
      kind: 'user',
      partition: 'aws',
      accountId: '111122223333',
      path: '/engineering/',
      name: 'alice',
    });
    expect(parseIamPrincipalArn(SSO)).toMatchObject({
      kind: 'role',
      path: '/aws-reserved/sso.amazonaws.com/eu-west-1/',
      name: 'AWSReservedSSO_Admin_0123456789abcdef',
    });
    expect(parseIamPrincipalArn('arn:aws-cn:iam::111122223333:role/ops')).toMatchObject({
      partition: 'aws-cn',
      path: '/',
    });
    expect(parseIamPrincipalArn('arn:aws-us-gov:iam::111122223333:user/bob')).toMatchObject({
      partition: 'aws-us-gov',
    });
  });

  it('rejects what is not an IAM identity', () => {
    expect(parseIamPrincipalArn('arn:aws:s3:::bucket')).toBeUndefined();
    expect(parseIamPrincipalArn('arn:aws:iam::111122223333:group/devs')).toBeUndefined();
    expect(parseIamPrincipalArn('arn:azure:iam::111122223333:user/x')).toBeUndefined();
    expect(parseIamPrincipalArn('arn:aws:iam::1234:user/x')).toBeUndefined();
    expect(parseIamPrincipalArn('not an arn')).toBeUndefined();
  });

  it('types principals for grants: users are iam_user, roles are role, sessions and roots are neither', () => {
    expect(principalTypeOf('arn:aws:iam::111122223333:user/alice')).toBe('iam_user');
    expect(principalTypeOf(SSO)).toBe('role');
    expect(principalTypeOf('arn:aws:sts::111122223333:assumed-role/ops/alice')).toBeUndefined();
    expect(principalTypeOf('arn:aws:iam::111122223333:root')).toBeUndefined();
  });
});
