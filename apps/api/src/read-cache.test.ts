import {
  completeSyncRun,
  createCluster,
  enqueueSyncRun,
  listenForChanges,
  revokeApiKey,
  startSyncRun,
  type ChangeListener,
} from '@eks-access/db';
import { syntheticReport, syntheticSnapshot } from '@eks-access/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from './app.js';
import { cachedKeyVerifier } from './deps.js';
import { KEY_TTL_MS, ReadCache } from './read-cache.js';
import { startTestApi, type TestApi } from './test-app.js';

describe('ReadCache', () => {
  const live = (maxBytes = 1_000_000, now = () => 0) => {
    const cache = new ReadCache(maxBytes, now);
    cache.setLive(true);
    return cache;
  };

  it('serves nothing while its listener is not connected, and starts empty on every (re)connect', () => {
    const cache = new ReadCache(1_000_000);
    cache.set('a', 'c1', Buffer.from('body'), cache.generation);
    expect(cache.get('a')).toBeUndefined();
    cache.setLive(true);
    cache.set('a', 'c1', Buffer.from('body'), cache.generation);
    expect(cache.get('a')?.toString()).toBe('body');
    cache.setLive(false);
    expect(cache.get('a')).toBeUndefined();
    cache.setLive(true);
    expect(cache.get('a')).toBeUndefined();
  });

  it("drops a cluster's answers and every all-cluster answer when that cluster changes", () => {
    const cache = live();
    cache.set('one', 'c1', Buffer.from('1'), cache.generation);
    cache.set('two', 'c2', Buffer.from('2'), cache.generation);
    cache.set('all', '*', Buffer.from('*'), cache.generation);
    cache.onChange({ kind: 'cluster', clusterId: 'c1' });
    expect([cache.get('one'), cache.get('two')?.toString(), cache.get('all')]).toEqual([
      undefined,
      '2',
      undefined,
    ]);
  });

  it('does not keep an answer computed across a change (it may have read the old state)', () => {
    const cache = live();
    const generation = cache.generation;
    cache.onChange({ kind: 'cluster', clusterId: 'other' });
    cache.set('late', 'c1', Buffer.from('stale?'), generation);
    expect(cache.get('late')).toBeUndefined();
  });

  it('stays within its size, dropping the least recently used answers first', () => {
    const cache = live(400);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, 't', Buffer.alloc(99), cache.generation);
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('e', 't', Buffer.alloc(99), cache.generation);
    expect(cache.size.bytes).toBeLessThanOrEqual(400);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd', 'e'].every((k) => cache.get(k) !== undefined)).toBe(true);
  });

  it('trusts a verified key for at most a minute, never past its expiry, and forgets keys when any changes', () => {
    let now = 1_000;
    const cache = live(1_000_000, () => now);
    const caller = { actor: 'api-key:1', scopes: ['read'] as const };
    cache.rememberCaller('eak_secret', { ...caller, scopes: [...caller.scopes] }, null, cache.keyGeneration);
    expect(cache.caller('eak_secret')?.actor).toBe('api-key:1');
    now += KEY_TTL_MS;
    expect(cache.caller('eak_secret')).toBeUndefined();
    cache.rememberCaller(
      'eak_secret',
      { actor: 'api-key:1', scopes: ['read'] },
      new Date(now + 10),
      cache.keyGeneration,
    );
    now += 10;
    expect(cache.caller('eak_secret')).toBeUndefined();
    cache.rememberCaller('eak_secret', { actor: 'api-key:1', scopes: ['read'] }, null, cache.keyGeneration);
    cache.onChange({ kind: 'api_keys' });
    expect(cache.caller('eak_secret')).toBeUndefined();
  });
});

describe('cached answers through the API', () => {
  let t: TestApi;
  let app: App;
  let cache: ReadCache;
  let listener: ChangeListener;
  let clusterId: string;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const nextChange = () => new Promise<void>((resolve) => waiters.push(resolve));

  const sync = async (tag: string) => {
    const { run } = await enqueueSyncRun(t.database, clusterId, 'api');
    await startSyncRun(t.database, run.id, 'test');
    await completeSyncRun(t.database, run.id, {
      snapshot: syntheticSnapshot({ entitlements: 30, grants: 20, tag }),
      report: syntheticReport(),
    });
    return run.id;
  };
  const grants = (key = t.keys.read) =>
    app.inject({
      method: 'GET',
      url: `/v1/clusters/${clusterId}/grants?limit=5`,
      headers: { authorization: `Bearer ${key}` },
    });

  beforeAll(async () => {
    t = await startTestApi();
    cache = new ReadCache(8 * 2 ** 20);
    listener = listenForChanges({
      url: t.database.url,
      onChange: (c) => {
        cache.onChange(c);
        wake();
      },
      onState: (connected) => {
        cache.setLive(connected);
        wake();
      },
    });
    while (!listener.connected) await nextChange();
    app = await buildApp({
      ...t.deps,
      logger: (await import('pino')).pino({ level: process.env.DEBUG_CACHE ? 'error' : 'silent' }),
      cache,
      verifyKey: cachedKeyVerifier(t.database, cache),
    });
    await app.ready();
    clusterId = (
      await createCluster(t.database, { name: 'cached', region: 'eu-west-1', hostingMode: 'default-chain' })
    ).id;
  });

  afterAll(async () => {
    await app.close();
    await listener.close();
    await t.close();
  });

  it('answers from the cache until a sync changes the snapshot, then with the new one', async () => {
    const first = await sync('a');
    const a = await grants();
    expect(a.statusCode, a.body).toBe(200);
    expect(a.json<{ syncRunId: string }>().syncRunId).toBe(first);
    const hits = cache.hits;
    const again = await grants();
    expect(cache.hits).toBe(hits + 1);
    expect(again.body).toBe(a.body);
    expect(again.headers['content-type']).toBe(a.headers['content-type']);

    const second = await sync('b');
    // Announced on commit: by the time the announcement is in, the old answer is gone.
    let b = await grants();
    while (b.json<{ syncRunId: string }>().syncRunId !== second) {
      await nextChange();
      b = await grants();
    }
    expect(b.json<{ syncRunId: string }>().syncRunId).toBe(second);
    expect(b.body).not.toBe(a.body);
    // The old snapshot stays readable by its id, and equal to what was served then.
    const old = await app.inject({
      method: 'GET',
      url: `/v1/clusters/${clusterId}/grants?limit=5&syncRunId=${first}`,
      headers: { authorization: `Bearer ${t.keys.read}` },
    });
    expect(old.json<{ items: unknown[] }>().items).toEqual(a.json<{ items: unknown[] }>().items);
  });

  it('refuses a key once it is revoked, though it was verified a moment before', async () => {
    const { createApiKey } = await import('@eks-access/db');
    const { key, apiKey } = await createApiKey(t.database, 'short-lived', ['read']);
    expect((await grants(key)).statusCode).toBe(200);
    expect(cache.caller(key)).toBeDefined();
    await revokeApiKey(t.database, apiKey.id);
    while (cache.caller(key)) await nextChange();
    expect((await grants(key)).statusCode).toBe(401);
  });

  it('serves from Postgres, correctly, while the change listener is down', async () => {
    await grants();
    await t.database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
    );
    while (cache.enabled) await nextChange();
    const third = await sync('c');
    const res = await grants();
    expect(res.json<{ syncRunId: string }>().syncRunId).toBe(third);
    while (!listener.connected) await nextChange();
    expect((await grants()).json<{ syncRunId: string }>().syncRunId).toBe(third);
  });
});
