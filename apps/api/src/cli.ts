// eks-access-api admin CLI (run with DATABASE_URL and ENCRYPTION_KEY set):
//   create-key --name NAME --scopes read,sync      prints a new API key once
//   list-keys | revoke-key --id ID | rotate-key --id ID   manage keys (as /v1/api-keys does)
//   migrate [--wait-ms N]                          applies migrations, waiting up to N ms for Postgres
//   register-cluster [--if-exists skip]            registers a cluster from a baton-eks env
//                                                  (BATON_EKS_CLUSTER_NAME, BATON_EKS_REGION, …),
//                                                  --allow / --deny for its provisioning policy
import { parseArgs } from 'node:util';
import { ConflictError, createApiKey, createCluster, createDb, listApiKeys, migrate, revokeApiKey, rotateApiKey, type ApiKey, type Database } from '@eks-access/db';
import { z } from 'zod';
import { clusterBody } from './routes/common.js';
import { toClusterInput } from './routes/clusters/mapping.js';

const USAGE = `Usage: eks-access-api <command>
  migrate [--wait-ms N]                  apply database migrations; with --wait-ms, wait up to N ms
                                         for Postgres to accept connections first (a container
                                         starting beside it), retrying every second
  create-key --name NAME --scopes S,... [--expires-at ISO]
                                         create an API key (scopes: read, sync, provision, admin);
                                         the key is printed this once
  list-keys [--all]                      list keys: id, name, prefix, scopes, last use, expiry
                                         (--all includes revoked and expired ones)
  revoke-key --id ID                     revoke a key; every API process refuses it from the next request
  rotate-key --id ID [--expires-at ISO]  replace a key with a new one (same name and scopes),
                                         printed this once; the old one stops working at once
  register-cluster [--label k=v]... [--allow PATTERN]... [--deny PATTERN]... [--if-exists fail|skip]
                                         register the cluster a baton-eks environment describes
                                         (--if-exists skip: one already registered under that name,
                                         region and account is left as it is, exit 0):
      BATON_EKS_CLUSTER_NAME, BATON_EKS_REGION, BATON_ROLE_ARN (or BATON_EKS_ASSUME_ROLE_ARN),
      BATON_EXTERNAL_ID, BATON_EKS_ACCESS_KEY + BATON_EKS_SECRET_ACCESS_KEY,
      BATON_GLOBAL_ACCESS_KEY_ID + BATON_GLOBAL_SECRET_ACCESS_KEY, BATON_GLOBAL_ROLE_ARN,
      BATON_GLOBAL_BINDING_EXTERNAL_ID, BATON_CLIENT_ID, BATON_CLIENT_SECRET, BATON_PROVISIONING;
      --allow / --deny add an entitlement id glob (* matches anything, e.g. cluster_role:cluster-admin:*)
      to the cluster's provisioningPolicy: allow lifts the built-in cluster-admin denies, deny always wins
      With no key variables the cluster stores no keys: workers reach it with their own AWS
      identity (on EKS: IRSA or Pod Identity, through the SDK's default chain), then the role.
Needs DATABASE_URL and ENCRYPTION_KEY.`;

/** A problem the person running the command can fix (arguments or environment): exit status 2. */
class UsageError extends Error {}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function usageOnBadArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    // Unknown or malformed options are the caller's to fix, not a crash.
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
}

/** The cluster body a baton-eks environment describes (the C1 docs' variable names), and what is wrong with it. */
export function clusterFromBatonEnv(
  labels: Record<string, string>,
  policy: { allow?: string[]; deny?: string[] } = {},
): { body: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  // A half-given key pair is a mistake, not "no key": dropping it would register a cluster that
  // silently falls back to another hosting mode.
  const keys = (idName: string, secretName: string) => {
    const id = env(idName);
    const secret = env(secretName);
    if (!id && !secret) return undefined;
    if (!id || !secret) {
      problems.push(`${id ? secretName : idName}: missing; ${idName} and ${secretName} are set together or not at all`);
      return undefined;
    }
    return { accessKeyId: id, secretAccessKey: secret };
  };
  const provisioning = env('BATON_PROVISIONING')?.toLowerCase();
  let provisioningEnabled: boolean | undefined;
  if (provisioning === 'true' || provisioning === '1') provisioningEnabled = true;
  else if (provisioning === 'false' || provisioning === '0') provisioningEnabled = false;
  else if (provisioning !== undefined) problems.push(`BATON_PROVISIONING: must be true or false, not "${provisioning}"`);
  const body = Object.fromEntries(
    Object.entries({
      name: env('BATON_EKS_CLUSTER_NAME'),
      region: env('BATON_EKS_REGION'),
      roleArn: env('BATON_ROLE_ARN') ?? env('BATON_EKS_ASSUME_ROLE_ARN'),
      externalId: env('BATON_EXTERNAL_ID'),
      accessKey: keys('BATON_EKS_ACCESS_KEY', 'BATON_EKS_SECRET_ACCESS_KEY'),
      globalKey: keys('BATON_GLOBAL_ACCESS_KEY_ID', 'BATON_GLOBAL_SECRET_ACCESS_KEY'),
      bindingRoleArn: env('BATON_GLOBAL_ROLE_ARN'),
      bindingExternalId: env('BATON_GLOBAL_BINDING_EXTERNAL_ID'),
      c1ClientId: env('BATON_CLIENT_ID'),
      c1ClientSecret: env('BATON_CLIENT_SECRET'),
      provisioningEnabled,
      provisioningPolicy: policy.allow?.length || policy.deny?.length ? policy : undefined,
      labels: Object.keys(labels).length > 0 ? labels : undefined,
    }).filter(([, v]) => v !== undefined),
  );
  // The API's cross-field rules, named by the variables that break them.
  if (body.accessKey && (body.globalKey || body.bindingRoleArn)) {
    problems.push(
      'BATON_EKS_ACCESS_KEY / BATON_EKS_SECRET_ACCESS_KEY (self-hosted) cannot be combined with BATON_GLOBAL_ACCESS_KEY_ID / BATON_GLOBAL_SECRET_ACCESS_KEY or BATON_GLOBAL_ROLE_ARN (cloud-hosted)',
    );
  }
  if (body.bindingExternalId && !body.bindingRoleArn) problems.push('BATON_GLOBAL_BINDING_EXTERNAL_ID: needs BATON_GLOBAL_ROLE_ARN');
  return { body, problems };
}

const BATON_NAMES: Record<string, string> = {
  name: 'BATON_EKS_CLUSTER_NAME',
  region: 'BATON_EKS_REGION',
  externalId: 'BATON_EXTERNAL_ID',
  accessKey: 'BATON_EKS_ACCESS_KEY / BATON_EKS_SECRET_ACCESS_KEY',
  globalKey: 'BATON_GLOBAL_ACCESS_KEY_ID / BATON_GLOBAL_SECRET_ACCESS_KEY',
  bindingRoleArn: 'BATON_GLOBAL_ROLE_ARN',
  bindingExternalId: 'BATON_GLOBAL_BINDING_EXTERNAL_ID',
  c1ClientId: 'BATON_CLIENT_ID',
  c1ClientSecret: 'BATON_CLIENT_SECRET',
  provisioningEnabled: 'BATON_PROVISIONING',
  labels: '--label',
};

function batonName(path: readonly PropertyKey[]): string {
  const field = String(path[0]);
  // Name the variable (or flag) the person actually set.
  if (field === 'roleArn') return env('BATON_ROLE_ARN') ? 'BATON_ROLE_ARN' : 'BATON_EKS_ASSUME_ROLE_ARN';
  if (field === 'provisioningPolicy') return `--${String(path[1])} ${typeof path[2] === 'number' ? `(#${path[2] + 1})` : ''}`.trim();
  return BATON_NAMES[field] ?? field;
}

function parseExpiry(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
    throw new UsageError(`--expires-at takes a future ISO 8601 time such as 2027-01-31T00:00:00Z, not "${value}"`);
  }
  return at;
}

function keyLine(key: ApiKey, plaintext?: string): string {
  const { id, name, prefix, scopes, createdAt, lastUsedAt, expiresAt, revokedAt } = key;
  return `${JSON.stringify({ id, name, prefix, scopes, createdAt, lastUsedAt, expiresAt, revokedAt, ...(plaintext ? { key: plaintext } : {}) })}\n`;
}

function parseLabels(given: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const label of given) {
    const at = label.indexOf('=');
    if (at <= 0) throw new UsageError(`--label takes key=value, not "${label}"`);
    labels[label.slice(0, at)] = label.slice(at + 1);
  }
  return labels;
}

// What Postgres says while it cannot take connections yet: refused, unreachable or unknown host
// (a container still starting), or the server starting up or shutting down (57P03, 57P01).
const NOT_YET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03', '57P01', '57P02']);

function notYetReachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NOT_YET.has(code)) return true;
  // node-postgres reports a server that closed the socket during start-up without a code.
  return err instanceof Error && /Connection terminated|timeout expired/i.test(err.message);
}

/**
 * Waits until Postgres answers, for at most `waitMs`. Only "not reachable yet" is waited out: a
 * wrong password or database name fails at once, as it would never heal by itself.
 */
async function waitForPostgres(database: Database, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let lastReported = 0;
  for (;;) {
    try {
      await database.pool.query('select 1');
      return;
    } catch (err) {
      if (!notYetReachable(err) || Date.now() >= deadline) throw err;
      if (Date.now() - lastReported >= 5000) {
        lastReported = Date.now();
        process.stderr.write(`eks-access-api: waiting for Postgres (${err instanceof Error ? err.message : String(err)})\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const url = env('DATABASE_URL');
  const key = env('ENCRYPTION_KEY');
  if (!command || command === '--help') throw new UsageError(USAGE);
  if (!url || !key) throw new UsageError('DATABASE_URL and ENCRYPTION_KEY must be set');
  let database: Database;
  try {
    database = createDb({ url, encryptionKey: key, applicationName: 'eks-access-api-cli' });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'encryption_key') throw new UsageError(`ENCRYPTION_KEY: ${(err as Error).message}`);
    throw err;
  }
  try {
    switch (command) {
      case 'migrate': {
        const { values } = usageOnBadArgs(() => parseArgs({ args: rest, options: { 'wait-ms': { type: 'string' } }, strict: true }));
        const waitMs = values['wait-ms'] === undefined ? 0 : Number(values['wait-ms']);
        if (!Number.isInteger(waitMs) || waitMs < 0) throw new UsageError(`--wait-ms takes a whole number of milliseconds, not "${values['wait-ms']}"`);
        if (waitMs > 0) await waitForPostgres(database, waitMs);
        await migrate(database);
        process.stdout.write('migrations applied\n');
        return;
      }
      case 'create-key': {
        const { values } = usageOnBadArgs(() =>
          parseArgs({ args: rest, options: { name: { type: 'string' }, scopes: { type: 'string' }, 'expires-at': { type: 'string' } }, strict: true }),
        );
        if (!values.name || !values.scopes) throw new UsageError('create-key needs --name and --scopes');
        const scopes = z.array(z.enum(['read', 'sync', 'provision', 'admin'])).safeParse(values.scopes.split(',').map((s) => s.trim()));
        if (!scopes.success) throw new UsageError('--scopes is a comma-separated list of read, sync, provision, admin');
        const expiresAt = parseExpiry(values['expires-at']);
        const created = await createApiKey(database, values.name, scopes.data, { audit: { actor: 'cli' }, ...(expiresAt ? { expiresAt } : {}) });
        process.stdout.write(keyLine(created.apiKey, created.key));
        return;
      }
      case 'list-keys': {
        const { values } = usageOnBadArgs(() => parseArgs({ args: rest, options: { all: { type: 'boolean' } }, strict: true }));
        for (const key of await listApiKeys(database, { includeRevoked: values.all ?? false })) process.stdout.write(keyLine(key));
        return;
      }
      case 'revoke-key': {
        const { values } = usageOnBadArgs(() => parseArgs({ args: rest, options: { id: { type: 'string' } }, strict: true }));
        if (!values.id) throw new UsageError('revoke-key needs --id (see list-keys)');
        process.stdout.write(keyLine(await revokeApiKey(database, values.id, { audit: { actor: 'cli' } })));
        return;
      }
      case 'rotate-key': {
        const { values } = usageOnBadArgs(() => parseArgs({ args: rest, options: { id: { type: 'string' }, 'expires-at': { type: 'string' } }, strict: true }));
        if (!values.id) throw new UsageError('rotate-key needs --id (see list-keys)');
        const expiresAt = parseExpiry(values['expires-at']);
        const rotated = await rotateApiKey(database, values.id, { audit: { actor: 'cli' }, ...(expiresAt ? { expiresAt } : {}) });
        process.stdout.write(keyLine(rotated.apiKey, rotated.key));
        return;
      }
      case 'register-cluster': {
        const { values } = usageOnBadArgs(() =>
          parseArgs({
            args: rest,
            options: { label: { type: 'string', multiple: true }, allow: { type: 'string', multiple: true }, deny: { type: 'string', multiple: true }, 'if-exists': { type: 'string' } },
            strict: true,
          }),
        );
        const ifExists = values['if-exists'] ?? 'fail';
        if (ifExists !== 'fail' && ifExists !== 'skip') throw new UsageError(`--if-exists takes fail or skip, not "${ifExists}"`);
        const { body, problems } = clusterFromBatonEnv(parseLabels(values.label ?? []), { ...(values.allow ? { allow: values.allow } : {}), ...(values.deny ? { deny: values.deny } : {}) });
        const parsed = clusterBody.safeParse(body);
        if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${batonName(i.path)}: ${i.message}`));
        if (!parsed.success || problems.length > 0) throw new UsageError(`the baton-eks environment does not describe a cluster:\n  ${problems.join('\n  ')}`);
        try {
          const cluster = await createCluster(database, { hostingMode: 'default-chain', ...toClusterInput(parsed.data), name: parsed.data.name, region: parsed.data.region }, { audit: { actor: 'cli' } });
          process.stdout.write(`${JSON.stringify(cluster)}\n`);
        } catch (err) {
          // Only "already registered" is skipped; every other failure (Postgres, a bad key) stays loud.
          if (!(ifExists === 'skip' && err instanceof ConflictError)) throw err;
          process.stdout.write(`${JSON.stringify({ skipped: true, name: parsed.data.name, region: parsed.data.region, reason: err.message })}\n`);
        }
        return;
      }
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await database.close();
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`eks-access-api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
