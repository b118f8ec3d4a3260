// Watches against the simulated API server, read as raw chunked streams (to see exactly what is on
// the wire) and through @kubernetes/client-node's informer (a client nobody here wrote).
import { request } from 'node:https';
import {
  KubeConfig,
  makeInformer,
  RbacAuthorizationV1Api,
  type V1RoleBinding,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Faults } from '../faults.js';
import type { Cluster } from '../world/types.js';
import {
  kubeConfigOptions,
  rawRequest,
  startKubeEndpoint,
  tokenFor,
  type KubeEndpoint,
} from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

let t: TestWorld;
let cluster: Cluster;
let endpoint: KubeEndpoint;
let token: string;
const faults = new Faults();
const open: WatchStream[] = [];

beforeAll(async () => {
  t = buildTestWorld();
  cluster = t.clusters.api;
  endpoint = await startKubeEndpoint({ world: t.world, cluster, faults, watchBookmarkMs: 200 });
  token = await tokenFor(t.credentials.admin, cluster);
});

afterAll(async () => {
  await endpoint.close();
});

afterEach(() => {
  faults.setRules([]);
  for (const w of open.splice(0)) w.close();
});

interface WatchEvent {
  type: string;
  object: {
    kind?: string;
    code?: number;
    reason?: string;
    metadata?: {
      name?: string;
      namespace?: string;
      resourceVersion?: string;
      labels?: Record<string, string>;
    };
    rows?: { cells: unknown[] }[];
  };
}

interface WatchStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: WatchEvent[];
  /** Resolves with the first event (at or after index `from`) that `match` accepts. */
  next(match?: (e: WatchEvent) => boolean, from?: number): Promise<WatchEvent>;
  /** Resolves when the stream ends: 'end' for a clean end of the chunked body, 'aborted' for a cut. */
  ended: Promise<'end' | 'aborted'>;
  close(): void;
}

/** Opens a watch and collects its events line by line. */
function watch(path: string, accept = 'application/json'): Promise<WatchStream> {
  const url = new URL(path, endpoint.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', ca: endpoint.caPem, headers: { authorization: `Bearer ${token}`, accept } },
      (res) => {
        const events: WatchEvent[] = [];
        const waiters: {
          match: (e: WatchEvent) => boolean;
          from: number;
          resolve: (e: WatchEvent) => void;
        }[] = [];
        let buffered = '';
        let settle!: (how: 'end' | 'aborted') => void;
        const ended = new Promise<'end' | 'aborted'>((r) => (settle = r));
        res.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim() === '') continue;
            events.push(JSON.parse(line) as WatchEvent);
            for (const w of [...waiters]) {
              const found = events.slice(w.from).find(w.match);
              if (found) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(found);
              }
            }
          }
        });
        res.on('end', () => settle('end'));
        res.on('aborted', () => settle('aborted'));
        res.on('error', () => settle('aborted'));
        res.on('close', () => settle(res.complete ? 'end' : 'aborted'));
        const stream: WatchStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          next: (match = () => true, from = 0) => {
            const found = events.slice(from).find(match);
            if (found) return Promise.resolve(found);
            return new Promise((r) => waiters.push({ match, from, resolve: r }));
          },
          ended,
          close: () => req.destroy(),
        };
        open.push(stream);
        resolve(stream);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function listRv(path: string): Promise<string> {
  const res = await rawRequest(endpoint, { path, token });
  expect(res.status).toBe(200);
  return (res.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

const RB_PATH = '/apis/rbac.authorization.k8s.io/v1/rolebindings';

function binding(name: string, namespace: string, labels: Record<string, string> = {}) {
  return {
    metadata: { name, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `${name}-user` }],
  };
}

const named = (name: string) => (e: WatchEvent) => e.object.metadata?.name === name;

describe('watch', () => {
  it('from a list resourceVersion: create, modify and delete arrive in order as chunked JSON lines', async () => {
    const rv = await listRv(RB_PATH);
    const w = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    expect(w.headers['transfer-encoding']).toBe('chunked');
    expect(w.headers['content-type']).toBe('application/json');

    cluster.kube.create('rolebindings', binding('w-crud', 'default'));
    cluster.kube.update('rolebindings', { ...binding('w-crud', 'default'), subjects: [] });
    cluster.kube.delete('rolebindings', 'default', 'w-crud');
    await w.next((e) => e.type === 'DELETED' && e.object.metadata?.name === 'w-crud');

    const mine = w.events.filter(named('w-crud'));
    expect(mine.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    const versions = mine.map((e) => Number(e.object.metadata!.resourceVersion));
    expect(versions[0]).toBeGreaterThan(Number(rv));
    expect(versions[1]).toBeGreaterThan(versions[0]!);
    expect(versions[2]).toBeGreaterThan(versions[1]!);
    expect(mine[0]!.object.kind).toBe('RoleBinding');
  });

  it('resumes from a version: the changes made while no watch was open are replayed, nothing older', async () => {
    cluster.kube.create('rolebindings', binding('w-before', 'default'));
    const rv = await listRv(RB_PATH);
    cluster.kube.create('rolebindings', binding('w-gap', 'default'));
    cluster.kube.delete('rolebindings', 'default', 'w-gap');
    const w = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
    await w.next((e) => e.type === 'DELETED' && e.object.metadata?.name === 'w-gap');
    expect(w.events.filter(named('w-gap')).map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    expect(w.events.filter(named('w-before'))).toEqual([]);
  });

  it('without a resourceVersion: the current objects first as ADDED, then changes', async () => {
    const w = await watch(`/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings?watch=true`);
    const current = cluster.kube
      .list('rolebindings', { namespace: 'default' })
      .items.map((o) => o.metadata.name);
    expect(current.length).toBeGreaterThan(0);
    cluster.kube.create('rolebindings', binding('w-after', 'default'));
    await w.next(named('w-after'));
    const added = w.events.slice(0, current.length);
    expect(added.every((e) => e.type === 'ADDED')).toBe(true);
    expect(added.map((e) => e.object.metadata!.name).sort()).toEqual([...current].sort());
  });

  it('selectors: an object that starts matching is ADDED, one that stops matching is DELETED', async () => {
    const rv = await listRv(RB_PATH);
    const w = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}&labelSelector=team%3Dred`);
    cluster.kube.create('rolebindings', binding('w-sel', 'default', { team: 'blue' }));
    cluster.kube.update('rolebindings', binding('w-sel', 'default', { team: 'red' }));
    cluster.kube.update('rolebindings', binding('w-sel', 'default', { team: 'red', tier: 'x' }));
    cluster.kube.update('rolebindings', binding('w-sel', 'default', { team: 'blue' }));
    await w.next((e) => e.type === 'DELETED');
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('bookmarks carry the current resourceVersion, and a watch resumed from one misses nothing', async () => {
    const rv = await listRv(RB_PATH);
    const w = await watch(`${RB_PATH}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
    const bookmark = await w.next((e) => e.type === 'BOOKMARK');
    expect(bookmark.object.kind).toBe('RoleBinding');
    expect(Object.keys(bookmark.object.metadata!)).toEqual(['resourceVersion']);
    const at = bookmark.object.metadata!.resourceVersion!;
    expect(Number(at)).toBe(cluster.kube.currentRevision);
    w.close();
    cluster.kube.create('rolebindings', binding('w-bm', 'default'));
    const resumed = await watch(`${RB_PATH}?watch=true&resourceVersion=${at}`);
    expect((await resumed.next(named('w-bm'))).type).toBe('ADDED');
  });

  it('timeoutSeconds ends the stream cleanly (a complete chunked body)', async () => {
    const w = await watch(`${RB_PATH}?watch=true&timeoutSeconds=1&resourceVersion=${await listRv(RB_PATH)}`);
    expect(await w.ended).toBe('end');
  });

  it('a version older than the history (compacted) is one ERROR event with 410 Expired, then the end', async () => {
    const rv = await listRv(RB_PATH);
    cluster.kube.create('rolebindings', binding('w-old', 'default'));
    cluster.kube.compact();
    const w = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    expect(await w.ended).toBe('end');
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
    // A version from the future (a reset world) is refused the same way.
    const future = await watch(
      `${RB_PATH}?watch=true&resourceVersion=${cluster.kube.currentRevision + 1000}`,
    );
    await future.ended;
    expect(future.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('a bad resourceVersion is a 400 Status, not a stream', async () => {
    const res = await rawRequest(endpoint, { path: `${RB_PATH}?watch=true&resourceVersion=abc`, token });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });

  it('faults: dropWatchRate cuts the connection mid-stream; expireWatchRate answers 410 (a storm with count)', async () => {
    faults.setRules([{ target: 'kube:watch:rolebindings', dropWatchRate: 1, dropWithinMs: 50 }]);
    const cut = await watch(`${RB_PATH}?watch=true&resourceVersion=${await listRv(RB_PATH)}`);
    expect(await cut.ended).toBe('aborted');

    faults.setRules([{ target: 'kube:watch:*', expireWatchRate: 1, count: 2 }]);
    const rv = await listRv(RB_PATH);
    for (let i = 0; i < 2; i++) {
      const w = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
      await w.ended;
      expect(w.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    }
    const served = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
    cluster.kube.create('rolebindings', binding('w-after-storm', 'default'));
    expect((await served.next(named('w-after-storm'))).type).toBe('ADDED');
    expect(faults.snapshot().faults['kube:watch:rolebindings:expire-watch']).toBe(2);
  });

  it('kubectl get -w asks for Tables: each event carries a one-row Table', async () => {
    const rv = await listRv(RB_PATH);
    const w = await watch(
      `${RB_PATH}?watch=true&resourceVersion=${rv}`,
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    );
    cluster.kube.create('rolebindings', binding('w-table', 'default'));
    const e = await w.next();
    expect(e.type).toBe('ADDED');
    expect(e.object.kind).toBe('Table');
    expect(e.object.rows).toHaveLength(1);
    expect(e.object.rows![0]!.cells[0]).toBe('w-table');
  });

  it('needs the watch verb: a user who may list but not watch is refused', async () => {
    const aliceToken = await tokenFor(t.credentials.alice, cluster);
    const res = await rawRequest(endpoint, { path: `${RB_PATH}?watch=true`, token: aliceToken });
    expect([401, 403]).toContain(res.status);
  });

  it('a world reset ends open watches, and resuming an old version gets 410', async () => {
    const rv = await listRv(RB_PATH);
    const w = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
    cluster.kube.retire();
    expect(await w.ended).toBe('end');
    cluster.kube.startAfter(cluster.kube.currentRevision);
    const again = await watch(`${RB_PATH}?watch=true&resourceVersion=${rv}`);
    await again.ended;
    expect(again.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
    // A list served after the reset gives a version a watch resumes from.
    const fresh = await watch(`${RB_PATH}?watch=true&resourceVersion=${await listRv(RB_PATH)}`);
    cluster.kube.create('rolebindings', binding('w-reset', 'default'));
    expect((await fresh.next(named('w-reset'))).type).toBe('ADDED');
  });
});

describe('@kubernetes/client-node informer', () => {
  it('lists, then follows adds, updates and deletes, and lists again after a 410', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions(kubeConfigOptions(endpoint, token));
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const informer = makeInformer<V1RoleBinding>(kc, RB_PATH, () => rbac.listRoleBindingForAllNamespaces());
    const seen: string[] = [];
    const waiters: { want: string; resolve: () => void }[] = [];
    const record = (what: string) => {
      seen.push(what);
      for (const w of [...waiters]) {
        if (!seen.includes(w.want)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    const until = (want: string) =>
      seen.includes(want)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ want, resolve }));
    informer.on('add', (o) => record(`add ${o.metadata!.name}`));
    informer.on('update', (o) => record(`update ${o.metadata!.name} ${o.subjects?.length ?? 0}`));
    informer.on('delete', (o) => record(`delete ${o.metadata!.name}`));
    informer.on('error', () => record('error'));
    await informer.start();
    try {
      cluster.kube.create('rolebindings', binding('inf-1', 'default'));
      await until('add inf-1');
      cluster.kube.update('rolebindings', { ...binding('inf-1', 'default'), subjects: [] });
      await until('update inf-1 0');
      cluster.kube.delete('rolebindings', 'default', 'inf-1');
      await until('delete inf-1');

      // The server ends the watch (as a restart does) and answers the next three with 410: the
      // informer must list again to learn of inf-2, which no watch delivered.
      faults.setRules([{ target: 'kube:watch:rolebindings', expireWatchRate: 1, count: 3 }]);
      cluster.kube.retire();
      cluster.kube.create('rolebindings', binding('inf-2', 'default'));
      await until('add inf-2');
      expect(informer.list().some((o) => o.metadata!.name === 'inf-2')).toBe(true);
      expect(informer.list().some((o) => o.metadata!.name === 'inf-1')).toBe(false);
    } finally {
      await informer.stop();
    }
  });
});
