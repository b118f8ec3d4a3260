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

export { TEMPLATE_VARIABLES, findTemplateVariables, hasSessionTemplate, compileTemplate } from './identity/template.js';
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

export { ASSUME_ACTIONS, parseTrustPolicy, trustPrincipalRef, trustAllowConditions } from './identity/trust-policy.js';
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
export type { AccessStepKind, AccessStep, EffectiveAccess, EffectiveAccessInput } from './effective-access.js';
