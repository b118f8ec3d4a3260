// Identity policies through the real SDK clients: the doctor world's sandbox connector role was
// given the C1 guide's EKS statement without iam:ListRoles, so IAM refuses ListRoles the way AWS
// words it, until an administrator adds the permission with PutRolePolicy.
import {
  AccessDeniedException,
  DescribeClusterCommand,
  EKSClient,
  ListAccessEntriesCommand,
} from '@aws-sdk/client-eks';
import { GetRolePolicyCommand, IAMClient, ListRolesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type RunningSim } from '../sim.js';
import { DEMO } from '../world/demo.js';
import { createDoctorWorld, DOCTOR } from '../world/doctor.js';
import type { PolicyDocument } from '../world/types.js';
import { accessDeniedMessage, evaluateIdentityPolicies } from './identity-policy.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await startSim({ world: createDoctorWorld });
});
afterAll(async () => {
  await sim.close();
});

const connectorKeys = {
  accessKeyId: DEMO.connector.accessKeyId,
  secretAccessKey: DEMO.connector.secretAccessKey,
};
const adminKeys = { accessKeyId: DOCTOR.admin.accessKeyId, secretAccessKey: DOCTOR.admin.secretAccessKey };

async function assume(roleArn: string, externalId?: string) {
  const sts = new STSClient({ region: 'us-east-1', endpoint: sim.awsEndpoint, credentials: connectorKeys });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: 'test',
      ...(externalId ? { ExternalId: externalId } : {}),
    }),
  );
  return {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken!,
  };
}

describe('identity policy evaluation', () => {
  const doc = (statements: PolicyDocument['Statement']): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: statements,
  });

  it('allows what a statement allows, on resources matching its ARN pattern', () => {
    const policy = doc([
      { Effect: 'Allow', Action: 'eks:Describe*', Resource: 'arn:aws:eks:*:111111111111:cluster/prod-*' },
    ]);
    expect(
      evaluateIdentityPolicies([policy], {
        action: 'eks:DescribeCluster',
        resource: 'arn:aws:eks:eu-west-1:111111111111:cluster/prod-eu',
      }),
    ).toBe('allow');
    expect(
      evaluateIdentityPolicies([policy], {
        action: 'eks:DescribeCluster',
        resource: 'arn:aws:eks:eu-west-1:111111111111:cluster/staging',
      }),
    ).toBe('implicit-deny');
    expect(evaluateIdentityPolicies([policy], { action: 'eks:ListClusters', resource: '*' })).toBe(
      'implicit-deny',
    );
  });

  it('lets an explicit deny win over any allow', () => {
    const allow = doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const deny = doc([{ Effect: 'Deny', Action: 'iam:*', Resource: '*' }]);
    expect(
      evaluateIdentityPolicies([allow, deny], { action: 'iam:ListRoles', resource: 'arn:aws:iam::1:role/' }),
    ).toBe('explicit-deny');
    expect(evaluateIdentityPolicies([allow, deny], { action: 'eks:ListClusters', resource: '*' })).toBe(
      'allow',
    );
  });

  it('words an explicit deny as IAM does', () => {
    const caller = {
      kind: 'user' as const,
      accountId: '111111111111',
      arn: 'arn:aws:iam::111111111111:user/x',
      userId: 'AIDA',
    };
    expect(
      accessDeniedMessage(
        caller,
        'eks:DescribeCluster',
        'arn:aws:eks:eu-west-1:111111111111:cluster/a',
        'explicit-deny',
      ),
    ).toBe(
      'User: arn:aws:iam::111111111111:user/x is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:eu-west-1:111111111111:cluster/a with an explicit deny in an identity-based policy',
    );
  });

  it('honours NotAction and NotResource', () => {
    const policy = doc([
      { Effect: 'Allow', NotAction: 'iam:*', NotResource: 'arn:aws:eks:*:*:cluster/secret' },
    ]);
    expect(
      evaluateIdentityPolicies([policy], {
        action: 'eks:DescribeCluster',
        resource: 'arn:aws:eks:us-east-1:1:cluster/a',
      }),
    ).toBe('allow');
    expect(
      evaluateIdentityPolicies([policy], {
        action: 'eks:DescribeCluster',
        resource: 'arn:aws:eks:us-east-1:1:cluster/secret',
      }),
    ).toBe('implicit-deny');
    expect(evaluateIdentityPolicies([policy], { action: 'iam:ListRoles', resource: '*' })).toBe(
      'implicit-deny',
    );
  });
});

describe('IAM and EKS enforce the caller identity policies', () => {
  it('refuses an action no identity policy allows, worded as IAM words it', async () => {
    const creds = await assume(DOCTOR.connectorRoleArn, DOCTOR.externalId);
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: sim.awsEndpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    const err = await iam
      .send(new ListRolesCommand({}))
      .catch((e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } });
    expect((err as Error).name).toBe('AccessDenied');
    expect((err as Error).message).toBe(
      `User: arn:aws:sts::${DOCTOR.account}:assumed-role/EksAccessConnector/test is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::${DOCTOR.account}:role/ because no identity-based policy allows the iam:ListRoles action`,
    );
    const eks = new EKSClient({
      region: 'eu-west-1',
      endpoint: sim.awsEndpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    const described = await eks.send(new DescribeClusterCommand({ name: DOCTOR.clusters.brokenApi.name }));
    expect(described.cluster?.name).toBe('broken-api');
  });

  it('answers EKS refusals with AccessDeniedException naming the cluster ARN', async () => {
    const creds = await assume(DEMO.connector.roleArn);
    const eks = new EKSClient({
      region: 'eu-west-1',
      endpoint: sim.awsEndpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    await expect(eks.send(new ListAccessEntriesCommand({ clusterName: 'prod-eu' }))).resolves.toBeDefined();
    // The demo connector role holds only read permissions: the write is refused before it runs.
    const { CreateAccessEntryCommand } = await import('@aws-sdk/client-eks');
    const err = (await eks
      .send(new CreateAccessEntryCommand({ clusterName: 'prod-eu', principalArn: DEMO.bob.userArn }))
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect(err.message).toBe(
      `User: arn:aws:sts::111111111111:assumed-role/EksAccessConnector/test is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:eu-west-1:111111111111:cluster/prod-eu because no identity-based policy allows the eks:CreateAccessEntry action`,
    );
  });

  it('needs the caller identity policy to allow a cross-account AssumeRole', async () => {
    const role = sim.world.users.get(DEMO.connector.userArn)!;
    const saved = role.policies!.inline.get('AssumeEksAccessConnectorRoles')!;
    role.policies!.inline.delete('AssumeEksAccessConnectorRoles');
    try {
      await expect(assume(DOCTOR.connectorRoleArn, DOCTOR.externalId)).rejects.toThrow(
        `User: ${DEMO.connector.userArn} is not authorized to perform: sts:AssumeRole on resource: ${DOCTOR.connectorRoleArn} because no identity-based policy allows the sts:AssumeRole action`,
      );
      // Within its own account the trust policy alone grants it.
      await expect(assume(DEMO.connector.roleArn)).resolves.toBeDefined();
    } finally {
      role.policies!.inline.set('AssumeEksAccessConnectorRoles', saved);
    }
  });

  it('applies an inline policy an administrator puts on the role at once', async () => {
    const admin = new IAMClient({
      region: 'us-east-1',
      endpoint: sim.awsEndpoint,
      credentials: adminKeys,
      maxAttempts: 1,
    });
    const document = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iam:ListRoles', Resource: '*' }],
    };
    await admin.send(
      new PutRolePolicyCommand({
        RoleName: 'EksAccessConnector',
        PolicyName: 'ListRoles',
        PolicyDocument: JSON.stringify(document),
      }),
    );
    const read = await admin.send(
      new GetRolePolicyCommand({ RoleName: 'EksAccessConnector', PolicyName: 'ListRoles' }),
    );
    expect(JSON.parse(decodeURIComponent(read.PolicyDocument!))).toEqual(document);
    const creds = await assume(DOCTOR.connectorRoleArn, DOCTOR.externalId);
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: sim.awsEndpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    const roles = await iam.send(new ListRolesCommand({}));
    expect(roles.Roles?.map((r) => r.RoleName)).toContain('EksAccessConnector');
  });
});
