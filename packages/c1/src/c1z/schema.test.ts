import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openC1z, type OpenedC1z } from './read.js';
import { writeC1z } from './write.js';

// The file our writer produces, held against baton-sdk's own DDL (a transcription, with the SDK
// version it was read from, in testdata/baton-sdk-v1-schema.sql): table for table, column for
// column (type, NOT NULL, default, primary key), index for index (columns, uniqueness, partial
// condition), and the objects in the order baton-sdk's bulk load of a new file leaves them.

interface SchemaFacts {
  objects: string[];
  tables: Record<string, { columns: unknown[]; indexes: unknown[] }>;
}

/** Normalized CREATE text: comments dropped, case and spacing made uniform, IF NOT EXISTS removed. */
function normalizedSql(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/ if not exists/, '')
    .replace(/\s*([(),])\s*/g, '$1')
    .trim();
}

function factsOf(db: Database.Database): SchemaFacts {
  const master = db
    .prepare(
      "select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by rowid",
    )
    .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
  const tables: SchemaFacts['tables'] = {};
  for (const table of master.filter((m) => m.type === 'table')) {
    const columns = db
      .prepare(`select cid, name, type, "notnull", dflt_value, pk from pragma_table_info(?)`)
      .all(table.name);
    const indexes = (
      db
        .prepare('select name, "unique", origin, partial from pragma_index_list(?) order by name')
        .all(table.name) as {
        name: string;
      }[]
    ).map((index) => ({
      ...index,
      columns: db.prepare('select seqno, cid, name from pragma_index_info(?) order by seqno').all(index.name),
      sql: normalizedSql(master.find((m) => m.name === index.name)?.sql ?? ''),
    }));
    tables[table.name] = { columns, indexes };
  }
  return {
    objects: master.map((m) => `${m.type} ${m.name} on ${m.tbl_name}: ${normalizedSql(m.sql ?? '')}`),
    tables,
  };
}

describe('the c1z SQLite schema', () => {
  let dir: string;
  let opened: OpenedC1z;
  let baton: Database.Database;
  let batonBulk: Database.Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'c1z-schema-'));
    const path = join(dir, 'sync.c1z');
    await writeC1z(path, {
      resourceTypes: [{ id: 'namespace', displayName: 'Namespace', traits: [] }],
      resources: () => [{ type: 'namespace', id: 'default', displayName: 'default' }],
      entitlements: () => [],
      grants: () => [],
    });
    opened = await openC1z(path);
    const ddl = readFileSync(new URL('./testdata/baton-sdk-v1-schema.sql', import.meta.url), 'utf8');
    baton = new Database(':memory:');
    baton.exec(ddl);
    // baton-sdk's bulk load (pkg/dotc1z/c1file.go, InitTables with bulkLoad and
    // buildDeferredIndexes): per table, the non-unique indexes its Schema() created (listed before
    // the migrations add the partial ones) are dropped, and at close each such table's Schema() runs
    // again, creating them anew after everything else.
    batonBulk = new Database(':memory:');
    batonBulk.exec(ddl);
    const created = batonBulk
      .prepare(
        "select name, tbl_name as tbl, sql from sqlite_master where type = 'index' and sql is not null order by rowid",
      )
      .all() as { name: string; tbl: string; sql: string }[];
    const deferred = created.filter((index) =>
      (
        batonBulk
          .prepare('select name, "unique", origin, partial from pragma_index_list(?)')
          .all(index.tbl) as {
          name: string;
          unique: number;
          origin: string;
          partial: number;
        }[]
      ).some((i) => i.name === index.name && i.unique === 0 && i.origin === 'c' && i.partial === 0),
    );
    for (const index of deferred) batonBulk.exec(`drop index ${index.name}`);
    for (const index of deferred) batonBulk.exec(index.sql);
  });

  afterAll(async () => {
    await opened?.close();
    baton?.close();
    batonBulk?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has baton-sdk’s tables with the same columns, types, defaults and keys', () => {
    const ours = factsOf(opened.db).tables;
    const theirs = factsOf(baton).tables;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    for (const table of Object.keys(theirs))
      expect({ table, columns: ours[table]?.columns }).toEqual({ table, columns: theirs[table]?.columns });
  });

  it('has baton-sdk’s indexes, index for index, including the partial ones and idx_grants_entitlement_sync_grant_v1', () => {
    const ours = factsOf(opened.db).tables;
    const theirs = factsOf(baton).tables;
    for (const table of Object.keys(theirs))
      expect({ table, indexes: ours[table]?.indexes }).toEqual({ table, indexes: theirs[table]?.indexes });
    expect(ours.v1_grants?.indexes).toContainEqual(
      expect.objectContaining({
        name: 'idx_grants_entitlement_sync_grant_v1',
        columns: [
          { seqno: 0, cid: 3, name: 'entitlement_id' },
          { seqno: 1, cid: 10, name: 'sync_id' },
          { seqno: 2, cid: 0, name: 'id' },
        ],
      }),
    );
  });

  it('holds the objects in the order baton-sdk’s bulk load of a new file leaves them, with the same definitions', () => {
    expect(factsOf(opened.db).objects).toEqual(factsOf(batonBulk).objects);
    // The same objects as the plain (non-bulk) path creates, only ordered differently.
    expect([...factsOf(opened.db).objects].sort()).toEqual([...factsOf(baton).objects].sort());
  });

  it('records the sync run with the ingest invariant columns baton-sdk added, empty as it leaves them', () => {
    const run = opened.db
      .prepare(
        'select ingest_invariant_generation, ingest_invariant_coverage, ingest_invariant_mode from v1_sync_runs',
      )
      .get();
    expect(run).toEqual({
      ingest_invariant_generation: '',
      ingest_invariant_coverage: '',
      ingest_invariant_mode: '',
    });
  });
});
