import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandInC1, type StandInC1 } from '../standin/index.js';
import { type C1Client, createC1Client, UPLOAD_CHUNK_BYTES } from './client.js';
import { C1Error } from './errors.js';
import { defaultHelloInfo } from './hello-info.js';

const helloInfo = defaultHelloInfo({
  packageName: 'eks-access-test',
  packageVersion: '0.0.0',
  displayName: 'EKS',
});

describe('C1 client against the stand-in', () => {
  let standIn: StandInC1;
  let client: C1Client;
  let dir: string;

  beforeAll(async () => {
    standIn = await startStandInC1({ nextPollMs: 250, nextHeartbeatMs: 2_000 });
    dir = await mkdtemp(join(tmpdir(), 'c1-client-'));
  });
  afterEach(() => client?.close());
  afterAll(async () => {
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  });

  function connect(options: { uploadRetryDelaysMs?: number[] } = {}): C1Client {
    client = createC1Client({ ...standIn.clientOptions(standIn.registerClient(), 'host-1'), ...options });
    return client;
  }

  it('says hello with its host id, build and OS info', async () => {
    await connect().hello(helloInfo);
    const hello = standIn.hellos().at(-1);
    expect(hello).toMatchObject({
      hostId: 'host-1',
      buildInfo: { package: 'eks-access-test', packageVersion: '0.0.0' },
      connectorMetadata: { displayName: 'EKS' },
    });
    expect(hello?.osInfo.hostname).not.toBe('');
  });

  it('gets a queued task with C1 poll and heartbeat intervals, then no task', async () => {
    const c = connect();
    const id = standIn.enqueueTask({ syncFull: { skipExpandGrants: true } });
    const got = await c.getTask();
    expect(got).toEqual({
      task: { kind: 'syncFull', id, syncFull: expect.objectContaining({ skipExpandGrants: true }) },
      nextPollMs: 250,
      nextHeartbeatMs: 2_000,
    });
    expect(id).toMatch(/^[a-zA-Z0-9]{27}$/);
    expect((await c.getTask()).task).toBeUndefined();
  });

  it('heartbeats a task and learns when C1 cancels it', async () => {
    const c = connect();
    const id = standIn.enqueueTask({ syncFull: {} });
    await c.getTask();
    expect(await c.heartbeat(id)).toEqual({ cancelled: false, nextHeartbeatMs: 2_000 });
    standIn.cancelTask(id);
    expect((await c.heartbeat(id)).cancelled).toBe(true);
    expect(standIn.heartbeats(id)).toBe(2);
  });

  it('streams a file in 512 KiB chunks ending with its SHA-256', async () => {
    const c = connect();
    const id = standIn.enqueueTask({ syncFull: {} });
    const content = randomBytes(2 * UPLOAD_CHUNK_BYTES + 12_345);
    const path = join(dir, 'sync.c1z');
    await writeFile(path, content);
    const result = await c.uploadAsset(id, path);
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(result).toEqual({ bytes: content.length, chunks: 3, sha256, attempts: 1 });
    const [upload] = standIn.uploads(id);
    expect(upload?.bytes.equals(content)).toBe(true);
    expect(upload?.chunkSizes).toEqual([UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES, 12_345]);
    expect(upload?.sha256).toBe(sha256);
    expect(upload?.hostId).toBe('host-1');
  });

  it('retries a whole upload after Unavailable and stops after three attempts', async () => {
    const c = connect({ uploadRetryDelaysMs: [0, 10] });
    const id = standIn.enqueueTask({ syncFull: {} });
    const content = randomBytes(UPLOAD_CHUNK_BYTES + 1);

    standIn.failNext('UploadAsset', 2, { code: 'UNAVAILABLE' });
    expect((await c.uploadAsset(id, content)).attempts).toBe(3);
    expect(standIn.uploads(id)).toHaveLength(1);

    standIn.failNext('UploadAsset', 3, { code: 'UNAVAILABLE' });
    const err = await c.uploadAsset(id, content).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(standIn.uploads(id)).toHaveLength(1);
  });

  it('does not retry an upload C1 refuses', async () => {
    const c = connect({ uploadRetryDelaysMs: [0, 10] });
    const before = standIn.counters().rpc.UploadAsset.calls;
    const err = await c.uploadAsset('0'.repeat(27), Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect(standIn.counters().rpc.UploadAsset.calls - before).toBe(1);
  });

  it('finishes a task with success annotations or an error status', async () => {
    const c = connect();
    const ok = standIn.enqueueTask({ syncFull: {} });
    const failed = standIn.enqueueTask({ syncFull: {} });
    await c.finishTask(ok, { success: {} });
    await c.finishTask(failed, { error: { code: 9, message: 'cluster is gone', nonRetryable: true } });
    expect(standIn.finished(ok)).toMatchObject({ hostId: 'host-1', finalState: 'success' });
    expect(standIn.finished(failed)).toMatchObject({
      finalState: 'error',
      status: { code: 9, message: 'cluster is gone' },
      error: { nonRetryable: true },
    });
  });

  it('classifies ResourceExhausted with rate-limit details as retryable with the wait C1 asked for', async () => {
    const c = connect();
    const resetAtMs = Date.now() + 3_000;
    standIn.failNext('GetTask', 1, {
      code: 'RESOURCE_EXHAUSTED',
      rateLimit: { remaining: 0, resetAtMs, limit: 10 },
    });
    const err = await c.getTask().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(C1Error);
    const c1Err = err as C1Error;
    expect(c1Err).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, grpcCode: 8 });
    expect(c1Err.rateLimit).toMatchObject({ status: 'OVERLIMIT', limit: 10 });
    expect(c1Err.retryAfterMs).toBeGreaterThan(2_000);
    expect(c1Err.retryAfterMs).toBeLessThanOrEqual(3_000);
  });

  it('classifies credential and request errors as non-retryable', async () => {
    const c = connect();
    standIn.failNext('Hello', 1, { code: 'PERMISSION_DENIED' });
    await expect(c.hello(helloInfo)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', retryable: false });
    await expect(c.heartbeat('0'.repeat(27))).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
  });

  it('reports an unreachable C1 as retryable Unavailable', async () => {
    const creds = standIn.registerClient();
    client = createC1Client({ ...standIn.clientOptions(creds), apiHost: '127.0.0.1:1', rpcTimeoutMs: 2_000 });
    await expect(client.getTask()).rejects.toMatchObject({ retryable: true });
  });

  it('rejects a malformed secret before any request', () => {
    const before = standIn.counters().token.requests;
    const creds = standIn.registerClient();
    expect(() => createC1Client({ ...standIn.clientOptions(creds), clientSecret: 'not-a-secret' })).toThrow(
      /C1 client secret is malformed/,
    );
    expect(standIn.counters().token.requests).toBe(before);
  });
});
