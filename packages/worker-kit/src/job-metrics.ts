// Per-job metrics, counted by the process that ran the job. Labels are bounded: `queue` and `job`
// come from the job catalogue (3 queues, 7 job names), `outcome` from JobOutcome (4 values), `code`
// from the error family's stable codes (a few dozen). No label carries a cluster, request or job id.
import type { ConsumerEvents } from '@eks-access/queue';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Registers the per-job metrics on `registry` and returns the consumer events that feed them. */
export function createJobMetrics(
  registry: Registry,
): Required<Pick<ConsumerEvents, 'onJobFinished' | 'onLockRenewalFailed'>> {
  const duration = new Histogram({
    name: 'eks_access_job_duration_seconds',
    help: 'Time one run of a job took in this process, by queue, job and outcome (completed, retrying, failed, handed-back, deferred)',
    labelNames: ['queue', 'job', 'outcome'],
    // A provisioning request takes well under a second; a sync of a large cluster, minutes.
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'eks_access_job_attempts_total',
    help: 'Runs of a job started in this process; retry="true" for every attempt after the first',
    labelNames: ['queue', 'job', 'retry'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'eks_access_job_failures_total',
    help: 'Runs of a job that failed (to be retried, or for good), by the error code',
    labelNames: ['queue', 'job', 'code'],
    registers: [registry],
  });
  const lockLosses = new Counter({
    name: 'eks_access_job_lock_losses_total',
    help: 'Locks lost while work ran: kind="job" when BullMQ could not renew a job lock, kind="work" when a cluster or principal lock lapsed under a running job (LOCK_LOST)',
    labelNames: ['queue', 'kind'],
    registers: [registry],
  });
  return {
    onJobFinished: (job) => {
      const labels = { queue: job.queue, job: job.name };
      duration.observe({ ...labels, outcome: job.outcome }, job.durationMs / 1000);
      attempts.inc({ ...labels, retry: String(job.attempt > 1) });
      if (job.errorCode !== undefined) failures.inc({ ...labels, code: job.errorCode });
      if (job.errorCode === 'LOCK_LOST') lockLosses.inc({ queue: job.queue, kind: 'work' });
    },
    onLockRenewalFailed: ({ queue, jobIds }) => {
      lockLosses.inc({ queue, kind: 'job' }, jobIds.length);
    },
  };
}
