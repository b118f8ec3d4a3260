// The API's configuration: one zod schema over the environment, parsed once in main.ts. Every
// problem is reported at once, naming the variable to set.
import { connectionEnv, parseConfig } from '@eks-access/runtime';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every variable the API reads (the README's configuration reference is generated from it). */
export const configSchema = z.object({
  ...connectionEnv,
  HOST: z.string().default('127.0.0.1').describe('Address the API listens on (0.0.0.0 in a container)'),
  PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8080)
    .describe('Port of the API, including `/healthz`, `/readyz`, `/metrics` and `/docs`'),
  BOOTSTRAP_API_KEY: z
    .string()
    .min(24, 'must be at least 24 characters')
    .optional()
    .describe('A key accepted with every scope, for local runs (docker compose); never set it in production'),
  REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30_000)
    .describe('The longest any request is handled; past it the client gets 503 UNAVAILABLE with Retry-After'),
  DEPENDENCY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(5_000)
    .describe(
      'How long opening a Postgres connection or one Redis call may take before the request gets a 503',
    ),
  QUEUE_BACKLOG_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe(
      'Jobs ready and not yet taken on a queue (delayed ones not counted) at which requests that queue more work get 503 UNAVAILABLE with Retry-After: 30, instead of the backlog growing without limit',
    ),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('After SIGTERM, how long requests in flight may finish'),
  TRUST_PROXY: booleanString
    .default(false)
    .describe('`true` behind a load balancer: client addresses come from X-Forwarded-For'),
  READ_CACHE_MB: z.coerce
    .number()
    .int()
    .min(0)
    .max(4096)
    .default(0)
    .describe(
      'Memory for answers kept until Postgres announces their cluster changed (snapshot listings, principal access) and for verified API keys (at most a minute). 0, the default, reads every answer from Postgres when asked; with a cache an answer can trail a just-finished sync by the announcement delay',
    ),
  SNAPSHOT_RETENTION: z.coerce
    .number()
    .int()
    .min(1)
    .default(5)
    .describe(
      'Not used by the API (the sync worker prunes snapshots; see its SNAPSHOT_RETENTION); accepted so one ConfigMap serves every process',
    ),
});

const schema = configSchema;

export type ApiConfig = z.infer<typeof schema>;

/** Parses the environment into the API config, or throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseConfig(schema, env);
}
