// `eks-access setup`: plans (default) or applies the connector's least-privilege setup. Each write
// is printed before it is made, and each one made is recorded as a JSON audit line on stderr
// (`{"audit":"eks-access.setup",...}`), so a run leaves a trail of exactly what it changed.
import { action } from '@eks-access/cli-kit';
import { setupCluster, type SetupStep } from '@eks-access/eks-core';
import type { Command } from 'commander';
import { addTargetOptions, loadSetupConfig, type SetupCommandConfig, type SetupFlags } from '../config.js';
import { formatSetupSummary, formatStep } from '../output/doctor-table.js';
import type { CommandIo } from './sync.js';

function audit(io: CommandIo, config: SetupCommandConfig, step: SetupStep): void {
  io.stderr(
    `${JSON.stringify({
      audit: 'eks-access.setup',
      at: new Date().toISOString(),
      cluster: config.target.clusterName,
      region: config.target.region,
      principal: config.principalArn,
      system: step.system,
      action: step.action,
      target: step.target,
      result: step.status,
      detail: step.detail,
      request: step.request,
    })}\n`,
  );
}

/** Adds `eks-access setup` to the program. */
export function setupCommand(program: Command, io: CommandIo): void {
  const command = program
    .command('setup')
    .summary("plan (default) or --apply the connector's least-privilege setup for one cluster")
    .description(
      "Computes the connector's least-privilege setup for one cluster and, with --apply, makes it with an " +
        "administrator's credentials. Reads the current state first and changes only what differs (a re-run " +
        'changes nothing); prints every write before it is made.',
    );
  addTargetOptions(command)
    .option('--plan', 'print what would change (the default)')
    .option('--apply', 'make the changes')
    .option('--principal-arn <arn>', "the connector's IAM user or role, if not --role-arn")
    .option('--admin-access-key <id>', 'administrator access key id (EKS_ACCESS_ADMIN_ACCESS_KEY_ID)')
    .option(
      '--admin-secret-access-key <key>',
      'administrator secret access key (EKS_ACCESS_ADMIN_SECRET_ACCESS_KEY)',
    )
    .option('--admin-role-arn <arn>', 'role assumed with the admin keys (EKS_ACCESS_ADMIN_ROLE_ARN)')
    .option('--provisioning', 'also grant what provisioning needs (BATON_PROVISIONING=true)')
    .option('-o, --output <table|json>', 'steps as text or the result as JSON', 'table')
    .addHelpText(
      'after',
      [
        '',
        'What it sets up:',
        '  API, API_AND_CONFIG_MAP: an access entry for the connector with AmazonEKSAdminViewPolicy.',
        "  CONFIG_MAP: the connector's aws-auth entry (merged in; other entries untouched; resourceVersion",
        '              checked), a read-only ClusterRole eks-access-connector-read bound to its group, and',
        '              bindings left by the C1 guide that name a missing role and bind only the connector',
        '              removed.',
        "  Both: an IAM policy on the connector's role, scoped to this cluster, when its policies miss a call.",
        '  --provisioning adds the narrowest grants provisioning needs (never system:masters).',
        '',
        'The connector principal is --role-arn (BATON_ROLE_ARN), or --principal-arn for a connector IAM user.',
        'With static connector keys (BATON_EKS_ACCESS_KEY) the doctor runs first as the connector.',
        "Administrator credentials need IAM in the connector's account and EKS and Kubernetes admin of the",
        'cluster; without admin keys the AWS default chain is used (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...).',
        '',
        'Exit codes: 0 set up (or nothing to do), 1 a step failed, 2 bad usage or configuration.',
      ].join('\n'),
    )
    .action(action<SetupFlags>((flags, cmd) => runSetupCommand(loadSetupConfig(cmd, flags), io)));
}

/** Runs setup; exit code 0 when every step is in place (or planned), 1 when one failed. */
export async function runSetupCommand(config: SetupCommandConfig, io: CommandIo): Promise<number> {
  const text = config.output === 'table';
  if (text)
    io.stdout(
      `${config.apply ? 'Applying' : 'Planning (dry run)'} the connector's setup for ${config.target.clusterName} (${config.target.region})`,
    );
  try {
    const result = await setupCluster({
      cluster: { name: config.target.clusterName, region: config.target.region },
      principalArn: config.principalArn,
      admin: config.admin,
      ...(config.connector ? { connector: config.connector } : {}),
      endpoints: config.endpoints,
      provisioning: config.provisioning,
      apply: config.apply,
      onStep: (step, phase) => {
        if (phase === 'before') {
          if (text) {
            io.stdout(formatStep(step, config.apply ? 'NEXT' : undefined));
            if (step.request !== undefined) io.stdout(`        ${JSON.stringify(step.request)}`);
          }
        } else {
          if (text) io.stdout(formatStep(step));
          audit(io, config, step);
        }
      },
    });
    if (text) {
      for (const step of result.steps)
        if (step.status === 'unchanged' || step.status === 'manual') io.stdout(formatStep(step));
      io.stdout(formatSetupSummary(result));
    } else {
      io.stdout(JSON.stringify(result, null, 2));
    }
    return result.steps.some((s) => s.status === 'failed') ? 1 : 0;
  } catch (err) {
    if (text) io.stderr(`setup stopped: ${err instanceof Error ? err.message : String(err)}\n`);
    throw err;
  }
}
