// @eks-access/model: the vocabulary every part of the product shares, with no dependencies.
export {
  RESOURCE_TYPE_IDS,
  RESOURCE_TYPES,
  LISTED_RESOURCE_TYPE_IDS,
  GRANTABLE_TO,
  grantAnnotationsFor,
  createGrant,
} from './snapshot.js';
export type {
  ResourceTrait,
  ResourceTypeId,
  ResourceType,
  ResourceRef,
  ExternalResourceMatchIdAnnotation,
  GrantExpandableAnnotation,
  ChildResourceTypeAnnotation,
  ExternalIdAnnotation,
  SkipEntitlementsAndGrantsAnnotation,
  GrantImmutableAnnotation,
  ResourceAnnotation,
  GrantAnnotation,
  Annotation,
  AnnotationType,
  Resource,
  Entitlement,
  IdentitySource,
  BindingRef,
  BindingSubject,
  GrantSource,
  GrantCondition,
  Grant,
  CreateGrantInput,
} from './snapshot.js';

export {
  CONFIGMAP_VERBS,
  PRINCIPAL_TYPES,
  PROVISIONABLE_TYPES,
  entitlementId,
  grantId,
  parseEntitlementId,
  formatEntitlementId,
  parseGrantId,
  isNamespaceName,
  isProvisionable,
  namespacedResourceId,
  parseNamespacedResourceId,
  clusterRoleEntitlementId,
  namespaceRoleEntitlementId,
  accessPolicyEntitlementId,
  roleAssignmentEntitlementId,
  groupMemberEntitlementId,
} from './ids.js';
export type {
  ConfigMapVerb,
  EntitlementScope,
  ParsedEntitlementId,
  ParseResult,
  ParsedGrantId,
  ProvisionableType,
  ProvisionableEntitlement,
} from './ids.js';

export { parseArn, isAccountId, parseIamPrincipalArn, principalTypeOf, isIamPrincipalArn } from './arn.js';
export type { Arn, IamPrincipalKind, IamPrincipalArn } from './arn.js';

export {
  BUILTIN_DENY,
  REFUSAL_CODES,
  decideProvisioning,
  validateProvisioningPolicy,
  isProvisioningPolicy,
  globMatches,
  ruleMatches,
} from './policy.js';
export type {
  PolicyRule,
  ProvisioningPolicy,
  RefusalCode,
  ClusterProvisioning,
  ProvisioningSubject,
  PolicyDecision,
  PolicyIssue,
} from './policy.js';

export { SYNC_TRIGGERS, isSyncTrigger } from './sync-triggers.js';
export type { SyncTrigger } from './sync-triggers.js';

export { DEFAULT_RATES, defaultSettingsFor } from './rate-limits.js';
export type { RateSettings } from './rate-limits.js';

export { BATON_FIELDS, BATON_C1_FIELDS, type BatonField } from './baton-fields.js';
