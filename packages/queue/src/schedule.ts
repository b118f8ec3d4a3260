// Whether a sync schedule can run, decided before anything is written: BullMQ only parses a cron
// pattern when a job scheduler is upserted, so an invalid one would fail after the cluster that
// carries it was already saved.
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
