// Counters for the jobs that go wrong where no handler sees it: a worker died or froze holding a
// job (stalled), a job failed for good (dead-lettered), and what the janitors did about the work
// those jobs carried. The queue package reports the events (it does not know Prometheus); each
// worker process passes these listeners to its consumers and its janitor. Structural types only,
// so this package imports no other workspace package.
import { Counter, type Registry } from 'prom-client';

/** The parts of a stalled job that are counted. */
export interface StalledJobEvent {
  queue: string;
}

/** The parts of a dead-lettered job that are counted. */
export interface DeadLetteredJobEvent {
  queue: string;
  name: string;
  stalled: boolean;
}

/** What a janitor did with one piece of work whose job was lost: queued it again, or failed it. */
export type JanitorAction = 'requeued' | 'failed';

export interface JobHealthMetrics {
  /** Pass as the consumer's `events`. */
  events: {
    onStalled(job: StalledJobEvent): void;
    onDeadLettered(job: DeadLetteredJobEvent): void;
  };
  /** Counts a janitor's repairs of one kind of work (`sync_run`, `provisioning_request`, `upload`). */
  onJanitor(kind: string, action: JanitorAction, count: number): void;
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  // A registry may already hold the counter when several consumers of one process share it.
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Registers the job-health counters on `registry` and returns the listeners that feed them. */
export function createJobHealthMetrics(registry: Registry): JobHealthMetrics {
  const stalled = counter(
    registry,
    'eks_access_jobs_stalled_total',
    'Jobs found stalled (their worker died or froze), per queue',
    ['queue'],
  );
  const dead = counter(
    registry,
    'eks_access_jobs_dead_lettered_total',
    'Jobs that failed for good and went to the failed set, per queue and job; stalled=true when BullMQ gave up after repeated stalls',
    ['queue', 'job', 'stalled'],
  );
  const janitor = counter(
    registry,
    'eks_access_janitor_repairs_total',
    'Work whose job was lost or dead-lettered, re-queued or failed with the reason by a janitor',
    ['kind', 'action'],
  );
  return {
    events: {
      onStalled: (job) => stalled.inc({ queue: job.queue }),
      onDeadLettered: (job) => dead.inc({ queue: job.queue, job: job.name, stalled: String(job.stalled) }),
    },
    onJanitor: (kind, action, count) => {
      if (count > 0) janitor.inc({ kind, action }, count);
    },
  };
}
