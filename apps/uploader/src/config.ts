// The uploader's configuration: one zod schema over the environment, parsed once in main.ts.
import { readFileSync } from 'node:fs';
import { healthEnv, parseConfig, workerEnv } from '@eks-access/runtime';
import { JOBS } from '@eks-access/queue';
import { z } from 'zod';

export { ConfigError } from '@eks-access/runtime';

// "false" must mean false: z.coerce.boolean() would read any non-empty string as true.
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

const upload = JOBS['upload.snapshot'];

const hostPort = z.string().regex(/^([\w.-]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/, 'must be host or host:port');

/** The PEM in `path`, or an error message naming what is wrong with it. */
function readCaFile(path: string): { pem: string } | { error: string } {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      error: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): set it to a PEM file of CA certificates`,
    };
  }
  return pem.includes('-----BEGIN CERTIFICATE-----')
    ? { pem }
    : { error: 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)' };
}

/** Where /healthz, /readyz and /metrics are served unless HEALTH_PORT says otherwise. */
export const HEALTH_PORT = 9466;

/** Every variable the uploader reads (the README's configuration reference is generated from it). */
export const configSchema = z
  .object({
    ...workerEnv,
    ...healthEnv(HEALTH_PORT),
    C1_API_HOST: hostPort
      .optional()
      .describe(
        "`host:port` of C1's gRPC API (and token endpoint) instead of the tenant host in each client id",
      ),
    BATON_C1_API_HOST: hostPort
      .optional()
      .describe(
        "baton-sdk's name for C1_API_HOST, so a baton connector's settings carry over; C1_API_HOST wins",
      ),
    BATON_HOST_ID: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe("The host id sent to C1 on every call, as baton-sdk's BATON_HOST_ID; WORKER_ID when unset"),
    C1_CA_FILE: z
      .string()
      .min(1)
      .optional()
      .describe(
        "A PEM file of CA certificates trusted for C1's endpoints beside Node's bundled roots (a TLS-inspecting proxy, a private C1 endpoint); grpc-js ignores NODE_EXTRA_CA_CERTS",
      ),
    C1_TOKEN_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .optional()
      .describe(
        'The token endpoint, when it is not `https://<C1_API_HOST or tenant host>/auth/v1/token` (the local stand-in)',
      ),
    C1_TLS: flag(true).meta({
      description: '`false` only for the local stand-in C1 (plaintext gRPC and token endpoint)',
      docDefault: '`true`',
    }),
    UPLOAD_MAX_ATTEMPTS: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(upload.attempts)
      .describe('Attempts of one upload before it is dead (then retried from the API)'),
    UPLOAD_BACKOFF_MS: z.coerce
      .number()
      .int()
      .min(10)
      .default(upload.backoff.delayMs)
      .describe(
        'Delay after the first failed upload attempt; it doubles with each further one (with jitter)',
      ),
    UPLOAD_MAX_BACKOFF_MS: z.coerce
      .number()
      .int()
      .min(10)
      .default(10 * 60_000)
      .describe('The longest delay between two upload attempts'),
    UPLOAD_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(32)
      .default(2)
      .describe('Uploads this process runs at once'),
    C1_TENANT_RATE_PER_SECOND: z.coerce
      .number()
      .positive()
      .max(1000)
      .default(2)
      .describe(
        'Uploads per second to one C1 tenant, shared by every uploader process (it slows down when C1 throttles)',
      ),
    CLUSTER_SCAN_MS: z.coerce
      .number()
      .int()
      .min(100)
      .default(30_000)
      .describe('How often the registered clusters are read to start and stop their C1 service loops'),
    LOOP_LOCK_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .default(30_000)
      .describe(
        "TTL of the per-cluster loop lock; a crashed uploader's clusters move to another after about this long",
      ),
    TASK_POLL_MS: z.coerce
      .number()
      .int()
      .min(10)
      .default(1_000)
      .describe('How often a running C1 task checks its sync run, upload or provisioning request'),
    RECONCILE_EVERY_MS: z.coerce
      .number()
      .int()
      .min(200)
      .default(60_000)
      .describe(
        'How often uploads are checked against their jobs and lost ones queued again (jobs/reconcile-uploads.ts)',
      ),
    WORK_DIR: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Where c1z files are written before upload; unset: `<os temp dir>/eks-access-uploader` (the image sets /var/lib/eks-access/uploads)',
      ),
  })
  .superRefine((c, ctx) => {
    if (c.C1_TOKEN_URL?.startsWith('http:') && c.C1_TLS) {
      ctx.addIssue({
        code: 'custom',
        path: ['C1_TLS'],
        message:
          'must be false when C1_TOKEN_URL is a plain http:// URL (set C1_TLS=false, local stand-in only)',
      });
    }
    if (c.UPLOAD_MAX_BACKOFF_MS < c.UPLOAD_BACKOFF_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['UPLOAD_MAX_BACKOFF_MS'],
        message: 'must be at least UPLOAD_BACKOFF_MS',
      });
    }
  })
  .transform((c, ctx) => {
    const ca = c.C1_CA_FILE === undefined ? undefined : readCaFile(c.C1_CA_FILE);
    if (ca && 'error' in ca) {
      ctx.addIssue({ code: 'custom', path: ['C1_CA_FILE'], message: ca.error });
      return z.NEVER;
    }
    return {
      ...c,
      C1_API_HOST: c.C1_API_HOST ?? c.BATON_C1_API_HOST,
      /** The host id C1 sees. */
      C1_HOST_ID: c.BATON_HOST_ID ?? c.WORKER_ID,
      /** The contents of C1_CA_FILE. */
      C1_CA_PEM: ca?.pem,
    };
  });

export type UploaderConfig = z.infer<typeof configSchema>;

/** Parses the environment, or throws one ConfigError (from @eks-access/runtime) naming every variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): UploaderConfig {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return parseConfig(configSchema, env);
}
