// The uploads routes: dead letters are visible, and a retry puts the upload and its job back.
import { randomUUID } from 'node:crypto';
import { createCluster, createUpload, failUpload, startUpload, type Upload } from '@eks-access/db';
import { createRedisConnection } from '@eks-access/queue';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
let clusterId: string;
let otherClusterId: string;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const unavailable = {
  error: { code: 'UNAVAILABLE', message: 'UploadAsset failed: UNAVAILABLE' },
  retryable: true,
};

beforeAll(async () => {
  t = await startTestApi();
  clusterId = (
    await createCluster(t.database, { name: 'up', region: 'eu-west-1', hostingMode: 'default-chain' })
  ).id;
  otherClusterId = (
    await createCluster(t.database, { name: 'other', region: 'eu-west-1', hostingMode: 'default-chain' })
  ).id;
});
afterAll(async () => {
  await t.close();
});

/** An upload whose only attempt failed: dead, with its job in the queue's failed set, as the uploader leaves it. */
async function deadUpload(cluster = clusterId): Promise<Upload> {
  const { upload } = await createUpload(t.database, {
    clusterId: cluster,
    syncRunId: randomUUID(),
    c1TaskId: `TASK${randomUUID()}`,
    maxAttempts: 1,
  });
  await startUpload(t.database, upload.id, 'uploader-1');
  const dead = await failUpload(t.database, upload.id, 1, unavailable);
  const { id } = await t.producer.enqueue('upload.snapshot', { uploadId: upload.id });
  const connection = await createRedisConnection({
    url: REDIS_URL,
    role: 'worker',
    logger: pino({ level: 'silent' }),
  });
  const worker = new Worker('c1-upload', () => Promise.reject(new UnrecoverableError('dead')), {
    connection,
    prefix: t.prefix,
  });
  await new Promise((resolve) => worker.on('failed', (job) => job?.id === id && resolve(undefined)));
  await worker.close();
  connection.disconnect();
  return dead;
}

describe('uploads', () => {
  it('lists dead uploads with their last error, filtered by cluster and status', async () => {
    const dead = await deadUpload();
    await deadUpload(otherClusterId);
    const { upload: pending } = await createUpload(t.database, {
      clusterId,
      syncRunId: randomUUID(),
      c1TaskId: 'TASK-PENDING',
      maxAttempts: 3,
    });

    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/uploads?status=dead&clusterId=${clusterId}`,
      headers: auth(t.keys.read),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ items: Record<string, unknown>[] }>();
    expect(body.items.map((u) => u.id)).toEqual([dead.id]);
    expect(body.items[0]).toMatchObject({
      status: 'dead',
      attempt: 1,
      clusterId,
      lastError: { code: 'UNAVAILABLE', retryable: true },
    });

    const all = await t.app.inject({
      method: 'GET',
      url: `/v1/uploads?clusterId=${clusterId}&limit=1`,
      headers: auth(t.keys.read),
    });
    const first = all.json<{ items: { id: string }[]; nextCursor?: string }>();
    expect(first.items.map((u) => u.id)).toEqual([pending.id]);
    const next = await t.app.inject({
      method: 'GET',
      url: `/v1/uploads?clusterId=${clusterId}&cursor=${first.nextCursor}`,
      headers: auth(t.keys.read),
    });
    expect(next.json<{ items: { id: string }[] }>().items.map((u) => u.id)).toContain(dead.id);

    const bad = await t.app.inject({
      method: 'GET',
      url: '/v1/uploads?status=lost',
      headers: auth(t.keys.read),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');
  });

  it('retries a dead upload: pending again with fresh attempts, and its job queued in place of the dead letter', async () => {
    const dead = await deadUpload();
    const queue = new Queue('c1-upload', { connection: t.redis, prefix: t.prefix });
    expect(await queue.getJobState(`upload-${dead.id}`)).toBe('failed');

    const readOnly = await t.app.inject({
      method: 'POST',
      url: `/v1/uploads/${dead.id}/retry`,
      headers: auth(t.keys.read),
    });
    expect(readOnly.statusCode).toBe(403);

    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/uploads/${dead.id}/retry`,
      headers: auth(t.keys.sync),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      id: dead.id,
      status: 'pending',
      attempt: 1,
      maxAttempts: 6,
      finishedAt: null,
    });
    expect(await queue.getJobState(`upload-${dead.id}`)).toBe('waiting');

    // Only dead or failed uploads can be retried.
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/uploads/${dead.id}/retry`,
      headers: auth(t.keys.sync),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/is pending; only dead or failed/),
    });
    const missing = await t.app.inject({
      method: 'POST',
      url: `/v1/uploads/${randomUUID()}/retry`,
      headers: auth(t.keys.sync),
    });
    expect(missing.statusCode).toBe(404);
    await queue.close();
  });
});
