export { startSim } from './sim.js';
export type { RunningSim, StartSimOptions, SimClusterInfo, SimCredentialInfo, ReadyLine, SimControl } from './sim.js';
export { World, normalizePath, defaultAccessEntryUsername } from './world/world.js';
export type * from './world/types.js';
export { AUTHENTICATION_MODES, ACCESS_ENTRY_TYPES, clusterKey } from './world/types.js';
export { KubeStore, KubeStoreError, KUBE_RESOURCES } from './kube/store.js';
export type { KubeObject, KubeResource } from './kube/store.js';
export { Faults, faultRuleSchema } from './faults.js';
export type { FaultRule } from './faults.js';
