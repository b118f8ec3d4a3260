import {
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  ListRolesCommand,
  ListUsersCommand,
  NoSuchEntityException,
  paginateListRoles,
  type ListRolesCommandInput,
  type Role,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAws, type TestAws } from '../testing.js';
import type { PolicyDocument } from '../world/types.js';
import { World } from '../world/world.js';
import { iamService } from './iam.js';
import { stsService } from './sts.js';

const ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '222222222222';
const SSO_PATH = '/aws-reserved/sso.amazonaws.com/us-east-1/';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const trustAccount = (account: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' },
  ],
});

const VENDOR_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Vendor',
      Effect: 'Allow',
      Principal: {
        AWS: [`arn:aws:iam::${OTHER_ACCOUNT}:root`, `arn:aws:iam::${OTHER_ACCOUNT}:user/ops/carol`],
      },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: { 'sts:ExternalId': 'a&b<c> "d" 100%' },
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      },
    },
  ],
};

let aws: TestAws;
let alice: Keys;
let carol: Keys;
let root: Keys;

function iam(credentials: Keys, maxAttempts = 1): IAMClient {
  return new IAMClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts });
}

async function listAllRoles(client: IAMClient, input: ListRolesCommandInput): Promise<Role[][]> {
  const pages: Role[][] = [];
  for await (const page of paginateListRoles({ client }, input)) pages.push(page.Roles ?? []);
  return pages;
}

beforeAll(async () => {
  const world = new World();
  world.addUser({ accountId: ACCOUNT, userName: 'alice', tags: [{ Key: 'team', Value: 'platform' }] });
  for (const name of ['bob', 'erin', 'frank']) world.addUser({ accountId: ACCOUNT, userName: name });
  world.addUser({ accountId: ACCOUNT, userName: 'dave', path: '/engineering/' });
  world.addUser({ accountId: OTHER_ACCOUNT, userName: 'carol', path: '/ops/' });
  alice = world.addAccessKey(`arn:aws:iam::${ACCOUNT}:user/alice`);
  carol = world.addAccessKey(`arn:aws:iam::${OTHER_ACCOUNT}:user/ops/carol`);
  root = world.addAccessKey(`arn:aws:iam::${ACCOUNT}:root`);

  for (const name of ['admins', 'builders', 'ci', 'deployers', 'readers', 'writers']) {
    world.addRole({ accountId: ACCOUNT, roleName: name, assumeRolePolicyDocument: trustAccount(ACCOUNT) });
  }
  world.addRole({
    accountId: ACCOUNT,
    roleName: 'vendor-access',
    path: '/partners/',
    description: 'Vendor <ops> & "support"',
    maxSessionDuration: 7200,
    assumeRolePolicyDocument: VENDOR_TRUST,
    tags: [{ Key: 'owner', Value: 'security & compliance' }],
  });
  for (const permissionSet of [
    'AdministratorAccess_1a2b3c4d5e6f7a8b',
    'ReadOnlyAccess_0f1e2d3c4b5a6978',
    'ViewOnly_99aa88bb77cc66dd',
  ]) {
    world.addRole({
      accountId: ACCOUNT,
      roleName: `AWSReservedSSO_${permissionSet}`,
      path: SSO_PATH,
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/AWSSSO_abc_DO_NOT_DELETE` },
            Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
            Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
          },
        ],
      },
    });
  }
  world.addRole({
    accountId: OTHER_ACCOUNT,
    roleName: 'elsewhere',
    assumeRolePolicyDocument: trustAccount(OTHER_ACCOUNT),
  });
  world.addRole({
    accountId: OTHER_ACCOUNT,
    roleName: 'jump',
    assumeRolePolicyDocument: trustAccount(OTHER_ACCOUNT),
  });
  aws = await startTestAws(world, [stsService, iamService]);
});

afterAll(async () => {
  await aws.close();
});

describe('ListRoles', () => {
  it("lists every role of the caller's account exactly once across pages of MaxItems", async () => {
    const client = iam(alice);
    const pages: Role[][] = [];
    let marker: string | undefined;
    do {
      const out = await client.send(new ListRolesCommand({ MaxItems: 4, Marker: marker }));
      expect(out.IsTruncated).toBe(out.Marker !== undefined);
      pages.push(out.Roles!);
      marker = out.Marker;
    } while (marker !== undefined);

    expect(pages.map((p) => p.length)).toEqual([4, 4, 2]);
    const expected = aws.world.rolesInAccount(ACCOUNT).map((r) => r.arn);
    expect(pages.flat().map((r) => r.Arn)).toEqual(expected);
    expect(pages.flat().some((r) => r.RoleName === 'elsewhere')).toBe(false);
    // ListRoles leaves tags out, as AWS does; GetRole returns them.
    expect(pages.flat().find((r) => r.RoleName === 'vendor-access')!.Tags).toBeUndefined();
  });

  it('returns the trust policy as URL-encoded JSON that decodes to the stored document, and escapes text', async () => {
    const out = await iam(alice).send(new ListRolesCommand({ PathPrefix: '/partners/' }));
    expect(out.IsTruncated).toBe(false);
    const [role] = out.Roles!;
    expect(role).toMatchObject({
      Path: '/partners/',
      RoleName: 'vendor-access',
      Arn: `arn:aws:iam::${ACCOUNT}:role/partners/vendor-access`,
      Description: 'Vendor <ops> & "support"',
      MaxSessionDuration: 7200,
      CreateDate: new Date('2024-01-01T00:00:00Z'),
    });
    expect(role!.RoleId).toMatch(/^AROA/);
    expect(role!.AssumeRolePolicyDocument).toBe(encodeURIComponent(JSON.stringify(VENDOR_TRUST)));
    expect(JSON.parse(decodeURIComponent(role!.AssumeRolePolicyDocument!))).toEqual(VENDOR_TRUST);
  });

  it('filters by PathPrefix, down to the IAM Identity Center roles', async () => {
    const pages = await listAllRoles(iam(alice), {
      PathPrefix: '/aws-reserved/sso.amazonaws.com/',
      MaxItems: 2,
    });
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(pages.flat().map((r) => r.RoleName)).toEqual([
      'AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b',
      'AWSReservedSSO_ReadOnlyAccess_0f1e2d3c4b5a6978',
      'AWSReservedSSO_ViewOnly_99aa88bb77cc66dd',
    ]);
    expect(pages.flat().every((r) => r.Path === SSO_PATH)).toBe(true);
    const none = await iam(alice).send(new ListRolesCommand({ PathPrefix: '/no/such/path/' }));
    expect(none).toMatchObject({ Roles: [], IsTruncated: false });
  });

  it('continues a listing without repeats or gaps while roles are added between pages', async () => {
    const account = '333333333333';
    aws.world.addUser({ accountId: account, userName: 'lister' });
    const client = iam(aws.world.addAccessKey(`arn:aws:iam::${account}:user/lister`));
    const add = (roleName: string) =>
      aws.world.addRole({ accountId: account, roleName, assumeRolePolicyDocument: trustAccount(account) });
    for (const name of ['r1', 'r2', 'r3', 'r4', 'r5']) add(name);

    const first = await client.send(new ListRolesCommand({ MaxItems: 2 }));
    expect(first.Roles!.map((r) => r.RoleName)).toEqual(['r1', 'r2']);
    add('r0'); // sorts before the position reached: must not shift the next page
    add('r2a'); // sorts after it: must show up
    const second = await client.send(new ListRolesCommand({ MaxItems: 2, Marker: first.Marker }));
    expect(second.Roles!.map((r) => r.RoleName)).toEqual(['r2a', 'r3']);
    const rest = await client.send(new ListRolesCommand({ Marker: second.Marker }));
    expect(rest.Roles!.map((r) => r.RoleName)).toEqual(['r4', 'r5']);
    expect(rest.IsTruncated).toBe(false);
  });

  it('rejects a garbled, forged or foreign Marker with ValidationError instead of restarting the listing', async () => {
    const { Marker: marker } = await iam(alice).send(new ListRolesCommand({ MaxItems: 1 }));
    const { Marker: usersMarker } = await iam(alice).send(new ListUsersCommand({ MaxItems: 1 }));
    const { Marker: otherAccountMarker } = await iam(carol).send(new ListRolesCommand({ MaxItems: 1 }));
    expect(marker && usersMarker && otherAccountMarker).toBeTruthy();
    const [body, mac] = marker!.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ s: `ListRoles/${ACCOUNT}`, k: '/w' })).toString(
      'base64url',
    );
    for (const bad of [
      'garbage',
      `${body.slice(0, -1)}A.${mac}`,
      `${forgedBody}.${mac}`,
      usersMarker!,
      otherAccountMarker!,
    ]) {
      await expect(iam(alice).send(new ListRolesCommand({ Marker: bad }))).rejects.toMatchObject({
        name: 'ValidationError',
        message: 'Invalid Marker.',
        $metadata: expect.objectContaining({ httpStatusCode: 400 }),
      });
    }
  });

  it('rejects MaxItems outside 1..1000', async () => {
    await expect(iam(alice).send(new ListRolesCommand({ MaxItems: 1001 }))).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000",
    });
  });

  it("shows a role session the roles of the role's account", async () => {
    const carolSts = new STSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: carol,
      maxAttempts: 1,
    });
    const { Credentials: c } = await carolSts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/jump`, RoleSessionName: 'carol' }),
    );
    const session = {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
    const out = await iam(session).send(new ListRolesCommand({}));
    expect(out.Roles!.map((r) => r.RoleName)).toEqual(['elsewhere', 'jump']);
  });

  it('surfaces an injected throttle as the Throttling error the SDK gives up with', async () => {
    const throttled = await startTestAws(
      aws.world,
      [stsService, iamService],
      [{ target: 'iam:ListRoles', throttleRate: 1 }],
    );
    try {
      // One attempt keeps the test fast: the SDK backs off about half a second before retrying a throttle.
      const client = new IAMClient({
        endpoint: throttled.endpoint,
        region: 'us-east-1',
        credentials: alice,
        maxAttempts: 1,
      });
      await expect(client.send(new ListRolesCommand({}))).rejects.toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $metadata: expect.objectContaining({ httpStatusCode: 400 }),
      });
      expect(throttled.faults.snapshot().faults).toEqual({ 'iam:ListRoles:throttle': 1 });
      // Only the targeted operation is throttled.
      await expect(client.send(new GetRoleCommand({ RoleName: 'admins' }))).resolves.toBeDefined();
    } finally {
      await throttled.close();
    }
  });
});

describe('GetRole', () => {
  it('returns the role with its tags', async () => {
    const { Role: role } = await iam(alice).send(new GetRoleCommand({ RoleName: 'vendor-access' }));
    expect(role).toMatchObject({
      RoleName: 'vendor-access',
      Path: '/partners/',
      Tags: [{ Key: 'owner', Value: 'security & compliance' }],
    });
    expect(JSON.parse(decodeURIComponent(role!.AssumeRolePolicyDocument!))).toEqual(VENDOR_TRUST);
  });

  it("raises NoSuchEntityException for a role that is not in the caller's account", async () => {
    for (const name of ['no-such-role', 'elsewhere']) {
      const err: unknown = await iam(alice)
        .send(new GetRoleCommand({ RoleName: name }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoSuchEntityException);
      expect(err).toMatchObject({
        message: `The role with name ${name} cannot be found.`,
        $metadata: { httpStatusCode: 404 },
      });
    }
  });
});

describe('ListUsers and GetUser', () => {
  it('pages through the users of the account and filters by path', async () => {
    const first = await iam(alice).send(new ListUsersCommand({ MaxItems: 3 }));
    expect(first.IsTruncated).toBe(true);
    const rest = await iam(alice).send(new ListUsersCommand({ MaxItems: 3, Marker: first.Marker }));
    expect(rest.IsTruncated).toBe(false);
    expect([...first.Users!, ...rest.Users!].map((u) => u.Arn)).toEqual(
      aws.world.usersInAccount(ACCOUNT).map((u) => u.arn),
    );
    expect(first.Users!.length + rest.Users!.length).toBe(5);
    const engineers = await iam(alice).send(new ListUsersCommand({ PathPrefix: '/engineering/' }));
    expect(engineers.Users).toEqual([
      expect.objectContaining({
        UserName: 'dave',
        Path: '/engineering/',
        Arn: `arn:aws:iam::${ACCOUNT}:user/engineering/dave`,
      }),
    ]);
  });

  it('returns the named user, or the calling user when no name is given', async () => {
    const named = await iam(alice).send(new GetUserCommand({ UserName: 'dave' }));
    expect(named.User).toMatchObject({ UserName: 'dave', Path: '/engineering/' });
    const me = await iam(alice).send(new GetUserCommand({}));
    expect(me.User).toMatchObject({
      UserName: 'alice',
      Arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      Tags: [{ Key: 'team', Value: 'platform' }],
    });
    const rootUser = await iam(root).send(new GetUserCommand({}));
    expect(rootUser.User).toMatchObject({ Arn: `arn:aws:iam::${ACCOUNT}:root`, UserId: ACCOUNT });
  });

  it('refuses GetUser without a name from a role session, and an unknown name', async () => {
    const sts = new STSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: alice,
      maxAttempts: 1,
    });
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/admins`, RoleSessionName: 'alice' }),
    );
    const session = {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
    await expect(iam(session).send(new GetUserCommand({}))).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Must specify userName when calling with non-User credentials',
    });
    await expect(iam(alice).send(new GetUserCommand({ UserName: 'carol' }))).rejects.toBeInstanceOf(
      NoSuchEntityException,
    );
  });
});
