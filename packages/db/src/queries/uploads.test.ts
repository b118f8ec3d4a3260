import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import { listAudit } from './audit.js';
import { createCluster } from './clusters.js';
import {
  createUpload,
  failUpload,
  findTaskUpload,
  getUpload,
  listUploads,
  releaseUpload,
  retryUpload,
  startUpload,
  succeedUpload,
  uploadRetryDelayMs,
} from './uploads.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let db: TestDatabase;
let clusterId: string;
let otherClusterId: string;
const unavailable = {
  error: { code: 'UNAVAILABLE', message: 'UploadAsset failed: UNAVAILABLE' },
  retryable: true,
};
const backoff = { baseMs: 1_000, maxMs: 60_000 };

beforeAll(async () => {
  db = await createTestDatabase(ADMIN_URL);
  clusterId = (await createCluster(db, { name: 'c', region: 'eu-west-1', hostingMode: 'default-chain' })).id;
  otherClusterId = (await createCluster(db, { name: 'd', region: 'eu-west-1', hostingMode: 'default-chain' }))
    .id;
});
afterAll(async () => {
  await db.drop();
});

const newUpload = (task = `task-${randomUUID()}`, maxAttempts = 3, cluster = clusterId) =>
  createUpload(db, { clusterId: cluster, syncRunId: randomUUID(), c1TaskId: task, maxAttempts });

describe('uploads', () => {
  it('records one upload per (task, sync run), however often it is asked for', async () => {
    const syncRunId = randomUUID();
    const input = { clusterId, syncRunId, c1TaskId: 'TASK1', maxAttempts: 3 };
    const results = await Promise.all([
      createUpload(db, input),
      createUpload(db, input),
      createUpload(db, input),
    ]);
    expect(new Set(results.map((r) => r.upload.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    // Another task may upload the same run, and the task's newest upload is found by its id.
    const other = await createUpload(db, { ...input, c1TaskId: 'TASK2' });
    expect(other.created).toBe(true);
    expect((await findTaskUpload(db, 'TASK1'))?.id).toBe(results[0].upload.id);
    await expect(createUpload(db, { ...input, clusterId: randomUUID() })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('keeps what the C1 task asked the file to hold, so every attempt writes the same file', async () => {
    const c1zOptions = {
      targetedResources: [{ type: 'namespace', id: 'team-a' }],
      skipGrants: true,
      expandGrants: false,
    };
    const input = {
      clusterId,
      syncRunId: randomUUID(),
      c1TaskId: `task-${randomUUID()}`,
      maxAttempts: 3,
      c1zOptions,
    };
    const { upload } = await createUpload(db, input);
    expect(upload.c1zOptions).toEqual(c1zOptions);
    // Started (and retried) later, from the row alone.
    const started = await startUpload(db, upload.id, 'w1');
    expect(started.upload.c1zOptions).toEqual(c1zOptions);
    expect((await newUpload()).upload.c1zOptions).toBeNull();
  });

  it('fences attempts: only the attempt that started the upload may finish it', async () => {
    const { upload } = await newUpload();
    const first = await startUpload(db, upload.id, 'w1');
    expect(first).toMatchObject({ started: true, upload: { status: 'uploading', attempt: 1, worker: 'w1' } });
    // w1 stalls; its job goes to w2, which starts attempt 2.
    const second = await startUpload(db, upload.id, 'w2');
    expect(second.upload.attempt).toBe(2);
    await expect(
      succeedUpload(db, upload.id, 1, { bytes: 10, sha256: 'a'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(failUpload(db, upload.id, 1, unavailable)).rejects.toMatchObject({ code: 'conflict' });
    const done = await succeedUpload(db, upload.id, 2, { bytes: 1234, sha256: 'b'.repeat(64) });
    expect(done).toMatchObject({ status: 'succeeded', bytes: 1234, sha256: 'b'.repeat(64) });
    expect(done.finishedAt).toBeInstanceOf(Date);
    // A late re-delivery of its job finds it finished and starts nothing.
    expect(await startUpload(db, upload.id, 'w3')).toMatchObject({
      started: false,
      upload: { status: 'succeeded', attempt: 2 },
    });
  });

  it('puts a retryable failure back to pending after the backoff, or after the wait C1 asked for', async () => {
    const { upload } = await newUpload();
    const before = Date.now();
    await startUpload(db, upload.id, 'w1');
    const failed = await failUpload(db, upload.id, 1, unavailable, { backoff, random: () => 1 });
    expect(failed).toMatchObject({
      status: 'pending',
      lastError: { code: 'UNAVAILABLE', retryable: true },
      finishedAt: null,
    });
    // Attempt 1 with full jitter: the whole base delay.
    expect(failed.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before + 1_000 - 50);
    expect(failed.nextAttemptAt!.getTime()).toBeLessThan(Date.now() + 1_000 + 50);

    await startUpload(db, upload.id, 'w1');
    const limited = await failUpload(
      db,
      upload.id,
      2,
      {
        error: { code: 'RESOURCE_EXHAUSTED', message: 'rate limited' },
        retryable: true,
        retryAfterMs: 45_000,
      },
      { backoff },
    );
    expect(limited.lastError).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryAfterMs: 45_000 });
    expect(limited.nextAttemptAt!.getTime() - Date.now()).toBeGreaterThan(44_000);
  });

  it('backs off exponentially with jitter in the upper half, capped', () => {
    expect(uploadRetryDelayMs(1, { backoff, random: () => 0 })).toBe(500);
    expect(uploadRetryDelayMs(3, { backoff, random: () => 1 })).toBe(4_000);
    expect(uploadRetryDelayMs(30, { backoff, random: () => 1 })).toBe(60_000);
    expect(uploadRetryDelayMs(30, { backoff, retryAfterMs: 1_500.2 })).toBe(1_501);
  });

  it('ends dead after the last attempt, and failed at once for a non-retryable error', async () => {
    const { upload } = await newUpload(undefined, 2);
    await startUpload(db, upload.id, 'w1');
    await failUpload(db, upload.id, 1, unavailable, { backoff });
    await startUpload(db, upload.id, 'w1');
    const dead = await failUpload(db, upload.id, 2, unavailable, { backoff });
    expect(dead).toMatchObject({ status: 'dead', attempt: 2, nextAttemptAt: null });
    expect(dead.finishedAt).toBeInstanceOf(Date);
    expect(await startUpload(db, upload.id, 'w1')).toMatchObject({
      started: false,
      upload: { status: 'dead' },
    });

    const { upload: refused } = await newUpload();
    await startUpload(db, refused.id, 'w1');
    const failed = await failUpload(db, refused.id, 1, {
      error: { code: 'UNAUTHENTICATED', message: 'bad credentials' },
      retryable: false,
    });
    expect(failed).toMatchObject({ status: 'failed', attempt: 1, lastError: { retryable: false } });
  });

  it('makes an upload dead when its last attempt was interrupted and nobody finished it', async () => {
    const { upload } = await newUpload(undefined, 1);
    await startUpload(db, upload.id, 'w1');
    // w1 died mid-upload; its job is delivered again.
    const again = await startUpload(db, upload.id, 'w2');
    expect(again).toMatchObject({
      started: false,
      upload: { status: 'dead', lastError: { code: 'INTERRUPTED' } },
    });
  });

  it('does not count an attempt handed back at shutdown', async () => {
    const { upload } = await newUpload(undefined, 1);
    const { upload: started } = await startUpload(db, upload.id, 'w1');
    const released = await releaseUpload(db, upload.id, started.attempt);
    expect(released).toMatchObject({ status: 'pending', attempt: 1, maxAttempts: 2 });
    expect(await releaseUpload(db, upload.id, started.attempt)).toBeUndefined();
    expect(await startUpload(db, upload.id, 'w2')).toMatchObject({ started: true, upload: { attempt: 2 } });
  });

  it('retries only dead or failed uploads, with fresh attempts, and audits it', async () => {
    const { upload } = await newUpload(undefined, 1);
    await expect(retryUpload(db, upload.id, { attempts: 3 })).rejects.toMatchObject({ code: 'conflict' });
    await startUpload(db, upload.id, 'w1');
    await failUpload(db, upload.id, 1, unavailable, { backoff });
    const retried = await retryUpload(db, upload.id, {
      attempts: 3,
      audit: { actor: 'api-key:k', requestId: 'req-1' },
    });
    expect(retried).toMatchObject({
      status: 'pending',
      attempt: 1,
      maxAttempts: 4,
      finishedAt: null,
      lastError: { code: 'UNAVAILABLE' },
    });
    expect(await startUpload(db, upload.id, 'w1')).toMatchObject({ started: true, upload: { attempt: 2 } });
    const audit = await listAudit(db, { action: 'upload.retry' });
    expect(audit.items.find((e) => e.target === `upload:${upload.id}`)).toMatchObject({
      actor: 'api-key:k',
      requestId: 'req-1',
    });
    await expect(retryUpload(db, randomUUID(), { attempts: 1 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('lists uploads newest first, by cluster and status, page by page', async () => {
    const mine = await Promise.all([
      newUpload(undefined, 3, otherClusterId),
      newUpload(undefined, 3, otherClusterId),
      newUpload(undefined, 3, otherClusterId),
    ]);
    const first = await listUploads(db, { clusterId: otherClusterId }, { limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await listUploads(
      db,
      { clusterId: otherClusterId },
      { limit: 2, cursor: first.nextCursor! },
    );
    expect(second.nextCursor).toBeUndefined();
    const ids = [...first.items, ...second.items].map((u) => u.id);
    expect(ids.sort()).toEqual(mine.map((m) => m.upload.id).sort());
    const times = [...first.items, ...second.items].map((u) => u.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const dead = await listUploads(db, { status: 'dead' });
    expect(dead.items.length).toBeGreaterThan(0);
    expect(dead.items.every((u) => u.status === 'dead')).toBe(true);
    await expect(listUploads(db, {}, { cursor: 'bogus!' })).rejects.toMatchObject({ code: 'invalid_cursor' });
    expect((await getUpload(db, ids[0]!)).clusterId).toBe(otherClusterId);
  });
});
