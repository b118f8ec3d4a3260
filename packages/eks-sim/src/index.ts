export { startSim } from './sim.js';
export type {
  RunningSim,
  StartSimOptions,
  SimClusterInfo,
  SimCredentialInfo,
  ReadyLine,
  SimControl,
} from './sim.js';
export { World, normalizePath, defaultAccessEntryUsername } from './world/world.js';
export type * from './world/types.js';
export { AUTHENTICATION_MODES, ACCESS_ENTRY_TYPES, clusterKey } from './world/types.js';
export { KubeStore, KubeStoreError, KUBE_RESOURCES } from './kube/store.js';
export type { KubeObject, KubeResource } from './kube/store.js';
export { Faults, faultRuleSchema } from './faults.js';
export type { FaultRule, FaultScope, RateSnapshot, RateStats } from './faults.js';
export { allowConnectorPods, DEMO_PODS } from './world/connector-pods.js';
export {
  mintServiceAccountToken,
  verifyServiceAccountToken,
  IRSA_AUDIENCE,
  POD_IDENTITY_AUDIENCE,
} from './oidc/service-account-token.js';
export type { MintedToken, MintOptions } from './oidc/service-account-token.js';
export {
  allowConnectorProvisioning,
  createDemoWorld,
  createDemoDocument,
  connectorSyncPolicy,
  connectorProvisionPolicy,
  CONNECTOR_SYNC_POLICY,
  CONNECTOR_PROVISION_POLICY,
  DEMO,
} from './world/demo.js';
export { createDoctorDocument, createDoctorWorld, DOCTOR } from './world/doctor.js';
export { evaluateIdentityPolicies, decideForCaller } from './aws/identity-policy.js';
export type { IdentityDecision, IdentityRequest } from './aws/identity-policy.js';
export {
  generateWorld,
  generateInto,
  GENERATE_DEFAULTS,
  GENERATOR_CONNECTOR_KEY,
  GENERATED_BASELINE,
} from './world/generate.js';
export type { GenerateOptions } from './world/generate.js';
export {
  buildWorld,
  loadWorldFile,
  readWorldDocument,
  parseWorldDocument,
  worldFactory,
  WorldFileError,
} from './world/load.js';
export type { WorldProblem } from './world/load.js';
export type { WorldDocument, WorldDocumentInput } from './world/schema.js';
export { createSimAdminClient, SimAdminError } from './admin-client.js';
export type {
  SimAdminClient,
  ClusterSelector,
  AccessEntryInput,
  IamRoleInput,
  KubeManifestInput,
  OidcProviderInput,
  PodIdentityAssociationInput,
  TokenRequestInput,
} from './admin-client.js';
export type {
  AccessEntryJson,
  RoleJson,
  CounterSnapshot,
  ServiceAccountTokenJson,
  OidcProviderJson,
  PodIdentityAssociationJson,
} from './admin.js';
export { mintEksToken } from './kube/token.js';
export {
  createFleetWorld,
  fleetAccounts,
  fleetClusters,
  fleetFaults,
  parseFleetFlag,
} from './world/fleet.js';
export type { FleetCluster, FleetSize, FleetSpec } from './world/fleet.js';
export { fleetSpecSchema, FLEET_REGIONS } from './world/schema.js';
