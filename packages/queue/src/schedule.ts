// Whether a sync schedule can run, decided before anything is written: BullMQ only parses a cron
// pattern when a job scheduler is upserted, so an invalid one would fail after the cluster that
// carries it was already saved. Also where an interval schedule's place in its interval comes from:
// a fleet whose schedules all fired at :00 would send every sync at once.
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';

/** A sync schedule: a fixed interval, or a cron pattern (5 fields, or 6 with seconds). */
export type Schedule = { everyMs: number } | { cron: string; tz?: string };

/**
 * What is wrong with `schedule` as BullMQ would run it, or undefined when it can run: the cron
 * pattern must parse and fire at least once (`0 0 31 2 *` parses but never fires).
 */
export function scheduleProblem(schedule: Schedule): string | undefined {
  if ('everyMs' in schedule) {
    return Number.isInteger(schedule.everyMs) && schedule.everyMs > 0
      ? undefined
      : 'must be a positive whole number of milliseconds';
  }
  const fields = schedule.cron.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) {
    return 'must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first';
  }
  try {
    const expression = CronExpressionParser.parse(schedule.cron, {
      currentDate: new Date(),
      ...(schedule.tz === undefined ? {} : { tz: schedule.tz }),
    });
    expression.next();
    return undefined;
  } catch (err) {
    return `is not a cron pattern that can run: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Where in each interval a cluster's interval schedule fires, in [0, everyMs): a hash of the cluster
 * id, so it is the same on every upsert and every host, and a fleet's schedules fall evenly over the
 * interval instead of all at its start.
 */
export function scheduleOffsetMs(clusterId: string, everyMs: number): number {
  // 48 bits of SHA-256 are exact in a double and spread evenly over any interval we allow.
  const hash = createHash('sha256').update(clusterId).digest().readUIntBE(0, 6);
  return hash % everyMs;
}
