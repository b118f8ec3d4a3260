// The API's configuration: one zod schema over the environment, parsed once in main.ts. Every
// problem is reported at once, naming the variable to set.
import { connectionEnv, parseConfig } from '@eks-access/runtime';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  ...connectionEnv,
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** A key accepted with every scope, for local runs (docker compose); never set it in production. */
  BOOTSTRAP_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  /** The longest any request is handled; past it the client gets 503 UNAVAILABLE with Retry-After. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How long opening a Postgres connection or one Redis call may take before the request gets a 503. */
  DEPENDENCY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  TRUST_PROXY: booleanString.default(false),
  SNAPSHOT_RETENTION: z.coerce.number().int().min(1).default(5),
});

export type ApiConfig = z.infer<typeof schema>;

/** Parses the environment into the API config, or throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseConfig(schema, env);
}
