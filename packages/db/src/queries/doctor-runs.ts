// Doctor runs of registered clusters: requested through the API, carried out by a sync worker with
// the cluster's stored credentials. At most one is queued or running per cluster (a partial unique
// index), so asking again while one is pending returns it. The latest run is what the cluster's
// GET shows.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { clusterDoctorRuns, clusters } from '../schema.js';
import { isUuid } from '../validate.js';
import { recordAudit, type AuditContext } from './audit.js';

export type DoctorRun = typeof clusterDoctorRuns.$inferSelect;

/**
 * A doctor run takes seconds; one still pending this long after it was requested lost its job
 * (Redis lost it, or every attempt died with its worker). The next request closes it as failed
 * rather than returning it forever.
 */
export const DOCTOR_RUN_LOST_AFTER_MS = 15 * 60_000;

/** Queues a doctor run of one cluster, or returns the one already queued or running (`created: false`). */
export async function enqueueDoctorRun(
  database: Database,
  clusterId: string,
  options: { provisioning?: boolean; audit?: AuditContext } = {},
): Promise<{ run: DoctorRun; created: boolean }> {
  if (!isUuid(clusterId)) throw new NotFoundError(`cluster ${clusterId} not found`);
  for (let tries = 0; tries < 5; tries++) {
    const result = await database.db.transaction(async (tx) => {
      const [cluster] = await tx
        .select({ enabled: clusters.enabled, provisioningEnabled: clusters.provisioningEnabled })
        .from(clusters)
        .where(and(eq(clusters.id, clusterId), isNull(clusters.deletedAt)));
      if (!cluster) throw new NotFoundError(`cluster ${clusterId} not found`);
      if (!cluster.enabled)
        throw new ConflictError(`cluster ${clusterId} is disabled; enable it to check it`);
      const provisioning = options.provisioning ?? cluster.provisioningEnabled;
      await tx
        .update(clusterDoctorRuns)
        .set({
          status: 'failed',
          error: { code: 'LOST', message: 'the doctor run never finished; a new one was requested' },
          finishedAt: new Date(),
        })
        .where(
          and(
            eq(clusterDoctorRuns.clusterId, clusterId),
            sql`${clusterDoctorRuns.status} IN ('queued', 'running')`,
            sql`${clusterDoctorRuns.requestedAt} < now() - make_interval(secs => ${DOCTOR_RUN_LOST_AFTER_MS / 1000})`,
          ),
        );
      const [inserted] = await tx
        .insert(clusterDoctorRuns)
        .values({ clusterId, provisioning })
        .onConflictDoNothing({
          target: clusterDoctorRuns.clusterId,
          where: sql`${clusterDoctorRuns.status} IN ('queued', 'running')`,
        })
        .returning();
      if (inserted) {
        if (options.audit) {
          await recordAudit(tx, {
            actor: options.audit.actor,
            action: 'cluster.doctor',
            clusterId,
            target: `doctor_run:${inserted.id}`,
            after: { id: inserted.id, provisioning },
            ...(options.audit.requestId !== undefined ? { requestId: options.audit.requestId } : {}),
            ...(options.audit.details ? { details: options.audit.details } : {}),
          });
        }
        return { run: inserted, created: true };
      }
      const [active] = await tx
        .select()
        .from(clusterDoctorRuns)
        .where(
          and(
            eq(clusterDoctorRuns.clusterId, clusterId),
            sql`${clusterDoctorRuns.status} IN ('queued', 'running')`,
          ),
        );
      return active ? { run: active, created: false } : undefined;
    });
    if (result) return result;
  }
  throw new ConflictError(`cluster ${clusterId}: could not queue a doctor run; try again`);
}

/** Marks a queued (or re-delivered running) run as running; undefined when it already finished. */
export async function startDoctorRun(
  database: Database,
  id: string,
  worker: string,
): Promise<DoctorRun | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await database.db
    .update(clusterDoctorRuns)
    .set({ status: 'running', worker, startedAt: new Date() })
    .where(and(eq(clusterDoctorRuns.id, id), sql`${clusterDoctorRuns.status} IN ('queued', 'running')`))
    .returning();
  return row;
}

/** Stores the doctor's report on its run. */
export async function completeDoctorRun(
  database: Database,
  id: string,
  outcome: { result: 'pass' | 'warn' | 'fail'; report: Record<string, unknown>; actor: string },
): Promise<void> {
  await database.db.transaction(async (tx) => {
    const [row] = await tx
      .update(clusterDoctorRuns)
      .set({ status: 'succeeded', result: outcome.result, report: outcome.report, finishedAt: new Date() })
      .where(and(eq(clusterDoctorRuns.id, id), eq(clusterDoctorRuns.status, 'running')))
      .returning({ clusterId: clusterDoctorRuns.clusterId });
    if (row) {
      await recordAudit(tx, {
        actor: outcome.actor,
        action: 'cluster.doctor.complete',
        clusterId: row.clusterId,
        target: `doctor_run:${id}`,
        after: { result: outcome.result },
      });
    }
  });
}

/** Records why a doctor run could not run at all (the cluster was deleted, a bug). */
export async function failDoctorRun(
  database: Database,
  id: string,
  error: { code: string; message: string },
): Promise<void> {
  await database.db
    .update(clusterDoctorRuns)
    .set({ status: 'failed', error, finishedAt: new Date() })
    .where(and(eq(clusterDoctorRuns.id, id), sql`${clusterDoctorRuns.status} IN ('queued', 'running')`));
}

/** The most recently requested doctor run of a cluster, if any. */
export async function latestDoctorRun(database: Database, clusterId: string): Promise<DoctorRun | undefined> {
  if (!isUuid(clusterId)) return undefined;
  const [row] = await database.db
    .select()
    .from(clusterDoctorRuns)
    .where(eq(clusterDoctorRuns.clusterId, clusterId))
    .orderBy(desc(clusterDoctorRuns.requestedAt), desc(clusterDoctorRuns.id))
    .limit(1);
  return row;
}
