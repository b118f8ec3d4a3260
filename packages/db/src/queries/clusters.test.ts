import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidCursorError, InvalidInputError, NotFoundError } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import { listAudit } from './audit.js';
import {
  createCluster,
  deleteCluster,
  getCluster,
  getClusterCredentials,
  listClusters,
  setClusterIdentity,
  updateCluster,
  type CreateClusterInput,
} from './clusters.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
});
afterAll(async () => {
  await database?.drop();
});

const SECRETS = {
  externalId: 'ext-id-4c1b9e0d',
  credentials: {
    static: { accessKeyId: 'AKIAEXAMPLEKEY00001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET01' },
    bindingRole: { roleArn: 'arn:aws:iam::999999999999:role/binding', externalId: 'binding-ext-7f3a' },
  },
  c1ClientSecret: 'c1-secret-value-0a9b8c7d',
};

function input(overrides: Partial<CreateClusterInput> = {}): CreateClusterInput {
  return {
    name: `cluster-${Math.random().toString(36).slice(2, 8)}`,
    region: 'eu-west-1',
    roleArn: 'arn:aws:iam::123456789012:role/connector',
    hostingMode: 'self-hosted',
    c1ClientId: 'client-id',
    ...SECRETS,
    ...overrides,
  };
}

describe('clusters', () => {
  it('registers a cluster, taking the account from the role ARN, and returns no secret', async () => {
    const cluster = await createCluster(
      database,
      input({ labels: { env: 'prod' }, schedule: { every_ms: 3_600_000 } }),
    );
    expect(cluster).toMatchObject({
      accountId: '123456789012',
      hostingMode: 'self-hosted',
      enabled: true,
      provisioningEnabled: false,
      labels: { env: 'prod' },
      schedule: { every_ms: 3_600_000 },
      currentSyncRunId: null,
      hasExternalId: true,
      hasCredentials: true,
      hasC1ClientSecret: true,
    });
    const json = JSON.stringify([
      cluster,
      await getCluster(database, cluster.id),
      await listClusters(database),
    ]);
    for (const secret of [
      SECRETS.externalId,
      SECRETS.credentials.static.secretAccessKey,
      SECRETS.c1ClientSecret,
      'binding-ext-7f3a',
    ]) {
      expect(json).not.toContain(secret);
    }
    expect(json).not.toMatch(/_enc|Enc"/);
  });

  it('stores secrets encrypted at rest and decrypts them for workers', async () => {
    const cluster = await createCluster(database, input());
    const { rows } = await database.pool.query<Record<string, string>>(
      'SELECT external_id_enc, credentials_enc, c1_client_secret_enc FROM clusters WHERE id = $1',
      [cluster.id],
    );
    const raw = JSON.stringify(rows[0]);
    for (const secret of [
      SECRETS.externalId,
      SECRETS.credentials.static.accessKeyId,
      SECRETS.credentials.static.secretAccessKey,
      SECRETS.c1ClientSecret,
    ]) {
      expect(raw).not.toContain(secret);
    }
    expect(rows[0]!.external_id_enc).toMatch(/^v1\./);
    const creds = await getClusterCredentials(database, cluster.id);
    expect(creds).toMatchObject({
      externalId: SECRETS.externalId,
      credentials: SECRETS.credentials,
      c1ClientSecret: SECRETS.c1ClientSecret,
    });
  });

  it('refuses a second cluster with the same name, region and account, but not after a delete', async () => {
    const first = await createCluster(database, input({ name: 'dup', region: 'us-east-1' }));
    await expect(createCluster(database, input({ name: 'dup', region: 'us-east-1' }))).rejects.toBeInstanceOf(
      ConflictError,
    );
    await createCluster(database, input({ name: 'dup', region: 'us-east-2' }));
    await createCluster(
      database,
      input({ name: 'dup', region: 'us-east-1', roleArn: 'arn:aws:iam::210987654321:role/c' }),
    );
    await deleteCluster(database, first.id);
    await expect(createCluster(database, input({ name: 'dup', region: 'us-east-1' }))).resolves.toMatchObject(
      { name: 'dup' },
    );
  });

  it('treats an unknown account as one account for uniqueness', async () => {
    const noAccount = input({ name: 'no-account', roleArn: null, hostingMode: 'default-chain' });
    const created = await createCluster(database, noAccount);
    expect(created.accountId).toBeNull();
    await expect(createCluster(database, noAccount)).rejects.toBeInstanceOf(ConflictError);
  });

  it('rejects an account id that is not 12 digits', async () => {
    await expect(createCluster(database, input({ accountId: '12345' }))).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it('stores a valid provisioning policy and refuses one that does not validate, changing nothing', async () => {
    const policy = {
      allow: [
        {
          entitlement: 'cluster_role:cluster-admin:*',
          principal: 'arn:aws:iam::111122223333:role/BreakGlass',
        },
      ],
      deny: ['access_policy:*'],
    };
    const cluster = await createCluster(database, input({ provisioningPolicy: policy }));
    expect(await getCluster(database, cluster.id)).toMatchObject({ provisioningPolicy: policy });
    const bad = { allow: ['clusterrole:cluster-admin:*'] };
    await expect(updateCluster(database, cluster.id, { provisioningPolicy: bad })).rejects.toThrow(
      /provisioningPolicy\.allow\.0: "clusterrole:cluster-admin:\*" is not an entitlement id pattern/,
    );
    await expect(
      createCluster(database, input({ name: 'other', provisioningPolicy: bad })),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(await getCluster(database, cluster.id)).toMatchObject({ provisioningPolicy: policy });
    // The column itself only ever holds an object, whoever writes it.
    await expect(
      database.pool.query(`UPDATE clusters SET provisioning_policy = '[]' WHERE id = $1`, [cluster.id]),
    ).rejects.toThrow(/clusters_provisioning_policy_check/);
  });

  it('patches fields, re-seals a new secret and clears one set to null', async () => {
    const cluster = await createCluster(database, input());
    const updated = await updateCluster(database, cluster.id, {
      enabled: false,
      labels: { team: 'a' },
      externalId: 'rotated-ext-id',
      c1ClientSecret: null,
    });
    expect(updated).toMatchObject({
      enabled: false,
      labels: { team: 'a' },
      hasExternalId: true,
      hasC1ClientSecret: false,
      hasCredentials: true,
    });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(cluster.updatedAt.getTime());
    const creds = await getClusterCredentials(database, cluster.id);
    expect(creds.externalId).toBe('rotated-ext-id');
    expect(creds.c1ClientSecret).toBeUndefined();
  });

  it('records the identity found by DescribeCluster', async () => {
    const cluster = await createCluster(database, input({ roleArn: null, hostingMode: 'default-chain' }));
    const arn = `arn:aws:eks:eu-west-1:111122223333:cluster/${cluster.name}`;
    expect(await setClusterIdentity(database, cluster.id, { arn, accountId: '111122223333' })).toMatchObject({
      arn,
      accountId: '111122223333',
    });
  });

  it('soft-deletes: the cluster disappears from reads and its secrets are wiped', async () => {
    const cluster = await createCluster(database, input());
    await deleteCluster(database, cluster.id);
    await expect(getCluster(database, cluster.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(updateCluster(database, cluster.id, { enabled: true })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(deleteCluster(database, cluster.id)).rejects.toBeInstanceOf(NotFoundError);
    const { rows } = await database.pool.query(
      'SELECT deleted_at, external_id_enc, credentials_enc FROM clusters WHERE id = $1',
      [cluster.id],
    );
    expect(rows[0]).toMatchObject({ external_id_enc: null, credentials_enc: null });
    expect(rows[0].deleted_at).toBeInstanceOf(Date);
    const all = await listClusters(database, {}, { limit: 1000 });
    expect(all.items.map((c) => c.id)).not.toContain(cluster.id);
  });

  it('answers a malformed id with NotFoundError, not a database error', async () => {
    await expect(getCluster(database, 'not-a-uuid')).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteCluster(database, "x'; drop table clusters; --")).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('filters by enabled and labels, and pages in registration order', async () => {
    const tag = Math.random().toString(36).slice(2);
    const made = [];
    for (let i = 0; i < 7; i++) {
      made.push(
        await createCluster(
          database,
          input({ labels: { batch: tag, parity: i % 2 ? 'odd' : 'even' }, enabled: i !== 3 }),
        ),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listClusters(
        database,
        { labels: { batch: tag } },
        { limit: 3, ...(cursor ? { cursor } : {}) },
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((c) => c.id));
    const odd = await listClusters(database, { labels: { batch: tag, parity: 'odd' }, enabled: true });
    expect(odd.items.map((c) => c.id)).toEqual([made[1]!.id, made[5]!.id]);
    await expect(listClusters(database, {}, { cursor: 'bogus!' })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(listClusters(database, {}, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('writes a redacted audit event in the same transaction when asked', async () => {
    const audit = { actor: 'api-key:test', requestId: 'req-1' };
    const cluster = await createCluster(database, input(), { audit });
    await updateCluster(database, cluster.id, { externalId: 'new-ext-id-123' }, { audit });
    await deleteCluster(database, cluster.id, { audit });
    const events = await listAudit(database, { clusterId: cluster.id });
    expect(events.items.map((e) => e.action)).toEqual(['cluster.delete', 'cluster.update', 'cluster.create']);
    expect(events.items[1]).toMatchObject({
      actor: 'api-key:test',
      requestId: 'req-1',
      details: { rotated: ['externalId'] },
    });
    const json = JSON.stringify(events.items);
    expect(json).not.toContain('new-ext-id-123');
    expect(json).not.toContain(SECRETS.externalId);
  });
});
