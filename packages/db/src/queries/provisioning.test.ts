import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import { listAudit } from './audit.js';
import { createCluster } from './clusters.js';
import {
  createExpiryRevoke,
  createProvisioningRequest,
  dueExpiries,
  finishProvisioningRequest,
  listProvisioningRequests,
  startProvisioningRequest,
} from './provisioning.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let db: TestDatabase;
let clusterId: string;
const ALICE = 'arn:aws:iam::111111111111:user/people/alice';
const base = () => ({
  clusterId,
  action: 'grant' as const,
  entitlementId: 'cluster_role:view:team-a:member',
  principalType: 'iam_user' as const,
  principalArn: ALICE,
  requestedBy: 'api-key:1',
});

beforeAll(async () => {
  db = await createTestDatabase(ADMIN_URL);
  clusterId = (await createCluster(db, { name: 'c', region: 'eu-west-1', hostingMode: 'default-chain' })).id;
});
afterAll(async () => {
  await db.drop();
});

describe('provisioning requests', () => {
  it('returns the first request for a repeated Idempotency-Key, and refuses the key for a different request', async () => {
    const first = await createProvisioningRequest(db, { ...base(), idempotencyKey: 'k1' });
    const again = await createProvisioningRequest(db, { ...base(), idempotencyKey: 'k1' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, request: { id: first.request.id } });
    await expect(
      createProvisioningRequest(db, {
        ...base(),
        entitlementId: 'cluster_role:admin:team-a:member',
        idempotencyKey: 'k1',
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    // The same key from another requester is a different request.
    expect(
      (await createProvisioningRequest(db, { ...base(), requestedBy: 'api-key:2', idempotencyKey: 'k1' }))
        .created,
    ).toBe(true);
  });

  it('finishes once per attempt and writes the audit event with before and after', async () => {
    const { request } = await createProvisioningRequest(db, base());
    const started = await startProvisioningRequest(db, request.id, 'p1');
    const plan = [
      {
        system: 'kubernetes',
        operation: 'create',
        target: 'rolebindings/team-a/x',
        state: 'applied',
        before: null,
        after: { subjects: [ALICE] },
      },
    ];
    await finishProvisioningRequest(
      db,
      request.id,
      { status: 'succeeded', result: 'granted', plan },
      { attempt: started.attempt, actor: 'worker:p1' },
    );
    await expect(
      finishProvisioningRequest(
        db,
        request.id,
        { status: 'failed' },
        { attempt: started.attempt, actor: 'worker:p1' },
      ),
    ).rejects.toMatchObject({ code: 'sync_run_state' });
    const audit = await listAudit(db, { action: 'access.grant' });
    const event = audit.items.find((e) => e.target === request.id);
    expect(event).toMatchObject({ actor: 'worker:p1', before: [null], after: [{ subjects: [ALICE] }] });
  });

  it('lists expired time-bound grants until exactly one revoke ends each', async () => {
    const past = new Date(Date.now() - 60_000);
    const { request } = await createProvisioningRequest(db, {
      ...base(),
      entitlementId: 'cluster_role:edit:team-b:member',
      expiresAt: past,
    });
    const s = await startProvisioningRequest(db, request.id, 'p1');
    await finishProvisioningRequest(
      db,
      request.id,
      { status: 'succeeded', result: 'granted' },
      { attempt: s.attempt, actor: 'worker:p1' },
    );
    expect((await dueExpiries(db, new Date())).map((r) => r.id)).toContain(request.id);
    const [a, b] = await Promise.all([
      createExpiryRevoke(db, request, 'reconciler'),
      createExpiryRevoke(db, request, 'reconciler'),
    ]);
    expect(a.request.id).toBe(b.request.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.request).toMatchObject({
      action: 'revoke',
      parentRequestId: request.id,
      entitlementId: 'cluster_role:edit:team-b:member',
    });
    expect((await dueExpiries(db, new Date())).map((r) => r.id)).not.toContain(request.id);
  });

  it('keeps a grant by duration open-ended until it is carried out, then records its expiry with the outcome', async () => {
    const durationMs = 3_600_000;
    const { request } = await createProvisioningRequest(db, {
      ...base(),
      durationMs,
      idempotencyKey: 'c1-task:t1',
    });
    expect(request).toMatchObject({ durationMs, expiresAt: null });
    // A re-delivered task asks for the same duration, so it joins the first request.
    expect(
      await createProvisioningRequest(db, { ...base(), durationMs, idempotencyKey: 'c1-task:t1' }),
    ).toMatchObject({ created: false, request: { id: request.id } });
    expect(await dueExpiries(db, new Date(Date.now() + 2 * durationMs))).not.toContainEqual(
      expect.objectContaining({ id: request.id }),
    );
    const started = await startProvisioningRequest(db, request.id, 'p1');
    const expiresAt = new Date(Date.now() + durationMs);
    const done = await finishProvisioningRequest(
      db,
      request.id,
      { status: 'succeeded', result: 'granted', expiresAt },
      { attempt: started.attempt, actor: 'worker:p1' },
    );
    expect(done.expiresAt?.getTime()).toBe(expiresAt.getTime());
    expect((await dueExpiries(db, new Date(expiresAt.getTime() + 1))).map((r) => r.id)).toContain(request.id);
  });

  it('refuses a duration on a revoke, a duration beside an expiry time, and one that is not positive', async () => {
    await expect(
      createProvisioningRequest(db, { ...base(), action: 'revoke', durationMs: 60_000 }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(
      createProvisioningRequest(db, {
        ...base(),
        durationMs: 60_000,
        expiresAt: new Date(Date.now() + 60_000),
      }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(createProvisioningRequest(db, { ...base(), durationMs: -1 })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });

  it('filters the list by principal and status, newest first', async () => {
    const page = await listProvisioningRequests(db, { principalArn: ALICE, status: 'succeeded' });
    expect(page.items.length).toBeGreaterThanOrEqual(2);
    expect(page.items.every((r) => r.status === 'succeeded')).toBe(true);
    expect(page.items[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(page.items[1]!.createdAt.getTime());
  });
});
