// eks-access-api admin CLI (run with DATABASE_URL and ENCRYPTION_KEY set):
//   create-key --name NAME --scopes read,sync      prints a new API key once
//   register-cluster                               registers a cluster from a baton-eks env
//                                                  (BATON_EKS_CLUSTER_NAME, BATON_EKS_REGION, …),
//                                                  --allow / --deny for its provisioning policy
import { parseArgs } from 'node:util';
import { createApiKey, createCluster, createDb, migrate, type Database } from '@eks-access/db';
import { z } from 'zod';
import { clusterBody } from './routes/common.js';
import { toClusterInput } from './routes/clusters/mapping.js';

const USAGE = `Usage: eks-access-api <command>
  migrate                                apply database migrations
  create-key --name NAME --scopes S,...  create an API key (scopes: read, sync, provision, admin)
  register-cluster [--label k=v]... [--allow PATTERN]... [--deny PATTERN]...
                                         register the cluster a baton-eks environment describes:
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

function parseLabels(given: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const label of given) {
    const at = label.indexOf('=');
    if (at <= 0) throw new UsageError(`--label takes key=value, not "${label}"`);
    labels[label.slice(0, at)] = label.slice(at + 1);
  }
  return labels;
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
      case 'migrate':
        await migrate(database);
        process.stdout.write('migrations applied\n');
        return;
      case 'create-key': {
        const { values } = usageOnBadArgs(() => parseArgs({ args: rest, options: { name: { type: 'string' }, scopes: { type: 'string' } }, strict: true }));
        if (!values.name || !values.scopes) throw new UsageError('create-key needs --name and --scopes');
        const scopes = z.array(z.enum(['read', 'sync', 'provision', 'admin'])).safeParse(values.scopes.split(',').map((s) => s.trim()));
        if (!scopes.success) throw new UsageError('--scopes is a comma-separated list of read, sync, provision, admin');
        const created = await createApiKey(database, values.name, scopes.data, { audit: { actor: 'cli' } });
        process.stdout.write(`${JSON.stringify({ id: created.apiKey.id, name: created.apiKey.name, scopes: created.apiKey.scopes, key: created.key })}\n`);
        return;
      }
      case 'register-cluster': {
        const { values } = usageOnBadArgs(() =>
          parseArgs({ args: rest, options: { label: { type: 'string', multiple: true }, allow: { type: 'string', multiple: true }, deny: { type: 'string', multiple: true } }, strict: true }),
        );
        const { body, problems } = clusterFromBatonEnv(parseLabels(values.label ?? []), { ...(values.allow ? { allow: values.allow } : {}), ...(values.deny ? { deny: values.deny } : {}) });
        const parsed = clusterBody.safeParse(body);
        if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${batonName(i.path)}: ${i.message}`));
        if (!parsed.success || problems.length > 0) throw new UsageError(`the baton-eks environment does not describe a cluster:\n  ${problems.join('\n  ')}`);
        const cluster = await createCluster(database, { hostingMode: 'default-chain', ...toClusterInput(parsed.data), name: parsed.data.name, region: parsed.data.region }, { audit: { actor: 'cli' } });
        process.stdout.write(`${JSON.stringify(cluster)}\n`);
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
