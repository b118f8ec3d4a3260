// The provisioner's configuration: one zod schema over the environment, parsed once in main.ts.
import { awsEndpointEnv, healthEnv, parseConfig, workerEnv } from '@eks-access/runtime';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

/** Where /healthz, /readyz and /metrics are served unless HEALTH_PORT says otherwise. */
export const HEALTH_PORT = 9465;

/** Every variable the provisioner reads (the README's configuration reference is generated from it). */
export const configSchema = z.object({
  ...workerEnv,
  ...awsEndpointEnv,
  ...healthEnv(HEALTH_PORT),
  PROVISION_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('Grant and revoke requests this process carries out at once'),
  RECONCILE_EVERY_MS: z.coerce
    .number()
    .int()
    .min(200)
    .default(30_000)
    .describe(
      'How often expired time-bound grants are looked for (the safety net behind scheduled revokes) and requests whose job was lost are queued again',
    ),
});

const schema = configSchema;

export type ProvisionerConfig = z.infer<typeof schema>;

/** Parses the environment, or throws one ConfigError (from @eks-access/runtime) naming every variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProvisionerConfig {
  // The AWS SDK warns about Node 20 from every client; one warning per process is enough noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(schema, env);
}
