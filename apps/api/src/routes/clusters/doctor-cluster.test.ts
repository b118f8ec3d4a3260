// POST /v1/clusters/{id}/doctor: admin only, validated, audited; it records one pending run per
// cluster and queues its job (the sync worker runs the doctor); GET /v1/clusters/{id} shows the
// latest run with its result and when it finished.
import { completeDoctorRun, listAudit, startDoctorRun } from '@eks-access/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

async function create(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: auth(t.keys.admin),
    payload: {
      name,
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::111111111111:role/EksAccessConnector',
      ...extra,
    },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
}

const doctor = (id: string, key: string, payload?: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/clusters/${id}/doctor`,
    headers: auth(key),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

interface RunView {
  id: string;
  clusterId: string;
  status: string;
  provisioning: boolean;
  result: string | null;
  requestedAt: string;
  finishedAt: string | null;
  report: Record<string, unknown> | null;
  created?: boolean;
}

describe('POST /v1/clusters/{id}/doctor', () => {
  it('queues a doctor run with its job, and returns the pending one when asked again', async () => {
    const id = await create('doctor-queued', { provisioningEnabled: true });
    const first = await doctor(id, t.keys.admin);
    expect(first.statusCode).toBe(202);
    const run = first.json<RunView>();
    expect(run).toMatchObject({
      clusterId: id,
      status: 'queued',
      provisioning: true,
      result: null,
      report: null,
      created: true,
    });
    expect(Object.keys(run).sort()).toEqual([
      'clusterId',
      'created',
      'error',
      'finishedAt',
      'id',
      'provisioning',
      'report',
      'requestedAt',
      'result',
      'startedAt',
      'status',
    ]);
    expect(await t.producer.jobState('cluster.doctor', { clusterId: id, doctorRunId: run.id })).toBe(
      'waiting',
    );
    const again = await doctor(id, t.keys.admin, { provisioning: false });
    expect(again.statusCode).toBe(202);
    expect(again.json<RunView>()).toMatchObject({ id: run.id, created: false });
    const audit = await listAudit(t.database, { clusterId: id });
    expect(audit.items.filter((e) => e.action === 'cluster.doctor')).toHaveLength(1);
    expect(audit.items.find((e) => e.action === 'cluster.doctor')?.actor).toMatch(/^api-key:/);
  });

  it('shows the latest run, its result and its report on GET of the cluster', async () => {
    const id = await create('doctor-shown');
    const before = await t.app.inject({
      method: 'GET',
      url: `/v1/clusters/${id}`,
      headers: auth(t.keys.read),
    });
    expect(before.json<{ doctor: unknown }>().doctor).toBeNull();
    const run = (await doctor(id, t.keys.admin, { provisioning: false })).json<RunView>();
    // What the sync worker does with the run.
    await startDoctorRun(t.database, run.id, 'worker:test');
    await completeDoctorRun(t.database, run.id, {
      result: 'fail',
      report: {
        cluster: { name: 'doctor-shown', region: 'eu-west-1' },
        provisioning: false,
        status: 'fail',
        checks: [
          {
            id: 'aws:iam:ListRoles',
            group: 'aws',
            title: 'iam:ListRoles',
            status: 'fail',
            detail: 'AccessDenied: …',
          },
        ],
        fixes: [],
        checkedAt: new Date().toISOString(),
        durationMs: 12,
      },
      actor: 'worker:test',
    });
    const after = await t.app.inject({
      method: 'GET',
      url: `/v1/clusters/${id}`,
      headers: auth(t.keys.read),
    });
    const shown = after.json<{ doctor: RunView }>().doctor;
    expect(shown).toMatchObject({ id: run.id, status: 'succeeded', result: 'fail', provisioning: false });
    expect(shown.report).toMatchObject({ checks: [{ id: 'aws:iam:ListRoles', status: 'fail' }] });
    expect(Date.parse(shown.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(shown.requestedAt));
  });

  it('needs the admin scope, a known cluster and a valid body', async () => {
    const id = await create('doctor-refused');
    expect((await doctor(id, t.keys.read)).statusCode).toBe(403);
    expect((await doctor(id, t.keys.sync)).statusCode).toBe(403);
    const unknownField = await doctor(id, t.keys.admin, { provisioning: true, dryRun: true });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');
    expect((await doctor(id, t.keys.admin, { provisioning: 'yes' })).statusCode).toBe(400);
    const missing = await doctor('00000000-0000-4000-8000-000000000000', t.keys.admin);
    expect(missing.statusCode).toBe(404);
    const noKey = await t.app.inject({ method: 'POST', url: `/v1/clusters/${id}/doctor` });
    expect(noKey.statusCode).toBe(401);
  });
});
