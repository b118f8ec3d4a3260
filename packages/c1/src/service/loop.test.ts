import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandInC1, type StandInC1 } from '../standin/index.js';
import { type C1Client, createC1Client, UPLOAD_CHUNK_BYTES } from './client.js';
import { generateClientCredentials } from './credentials.js';
import { C1Error, rateLimitWaitMs } from './errors.js';
import { defaultHelloInfo } from './hello-info.js';
import { runServiceLoop, type ServiceLoopHandlers, type TaskContext } from './loop.js';
import {
  decodeListEventsResponse,
  grantAlreadyExistsAnnotation,
  grantAlreadyRevokedAnnotation,
  messageCodecs,
} from './messages.js';
import { typeNameOf } from './proto.js';
import { createMemoryLogger } from './test-support.js';

const helloInfo = defaultHelloInfo({
  packageName: 'eks-access-test',
  packageVersion: '0.0.0',
  displayName: 'EKS',
});
const fastBackoff = { initialMs: 20, maxMs: 100 };

const unexpected: ServiceLoopHandlers = {
  syncFull: () => Promise.reject(new Error('unexpected sync task')),
  grant: () => Promise.reject(new Error('unexpected grant task')),
  revoke: () => Promise.reject(new Error('unexpected revoke task')),
};

const entitlement = {
  id: 'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned',
  resource: { id: { resourceType: 'access_policy', resource: 'AmazonEKSViewPolicy' } },
};
const principal = { id: { resourceType: 'role', resource: 'arn:aws:iam::123456789012:role/dev' } };
const VIEW = 'cluster_role:view:team-a:member';

describe('runServiceLoop against the stand-in', () => {
  let standIn: StandInC1;
  let dir: string;
  const running: { controller: AbortController; done: Promise<void>; client: C1Client }[] = [];

  beforeAll(async () => {
    standIn = await startStandInC1({ nextPollMs: 20, nextHeartbeatMs: 1_000 });
    dir = await mkdtemp(join(tmpdir(), 'c1-loop-'));
  });
  afterEach(async () => {
    for (const { controller, done, client } of running.splice(0)) {
      controller.abort();
      await done.catch(() => {});
      client.close();
    }
    standIn.setTiming({ nextPollMs: 20, nextHeartbeatMs: 1_000 });
  });
  afterAll(async () => {
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  });

  function start(handlers: Partial<ServiceLoopHandlers>, hostId = 'loop-host') {
    const client = createC1Client(standIn.clientOptions(standIn.registerClient(), hostId));
    const logger = createMemoryLogger();
    const controller = new AbortController();
    const done = runServiceLoop({
      client,
      handlers: { ...unexpected, ...handlers },
      helloInfo,
      logger,
      signal: controller.signal,
      backoff: fastBackoff,
    });
    running.push({ controller, done, client });
    return { logger, done, controller };
  }

  it('runs a full sync: uploads the handler’s c1z in 512 KiB chunks and finishes the task', async () => {
    const content = randomBytes(2 * UPLOAD_CHUNK_BYTES + 777);
    const path = join(dir, 'sync.c1z');
    await writeFile(path, content);
    const seen: string[] = [];
    const taskId = standIn.enqueueTask({ syncFull: { skipExpandGrants: true } });
    start({
      syncFull: async (task) => {
        seen.push(task.id);
        expect(task.syncFull.skipExpandGrants).toBe(true);
        return { c1zPath: path };
      },
    });

    const finish = await standIn.waitForFinish(taskId);
    expect(finish.finalState).toBe('success');
    expect(seen).toEqual([taskId]);
    const uploads = standIn.uploads(taskId);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.bytes.equals(content)).toBe(true);
    expect(uploads[0]?.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(uploads[0]?.chunkSizes).toEqual([UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES, 777]);
    expect(standIn.heartbeats(taskId)).toBeGreaterThanOrEqual(1);
    expect(standIn.hellos().some((h) => h.hostId === 'loop-host')).toBe(true);
  });

  it('stops with one clear error and no retry storm when the secret is not accepted', async () => {
    const creds = generateClientCredentials(standIn.audience); // never registered
    const client = createC1Client({ ...standIn.clientOptions(creds), hostId: 'bad-host' });
    const logger = createMemoryLogger();
    const before = standIn.counters();
    const err = await runServiceLoop({
      client,
      handlers: unexpected,
      helloInfo,
      logger,
      backoff: fastBackoff,
    }).catch((e: unknown) => e);
    client.close();

    expect(err).toBeInstanceOf(C1Error);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });
    const after = standIn.counters();
    expect(after.token.requests - before.token.requests).toBe(1);
    expect(after.rpc.Hello.calls - before.rpc.Hello.calls).toBe(0);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe('c1 refused hello; service mode stopped');
    expect(JSON.stringify(logger.lines)).not.toContain(creds.clientSecret.split(':')[3]);
  });

  it('stops at once when C1 answers Hello with PermissionDenied', async () => {
    standIn.failNext('Hello', 1, { code: 'PERMISSION_DENIED' });
    const before = standIn.counters().rpc.Hello.calls;
    const { done } = start({});
    await expect(done).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(standIn.counters().rpc.Hello.calls - before).toBe(1);
  });

  it('retries Unavailable twice, then carries on', async () => {
    standIn.failNext('Hello', 2, { code: 'UNAVAILABLE' });
    standIn.failNext('FinishTask', 2, { code: 'UNAVAILABLE' });
    const helloBefore = standIn.counters().rpc.Hello.calls;
    const finishRejectedBefore = standIn.counters().rpc.FinishTask.rejected;
    const taskId = standIn.enqueueTask({ revoke: { grant: { id: 'g1', entitlement, principal } } });
    const { logger } = start({ revoke: async () => ({}) });

    const finish = await standIn.waitForFinish(taskId);
    expect(finish.finalState).toBe('success');
    expect(standIn.counters().rpc.Hello.calls - helloBefore).toBe(3);
    expect(standIn.counters().rpc.FinishTask.rejected - finishRejectedBefore).toBe(2);
    expect(logger.lines.filter((l) => l.msg === 'c1 hello failed; retrying')).toHaveLength(2);
    expect(logger.lines.filter((l) => l.msg === 'c1 finish task failed; retrying')).toHaveLength(2);
  });

  it('waits until reset_at when ResourceExhausted says nothing remains', async () => {
    const waitMs = 400;
    const from = standIn.calls('GetTask').length;
    const { logger } = start({});
    await waitForCall(from);
    const resetAtMs = Date.now() + waitMs;
    standIn.failNext('GetTask', 1, {
      code: 'RESOURCE_EXHAUSTED',
      rateLimit: { remaining: 0, resetAtMs, limit: 100 },
    });
    const limited = await waitForCall(from, (c) => !c.ok);
    const next = await waitForCall(from, (c) => c.at > limited.at);
    // Measured against reset_at itself: how late the limited call arrived does not matter. The
    // few milliseconds allow for reset_at travelling as whole milliseconds.
    expect(next.at).toBeGreaterThanOrEqual(resetAtMs - 5);
    const retry = logger.lines.find((l) => l.msg === 'c1 get task failed; retrying');
    expect(retry?.fields.delayMs).toBeGreaterThan(0);
  });

  it('spreads the time to reset over the remaining calls', () => {
    const now = 1_000_000;
    const resetAt = { seconds: (now + 900) / 1000 };
    expect(rateLimitWaitMs({ remaining: 3, resetAt }, now)).toBe(300);
    expect(rateLimitWaitMs({ remaining: 0, resetAt }, now)).toBe(900);
    expect(rateLimitWaitMs({ remaining: 0, resetAt: { seconds: 1 } }, now)).toBe(0);
    expect(rateLimitWaitMs({ remaining: 5 }, now)).toBeUndefined();
  });

  it('aborts the handler’s signal when a heartbeat says C1 cancelled the task', async () => {
    let ctxSeen: TaskContext | undefined;
    const taskId = standIn.enqueueTask({ syncFull: {} });
    start({
      syncFull: (_task, ctx) => {
        ctxSeen = ctx;
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
        });
      },
    });
    await standIn.waitForStart(taskId);
    await waitUntil(() => standIn.heartbeats(taskId) >= 1);
    standIn.cancelTask(taskId);

    const finish = await standIn.waitForFinish(taskId, 5_000);
    expect(ctxSeen?.signal.aborted).toBe(true);
    expect(ctxSeen?.signal.reason).toMatchObject({ code: 'TASK_CANCELLED' });
    expect(finish).toMatchObject({ finalState: 'error', status: { message: 'C1 cancelled the task' } });
    expect(standIn.uploads(taskId)).toHaveLength(0);
  });

  it('finishes a grant task with the handler’s annotations and a GrantManagerService response', async () => {
    const taskId = standIn.enqueueTask({ grant: { entitlement, principal } });
    start({
      grant: async (task) => {
        expect(task.grant.entitlement?.id).toBe(entitlement.id);
        expect(task.grant.principal?.id?.resource).toBe(principal.id.resource);
        return { annotations: [grantAlreadyExistsAnnotation()] };
      },
    });
    const finish = await standIn.waitForFinish(taskId);
    expect(finish.finalState).toBe('success');
    const annotations = finish.success?.annotations ?? [];
    expect(annotations.map((a) => a.typeUrl)).toEqual([
      'type.googleapis.com/c1.connector.v2.GrantAlreadyExists',
    ]);
    const response = finish.success?.response;
    expect(typeNameOf(response?.typeUrl ?? '')).toBe('c1.connector.v2.GrantManagerServiceGrantResponse');
    const decoded = messageCodecs().grantResponse.decode(response?.value ?? new Uint8Array());
    expect(decoded.annotations?.map((a) => a.typeUrl)).toEqual([annotations[0]?.typeUrl]);
  });

  it('finishes a revoke task with GrantAlreadyRevoked when nothing had to change', async () => {
    const taskId = standIn.enqueueTask({ revoke: { grant: { id: 'grant-1', entitlement, principal } } });
    start({ revoke: async () => ({ annotations: [grantAlreadyRevokedAnnotation()] }) });
    const finish = await standIn.waitForFinish(taskId);
    expect(finish.success?.annotations?.map((a) => typeNameOf(a.typeUrl))).toEqual([
      'c1.connector.v2.GrantAlreadyRevoked',
    ]);
  });

  it('finishes a failed grant or revoke as non-retryable whatever the error, as baton-sdk does', async () => {
    class AccessError extends Error {
      constructor(
        message: string,
        readonly retryable: boolean,
      ) {
        super(message);
      }
    }
    const grant = standIn.enqueueTask({ grant: { entitlement, principal } });
    const revoke = standIn.enqueueTask({ revoke: { grant: { id: 'g2', entitlement, principal } } });
    start({
      grant: () => Promise.reject(new AccessError('EKS throttled the request', true)),
      revoke: () =>
        Promise.reject(
          new C1Error('FAILED_PRECONDITION', 'provisioning is off', { retryable: false, grpcCode: 9 }),
        ),
    });
    expect(await standIn.waitForFinish(grant)).toMatchObject({
      finalState: 'error',
      status: { code: 2, message: 'EKS throttled the request' },
      error: { nonRetryable: true },
    });
    expect(await standIn.waitForFinish(revoke)).toMatchObject({
      finalState: 'error',
      status: { code: 9, message: 'provisioning is off' },
      error: { nonRetryable: true },
    });
  });

  it('takes a failed full sync’s retryability from the error', async () => {
    const transient = standIn.enqueueTask({ syncFull: {} });
    start({
      syncFull: () =>
        Promise.reject(new C1Error('UNAVAILABLE', 'the sync could not reach EKS', { retryable: true })),
    });
    const finish = await standIn.waitForFinish(transient);
    expect(finish.finalState).toBe('error');
    expect(finish.error?.nonRetryable ?? false).toBe(false);
  });

  it('runs grant and revoke tasks without heartbeats, as baton-sdk does', async () => {
    const grant = standIn.enqueueTask({ grant: { entitlement, principal } });
    const revoke = standIn.enqueueTask({ revoke: { grant: { id: 'g3', entitlement, principal } } });
    start({ grant: async () => ({}), revoke: async () => ({}) });
    expect((await standIn.waitForFinish(grant)).finalState).toBe('success');
    expect((await standIn.waitForFinish(revoke)).finalState).toBe('success');
    expect(standIn.heartbeats(grant)).toBe(0);
    expect(standIn.heartbeats(revoke)).toBe(0);
  });

  it('answers a hello task with a Hello naming the task, and nothing else', async () => {
    const taskId = standIn.enqueueTask({ hello: {} });
    const after = standIn.enqueueTask({ revoke: { grant: { id: 'g4', entitlement, principal } } });
    start({ revoke: async () => ({}) });
    const hello = await standIn.waitForHello(taskId);
    expect(hello).toMatchObject({ hostId: 'loop-host', taskId, connectorMetadata: { displayName: 'EKS' } });
    // The next task runs, so the hello task was done with: no FinishTask, no heartbeat for it.
    await standIn.waitForFinish(after);
    expect(standIn.task(taskId)?.finishes).toHaveLength(0);
    expect(standIn.heartbeats(taskId)).toBe(0);
  });

  it('answers list_event_feeds with an empty ListEventFeedsResponse until the connector has feeds', async () => {
    const empty = standIn.enqueueTask({ listEventFeeds: {} });
    const { controller } = start({});
    const finish = await standIn.waitForFinish(empty);
    expect(finish.finalState).toBe('success');
    expect(typeNameOf(finish.success?.response?.typeUrl ?? '')).toBe(
      'c1.connector.v2.ListEventFeedsResponse',
    );
    expect(
      messageCodecs().listEventFeedsResponse.decode(finish.success?.response?.value ?? new Uint8Array()),
    ).toEqual({
      list: [],
      annotations: [],
    });
    expect(standIn.heartbeats(empty)).toBe(0);
    controller.abort();

    const served = standIn.enqueueTask({ listEventFeeds: {} });
    start({
      listEventFeeds: async () => [
        { id: 'cluster-changes', supportedEventTypes: ['EVENT_TYPE_RESOURCE_CHANGE'] },
      ],
    });
    const listed = await standIn.waitForFinish(served);
    expect(
      messageCodecs().listEventFeedsResponse.decode(listed.success?.response?.value ?? new Uint8Array()).list,
    ).toEqual([{ id: 'cluster-changes', supportedEventTypes: ['EVENT_TYPE_RESOURCE_CHANGE'] }]);
  });

  it('answers list_events with the handler’s page: GrantEvent, RevokeEvent and ResourceChangeEvent, its cursor and has_more', async () => {
    const taskId = standIn.enqueueTask({
      listEvents: { cursor: '41', eventFeedId: 'changes', pageSize: 3, startAt: { seconds: 1_700_000_000 } },
    });
    const asked: unknown[] = [];
    const grant = {
      id: 'cluster_role:view:team-a:member:iam_user:arn:aws:iam::1:user/bob',
      entitlementId: VIEW,
      resource: { type: 'cluster_role', id: 'view' },
      principal: { type: 'iam_user', id: 'arn:aws:iam::1:user/bob' },
    };
    const at = new Date('2026-12-01T10:00:00.250Z');
    start({
      listEvents: async (task) => {
        asked.push(task.listEvents);
        return {
          events: [
            { id: '42', occurredAt: at, kind: 'grant', grant },
            { id: '43', occurredAt: at, kind: 'revoke', grant },
            {
              id: '44',
              occurredAt: at,
              kind: 'resourceChange',
              resource: { type: 'namespace', id: 'team-a' },
              parent: { type: 'cluster', id: 'prod' },
            },
          ],
          cursor: '44',
          hasMore: true,
        };
      },
    });
    const finish = await standIn.waitForFinish(taskId);
    expect(asked).toEqual([
      {
        cursor: '41',
        eventFeedId: 'changes',
        pageSize: 3,
        startAt: { seconds: 1_700_000_000 },
        annotations: [],
      },
    ]);
    expect(finish.finalState).toBe('success');
    expect(typeNameOf(finish.success?.response?.typeUrl ?? '')).toBe('c1.connector.v2.ListEventsResponse');
    const page = decodeListEventsResponse(finish.success?.response?.value ?? new Uint8Array());
    const entitlement = { id: VIEW, resource: { id: { resourceType: 'cluster_role', resource: 'view' } } };
    const principal = { id: { resourceType: 'iam_user', resource: 'arn:aws:iam::1:user/bob' } };
    const occurredAt = { seconds: Math.floor(at.getTime() / 1000), nanos: 250_000_000 };
    expect(page).toMatchObject({ cursor: '44', hasMore: true });
    expect(page.events).toMatchObject([
      {
        id: '42',
        occurredAt,
        event: 'grantEvent',
        grantEvent: { grant: { id: grant.id, entitlement, principal } },
      },
      { id: '43', occurredAt, event: 'revokeEvent', revokeEvent: { entitlement, principal } },
      {
        id: '44',
        occurredAt,
        event: 'resourceChangeEvent',
        resourceChangeEvent: {
          resourceId: { resourceType: 'namespace', resource: 'team-a' },
          parentResourceId: { resourceType: 'cluster', resource: 'prod' },
        },
      },
    ]);
    expect(standIn.heartbeats(taskId)).toBe(0);
  });

  it('finishes task types it does not run as baton-sdk does an unknown type: Unknown, retryable, no heartbeat', async () => {
    const kinds = [
      standIn.enqueueTask({ createAccount: { resourceTypeId: 'iam_user' } }),
      standIn.enqueueTask({ listEvents: { pageSize: 10 } }),
      standIn.enqueueTask({ issueCredential: {} }),
    ];
    const { logger } = start({});
    for (const taskId of kinds) {
      const finish = await standIn.waitForFinish(taskId);
      expect(finish).toMatchObject({
        finalState: 'error',
        status: { code: 2, message: 'unsupported task type' },
      });
      expect(finish.error?.nonRetryable ?? false).toBe(false);
      expect(standIn.heartbeats(taskId)).toBe(0);
    }
    expect(
      logger.lines
        .filter((l) => l.msg === 'c1 sent a task type this connector does not run')
        .map((l) => l.fields.taskType),
    ).toEqual(['createAccount', 'listEvents', 'issueCredential']);
  });

  it('reports a grant cut short by the loop stopping as retryable, so C1 can hand it out again', async () => {
    const taskId = standIn.enqueueTask({ grant: { entitlement, principal } });
    let started = false;
    const { controller } = start({
      grant: (_task, ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
        }),
    });
    await waitUntil(() => started);
    controller.abort(new C1Error('CANCELLED', 'the uploader is shutting down', { retryable: true }));
    const finish = await standIn.waitForFinish(taskId);
    expect(finish.finalState).toBe('error');
    expect(finish.error?.nonRetryable ?? false).toBe(false);
  });

  it('returns when stopped while idle', async () => {
    const from = standIn.calls('GetTask').length;
    const { done, controller } = start({});
    await waitForCall(from);
    controller.abort();
    await expect(done).resolves.toBeUndefined();
  });

  /** The first GetTask call after the `from`-th that matches. */
  async function waitForCall(from: number, match: (c: { ok: boolean; at: number }) => boolean = () => true) {
    let found: { ok: boolean; at: number } | undefined;
    await waitUntil(() => (found = standIn.calls('GetTask').slice(from).find(match)) !== undefined);
    return found as { ok: boolean; at: number };
  }
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
