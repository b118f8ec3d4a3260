// The local stand-in for ConductorOne's service-mode endpoints (tests and docker compose).
export { startStandInC1 } from './stand-in.js';
export type { StandInC1, StandInCredentials, StandInOptions } from './stand-in.js';
export type { BatonMethod, Fault, TaskRecord, TaskSpec, UploadRecord } from './baton-service.js';
