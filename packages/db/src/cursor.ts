// Opaque keyset cursors: base64url of a small JSON object holding the last key of a page. Clients
// must treat them as opaque; anything that does not decode to the expected shape is rejected with
// InvalidCursorError (a 400 at the API), never passed to SQL.
import { InvalidCursorError, InvalidInputError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** A page of items and the cursor of the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Encodes a cursor payload. */
export function encodeCursor(payload: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks it with `check`; throws InvalidCursorError when either fails. */
export function decodeCursor<T>(cursor: string, check: (value: unknown) => value is T): T {
  if (cursor.length === 0 || cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!check(value)) throw new InvalidCursorError();
  return value;
}

/** Checks a requested page size and applies the default. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

/** Splits one extra fetched row off to tell whether another page exists. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => Record<string, unknown>,
): Page<Item> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  const page: Page<Item> = { items: pageRows.map(toItem) };
  if (more && last !== undefined) page.nextCursor = encodeCursor(keyOf(last));
  return page;
}

// Text Postgres refuses in a query parameter: a NUL, or a lone UTF-16 surrogate (not valid UTF-8).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for a string key part of a cursor (one Postgres can compare: no NUL, valid Unicode). */
export function isKeyString(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= 2048 &&
    !value.includes('\u0000') &&
    !LONE_SURROGATE.test(value)
  );
}

/**
 * True for an ISO timestamp string exactly as Date#toISOString produces it for a real instant
 * Postgres can store. JavaScript rolls impossible dates over (2024-02-31 parses as 2 March), and
 * accepts year 0, which Postgres rejects; both would reach SQL as a driver error, so the string
 * must survive a round trip unchanged and name a year from 1.
 */
export function isIsoTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value)) return false;
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString() === value;
}
