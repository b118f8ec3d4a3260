// The watcher's configuration: one zod schema over the environment, parsed once in main.ts.
import { awsEndpointEnv, healthEnv, parseConfig, workerEnv } from '@eks-access/runtime';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

/** Where /healthz, /readyz and /metrics are served unless HEALTH_PORT says otherwise. */
export const HEALTH_PORT = 9467;

/** Every variable the watcher reads (the README's configuration reference is generated from it). */
export const configSchema = z.object({
  ...workerEnv,
  ...awsEndpointEnv,
  ...healthEnv(HEALTH_PORT),
  WATCH_LEASE_MS: z.coerce
    .number()
    .int()
    .min(3_000)
    .default(15_000)
    .describe(
      "Lifetime of a replica's lease on a cluster, renewed every third of it: a dead replica's clusters are taken over by the others after this",
    ),
  WATCH_BALANCE_MS: z.coerce
    .number()
    .int()
    .min(500)
    .default(5_000)
    .describe(
      'How often a replica renews its leases, counts the live replicas and takes or gives up clusters to hold its fair share',
    ),
  WATCH_MAX_CLUSTERS: z.coerce
    .number()
    .int()
    .min(1)
    .default(1_000)
    .describe('Clusters this replica watches at most, whatever its fair share'),
  WATCH_DEBOUNCE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(100)
    .describe(
      'Changes of one cluster arriving within this window are applied to its snapshot together (one watch run)',
    ),
  WATCH_EKS_POLL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(15_000)
    .describe(
      "How often each watched cluster's EKS access entries and their associations are polled (AWS has no watch); the calls go through the rate limiter syncs share",
    ),
  WATCH_EKS_DESCRIBE_EVERY: z.coerce
    .number()
    .int()
    .min(1)
    .default(4)
    .describe('Known access entries are described again every this many polls (new ones at once)'),
  WATCH_IAM_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(10_000)
    .default(3_600_000)
    .describe(
      'How often IAM roles (trust policies) and access policies are read again for a watched cluster',
    ),
  WATCH_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(3_600)
    .default(300)
    .describe(
      'timeoutSeconds asked of the API server for each watch stream (±25% jitter); it is reopened from the last version seen',
    ),
  WATCH_RETRY_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe('How long a cluster whose first read failed waits before the watcher tries it again'),
  SNAPSHOT_RETENTION: z.coerce
    .number()
    .int()
    .min(1)
    .default(5)
    .describe(
      'Finished sync runs kept per cluster, for clusters without their own snapshotRetention (as the sync worker prunes; watch runs count)',
    ),
  AWS_MAX_CALLS_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'Known AWS API limit, shared with the sync workers: all processes together send at most this many calls per second per account, region and service. Unset: found from throttling answers',
    ),
  KUBE_MAX_CALLS_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'Known Kubernetes API server limit, shared with the sync workers: calls per second to one cluster. Unset: found from throttling answers',
    ),
});

export type Config = z.infer<typeof configSchema>;

/** Parses the environment; throws one ConfigError naming every variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // The AWS SDK warns about Node 20 from every client; one warning per process is enough noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(configSchema, env);
}
