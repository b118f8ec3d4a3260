// eks-access-api admin CLI (run with DATABASE_URL and ENCRYPTION_KEY set):
//   create-key --name NAME --scopes read,sync      prints a new API key once
//   register-cluster                               registers a cluster from a baton-eks env
//                                                  (BATON_EKS_CLUSTER_NAME, BATON_EKS_REGION, …)
import { parseArgs } from 'node:util';
import { createApiKey, createCluster, createDb, migrate } from '@eks-access/db';
import { z } from 'zod';
import { clusterBody } from './routes/common.js';
import { toClusterInput } from './routes/clusters/mapping.js';

const USAGE = `Usage: eks-access-api <command>
  migrate                                apply database migrations
  create-key --name NAME --scopes S,...  create an API key (scopes: read, sync, provision, admin)
  register-cluster [--label k=v]...      register the cluster a baton-eks environment describes:
      BATON_EKS_CLUSTER_NAME, BATON_EKS_REGION, BATON_ROLE_ARN (or BATON_EKS_ASSUME_ROLE_ARN),
      BATON_EXTERNAL_ID, BATON_EKS_ACCESS_KEY + BATON_EKS_SECRET_ACCESS_KEY,
      BATON_GLOBAL_ACCESS_KEY_ID + BATON_GLOBAL_SECRET_ACCESS_KEY, BATON_GLOBAL_ROLE_ARN,
      BATON_GLOBAL_BINDING_EXTERNAL_ID, BATON_CLIENT_ID, BATON_CLIENT_SECRET, BATON_PROVISIONING
Needs DATABASE_URL and ENCRYPTION_KEY.`;

class UsageError extends Error {}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The cluster body a baton-eks environment describes (the C1 docs' variable names). */
export function clusterFromBatonEnv(labels: Record<string, string>): unknown {
  const keys = (id?: string, secret?: string) => (id || secret ? { accessKeyId: id ?? '', secretAccessKey: secret ?? '' } : undefined);
  const provisioning = env('BATON_PROVISIONING');
  return Object.fromEntries(
    Object.entries({
      name: env('BATON_EKS_CLUSTER_NAME'),
      region: env('BATON_EKS_REGION'),
      roleArn: env('BATON_ROLE_ARN') ?? env('BATON_EKS_ASSUME_ROLE_ARN'),
      externalId: env('BATON_EXTERNAL_ID'),
      accessKey: keys(env('BATON_EKS_ACCESS_KEY'), env('BATON_EKS_SECRET_ACCESS_KEY')),
      globalKey: keys(env('BATON_GLOBAL_ACCESS_KEY_ID'), env('BATON_GLOBAL_SECRET_ACCESS_KEY')),
      bindingRoleArn: env('BATON_GLOBAL_ROLE_ARN'),
      bindingExternalId: env('BATON_GLOBAL_BINDING_EXTERNAL_ID'),
      c1ClientId: env('BATON_CLIENT_ID'),
      c1ClientSecret: env('BATON_CLIENT_SECRET'),
      provisioningEnabled: provisioning === undefined ? undefined : provisioning === 'true' || provisioning === '1',
      labels: Object.keys(labels).length > 0 ? labels : undefined,
    }).filter(([, v]) => v !== undefined),
  );
}

const BATON_NAMES: Record<string, string> = {
  name: 'BATON_EKS_CLUSTER_NAME',
  region: 'BATON_EKS_REGION',
  roleArn: 'BATON_ROLE_ARN',
  externalId: 'BATON_EXTERNAL_ID',
  accessKey: 'BATON_EKS_ACCESS_KEY / BATON_EKS_SECRET_ACCESS_KEY',
  globalKey: 'BATON_GLOBAL_ACCESS_KEY_ID / BATON_GLOBAL_SECRET_ACCESS_KEY',
  bindingRoleArn: 'BATON_GLOBAL_ROLE_ARN',
  c1ClientId: 'BATON_CLIENT_ID',
  c1ClientSecret: 'BATON_CLIENT_SECRET',
};

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const url = env('DATABASE_URL');
  const key = env('ENCRYPTION_KEY');
  if (!command || command === '--help') throw new UsageError(USAGE);
  if (!url || !key) throw new UsageError('DATABASE_URL and ENCRYPTION_KEY must be set');
  const database = createDb({ url, encryptionKey: key, applicationName: 'eks-access-api-cli' });
  try {
    switch (command) {
      case 'migrate':
        await migrate(database);
        process.stdout.write('migrations applied\n');
        return;
      case 'create-key': {
        const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, scopes: { type: 'string' } }, strict: true });
        if (!values.name || !values.scopes) throw new UsageError('create-key needs --name and --scopes');
        const scopes = z.array(z.enum(['read', 'sync', 'provision', 'admin'])).safeParse(values.scopes.split(',').map((s) => s.trim()));
        if (!scopes.success) throw new UsageError('--scopes is a comma-separated list of read, sync, provision, admin');
        const created = await createApiKey(database, values.name, scopes.data, { audit: { actor: 'cli' } });
        process.stdout.write(`${JSON.stringify({ id: created.apiKey.id, name: created.apiKey.name, scopes: created.apiKey.scopes, key: created.key })}\n`);
        return;
      }
      case 'register-cluster': {
        const { values } = parseArgs({ args: rest, options: { label: { type: 'string', multiple: true } }, strict: true });
        const labels = Object.fromEntries((values.label ?? []).map((l) => [l.split('=')[0] ?? '', l.split('=').slice(1).join('=')]));
        const parsed = clusterBody.safeParse(clusterFromBatonEnv(labels));
        if (!parsed.success) {
          throw new UsageError(parsed.error.issues.map((i) => `${BATON_NAMES[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`).join('\n'));
        }
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
