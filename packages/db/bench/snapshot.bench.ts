// Snapshot write benchmark: a snapshot the size of the project's big benchmark cluster (700,000
// entitlements, 30,000 grants) written by completeSyncRun, against a raw COPY of the same rows
// pre-encoded in memory (what Postgres alone costs). Run with `pnpm bench` in packages/db.
// Reads DATABASE_URL (the server to create a scratch database on); prints one JSON line per figure.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { encodeCopyRow } from '../src/copy.js';
import { createCluster } from '../src/queries/clusters.js';
import { completeSyncRun, enqueueSyncRun, startSyncRun } from '../src/queries/sync-runs.js';
import type { SnapshotSource } from '../src/snapshot-types.js';
import { createTestDatabase, syntheticReport, syntheticSnapshot } from '../src/testing.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const ENTITLEMENTS = Number(process.env.BENCH_ENTITLEMENTS ?? 700_000);
const GRANTS = Number(process.env.BENCH_GRANTS ?? 30_000);
const RESOURCES = 2_000;

function print(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

async function main(): Promise<void> {
  const database = await createTestDatabase(ADMIN_URL, { maxConnections: 4 });
  try {
    const cluster = await createCluster(database, {
      name: 'bench',
      region: 'eu-west-1',
      hostingMode: 'default-chain',
    });
    const snapshot = () =>
      syntheticSnapshot({
        resources: RESOURCES,
        entitlements: ENTITLEMENTS,
        grants: GRANTS,
        principals: 500,
      });
    const total = RESOURCES + ENTITLEMENTS + GRANTS;

    const write = async (source: SnapshotSource) => {
      const { run } = await enqueueSyncRun(database, cluster.id, 'api');
      await startSyncRun(database, run.id, 'bench');
      const started = performance.now();
      const result = await completeSyncRun(database, run.id, { snapshot: source, report: syntheticReport() });
      return { ms: performance.now() - started, rows: result.rows };
    };

    // The first write warms caches and leaves a current snapshot, as in production.
    await write(snapshot());
    const big = await write(snapshot());
    print({
      bench: 'completeSyncRun (big cluster)',
      rows: total,
      ...big.rows,
      ms: Math.round(big.ms),
      rowsPerSecond: Math.round(total / (big.ms / 1000)),
    });
    const grantsOnly = await write(
      syntheticSnapshot({
        resources: 100,
        entitlements: 100_000,
        grants: 100_000,
        principals: 500,
        tag: 'g',
      }),
    );
    print({
      bench: 'completeSyncRun (100,000 grants + 100,000 entitlements)',
      ...grantsOnly.rows,
      ms: Math.round(grantsOnly.ms),
      rowsPerSecond: Math.round(200_100 / (grantsOnly.ms / 1000)),
    });

    // Baseline: the same rows, already encoded, COPYed into the same tables in one transaction.
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    const s = snapshot();
    const chunks = (rows: string[]) => Readable.from(rows);
    const encode = <T>(
      source: Iterable<T>,
      toValues: (row: T) => (string | null | readonly string[] | { json: unknown })[],
    ) => {
      const out: string[] = [];
      let chunk = '';
      for (const row of source) {
        chunk += encodeCopyRow(toValues(row));
        if (chunk.length > 65536) {
          out.push(chunk);
          chunk = '';
        }
      }
      out.push(chunk);
      return out;
    };
    const resources = encode(
      s.resources() as Iterable<{
        type: string;
        id: string;
        displayName: string;
        profile: unknown;
        annotations: unknown;
      }>,
      (r) => [run.id, r.type, r.id, null, null, r.displayName, { json: r.profile }, { json: r.annotations }],
    );
    const entitlements = encode(
      s.entitlements() as Iterable<{
        id: string;
        resource: { type: string; id: string };
        slug: string;
        displayName: string;
        description: string;
        purpose: string;
        grantableTo: string[];
      }>,
      (e) => [
        run.id,
        e.id,
        e.resource.type,
        e.resource.id,
        e.slug,
        e.displayName,
        e.description,
        e.purpose,
        e.grantableTo,
      ],
    );
    const grants = encode(
      s.grants() as Iterable<{
        id: string;
        entitlementId: string;
        resource: { type: string; id: string };
        principal: { type: string; id: string };
        annotations: unknown;
        sources?: unknown;
      }>,
      (g) => [
        run.id,
        g.id,
        g.entitlementId,
        g.resource.type,
        g.resource.id,
        g.principal.type,
        g.principal.id,
        { json: g.annotations },
        { json: g.sources },
        null,
      ],
    );
    const client = await database.pool.connect();
    try {
      const started = performance.now();
      await client.query('BEGIN');
      await pipeline(chunks(resources), client.query(copyFrom('COPY snapshot_resources FROM STDIN')));
      await pipeline(chunks(entitlements), client.query(copyFrom('COPY snapshot_entitlements FROM STDIN')));
      await pipeline(chunks(grants), client.query(copyFrom('COPY snapshot_grants FROM STDIN')));
      await client.query('COMMIT');
      const ms = performance.now() - started;
      print({
        bench: 'raw COPY (big cluster, pre-encoded rows, same tables)',
        rows: total,
        ms: Math.round(ms),
        rowsPerSecond: Math.round(total / (ms / 1000)),
      });
      print({ bench: 'completeSyncRun / raw COPY time', ratio: Number((big.ms / ms).toFixed(2)) });
    } finally {
      client.release();
    }
  } finally {
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
