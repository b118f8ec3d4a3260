// What every EKS operation shares: the typed errors EKS answers with, reading query and JSON body
// values strictly (a wrong type is a 400, never a crash), opaque page tokens, and finding the
// cluster and access entry a call names, scoped to the caller's account and signing region.
import type { AccessEntry, Cluster } from '../world/types.js';
import { AwsError, type AwsCall } from './server.js';

/** An EKS InvalidParameterException (400): a parameter has a bad value. */
export function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message, 400);
}

/** An EKS ResourceNotFoundException (404). */
export function resourceNotFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', message, 404);
}

/** The cluster a call names, in the caller's account and the region the call was signed for. */
export function findCluster(call: AwsCall, name: string): Cluster {
  const cluster = call.world.getCluster(call.caller.identity.accountId, call.region, name);
  if (!cluster) throw resourceNotFound(`No cluster found for name: ${name}.`);
  return cluster;
}

/** Access entries exist only through the EKS API on clusters that use it for authentication. */
export function requireAccessEntryApi(cluster: Cluster): void {
  if (cluster.authenticationMode === 'CONFIG_MAP') {
    throw new AwsError(
      'InvalidRequestException',
      "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
      400,
    );
  }
}

/** The access entry of `principalArn` (matched exactly, path included) on the cluster. */
export function findAccessEntry(cluster: Cluster, principalArn: string): AccessEntry {
  const entry = cluster.accessEntries.get(principalArn);
  if (!entry) throw resourceNotFound('The specified access entry resource is not found.');
  return entry;
}

/** Epoch seconds, the way REST-JSON carries timestamps. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function queryValue(call: AwsCall, name: string): string | undefined {
  return call.query.find(([k]) => k === name)?.[1];
}

/** A query parameter, or undefined when absent or empty. */
export function queryString(call: AwsCall, name: string): string | undefined {
  const value = queryValue(call, name);
  return value === undefined || value === '' ? undefined : value;
}

/** `maxResults` from the query: an integer 1..100, 100 when absent, as EKS list operations take it. */
export function readMaxResults(call: AwsCall): number {
  const raw = queryString(call, 'maxResults');
  if (raw === undefined) return 100;
  const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100) {
    throw invalidParameter(`maxResults must be an integer between 1 and 100; got ${raw}.`);
  }
  return n;
}

export type JsonObject = Record<string, unknown>;

/** The request body as a JSON object; an empty body counts as `{}`. */
export function readJsonBody(call: AwsCall): JsonObject {
  const text = call.body.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsError('BadRequestException', 'The request body is not valid JSON.', 400);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsError('BadRequestException', 'The request body must be a JSON object.', 400);
  }
  return parsed as JsonObject;
}

function wrongType(name: string, expected: string): AwsError {
  return new AwsError('BadRequestException', `${name} must be ${expected}.`, 400);
}

/** A string member; null counts as absent, as the SDKs never send null for a set member. */
export function bodyString(body: JsonObject, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(name, 'a string');
  return value;
}

/** A required string member. */
export function requiredBodyString(body: JsonObject, name: string): string {
  const value = bodyString(body, name);
  if (value === undefined || value === '') throw invalidParameter(`${name} is required.`);
  return value;
}

/** A list-of-strings member. */
export function bodyStringList(body: JsonObject, name: string): string[] | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw wrongType(name, 'a list of strings');
  }
  return value;
}

/** A map-of-strings member (tags). */
export function bodyStringMap(body: JsonObject, name: string): Record<string, string> | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'object' ||
    Array.isArray(value) ||
    !Object.values(value).every((v) => typeof v === 'string')
  ) {
    throw wrongType(name, 'a map of strings');
  }
  return { ...(value as Record<string, string>) };
}

/** An object member. */
export function bodyObject(body: JsonObject, name: string): JsonObject | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(name, 'an object');
  return value as JsonObject;
}

/** Validates tags the way EKS bounds them: at most 50, keys 1..128 and values up to 256 characters. */
export function validateTags(tags: Record<string, string> | undefined): void {
  if (!tags) return;
  const entries = Object.entries(tags);
  if (entries.length > 50) throw invalidParameter('A resource can have at most 50 tags.');
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128)
      throw invalidParameter(`Tag key "${k}" must be 1 to 128 characters long.`);
    if (v.length > 256)
      throw invalidParameter(`The value of tag "${k}" must be at most 256 characters long.`);
    if (/^aws:/i.test(k)) throw invalidParameter(`Tag key "${k}" uses the reserved prefix aws:.`);
  }
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

interface TokenBody {
  /** What the listing was of: a token only continues the listing it came from. */
  s: string;
  /** Sort key of the last item returned; the next page starts after it, so deletions skip nothing. */
  a: string;
}

/**
 * One page of `items` (sorted by `keyOf`), continuing from the call's `nextToken`. `scope` names
 * the listing; a token from another listing, or one not issued by us, is refused.
 */
export function paginate<T>(
  call: AwsCall,
  items: T[],
  keyOf: (item: T) => string,
  scope: string,
  maxResults: number,
): Page<T> {
  const token = queryString(call, 'nextToken');
  let after: string | undefined;
  if (token !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    const body = decoded as Partial<TokenBody> | undefined;
    if (!body || typeof body !== 'object' || body.s !== scope || typeof body.a !== 'string') {
      throw invalidParameter('The nextToken parameter is not valid.');
    }
    after = body.a;
  }
  const sorted = [...items].sort((x, y) => compare(keyOf(x), keyOf(y)));
  const start = after === undefined ? 0 : sorted.findIndex((item) => compare(keyOf(item), after) > 0);
  const rest = start < 0 ? [] : sorted.slice(start);
  const page = rest.slice(0, maxResults);
  const last = page[page.length - 1];
  if (rest.length <= maxResults || last === undefined) return { items: page };
  const next: TokenBody = { s: scope, a: keyOf(last) };
  return { items: page, nextToken: Buffer.from(JSON.stringify(next), 'utf8').toString('base64url') };
}

/** Code-point order, independent of locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
