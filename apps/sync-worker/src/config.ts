// The sync worker's configuration: one zod schema over the environment, parsed once in main.ts.
import { awsEndpointEnv, healthEnv, parseConfig, workerEnv } from '@eks-access/runtime';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

/** Where /healthz, /readyz and /metrics are served unless HEALTH_PORT says otherwise. */
export const HEALTH_PORT = 9464;

const schema = z.object({
  ...workerEnv,
  ...awsEndpointEnv,
  ...healthEnv(HEALTH_PORT),
  /** Clusters synced at once by this process. */
  SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  ACCESS_ENTRY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),
  SNAPSHOT_RETENTION: z.coerce.number().int().min(1).default(5),
  /** How often runs are checked against their jobs (see jobs/reconcile-runs.ts). */
  RECONCILE_EVERY_MS: z.coerce.number().int().min(200).default(60_000),
  /**
   * Known API limits: all workers together never send more than this many calls in one second
   * per AWS account, region and service (AWS) or per cluster (Kubernetes). Unset: the shared
   * limiter finds the rate from throttling answers (50/s at first, up to 200/s AWS, 400/s Kubernetes).
   */
  AWS_MAX_CALLS_PER_SECOND: z.coerce.number().int().min(1).optional(),
  KUBE_MAX_CALLS_PER_SECOND: z.coerce.number().int().min(1).optional(),
});

export type WorkerConfig = z.infer<typeof schema>;

/** Parses the environment, or throws one ConfigError (from @eks-access/runtime) naming every variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  // The AWS SDK warns about Node 20 from every client; one warning per process is enough noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(schema, env);
}
