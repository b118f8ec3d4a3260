// What every process of the product starts with, written once: the environment parsed by a zod
// schema into a config (one error naming every variable to fix), AWS endpoint overrides, and a main
// that exits 2 on bad configuration, 1 on a failed start, and shuts down once on SIGTERM/SIGINT.
// It takes the environment as an argument: only each app's config.ts hands it process.env.
import { hostname } from 'node:os';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `env` with `schema`, or throws one ConfigError listing every problem with its variable. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'} ${i.message}`),
    );
  return parsed.data;
}

export interface AwsEndpointSettings {
  AWS_ENDPOINT_URL?: string | undefined;
  AWS_ENDPOINT_URL_STS?: string | undefined;
  AWS_ENDPOINT_URL_IAM?: string | undefined;
  AWS_ENDPOINT_URL_EKS?: string | undefined;
}

/** Custom endpoints per AWS service (the simulator, VPC endpoints): the service's own, else the common one. */
export function awsEndpoints(config: AwsEndpointSettings): { sts?: string; iam?: string; eks?: string } {
  const out: { sts?: string; iam?: string; eks?: string } = {};
  const sts = config.AWS_ENDPOINT_URL_STS ?? config.AWS_ENDPOINT_URL;
  const iam = config.AWS_ENDPOINT_URL_IAM ?? config.AWS_ENDPOINT_URL;
  const eks = config.AWS_ENDPOINT_URL_EKS ?? config.AWS_ENDPOINT_URL;
  if (sts) out.sts = sts;
  if (iam) out.iam = iam;
  if (eks) out.eks = eks;
  return out;
}

export interface Process {
  once(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): never;
  stderr: { write(text: string): unknown };
}

/**
 * Runs a process's start function. It returns the stop function; the first SIGTERM or SIGINT calls
 * it once. A ConfigError exits 2 with its list of problems; any other failure to start exits 1.
 */
export function runMain(
  name: string,
  start: () => Promise<(signal: string) => Promise<void>>,
  proc: Process,
): void {
  start().then(
    (stop) => {
      let stopping = false;
      const onSignal = (signal: string) => {
        if (stopping) return;
        stopping = true;
        void stop(signal);
      };
      proc.once('SIGTERM', () => onSignal('SIGTERM'));
      proc.once('SIGINT', () => onSignal('SIGINT'));
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        proc.stderr.write(`${name}: ${err.message}\n`);
        proc.exit(2);
        return;
      }
      proc.stderr.write(`${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      proc.exit(1);
    },
  );
}

const url = (protocol: RegExp, hint: string) =>
  z.string({ error: `is required (${hint.replace('must be ', '')})` }).regex(protocol, hint);

/** The variables every process that uses Postgres and Redis reads, validated the same way everywhere. */
export const connectionEnv = {
  DATABASE_URL: url(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').describe(
    'Postgres connection URL, `postgres://user:password@host:5432/database`',
  ),
  REDIS_URL: url(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379')
    .describe('Redis connection URL (`rediss://` for TLS); its maxmemory-policy must be noeviction'),
  ENCRYPTION_KEY: z
    .string({
      error: 'is required: 32 random bytes, base64 (openssl rand -base64 32); the same key in every process',
    })
    .min(40, 'must be 32 bytes, base64-encoded')
    .describe(
      'Key that seals cluster secrets in Postgres: 32 random bytes, base64 (`openssl rand -base64 32`); the same in every process',
    ),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w-]{1,50}$/, 'letters, digits, _ and -')
    .default('eks-access')
    .describe(
      'Key prefix of the queues, locks and rate limits in Redis; processes that work together share it',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level: fatal, error, warn, info, debug, trace or silent'),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(25_000)
    .describe('After SIGTERM, how long running jobs may finish before they are handed back to the queue'),
};

/** What every queue worker adds: its id, and the job-lock timings that decide how fast a dead worker's job moves on. */
export const workerEnv = {
  ...connectionEnv,
  WORKER_ID: z.string().min(1).max(200).default(`${hostname()}-${process.pid}`).meta({
    description: 'Name of this process in logs, Redis client names and the runs and requests it worked on',
    docDefault: '`<hostname>-<pid>`',
  }),
  JOB_LOCK_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30_000)
    .describe(
      "Lifetime of a job's lock, renewed while it runs: a crashed worker's job moves to another after it lapses and a stall check runs",
    ),
  STALLED_CHECK_MS: z.coerce
    .number()
    .int()
    .min(500)
    .default(30_000)
    .describe('How often this worker looks for jobs whose lock lapsed (their worker died)'),
};

/**
 * Where a worker serves /healthz, /readyz and /metrics. Each worker has its own default port so
 * several can run on one host (sync worker 9464, provisioner 9465, uploader 9466).
 */
export function healthEnv(defaultPort: number) {
  return {
    HEALTH_HOST: z
      .string()
      .min(1)
      .default('0.0.0.0')
      .describe(
        'Address the health and metrics server listens on (0.0.0.0: reachable by probes and scrapers)',
      ),
    HEALTH_PORT: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(defaultPort)
      .describe('Port of `/healthz`, `/readyz` and `/metrics`; 0 picks a free one'),
  };
}

/** Custom AWS endpoints (the simulator, VPC endpoints); per service when they differ. See `awsEndpoints`. */
export const awsEndpointEnv = {
  AWS_ENDPOINT_URL: z
    .url()
    .optional()
    .describe('Endpoint for STS, IAM and EKS instead of AWS (the simulator, a proxy); unset: AWS itself'),
  AWS_ENDPOINT_URL_STS: z.url().optional().describe('STS endpoint, when it differs from AWS_ENDPOINT_URL'),
  AWS_ENDPOINT_URL_IAM: z.url().optional().describe('IAM endpoint, when it differs from AWS_ENDPOINT_URL'),
  AWS_ENDPOINT_URL_EKS: z.url().optional().describe('EKS endpoint, when it differs from AWS_ENDPOINT_URL'),
};

export { envReference, renderEnvReference, type EnvVariable } from './env-reference.js';
export {
  createJobHealthMetrics,
  type DeadLetteredJobEvent,
  type JanitorAction,
  type JobHealthMetrics,
  type StalledJobEvent,
} from './job-metrics.js';
