// The reads that must stay fast at fleet size (a principal's access across every cluster, the
// filtered grants and entitlements listings, the /metrics statistics), checked by their plans on a
// fleet-sized database: 1,000 clusters with 20 runs of history each, half of them reading snapshot
// rows an earlier run wrote. Every statement these functions send is recorded and explained after
// ANALYZE; none may read a whole big table (a sequential scan), whatever the timings.
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../client.js';
import { copyRows } from '../copy.js';
import * as schema from '../schema.js';
import { ENTITLEMENTS, GRANTS, RESOURCES, type SnapshotColumns } from '../snapshot-columns.js';
import type { SnapshotSource } from '../snapshot-types.js';
import { createTestDatabase, syntheticPrincipal, syntheticSnapshot, type TestDatabase } from '../testing.js';
import {
  diffSnapshots,
  grantsForPrincipal,
  listEntitlements,
  listGrants,
  listResources,
} from './snapshots.js';
import { getSyncRunStats } from './sync-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const CLUSTERS = 1_000;
/** Finished runs per cluster, one a day; the newest is current. */
const RUNS = 20;
const SIZE = { resources: 20, entitlements: 200, grants: 150, principals: 50 };
const BIG_TABLES = ['snapshot_resources', 'snapshot_entitlements', 'snapshot_grants', 'sync_runs'];
const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'];

let database: TestDatabase;

interface Statement {
  text: string;
  values: unknown[];
}

/** The same database, with every statement its queries send recorded. */
function recorded(base: Database): { database: Database; statements: Statement[] } {
  const statements: Statement[] = [];
  const record = (args: unknown[]) => {
    const [query, values] = args as [string | { text: string; values?: unknown[] }, unknown[] | undefined];
    const text = typeof query === 'string' ? query : query.text;
    statements.push({ text, values: values ?? (typeof query === 'string' ? [] : (query.values ?? [])) });
  };
  const withRecording = <T extends object>(target: T, wrapConnect: boolean): T =>
    new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'query')
          return (...args: unknown[]) => {
            record(args);
            return (value as (...a: unknown[]) => unknown).apply(t, args);
          };
        if (prop === 'connect' && wrapConnect)
          return async () => withRecording(await (t as unknown as pg.Pool).connect(), false);
        return (value as (...a: unknown[]) => unknown).bind(t);
      },
    });
  const pool = withRecording(base.pool, true);
  return { database: { ...base, pool, db: drizzle({ client: pool, schema }) }, statements };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * The plan nodes of every SELECT a piece of work sent, explained in order in one transaction (so a
 * SET LOCAL it sent applies) and rolled back. A plan Postgres would JIT-compile fails here: on these
 * queries compiling costs far more than running (see grantsForPrincipal).
 */
async function plansOf(work: (db: Database) => Promise<unknown>): Promise<PlanNode[][]> {
  const { database: db, statements } = recorded(database);
  await work(db);
  const plans: PlanNode[][] = [];
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    for (const s of statements) {
      if (/^\s*set\b/i.test(s.text)) await client.query(s.text, s.values);
      if (!/^\s*(select|with)\b/i.test(s.text)) continue;
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode; JIT?: unknown }] }>(
        `EXPLAIN (FORMAT JSON) ${s.text}`,
        s.values,
      );
      const explained = rows[0]!['QUERY PLAN'][0];
      expect(explained.JIT, s.text).toBeUndefined();
      plans.push(nodes(explained.Plan));
    }
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
  expect(plans.length).toBeGreaterThan(0);
  return plans;
}

/** Fails on a sequential scan of a big table; returns the big tables read through an index. */
function expectIndexReads(plans: PlanNode[][]): Set<string> {
  const all = plans.flat();
  const seqScans = all
    .filter((n) => n['Node Type'] === 'Seq Scan' && BIG_TABLES.includes(n['Relation Name'] ?? ''))
    .map((n) => n['Relation Name']);
  expect(seqScans).toEqual([]);
  const indexed = new Set<string>();
  for (const n of all) {
    if (!INDEX_SCANS.includes(n['Node Type'])) continue;
    // A bitmap index scan names the index only; its table is the one the index was made for.
    const table = n['Relation Name'] ?? BIG_TABLES.find((t) => n['Index Name']?.startsWith(`${t}_`));
    if (table) indexed.add(table);
  }
  return indexed;
}

async function copySnapshot<T>(
  client: pg.PoolClient,
  table: SnapshotColumns<T>,
  contents: { runId: string; snapshot: SnapshotSource }[],
  rowsOf: (s: SnapshotSource) => Iterable<T> | AsyncIterable<T>,
): Promise<void> {
  async function* rows(): AsyncGenerator<[string, T]> {
    for (const c of contents) for await (const r of rowsOf(c.snapshot)) yield [c.runId, r];
  }
  await copyRows(
    client,
    `snapshot_${table.part}`,
    ['sync_run_id', ...table.columns],
    rows(),
    ([runId, r]) => [runId, ...table.toValues(r)],
  );
}

let clusterIds: string[];
let reusingRun: { clusterId: string; runId: string; writerId: string };

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
  const { pool } = database;
  const inserted = await pool.query<{ id: string }>(
    `INSERT INTO clusters (name, region, account_id, hosting_mode)
     SELECT 'fleet-' || n, (ARRAY['eu-west-1', 'us-east-1', 'ap-south-1'])[1 + n % 3],
            lpad((100000 + n % 40)::text, 12, '0'), 'default-chain'
       FROM generate_series(1, ${CLUSTERS}) n
     RETURNING id`,
  );
  clusterIds = inserted.rows.map((r) => r.id);
  // Per cluster: the first run wrote its snapshot; the daily runs after it found nothing new and name
  // its rows, or failed (every fifth); the current run (an hour old) wrote its own snapshot in odd
  // clusters and names the first run's in even ones. Twenty clusters have a sync queued.
  await pool.query(
    `INSERT INTO sync_runs (cluster_id, trigger, status, attempt, worker, queued_at, started_at, finished_at, api_calls,
                            resources_run_id, entitlements_run_id, grants_run_id)
     SELECT c.id, 'schedule', 'succeeded', 1, 'fleet:first', f, f, f, '{"eks:ListAccessEntries":{"calls":1,"throttled":0}}',
            NULL, NULL, NULL
       FROM clusters c, LATERAL (SELECT now() - make_interval(days => ${RUNS - 1}, hours => 1) AS f) t`,
  );
  await pool.query(
    `UPDATE sync_runs SET resources_run_id = id, entitlements_run_id = id, grants_run_id = id`,
  );
  await pool.query(
    `INSERT INTO sync_runs (cluster_id, trigger, status, attempt, worker, queued_at, started_at, finished_at, api_calls,
                            resources_run_id, entitlements_run_id, grants_run_id)
     SELECT a.cluster_id, 'schedule', CASE WHEN k % 5 = 0 THEN 'failed' ELSE 'succeeded' END, 1, 'fleet:daily', f, f, f,
            a.api_calls, h, h, h
       FROM sync_runs a, generate_series(1, ${RUNS - 2}) k,
            LATERAL (SELECT now() - make_interval(days => ${RUNS - 1} - k, hours => 1) AS f,
                            CASE WHEN k % 5 = 0 THEN NULL ELSE a.id END AS h) t
      WHERE a.worker = 'fleet:first'`,
  );
  await pool.query(
    `INSERT INTO sync_runs (id, cluster_id, trigger, status, attempt, worker, queued_at, started_at, finished_at, api_calls,
                            resources_run_id, entitlements_run_id, grants_run_id)
     SELECT id, cluster_id, 'schedule', 'succeeded', 1, 'fleet:current', f, f, f, api_calls, h, h, h
       FROM (SELECT gen_random_uuid() AS id, a.id AS first, a.cluster_id, a.api_calls,
                    now() - interval '1 hour' AS f, row_number() OVER (ORDER BY a.cluster_id) AS n
               FROM sync_runs a WHERE a.worker = 'fleet:first') s,
            LATERAL (SELECT CASE WHEN n % 2 = 1 THEN id ELSE first END AS h) t`,
  );
  await pool.query(
    `UPDATE clusters c SET current_sync_run_id = r.id FROM sync_runs r
      WHERE r.cluster_id = c.id AND r.worker = 'fleet:current'`,
  );
  await pool.query(
    `INSERT INTO sync_runs (cluster_id, trigger, status)
     SELECT id, 'schedule', 'queued' FROM clusters ORDER BY id LIMIT 20`,
  );
  const { rows: writers } = await pool.query<{ id: string; worker: string }>(
    `SELECT id, worker FROM sync_runs WHERE grants_run_id = id`,
  );
  const contents = writers.map((w) => ({
    runId: w.id,
    snapshot: syntheticSnapshot({ ...SIZE, tag: w.worker === 'fleet:current' ? 'now-' : '' }),
  }));
  const client = await pool.connect();
  try {
    await copySnapshot(client, RESOURCES, contents, (s) => s.resources());
    await copySnapshot(client, ENTITLEMENTS, contents, (s) => s.entitlements());
    await copySnapshot(client, GRANTS, contents, (s) => s.grants());
  } finally {
    client.release();
  }
  await pool.query('ANALYZE');
  const { rows: reusing } = await pool.query<{ cluster_id: string; id: string; grants_run_id: string }>(
    `SELECT cluster_id, id, grants_run_id FROM sync_runs
      WHERE worker = 'fleet:current' AND grants_run_id <> id LIMIT 1`,
  );
  reusingRun = {
    clusterId: reusing[0]!.cluster_id,
    runId: reusing[0]!.id,
    writerId: reusing[0]!.grants_run_id,
  };
}, 120_000);

afterAll(async () => {
  await database?.drop();
});

describe('at fleet size (1,000 clusters, 20 runs of history each)', () => {
  it('holds the fleet the plans are judged on', async () => {
    const { rows } = await database.pool.query<{ runs: string; grants: string; entitlements: string }>(
      `SELECT (SELECT count(*) FROM sync_runs) AS runs, (SELECT count(*) FROM snapshot_grants) AS grants,
              (SELECT count(*) FROM snapshot_entitlements) AS entitlements`,
    );
    expect(rows[0]).toEqual({
      runs: String(CLUSTERS * RUNS + 20),
      grants: String(1.5 * CLUSTERS * SIZE.grants),
      entitlements: String(1.5 * CLUSTERS * SIZE.entitlements),
    });
  });

  it("answers a principal's access across every cluster through the indexes", async () => {
    const arn = syntheticPrincipal(7);
    let answer: Awaited<ReturnType<typeof grantsForPrincipal>> = [];
    const plans = await plansOf(async (db) => {
      answer = await grantsForPrincipal(db, arn);
    });
    // Three grants per cluster, each named by its cluster's current run.
    expect(answer).toHaveLength(3 * CLUSTERS);
    expect(new Set(answer.map((a) => a.cluster.id)).size).toBe(CLUSTERS);
    expect(answer.filter((a) => a.cluster.id === reusingRun.clusterId).map((a) => a.syncRunId)).toEqual([
      reusingRun.runId,
      reusingRun.runId,
      reusingRun.runId,
    ]);
    expect(expectIndexReads(plans)).toContain('snapshot_grants');
  });

  it('lists grants with each filter through an index, on the current run and on a run that reused rows', async () => {
    const cluster = reusingRun.clusterId;
    const sample = (await listGrants(database, cluster, { limit: 1 })).items[0]!;
    for (const syncRunId of [undefined, reusingRun.runId]) {
      const run = syncRunId === undefined ? {} : { syncRunId };
      const filters: [Record<string, string>, string][] = [
        [{}, 'snapshot_grants_sync_run_id_grant_id_pk'],
        [{ principalId: syntheticPrincipal(7) }, 'snapshot_grants_principal_idx'],
        [{ principalType: 'iam_user', principalId: syntheticPrincipal(7) }, 'snapshot_grants_principal_idx'],
        [{ entitlementId: sample.entitlementId }, 'snapshot_grants_entitlement_idx'],
        [{ type: sample.resource.type, resourceId: sample.resource.id }, 'snapshot_grants_resource_idx'],
      ];
      for (const [filter, index] of filters) {
        let items = 0;
        const plans = await plansOf(async (db) => {
          items = (await listGrants(db, cluster, { ...filter, ...run, limit: 50 })).items.length;
        });
        expect(items, JSON.stringify(filter)).toBeGreaterThan(0);
        expectIndexReads(plans);
        expect(plans.flat().map((n) => n['Index Name'])).toContain(index);
      }
    }
  });

  it('lists entitlements and resources by type and resource through an index', async () => {
    const cluster = clusterIds[1]!;
    const role = (await listResources(database, cluster, { limit: 1 })).items[0]!;
    const cases: [string, (db: Database) => Promise<{ items: unknown[] }>][] = [
      ['entitlements', (db) => listEntitlements(db, cluster, { limit: 50 })],
      ['entitlements', (db) => listEntitlements(db, cluster, { type: role.type, limit: 50 })],
      ['entitlements', (db) => listEntitlements(db, cluster, { type: role.type, resourceId: role.id })],
      ['resources', (db) => listResources(db, cluster, { type: role.type, limit: 50 })],
      ['resources', (db) => listResources(db, cluster, { type: role.type, resourceId: role.id })],
    ];
    for (const [table, read] of cases) {
      let items = 0;
      const plans = await plansOf(async (db) => {
        items = (await read(db)).items.length;
      });
      expect(items).toBeGreaterThan(0);
      expect(expectIndexReads(plans)).toContain(`snapshot_${table}`);
    }
  });

  it('diffs two runs through the index', async () => {
    const { rows } = await database.pool.query<{ cluster_id: string; first: string; current: string }>(
      `SELECT c.id AS cluster_id, r.grants_run_id AS first, c.current_sync_run_id AS current
         FROM clusters c JOIN sync_runs r ON r.cluster_id = c.id AND r.worker = 'fleet:daily'
        WHERE c.current_sync_run_id = (SELECT grants_run_id FROM sync_runs WHERE id = c.current_sync_run_id)
          AND r.grants_run_id IS NOT NULL
        LIMIT 1`,
    );
    const { cluster_id: cluster, first, current } = rows[0]!;
    let diff: Awaited<ReturnType<typeof diffSnapshots>> | undefined;
    const plans = await plansOf(async (db) => {
      diff = await diffSnapshots(db, cluster, first, current);
    });
    expect([diff?.added.length, diff?.removed.length]).toEqual([SIZE.grants, SIZE.grants]);
    expect(expectIndexReads(plans)).toContain('snapshot_grants');
  });

  it('reads the /metrics statistics from the recent runs only', async () => {
    let stats: Awaited<ReturnType<typeof getSyncRunStats>> | undefined;
    const plans = await plansOf(async (db) => {
      stats = await getSyncRunStats(db, { windowMs: 24 * 3600_000 });
    });
    expect(stats?.runs).toMatchObject({ queued: 20, succeeded: CLUSTERS });
    expect(stats?.lastDurations).toHaveLength(CLUSTERS);
    expect(expectIndexReads(plans)).toContain('sync_runs');
  });
});
