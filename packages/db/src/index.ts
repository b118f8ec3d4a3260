// Public API of @eks-access/db. Named exports only; nothing under src/ is imported from outside.
export {
  createDb,
  type CreateDbOptions,
  type Database,
  type Db,
  type DbExecutor,
  type Schema,
} from './client.js';
export { migrate, MIGRATIONS_FOLDER } from './migrate.js';
export {
  CHANGE_CHANNEL,
  listenForChanges,
  parseChange,
  type Change,
  type ChangeListener,
} from './changes.js';
export { createSecretBox, parseEncryptionKey, type SecretBox } from './secrets.js';
export { redact, isSecretKey } from './redact.js';
export {
  DbError,
  NotFoundError,
  ConflictError,
  InvalidInputError,
  InvalidCursorError,
  SyncRunStateError,
  EncryptionKeyError,
  DecryptionError,
  type DbErrorCode,
} from './errors.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from './cursor.js';
export {
  HOSTING_MODES,
  SYNC_TRIGGERS,
  SYNC_STATUSES,
  API_KEY_SCOPES,
  DOCTOR_RUN_STATUSES,
  type DoctorRunStatus,
  type HostingMode,
  type SyncTrigger,
  type SyncStatus,
  type ApiKeyScope,
  type SyncSchedule,
  type AnnotationRecord,
} from './schema.js';
export * as tables from './schema.js';
export type {
  ResourceInput,
  EntitlementInput,
  GrantInput,
  SnapshotSource,
  SyncReportInput,
  RowSource,
  SnapshotResource,
  SnapshotEntitlement,
  SnapshotGrant,
  ResourceRef,
} from './snapshot-types.js';
export {
  createCluster,
  getCluster,
  listClusters,
  updateCluster,
  deleteCluster,
  getClusterCredentials,
  setClusterIdentity,
  accountIdFromRoleArn,
  type Cluster,
  type ClusterCredentials,
  type ClusterSecrets,
  type AwsKeys,
  type CreateClusterInput,
  type UpdateClusterInput,
  type ListClustersFilters,
  type MutationOptions,
} from './queries/clusters.js';
export {
  enqueueSyncRun,
  enqueueSyncRunsForAll,
  startSyncRun,
  recordProgress,
  completeSyncRun,
  failSyncRun,
  getSyncRun,
  listSyncRuns,
  pruneSyncRuns,
  getSyncRunStats,
  type SyncRun,
  type SyncRunStats,
  type EnqueueResult,
  type CompleteSyncRunInput,
  type CompleteSyncRunResult,
} from './queries/sync-runs.js';
export {
  listResources,
  listEntitlements,
  listGrants,
  grantsForPrincipal,
  diffSnapshots,
  type SnapshotPage,
  type ResourceFilters,
  type EntitlementFilters,
  type GrantFilters,
  type PrincipalGrant,
  type SnapshotDiff,
} from './queries/snapshots.js';
export {
  createApiKey,
  verifyApiKey,
  revokeApiKey,
  listApiKeys,
  getApiKey,
  rotateApiKey,
  type ApiKey,
} from './queries/api-keys.js';
export {
  recordAudit,
  listAudit,
  type AuditEvent,
  type AuditEventInput,
  type AuditContext,
  type AuditFilters,
} from './queries/audit.js';
export {
  createProvisioningRequest,
  getProvisioningRequest,
  listProvisioningRequests,
  startProvisioningRequest,
  finishProvisioningRequest,
  dueExpiries,
  createExpiryRevoke,
  isFinished,
  listStaleProvisioningRequests,
} from './queries/provisioning.js';
export type {
  ProvisioningRequest,
  NewProvisioningRequest,
  ProvisioningFilters,
  ProvisioningOutcome,
} from './queries/provisioning.js';
export { PROVISIONING_ACTIONS, PROVISIONING_STATUSES, PROVISIONING_RESULTS } from './schema.js';
export type { ProvisioningAction, ProvisioningStatus, ProvisioningResult } from './schema.js';
export { findCurrentEntitlement, hasCurrentResource } from './queries/snapshots.js';
export {
  applySnapshotDelta,
  currentSnapshotInfo,
  diffSnapshotContent,
  diffTable,
  isEmptyDelta,
  loadTableContent,
  rowKey,
  tableContent,
  tableHash,
  type ApplySnapshotDeltaInput,
  type ApplySnapshotDeltaResult,
  type CurrentSnapshotInfo,
  type SnapshotContent,
  type SnapshotDelta,
  type TableContent,
  type TableDelta,
} from './queries/incremental.js';
export { SNAPSHOT_PARTS, type SnapshotPart } from './content-hash.js';
export {
  appendChangeEvents,
  changeSetOf,
  changeSetSize,
  findingsOf,
  listChangeEvents,
  parseEventCursor,
  FINDING_RULES,
  MAX_EVENT_PAGE,
  type ChangeEvent,
  type ChangeEventPage,
  type ChangeSet,
  type ListChangeEventsOptions,
} from './queries/events.js';
export {
  CHANGE_EVENT_KINDS,
  CHANGE_EVENT_SOURCES,
  type ChangeEventKind,
  type ChangeEventSource,
} from './schema.js';
export {
  createUpload,
  getUpload,
  findTaskUpload,
  startUpload,
  succeedUpload,
  failUpload,
  releaseUpload,
  listUploads,
  retryUpload,
  listStaleUploads,
  uploadRetryDelayMs,
  DEFAULT_UPLOAD_BACKOFF,
} from './queries/uploads.js';
export type {
  Upload,
  NewUpload,
  UploadBackoff,
  UploadFailure,
  UploadFilters,
  StartUploadResult,
} from './queries/uploads.js';
export { UPLOAD_STATUSES } from './schema.js';
export type { UploadStatus, UploadError, UploadC1zOptions } from './schema.js';
export { listStaleSyncRuns } from './queries/sync-runs.js';
export {
  enqueueDoctorRun,
  startDoctorRun,
  completeDoctorRun,
  failDoctorRun,
  latestDoctorRun,
  type DoctorRun,
} from './queries/doctor-runs.js';
