// The SQLite schema of a c1z v1 file, as baton-sdk's dotc1z package creates it (v0.25.0, pkg/dotc1z:
// resouce_types.go, resources.go, entitlements.go, sync_runs.go, grants.go, assets.go,
// session_store.go): the same tables, columns, types, defaults and indexes, created in the same
// order, so that baton-sdk opens our files without migrating them and C1 reads them as it reads
// baton-eks's. schema.test.ts holds a file we write against a transcription of baton-sdk's DDL.

/** The five bytes every c1z v1 file starts with, before its single zstd frame. */
export const C1Z_MAGIC = Buffer.from('C1ZF\0', 'latin1');

export const C1Z_TABLES = [
  'v1_resource_types',
  'v1_resources',
  'v1_entitlements',
  'v1_grants',
  'v1_sync_runs',
  'v1_assets',
  'v1_connector_sessions',
] as const;
export type C1zTable = (typeof C1Z_TABLES)[number];

/** Statements that create every table and index, in baton-sdk's order. */
export const C1Z_SCHEMA: readonly string[] = [
  `create table if not exists v1_resource_types (
    id integer primary key,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  'create unique index if not exists idx_resource_types_external_sync_v1 on v1_resource_types (external_id, sync_id)',

  `create table if not exists v1_resources (
    id integer primary key,
    resource_type_id text not null,
    external_id text not null,
    parent_resource_type_id text,
    parent_resource_id text,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  // baton-sdk's names for these two are swapped relative to their columns; kept as it creates them.
  'create index if not exists idx_resources_resource_type_id_v1 on v1_resources (resource_type_id)',
  'create index if not exists idx_resources_external_sync_v1 on v1_resources (parent_resource_type_id, parent_resource_id)',
  'create unique index if not exists idx_resources_parent_resource_id_v1 on v1_resources (external_id, sync_id)',

  `create table if not exists v1_entitlements (
    id integer primary key,
    resource_type_id text not null,
    resource_id text not null,
    external_id text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  'create index if not exists idx_entitlements_resource_id_v1 on v1_entitlements (resource_type_id, resource_id)',
  'create unique index if not exists idx_entitlements_external_sync_v1 on v1_entitlements (external_id, sync_id)',

  `create table if not exists v1_sync_runs (
    id integer primary key,
    sync_id text not null,
    started_at datetime not null,
    ended_at datetime,
    sync_token text not null,
    sync_type text not null default 'full',
    parent_sync_id text not null default '',
    linked_sync_id text not null default '',
    supports_diff integer not null default 0,
    grants_backfilled integer not null default 0,
    stats text,
    ingest_invariant_generation text not null default '',
    ingest_invariant_coverage text not null default '',
    ingest_invariant_mode text not null default ''
)`,
  'create unique index if not exists idx_sync_runs_sync_id_v1 on v1_sync_runs (sync_id)',

  `create table if not exists v1_grants (
    id integer primary key,
    resource_type_id text not null,
    resource_id text not null,
    entitlement_id text not null,
    principal_resource_type_id text not null,
    principal_resource_id text not null,
    external_id text not null,
    expansion blob,
    needs_expansion integer not null default 0,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  'create index if not exists idx_grants_resource_type_id_resource_id_v1 on v1_grants (resource_type_id, resource_id)',
  'create index if not exists idx_grants_principal_id_v1 on v1_grants (principal_resource_type_id, principal_resource_id)',
  'create index if not exists idx_grants_entitlement_id_principal_id_v1 on v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id)',
  'create unique index if not exists idx_grants_external_sync_v1 on v1_grants (external_id, sync_id)',
  'create index if not exists idx_grants_entitlement_sync_grant_v1 on v1_grants (entitlement_id, sync_id, id)',
  // Created by baton-sdk's grants migration on every open, after the table's own indexes.
  'create index if not exists idx_grants_sync_expansion_v1 on v1_grants (sync_id) where expansion is not null',
  'create index if not exists idx_grants_sync_needs_expansion_v1 on v1_grants (sync_id) where needs_expansion = 1',

  `create table if not exists v1_assets (
    id integer primary key,
    external_id text not null,
    content_type text not null,
    data blob not null,
    sync_id text not null,
    discovered_at datetime not null
)`,
  'create unique index if not exists idx_assets_external_sync_v1 on v1_assets (external_id, sync_id)',

  // baton-sdk declares this table's types in capitals; pragma table_info reports them as written.
  `create table if not exists v1_connector_sessions (
    id integer primary key,
    sync_id text NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL
)`,
  'create unique index if not exists idx_session_store_sync_key_v1 on v1_connector_sessions (sync_id, key)',
];

/** The columns each table must have for a file to be read (what baton-sdk selects). */
export const REQUIRED_COLUMNS: Readonly<Record<C1zTable, readonly string[]>> = {
  v1_resource_types: ['id', 'external_id', 'data', 'sync_id', 'discovered_at'],
  v1_resources: [
    'id',
    'resource_type_id',
    'external_id',
    'parent_resource_type_id',
    'parent_resource_id',
    'data',
    'sync_id',
    'discovered_at',
  ],
  v1_entitlements: [
    'id',
    'resource_type_id',
    'resource_id',
    'external_id',
    'data',
    'sync_id',
    'discovered_at',
  ],
  v1_grants: [
    'id',
    'resource_type_id',
    'resource_id',
    'entitlement_id',
    'principal_resource_type_id',
    'principal_resource_id',
    'external_id',
    'expansion',
    'needs_expansion',
    'data',
    'sync_id',
    'discovered_at',
  ],
  v1_sync_runs: ['id', 'sync_id', 'started_at', 'ended_at', 'sync_token', 'sync_type'],
  v1_assets: ['id', 'external_id', 'content_type', 'data', 'sync_id', 'discovered_at'],
  v1_connector_sessions: ['id', 'sync_id', 'key', 'value'],
};

/** Tables without which a file is not a c1z; files from older SDKs may lack the others. */
export const ESSENTIAL_TABLES: readonly C1zTable[] = [
  'v1_resource_types',
  'v1_resources',
  'v1_entitlements',
  'v1_grants',
  'v1_sync_runs',
];

/**
 * Pragmas for building the database. baton-sdk keeps its working copy with journal_mode=TRUNCATE,
 * synchronous=NORMAL and locking_mode=EXCLUSIVE because it edits a file it must not lose; ours is a
 * scratch file that is discarded on any error and made durable only as the fsynced c1z, so it is
 * built without a journal or syncs, with a larger page cache. Neither setting is stored in the
 * file: its header still says rollback journal (read/write versions 1), as baton's files do.
 */
export const WRITE_PRAGMAS: readonly string[] = [
  'locking_mode = EXCLUSIVE',
  'journal_mode = OFF',
  'synchronous = OFF',
  'cache_size = -65536',
];

/**
 * A time as baton-sdk writes it: Go's "2006-01-02 15:04:05.999999999" layout in UTC, which drops
 * trailing zeros of the fraction (and the dot when the fraction is zero).
 */
export function formatC1zTime(time: Date): string {
  const iso = time.toISOString(); // 2026-05-20T10:11:12.345Z
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}`;
}
