// `eks-access doctor`: every step of the connector's setup for one cluster, checked with the
// connector's own credentials; a table (or JSON) with a fix for each failure.
import { runDoctor } from '@eks-access/eks-core';
import type { DoctorCommandConfig } from '../config.js';
import { formatDoctor } from '../output/doctor-table.js';
import type { CommandIo } from './sync.js';

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
