// C1 service mode end to end: the stand-in C1 hands out tasks over gRPC; the uploader's loops
// turn them into syncs (of the simulator's demo clusters, into Postgres), uploads and
// provisioning requests, and finish them as C1 expects.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeListEventFeedsResponse,
  decodeListEventsResponse,
  hasAnnotation,
  readC1z,
} from '@eks-access/c1';
import type { StandInC1 } from '@eks-access/c1/standin';
import {
  deleteCluster,
  findTaskUpload,
  listChangeEvents,
  listEntitlements,
  listGrants,
  listProvisioningRequests,
  listResources,
  listSyncRuns,
  updateCluster,
  type SnapshotGrant,
} from '@eks-access/db';
import { createSimAdminClient, DEMO } from '@eks-access/eks-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSyncFullTask } from '../tasks/sync-full.js';
import { c1LoopLockKey } from './cluster-loops.js';
import { ERROR_LEVEL, eventually, startHarness, stopAll, type Harness } from '../testing/harness.js';

let h: Harness;
const registered: string[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await stopAll(h);
  // The stand-in has one task queue: no cluster of this test may take the next test's tasks.
  for (const id of registered.splice(0)) await deleteCluster(h.database, id);
});
afterAll(async () => {
  await h.close();
});

async function c1Cluster(
  name: string,
  region: string,
  creds = h.c1Credentials(),
  extra: { provisioningEnabled?: boolean } = {},
) {
  const cluster = await h.registerCluster(name, region, {
    c1ClientId: creds.clientId,
    c1ClientSecret: creds.clientSecret,
    ...extra,
  });
  registered.push(cluster.id);
  return cluster;
}

type Lister<T> = (
  database: Harness['database'],
  clusterId: string,
  filters: { syncRunId: string; limit: number; cursor?: string },
) => Promise<{ items: T[]; nextCursor?: string }>;

async function readAll<T>(list: Lister<T>, clusterId: string, syncRunId: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(h.database, clusterId, { syncRunId, limit: 500, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

const VIEW_TEAM_A = 'cluster_role:view:team-a:member';
const entitlement = {
  id: VIEW_TEAM_A,
  resource: { id: { resourceType: 'cluster_role', resource: 'view' } },
  slug: 'team-a:member',
};
const bob = { id: { resourceType: 'iam_user', resource: DEMO.bob.userArn } };
type FinishTaskRequest = Awaited<ReturnType<StandInC1['waitForFinish']>>;
const success = (f: FinishTaskRequest) => f.success;

describe('c1 service mode', () => {
  it('answers a full-sync task with one uploaded c1z holding the cluster’s snapshot from Postgres', async () => {
    const cluster = await c1Cluster('prod-eu', 'eu-west-1');
    h.startHelpers();
    h.startUploadConsumer();
    h.loops('uploader-a').start();

    // As C1 sends it in service mode: C1 expands the grants itself.
    const taskId = h.standIn.enqueueTask({ syncFull: { skipExpandGrants: true } });
    const finish = await h.standIn.waitForFinish(taskId, 60_000);
    expect(finish.finalState).toBe('success');
    const uploads = h.standIn.uploads(taskId);
    expect(uploads).toHaveLength(1);

    const upload = await findTaskUpload(h.database, taskId);
    expect(upload).toMatchObject({ status: 'succeeded', attempt: 1, sha256: uploads[0]!.sha256 });
    const file = join(h.workDir, 'received.c1z');
    await writeFile(file, uploads[0]!.bytes);
    const contents = await readC1z(file);
    const snapshot = contents.snapshot!;
    expect(contents.syncRuns).toMatchObject([{ syncType: 'full', supportsDiff: 1 }]);
    const resources = await readAll(listResources, cluster.id, upload!.syncRunId);
    expect(snapshot.resources.map((r) => `${r.type}:${r.id}`).sort()).toEqual(
      resources.map((r) => `${r.type}:${r.id}`).sort(),
    );
    const entitlements = await readAll(listEntitlements, cluster.id, upload!.syncRunId);
    expect(snapshot.entitlements.map((e) => e.id).sort()).toEqual(entitlements.map((e) => e.id).sort());
    const expected: SnapshotGrant[] = await readAll(listGrants, cluster.id, upload!.syncRunId);
    expect(expected.length).toBeGreaterThan(10);
    expect(snapshot.grants.map((g) => g.id).sort()).toEqual(expected.map((g) => g.id).sort());
    // Grant by grant, the same entitlement, principal and annotations as Postgres holds.
    const byId = new Map(snapshot.grants.map((g) => [g.id, g]));
    for (const g of expected) {
      expect(byId.get(g.id)).toEqual({
        id: g.id,
        entitlementId: g.entitlementId,
        resource: g.resource,
        principal: g.principal,
        annotations: g.annotations,
      });
    }
    expect(expected.some((g) => g.annotations.some((a) => a.type === 'GrantExpandable'))).toBe(true);
    // Grants to IAM users carry the match id C1's AWS connector links them by.
    const alice = snapshot.grants.find(
      (g) => g.principal.type === 'iam_user' && g.principal.id === DEMO.alice.userArn,
    );
    expect(alice?.annotations).toEqual(
      expect.arrayContaining([{ type: 'ExternalResourceMatchID', id: DEMO.alice.userArn }]),
    );
    expect(snapshot.resourceTypes.map((t) => t.id)).toEqual(
      expect.arrayContaining(['access_policy', 'role', 'cluster_role', 'k8s_group', 'iam_user']),
    );
    expect(h.standIn.hellos()).toHaveLength(1);

    // The same task delivered again (C1 re-sends it, or a loop restarted mid-task) finds its
    // upload: no new sync, no second upload.
    const runs = (await listSyncRuns(h.database, cluster.id)).items.length;
    const again = await runSyncFullTask(
      { database: h.database, producer: h.producer, clusterId: cluster.id, uploadMaxAttempts: 3, pollMs: 50 },
      { kind: 'syncFull', id: taskId, syncFull: {} },
      { taskId, signal: new AbortController().signal, logger: h.logger },
    );
    expect(again).toEqual({ uploaded: true });
    expect((await listSyncRuns(h.database, cluster.id)).items).toHaveLength(runs);
    expect(h.standIn.uploads(taskId)).toHaveLength(1);
  });

  it('honours a task’s sync options: resources only, a targeted (partial) sync, and grant expansion when C1 leaves it to the connector', async () => {
    const cluster = await c1Cluster('prod-eu', 'eu-west-1');
    h.startHelpers();
    h.startUploadConsumer();
    h.loops('uploader-a').start();
    const received = async (taskId: string) => {
      const finish = await h.standIn.waitForFinish(taskId, 60_000);
      expect(finish.finalState).toBe('success');
      const upload = (await findTaskUpload(h.database, taskId))!;
      const file = join(h.workDir, `received-${taskId}.c1z`);
      await writeFile(file, h.standIn.uploads(taskId)[0]!.bytes);
      return { upload, contents: await readC1z(file) };
    };

    // Resources only: a first sync that reaches C1's UI sooner.
    const first = await received(
      h.standIn.enqueueTask({ syncFull: { skipExpandGrants: true, skipEntitlementsAndGrants: true } }),
    );
    expect(first.upload.c1zOptions).toEqual({ skipEntitlementsAndGrants: true, expandGrants: false });
    expect(first.contents.syncRuns).toMatchObject([{ syncType: 'resources_only', supportsDiff: 0 }]);
    const resources = await readAll(listResources, cluster.id, first.upload.syncRunId);
    expect(first.contents.resources.map((r) => r.externalId).sort()).toEqual(
      resources.map((r) => `${r.type}:${r.id}`).sort(),
    );
    expect(first.contents.entitlements).toEqual([]);
    expect(first.contents.grants).toEqual([]);

    // A targeted sync of one namespace: it, the service accounts it lists, and their entitlements and grants.
    const namespace = resources.find(
      (r) =>
        r.type === 'namespace' &&
        resources.some((c) => c.type === 'service_account' && c.parent?.id === r.id),
    )!;
    const targeted = await received(
      h.standIn.enqueueTask({
        syncFull: {
          skipExpandGrants: true,
          targetedSyncResources: [{ id: { resourceType: 'namespace', resource: namespace.id } }],
        },
      }),
    );
    expect(targeted.upload.c1zOptions).toMatchObject({
      targetedResources: [{ type: 'namespace', id: namespace.id }],
    });
    expect(targeted.contents.syncRuns).toMatchObject([{ syncType: 'partial' }]);
    const run = targeted.upload.syncRunId;
    const inScope = new Set([
      `namespace:${namespace.id}`,
      ...(await readAll(listResources, cluster.id, run))
        .filter((r) => r.type === 'service_account' && r.parent?.id === namespace.id)
        .map((r) => `${r.type}:${r.id}`),
    ]);
    expect(inScope.size).toBeGreaterThan(1);
    expect(targeted.contents.resources.map((r) => r.externalId).sort()).toEqual([...inScope].sort());
    const scoped = <T extends { resource: { type: string; id: string } }>(items: T[]) =>
      items.filter((i) => inScope.has(`${i.resource.type}:${i.resource.id}`));
    expect(targeted.contents.entitlements.map((e) => e.externalId).sort()).toEqual(
      scoped(await readAll(listEntitlements, cluster.id, run))
        .map((e) => e.id)
        .sort(),
    );
    expect(targeted.contents.grants.map((g) => g.externalId).sort()).toEqual(
      scoped(await readAll(listGrants, cluster.id, run))
        .map((g) => g.id)
        .sort(),
    );

    // No skip_expand_grants: the file is expanded as baton-sdk's syncer expands it.
    const expanded = await received(h.standIn.enqueueTask({ syncFull: {} }));
    expect(expanded.upload.c1zOptions).toEqual({ expandGrants: true });
    const direct = new Set(
      (await readAll(listGrants, cluster.id, expanded.upload.syncRunId)).map((g) => g.id),
    );
    const derived = expanded.contents.grants.filter((g) => !direct.has(g.externalId));
    expect(derived.length).toBeGreaterThan(0);
    expect(expanded.contents.grants.length).toBe(direct.size + derived.length);
    for (const grant of derived) {
      expect(grant.message.annotations.map((a) => a.typeName)).toEqual(['c1.connector.v2.GrantImmutable']);
      expect(grant.message.sources?.sources.length).toBeGreaterThan(0);
    }
  });

  it('answers hello, list_event_feeds and the task types it does not run as baton-sdk does', async () => {
    await c1Cluster('prod-eu', 'eu-west-1');
    h.loops('uploader-a').start();
    const hello = h.standIn.enqueueTask({ hello: {} });
    const feeds = h.standIn.enqueueTask({ listEventFeeds: {} });
    const account = h.standIn.enqueueTask({ createAccount: { resourceTypeId: 'iam_user' } });
    expect(await h.standIn.waitForHello(hello, 30_000)).toMatchObject({
      taskId: hello,
      hostId: 'uploader-a',
    });
    const listed = await h.standIn.waitForFinish(feeds, 30_000);
    expect(listed.success?.response?.typeUrl).toBe(
      'type.googleapis.com/c1.connector.v2.ListEventFeedsResponse',
    );
    const refused = await h.standIn.waitForFinish(account, 30_000);
    expect(refused).toMatchObject({
      finalState: 'error',
      status: { code: 2, message: 'unsupported task type' },
    });
    expect(refused.error?.nonRetryable ?? false).toBe(false);
    expect(h.standIn.task(hello)?.finishes).toEqual([]);
  });

  it('finishes a full-sync task with a retryable error when the sync fails, and uploads nothing', async () => {
    // No cluster of that name in that region: the sync fails.
    await c1Cluster('prod-eu', 'us-west-2');
    h.startHelpers();
    h.startUploadConsumer();
    h.loops('uploader-a').start();
    const taskId = h.standIn.enqueueTask({ syncFull: {} });
    const finish = await h.standIn.waitForFinish(taskId, 60_000);
    expect(finish.finalState).toBe('error');
    expect(finish.error?.nonRetryable ?? false).toBe(false);
    expect(finish.status?.message).toMatch(/sync of the cluster failed.*CLUSTER_NOT_FOUND/);
    expect(h.standIn.uploads(taskId)).toHaveLength(0);
    expect(await findTaskUpload(h.database, taskId)).toBeUndefined();
  });

  it('finishes the task with a retryable error naming the retry endpoint when its upload ends dead', async () => {
    await c1Cluster('prod-eu', 'eu-west-1');
    h.startHelpers();
    h.startUploadConsumer();
    h.loops('uploader-a', { uploadMaxAttempts: 2 }).start();
    h.standIn.failNext('UploadAsset', 2, { code: 'UNAVAILABLE' });
    const taskId = h.standIn.enqueueTask({ syncFull: {} });
    const finish = await h.standIn.waitForFinish(taskId, 60_000);
    expect(finish.finalState).toBe('error');
    expect(finish.error?.nonRetryable ?? false).toBe(false);
    const upload = await findTaskUpload(h.database, taskId);
    expect(upload).toMatchObject({ status: 'dead', attempt: 2 });
    expect(finish.status?.message).toContain(`POST /v1/uploads/${upload!.id}/retry`);
  });

  it('runs each cluster’s loop in one uploader process at a time; another takes over when the holder’s lock lapses or it stops', async () => {
    const { id } = await c1Cluster('staging-us', 'us-east-1');
    // A crashed uploader's lock: nobody runs the loop until it lapses.
    await h.redis.set(`${h.prefix}:${c1LoopLockKey(id)}`, 'crashed-uploader', 'PX', 700);
    const a = h.loops('uploader-a');
    a.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.running()).toEqual([]);
    const b = h.loops('uploader-b');
    await eventually(
      () => a.running(),
      (r) => r.length === 1,
      10_000,
    );
    b.start();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(b.running()).toEqual([]);
    const hellos = h.standIn.hellos().length;

    await a.stop();
    await eventually(
      () => b.running(),
      (r) => r.length === 1,
      10_000,
    );
    await eventually(
      () => h.standIn.hellos().length,
      (n) => n === hellos + 1,
    );
    expect(h.standIn.hellos().at(-1)?.hostId).toBe('uploader-b');
  });

  it('stops with one clear error on credentials C1 refuses, and starts again once they are fixed', async () => {
    const cluster = await c1Cluster('legacy-us', 'us-east-1', h.unknownC1Credentials());
    const tokensBefore = h.standIn.counters().token.requests;
    const errorsBefore = h.logs.filter((l) => l.level >= ERROR_LEVEL).length;
    const loops = h.loops('uploader-a');
    loops.start();
    // Many scans go by (every 100 ms): the refused cluster is not retried.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(h.standIn.counters().token.requests - tokensBefore).toBe(1);
    const errors = h.logs.filter((l) => l.level >= ERROR_LEVEL).slice(errorsBefore);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      clusterId: cluster.id,
      msg: 'c1 refused hello; service mode stopped',
      err: { code: 'UNAUTHENTICATED', retryable: false },
    });
    expect(JSON.stringify(errors[0])).toMatch(/rejected the client credentials/);

    const good = h.c1Credentials();
    await updateCluster(h.database, cluster.id, {
      c1ClientId: good.clientId,
      c1ClientSecret: good.clientSecret,
    });
    await eventually(
      () => h.standIn.hellos().some((hello) => hello.hostId === 'uploader-a'),
      Boolean,
      10_000,
    );
  });

  it('turns a grant task into a provisioning request and finishes it with the grant', async () => {
    const cluster = await c1Cluster('prod-eu', 'eu-west-1', undefined, { provisioningEnabled: true });
    h.startHelpers();
    h.loops('uploader-a').start();
    h.provisionOutcome = () => ({ status: 'succeeded', result: 'granted' });

    const taskId = h.standIn.enqueueTask({ grant: { entitlement, principal: bob } });
    const finish = await h.standIn.waitForFinish(taskId, 30_000);
    expect(finish.finalState).toBe('success');
    expect(hasAnnotation(success(finish)?.annotations, 'c1.connector.v2.GrantAlreadyExists')).toBe(false);
    const [request] = (await listProvisioningRequests(h.database, { clusterId: cluster.id })).items;
    expect(request).toMatchObject({
      action: 'grant',
      entitlementId: VIEW_TEAM_A,
      principalType: 'iam_user',
      principalArn: bob.id.resource,
      idempotencyKey: `c1-task:${taskId}`,
      requestedBy: `c1:${cluster.id}`,
      status: 'succeeded',
    });
  });

  it('reports already-granted and already-revoked as the annotations C1 expects, and a refusal as final', async () => {
    await c1Cluster('prod-eu', 'eu-west-1', undefined, { provisioningEnabled: true });
    h.startHelpers();
    h.loops('uploader-a').start();

    h.provisionOutcome = () => ({ status: 'succeeded', result: 'already-granted' });
    const granted = await h.standIn.waitForFinish(
      h.standIn.enqueueTask({ grant: { entitlement, principal: bob } }),
      30_000,
    );
    expect(hasAnnotation(success(granted)?.annotations, 'c1.connector.v2.GrantAlreadyExists')).toBe(true);

    h.provisionOutcome = () => ({ status: 'succeeded', result: 'already-revoked' });
    const revoked = await h.standIn.waitForFinish(
      h.standIn.enqueueTask({ revoke: { grant: { entitlement, principal: bob } } }),
      30_000,
    );
    expect(hasAnnotation(success(revoked)?.annotations, 'c1.connector.v2.GrantAlreadyRevoked')).toBe(true);

    h.provisionOutcome = () => ({
      status: 'refused',
      error: { code: 'PRINCIPAL_NOT_FOUND', message: 'no such IAM user' },
    });
    const refused = await h.standIn.waitForFinish(
      h.standIn.enqueueTask({ grant: { entitlement, principal: bob } }),
      30_000,
    );
    expect(refused).toMatchObject({
      finalState: 'error',
      error: { nonRetryable: true },
      status: { code: 9 },
    });
    expect(refused.status?.message).toMatch(/refused.*PRINCIPAL_NOT_FOUND/);

    // A principal EKS cannot take (not an IAM user or role) is refused before any request.
    const group = await h.standIn.waitForFinish(
      h.standIn.enqueueTask({
        grant: { entitlement, principal: { id: { resourceType: 'group', resource: 'devs' } } },
      }),
      30_000,
    );
    expect(group).toMatchObject({ finalState: 'error', error: { nonRetryable: true }, status: { code: 3 } });
  });

  it('records a grant task’s duration on its request (a time-bound grant), and finishes a policy refusal as final with its code and reason', async () => {
    const cluster = await c1Cluster('prod-eu', 'eu-west-1', undefined, { provisioningEnabled: true });
    h.startHelpers();
    h.loops('uploader-a').start();

    h.provisionOutcome = () => ({ status: 'succeeded', result: 'granted' });
    const timed = h.standIn.enqueueTask({
      grant: { entitlement, principal: bob, duration: { seconds: 3600 } },
    });
    expect(await h.standIn.waitForFinish(timed, 30_000)).toMatchObject({ finalState: 'success' });
    const requests = (await listProvisioningRequests(h.database, { clusterId: cluster.id })).items;
    expect(requests.find((r) => r.idempotencyKey === `c1-task:${timed}`)).toMatchObject({
      action: 'grant',
      durationMs: 3_600_000,
      expiresAt: null,
      status: 'succeeded',
    });

    const clusterAdmin = {
      id: 'cluster_role:cluster-admin:all:member',
      resource: { id: { resourceType: 'cluster_role', resource: 'cluster-admin' } },
      slug: 'all:member',
    };
    h.provisionOutcome = (r) => ({
      status: 'refused',
      error: {
        code: 'POLICY_DENIED',
        message: `cluster prod-eu's provisioning policy denies ${r.entitlementId}`,
      },
    });
    const refused = await h.standIn.waitForFinish(
      h.standIn.enqueueTask({ grant: { entitlement: clusterAdmin, principal: bob } }),
      30_000,
    );
    expect(refused).toMatchObject({
      finalState: 'error',
      error: { nonRetryable: true },
      status: { code: 9 },
    });
    expect(refused.status?.message).toMatch(
      /grant was refused .*POLICY_DENIED: .*denies cluster_role:cluster-admin:all:member/,
    );

    const negative = await h.standIn.waitForFinish(
      h.standIn.enqueueTask({ grant: { entitlement, principal: bob, duration: { seconds: -5 } } }),
      30_000,
    );
    expect(negative).toMatchObject({
      finalState: 'error',
      error: { nonRetryable: true },
      status: { code: 3 },
    });
  });

  it('answers list_events from the change-event log: GrantEvents and RevokeEvents in order, with a cursor that resumes exactly', async () => {
    const cluster = await c1Cluster('prod-eu', 'eu-west-1');
    const admin = createSimAdminClient(h.sim.awsEndpoint);
    await h.syncNow(cluster.id);
    // Three new bindings of view in team-a (to groups), then one of them deleted: each sync logs its
    // difference to the snapshot before it.
    const subjects = ['feed-group-0', 'feed-group-1', 'feed-group-2'];
    for (const name of subjects)
      await admin.putObject('prod-eu', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `feed-${name}`, namespace: 'team-a' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name }],
      });
    await h.syncNow(cluster.id);
    await admin.deleteObject('prod-eu', 'rolebindings', 'team-a', 'feed-feed-group-1');
    await h.syncNow(cluster.id);
    const logged = (
      await listChangeEvents(h.database, {
        clusterId: cluster.id,
        kinds: ['grant', 'revoke', 'resource_change'],
        limit: 1000,
      })
    ).items;
    const grants = logged.filter((e) => e.kind === 'grant' && e.entitlementId === VIEW_TEAM_A);
    expect(grants.map((e) => e.principal?.id).sort()).toEqual(
      expect.arrayContaining(subjects.map((s) => expect.stringContaining(s) as string)),
    );
    expect(logged.filter((e) => e.kind === 'revoke').map((e) => e.principal?.id)).toEqual([
      expect.stringContaining('feed-group-1'),
    ]);

    h.loops('uploader-a').start();
    const finishOf = async (listEvents: Record<string, unknown>) =>
      h.standIn.waitForFinish(h.standIn.enqueueTask({ listEvents }), 30_000);
    // No feed id: the connector's default feed, as baton-sdk's builder has one.
    const byDefault = await finishOf({});
    expect(byDefault.finalState).toBe('success');
    expect((decodeListEventsResponse(byDefault.success!.response!.value).events ?? []).length).toBe(
      Math.min(logged.length, 100),
    );
    const listFeeds = await h.standIn.waitForFinish(h.standIn.enqueueTask({ listEventFeeds: {} }), 30_000);
    const feedList = decodeListEventFeedsResponse(listFeeds.success!.response!.value).list ?? [];
    expect(feedList.map((f) => f.id)).toEqual(['eks_access_changes']);

    // Pages of two, each resumed from the cursor the one before answered, across two uploaders.
    const seen: { id: string; kind: string | undefined; principal: string | undefined }[] = [];
    let cursor = '';
    for (let page = 0; ; page++) {
      const finish = await finishOf({ eventFeedId: 'eks_access_changes', pageSize: 2, cursor });
      expect(finish.finalState, JSON.stringify(finish.status)).toBe('success');
      expect(finish.success?.response?.typeUrl).toBe(
        'type.googleapis.com/c1.connector.v2.ListEventsResponse',
      );
      const res = decodeListEventsResponse(finish.success!.response!.value);
      for (const e of res.events ?? []) {
        seen.push({
          id: e.id!,
          kind: e.event,
          principal:
            e.grantEvent?.grant?.principal?.id?.resource ??
            e.revokeEvent?.principal?.id?.resource ??
            e.resourceChangeEvent?.resourceId?.resource,
        });
        expect(e.occurredAt?.seconds).toBeGreaterThan(0);
        if (e.event === 'grantEvent') {
          const logEntry = logged.find((l) => l.id === e.id)!;
          expect(e.grantEvent?.grant).toMatchObject({
            id: logEntry.grantId,
            entitlement: {
              id: logEntry.entitlementId,
              resource: { id: { resourceType: logEntry.resource!.type, resource: logEntry.resource!.id } },
            },
            principal: { id: { resourceType: logEntry.principal!.type, resource: logEntry.principal!.id } },
          });
        }
      }
      if (!res.hasMore && (res.events ?? []).length < 2) {
        // The last page gives back a cursor that finds nothing more.
        expect(res.cursor).toBe(logged.at(-1)!.id);
        break;
      }
      expect((res.events ?? []).length).toBe(2);
      cursor = res.cursor!;
      expect(page).toBeLessThan(100);
    }
    // Exactly the log, in its order: nothing skipped or repeated at page boundaries.
    expect(seen.map((e) => e.id)).toEqual(logged.map((e) => e.id));
    expect(seen.filter((e) => e.kind === 'grantEvent').length).toBe(
      logged.filter((e) => e.kind === 'grant').length,
    );
    expect(seen.filter((e) => e.kind === 'revokeEvent').map((e) => e.principal)).toEqual([
      expect.stringContaining('feed-group-1'),
    ]);

    // start_at after everything: an empty page.
    const later = await finishOf({ startAt: { seconds: Math.floor(Date.now() / 1000) + 3600 } });
    expect(later.finalState, JSON.stringify(later.status)).toBe('success');
    expect(decodeListEventsResponse(later.success?.response?.value ?? new Uint8Array()).events ?? []).toEqual(
      [],
    );

    // What retrying cannot fix fails for good, with the reason.
    const refusals = [
      await finishOf({ cursor: 'not-a-cursor' }),
      await finishOf({ eventFeedId: 'someone-elses-feed' }),
      await finishOf({ pageSize: 5000 }),
    ];
    expect(refusals.map((f) => [f.finalState, f.error?.nonRetryable, f.status?.code])).toEqual([
      ['error', true, 3],
      ['error', true, 5],
      ['error', true, 3],
    ]);
  });
});
