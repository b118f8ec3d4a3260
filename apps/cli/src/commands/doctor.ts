// `eks-access doctor`: every step of the connector's setup for one cluster, checked with the
// connector's own credentials; a table (or JSON) with a fix for each failure.
import { action } from '@eks-access/cli-kit';
import { runDoctor } from '@eks-access/eks-core';
import type { Command } from 'commander';
import { addTargetOptions, loadDoctorConfig, type DoctorCommandConfig, type DoctorFlags } from '../config.js';
import { formatDoctor } from '../output/doctor-table.js';
import type { CommandIo } from './sync.js';

/** Adds `eks-access doctor` to the program. */
export function doctorCommand(program: Command, io: CommandIo): void {
  const command = program
    .command('doctor')
    .summary("check every step of the connector's setup for one cluster, with a fix for each failure")
    .description(
      "Checks every step of the connector's setup for one cluster with the connector's own credentials, " +
        'and prints a table: credentials, role trust and ExternalId, each AWS permission the sync needs ' +
        '(each one called for real), the authentication mode, how the connector reaches Kubernetes, each ' +
        'Kubernetes list (SelfSubjectAccessReview), bindings whose roleRef does not exist, and with ' +
        '--provisioning each write provisioning needs. Every failure comes with its least-privilege fix. ' +
        'Nothing is written anywhere.',
    );
  addTargetOptions(command)
    .option('--provisioning', 'also check the writes provisioning needs (BATON_PROVISIONING=true)')
    .option('-o, --output <table|json>', 'table or the report as JSON', 'table')
    .addHelpText(
      'after',
      '\nExit codes: 0 every check passed, 1 a check failed, 2 bad usage or configuration, 3 passed with warnings.',
    )
    .action(action<DoctorFlags>((flags, cmd) => runDoctorCommand(loadDoctorConfig(cmd, flags), io)));
}

/** Runs the doctor; exit code 0 all passed, 1 a check failed, 3 only warnings. */
export async function runDoctorCommand(config: DoctorCommandConfig, io: CommandIo): Promise<number> {
  const report = await runDoctor({
    cluster: { name: config.target.clusterName, region: config.target.region },
    credentials: config.target.credentials,
    endpoints: config.endpoints,
    provisioning: config.provisioning,
  });
  io.stdout(config.output === 'json' ? JSON.stringify(report, null, 2) : formatDoctor(report));
  return report.status === 'pass' ? 0 : report.status === 'warn' ? 3 : 1;
}
