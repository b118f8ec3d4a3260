// Server-side AWS Signature Version 4 verification, written from the public SigV4 specification:
// rebuild the canonical request from what arrived on the wire, derive the signing key from the
// secret we know for the access key, and compare signatures in constant time. Both forms are
// handled: the Authorization header (SDK calls) and query presigning (the EKS bearer token).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Credential } from '../world/types.js';

export interface WireRequest {
  method: string;
  /** Path exactly as received (percent-encoded), without the query string. */
  path: string;
  /** Raw query string without the leading `?`. */
  query: string;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type SigV4FailureCode =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'InvalidClientTokenId'
  | 'SignatureDoesNotMatch'
  | 'ExpiredToken'
  | 'RequestExpired'
  | 'InvalidToken';

export type SigV4Result =
  | {
      ok: true;
      credential: Credential;
      region: string;
      service: string;
      signedAt: Date;
      signedHeaders: string[];
      /** Seconds the presigned URL claims to be valid for (query form only). */
      expiresIn?: number;
    }
  | { ok: false; code: SigV4FailureCode; message: string; service?: string; region?: string };

/** How far a header-signed request's date may be from the server clock, as AWS allows. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent also leaves !'()* alone). */
export function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    return value;
  }
}

/**
 * Canonical URI for every service but S3: the wire path (already encoded once) is normalised and
 * encoded a second time, with `/` kept as the separator.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEscape(normalised).replace(/%2F/g, '/');
}

/** Parses a raw query string into decoded pairs, keeping repeats and order. */
export function parseQuery(query: string): [string, string][] {
  if (query === '') return [];
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const i = pair.indexOf('=');
      return i < 0 ? [safeDecode(pair), ''] : [safeDecode(pair.slice(0, i)), safeDecode(pair.slice(i + 1))];
    });
}

export function canonicalQuery(pairs: [string, string][], exclude?: string): string {
  return pairs
    .filter(([k]) => k !== exclude)
    .map(([k, v]) => [uriEscape(k), uriEscape(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: WireRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

function canonicalHeaders(headers: WireRequest['headers'], signed: string[]): string | undefined {
  let out = '';
  for (const name of signed) {
    const v = headerValue(headers, name);
    if (v === undefined) return undefined;
    out += `${name}:${v.trim().replace(/\s+/g, ' ')}\n`;
  }
  return out;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Derives the SigV4 signing key for one date/region/service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseScope(value: string): CredentialScope | undefined {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date) || !region || !service) return undefined;
  return { accessKeyId, date, region, service };
}

function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function computeSignature(
  req: WireRequest,
  query: string,
  signed: string[],
  payloadHash: string,
  amzDate: string,
  scope: CredentialScope,
  secret: string,
): string | undefined {
  const headers = canonicalHeaders(req.headers, signed);
  if (headers === undefined) return undefined;
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalPath(req.path),
    query,
    headers,
    signed.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${scope.date}/${scope.region}/${scope.service}/aws4_request`,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  return createHmac('sha256', signingKey(secret, scope.date, scope.region, scope.service))
    .update(stringToSign, 'utf8')
    .digest('hex');
}

function checkCredential(
  lookup: (accessKeyId: string) => Credential | undefined,
  scope: CredentialScope,
  sessionToken: string | undefined,
  now: Date,
): { ok: true; credential: Credential } | Extract<SigV4Result, { ok: false }> {
  const credential = lookup(scope.accessKeyId);
  const where = { service: scope.service, region: scope.region };
  if (!credential) {
    return {
      ok: false,
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
      ...where,
    };
  }
  if (credential.sessionToken !== undefined && credential.sessionToken !== sessionToken) {
    return {
      ok: false,
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
      ...where,
    };
  }
  if (credential.expiresAt && credential.expiresAt.getTime() <= now.getTime()) {
    return {
      ok: false,
      code: 'ExpiredToken',
      message: 'The security token included in the request is expired',
      ...where,
    };
  }
  return { ok: true, credential };
}

/** Verifies a request signed with the `Authorization: AWS4-HMAC-SHA256 …` header. */
export function verifyHeaderSignature(
  req: WireRequest,
  lookup: (accessKeyId: string) => Credential | undefined,
  now = new Date(),
): SigV4Result {
  const auth = headerValue(req.headers, 'authorization');
  if (!auth)
    return {
      ok: false,
      code: 'MissingAuthenticationToken',
      message: 'Request is missing Authentication Token',
    };
  const m =
    /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(
      auth,
    );
  if (!m) {
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth.split(' ')[0] ?? ''}`,
    };
  }
  const scope = parseScope(m[1]!);
  if (!scope)
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: 'Credential should be scoped to a valid region and service.',
    };
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const signedAt = parseAmzDate(amzDate);
  if (!amzDate || !signedAt) {
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: 'Authorization header requires existence of either a X-Amz-Date or a Date header.',
      service: scope.service,
      region: scope.region,
    };
  }
  const cred = checkCredential(lookup, scope, headerValue(req.headers, 'x-amz-security-token'), now);
  if (!cred.ok) return cred;
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: `Signature expired: ${amzDate} is now earlier than the allowed window (clock skew over 15 minutes).`,
      service: scope.service,
      region: scope.region,
    };
  }
  const signed = m[2]!.split(';');
  const payloadHash =
    headerValue(req.headers, 'x-amz-content-sha256') ?? createHash('sha256').update(req.body).digest('hex');
  const expected = computeSignature(
    req,
    canonicalQuery(parseQuery(req.query)),
    signed,
    payloadHash,
    amzDate,
    scope,
    cred.credential.secretAccessKey,
  );
  if (expected === undefined || !signaturesEqual(expected, m[3]!)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      service: scope.service,
      region: scope.region,
    };
  }
  return {
    ok: true,
    credential: cred.credential,
    region: scope.region,
    service: scope.service,
    signedAt,
    signedHeaders: signed,
  };
}

/**
 * Verifies a query-presigned URL (X-Amz-Algorithm … X-Amz-Signature), as an EKS bearer token is.
 * `headers` are the headers that were signed alongside it (for EKS, `host` and `x-k8s-aws-id`).
 */
export function verifyPresignedUrl(
  req: WireRequest,
  lookup: (accessKeyId: string) => Credential | undefined,
  now = new Date(),
): SigV4Result {
  const pairs = parseQuery(req.query);
  const get = (k: string) => pairs.find(([key]) => key === k)?.[1];
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return { ok: false, code: 'IncompleteSignature', message: 'X-Amz-Algorithm must be AWS4-HMAC-SHA256' };
  }
  const scope = parseScope(get('X-Amz-Credential') ?? '');
  const amzDate = get('X-Amz-Date');
  const signedAt = parseAmzDate(amzDate);
  const signature = get('X-Amz-Signature');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const expires = Number(get('X-Amz-Expires'));
  if (
    !scope ||
    !amzDate ||
    !signedAt ||
    !signature ||
    !signedHeaders ||
    !Number.isInteger(expires) ||
    expires <= 0
  ) {
    return {
      ok: false,
      code: 'IncompleteSignature',
      message:
        'presigned URL lacks one of X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature',
    };
  }
  const cred = checkCredential(lookup, scope, get('X-Amz-Security-Token'), now);
  if (!cred.ok) return cred;
  const signed = signedHeaders.split(';');
  const query = canonicalQuery(pairs, 'X-Amz-Signature');
  // Presigners hash an empty body or declare UNSIGNED-PAYLOAD; accept what the signature proves.
  const candidates = [EMPTY_SHA256, 'UNSIGNED-PAYLOAD'];
  const matches = candidates.some((hash) => {
    const expected = computeSignature(
      req,
      query,
      signed,
      hash,
      amzDate,
      scope,
      cred.credential.secretAccessKey,
    );
    return expected !== undefined && signaturesEqual(expected, signature);
  });
  if (!matches) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided.',
      service: scope.service,
      region: scope.region,
    };
  }
  return {
    ok: true,
    credential: cred.credential,
    region: scope.region,
    service: scope.service,
    signedAt,
    signedHeaders: signed,
    expiresIn: expires,
  };
}
