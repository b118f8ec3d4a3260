import {
  AssociateAccessPolicyCommand,
  BadRequestException,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  InvalidParameterException,
  InvalidRequestException,
  ListAccessEntriesCommand,
  ListAccessPoliciesCommand,
  ListAssociatedAccessPoliciesCommand,
  ListClustersCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateAccessEntryCommand,
} from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../faults.js';
import { startTestAws, type TestAws } from '../testing.js';
import type { Cluster } from '../world/types.js';
import { World } from '../world/world.js';
import { ACCESS_POLICIES } from './eks-access-policies.js';
import { eksService } from './eks.js';

const ACCOUNT = '111122223333';
const ACCESS_KEY = 'AKIAEKSSIMTEST000001';
const SECRET_KEY = 'eks-sim-test-secret-key-0000000000000000';
const SSO_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/us-east-1/AWSReservedSSO_Admin_abc123`;
const NODE_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/node-role`;
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBsimulated\n-----END CERTIFICATE-----\n';
const policyArn = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;
const VIEW = policyArn('AmazonEKSViewPolicy');
const ADMIN = policyArn('AmazonEKSAdminPolicy');
const trust = {
  Statement: [
    {
      Effect: 'Allow' as const,
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'sts:AssumeRole',
    },
  ],
};

interface Fixture {
  aws: TestAws;
  world: World;
  prod: Cluster;
  eks: (region?: string) => EKSClient;
}

let running: TestAws | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A world with clusters in two regions (one still on CONFIG_MAP), an SSO role, node and dev roles. */
async function setup(faults: FaultRule[] = []): Promise<Fixture> {
  const world = new World();
  world.addUser({ accountId: ACCOUNT, userName: 'admin' });
  world.addUser({ accountId: ACCOUNT, userName: 'alice' });
  world.addAccessKey(`arn:aws:iam::${ACCOUNT}:user/admin`, ACCESS_KEY, SECRET_KEY);
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'AWSReservedSSO_Admin_abc123',
    path: '/aws-reserved/sso.amazonaws.com/us-east-1/',
    assumeRolePolicyDocument: trust,
  });
  world.addRole({ accountId: ACCOUNT, roleName: 'node-role', assumeRolePolicyDocument: trust });
  for (let i = 1; i <= 5; i++)
    world.addRole({ accountId: ACCOUNT, roleName: `dev-${i}`, assumeRolePolicyDocument: trust });
  const prod = world.addCluster({
    accountId: ACCOUNT,
    region: 'us-east-1',
    name: 'prod',
    version: '1.32',
    authenticationMode: 'API_AND_CONFIG_MAP',
    tags: { team: 'platform' },
    createdAt: new Date('2024-03-01T12:00:00Z'),
  });
  prod.tls = { caPem: CA_PEM, certPem: '', keyPem: '' };
  prod.endpoint = 'https://prod.eks-sim.test:6443';
  world.addCluster({
    accountId: ACCOUNT,
    region: 'us-east-1',
    name: 'legacy',
    authenticationMode: 'CONFIG_MAP',
  });
  world.addCluster({ accountId: ACCOUNT, region: 'eu-west-1', name: 'eu-only', authenticationMode: 'API' });
  const aws = await startTestAws(world, [eksService], faults);
  running = aws;
  return {
    aws,
    world,
    prod,
    eks: (region = 'us-east-1') =>
      new EKSClient({
        endpoint: aws.endpoint,
        region,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        maxAttempts: 1,
      }),
  };
}

const devArn = (i: number) => `arn:aws:iam::${ACCOUNT}:role/dev-${i}`;

describe('clusters', () => {
  it('lists only the clusters of the signing region, so another region sees none of them', async () => {
    const { eks } = await setup();
    expect((await eks().send(new ListClustersCommand({}))).clusters).toEqual(['legacy', 'prod']);
    expect((await eks('eu-west-1').send(new ListClustersCommand({}))).clusters).toEqual(['eu-only']);
    expect((await eks('ap-south-1').send(new ListClustersCommand({}))).clusters).toEqual([]);
    await expect(eks('eu-west-1').send(new DescribeClusterCommand({ name: 'prod' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('pages clusters with maxResults', async () => {
    const { eks } = await setup();
    const first = await eks().send(new ListClustersCommand({ maxResults: 1 }));
    expect(first.clusters).toEqual(['legacy']);
    const second = await eks().send(new ListClustersCommand({ maxResults: 1, nextToken: first.nextToken }));
    expect(second.clusters).toEqual(['prod']);
    expect(second.nextToken).toBeUndefined();
  });

  it('describes a cluster with the endpoint, CA data and authentication mode clients connect with', async () => {
    const { eks } = await setup();
    const { cluster } = await eks().send(new DescribeClusterCommand({ name: 'prod' }));
    expect(cluster).toMatchObject({
      name: 'prod',
      arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`,
      version: '1.32',
      endpoint: 'https://prod.eks-sim.test:6443',
      status: 'ACTIVE',
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      tags: { team: 'platform' },
    });
    expect(cluster?.createdAt).toEqual(new Date('2024-03-01T12:00:00Z'));
    expect(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString('utf8')).toBe(CA_PEM);
    expect(cluster?.platformVersion).toMatch(/^eks\.\d+$/);
    expect(cluster?.roleArn).toMatch(/^arn:aws:iam::111122223333:role\//);
    expect(cluster?.resourcesVpcConfig?.vpcId).toMatch(/^vpc-/);
  });

  it('answers an unknown cluster with ResourceNotFoundException naming it', async () => {
    const { eks } = await setup();
    await expect(eks().send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'No cluster found for name: nope.',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(eks().send(new ListAccessEntriesCommand({ clusterName: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('access entries', () => {
  it('creates, describes, updates and deletes an entry for an SSO role whose ARN has a path', async () => {
    const { eks } = await setup();
    const created = await eks().send(
      new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }),
    );
    expect(created.accessEntry).toMatchObject({
      clusterName: 'prod',
      principalArn: SSO_ROLE_ARN,
      type: 'STANDARD',
      kubernetesGroups: [],
      // EKS drops the role's path from the generated username.
      username: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_abc123/{{SessionName}}`,
    });
    expect(created.accessEntry?.createdAt).toBeInstanceOf(Date);
    expect(created.accessEntry?.accessEntryArn).toMatch(
      /^arn:aws:eks:us-east-1:111122223333:access-entry\/prod\//,
    );

    const described = await eks().send(
      new DescribeAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }),
    );
    expect(described.accessEntry).toEqual(created.accessEntry);

    await eks().send(
      new UpdateAccessEntryCommand({
        clusterName: 'prod',
        principalArn: SSO_ROLE_ARN,
        kubernetesGroups: ['viewers', 'ops'],
      }),
    );
    const updated = await eks().send(
      new UpdateAccessEntryCommand({
        clusterName: 'prod',
        principalArn: SSO_ROLE_ARN,
        kubernetesGroups: ['ops'],
        username: 'sso-admin:{{SessionName}}',
      }),
    );
    expect(updated.accessEntry).toMatchObject({
      kubernetesGroups: ['ops'],
      username: 'sso-admin:{{SessionName}}',
    });

    expect((await eks().send(new ListAccessEntriesCommand({ clusterName: 'prod' }))).accessEntries).toEqual([
      SSO_ROLE_ARN,
    ]);
    await eks().send(new DeleteAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }));
    await expect(
      eks().send(new DescribeAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The specified access entry resource is not found.',
    });
    await expect(
      eks().send(new DeleteAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('uses the user ARN as the default username of an IAM user entry and keeps given groups and tags', async () => {
    const { eks } = await setup();
    const { accessEntry } = await eks().send(
      new CreateAccessEntryCommand({
        clusterName: 'prod',
        principalArn: USER_ARN,
        kubernetesGroups: ['viewers'],
        tags: { owner: 'alice' },
      }),
    );
    expect(accessEntry).toMatchObject({
      username: USER_ARN,
      kubernetesGroups: ['viewers'],
      tags: { owner: 'alice' },
    });
  });

  it('refuses a second entry for the same principal with ResourceInUseException', async () => {
    const { eks } = await setup();
    await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) }));
    await expect(
      eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) })),
    ).rejects.toMatchObject({
      name: 'ResourceInUseException',
      message: 'The specified access entry resource is already in use on this cluster.',
      $metadata: { httpStatusCode: 409 },
    });
    await expect(
      eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
  });

  it.each([
    ['an STS assumed-role ARN', { principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/dev-1/session` }],
    ['a role that does not exist', { principalArn: `arn:aws:iam::${ACCOUNT}:role/ghost` }],
    [
      'an SSO role named without its path',
      { principalArn: `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Admin_abc123` },
    ],
    ['an unknown partition', { principalArn: `arn:aws-moon:iam::${ACCOUNT}:role/dev-1` }],
    ['a group starting with system:', { principalArn: devArn(1), kubernetesGroups: ['system:masters'] }],
    ['a username starting with system:', { principalArn: devArn(1), username: 'system:admin' }],
    ['a username starting with eks:', { principalArn: devArn(1), username: 'eks:admin' }],
    ['a username starting with amazon:', { principalArn: devArn(1), username: 'amazon:admin' }],
    ['a username starting with aws:', { principalArn: devArn(1), username: 'aws:admin' }],
    ['{{SessionName}} with no colon before it', { principalArn: devArn(1), username: 'john{{SessionName}}' }],
    [
      'groups on an EC2_LINUX entry',
      { principalArn: NODE_ROLE_ARN, type: 'EC2_LINUX', kubernetesGroups: ['nodes'] },
    ],
    [
      'a username on a FARGATE_LINUX entry',
      { principalArn: NODE_ROLE_ARN, type: 'FARGATE_LINUX', username: 'node' },
    ],
    ['an unknown type', { principalArn: devArn(1), type: 'WINDOWS_95' }],
  ])('rejects %s with InvalidParameterException', async (_, input) => {
    const { eks, prod } = await setup();
    await expect(
      eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', ...input })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    expect(prod.accessEntries.size).toBe(0);
  });

  it('quotes AWS when refusing reserved group names', async () => {
    const { eks } = await setup();
    await expect(
      eks().send(
        new CreateAccessEntryCommand({
          clusterName: 'prod',
          principalArn: devArn(1),
          kubernetesGroups: ['system:masters'],
        }),
      ),
    ).rejects.toMatchObject({
      message: 'The kubernetes group name system:masters is invalid, it cannot start with system:',
    });
  });

  it('gives a node entry the node username and refuses policies and group edits on it', async () => {
    const { eks } = await setup();
    const { accessEntry } = await eks().send(
      new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: NODE_ROLE_ARN, type: 'EC2_LINUX' }),
    );
    expect(accessEntry).toMatchObject({ type: 'EC2_LINUX', username: 'system:node:{{EC2PrivateDNSName}}' });
    await expect(
      eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: NODE_ROLE_ARN,
          policyArn: VIEW,
          accessScope: { type: 'cluster' },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'This operation can only be performed on Access Entries with a type of "STANDARD".',
    });
    await expect(
      eks().send(
        new UpdateAccessEntryCommand({
          clusterName: 'prod',
          principalArn: NODE_ROLE_ARN,
          kubernetesGroups: ['admins'],
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('pages five entries two at a time, continuing where the last page ended', async () => {
    const { eks } = await setup();
    for (const i of [3, 1, 5, 2, 4])
      await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(i) }));
    const pages: (string[] | undefined)[] = [];
    let nextToken: string | undefined;
    do {
      const page = await eks().send(
        new ListAccessEntriesCommand({ clusterName: 'prod', maxResults: 2, nextToken }),
      );
      pages.push(page.accessEntries);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages).toEqual([[devArn(1), devArn(2)], [devArn(3), devArn(4)], [devArn(5)]]);
  });

  it('refuses maxResults over 100 and page tokens it did not issue for that listing', async () => {
    const { eks } = await setup();
    for (const i of [1, 2, 3])
      await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(i) }));
    await expect(
      eks().send(new ListAccessEntriesCommand({ clusterName: 'prod', maxResults: 101 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      eks().send(new ListAccessEntriesCommand({ clusterName: 'prod', nextToken: 'not-a-token' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    const { nextToken } = await eks().send(
      new ListAccessEntriesCommand({ clusterName: 'prod', maxResults: 1 }),
    );
    expect(nextToken).toBeDefined();
    await expect(eks().send(new ListAccessPoliciesCommand({ nextToken }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('lists only the entries that hold the policy named by associatedPolicyArn', async () => {
    const { eks } = await setup();
    for (const i of [1, 2, 3])
      await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(i) }));
    const associate = (i: number, arn: string) =>
      eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: devArn(i),
          policyArn: arn,
          accessScope: { type: 'cluster' },
        }),
      );
    await associate(1, VIEW);
    await associate(3, VIEW);
    await associate(2, ADMIN);
    const viewers = await eks().send(
      new ListAccessEntriesCommand({ clusterName: 'prod', associatedPolicyArn: VIEW }),
    );
    expect(viewers.accessEntries).toEqual([devArn(1), devArn(3)]);
    const admins = await eks().send(
      new ListAccessEntriesCommand({ clusterName: 'prod', associatedPolicyArn: ADMIN }),
    );
    expect(admins.accessEntries).toEqual([devArn(2)]);
  });

  it('answers a malformed JSON body with a 400 BadRequestException and keeps serving', async () => {
    const { eks } = await setup();
    const client = eks();
    // Corrupt the body before signing, so the request is authentic but unparseable.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown; headers: Record<string, string> };
        request.body = '{"principalArn": ';
        request.headers['content-length'] = String(Buffer.byteLength(request.body as string));
        return next(args);
      },
      { step: 'build' },
    );
    await expect(
      client.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) })),
    ).rejects.toMatchObject({
      name: 'BadRequestException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) })),
    ).rejects.toBeInstanceOf(BadRequestException);
    expect((await eks().send(new ListClustersCommand({}))).clusters).toContain('prod');
  });
});

describe('access policies', () => {
  it('replaces the scope of an existing association instead of merging it', async () => {
    const { eks } = await setup();
    await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }));
    const associate = (accessScope: { type: 'cluster' | 'namespace'; namespaces?: string[] }) =>
      eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: SSO_ROLE_ARN,
          policyArn: VIEW,
          accessScope,
        }),
      );

    const first = await associate({ type: 'cluster' });
    expect(first).toMatchObject({
      clusterName: 'prod',
      principalArn: SSO_ROLE_ARN,
      associatedAccessPolicy: { policyArn: VIEW, accessScope: { type: 'cluster', namespaces: [] } },
    });
    await associate({ type: 'namespace', namespaces: ['team-a', 'team-b'] });
    const last = await associate({ type: 'namespace', namespaces: ['team-c', 'dev-*'] });
    expect(last.associatedAccessPolicy?.associatedAt).toEqual(first.associatedAccessPolicy?.associatedAt);

    const listed = await eks().send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }),
    );
    expect(listed).toMatchObject({ clusterName: 'prod', principalArn: SSO_ROLE_ARN });
    expect(listed.associatedAccessPolicies).toHaveLength(1);
    expect(listed.associatedAccessPolicies?.[0]).toMatchObject({
      policyArn: VIEW,
      accessScope: { type: 'namespace', namespaces: ['team-c', 'dev-*'] },
    });
    expect(listed.associatedAccessPolicies?.[0]?.modifiedAt).toBeInstanceOf(Date);
  });

  it('pages the associated policies of one entry', async () => {
    const { eks } = await setup();
    await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) }));
    for (const name of ['AmazonEKSViewPolicy', 'AmazonEKSEditPolicy', 'AmazonEKSAdminViewPolicy']) {
      await eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: devArn(1),
          policyArn: policyArn(name),
          accessScope: { type: 'cluster' },
        }),
      );
    }
    const first = await eks().send(
      new ListAssociatedAccessPoliciesCommand({
        clusterName: 'prod',
        principalArn: devArn(1),
        maxResults: 2,
      }),
    );
    const second = await eks().send(
      new ListAssociatedAccessPoliciesCommand({
        clusterName: 'prod',
        principalArn: devArn(1),
        maxResults: 2,
        nextToken: first.nextToken,
      }),
    );
    const arns = [...(first.associatedAccessPolicies ?? []), ...(second.associatedAccessPolicies ?? [])].map(
      (a) => a.policyArn,
    );
    expect(arns).toEqual([
      policyArn('AmazonEKSAdminViewPolicy'),
      policyArn('AmazonEKSEditPolicy'),
      policyArn('AmazonEKSViewPolicy'),
    ]);
    expect(second.nextToken).toBeUndefined();
  });

  it.each([
    ['a namespace scope without namespaces', VIEW, { type: 'namespace' as const }],
    ['a namespace scope with an empty list', VIEW, { type: 'namespace' as const, namespaces: [] }],
    ['a cluster scope with namespaces', VIEW, { type: 'cluster' as const, namespaces: ['team-a'] }],
    ['an unknown scope type', VIEW, { type: 'galaxy' as 'cluster' }],
    ['an invalid namespace name', VIEW, { type: 'namespace' as const, namespaces: ['Team_A'] }],
    [
      'a policy ARN of the wrong shape',
      'arn:aws:iam::aws:policy/AdministratorAccess',
      { type: 'cluster' as const },
    ],
  ])('rejects %s with InvalidParameterException', async (_, arn, accessScope) => {
    const { eks, prod } = await setup();
    await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) }));
    await expect(
      eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: devArn(1),
          policyArn: arn,
          accessScope,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    expect(prod.accessEntries.get(devArn(1))?.associations.size).toBe(0);
  });

  it('answers a policy EKS does not have, or an entry that does not exist, with ResourceNotFoundException', async () => {
    const { eks } = await setup();
    await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: devArn(1) }));
    await expect(
      eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: devArn(1),
          policyArn: policyArn('AmazonEKSGodModePolicy'),
          accessScope: { type: 'cluster' },
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      eks().send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: devArn(2),
          policyArn: VIEW,
          accessScope: { type: 'cluster' },
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('disassociates a policy, and a second disassociation is ResourceNotFoundException', async () => {
    const { eks } = await setup();
    await eks().send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }));
    await eks().send(
      new AssociateAccessPolicyCommand({
        clusterName: 'prod',
        principalArn: SSO_ROLE_ARN,
        policyArn: ADMIN,
        accessScope: { type: 'cluster' },
      }),
    );
    await eks().send(
      new DisassociateAccessPolicyCommand({
        clusterName: 'prod',
        principalArn: SSO_ROLE_ARN,
        policyArn: ADMIN,
      }),
    );
    const listed = await eks().send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: 'prod', principalArn: SSO_ROLE_ARN }),
    );
    expect(listed.associatedAccessPolicies).toEqual([]);
    await expect(
      eks().send(
        new DisassociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn: SSO_ROLE_ARN,
          policyArn: ADMIN,
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('lists the full catalogue across pages, including the Auto Mode and hybrid policies', async () => {
    const { eks } = await setup();
    const seen: { name?: string; arn?: string }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await eks().send(new ListAccessPoliciesCommand({ maxResults: 10, nextToken }));
      expect(page.accessPolicies?.length).toBeLessThanOrEqual(10);
      seen.push(...(page.accessPolicies ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen.map((p) => p.name)).toEqual(ACCESS_POLICIES.map((p) => p.name));
    expect(seen.length).toBeGreaterThanOrEqual(15);
    for (const name of [
      'AmazonEKSClusterAdminPolicy',
      'AmazonEKSAdminPolicy',
      'AmazonEKSEditPolicy',
      'AmazonEKSViewPolicy',
      'AmazonEKSAdminViewPolicy',
      'AmazonEKSAutoNodePolicy',
      'AmazonEKSHybridPolicy',
      'AmazonEKSBlockStoragePolicy',
      'AmazonEKSLoadBalancingPolicy',
      'AmazonEKSNetworkingPolicy',
      'AmazonEKSComputePolicy',
      'AmazonEKSClusterInsightsPolicy',
    ]) {
      expect(seen).toContainEqual({ name, arn: policyArn(name) });
    }
    const unpaged = await eks().send(new ListAccessPoliciesCommand({}));
    expect(unpaged.accessPolicies).toHaveLength(seen.length);
    expect(unpaged.nextToken).toBeUndefined();
  });
});

describe('authentication mode and faults', () => {
  it('answers access entry and policy calls on a CONFIG_MAP cluster with InvalidRequestException', async () => {
    const { eks } = await setup();
    const calls = [
      () => eks().send(new ListAccessEntriesCommand({ clusterName: 'legacy' })),
      () => eks().send(new CreateAccessEntryCommand({ clusterName: 'legacy', principalArn: devArn(1) })),
      () => eks().send(new DescribeAccessEntryCommand({ clusterName: 'legacy', principalArn: devArn(1) })),
      () =>
        eks().send(
          new ListAssociatedAccessPoliciesCommand({ clusterName: 'legacy', principalArn: devArn(1) }),
        ),
      () =>
        eks().send(
          new AssociateAccessPolicyCommand({
            clusterName: 'legacy',
            principalArn: devArn(1),
            policyArn: VIEW,
            accessScope: { type: 'cluster' },
          }),
        ),
    ];
    for (const call of calls) {
      await expect(call()).rejects.toMatchObject({
        name: 'InvalidRequestException',
        message:
          "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        $metadata: { httpStatusCode: 400 },
      });
    }
    await expect(calls[0]!()).rejects.toBeInstanceOf(InvalidRequestException);
  });

  it('surfaces a throttling fault on ListAccessEntries as ThrottlingException while other calls succeed', async () => {
    const { eks } = await setup([{ target: 'eks:ListAccessEntries', throttleRate: 1 }]);
    await expect(eks().send(new ListAccessEntriesCommand({ clusterName: 'prod' }))).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    expect((await eks().send(new ListClustersCommand({}))).clusters).toEqual(['legacy', 'prod']);
  });

  it('applies a per-cluster fault rule only to calls naming that cluster', async () => {
    const { eks, world } = await setup([{ target: 'eks:*', cluster: 'prod', throttleRate: 1 }]);
    world.addCluster({ accountId: ACCOUNT, region: 'us-east-1', name: 'staging', authenticationMode: 'API' });
    await expect(eks().send(new ListAccessEntriesCommand({ clusterName: 'prod' }))).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    await expect(eks().send(new DescribeClusterCommand({ name: 'prod' }))).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    expect(
      (await eks().send(new ListAccessEntriesCommand({ clusterName: 'staging' }))).accessEntries,
    ).toEqual([]);
  });
});
