// The sync worker's configuration: one zod schema over the environment, parsed once in main.ts.
import { awsEndpointEnv, healthEnv, parseConfig, workerEnv } from '@eks-access/runtime';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

/** Where /healthz, /readyz and /metrics are served unless HEALTH_PORT says otherwise. */
export const HEALTH_PORT = 9464;

/** Every variable the sync worker reads (the README's configuration reference is generated from it). */
export const configSchema = z.object({
  ...workerEnv,
  ...awsEndpointEnv,
  ...healthEnv(HEALTH_PORT),
  SYNC_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('Clusters this process syncs at once'),
  ACCESS_ENTRY_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .describe('Access entries of one cluster described at once (DescribeAccessEntry and its policies)'),
  SYNC_MAX_PER_ACCOUNT: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(4)
    .describe(
      "Syncs of one AWS account running at once across all sync workers; a job over the cap is deferred (no attempt spent) so other accounts' clusters take the worker",
    ),
  SYNC_DEFER_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(5_000)
    .describe(
      'First delay of a sync deferred because its account is at SYNC_MAX_PER_ACCOUNT; doubled on each further deferral, up to a minute',
    ),
  BACKPRESSURE_PG_WAITING_MAX: z.coerce
    .number()
    .int()
    .min(0)
    .default(4)
    .describe(
      'Queries waiting for a Postgres pool connection above which this process stops taking new syncs (it takes them again at half)',
    ),
  BACKPRESSURE_REDIS_LATENCY_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(500)
    .describe(
      'Redis PING round trip above which this process stops taking new syncs (it takes them again at half)',
    ),
  BACKPRESSURE_CHECK_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(1_000)
    .describe('How often Postgres pool waiting and Redis latency are sampled for backpressure'),
  SNAPSHOT_RETENTION: z.coerce
    .number()
    .int()
    .min(1)
    .default(5)
    .describe(
      'Finished sync runs kept per cluster, for clusters without their own snapshotRetention; older ones are pruned after each sync, with the snapshot rows no kept run shares',
    ),
  RECONCILE_EVERY_MS: z.coerce
    .number()
    .int()
    .min(200)
    .default(60_000)
    .describe(
      'How often sync runs are checked against their jobs and lost ones queued again (jobs/reconcile-runs.ts)',
    ),
  AWS_MAX_CALLS_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'Known AWS API limit: all workers together send at most this many calls per second per account, region and service. Unset: the shared limiter finds the rate from throttling answers (50/s at first, up to 200/s)',
    ),
  KUBE_MAX_CALLS_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'Known Kubernetes API server limit: all workers together send at most this many calls per second to one cluster. Unset: found from throttling answers (up to 400/s)',
    ),
});

const schema = configSchema;

export type WorkerConfig = z.infer<typeof schema>;

/** Parses the environment, or throws one ConfigError (from @eks-access/runtime) naming every variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  // The AWS SDK warns about Node 20 from every client; one warning per process is enough noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(schema, env);
}
