import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  type AssumeRoleCommandInput,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAws, type TestAws } from '../testing.js';
import type { PolicyDocument, PolicyStatement } from '../world/types.js';
import { World } from '../world/world.js';
import { iamService } from './iam.js';
import { stsService } from './sts.js';

const ACCOUNT = '111111111111';
const VENDOR_ACCOUNT = '222222222222';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function trust(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

function allowAws(principal: string | string[], extra: Partial<PolicyStatement> = {}): PolicyStatement {
  return { Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole', ...extra };
}

const roleArn = (name: string, path = '/') => `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
const userArn = (name: string, path = '/', account = ACCOUNT) => `arn:aws:iam::${account}:user${path}${name}`;

let aws: TestAws;
const keys: Record<string, Keys> = {};

function sts(credentials: Keys): STSClient {
  return new STSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

async function assume(
  as: Keys,
  input: Omit<AssumeRoleCommandInput, 'RoleSessionName'> & { RoleSessionName?: string },
) {
  const out = await sts(as).send(new AssumeRoleCommand({ RoleSessionName: 'test-session', ...input }));
  const c = out.Credentials!;
  const session: Keys = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  };
  return { out, session };
}

function denied(caller: string, role: string, action = 'sts:AssumeRole') {
  return {
    name: 'AccessDenied',
    message: `User: ${caller} is not authorized to perform: ${action} on resource: ${role}`,
    $metadata: expect.objectContaining({ httpStatusCode: 403 }),
  };
}

beforeAll(async () => {
  const world = new World();
  world.addUser({ accountId: ACCOUNT, userName: 'alice' });
  world.addUser({ accountId: ACCOUNT, userName: 'bob' });
  world.addUser({ accountId: ACCOUNT, userName: 'dave', path: '/engineering/' });
  world.addUser({ accountId: VENDOR_ACCOUNT, userName: 'carol' });
  keys.alice = world.addAccessKey(userArn('alice'));
  keys.bob = world.addAccessKey(userArn('bob'));
  keys.dave = world.addAccessKey(userArn('dave', '/engineering/'));
  keys.carol = world.addAccessKey(userArn('carol', '/', VENDOR_ACCOUNT));
  keys.root = world.addAccessKey(`arn:aws:iam::${ACCOUNT}:root`);

  world.addRole({
    accountId: ACCOUNT,
    roleName: 'app-deployer',
    path: '/apps/',
    assumeRolePolicyDocument: trust(allowAws(userArn('alice'))),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'vendor-access',
    assumeRolePolicyDocument: trust(
      allowAws(`arn:aws:iam::${VENDOR_ACCOUNT}:root`, {
        Condition: { StringEquals: { 'sts:ExternalId': 'vendor-secret-42' } },
      }),
    ),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'account-wide',
    assumeRolePolicyDocument: trust(allowAws(ACCOUNT)),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'engineers',
    assumeRolePolicyDocument: trust({
      Effect: 'Allow',
      Principal: '*',
      Action: 'sts:*',
      Condition: { StringLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:user/engineering/*` } },
    }),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'guarded',
    assumeRolePolicyDocument: trust(allowAws(`arn:aws:iam::${ACCOUNT}:root`), {
      Effect: 'Deny',
      Principal: { AWS: userArn('bob') },
      Action: '*',
    }),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'ec2-only',
    assumeRolePolicyDocument: trust(
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/corp` },
        Action: 'sts:AssumeRole',
      },
    ),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'chain-entry',
    maxSessionDuration: 43200,
    assumeRolePolicyDocument: trust(allowAws(userArn('alice'))),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'chain-target',
    path: '/team/',
    maxSessionDuration: 43200,
    assumeRolePolicyDocument: trust(allowAws(roleArn('chain-entry'))),
  });
  const sourceIdentityRequired = {
    Condition: { StringEquals: { 'aws:SourceIdentity': 'alice@example.com' } },
  };
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'audited',
    assumeRolePolicyDocument: trust(
      allowAws(userArn('alice'), {
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        ...sourceIdentityRequired,
      }),
    ),
  });
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'audited-next',
    assumeRolePolicyDocument: trust(
      allowAws(roleArn('audited'), {
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        ...sourceIdentityRequired,
      }),
    ),
  });
  aws = await startTestAws(world, [stsService, iamService]);
});

afterAll(async () => {
  await aws.close();
});

describe('GetCallerIdentity', () => {
  it('reports the account, ARN and unique id of an IAM user', async () => {
    const me = await sts(keys.alice!).send(new GetCallerIdentityCommand({}));
    const alice = aws.world.users.get(userArn('alice'))!;
    expect(me).toMatchObject({ Account: ACCOUNT, Arn: userArn('alice'), UserId: alice.userId });
    expect(me.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports an assumed-role session by its STS ARN (no path) and <roleId>:<session>', async () => {
    const { session } = await assume(keys.alice!, {
      RoleArn: roleArn('app-deployer', '/apps/'),
      RoleSessionName: 'deploy-42',
    });
    const me = await sts(session).send(new GetCallerIdentityCommand({}));
    const role = aws.world.roles.get(roleArn('app-deployer', '/apps/'))!;
    expect(me).toMatchObject({
      Account: ACCOUNT,
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-deployer/deploy-42`,
      UserId: `${role.roleId}:deploy-42`,
    });
  });
});

describe('AssumeRole', () => {
  it('issues working temporary credentials when the trust policy names the caller', async () => {
    const before = Date.now();
    const { out } = await assume(keys.alice!, {
      RoleArn: roleArn('app-deployer', '/apps/'),
      RoleSessionName: 'alice@example.com',
      DurationSeconds: 900,
    });
    const role = aws.world.roles.get(roleArn('app-deployer', '/apps/'))!;
    expect(out.AssumedRoleUser).toEqual({
      AssumedRoleId: `${role.roleId}:alice@example.com`,
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-deployer/alice@example.com`,
    });
    expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA/);
    expect(out.Credentials!.SessionToken).toBeTruthy();
    const expiresIn = out.Credentials!.Expiration!.getTime() - before;
    expect(expiresIn).toBeGreaterThan(899_000);
    expect(expiresIn).toBeLessThanOrEqual(901_000);
    expect(out.SourceIdentity).toBeUndefined();
  });

  it("refuses a caller the trust policy does not name, with AWS's message", async () => {
    const arn = roleArn('app-deployer', '/apps/');
    await expect(assume(keys.bob!, { RoleArn: arn })).rejects.toMatchObject(denied(userArn('bob'), arn));
  });

  it('refuses an unknown role, or a known one named without its path, like an untrusted one', async () => {
    for (const arn of [roleArn('no-such-role'), roleArn('app-deployer')]) {
      await expect(assume(keys.alice!, { RoleArn: arn })).rejects.toMatchObject(
        denied(userArn('alice'), arn),
      );
    }
  });

  it('requires the exact ExternalId the trust policy asks for', async () => {
    const arn = roleArn('vendor-access');
    const carol = userArn('carol', '/', VENDOR_ACCOUNT);
    await expect(assume(keys.carol!, { RoleArn: arn })).rejects.toMatchObject(denied(carol, arn));
    await expect(assume(keys.carol!, { RoleArn: arn, ExternalId: 'vendor-secret-43' })).rejects.toMatchObject(
      denied(carol, arn),
    );
    const { session } = await assume(keys.carol!, { RoleArn: arn, ExternalId: 'vendor-secret-42' });
    const me = await sts(session).send(new GetCallerIdentityCommand({}));
    // The session belongs to the role's account, not the vendor's.
    expect(me.Account).toBe(ACCOUNT);
  });

  it('lets every principal of an account in when the trust policy names the account, and no one else', async () => {
    const arn = roleArn('account-wide');
    await expect(assume(keys.alice!, { RoleArn: arn })).resolves.toBeDefined();
    await expect(assume(keys.bob!, { RoleArn: arn })).resolves.toBeDefined();
    await expect(assume(keys.carol!, { RoleArn: arn })).rejects.toMatchObject(
      denied(userArn('carol', '/', VENDOR_ACCOUNT), arn),
    );
  });

  it('admits a wildcard principal only where its condition holds', async () => {
    const arn = roleArn('engineers');
    await expect(assume(keys.dave!, { RoleArn: arn })).resolves.toBeDefined();
    await expect(assume(keys.alice!, { RoleArn: arn })).rejects.toMatchObject(denied(userArn('alice'), arn));
  });

  it('lets an explicit Deny win over an Allow', async () => {
    const arn = roleArn('guarded');
    await expect(assume(keys.alice!, { RoleArn: arn })).resolves.toBeDefined();
    await expect(assume(keys.bob!, { RoleArn: arn })).rejects.toMatchObject(denied(userArn('bob'), arn));
  });

  it('never admits an IAM caller through a Service or Federated principal', async () => {
    const arn = roleArn('ec2-only');
    await expect(assume(keys.alice!, { RoleArn: arn })).rejects.toMatchObject(denied(userArn('alice'), arn));
  });

  it('refuses to let the account root assume a role', async () => {
    await expect(assume(keys.root!, { RoleArn: roleArn('account-wide') })).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'Roles may not be assumed by root accounts.',
    });
  });

  it('chains from one role session into a role that trusts the first role, capped at one hour', async () => {
    const { session: entry } = await assume(keys.alice!, {
      RoleArn: roleArn('chain-entry'),
      DurationSeconds: 7200,
    });
    const target = roleArn('chain-target', '/team/');
    await expect(assume(entry, { RoleArn: target, DurationSeconds: 7200 })).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    });
    const { session } = await assume(entry, { RoleArn: target, RoleSessionName: 'hop-2' });
    const me = await sts(session).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/chain-target/hop-2`);
    // The target trusts the role, not its users.
    await expect(assume(keys.alice!, { RoleArn: target })).rejects.toMatchObject(
      denied(userArn('alice'), target),
    );
  });

  it('rejects a malformed session name or an out-of-range duration with ValidationError', async () => {
    const arn = roleArn('app-deployer', '/apps/');
    await expect(assume(keys.alice!, { RoleArn: arn, RoleSessionName: 'a' })).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
      $metadata: expect.objectContaining({ httpStatusCode: 400 }),
    });
    await expect(
      assume(keys.alice!, { RoleArn: arn, RoleSessionName: 'has space', DurationSeconds: 60 }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        "2 validation errors detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; " +
        "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    });
    await expect(assume(keys.alice!, { RoleArn: arn, DurationSeconds: 7200 })).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
  });

  it('requires the source identity a trust policy asks for and keeps it through chained sessions', async () => {
    const audited = roleArn('audited');
    await expect(assume(keys.alice!, { RoleArn: audited })).rejects.toMatchObject(
      denied(userArn('alice'), audited),
    );
    const { out, session } = await assume(keys.alice!, {
      RoleArn: audited,
      SourceIdentity: 'alice@example.com',
    });
    expect(out.SourceIdentity).toBe('alice@example.com');
    const next = await assume(session, { RoleArn: roleArn('audited-next') });
    expect(next.out.SourceIdentity).toBe('alice@example.com');
  });
});

describe('request authentication', () => {
  it('rejects expired temporary credentials with ExpiredToken', async () => {
    const role = aws.world.roles.get(roleArn('account-wide'))!;
    const expired = aws.world.issueTemporaryCredentials(
      {
        kind: 'assumed-role',
        accountId: ACCOUNT,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/account-wide/old`,
        userId: `${role.roleId}:old`,
        roleArn: role.arn,
        sessionName: 'old',
      },
      new Date(Date.now() - 60_000),
    );
    await expect(sts(expired).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'ExpiredToken',
      $metadata: expect.objectContaining({ httpStatusCode: 403 }),
    });
  });

  it('rejects an unknown access key with InvalidClientTokenId', async () => {
    const stranger = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) };
    await expect(sts(stranger).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('rejects a request signed with the wrong secret with SignatureDoesNotMatch', async () => {
    const forged = { accessKeyId: keys.alice!.accessKeyId, secretAccessKey: 'not-the-secret' };
    await expect(sts(forged).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: expect.objectContaining({ httpStatusCode: 403 }),
    });
  });
});
