// The sync worker's configuration: one zod schema over the environment, parsed once in main.ts.
import { parseConfig } from '@eks-access/runtime';
import { hostname } from 'node:os';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

const url = (protocol: RegExp, hint: string) =>
  z.string({ error: `is required (${hint.replace('must be ', '')})` }).regex(protocol, hint);

const schema = z.object({
  DATABASE_URL: url(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  REDIS_URL: url(/^rediss?:\/\//, 'must be a redis:// URL').default('redis://127.0.0.1:6379'),
  ENCRYPTION_KEY: z
    .string({ error: 'is required: the same key the API uses' })
    .min(40, 'must be 32 bytes, base64-encoded'),
  /** Clusters synced at once by this process. */
  SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  ACCESS_ENTRY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),
  SNAPSHOT_RETENTION: z.coerce.number().int().min(1).default(5),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(25_000),
  /** How often runs are checked against their jobs (see jobs/reconcile-runs.ts). */
  RECONCILE_EVERY_MS: z.coerce.number().int().min(1000).default(60_000),
  /** A crashed worker's job goes to another worker after its lock lapses and a stall check runs. */
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  STALLED_CHECK_MS: z.coerce.number().int().min(500).default(30_000),
  /** Key prefix of the queues in Redis; processes that work together must share it. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]{1,50}$/, 'letters, digits, _ and -')
    .default('eks-access'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WORKER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Custom AWS endpoints (the simulator, VPC endpoints); per service when they differ. */
  AWS_ENDPOINT_URL: z.url().optional(),
  AWS_ENDPOINT_URL_STS: z.url().optional(),
  AWS_ENDPOINT_URL_IAM: z.url().optional(),
  AWS_ENDPOINT_URL_EKS: z.url().optional(),
});

export type WorkerConfig = z.infer<typeof schema>;

/** Parses the environment, or throws one ConfigError (from @eks-access/runtime) naming every variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  // The AWS SDK warns about Node 20 from every client; one warning per process is enough noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(schema, env);
}
