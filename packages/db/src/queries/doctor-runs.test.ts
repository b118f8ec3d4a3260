import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import { listAudit } from './audit.js';
import { createCluster, deleteCluster, updateCluster, type Cluster } from './clusters.js';
import {
  completeDoctorRun,
  enqueueDoctorRun,
  failDoctorRun,
  latestDoctorRun,
  startDoctorRun,
} from './doctor-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 20 });
});
afterAll(async () => {
  await database?.drop();
});

async function newCluster(provisioningEnabled = false): Promise<Cluster> {
  return createCluster(database, {
    name: `c-${Math.random().toString(36).slice(2, 10)}`,
    region: 'eu-west-1',
    hostingMode: 'default-chain',
    provisioningEnabled,
  });
}

describe('doctor runs', () => {
  it('collapses concurrent requests for one cluster into one run, audited once', async () => {
    const cluster = await newCluster();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        enqueueDoctorRun(database, cluster.id, { audit: { actor: 'api-key:test' } }),
      ),
    );
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const audit = await listAudit(database, { clusterId: cluster.id });
    expect(audit.items.filter((e) => e.action === 'cluster.doctor')).toHaveLength(1);
  });

  it('checks provisioning writes when the cluster has provisioning on, unless told otherwise', async () => {
    const on = await newCluster(true);
    expect((await enqueueDoctorRun(database, on.id)).run.provisioning).toBe(true);
    const off = await newCluster(false);
    expect((await enqueueDoctorRun(database, off.id, { provisioning: true })).run.provisioning).toBe(true);
  });

  it('keeps the report of a finished run as the latest, and allows a new run after it', async () => {
    const cluster = await newCluster();
    const { run } = await enqueueDoctorRun(database, cluster.id);
    expect((await startDoctorRun(database, run.id, 'worker:a'))?.status).toBe('running');
    await completeDoctorRun(database, run.id, {
      result: 'fail',
      report: { status: 'fail', checks: [] },
      actor: 'worker:a',
    });
    const latest = await latestDoctorRun(database, cluster.id);
    expect(latest).toMatchObject({
      id: run.id,
      status: 'succeeded',
      result: 'fail',
      report: { status: 'fail' },
    });
    expect(latest?.finishedAt).toBeInstanceOf(Date);
    // A finished run is not started again by a duplicate delivery.
    expect(await startDoctorRun(database, run.id, 'worker:b')).toBeUndefined();
    const again = await enqueueDoctorRun(database, cluster.id);
    expect(again.created).toBe(true);
    expect((await latestDoctorRun(database, cluster.id))?.id).toBe(again.run.id);
    await failDoctorRun(database, again.run.id, { code: 'INTERNAL', message: 'boom' });
    expect((await latestDoctorRun(database, cluster.id))?.status).toBe('failed');
  });

  it('closes a run that stayed pending far too long (its job was lost) when a new one is asked for', async () => {
    const cluster = await newCluster();
    const { run: lost } = await enqueueDoctorRun(database, cluster.id);
    await database.pool.query(
      `UPDATE cluster_doctor_runs SET requested_at = now() - interval '1 hour' WHERE id = $1`,
      [lost.id],
    );
    const next = await enqueueDoctorRun(database, cluster.id);
    expect(next.created).toBe(true);
    expect(next.run.id).not.toBe(lost.id);
    const { rows } = await database.pool.query<{ status: string; error: { code: string } }>(
      'SELECT status, error FROM cluster_doctor_runs WHERE id = $1',
      [lost.id],
    );
    expect(rows[0]).toMatchObject({ status: 'failed', error: { code: 'LOST' } });
  });

  it('refuses unknown, deleted and disabled clusters', async () => {
    await expect(enqueueDoctorRun(database, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const disabled = await newCluster();
    await updateCluster(database, disabled.id, { enabled: false });
    await expect(enqueueDoctorRun(database, disabled.id)).rejects.toBeInstanceOf(ConflictError);
    const deleted = await newCluster();
    await deleteCluster(database, deleted.id);
    await expect(enqueueDoctorRun(database, deleted.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
