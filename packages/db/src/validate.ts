// Small argument checks shared by the queries. A malformed id must become a typed error here: sent
// to Postgres it would be a driver error, which the API could only report as a 500.
import { InvalidInputError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string (what Postgres accepts for a uuid column). */
export function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID.test(value);
}

/** Throws InvalidInputError unless `value` is a UUID. */
export function assertUuid(value: unknown, what: string): asserts value is string {
  if (!isUuid(value)) throw new InvalidInputError(`${what} must be a UUID`);
}

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
