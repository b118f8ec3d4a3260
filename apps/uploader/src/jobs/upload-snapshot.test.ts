// The `upload.snapshot` job on real BullMQ, Postgres and a stand-in C1 over gRPC: retries and
// rate limits as C1 asks, dead letters, duplicate deliveries and an uploader killed mid-upload.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createUpload, getUpload, retryUpload, type Upload } from '@eks-access/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startHarness, stopAll, type Harness } from '../testing/harness.js';
import { startHoldingProxy } from '../testing/holding-proxy.js';

let h: Harness;
let clusterId: string;
let syncRunId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ id: clusterId } = await h.registerCluster('prod-eu', 'eu-west-1', toCluster(h.c1Credentials())));
  syncRunId = await h.syncNow(clusterId);
});
afterEach(async () => {
  await stopAll(h);
});
afterAll(async () => {
  await h.close();
});

/** A running full-sync task at the stand-in and its upload row, queued as a job. */
async function queuedUpload(maxAttempts = 3): Promise<{ taskId: string; upload: Upload }> {
  const taskId = h.standIn.enqueueTask({ syncFull: {} });
  const { upload } = await createUpload(h.database, { clusterId, syncRunId, c1TaskId: taskId, maxAttempts });
  await h.producer.enqueue('upload.snapshot', { uploadId: upload.id });
  return { taskId, upload };
}

const settled = (id: string) =>
  eventually(
    () => getUpload(h.database, id),
    (u) => ['succeeded', 'failed', 'dead'].includes(u.status),
  );

describe('the upload.snapshot job', () => {
  it('uploads the run’s c1z once and records its size and checksum', async () => {
    h.startUploadConsumer();
    const { taskId, upload } = await queuedUpload();
    const done = await settled(upload.id);
    const uploads = h.standIn.uploads(taskId);
    expect(uploads).toHaveLength(1);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempt: 1,
      bytes: uploads[0]!.bytes.length,
      sha256: uploads[0]!.sha256,
      lastError: null,
    });
    expect(uploads[0]!.bytes.subarray(0, 5)).toEqual(Buffer.from('C1ZF\0', 'latin1'));

    // The job delivered again (a duplicate, or BullMQ re-running it) uploads nothing more.
    await h.producer.requeue('upload.snapshot', { uploadId: upload.id });
    await eventually(
      () => h.producer.queueCounts(),
      (c) =>
        c['c1-upload'].completed >= 1 &&
        c['c1-upload'].waiting + c['c1-upload'].active + c['c1-upload'].delayed === 0,
    );
    expect(h.standIn.uploads(taskId)).toHaveLength(1);
    expect((await getUpload(h.database, upload.id)).attempt).toBe(1);
  });

  it('retries through Unavailable twice and succeeds on the third attempt', async () => {
    h.startUploadConsumer();
    h.standIn.failNext('UploadAsset', 2, { code: 'UNAVAILABLE' });
    const { taskId, upload } = await queuedUpload();
    const done = await settled(upload.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempt: 3,
      lastError: { code: 'UNAVAILABLE', retryable: true },
    });
    expect(h.standIn.uploads(taskId)).toHaveLength(1);
    expect(h.standIn.calls('UploadAsset').filter((c) => !c.ok).length).toBeGreaterThanOrEqual(2);
  });

  it('waits out a rate limit C1 sends (ResourceExhausted with its reset time) before trying again', async () => {
    h.startUploadConsumer();
    const resetAtMs = Date.now() + 1_500;
    h.standIn.failNext('UploadAsset', 1, {
      code: 'RESOURCE_EXHAUSTED',
      rateLimit: { limit: 10, remaining: 0, resetAtMs },
    });
    const before = h.standIn.calls('UploadAsset').length;
    const { taskId, upload } = await queuedUpload();
    const done = await settled(upload.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempt: 2,
      lastError: { code: 'RESOURCE_EXHAUSTED' },
    });
    // Recorded as C1 sent it (less than 1.5 s by the time the upload reached C1, however loaded the machine).
    expect(done.lastError?.retryAfterMs).toBeGreaterThan(0);
    const calls = h.standIn.calls('UploadAsset').slice(before);
    expect(calls.map((c) => c.ok)).toEqual([false, true]);
    // The retry came no earlier than the reset C1 announced (the limiter paused the whole tenant).
    expect(calls[1]!.at).toBeGreaterThanOrEqual(resetAtMs - 20);
    expect(h.standIn.uploads(taskId)).toHaveLength(1);
  });

  it('stops at once on credentials C1 refuses: one token request, the upload failed, no retries', async () => {
    h.startUploadConsumer();
    const other = await h.registerCluster('staging-us', 'us-east-1', toCluster(h.unknownC1Credentials()));
    const otherRun = await h.syncNow(other.id);
    const taskId = h.standIn.enqueueTask({ syncFull: {} });
    const rejectedBefore = h.standIn.counters().token.rejected;
    const { upload } = await createUpload(h.database, {
      clusterId: other.id,
      syncRunId: otherRun,
      c1TaskId: taskId,
      maxAttempts: 5,
    });
    await h.producer.enqueue('upload.snapshot', { uploadId: upload.id });
    const done = await settled(upload.id);
    expect(done).toMatchObject({
      status: 'failed',
      attempt: 1,
      lastError: { code: 'UNAUTHENTICATED', retryable: false },
    });
    expect(done.lastError?.message).toMatch(/rejected the client credentials/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.standIn.counters().token.rejected - rejectedBefore).toBe(1);
    expect(h.standIn.uploads(taskId)).toHaveLength(0);
  });

  it('ends an upload that keeps failing dead, and a retry from there uploads it once', async () => {
    h.startUploadConsumer();
    h.standIn.failNext('UploadAsset', 3, { code: 'UNAVAILABLE' });
    const { taskId, upload } = await queuedUpload(3);
    const dead = await settled(upload.id);
    expect(dead).toMatchObject({ status: 'dead', attempt: 3, lastError: { code: 'UNAVAILABLE' } });
    const counts = await h.producer.queueCounts();
    expect(counts['c1-upload'].failed).toBeGreaterThanOrEqual(1);

    // What POST /v1/uploads/{id}/retry does: fresh attempts, and the dead letter's job queued again.
    await retryUpload(h.database, upload.id, { attempts: 2 });
    await h.producer.requeue('upload.snapshot', { uploadId: upload.id });
    const done = await settled(upload.id);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 4 });
    expect(h.standIn.uploads(taskId)).toHaveLength(1);
  });

  it('resumes an upload whose uploader was killed mid-stream, without a duplicate upload', async () => {
    const taskId = h.standIn.enqueueTask({ syncFull: {} });
    const { upload } = await createUpload(h.database, {
      clusterId,
      syncRunId,
      c1TaskId: taskId,
      maxAttempts: 3,
    });
    // The doomed uploader reaches C1 through a proxy that lets the stream start, then holds it.
    const proxy = await startHoldingProxy(h.standIn.grpcTarget, 1_500);
    const callsBefore = h.standIn.calls('UploadAsset').length;
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, '../testing/upload-child.ts')],
      {
        cwd: join(import.meta.dirname, '../..'),
        env: {
          ...process.env,
          DATABASE_URL: h.database.url,
          ENCRYPTION_KEY: h.database.encryptionKey,
          UPLOAD_ID: upload.id,
          C1_API_HOST: proxy.target,
          C1_TOKEN_URL: h.standIn.tokenUrl,
          WORK_DIR: h.workDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(
        () => ({ started: h.standIn.calls('UploadAsset').length > callsBefore, held: proxy.held() }),
        (s) => s.started && s.held > 0,
        50_000,
      );
      expect((await getUpload(h.database, upload.id)).status).toBe('uploading');
      child.kill('SIGKILL');
      await exited;
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
    }
    // C1 kept nothing of the broken stream; the row still says attempt 1 is uploading.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.standIn.uploads(taskId)).toHaveLength(0);
    expect(await getUpload(h.database, upload.id)).toMatchObject({
      status: 'uploading',
      attempt: 1,
      worker: 'doomed-uploader',
    });

    // BullMQ hands the job to a live uploader, which takes the upload over.
    h.startUploadConsumer();
    await h.producer.enqueue('upload.snapshot', { uploadId: upload.id });
    const done = await settled(upload.id);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, worker: 'uploader-test' });
    const uploads = h.standIn.uploads(taskId);
    expect(uploads).toHaveLength(1);
    expect(createHash('sha256').update(uploads[0]!.bytes).digest('hex')).toBe(done.sha256);
  });
});

function toCluster(creds: { clientId: string; clientSecret: string }) {
  return { c1ClientId: creds.clientId, c1ClientSecret: creds.clientSecret };
}
