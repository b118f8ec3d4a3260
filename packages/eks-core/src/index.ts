export {
  RESOURCE_TYPE_IDS,
  RESOURCE_TYPES,
  LISTED_RESOURCE_TYPE_IDS,
  GRANTABLE_TO,
  CONFIGMAP_VERBS,
  entitlementId,
  grantId,
  parseEntitlementId,
  formatEntitlementId,
  parseGrantId,
  isNamespaceName,
  clusterRoleEntitlementId,
  namespaceRoleEntitlementId,
  accessPolicyEntitlementId,
  roleAssignmentEntitlementId,
  groupMemberEntitlementId,
  grantAnnotationsFor,
  createGrant,
} from './model.js';
export type {
  ResourceTrait,
  ResourceTypeId,
  ResourceType,
  ResourceRef,
  Annotation,
  AnnotationType,
  ResourceAnnotation,
  GrantAnnotation,
  Resource,
  Entitlement,
  IdentitySource,
  BindingRef,
  BindingSubject,
  GrantSource,
  GrantCondition,
  Grant,
  ConfigMapVerb,
  EntitlementScope,
  ParsedEntitlementId,
  ParseResult,
  ParsedGrantId,
  CreateGrantInput,
} from './model.js';

export {
  parseArn,
  isAccountId,
  parseIamPrincipalArn,
  principalTypeOf,
  isIamPrincipalArn,
  roleArn,
  stripRolePath,
  roleArnFromAssumedRole,
  isAccountRoot,
  accountIdOf,
  isSsoRole,
  ssoPermissionSetName,
  createRoleArnIndex,
  principalMatchKey,
} from './identity/arn.js';
export type { Arn, IamPrincipalKind, IamPrincipalArn, RoleArnIndex } from './identity/arn.js';

export {
  TEMPLATE_VARIABLES,
  findTemplateVariables,
  hasSessionTemplate,
  compileTemplate,
} from './identity/template.js';
export type { TemplateVariable, CompiledTemplate } from './identity/template.js';

export { AWS_AUTH_KEYS, parseAwsAuth } from './identity/aws-auth.js';
export type {
  AwsAuthKey,
  SsoRoleMatcher,
  AwsAuthRoleMapping,
  AwsAuthUserMapping,
  AwsAuthAccountMapping,
  AwsAuthMapping,
  AwsAuthProblem,
  AwsAuthParseResult,
} from './identity/aws-auth.js';

export {
  AUTHENTICATION_MODES,
  AUTHENTICATED_GROUP,
  isAwsAuthEffective,
  areAccessEntriesEffective,
  defaultAccessEntryUsername,
  buildIdentityMap,
} from './identity/identity-map.js';
export type {
  AuthenticationMode,
  AccessEntryInput,
  IdentityMapInput,
  ArnResolution,
  MappedIdentity,
  IdentityMatch,
  IgnoredIdentitySource,
  IdentityProblem,
  IdentityMap,
} from './identity/identity-map.js';

export {
  ASSUME_ACTIONS,
  parseTrustPolicy,
  trustPrincipalRef,
  trustAllowConditions,
} from './identity/trust-policy.js';
export type {
  AssumeAction,
  TrustPrincipal,
  TrustCondition,
  TrustAllow,
  TrustDeny,
  TrustProblem,
  TrustPolicyAnalysis,
} from './identity/trust-policy.js';

export { computeEffectiveAccess } from './effective-access.js';
export type {
  AccessStepKind,
  AccessStep,
  EffectiveAccess,
  EffectiveAccessInput,
} from './effective-access.js';

export {
  EksAccessError,
  ERROR_CODES,
  THROTTLE_CODES,
  isEksAccessError,
  classifyAwsError,
  classifyKubeError,
} from './errors.js';
export type { ErrorCode, ErrorContext } from './errors.js';

export { InProcessRateLimiter, DEFAULT_RATES, unlimited } from './limits/rate-limiter.js';
export type { RateLimiter, RateSettings, InProcessRateLimiterOptions } from './limits/rate-limiter.js';
export { CallStats, DEFAULT_RETRY, callWithPolicy, backoffMs } from './limits/call-policy.js';
export type { CallPolicy, RetryPolicy, OperationStats } from './limits/call-policy.js';
export { mapWithConcurrency } from './limits/concurrency.js';

export {
  CredentialCache,
  createCredentialProvider,
  credentialsKey,
  memoizeCredentials,
  validateCredentialsConfig,
} from './aws/credentials.js';
export type {
  AssumeRoleStep,
  BaseCredentials,
  CredentialsConfig,
  CredentialOptions,
} from './aws/credentials.js';
export { BATON_ENV, resolveBatonConfig } from './aws/baton-config.js';
export type { BatonEksConfig, HostingMode, ResolvedBatonConfig } from './aws/baton-config.js';
export { createAwsClients, iamRegionFor } from './aws/clients.js';
export type { AwsClients, AwsEndpoints } from './aws/clients.js';
export { EksTokenSource, mintEksToken, TOKEN_LIFETIME_MS, TOKEN_PREFIX } from './kube/eks-token.js';
export { KubeClient, LISTABLE } from './kube/client.js';
export type { KubeTarget, ListableResource, ListResult } from './kube/client.js';
export { ClusterSession, validateSessionOptions } from './session.js';
export type { ClusterDescription, ClusterRef, SessionOptions } from './session.js';

export { collectInventory } from './sync/collect.js';
export { ClusterWatch, WATCHED_KINDS } from './watch/cluster-watch.js';
export type {
  ClusterWatchOptions,
  ClusterWatchStats,
  MaterialisedSnapshot,
  WatchedKind,
} from './watch/cluster-watch.js';
export type { CollectOptions } from './sync/collect.js';
export type * from './sync/inventory.js';
export { buildSnapshot, MAPPERS } from './sync/snapshot.js';
export type { Snapshot, SnapshotCounts } from './sync/snapshot.js';
export { syncCluster } from './sync/sync-cluster.js';
export type { ClusterSync, SyncClusterOptions, SyncReport } from './sync/sync-cluster.js';
export { credentialsFromStoredSecrets } from './aws/stored-credentials.js';
export type { StoredClusterSecrets } from './aws/stored-credentials.js';

export { grantAccess } from './provision/grant-access.js';
export { revokeAccess } from './provision/revoke-access.js';
export type { AccessChange, ProvisionStep, ProvisionOutcome, ProvisionOptions } from './provision/types.js';
export { validateChange } from './provision/validate.js';
export type { ProvisionTarget, ProvisionPrincipal } from './provision/validate.js';
export {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MANAGED_PREFIX,
  principalHash,
  managedGroupFor,
  managedUsernameFor,
  isManagedName,
  bindingName,
} from './provision/names.js';
export { appendMapping, addGroupToMapping } from './provision/aws-auth-edit.js';

export { runDoctor, PROBE_PRINCIPAL_NAME } from './doctor/run-doctor.js';
export type { DoctorOptions } from './doctor/run-doctor.js';
export { overallStatus } from './doctor/types.js';
export type {
  CheckStatus,
  CheckGroup,
  DoctorCheck,
  DoctorFix,
  DoctorReport,
  DoctorStatus,
  FixKind,
} from './doctor/types.js';
export {
  SYNC_AWS,
  SYNC_KUBE,
  PROVISION_AWS,
  PROVISION_KUBE,
  SETUP_NAMES,
  appliesIn,
  policyStatements,
  rbacRules,
  syncReadRules,
  clusterRoleYaml,
  accessEntryCommands,
  awsAuthEntryYaml,
  awsAuthArn,
} from './doctor/requirements.js';
export type {
  AwsRequirement,
  KubeRequirement,
  ClusterCoordinates,
  RbacRule,
  Subject as RbacSubject,
} from './doctor/requirements.js';
export { setupCluster } from './setup/setup-cluster.js';
export type {
  SetupOptions,
  SetupResult,
  SetupStep,
  SetupStepStatus,
  SetupSystem,
} from './setup/setup-cluster.js';
