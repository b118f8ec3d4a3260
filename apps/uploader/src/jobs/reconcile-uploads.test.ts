// The upload janitor on real BullMQ, Postgres and a stand-in C1: an upload whose job was
// dead-lettered after stalling gets its job again and reaches C1 once; one whose attempts are used
// up ends dead with the reason instead of looping; a live job is never duplicated.
import { createUpload, getUpload } from '@eks-access/db';
import { createLockManager } from '@eks-access/queue';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness, stopAll, type Harness } from '../testing/harness.js';
import { reconcileUploads } from './reconcile-uploads.js';

let h: Harness;
let clusterId: string;
let syncRunId: string;

beforeAll(async () => {
  h = await startHarness();
  const c1 = h.c1Credentials();
  ({ id: clusterId } = await h.registerCluster('prod-eu', 'eu-west-1', {
    c1ClientId: c1.clientId,
    c1ClientSecret: c1.clientSecret,
  }));
  syncRunId = await h.syncNow(clusterId);
});
afterEach(async () => {
  await stopAll(h);
});
afterAll(async () => {
  await h.close();
});

/** An upload of a C1 task whose job BullMQ dead-lettered ("stalled more than allowable limit"). */
async function abandonedUpload(opts: { attempt: number; maxAttempts: number }) {
  const taskId = h.standIn.enqueueTask({ syncFull: {} });
  const { upload } = await createUpload(h.database, {
    clusterId,
    syncRunId,
    c1TaskId: taskId,
    maxAttempts: opts.maxAttempts,
  });
  await h.database.pool.query(
    `UPDATE uploads SET status = 'uploading', attempt = $2, started_at = now() - interval '1 hour' WHERE id = $1`,
    [upload.id, opts.attempt],
  );
  await h.producer.enqueue('upload.snapshot', { uploadId: upload.id });
  const id = `upload-${upload.id}`;
  await h.redis
    .multi()
    .lrem(`${h.prefix}:c1-upload:wait`, 0, id)
    .zadd(`${h.prefix}:c1-upload:failed`, Date.now(), id)
    .hset(
      `${h.prefix}:c1-upload:${id}`,
      'failedReason',
      'job stalled more than allowable limit',
      'finishedOn',
      String(Date.now()),
    )
    .exec();
  return { taskId, uploadId: upload.id };
}

const pass = () =>
  reconcileUploads({
    database: h.database,
    producer: h.producer,
    locks: createLockManager({ connection: h.redis, prefix: h.prefix }),
    staleAfterMs: 60_000,
    lockMs: 5_000,
  });

describe('the upload janitor', () => {
  it('gives an abandoned upload its job again: it reaches C1 once, and a second pass changes nothing', async () => {
    const { taskId, uploadId } = await abandonedUpload({ attempt: 1, maxAttempts: 3 });
    expect(await pass()).toEqual({ requeued: 1 });
    expect(await pass()).toEqual({ requeued: 0 });
    h.startUploadConsumer();
    const done = await eventually(
      () => getUpload(h.database, uploadId),
      (u) => u.status !== 'pending' && u.status !== 'uploading',
    );
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(h.standIn.uploads(taskId)).toHaveLength(1);
  });

  it('ends an abandoned upload whose attempts are used up as dead with the reason', async () => {
    const { taskId, uploadId } = await abandonedUpload({ attempt: 3, maxAttempts: 3 });
    expect(await pass()).toEqual({ requeued: 1 });
    h.startUploadConsumer();
    const done = await eventually(
      () => getUpload(h.database, uploadId),
      (u) => u.status !== 'pending' && u.status !== 'uploading',
    );
    expect(done).toMatchObject({ status: 'dead', lastError: { code: 'INTERRUPTED' } });
    expect(h.standIn.uploads(taskId)).toHaveLength(0);
  });
});
