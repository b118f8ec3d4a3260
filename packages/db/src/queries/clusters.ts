// Registered clusters. The secret columns (ExternalId, AWS keys, C1 client secret) are sealed with
// the secret box before they reach Postgres, and no function here except getClusterCredentials
// ever selects them: what the API returns cannot contain a secret because it never read one.
import { randomUUID } from 'node:crypto';
import { validateProvisioningPolicy, type ProvisioningPolicy } from '@eks-access/model';
import { and, asc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Database, DbExecutor } from '../client.js';
import { decodeCursor, isIsoTimestamp, pageSize, toPage, type Page } from '../cursor.js';
import { ConflictError, InvalidInputError, NotFoundError, isUniqueViolation } from '../errors.js';
import { clusters, type HostingMode, type SyncSchedule } from '../schema.js';
import { assertUuid, isRecord, isUuid } from '../validate.js';
import { recordAudit, type AuditContext } from './audit.js';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The AWS secrets of a cluster, sealed as one JSON value. */
export interface ClusterCredentials {
  /** Self-hosted: the connector's own access key (BATON_EKS_ACCESS_KEY / BATON_EKS_SECRET_ACCESS_KEY). */
  static?: AwsKeys;
  /** Cloud-hosted: the global keys of the binding account (BATON_GLOBAL_ACCESS_KEY_ID / ...SECRET_ACCESS_KEY). */
  global?: AwsKeys;
  /** Cloud-hosted: the intermediate binding role assumed first, and its ExternalId. */
  bindingRole?: { roleArn: string; externalId?: string };
}

/** A cluster as the API may show it: no secrets, only whether each one is set. */
export interface Cluster {
  id: string;
  name: string;
  region: string;
  accountId: string | null;
  arn: string | null;
  roleArn: string | null;
  hostingMode: HostingMode;
  c1ClientId: string | null;
  schedule: SyncSchedule | null;
  provisioningEnabled: boolean;
  provisioningPolicy: ProvisioningPolicy;
  labels: Record<string, string>;
  enabled: boolean;
  /** Finished sync runs kept per cluster; null means the deployment's default (SNAPSHOT_RETENTION). */
  snapshotRetention: number | null;
  currentSyncRunId: string | null;
  createdAt: Date;
  updatedAt: Date;
  hasExternalId: boolean;
  hasCredentials: boolean;
  hasC1ClientSecret: boolean;
}

export interface CreateClusterInput {
  name: string;
  region: string;
  /** 12 digits; taken from roleArn when omitted. */
  accountId?: string | null;
  arn?: string | null;
  roleArn?: string | null;
  hostingMode: HostingMode;
  externalId?: string | null;
  credentials?: ClusterCredentials | null;
  c1ClientId?: string | null;
  c1ClientSecret?: string | null;
  schedule?: SyncSchedule | null;
  provisioningEnabled?: boolean;
  /** Validated here too (InvalidInputError): a policy that does not validate would refuse every grant. */
  provisioningPolicy?: ProvisioningPolicy;
  labels?: Record<string, string>;
  enabled?: boolean;
  /** A positive integer; null (or absent) leaves it to the deployment's default. */
  snapshotRetention?: number | null;
}

/** Fields to change; `null` clears a nullable field (including a secret), absent leaves it. */
export type UpdateClusterInput = Partial<CreateClusterInput>;

/** Decrypted secrets and what a worker needs to build AWS credentials. */
export interface ClusterSecrets {
  clusterId: string;
  name: string;
  region: string;
  accountId: string | null;
  hostingMode: HostingMode;
  roleArn: string | null;
  externalId?: string;
  credentials?: ClusterCredentials;
  c1ClientId: string | null;
  c1ClientSecret?: string;
}

export interface MutationOptions {
  /** When given, an audit event is written in the same transaction as the change. */
  audit?: AuditContext;
}

const publicColumns = {
  id: clusters.id,
  name: clusters.name,
  region: clusters.region,
  accountId: clusters.accountId,
  arn: clusters.arn,
  roleArn: clusters.roleArn,
  hostingMode: clusters.hostingMode,
  c1ClientId: clusters.c1ClientId,
  schedule: clusters.schedule,
  provisioningEnabled: clusters.provisioningEnabled,
  provisioningPolicy: clusters.provisioningPolicy,
  labels: clusters.labels,
  enabled: clusters.enabled,
  snapshotRetention: clusters.snapshotRetention,
  currentSyncRunId: clusters.currentSyncRunId,
  createdAt: clusters.createdAt,
  updatedAt: clusters.updatedAt,
  hasExternalId: sql<boolean>`${clusters.externalIdEnc} IS NOT NULL`,
  hasCredentials: sql<boolean>`${clusters.credentialsEnc} IS NOT NULL`,
  hasC1ClientSecret: sql<boolean>`${clusters.c1ClientSecretEnc} IS NOT NULL`,
};

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN_ACCOUNT = /^arn:aws[a-z-]*:iam::(\d{12}):role\//;

/** The AWS account of an IAM role ARN, or undefined. */
export function accountIdFromRoleArn(roleArn: string): string | undefined {
  return ROLE_ARN_ACCOUNT.exec(roleArn)?.[1];
}

// Binding each ciphertext to its row and column means a sealed value copied elsewhere will not open.
const secretContext = (id: string, column: 'external_id' | 'credentials' | 'c1_client_secret') =>
  `clusters/${id}/${column}`;

function checkAccountId(accountId: string | null | undefined): void {
  if (accountId !== undefined && accountId !== null && !ACCOUNT_ID.test(accountId)) {
    throw new InvalidInputError(`accountId "${accountId}" is not a 12-digit AWS account id`);
  }
}

function checkSnapshotRetention(retention: number | null | undefined): void {
  if (retention !== undefined && retention !== null && !(Number.isInteger(retention) && retention >= 1))
    throw new InvalidInputError('snapshotRetention must be a positive integer (or null for the default)');
}

function checkProvisioningPolicy(policy: unknown): void {
  if (policy === undefined) return;
  const issues = validateProvisioningPolicy(policy);
  if (issues.length > 0) {
    throw new InvalidInputError(
      `provisioningPolicy: ${issues.map((i) => `${['provisioningPolicy', ...i.path].join('.')}: ${i.message}`).join('; ')}`,
    );
  }
}

function identityConflict(err: unknown, name: string | undefined, region: string | undefined): unknown {
  if (isUniqueViolation(err, 'clusters_identity_key')) {
    return new ConflictError(
      `a cluster named "${name ?? '?'}" in ${region ?? '?'} is already registered for this account`,
      { cause: err },
    );
  }
  return err;
}

function notDeleted(id: string): SQL {
  return and(eq(clusters.id, id), isNull(clusters.deletedAt))!;
}

/** Registers a cluster; secrets are sealed, and the returned row has none. */
export async function createCluster(
  database: Database,
  input: CreateClusterInput,
  options: MutationOptions = {},
): Promise<Cluster> {
  const accountId =
    input.accountId ?? (input.roleArn ? accountIdFromRoleArn(input.roleArn) : undefined) ?? null;
  checkAccountId(accountId);
  checkProvisioningPolicy(input.provisioningPolicy);
  checkSnapshotRetention(input.snapshotRetention);
  const id = randomUUID();
  const { secrets } = database;
  const values: typeof clusters.$inferInsert = {
    id,
    name: input.name,
    region: input.region,
    accountId,
    arn: input.arn ?? null,
    roleArn: input.roleArn ?? null,
    hostingMode: input.hostingMode,
    externalIdEnc: input.externalId ? secrets.seal(input.externalId, secretContext(id, 'external_id')) : null,
    credentialsEnc: input.credentials
      ? secrets.seal(input.credentials, secretContext(id, 'credentials'))
      : null,
    c1ClientId: input.c1ClientId ?? null,
    c1ClientSecretEnc: input.c1ClientSecret
      ? secrets.seal(input.c1ClientSecret, secretContext(id, 'c1_client_secret'))
      : null,
    schedule: input.schedule ?? null,
    provisioningEnabled: input.provisioningEnabled ?? false,
    provisioningPolicy: input.provisioningPolicy ?? {},
    labels: input.labels ?? {},
    enabled: input.enabled ?? true,
    snapshotRetention: input.snapshotRetention ?? null,
  };
  try {
    return await database.db.transaction(async (tx) => {
      const [row] = await tx.insert(clusters).values(values).returning(publicColumns);
      if (options.audit) await auditClusterChange(tx, options.audit, 'cluster.create', id, undefined, row);
      return row!;
    });
  } catch (err) {
    throw identityConflict(err, input.name, input.region);
  }
}

/** Returns a cluster without secrets, or throws NotFoundError (also for a deleted one). */
export async function getCluster(database: Database, id: string): Promise<Cluster> {
  const cluster = await findCluster(database.db, id);
  if (!cluster) throw new NotFoundError(`cluster ${id} not found`);
  return cluster;
}

async function findCluster(
  executor: DbExecutor,
  id: string,
  forUpdate = false,
): Promise<Cluster | undefined> {
  if (!isUuid(id)) return undefined;
  const query = executor.select(publicColumns).from(clusters).where(notDeleted(id));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export interface ListClustersFilters {
  enabled?: boolean;
  region?: string;
  accountId?: string;
  name?: string;
  /** Every key must be present with exactly this value. */
  labels?: Record<string, string>;
}

function isClusterCursor(value: unknown): value is { c: string; i: string } {
  return isRecord(value) && isIsoTimestamp(value.c) && isUuid(value.i);
}

/** Lists clusters in registration order with cursor pagination; deleted ones are left out. */
export async function listClusters(
  database: Database,
  filters: ListClustersFilters = {},
  page: { cursor?: string; limit?: number } = {},
): Promise<Page<Cluster>> {
  const limit = pageSize(page.limit);
  const where: SQL[] = [isNull(clusters.deletedAt)];
  if (filters.enabled !== undefined) where.push(eq(clusters.enabled, filters.enabled));
  if (filters.region !== undefined) where.push(eq(clusters.region, filters.region));
  if (filters.accountId !== undefined) where.push(eq(clusters.accountId, filters.accountId));
  if (filters.name !== undefined) where.push(eq(clusters.name, filters.name));
  if (filters.labels !== undefined && Object.keys(filters.labels).length > 0) {
    where.push(sql`${clusters.labels} @> ${JSON.stringify(filters.labels)}::jsonb`);
  }
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor, isClusterCursor);
    where.push(sql`(${clusters.createdAt}, ${clusters.id}) > (${after.c}::timestamptz, ${after.i}::uuid)`);
  }
  const rows = await database.db
    .select(publicColumns)
    .from(clusters)
    .where(and(...where))
    .orderBy(asc(clusters.createdAt), asc(clusters.id))
    .limit(limit + 1);
  return toPage(
    rows,
    limit,
    (r) => r,
    (r) => ({ c: r.createdAt.toISOString(), i: r.id }),
  );
}

/** Applies a patch; secrets given are re-sealed, `null` clears one. Returns the row without secrets. */
export async function updateCluster(
  database: Database,
  id: string,
  patch: UpdateClusterInput,
  options: MutationOptions = {},
): Promise<Cluster> {
  if (!isUuid(id)) throw new NotFoundError(`cluster ${id} not found`);
  checkAccountId(patch.accountId);
  checkProvisioningPolicy(patch.provisioningPolicy);
  checkSnapshotRetention(patch.snapshotRetention);
  const { secrets } = database;
  const set: PgUpdateSetSource<typeof clusters> = { updatedAt: sql`now()` };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.region !== undefined) set.region = patch.region;
  if (patch.accountId !== undefined) set.accountId = patch.accountId;
  if (patch.arn !== undefined) set.arn = patch.arn;
  if (patch.roleArn !== undefined) set.roleArn = patch.roleArn;
  if (patch.hostingMode !== undefined) set.hostingMode = patch.hostingMode;
  if (patch.c1ClientId !== undefined) set.c1ClientId = patch.c1ClientId;
  if (patch.schedule !== undefined) set.schedule = patch.schedule;
  if (patch.provisioningEnabled !== undefined) set.provisioningEnabled = patch.provisioningEnabled;
  if (patch.provisioningPolicy !== undefined) set.provisioningPolicy = patch.provisioningPolicy;
  if (patch.labels !== undefined) set.labels = patch.labels;
  if (patch.enabled !== undefined) set.enabled = patch.enabled;
  if (patch.snapshotRetention !== undefined) set.snapshotRetention = patch.snapshotRetention;
  if (patch.externalId !== undefined) {
    set.externalIdEnc = patch.externalId
      ? secrets.seal(patch.externalId, secretContext(id, 'external_id'))
      : null;
  }
  if (patch.credentials !== undefined) {
    set.credentialsEnc = patch.credentials
      ? secrets.seal(patch.credentials, secretContext(id, 'credentials'))
      : null;
  }
  if (patch.c1ClientSecret !== undefined) {
    set.c1ClientSecretEnc = patch.c1ClientSecret
      ? secrets.seal(patch.c1ClientSecret, secretContext(id, 'c1_client_secret'))
      : null;
  }
  try {
    return await database.db.transaction(async (tx) => {
      const before = options.audit ? await findCluster(tx, id, true) : undefined;
      const [row] = await tx.update(clusters).set(set).where(notDeleted(id)).returning(publicColumns);
      if (!row) throw new NotFoundError(`cluster ${id} not found`);
      if (options.audit) {
        // Which secrets changed is worth auditing; their values never are (and redact() would drop a key named like them).
        const rotated = (['externalId', 'credentials', 'c1ClientSecret'] as const).filter(
          (k) => patch[k] !== undefined,
        );
        await auditClusterChange(
          tx,
          options.audit,
          'cluster.update',
          id,
          before,
          row,
          rotated.length > 0 ? { rotated } : undefined,
        );
      }
      return row;
    });
  } catch (err) {
    throw identityConflict(err, patch.name, patch.region);
  }
}

/**
 * Soft-deletes a cluster: it disappears from every read, its name/region/account can be registered
 * again, its sync history stays for audit. Its secrets are wiped, since nothing may use them again.
 */
export async function deleteCluster(
  database: Database,
  id: string,
  options: MutationOptions = {},
): Promise<void> {
  if (!isUuid(id)) throw new NotFoundError(`cluster ${id} not found`);
  await database.db.transaction(async (tx) => {
    const before = options.audit ? await findCluster(tx, id, true) : undefined;
    const [row] = await tx
      .update(clusters)
      .set({
        deletedAt: sql`now()`,
        updatedAt: sql`now()`,
        externalIdEnc: null,
        credentialsEnc: null,
        c1ClientSecretEnc: null,
      })
      .where(notDeleted(id))
      .returning({ id: clusters.id });
    if (!row) throw new NotFoundError(`cluster ${id} not found`);
    if (options.audit) await auditClusterChange(tx, options.audit, 'cluster.delete', id, before, undefined);
  });
}

/** Decrypts a cluster's secrets. For workers only: the result must never be logged or returned by the API. */
export async function getClusterCredentials(database: Database, id: string): Promise<ClusterSecrets> {
  const [row] = isUuid(id) ? await database.db.select().from(clusters).where(notDeleted(id)) : [];
  if (!row) throw new NotFoundError(`cluster ${id} not found`);
  const { secrets } = database;
  const result: ClusterSecrets = {
    clusterId: row.id,
    name: row.name,
    region: row.region,
    accountId: row.accountId,
    hostingMode: row.hostingMode,
    roleArn: row.roleArn,
    c1ClientId: row.c1ClientId,
  };
  if (row.externalIdEnc)
    result.externalId = secrets.openString(row.externalIdEnc, secretContext(id, 'external_id'));
  if (row.credentialsEnc)
    result.credentials = secrets.open(
      row.credentialsEnc,
      secretContext(id, 'credentials'),
    ) as ClusterCredentials;
  if (row.c1ClientSecretEnc)
    result.c1ClientSecret = secrets.openString(row.c1ClientSecretEnc, secretContext(id, 'c1_client_secret'));
  return result;
}

/** Records what DescribeCluster said: the cluster ARN and its account (fills a still-unknown account). */
export async function setClusterIdentity(
  database: Database,
  id: string,
  identity: { arn: string; accountId: string },
): Promise<Cluster> {
  assertUuid(id, 'cluster id');
  checkAccountId(identity.accountId);
  try {
    const [row] = await database.db
      .update(clusters)
      .set({ arn: identity.arn, accountId: identity.accountId, updatedAt: sql`now()` })
      .where(notDeleted(id))
      .returning(publicColumns);
    if (!row) throw new NotFoundError(`cluster ${id} not found`);
    return row;
  } catch (err) {
    throw identityConflict(err, undefined, undefined);
  }
}

async function auditClusterChange(
  tx: DbExecutor,
  audit: AuditContext,
  action: string,
  clusterId: string,
  before: Cluster | undefined,
  after: Cluster | undefined,
  extra?: Record<string, unknown>,
): Promise<void> {
  await recordAudit(tx, {
    actor: audit.actor,
    action,
    clusterId,
    target: `cluster:${clusterId}`,
    before,
    after,
    ...(audit.requestId !== undefined ? { requestId: audit.requestId } : {}),
    ...(audit.details || extra ? { details: { ...audit.details, ...extra } } : {}),
  });
}
