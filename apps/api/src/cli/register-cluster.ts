// `eks-access-api register-cluster`: registers the cluster a baton-eks configuration describes,
// from baton-eks's flags or its BATON_* environment (the C1 docs' names), so a baton-eks Secret or
// command line can be reused as is. --if-exists skip makes it safe to run at every start.
import { addBatonOption, batonValue, action, UsageError } from '@eks-access/cli-kit';
import { BATON_C1_FIELDS, BATON_FIELDS, type BatonField } from '@eks-access/model';
import { ConflictError, createCluster } from '@eks-access/db';
import { Option, type Command } from 'commander';
import { clusterBody } from '../routes/common.js';
import { toClusterInput } from '../routes/clusters/mapping.js';
import { withDatabase, type CliContext } from './context.js';

const PROVISIONING: BatonField = {
  flag: 'provisioning',
  short: 'p',
  aliases: [],
  env: 'BATON_PROVISIONING',
  description: 'let the provisioner change access on this cluster: true or false',
};

/** The body fields the baton-eks fields fill, in the order problems are listed. */
const FIELDS = {
  name: BATON_FIELDS.clusterName,
  region: BATON_FIELDS.region,
  roleArn: BATON_FIELDS.roleArn,
  externalId: BATON_FIELDS.externalId,
  bindingRoleArn: BATON_FIELDS.globalRoleArn,
  bindingExternalId: BATON_FIELDS.globalBindingExternalId,
  c1ClientId: BATON_C1_FIELDS.c1ClientId,
  c1ClientSecret: BATON_C1_FIELDS.c1ClientSecret,
} as const;

interface PolicyFlags {
  label: string[];
  allow: string[];
  deny: string[];
  ifExists: string;
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

/**
 * The cluster body a baton-eks configuration describes, and what is wrong with it, each problem
 * naming the flag or variable to fix.
 */
export function clusterFromBaton(
  command: Command,
  env: (name: string) => string | undefined,
  labels: Record<string, string>,
  policy: { allow?: string[]; deny?: string[] } = {},
): { body: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const from: Record<string, string> = {};
  const read = (key: string, field: BatonField) => {
    const got = batonValue(command, field, env);
    if (got) from[key] = got.from;
    return got?.value;
  };
  // A half-given key pair is a mistake, not "no key": dropping it would register a cluster that
  // silently falls back to another hosting mode.
  const keys = (key: string, idField: BatonField, secretField: BatonField) => {
    const id = read(key, idField);
    const secret = read(key, secretField);
    if (!id && !secret) return undefined;
    if (!id || !secret) {
      const missing = id ? secretField : idField;
      problems.push(
        `${missing.env}: missing; ${idField.env} and ${secretField.env} (--${idField.flag}, --${secretField.flag}) are set together or not at all`,
      );
      return undefined;
    }
    return { accessKeyId: id, secretAccessKey: secret };
  };
  const provisioning = read('provisioningEnabled', PROVISIONING)?.toLowerCase();
  let provisioningEnabled: boolean | undefined;
  if (provisioning === 'true' || provisioning === '1') provisioningEnabled = true;
  else if (provisioning === 'false' || provisioning === '0') provisioningEnabled = false;
  else if (provisioning !== undefined)
    problems.push(`${from.provisioningEnabled}: must be true or false, not "${provisioning}"`);
  const values = Object.fromEntries(Object.entries(FIELDS).map(([key, field]) => [key, read(key, field)]));
  const body = Object.fromEntries(
    Object.entries({
      ...values,
      accessKey: keys('accessKey', BATON_FIELDS.accessKeyId, BATON_FIELDS.secretAccessKey),
      globalKey: keys('globalKey', BATON_FIELDS.globalAccessKeyId, BATON_FIELDS.globalSecretAccessKey),
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
  if (body.bindingExternalId && !body.bindingRoleArn)
    problems.push(`${from.bindingExternalId}: needs BATON_GLOBAL_ROLE_ARN (--global-role-arn)`);
  const parsed = clusterBody.safeParse(body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      if (key === 'provisioningPolicy') {
        const at = issue.path[2];
        problems.push(
          `--${String(issue.path[1])}${typeof at === 'number' ? ` (#${at + 1})` : ''}: ${issue.message}`,
        );
      } else if (key === 'labels') problems.push(`--label: ${issue.message}`);
      else if (from[key]) problems.push(`${from[key]}: ${issue.message}`);
      else {
        const field = (FIELDS as Record<string, BatonField>)[key];
        problems.push(field ? `set ${field.env} or --${field.flag}` : `${key}: ${issue.message}`);
      }
    }
  }
  return { body, problems };
}

/** Adds `register-cluster` to the program. */
export function registerClusterCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('register-cluster')
    .summary('register the cluster a baton-eks configuration describes')
    .description(
      "Registers the cluster a baton-eks configuration describes, from baton-eks's flags or its BATON_* " +
        'environment (flags win). With no keys the cluster stores none: workers reach it with their own ' +
        'AWS identity (on EKS: IRSA or Pod Identity, through the default chain), then the role.',
    );
  for (const field of [...Object.values(BATON_FIELDS), ...Object.values(BATON_C1_FIELDS)])
    addBatonOption(command, field);
  command.addOption(
    new Option('-p, --provisioning [bool]', `${PROVISIONING.description} (${PROVISIONING.env})`).preset(
      'true',
    ),
  );
  const collect = (value: string, previous: string[]) => [...previous, value];
  command
    .option('--label <k=v>', 'a label on the cluster; repeatable', collect, [])
    .option(
      '--allow <pattern>',
      'an entitlement id glob (* matches anything, e.g. cluster_role:cluster-admin:*) that lifts the ' +
        "built-in cluster-admin denies of the cluster's provisioning policy; repeatable",
      collect,
      [],
    )
    .option(
      '--deny <pattern>',
      'an entitlement id glob the provisioner refuses on this cluster; deny always wins; repeatable',
      collect,
      [],
    )
    .option(
      '--if-exists <fail|skip>',
      'skip: a cluster already registered under that name, region and account is left as it is, exit 0',
      'fail',
    )
    .addHelpText('after', '\nNeeds DATABASE_URL and ENCRYPTION_KEY.')
    .action(
      action<PolicyFlags>(async (flags) => {
        if (flags.ifExists !== 'fail' && flags.ifExists !== 'skip')
          throw new UsageError(`--if-exists takes fail or skip, not "${flags.ifExists}"`);
        const { body, problems } = clusterFromBaton(command, ctx.env, parseLabels(flags.label), {
          ...(flags.allow.length > 0 ? { allow: flags.allow } : {}),
          ...(flags.deny.length > 0 ? { deny: flags.deny } : {}),
        });
        const parsed = clusterBody.safeParse(body);
        if (!parsed.success || problems.length > 0)
          throw new UsageError(
            `the baton-eks configuration does not describe a cluster: ${problems.join('; ')}`,
          );
        const cluster = parsed.data;
        await withDatabase(ctx, async (database) => {
          try {
            const created = await createCluster(
              database,
              {
                hostingMode: 'default-chain',
                ...toClusterInput(cluster),
                name: cluster.name,
                region: cluster.region,
              },
              { audit: { actor: 'cli' } },
            );
            ctx.stdout(`${JSON.stringify(created)}\n`);
          } catch (err) {
            // Only "already registered" is skipped; every other failure (Postgres, a bad key) stays loud.
            if (!(flags.ifExists === 'skip' && err instanceof ConflictError)) throw err;
            ctx.stdout(
              `${JSON.stringify({ skipped: true, name: cluster.name, region: cluster.region, reason: err.message })}\n`,
            );
          }
        });
        return 0;
      }),
    );
}
