import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import zstdSimple from 'zstd-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { C1zErrorCode } from './errors.js';
import { openC1z, readC1z } from './read.js';
import { C1Z_MAGIC, C1Z_SCHEMA } from './schema.js';
import { writeC1z } from './write.js';

let dir: string;
let work: string;
let valid: Buffer;

function sqliteBytes(statements: readonly string[]): Buffer {
  const path = join(dir, `db-${Math.random().toString(36).slice(2)}`);
  const db = new Database(path);
  for (const statement of statements) db.exec(statement);
  db.close();
  const bytes = readFileSync(path);
  rmSync(path);
  return bytes;
}

const envelope = (content: Uint8Array) => Buffer.concat([C1Z_MAGIC, zstdSimple.compress(content)]);

async function failure(
  bytes: Uint8Array,
  options: { maxDecodedBytes?: number } = {},
): Promise<{ code: C1zErrorCode; message: string }> {
  const path = join(dir, `case-${Math.random().toString(36).slice(2)}.c1z`);
  writeFileSync(path, bytes);
  try {
    await readC1z(path, { tmpDir: work, ...options });
  } catch (error) {
    expect(error).toMatchObject({ name: 'C1zError', retryable: false });
    return error as { code: C1zErrorCode; message: string };
  }
  throw new Error('expected readC1z to fail');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'c1z-read-test-'));
  work = join(dir, 'work');
  mkdirSync(work);
  await writeC1z(join(dir, 'valid.c1z'), {
    resourceTypes: [{ id: 'role', displayName: 'IAM Role', traits: ['ROLE'] }],
    resources: () =>
      Array.from({ length: 500 }, (_, i) => ({
        type: 'role',
        id: `arn:aws:iam::1:role/r${i}`,
        displayName: `r${i}`,
        profile: { i },
      })),
    entitlements: () => [],
    grants: () => [],
  });
  valid = readFileSync(join(dir, 'valid.c1z'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readC1z errors', () => {
  it('rejects a file that does not start with C1ZF\\0', async () => {
    const error = await failure(Buffer.from('PK\x03\x04 this is a zip file'));
    expect(error.code).toBe('C1Z_BAD_MAGIC');
    expect(error.message).toContain('not a c1z v1 file');
    expect((await failure(Buffer.from('C1Z3\0manifest'))).code).toBe('C1Z_BAD_MAGIC');
  });

  it('rejects a file that ends in the header or right after it', async () => {
    expect((await failure(Buffer.from('C1Z'))).code).toBe('C1Z_TRUNCATED');
    expect((await failure(C1Z_MAGIC)).code).toBe('C1Z_TRUNCATED');
    expect((await failure(valid.subarray(0, 8))).code).toBe('C1Z_TRUNCATED');
  });

  it('rejects a truncated zstd frame', async () => {
    for (const cut of [1, 4, 100, Math.floor(valid.length / 2)]) {
      const error = await failure(valid.subarray(0, valid.length - cut));
      expect(error.code).toBe('C1Z_TRUNCATED');
      expect(error.message).toContain('truncated');
    }
  });

  it('rejects bytes after the single zstd frame', async () => {
    expect((await failure(Buffer.concat([valid, Buffer.from('trailing')]))).code).toBe('C1Z_BAD_FRAME');
    expect((await failure(Buffer.concat([valid, valid.subarray(5)]))).code).toBe('C1Z_BAD_FRAME');
  });

  it('rejects something other than zstd after the magic, and a corrupted frame', async () => {
    expect(
      (await failure(Buffer.concat([C1Z_MAGIC, Buffer.from('SQLite format 3\0 not compressed')]))).code,
    ).toBe('C1Z_BAD_FRAME');
    const corrupted = Buffer.from(valid);
    for (let i = 40; i < 60; i++) corrupted[i] = corrupted[i]! ^ 0xa5;
    expect(['C1Z_BAD_FRAME', 'C1Z_TRUNCATED']).toContain((await failure(corrupted)).code);
  });

  it('rejects a declared size over the limit before decompressing', async () => {
    const error = await failure(valid, { maxDecodedBytes: 4096 });
    expect(error.code).toBe('C1Z_TOO_LARGE');
    expect(error.message).toContain('declares');
  });

  it('rejects content that is not SQLite', async () => {
    const error = await failure(envelope(Buffer.alloc(8192, 7)));
    expect(error.code).toBe('C1Z_BAD_SCHEMA');
    expect(error.message).toContain('not a SQLite database');
  });

  it('rejects a SQLite database without the baton-sdk v1 tables', async () => {
    const error = await failure(
      envelope(sqliteBytes(['create table accounts (id integer primary key, name text)'])),
    );
    expect(error.code).toBe('C1Z_BAD_SCHEMA');
    expect(error.message).toContain('v1_resource_types');
  });

  it('rejects v1 tables that lack the columns baton-sdk reads', async () => {
    const schema = C1Z_SCHEMA.filter((statement) => !statement.includes('v1_grants'));
    schema.push('create table v1_grants (id integer primary key, external_id text, sync_id text)');
    const error = await failure(envelope(sqliteBytes(schema)));
    expect(error.code).toBe('C1Z_BAD_SCHEMA');
    expect(error.message).toMatch(/v1_grants lacks column\(s\) resource_type_id, .*data, .*discovered_at/);
  });

  it('reads a file from an SDK that predates the expansion columns', async () => {
    const schema = C1Z_SCHEMA.filter((statement) => !statement.includes('v1_grants'));
    schema.push(
      `create table v1_grants (id integer primary key, resource_type_id text not null, resource_id text not null,
        entitlement_id text not null, principal_resource_type_id text not null, principal_resource_id text not null,
        external_id text not null, data blob not null, sync_id text not null, discovered_at datetime not null)`,
    );
    const path = join(dir, 'old.c1z');
    writeFileSync(path, envelope(sqliteBytes(schema)));
    const contents = await readC1z(path, { tmpDir: work });
    expect(contents.grants).toEqual([]);
    expect(contents.snapshot).toBeUndefined();
  });

  it('leaves no temporary files behind, whether reading succeeds or fails', async () => {
    const opened = await openC1z(join(dir, 'valid.c1z'), { tmpDir: work });
    expect([...opened.resources()]).toHaveLength(500);
    await opened.close();
    expect(readdirSync(work)).toEqual([]);
  });
});
