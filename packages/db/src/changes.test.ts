import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForChanges, parseChange, type Change, type ChangeListener } from './changes.js';
import { createApiKey, revokeApiKey, verifyApiKey } from './queries/api-keys.js';
import { createCluster, deleteCluster, updateCluster } from './queries/clusters.js';
import { completeSyncRun, enqueueSyncRun, startSyncRun } from './queries/sync-runs.js';
import { createTestDatabase, syntheticReport, syntheticSnapshot, type TestDatabase } from './testing.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const APP = 'eks-access-changes-test';

let database: TestDatabase;
let listener: ChangeListener;
const changes: Change[] = [];
const states: boolean[] = [];
let waiters: (() => void)[] = [];

function notify(): void {
  const ready = waiters;
  waiters = [];
  for (const w of ready) w();
}

/** Waits until `predicate` holds over what was received (no deadline of its own: vitest's timeout). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise<void>((resolve) => waiters.push(resolve));
}

/**
 * Makes a marker change and waits for it: every change committed before it has arrived by then.
 * Returns what arrived since `from` (take it before the change under test: it may arrive at once).
 */
async function drain(clusterId: string, from = changes.length): Promise<Change[]> {
  await database.pool.query(`UPDATE clusters SET labels = labels WHERE id = $1`, [clusterId]);
  await until(() => changes.slice(from).some((c) => c.kind === 'cluster' && c.clusterId === clusterId));
  return changes.slice(from);
}

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
  listener = listenForChanges({
    url: database.url,
    applicationName: APP,
    retryMs: 50,
    onChange: (c) => {
      changes.push(c);
      notify();
    },
    onState: (connected) => {
      states.push(connected);
      notify();
    },
  });
  await until(() => listener.connected);
});

afterAll(async () => {
  await listener.close();
  await database.drop();
});

describe('change notifications', () => {
  it('announces a cluster when its current snapshot changes, when it changes, and when it is deleted', async () => {
    const cluster = await createCluster(database, {
      name: 'c1',
      region: 'eu-west-1',
      hostingMode: 'default-chain',
    });
    const marker = await createCluster(database, {
      name: 'marker',
      region: 'eu-west-1',
      hostingMode: 'default-chain',
    });
    await drain(marker.id);

    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'test');
    let from = changes.length;
    await completeSyncRun(database, run.id, {
      snapshot: syntheticSnapshot({ entitlements: 10, grants: 5 }),
      report: syntheticReport(),
    });
    await until(() => changes.slice(from).some((c) => c.kind === 'cluster' && c.clusterId === cluster.id));

    from = changes.length;
    await updateCluster(database, cluster.id, { labels: { team: 'a' } });
    await until(() => changes.slice(from).some((c) => c.kind === 'cluster' && c.clusterId === cluster.id));

    from = changes.length;
    await deleteCluster(database, cluster.id);
    await until(() => changes.slice(from).some((c) => c.kind === 'cluster' && c.clusterId === cluster.id));
  });

  it('announces API keys when one is revoked, but not when one is merely used', async () => {
    const marker = await createCluster(database, {
      name: 'marker-2',
      region: 'eu-west-1',
      hostingMode: 'default-chain',
    });
    const { key, apiKey } = await createApiKey(database, 'k', ['read']);
    await drain(marker.id);
    // Using a key touches last_used_at: nothing to announce.
    let from = changes.length;
    expect(await verifyApiKey(database, key)).toBeDefined();
    expect((await drain(marker.id, from)).filter((c) => c.kind === 'api_keys')).toEqual([]);
    from = changes.length;
    await revokeApiKey(database, apiKey.id);
    expect((await drain(marker.id, from)).filter((c) => c.kind === 'api_keys')).toEqual([
      { kind: 'api_keys' },
    ]);
  });

  it('says it lost the connection when Postgres ends it, and is back (and listening) after reconnecting', async () => {
    const marker = await createCluster(database, {
      name: 'marker-3',
      region: 'eu-west-1',
      hostingMode: 'default-chain',
    });
    const before = states.length;
    await database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
      [APP],
    );
    await until(() => states.slice(before).includes(false));
    await until(() => listener.connected);
    expect(states.slice(before)).toEqual([false, true]);
    await drain(marker.id); // announcements arrive again
  });

  it('reads only the payloads it knows', () => {
    expect(parseChange('api_keys')).toEqual({ kind: 'api_keys' });
    expect(parseChange('cluster:3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17')).toEqual({
      kind: 'cluster',
      clusterId: '3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17',
    });
    expect(parseChange('cluster:nope')).toBeUndefined();
    expect(parseChange(undefined)).toBeUndefined();
  });
});
