// Reads a c1z v1 file: checks the `C1ZF\0` magic and the zstd frame header (failing fast on a
// declared size over the limit), decompresses the frame into a temporary SQLite file, checks the
// v1 schema and returns typed rows with their protobuf messages decoded. For tests, the stand-in
// C1 and tools; the product itself only writes c1z files.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { C1zError } from './errors.js';
import {
  decodeEntitlement,
  decodeGrant,
  decodeGrantExpandable,
  decodeResource,
  decodeResourceType,
  entitlementFromMessage,
  grantFromMessage,
  resourceFromMessage,
  resourceTypeFromMessage,
  type EntitlementMessage,
  type GrantExpandableMessage,
  type GrantMessage,
  type ResourceMessage,
  type ResourceTypeMessage,
} from './messages.js';
import type { C1Entitlement, C1Grant, C1Resource, C1ResourceType } from './model.js';
import { C1Z_MAGIC, C1Z_TABLES, ESSENTIAL_TABLES, REQUIRED_COLUMNS, type C1zTable } from './schema.js';
import { parseZstdFrameHeader, type ZstdFrameHeader } from './zstd-frame.js';
import { decompressFrame } from './zstd.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** baton-sdk's default decoder limits: 10 GiB decoded, a 128 MiB window. */
const DEFAULT_MAX_DECODED_BYTES = 10 * 1024 ** 3;
const DEFAULT_WINDOW_LOG_MAX = 27;
// Magic, then the largest zstd frame header (4 + 1 + 1 + 4 + 8 bytes).
const HEAD_BYTES = C1Z_MAGIC.length + 18;

export interface ReadC1zOptions {
  /** Directory for the decompressed database (default: the OS temp dir). */
  tmpDir?: string;
  maxDecodedBytes?: number;
  windowLogMax?: number;
}

export interface C1zFileInfo {
  fileBytes: number;
  frame: ZstdFrameHeader;
  databaseBytes: number;
}

export interface SqliteObject {
  type: string;
  name: string;
  tableName: string;
  sql: string | null;
}

export interface SyncRunRow {
  id: number;
  syncId: string;
  startedAt: string;
  endedAt: string | null;
  syncToken: string;
  syncType: string;
  parentSyncId: string;
  linkedSyncId: string;
  supportsDiff: number;
  grantsBackfilled: number;
  /** The SyncStats JSON baton-sdk stores when a sync ends; null when none was stored. */
  stats: string | null;
}

interface StoredRow<M> {
  id: number;
  externalId: string;
  data: Uint8Array;
  syncId: string;
  discoveredAt: string;
  message: M;
}

export type ResourceTypeRow = StoredRow<ResourceTypeMessage>;

export interface ResourceRow extends StoredRow<ResourceMessage> {
  resourceTypeId: string;
  parentResourceTypeId: string | null;
  parentResourceId: string | null;
}

export interface EntitlementRow extends StoredRow<EntitlementMessage> {
  resourceTypeId: string;
  resourceId: string;
}

export interface GrantRow extends StoredRow<GrantMessage> {
  resourceTypeId: string;
  resourceId: string;
  entitlementId: string;
  principalResourceTypeId: string;
  principalResourceId: string;
  expansion: Uint8Array | null;
  needsExpansion: number;
  expansionMessage: GrantExpandableMessage | null;
}

export interface AssetRow {
  id: number;
  externalId: string;
  contentType: string;
  data: Uint8Array;
  syncId: string;
  discoveredAt: string;
}

export interface ConnectorSessionRow {
  id: number;
  syncId: string;
  key: string;
  value: Uint8Array;
}

/** An opened c1z: its database decompressed to a temporary file, read lazily. Close it when done. */
export interface OpenedC1z {
  readonly info: C1zFileInfo;
  readonly db: Database.Database;
  schema(): SqliteObject[];
  syncRuns(): SyncRunRow[];
  /** The latest finished full sync (or the latest sync when none has finished). */
  latestSync(): SyncRunRow | undefined;
  resourceTypes(syncId?: string): IterableIterator<ResourceTypeRow>;
  resources(syncId?: string): IterableIterator<ResourceRow>;
  entitlements(syncId?: string): IterableIterator<EntitlementRow>;
  grants(syncId?: string): IterableIterator<GrantRow>;
  assets(): AssetRow[];
  connectorSessions(): ConnectorSessionRow[];
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

function checkMagic(head: Buffer, bytesRead: number, path: string): void {
  const present = Math.min(bytesRead, C1Z_MAGIC.length);
  if (!head.subarray(0, present).equals(C1Z_MAGIC.subarray(0, present))) {
    const found = JSON.stringify(head.subarray(0, present).toString('latin1'));
    throw new C1zError(
      'C1Z_BAD_MAGIC',
      `${path} is not a c1z v1 file: it starts with ${found}, not "C1ZF\\u0000"`,
    );
  }
  if (bytesRead < C1Z_MAGIC.length) throw new C1zError('C1Z_TRUNCATED', `${path} ends inside the c1z header`);
  if (bytesRead === C1Z_MAGIC.length)
    throw new C1zError('C1Z_TRUNCATED', `${path} has a c1z header but no zstd frame`);
}

function decodeRow<M>(table: string, row: Row, decode: (bytes: Uint8Array) => M, column = 'data'): M {
  try {
    return decode(row[column] as Uint8Array);
  } catch (error) {
    throw new C1zError(
      'C1Z_BAD_DATA',
      `${table} row ${String(row.id)}: ${column} does not decode: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function checkSchema(db: Database.Database): void {
  const present = new Set(
    (db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map(
      (r) => r.name,
    ),
  );
  const missingTables = ESSENTIAL_TABLES.filter((table) => !present.has(table));
  if (missingTables.length > 0) {
    throw new C1zError('C1Z_BAD_SCHEMA', `the c1z database has no ${missingTables.join(', ')} table(s)`);
  }
  for (const table of C1Z_TABLES) {
    if (!present.has(table)) continue;
    const columns = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
    const missing = REQUIRED_COLUMNS[table].filter((column) => !columns.has(column));
    // Files written before baton-sdk added the expansion columns are still readable.
    const tolerated = table === 'v1_grants' ? ['expansion', 'needs_expansion'] : [];
    const fatal = missing.filter((column) => !tolerated.includes(column));
    if (fatal.length > 0)
      throw new C1zError('C1Z_BAD_SCHEMA', `${table} lacks column(s) ${fatal.join(', ')}`);
  }
}

/** Opens a c1z file for reading; the caller must `close()` it to remove the temporary database. */
export async function openC1z(path: string, options: ReadC1zOptions = {}): Promise<OpenedC1z> {
  const maxDecodedBytes = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const workDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'c1z-read-'));
  const dbPath = join(workDir, 'db');
  let db: Database.Database | undefined;
  try {
    const source = await open(path, 'r');
    let info: C1zFileInfo;
    try {
      const fileBytes = (await source.stat()).size;
      const head = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await source.read(head, 0, HEAD_BYTES, 0);
      checkMagic(head, bytesRead, path);
      const frame = parseZstdFrameHeader(head.subarray(0, bytesRead), C1Z_MAGIC.length);
      if (frame.contentSize !== null && frame.contentSize > maxDecodedBytes) {
        throw new C1zError(
          'C1Z_TOO_LARGE',
          `the zstd frame declares ${frame.contentSize} bytes, over the limit of ${maxDecodedBytes}`,
        );
      }
      const target = await open(dbPath, 'w');
      let databaseBytes: number;
      try {
        databaseBytes = await decompressFrame(source, C1Z_MAGIC.length, target, {
          maxDecodedBytes,
          windowLogMax: options.windowLogMax ?? DEFAULT_WINDOW_LOG_MAX,
        });
        await target.sync();
      } finally {
        await target.close();
      }
      if (frame.contentSize !== null && frame.contentSize !== databaseBytes) {
        throw new C1zError(
          'C1Z_BAD_FRAME',
          `the zstd frame declares ${frame.contentSize} bytes but decodes to ${databaseBytes}`,
        );
      }
      info = { fileBytes, frame, databaseBytes };
    } finally {
      await source.close();
    }
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const dbFile = await open(dbPath, 'r');
    try {
      await dbFile.read(header, 0, header.length, 0);
    } finally {
      await dbFile.close();
    }
    if (!header.equals(SQLITE_HEADER)) {
      throw new C1zError('C1Z_BAD_SCHEMA', 'the decompressed c1z content is not a SQLite database');
    }
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    checkSchema(db);
    return createReader(db, info, workDir);
  } catch (error) {
    db?.close();
    await rm(workDir, { recursive: true, force: true });
    if (error instanceof C1zError) throw error;
    if (
      (error as { code?: string }).code === 'SQLITE_NOTADB' ||
      (error as { code?: string }).code === 'SQLITE_CORRUPT'
    ) {
      throw new C1zError(
        'C1Z_BAD_SCHEMA',
        `the decompressed c1z content is not a valid SQLite database: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

function createReader(db: Database.Database, info: C1zFileInfo, workDir: string): OpenedC1z {
  const columnsOf = (table: C1zTable) =>
    new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name));
  const grantColumns = columnsOf('v1_grants');
  const hasExpansion = grantColumns.has('expansion');
  const hasTable = (table: C1zTable) =>
    db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(table) !== undefined;

  function* rows<T>(table: C1zTable, syncId: string | undefined, map: (row: Row) => T): IterableIterator<T> {
    const where = syncId === undefined ? '' : ' where sync_id = ?';
    const statement = db.prepare(`select * from ${table}${where} order by id`);
    const iterator = (
      syncId === undefined ? statement.iterate() : statement.iterate(syncId)
    ) as IterableIterator<Row>;
    for (const row of iterator) yield map(row);
  }

  const base = <M>(table: string, row: Row, decode: (bytes: Uint8Array) => M): StoredRow<M> => ({
    id: row.id as number,
    externalId: row.external_id as string,
    data: row.data as Uint8Array,
    syncId: row.sync_id as string,
    discoveredAt: row.discovered_at as string,
    message: decodeRow(table, row, decode),
  });

  const syncRuns = (): SyncRunRow[] =>
    (db.prepare('select * from v1_sync_runs order by id').all() as Row[]).map((row) => ({
      id: row.id as number,
      syncId: row.sync_id as string,
      startedAt: row.started_at as string,
      endedAt: row.ended_at as string | null,
      syncToken: row.sync_token as string,
      syncType: (row.sync_type as string | undefined) ?? 'full',
      parentSyncId: (row.parent_sync_id as string | undefined) ?? '',
      linkedSyncId: (row.linked_sync_id as string | undefined) ?? '',
      supportsDiff: (row.supports_diff as number | undefined) ?? 0,
      grantsBackfilled: (row.grants_backfilled as number | undefined) ?? 0,
      stats: (row.stats as string | null | undefined) ?? null,
    }));

  return {
    info,
    db,
    schema: () =>
      (
        db.prepare('select type, name, tbl_name, sql from sqlite_master order by type, name').all() as Row[]
      ).map((row) => ({
        type: row.type as string,
        name: row.name as string,
        tableName: row.tbl_name as string,
        sql: row.sql as string | null,
      })),
    syncRuns,
    latestSync: () => {
      const runs = syncRuns();
      const finished = runs
        .filter((run) => run.endedAt !== null && run.syncType === 'full')
        .sort((a, b) =>
          a.endedAt! < b.endedAt! ? -1 : a.endedAt! > b.endedAt! ? 1 : a.syncId < b.syncId ? -1 : 1,
        );
      return finished.at(-1) ?? runs.at(-1);
    },
    resourceTypes: (syncId) =>
      rows('v1_resource_types', syncId, (row) => base('v1_resource_types', row, decodeResourceType)),
    resources: (syncId) =>
      rows('v1_resources', syncId, (row) => ({
        ...base('v1_resources', row, decodeResource),
        resourceTypeId: row.resource_type_id as string,
        parentResourceTypeId: row.parent_resource_type_id as string | null,
        parentResourceId: row.parent_resource_id as string | null,
      })),
    entitlements: (syncId) =>
      rows('v1_entitlements', syncId, (row) => ({
        ...base('v1_entitlements', row, decodeEntitlement),
        resourceTypeId: row.resource_type_id as string,
        resourceId: row.resource_id as string,
      })),
    grants: (syncId) =>
      rows('v1_grants', syncId, (row) => {
        const expansion = hasExpansion ? ((row.expansion as Uint8Array | null) ?? null) : null;
        return {
          ...base('v1_grants', row, decodeGrant),
          resourceTypeId: row.resource_type_id as string,
          resourceId: row.resource_id as string,
          entitlementId: row.entitlement_id as string,
          principalResourceTypeId: row.principal_resource_type_id as string,
          principalResourceId: row.principal_resource_id as string,
          expansion,
          needsExpansion: (row.needs_expansion as number | undefined) ?? 0,
          expansionMessage:
            expansion && expansion.length > 0
              ? decodeRow('v1_grants', row, decodeGrantExpandable, 'expansion')
              : null,
        };
      }),
    assets: () =>
      hasTable('v1_assets')
        ? (db.prepare('select * from v1_assets order by id').all() as Row[]).map((row) => ({
            id: row.id as number,
            externalId: row.external_id as string,
            contentType: row.content_type as string,
            data: row.data as Uint8Array,
            syncId: row.sync_id as string,
            discoveredAt: row.discovered_at as string,
          }))
        : [],
    connectorSessions: () =>
      hasTable('v1_connector_sessions')
        ? (db.prepare('select * from v1_connector_sessions order by id').all() as Row[]).map((row) => ({
            id: row.id as number,
            syncId: row.sync_id as string,
            key: row.key as string,
            value: row.value as Uint8Array,
          }))
        : [],
    close: async () => {
      if (db.open) db.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** The snapshot model of one sync, rebuilt from its messages. */
export interface C1zSnapshotContents {
  syncId: string;
  resourceTypes: C1ResourceType[];
  resources: C1Resource[];
  entitlements: C1Entitlement[];
  grants: C1Grant[];
}

export interface C1zContents {
  info: C1zFileInfo;
  schema: SqliteObject[];
  syncRuns: SyncRunRow[];
  resourceTypes: ResourceTypeRow[];
  resources: ResourceRow[];
  entitlements: EntitlementRow[];
  grants: GrantRow[];
  assets: AssetRow[];
  connectorSessions: ConnectorSessionRow[];
  /** The latest sync as model objects, in row order; undefined for a file without a sync run. */
  snapshot: C1zSnapshotContents | undefined;
}

/** Reads a whole c1z file into memory: every row of every table, and the latest sync as model objects. */
export async function readC1z(path: string, options: ReadC1zOptions = {}): Promise<C1zContents> {
  const opened = await openC1z(path, options);
  try {
    const resourceTypes = [...opened.resourceTypes()];
    const resources = [...opened.resources()];
    const entitlements = [...opened.entitlements()];
    const grants = [...opened.grants()];
    const latest = opened.latestSync();
    const ofSync = <T extends { syncId: string }>(list: T[]) =>
      list.filter((row) => row.syncId === latest?.syncId);
    return {
      info: opened.info,
      schema: opened.schema(),
      syncRuns: opened.syncRuns(),
      resourceTypes,
      resources,
      entitlements,
      grants,
      assets: opened.assets(),
      connectorSessions: opened.connectorSessions(),
      snapshot: latest && {
        syncId: latest.syncId,
        resourceTypes: ofSync(resourceTypes).map((row) => resourceTypeFromMessage(row.message)),
        resources: ofSync(resources).map((row) => resourceFromMessage(row.message)),
        entitlements: ofSync(entitlements).map((row) => entitlementFromMessage(row.message)),
        grants: ofSync(grants).map((row) => grantFromMessage(row.message, row.expansionMessage)),
      },
    };
  } finally {
    await opened.close();
  }
}
