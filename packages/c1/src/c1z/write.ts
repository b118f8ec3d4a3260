// Writes a snapshot as a c1z v1 file: a SQLite database with baton-sdk's v1 tables, built in a
// temporary directory from the streamed inputs, then `C1ZF\0` followed by one zstd frame of the
// database bytes, written to `<path>.tmp`, fsynced and renamed over `path`.
// - The file holds what the C1 task's sync options select (sync-options.ts), one sync run of the
//   matching type, and expanded grants only when asked (expand.ts); stats are those of its rows.
// - The tables are bulk loaded as baton-sdk loads a new file: secondary indexes are built after
//   the rows are in (deferSecondaryIndexes).
// - Nothing is left at `path` unless the whole file was written and synced.
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { C1zError } from './errors.js';
import { expandGrants } from './expand.js';
import { isKsuid, newKsuid } from './ksuid.js';
import { encodeEntitlement, encodeGrant, encodeResource, encodeResourceType } from './messages.js';
import type { C1AccountType, C1Resource, C1ResourceType, C1Snapshot, C1Source, C1Trait } from './model.js';
import { C1Z_MAGIC, C1Z_SCHEMA, formatC1zTime, WRITE_PRAGMAS } from './schema.js';
import { syncStatsJson } from './stats.js';
import {
  type C1SyncOptions,
  type C1SyncType,
  expandsGrants,
  selectForSync,
  selectsSubset,
  syncTypeOf,
} from './sync-options.js';
import { compressToFrame } from './zstd.js';

/** baton-kubernetes lists service accounts as USER-trait resources of account type SERVICE. */
const DEFAULT_ACCOUNT_TYPES: Readonly<Record<string, C1AccountType>> = { service_account: 'SERVICE' };

export interface WriteC1zOptions {
  /** The sync id (a 27-character KSUID); a new one when absent. */
  syncId?: string;
  /** Start of the sync; defaults to when writing starts. */
  startedAt?: Date;
  /** End of the sync; defaults to when the last row is written. */
  endedAt?: Date;
  /** Account type of USER-trait resources by resource type id, unless a resource names one. HUMAN otherwise. */
  accountTypes?: Readonly<Record<string, C1AccountType>>;
  /** Rows per transaction. */
  batchSize?: number;
  /** zstd level (default 1, the fastest regular level, as baton-sdk's encoder). */
  compressionLevel?: number;
  /** Directory for the temporary database (default: the OS temp dir). */
  tmpDir?: string;
  /** Called after each committed batch, with the rows written so far in the current table. */
  onProgress?: (progress: { table: string; rows: number }) => void;
  /** What the C1 sync task asked for (targeted resources, skips, grant expansion); a full sync of everything when absent. */
  sync?: C1SyncOptions;
}

export interface WriteC1zResult {
  path: string;
  syncId: string;
  /** `v1_sync_runs.sync_type`: `full`, `partial` (targeted resources) or `resources_only`. */
  syncType: C1SyncType;
  /**
   * Rows in the file's tables from the snapshot (an item whose id was already written replaces
   * that row); `expandedGrants` are the grants expansion added on top.
   */
  counts: {
    resourceTypes: number;
    resources: number;
    entitlements: number;
    grants: number;
    expandedGrants: number;
  };
  /** Snapshot items that repeated an id already written, and so replaced its row. */
  duplicates: number;
  /** Size of the SQLite database (the zstd frame's content size). */
  databaseBytes: number;
  /** Size of the c1z file. */
  fileBytes: number;
  /** Milliseconds spent filling the database and compressing it. */
  timings: { databaseMs: number; compressMs: number };
}

interface BatchWriter<T> {
  table: string;
  insert(item: T): void;
}

/**
 * Writes a snapshot to `path` as a c1z v1 file, atomically: on any failure, including an input
 * that throws, nothing is left at `path` (an existing file stays as it was) nor at `<path>.tmp`.
 */
export async function writeC1z(
  path: string,
  snapshot: C1Snapshot,
  options: WriteC1zOptions = {},
): Promise<WriteC1zResult> {
  const syncId = options.syncId ?? newKsuid(options.startedAt);
  if (!isKsuid(syncId)) {
    throw new C1zError('C1Z_INVALID_INPUT', `sync id "${syncId}" is not a 27-character KSUID`);
  }
  const startedAt = options.startedAt ?? new Date();
  const batchSize = Math.max(1, options.batchSize ?? 20_000);
  const accountTypes = { ...DEFAULT_ACCOUNT_TYPES, ...options.accountTypes };
  const sync = options.sync ?? {};
  const syncType = syncTypeOf(sync);
  const source = selectsSubset(sync) ? selectForSync(snapshot, sync) : snapshot;
  const workDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'c1z-'));
  const dbPath = join(workDir, 'db');
  const tmpPath = `${path}.tmp`;
  const began = performance.now();
  try {
    const db = new Database(dbPath);
    let counts: WriteC1zResult['counts'];
    let duplicates: number;
    try {
      for (const pragma of WRITE_PRAGMAS) db.pragma(pragma);
      for (const statement of C1Z_SCHEMA) db.exec(statement);
      const deferred = deferSecondaryIndexes(db);
      // As baton-sdk records a new sync: grants_backfilled = 1; supports_diff = 1 once a full
      // sync's data collection is complete (partial and resources-only syncs never set it).
      db.prepare(
        `insert into v1_sync_runs (sync_id, started_at, sync_token, sync_type, parent_sync_id, linked_sync_id, supports_diff, grants_backfilled)
         values (?, ?, '', ?, '', '', ?, 1)`,
      ).run(syncId, formatC1zTime(startedAt), syncType, syncType === 'full' ? 1 : 0);
      const read = await fillDatabase(db, source, {
        syncId,
        batchSize,
        accountTypes,
        onProgress: options.onProgress,
      });
      for (const statement of deferred) db.exec(statement);
      // Rows, not items: an item with an id already written replaces the earlier row, as in baton-sdk.
      const rows = (table: string) =>
        (db.prepare(`select count(*) as n from ${table} where sync_id = ?`).get(syncId) as { n: number }).n;
      const written = {
        resourceTypes: rows('v1_resource_types'),
        resources: rows('v1_resources'),
        entitlements: rows('v1_entitlements'),
        grants: rows('v1_grants'),
      };
      const expanded = expandsGrants(sync) ? expandGrants(db, syncId, formatC1zTime(new Date())).created : 0;
      counts = { ...written, expandedGrants: expanded };
      duplicates =
        read.resourceTypes +
        read.resources +
        read.entitlements +
        read.grants -
        (written.resourceTypes + written.resources + written.entitlements + written.grants);
      db.prepare('update v1_sync_runs set ended_at = ?, stats = ? where sync_id = ?').run(
        formatC1zTime(options.endedAt ?? new Date()),
        syncStatsJson(db, syncId, syncType),
        syncId,
      );
    } finally {
      db.close();
    }
    const compressStart = performance.now();
    const databaseBytes = (await stat(dbPath)).size;
    const fileBytes = await writeEnvelope(dbPath, databaseBytes, tmpPath, options.compressionLevel ?? 1);
    await rename(tmpPath, path);
    await fsyncDirectory(dirname(path));
    return {
      path,
      syncId,
      syncType,
      counts,
      duplicates,
      databaseBytes,
      fileBytes,
      timings: { databaseMs: compressStart - began, compressMs: performance.now() - compressStart },
    };
  } catch (error) {
    await rm(tmpPath, { force: true });
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * baton-sdk's bulk load of a new file (WithC1FBulkLoad): each table's non-unique secondary indexes,
 * the ones its Schema() creates, are dropped while the table is empty and created again with the
 * same statements once the rows are in — one sort instead of a B-tree insert per row and index.
 * The partial indexes (added by the grants migration) and the unique ones the upserts need stay.
 * The final schema is the same; the rebuilt indexes come last in sqlite_master, as in baton-sdk's
 * bulk-loaded files. Returns the statements that rebuild them, in table order.
 */
function deferSecondaryIndexes(db: Database.Database): string[] {
  const indexes = db
    .prepare<[], { name: string; table: string; sql: string }>(
      'select name, tbl_name as "table", sql from sqlite_master where type = \'index\' and sql is not null order by rowid',
    )
    .all();
  const deferred = indexes.filter((index) => {
    const info = db
      .prepare<[string], { name: string; unique: number; origin: string; partial: number }>(
        'select name, "unique", origin, partial from pragma_index_list(?)',
      )
      .all(index.table)
      .find((i) => i.name === index.name);
    return info !== undefined && info.unique === 0 && info.origin === 'c' && info.partial === 0;
  });
  for (const index of deferred) db.exec(`drop index "${index.name}"`);
  return deferred.map((index) => index.sql);
}

async function writeEnvelope(dbPath: string, size: number, tmpPath: string, level: number): Promise<number> {
  const source = await open(dbPath, 'r');
  try {
    const target = await open(tmpPath, 'w', 0o644);
    try {
      await target.write(C1Z_MAGIC, 0, C1Z_MAGIC.length, 0);
      const frameBytes = await compressToFrame(source, size, target, C1Z_MAGIC.length, { level });
      await target.sync();
      return C1Z_MAGIC.length + frameBytes;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

// The rename is durable only once the directory entry is; not every platform lets a directory be
// opened for fsync, which is not worth failing a written file over.
async function fsyncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

interface FillContext {
  syncId: string;
  batchSize: number;
  accountTypes: Readonly<Record<string, C1AccountType>>;
  onProgress: WriteC1zOptions['onProgress'];
}

async function fillDatabase(
  db: Database.Database,
  snapshot: C1Snapshot,
  context: FillContext,
): Promise<Omit<WriteC1zResult['counts'], 'expandedGrants'>> {
  // Returns the items read from each source.
  const { syncId } = context;
  // baton-sdk stamps each row with the time it is written; the text only changes once a millisecond.
  let stampedAt = 0;
  let stamp = '';
  const discoveredAt = () => {
    const now = Date.now();
    if (now !== stampedAt) {
      stampedAt = now;
      stamp = formatC1zTime(new Date(now));
    }
    return stamp;
  };
  // Resource types are few and needed to encode the rest (traits, grantable-to types).
  const resourceTypes = new Map<string, C1ResourceType>();
  const traitsOf = (id: string): readonly C1Trait[] => resourceTypes.get(id)?.traits ?? [];
  const upsert = (table: string, columns: readonly string[]) =>
    db.prepare(
      `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})
       on conflict (external_id, sync_id) do update set data = excluded.data`,
    );

  const insertResourceType = upsert('v1_resource_types', ['external_id', 'data', 'sync_id', 'discovered_at']);
  const resourceTypeCount = await writeAll(db, context, snapshot.resourceTypes, {
    table: 'v1_resource_types',
    insert: (resourceType) => {
      resourceTypes.set(resourceType.id, resourceType);
      insertResourceType.run(resourceType.id, encodeResourceType(resourceType), syncId, discoveredAt());
    },
  });

  const insertResource = upsert('v1_resources', [
    'resource_type_id',
    'external_id',
    'parent_resource_type_id',
    'parent_resource_id',
    'data',
    'sync_id',
    'discovered_at',
  ]);
  const encodingContext = {
    traitsOf,
    accountTypeOf: (resource: C1Resource): C1AccountType => context.accountTypes[resource.type] ?? 'HUMAN',
  };
  const resourceCount = await writeAll(db, context, snapshot.resources(), {
    table: 'v1_resources',
    insert: (resource) => {
      insertResource.run(
        resource.type,
        `${resource.type}:${resource.id}`,
        resource.parent?.type ?? null,
        resource.parent?.id ?? null,
        encodeResource(resource, encodingContext),
        syncId,
        discoveredAt(),
      );
    },
  });

  const insertEntitlement = upsert('v1_entitlements', [
    'resource_type_id',
    'resource_id',
    'external_id',
    'data',
    'sync_id',
    'discovered_at',
  ]);
  const resourceTypeOf = (id: string) => resourceTypes.get(id);
  const entitlementCount = await writeAll(db, context, snapshot.entitlements(), {
    table: 'v1_entitlements',
    insert: (entitlement) => {
      insertEntitlement.run(
        entitlement.resource.type,
        entitlement.resource.id,
        entitlement.id,
        encodeEntitlement(entitlement, resourceTypeOf),
        syncId,
        discoveredAt(),
      );
    },
  });

  const insertGrant = db.prepare(
    `insert into v1_grants (resource_type_id, resource_id, entitlement_id, principal_resource_type_id,
       principal_resource_id, external_id, expansion, needs_expansion, data, sync_id, discovered_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (external_id, sync_id) do update set
       data = excluded.data, expansion = excluded.expansion, needs_expansion = excluded.needs_expansion`,
  );
  const grantCount = await writeAll(db, context, snapshot.grants(), {
    table: 'v1_grants',
    insert: (grant) => {
      const encoded = encodeGrant(grant);
      insertGrant.run(
        grant.resource.type,
        grant.resource.id,
        grant.entitlementId,
        grant.principal.type,
        grant.principal.id,
        grant.id,
        encoded.expansion,
        encoded.needsExpansion ? 1 : 0,
        encoded.data,
        syncId,
        discoveredAt(),
      );
    },
  });

  return {
    resourceTypes: resourceTypeCount,
    resources: resourceCount,
    entitlements: entitlementCount,
    grants: grantCount,
  };
}

function isSyncIterable<T>(source: C1Source<T>): source is Iterable<T> {
  return typeof (source as Partial<Iterable<T>>)[Symbol.iterator] === 'function';
}

// One transaction per batch: items are pulled from the source and written one at a time, so only
// the current item is held. Synchronous sources are iterated without awaiting each item.
async function writeAll<T>(
  db: Database.Database,
  context: FillContext,
  source: C1Source<T>,
  writer: BatchWriter<T>,
): Promise<number> {
  let rows = 0;
  let inBatch = 0;
  const write = (item: T) => {
    writer.insert(item);
    rows++;
    if (++inBatch >= context.batchSize) {
      db.exec('commit');
      context.onProgress?.({ table: writer.table, rows });
      inBatch = 0;
      db.exec('begin');
    }
  };
  // Without a journal there is no rollback: on error the caller discards the whole database.
  db.exec('begin');
  if (isSyncIterable(source)) for (const item of source) write(item);
  else for await (const item of source) write(item);
  db.exec('commit');
  context.onProgress?.({ table: writer.table, rows });
  return rows;
}
