import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRows, encodeCopyRow } from './copy.js';
import { createEmptyDatabase } from './testing.js';
import pg from 'pg';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

describe('encodeCopyRow', () => {
  it('escapes the characters COPY text format gives a meaning to', () => {
    expect(encodeCopyRow(['a\tb', 'c\nd', 'e\\f', null, ['x', 'y"z'], { json: { k: 'v\n' } }])).toBe(
      'a\\tb\tc\\nd\te\\\\f\t\\N\t{"x","y\\\\"z"}\t{"k":"v\\\\n"}\n',
    );
  });
});

describe('copyRows', () => {
  let drop: () => Promise<void>;
  let client: pg.Client;

  beforeAll(async () => {
    const db = await createEmptyDatabase(ADMIN_URL);
    drop = db.drop;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE t (s text, a text[], j jsonb)');
  });

  afterAll(async () => {
    await client.end();
    await drop();
  });

  it('stores awkward strings, arrays and JSON exactly as given', async () => {
    const awkward = [
      'tab\there',
      'new\nline',
      'cr\rhere',
      'back\\slash',
      '\\N',
      'quote"s and {braces}, commas',
      'ünïcödé ✓',
      '',
    ];
    const rows = awkward.map((s) => ({ s, a: [s, 'NULL', s], j: { s, nested: [s] } }));
    async function* source() {
      yield* rows;
    }
    const count = await copyRows(client, 't', ['s', 'a', 'j'], source(), (r) => [r.s, r.a, { json: r.j }]);
    expect(count).toBe(rows.length);
    const back = await client.query<{ s: string; a: string[]; j: unknown }>('SELECT s, a, j FROM t');
    expect(back.rows).toEqual(expect.arrayContaining(rows));
    expect(back.rows).toHaveLength(rows.length);
  });

  it('drops NUL characters, which Postgres text cannot hold, instead of failing the copy', async () => {
    await client.query('TRUNCATE t');
    await copyRows(client, 't', ['s', 'a', 'j'], [{ v: 'a\0b' }], (r) => [r.v, [r.v], { json: { v: r.v } }]);
    const back = await client.query<{ s: string; a: string[]; j: unknown }>('SELECT s, a, j FROM t');
    expect(back.rows).toEqual([{ s: 'ab', a: ['ab'], j: { v: 'ab' } }]);
  });
});
