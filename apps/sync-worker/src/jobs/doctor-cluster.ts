// The `cluster.doctor` job: run `eks-access doctor` for a registered cluster with its stored
// credentials and keep the report on the run, where the cluster's GET shows it. The doctor never
// throws for a failed check (a refused role, a missing permission are its findings), so a job
// failure means it could not run at all: that is recorded on the run when no retry follows.
import {
  completeDoctorRun,
  failDoctorRun,
  getClusterCredentials,
  startDoctorRun,
  type Database,
} from '@eks-access/db';
import { credentialsFromStoredSecrets, runDoctor, type AwsEndpoints } from '@eks-access/eks-core';
import { isNonRetryable, type JobContext, type JobPayload } from '@eks-access/queue';

export interface DoctorJobDeps {
  database: Database;
  endpoints: AwsEndpoints;
  workerId: string;
}

export interface DoctorJobResult {
  doctorRunId: string;
  status: 'pass' | 'warn' | 'fail' | 'skipped';
  durationMs?: number;
}

/** Runs one queued doctor run. */
export async function doctorClusterJob(
  deps: DoctorJobDeps,
  payload: JobPayload<'cluster.doctor'>,
  ctx: JobContext,
): Promise<DoctorJobResult> {
  const { clusterId, doctorRunId } = payload;
  const run = await startDoctorRun(deps.database, doctorRunId, deps.workerId);
  // A duplicate delivery of a run that already finished.
  if (!run) return { doctorRunId, status: 'skipped' };
  try {
    const secrets = await getClusterCredentials(deps.database, clusterId);
    const report = await runDoctor({
      cluster: { name: secrets.name, region: secrets.region },
      credentials: credentialsFromStoredSecrets(secrets),
      endpoints: deps.endpoints,
      provisioning: run.provisioning,
    });
    await completeDoctorRun(deps.database, doctorRunId, {
      result: report.status,
      report: JSON.parse(JSON.stringify(report)) as Record<string, unknown>,
      actor: `worker:${deps.workerId}`,
    });
    ctx.logger.info(
      { clusterId, doctorRunId, result: report.status, durationMs: report.durationMs },
      'doctor run finished',
    );
    return { doctorRunId, status: report.status, durationMs: report.durationMs };
  } catch (err) {
    if (isNonRetryable(err) || ctx.attempt >= ctx.job.maxAttempts) {
      const e = err as { code?: unknown; message?: unknown };
      await failDoctorRun(deps.database, doctorRunId, {
        code: typeof e.code === 'string' ? e.code : 'INTERNAL',
        message: typeof e.message === 'string' ? e.message : String(err),
      }).catch((failErr: unknown) =>
        ctx.logger.warn({ err: failErr }, 'could not record the failed doctor run'),
      );
    }
    throw err;
  }
}
