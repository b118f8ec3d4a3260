// Bulk writes with COPY ... FROM STDIN (text format), streamed: rows are encoded as they come from
// the source iterable and written in chunks with backpressure, so a snapshot of any size is never
// held in memory. COPY is several times faster than multi-row INSERTs for the 700,000-entitlement
// snapshots of a big cluster.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RowSource } from './snapshot-types.js';

/** A value of one COPY column: null, a string, a string array (text[]), or anything JSON (jsonb). */
export type CopyValue = string | null | readonly string[] | { json: unknown };

// COPY text format: backslash, newline, carriage return and tab must be escaped; \N is NULL.
const NEEDS_ESCAPE = /[\\\n\r\t\0]/;
const ESCAPES = /[\\\n\r\t\0]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '' };

function escapeText(value: string): string {
  // Postgres text cannot hold NUL, so it is dropped rather than failing the whole snapshot.
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, (c) => ESCAPED[c] ?? c) : value;
}

const ARRAY_ITEM_ESCAPES = /["\\]/g;

function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(ARRAY_ITEM_ESCAPES, '\\$&')}"`).join(',')}}`;
}

// Object keys are written sorted. jsonb does not keep key order anyway, and a fixed order makes a
// row's line a function of its content alone, which the snapshot content hash relies on.
function sortKeys(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
  return sorted;
}

function jsonText(value: unknown): string {
  const text = JSON.stringify(value, sortKeys) ?? 'null';
  // jsonb rejects the \u0000 escape; rare enough to pay for a second pass only when it appears.
  if (!text.includes('\\u0000')) return text;
  return JSON.stringify(value, (key, v: unknown) =>
    typeof v === 'string' ? v.replaceAll('\0', '') : sortKeys(key, v),
  );
}

/** Encodes one row as a line of COPY text format. */
export function encodeCopyRow(values: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) line += '\t';
    if (v === null || v === undefined) line += '\\N';
    else if (typeof v === 'string') line += escapeText(v);
    else if (Array.isArray(v)) line += escapeText(arrayLiteral(v as readonly string[]));
    else line += escapeText(jsonText((v as { json: unknown }).json));
  }
  return `${line}\n`;
}

const CHUNK_CHARS = 64 * 1024;

async function* encodeRows<T>(
  rows: RowSource<T>,
  toValues: (row: T) => readonly CopyValue[],
  onLine: ((line: string) => void) | undefined,
): AsyncGenerator<string> {
  // Batching lines into ~64 KiB chunks keeps the per-write overhead of the stream out of the loop.
  let chunk = '';
  for await (const row of rows) {
    const line = encodeCopyRow(toValues(row));
    onLine?.(line);
    chunk += line;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/**
 * Streams rows into `table (columns)` with COPY on the given client; returns the row count.
 * `onLine` sees each encoded line (a function of the row's values alone) before it is sent.
 */
export async function copyRows<T>(
  client: pg.PoolClient | pg.Client,
  table: string,
  columns: readonly string[],
  rows: RowSource<T>,
  toValues: (row: T) => readonly CopyValue[],
  onLine?: (line: string) => void,
): Promise<number> {
  const quoted = columns.map((c) => `"${c}"`).join(', ');
  const sink = client.query(copyFrom(`COPY "${table}" (${quoted}) FROM STDIN`));
  await pipeline(Readable.from(encodeRows(rows, toValues, onLine), { objectMode: false }), sink);
  return sink.rowCount;
}
