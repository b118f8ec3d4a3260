// Public API of @eks-access/worker-kit.
export {
  createBackpressure,
  hasRecovered,
  overLimits,
  pingLatencyMs,
  type Backpressure,
  type BackpressureLimits,
  type BackpressureOptions,
  type PressureSample,
} from './backpressure.js';
export {
  readiness,
  startHealthServer,
  type CheckResult,
  type HealthServer,
  type HealthServerOptions,
  type ReadinessCheck,
} from './health-server.js';
export { createJobMetrics } from './job-metrics.js';
export {
  startWorkerProcess,
  type WorkerKitConfig,
  type WorkerProcess,
  type WorkerProcessOptions,
} from './worker-process.js';
