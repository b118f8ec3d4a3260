// @eks-access/c1: ConductorOne integration. c1z v1 files (writer and reader) live in ./c1z; the
// service-mode client is exported alongside.
export * from './c1z/index.js';
export * from './service/index.js';
