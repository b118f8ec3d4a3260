// `eks-access setup`: plans (default) or applies the connector's least-privilege setup. Each write
// is printed before it is made, and each one made is recorded as a JSON audit line on stderr
// (`{"audit":"eks-access.setup",...}`), so a run leaves a trail of exactly what it changed.
import { setupCluster, type SetupStep } from '@eks-access/eks-core';
import type { SetupCommandConfig } from '../config.js';
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
