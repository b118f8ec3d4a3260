// The Postgres schema (drizzle pg-core). drizzle-kit generates the committed migrations in
// ../drizzle from this file; never edit those by hand.
//
// Choices that are not obvious from the columns:
// - Timestamps have millisecond precision (timestamptz(3)). A JavaScript Date holds milliseconds, so
//   a value read back and put into a keyset cursor compares equal to the stored one; with the
//   default microseconds a cursor would skip or repeat rows.
// - Snapshot ids (entitlement ids, grant ids, resource ids) use the "C" collation: keyset cursors
//   then follow byte order whatever locale the database was created with, comparisons are cheaper,
//   and an entitlement id prefix (`<type>:<resource id>:`) is a plain range on the primary key.
// - The snapshot tables have no foreign key to sync_runs. A foreign key checks every inserted row
//   with a trigger, which halved COPY throughput for a 700,000-row snapshot. Integrity holds without
//   it: snapshot rows are written only by completeSyncRun while it holds the run's row lock, and a
//   statement-level trigger (migration 0001, hand-written) deletes a run's rows when the run is
//   deleted, including through the cascade from clusters. That is ON DELETE CASCADE at the cost of
//   one statement per delete instead of one check per inserted row.
// - Status and kind columns are text with CHECK constraints rather than Postgres enums, so adding a
//   value is a one-line migration instead of an ALTER TYPE.
// - Snapshot rows are shared between runs whose content is equal (see queries/sync-runs.ts): a run
//   names, per table, the run whose rows hold its content (`resources_run_id` and so on), which is
//   itself when it wrote them. The rows keep the id of the run that wrote them even after that run
//   is pruned, as long as a later run still names it; the delete trigger (migrations 0001, 0008)
//   removes rows only when no run names them any more.
import {
  SYNC_TRIGGERS,
  type GrantAnnotation,
  type GrantCondition,
  type GrantSource,
  type ProvisioningPolicy,
  type ResourceAnnotation,
  type SyncTrigger,
} from '@eks-access/model';
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';

/** Text compared byte by byte (see the note at the top of the file). */
const idText = customType<{ data: string }>({
  dataType() {
    return 'text COLLATE "C"';
  },
});

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

export const HOSTING_MODES = ['self-hosted', 'cloud-hosted', 'default-chain'] as const;
export type HostingMode = (typeof HOSTING_MODES)[number];

// The trigger list is the model's (the queue validates job payloads with the same one).
export { SYNC_TRIGGERS, type SyncTrigger };

export const SYNC_STATUSES = ['queued', 'running', 'succeeded', 'partial', 'failed'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

export const API_KEY_SCOPES = ['read', 'sync', 'provision', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** How often a cluster is synced: a fixed interval or a cron expression. */
export type SyncSchedule = { every_ms: number } | { cron: string };

function inList(values: readonly string[]) {
  return sql.raw(values.map((v) => `'${v}'`).join(', '));
}

export const clusters = pgTable(
  'clusters',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    region: text('region').notNull(),
    /** Null until known: taken from the role ARN at registration, or from the first DescribeCluster. */
    accountId: text('account_id'),
    arn: text('arn'),
    roleArn: text('role_arn'),
    hostingMode: text('hosting_mode', { enum: HOSTING_MODES }).notNull(),
    /** Sealed by the secret box; never plain text. */
    externalIdEnc: text('external_id_enc'),
    /** Sealed JSON of ClusterCredentials (static keys, global keys, binding role and its ExternalId). */
    credentialsEnc: text('credentials_enc'),
    c1ClientId: text('c1_client_id'),
    c1ClientSecretEnc: text('c1_client_secret_enc'),
    schedule: jsonb('schedule').$type<SyncSchedule>(),
    provisioningEnabled: boolean('provisioning_enabled').notNull().default(false),
    /** `{ allow?, deny? }`, validated by @eks-access/model before it is written; the provisioner re-checks it. */
    provisioningPolicy: jsonb('provisioning_policy').$type<ProvisioningPolicy>().notNull().default({}),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    enabled: boolean('enabled').notNull().default(true),
    /** Finished runs kept by pruning; null means the deployment's default (SNAPSHOT_RETENTION). */
    snapshotRetention: integer('snapshot_retention'),
    currentSyncRunId: uuid('current_sync_run_id').references((): AnyPgColumn => syncRuns.id, {
      onDelete: 'set null',
    }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [
    // A deleted cluster frees its identity for a new registration; an unknown account counts as ''.
    uniqueIndex('clusters_identity_key')
      .on(t.name, t.region, sql`coalesce(${t.accountId}, '')`)
      .where(sql`${t.deletedAt} IS NULL`),
    index('clusters_created_at_id_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.deletedAt} IS NULL`),
    check('clusters_account_id_check', sql`${t.accountId} ~ '^[0-9]{12}$'`),
    check('clusters_hosting_mode_check', sql`${t.hostingMode} IN (${inList(HOSTING_MODES)})`),
    // The rules are validated in code (glob syntax, known fields); the column at least holds an object.
    check('clusters_provisioning_policy_check', sql`jsonb_typeof(${t.provisioningPolicy}) = 'object'`),
    check('clusters_snapshot_retention_check', sql`${t.snapshotRetention} >= 1`),
  ],
);

export const syncRuns = pgTable(
  'sync_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clusterId: uuid('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    trigger: text('trigger', { enum: SYNC_TRIGGERS }).notNull(),
    status: text('status', { enum: SYNC_STATUSES }).notNull().default('queued'),
    /** Incremented by every start, so a retry after a crash is told apart from the first try. */
    attempt: integer('attempt').notNull().default(0),
    worker: text('worker'),
    progress: jsonb('progress').$type<Record<string, unknown>>(),
    counts: jsonb('counts').$type<Record<string, unknown>>(),
    apiCalls: jsonb('api_calls').$type<Record<string, unknown>>(),
    sources: jsonb('sources').$type<Record<string, unknown>>(),
    sourceDurationsMs: jsonb('source_durations_ms').$type<Record<string, number>>(),
    warnings: jsonb('warnings').$type<string[]>(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    totalApiCalls: integer('total_api_calls'),
    queuedAt: ts('queued_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    /**
     * Hex SHA-256 of the snapshot's content, whatever order its rows came in: two runs with the same
     * hash hold the same snapshot. Null for a run without a snapshot, and for snapshots written
     * before migration 0008.
     */
    contentHash: text('content_hash'),
    // Per table, the hash of its rows and the run whose rows hold them (this run when it wrote
    // them, an earlier run when they were equal to that run's). Null for a run without a snapshot.
    resourcesHash: text('resources_hash'),
    entitlementsHash: text('entitlements_hash'),
    grantsHash: text('grants_hash'),
    resourcesRunId: uuid('resources_run_id'),
    entitlementsRunId: uuid('entitlements_run_id'),
    grantsRunId: uuid('grants_run_id'),
  },
  (t) => [
    // One pending or running sync per cluster: enqueueing again conflicts here and returns that run.
    uniqueIndex('sync_runs_one_active_per_cluster')
      .on(t.clusterId)
      .where(sql`${t.status} IN ('queued', 'running')`),
    index('sync_runs_cluster_queued_at_idx').on(t.clusterId, t.queuedAt, t.id),
    // /metrics reads the runs that finished within its window.
    index('sync_runs_finished_at_idx').on(t.finishedAt),
    // The delete trigger asks whether any run still names a run's rows.
    index('sync_runs_resources_run_id_idx').on(t.resourcesRunId),
    index('sync_runs_entitlements_run_id_idx').on(t.entitlementsRunId),
    index('sync_runs_grants_run_id_idx').on(t.grantsRunId),
    check('sync_runs_trigger_check', sql`${t.trigger} IN (${inList(SYNC_TRIGGERS)})`),
    check('sync_runs_status_check', sql`${t.status} IN (${inList(SYNC_STATUSES)})`),
  ],
);

/** queued → running → succeeded (the doctor ran; its report says what passed) | failed (it could not run). */
export const DOCTOR_RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type DoctorRunStatus = (typeof DOCTOR_RUN_STATUSES)[number];

/**
 * `eks-access doctor` runs for a registered cluster, with its stored credentials, requested through
 * the API and carried out by a sync worker. `report` is eks-core's DoctorReport as JSON (checks,
 * fixes); `result` is its overall status (pass, warn, fail), copied out so lists need not parse it.
 */
export const clusterDoctorRuns = pgTable(
  'cluster_doctor_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clusterId: uuid('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    status: text('status', { enum: DOCTOR_RUN_STATUSES }).notNull().default('queued'),
    provisioning: boolean('provisioning').notNull().default(false),
    result: text('result', { enum: ['pass', 'warn', 'fail'] }),
    report: jsonb('report').$type<Record<string, unknown>>(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    worker: text('worker'),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    // One pending or running doctor run per cluster: asking again returns it.
    uniqueIndex('cluster_doctor_runs_one_active_per_cluster')
      .on(t.clusterId)
      .where(sql`${t.status} IN ('queued', 'running')`),
    index('cluster_doctor_runs_cluster_requested_at_idx').on(t.clusterId, t.requestedAt),
    check('cluster_doctor_runs_status_check', sql`${t.status} IN (${inList(DOCTOR_RUN_STATUSES)})`),
    check('cluster_doctor_runs_result_check', sql`${t.result} IN ('pass', 'warn', 'fail')`),
  ],
);

export const snapshotResources = pgTable(
  'snapshot_resources',
  {
    syncRunId: uuid('sync_run_id').notNull(),
    type: idText('type').notNull(),
    resourceId: idText('resource_id').notNull(),
    parentType: idText('parent_type'),
    parentId: idText('parent_id'),
    displayName: text('display_name').notNull(),
    profile: jsonb('profile').$type<Record<string, unknown>>().notNull(),
    annotations: jsonb('annotations').$type<ResourceAnnotation[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.syncRunId, t.type, t.resourceId] })],
);

export const snapshotEntitlements = pgTable(
  'snapshot_entitlements',
  {
    syncRunId: uuid('sync_run_id').notNull(),
    entitlementId: idText('entitlement_id').notNull(),
    resourceType: idText('resource_type').notNull(),
    resourceId: idText('resource_id').notNull(),
    slug: text('slug').notNull(),
    displayName: text('display_name').notNull(),
    description: text('description').notNull(),
    purpose: text('purpose', { enum: ['assignment', 'permission'] }).notNull(),
    grantableTo: text('grantable_to').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.syncRunId, t.entitlementId] })],
);

export const snapshotGrants = pgTable(
  'snapshot_grants',
  {
    syncRunId: uuid('sync_run_id').notNull(),
    grantId: idText('grant_id').notNull(),
    entitlementId: idText('entitlement_id').notNull(),
    resourceType: idText('resource_type').notNull(),
    resourceId: idText('resource_id').notNull(),
    principalType: idText('principal_type').notNull(),
    principalId: idText('principal_id').notNull(),
    annotations: jsonb('annotations').$type<GrantAnnotation[]>().notNull(),
    sources: jsonb('sources').$type<GrantSource[]>(),
    conditions: jsonb('conditions').$type<GrantCondition[]>(),
  },
  (t) => [
    primaryKey({ columns: [t.syncRunId, t.grantId] }),
    // grant_id is the last column so a filtered listing pages through the index in cursor order.
    index('snapshot_grants_principal_idx').on(t.syncRunId, t.principalId, t.grantId),
    index('snapshot_grants_entitlement_idx').on(t.syncRunId, t.entitlementId, t.grantId),
    // Who holds anything on one resource (`type` and `resourceId` filters of the grants listing).
    index('snapshot_grants_resource_idx').on(t.syncRunId, t.resourceType, t.resourceId, t.grantId),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /** The first characters of the key (`eak_` and 8 random ones): shown in listings, used to look the key up. */
    prefix: text('prefix').notNull(),
    /**
     * sha256 hex of the whole key. The key is 32 random bytes, so there is nothing to brute-force and
     * a slow password hash (bcrypt, scrypt) would only add latency to every request.
     */
    hash: text('hash').notNull(),
    scopes: text('scopes').array().$type<ApiKeyScope[]>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
    /** After this instant the key is refused, as if revoked; null for a key that does not expire. */
    expiresAt: ts('expires_at'),
    /** The key this one replaced when it was rotated. */
    rotatedFrom: uuid('rotated_from'),
  },
  (t) => [index('api_keys_prefix_idx').on(t.prefix), uniqueIndex('api_keys_hash_key').on(t.hash)],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    /** `api-key:<id>`, `system` or `worker:<host>`. */
    actor: text('actor').notNull(),
    /** `<domain>.<verb>`, e.g. `cluster.create`, `sync.enqueue`. */
    action: text('action').notNull(),
    // No foreign key: audit events outlive what they describe, including hard-deleted clusters.
    clusterId: uuid('cluster_id'),
    target: text('target'),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
    details: jsonb('details'),
  },
  (t) => [
    index('audit_events_cluster_id_idx').on(t.clusterId, t.id),
    index('audit_events_action_idx').on(t.action, t.id),
  ],
);

export const PROVISIONING_ACTIONS = ['grant', 'revoke'] as const;
export type ProvisioningAction = (typeof PROVISIONING_ACTIONS)[number];
/** pending → running → succeeded | failed; refused when policy or validation turns it down. */
export const PROVISIONING_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'refused'] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];
export const PROVISIONING_RESULTS = [
  'granted',
  'already-granted',
  'revoked',
  'already-revoked',
  'planned',
] as const;
export type ProvisioningResult = (typeof PROVISIONING_RESULTS)[number];

export const provisioningRequests = pgTable(
  'provisioning_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clusterId: uuid('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    action: text('action', { enum: PROVISIONING_ACTIONS }).notNull(),
    entitlementId: text('entitlement_id').notNull(),
    principalType: text('principal_type', { enum: ['iam_user', 'role'] }).notNull(),
    principalArn: text('principal_arn').notNull(),
    reason: text('reason'),
    /** A time-bound grant: its revoke is scheduled for this instant, and the reconciler enforces it. */
    expiresAt: ts('expires_at'),
    /**
     * A time-bound grant given as a duration (C1 grant tasks carry one): `expires_at` is set to the
     * moment the grant is carried out plus this, so queueing time does not eat into it.
     */
    durationMs: bigint('duration_ms', { mode: 'number' }),
    dryRun: boolean('dry_run').notNull().default(false),
    /** With `requested_by`, makes a retried request return the first one. */
    idempotencyKey: text('idempotency_key'),
    requestedBy: text('requested_by').notNull(),
    status: text('status', { enum: PROVISIONING_STATUSES }).notNull().default('pending'),
    result: text('result', { enum: PROVISIONING_RESULTS }),
    /** The exact AWS and Kubernetes calls: planned for a dry run, done otherwise, with before/after. */
    plan: jsonb('plan').$type<unknown[]>(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    attempt: integer('attempt').notNull().default(0),
    worker: text('worker'),
    /** For the revoke that ends a time-bound grant: the grant request it ends. */
    parentRequestId: uuid('parent_request_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    uniqueIndex('provisioning_requests_idempotency_key')
      .on(t.requestedBy, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
    // A time-bound grant is ended by exactly one revoke, however often the reconciler runs.
    uniqueIndex('provisioning_requests_one_expiry_revoke')
      .on(t.parentRequestId)
      .where(sql`${t.parentRequestId} IS NOT NULL`),
    index('provisioning_requests_cluster_created_idx').on(t.clusterId, t.createdAt, t.id),
    index('provisioning_requests_principal_idx').on(t.principalArn, t.createdAt),
    index('provisioning_requests_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.expiresAt} IS NOT NULL AND ${t.status} = 'succeeded'`),
    check('provisioning_requests_action_check', sql`${t.action} IN (${inList(PROVISIONING_ACTIONS)})`),
    check('provisioning_requests_status_check', sql`${t.status} IN (${inList(PROVISIONING_STATUSES)})`),
    check(
      'provisioning_requests_duration_check',
      sql`${t.durationMs} IS NULL OR (${t.durationMs} > 0 AND ${t.action} = 'grant')`,
    ),
  ],
);

/** An annotation as loose JSON: its discriminating `type` plus whatever fields that type has. */
export interface AnnotationRecord {
  type: string;
  [field: string]: unknown;
}

/**
 * pending → uploading → succeeded; a retryable failure goes back to pending with `next_attempt_at`,
 * a non-retryable one ends `failed`, and the last allowed attempt ends `dead` (the dead letters,
 * listed by the API and retried from there).
 */
export const UPLOAD_STATUSES = ['pending', 'uploading', 'succeeded', 'failed', 'dead'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/**
 * What the C1 full-sync task asked the file to hold (its SyncFullTask options), kept with the
 * upload so every attempt and every retry writes the same file. Structurally the c1 package's
 * C1SyncOptions.
 */
export interface UploadC1zOptions {
  /** A partial sync of just these resources. */
  targetedResources?: { type: string; id: string }[];
  /** Only these resource types. */
  resourceTypeIds?: string[];
  skipEntitlementsAndGrants?: boolean;
  skipGrants?: boolean;
  /** Expand grants in the file (C1 did not ask to expand them itself). */
  expandGrants?: boolean;
}

/** What went wrong on the last failed attempt of an upload. */
export interface UploadError {
  code: string;
  message: string;
  retryable: boolean;
  /** The wait C1 asked for (rate-limit details), when it asked. */
  retryAfterMs?: number;
}

// The c1z uploads of sync runs to ConductorOne, one per (C1 task, sync run). sync_run_id has no
// foreign key on purpose: pruning old runs must not erase the record (or the dead letter) of
// their uploads; an upload whose snapshot was pruned fails with that reason instead.
export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clusterId: uuid('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    syncRunId: uuid('sync_run_id').notNull(),
    /** The C1 full-sync task the file answers; C1 takes an upload only for a running task. */
    c1TaskId: text('c1_task_id'),
    status: text('status', { enum: UPLOAD_STATUSES }).notNull().default('pending'),
    /** Incremented by every start: the fencing token that keeps a stale worker from finishing it. */
    attempt: integer('attempt').notNull().default(0),
    /** Attempts allowed before the upload is dead; a retry from the API grants more. */
    maxAttempts: integer('max_attempts').notNull(),
    /** A pending upload is not started before this instant (backoff, or the wait C1 asked for). */
    nextAttemptAt: ts('next_attempt_at'),
    lastError: jsonb('last_error').$type<UploadError>(),
    worker: text('worker'),
    bytes: bigint('bytes', { mode: 'number' }),
    /** Hex SHA-256 of the uploaded c1z. */
    sha256: text('sha256'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    /** The task's sync options; null for a plain full sync. */
    c1zOptions: jsonb('c1z_options').$type<UploadC1zOptions>(),
  },
  (t) => [
    // One snapshot is uploaded at most once per task, however often the task or the job is delivered.
    unique('uploads_task_run_key').on(t.c1TaskId, t.syncRunId).nullsNotDistinct(),
    index('uploads_created_at_id_idx').on(t.createdAt, t.id),
    index('uploads_cluster_created_at_idx').on(t.clusterId, t.createdAt, t.id),
    index('uploads_status_idx').on(t.status, t.createdAt),
    check('uploads_status_check', sql`${t.status} IN (${inList(UPLOAD_STATUSES)})`),
  ],
);

/** What a change event records (see queries/events.ts). */
export const CHANGE_EVENT_KINDS = ['grant', 'revoke', 'resource_change', 'finding'] as const;
export type ChangeEventKind = (typeof CHANGE_EVENT_KINDS)[number];
/** Who found the change: the watcher (incremental) or a full sync (a difference to the snapshot before). */
export const CHANGE_EVENT_SOURCES = ['watch', 'sync'] as const;
export type ChangeEventSource = (typeof CHANGE_EVENT_SOURCES)[number];

/**
 * The append-only log of access changes, in commit order: `id` is the cursor. Appends take a
 * transaction-scoped advisory lock before taking ids, so ids are handed out in the order their
 * transactions commit and a reader that has seen id N never later finds a smaller id committed.
 * No foreign keys: the log outlives the runs that pruning deletes and the clusters that are removed.
 */
export const changeEvents = pgTable(
  'change_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    clusterId: uuid('cluster_id').notNull(),
    syncRunId: uuid('sync_run_id').notNull(),
    kind: text('kind', { enum: CHANGE_EVENT_KINDS }).notNull(),
    source: text('source', { enum: CHANGE_EVENT_SOURCES }).notNull(),
    /** A full sync that found what the incremental snapshot had missed. */
    drift: boolean('drift').notNull().default(false),
    /** The principal's resource (`iam_role`, arn…), for grant, revoke and finding events. */
    principalType: text('principal_type'),
    principalId: idText('principal_id'),
    resourceType: text('resource_type'),
    resourceId: idText('resource_id'),
    entitlementId: idText('entitlement_id'),
    grantId: idText('grant_id'),
    /** For findings: which rule fired (`system-masters-member`, `cluster-admin-binding`…). */
    finding: text('finding'),
    /** The rows involved: `{ grant }`, `{ before, after }` for a resource… */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
    occurredAt: ts('occurred_at').notNull().defaultNow(),
  },
  (t) => [
    index('change_events_cluster_id_idx').on(t.clusterId, t.id),
    index('change_events_principal_id_idx').on(t.principalId, t.id),
    index('change_events_occurred_at_idx').on(t.occurredAt),
    check('change_events_kind_check', sql`${t.kind} IN (${inList(CHANGE_EVENT_KINDS)})`),
    check('change_events_source_check', sql`${t.source} IN (${inList(CHANGE_EVENT_SOURCES)})`),
  ],
);
