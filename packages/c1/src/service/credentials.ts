// ConductorOne client credentials: parsing the client id and secret C1 issues, signing the
// EdDSA client assertion, and exchanging it for an access token at `/auth/v1/token`. The secret
// never appears in an error message or a log line.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { C1Error } from './errors.js';
import { withBundledRoots } from './tls-roots.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_LIFETIME_S = 120;
const TOKEN_PATH = '/auth/v1/token';
/** Tokens are refreshed this long before they expire, so no RPC goes out with a dying token. */
const EXPIRY_MARGIN_MS = 60_000;
const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;

export interface ParsedClientId {
  clientId: string;
  clientName: string;
  /** `host[:port]` of the tenant, from the part after `@`. */
  tokenHost: string;
}

/** Splits a C1 client id (`<clientName>@<tokenHost>/<rest>`). */
export function parseClientId(clientId: string): ParsedClientId {
  const at = clientId.indexOf('@');
  const slash = at === -1 ? -1 : clientId.indexOf('/', at + 1);
  const clientName = clientId.slice(0, at);
  const tokenHost = clientId.slice(at + 1, slash);
  if (at <= 0 || slash === -1 || tokenHost === '') {
    throw new C1Error(
      'INVALID_CREDENTIALS',
      'C1 client id is malformed: expected <client-name>@<tenant-host>/<suffix>',
      { retryable: false },
    );
  }
  return { clientId, clientName, tokenHost };
}

function invalidSecret(reason: string): C1Error {
  return new C1Error('INVALID_CREDENTIALS', `C1 client secret is malformed: ${reason}`, { retryable: false });
}

/** The signing key in a C1 client secret, and the key id its JWK names (if any). */
export interface ClientSecretKey {
  privateKey: KeyObject;
  /** The JWK's `kid`; go-jose puts it in the JWS header when it is set. */
  keyId: string | undefined;
}

/** The Ed25519 private key inside a C1 client secret (`<a>:<b>:v1:<base64url JWK>`), with its key id. */
export function parseClientSecretKey(clientSecret: string): ClientSecretKey {
  const parts = clientSecret.trim().split(':');
  if (parts.length !== 4) throw invalidSecret('expected 4 colon-separated parts');
  if (parts[2] !== 'v1') throw invalidSecret('unsupported version (the third part must be v1)');
  const encoded = parts[3] ?? '';
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw invalidSecret('the key part is not base64url');
  let jwk: unknown;
  try {
    jwk = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw invalidSecret('the key part is not a JSON Web Key');
  }
  if (typeof jwk !== 'object' || jwk === null) throw invalidSecret('the key part is not a JSON Web Key');
  const { kty, crv, d, kid } = jwk as { kty?: unknown; crv?: unknown; d?: unknown; kid?: unknown };
  if (kty !== 'OKP' || crv !== 'Ed25519') throw invalidSecret('the key is not an Ed25519 key');
  if (typeof d !== 'string') throw invalidSecret('the key is a public key, not a private key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    throw invalidSecret('the Ed25519 key is invalid');
  }
  return { privateKey, keyId: typeof kid === 'string' && kid !== '' ? kid : undefined };
}

/** The Ed25519 private key inside a C1 client secret (`<a>:<b>:v1:<base64url JWK>`). */
export function parseClientSecret(clientSecret: string): KeyObject {
  return parseClientSecretKey(clientSecret).privateKey;
}

/**
 * The JWT audience: the token host without its port, as Go's net.SplitHostPort takes it apart
 * (a host with no port, or an IPv6 address without brackets, is used as it is).
 */
export function audienceOf(tokenHost: string): string {
  if (tokenHost.startsWith('[')) {
    const close = tokenHost.indexOf(']');
    return close !== -1 && tokenHost[close + 1] === ':' ? tokenHost.slice(1, close) : tokenHost;
  }
  const colon = tokenHost.indexOf(':');
  if (colon === -1 || tokenHost.indexOf(':', colon + 1) !== -1) return tokenHost;
  return tokenHost.slice(0, colon);
}

// JSON as Go's encoding/json (and go-jose's copy of it) writes it: <, >, & and U+2028/U+2029 are
// escaped, and control characters use \u00XX rather than \b and \f.
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goJson(value: object): string {
  return JSON.stringify(value)
    .replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c)
    .replace(/\\[\s\S]/g, (e) => (e === '\\b' ? '\\u0008' : e === '\\f' ? '\\u000c' : e));
}

const b64url = (json: string): string => Buffer.from(json, 'utf8').toString('base64url');

/**
 * Signs the client assertion C1's token endpoint expects, field for field as baton-sdk's
 * credential provider has go-jose sign it (pkg/ugrpc/c1_credential_provider.go): a protected
 * header of `alg` EdDSA, the key's `kid` when its JWK has one, and a `nonce` of 16 random bytes in
 * hex (xjwt.RandomNonce), keys in the sorted order Go writes a map in; claims `iss` and `sub` (the
 * client id), `aud` (one audience, so a plain string), `exp` (now + 2 min), `nbf` (now − 2 min) and
 * `iat` (now), in whole seconds and in the order of go-jose's Claims struct. No `typ`, no `jti`.
 */
export function createClientAssertion(options: {
  clientId: string;
  audience: string;
  privateKey: KeyObject;
  keyId?: string;
  now?: number;
}): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const header = {
    alg: 'EdDSA',
    ...(options.keyId ? { kid: options.keyId } : {}),
    nonce: randomBytes(16).toString('hex'),
  };
  const claims = {
    iss: options.clientId,
    sub: options.clientId,
    aud: options.audience,
    exp: iat + ASSERTION_LIFETIME_S,
    nbf: iat - ASSERTION_LIFETIME_S,
    iat,
  };
  const signingInput = `${b64url(goJson(header))}.${b64url(goJson(claims))}`;
  const signature = sign(null, Buffer.from(signingInput), options.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

export interface AccessToken {
  accessToken: string;
  tokenType: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface TokenSource {
  /** A cached token, or a new one when the cached one is near expiry. Concurrent calls share one request. */
  getToken(): Promise<AccessToken>;
  /** Drops the cached token (after C1 rejected it). */
  invalidate(): void;
}

export interface TokenSourceOptions {
  clientId: string;
  clientSecret: string;
  /** Full token endpoint URL; by default `https://<apiHost or token host>/auth/v1/token`. */
  tokenUrl?: string;
  /** `host[:port]` replacing the token host from the client id (BATON_C1_API_HOST). */
  apiHost?: string;
  /** `false` for plain HTTP (local stand-in only); `ca` (PEM) is trusted beside Node's bundled roots. */
  tls?: { ca?: string | Buffer } | false;
  userAgent?: string;
  timeoutMs?: number;
  now?: () => number;
}

/** The URL the token exchange posts to. */
export function resolveTokenUrl(
  options: Pick<TokenSourceOptions, 'clientId' | 'tokenUrl' | 'apiHost' | 'tls'>,
): URL {
  if (options.tokenUrl) return new URL(options.tokenUrl);
  const host = options.apiHost ?? parseClientId(options.clientId).tokenHost;
  return new URL(`${options.tls === false ? 'http' : 'https'}://${host}${TOKEN_PATH}`);
}

/** Creates the token source for a client id and secret; both are validated here, before any request. */
export function createTokenSource(options: TokenSourceOptions): TokenSource {
  const { clientId } = options;
  const { tokenHost } = parseClientId(clientId);
  const { privateKey, keyId } = parseClientSecretKey(options.clientSecret);
  const audience = audienceOf(tokenHost);
  const url = resolveTokenUrl(options);
  const now = options.now ?? Date.now;
  let cached: AccessToken | undefined;
  let refreshAt = 0;
  let inFlight: Promise<AccessToken> | undefined;

  const fetchToken = async (): Promise<AccessToken> => {
    const assertion = createClientAssertion({ clientId, audience, privateKey, keyId, now: now() });
    const body = new URLSearchParams({
      client_id: clientId,
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    }).toString();
    const response = await postForm(url, body, {
      ca:
        options.tls === false || options.tls?.ca === undefined ? undefined : withBundledRoots(options.tls.ca),
      userAgent: options.userAgent,
      timeoutMs: options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS,
    });
    return parseTokenResponse(response, now());
  };

  return {
    async getToken() {
      if (cached && refreshAt > now()) return cached;
      inFlight ??= fetchToken().finally(() => {
        inFlight = undefined;
      });
      const fetchedAt = now();
      const token = await inFlight;
      // Short-lived tokens are renewed halfway through their life instead.
      refreshAt = token.expiresAt - Math.min(EXPIRY_MARGIN_MS, (token.expiresAt - fetchedAt) / 2);
      cached = token;
      return token;
    },
    invalidate() {
      cached = undefined;
      refreshAt = 0;
    },
  };
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function postForm(
  url: URL,
  body: string,
  options: { ca?: string | Buffer; userAgent?: string; timeoutMs: number },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
          ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
        },
        timeout: options.timeoutMs,
        ...(options.ca ? { ca: options.ca } : {}),
        minVersion: 'TLSv1.2',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(
        new C1Error('UNAVAILABLE', `C1 token endpoint ${url.origin} unreachable: ${err.message}`, {
          retryable: true,
          cause: err,
        }),
      ),
    );
    req.end(body);
  });
}

function parseTokenResponse(response: HttpResult, now: number): AccessToken {
  const { status } = response;
  if (status === 200) {
    let parsed: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(response.body) as typeof parsed;
    } catch {
      throw new C1Error('INTERNAL', 'C1 token endpoint returned a body that is not JSON', {
        retryable: true,
      });
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new C1Error('INTERNAL', 'C1 token endpoint returned no access_token', { retryable: true });
    }
    const expiresIn =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    return {
      accessToken: parsed.access_token,
      tokenType:
        typeof parsed.token_type === 'string' && parsed.token_type !== '' ? parsed.token_type : 'Bearer',
      expiresAt: now + expiresIn * 1000,
    };
  }
  const reason = oauthErrorOf(response.body);
  if (status === 429 || status >= 500 || status === 408) {
    return throwRetryable(response, reason);
  }
  const code = status === 403 ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED';
  throw new C1Error(
    code,
    `C1 rejected the client credentials (HTTP ${status}${reason ? `: ${reason}` : ''})`,
    {
      retryable: false,
    },
  );
}

function throwRetryable(response: HttpResult, reason: string): never {
  const retryAfter = Number(response.headers['retry-after']);
  throw new C1Error(
    response.status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE',
    `C1 token endpoint answered HTTP ${response.status}${reason ? `: ${reason}` : ''}`,
    {
      retryable: true,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
    },
  );
}

/** The OAuth `error` / `error_description` of a failed token response, trimmed for a log line. */
function oauthErrorOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    const parts = [parsed.error, parsed.error_description].filter((p): p is string => typeof p === 'string');
    return parts.join(': ').slice(0, 200);
  } catch {
    return '';
  }
}

export interface GeneratedClientCredentials {
  clientId: string;
  clientSecret: string;
  publicKey: KeyObject;
}

/**
 * A fresh client id and secret in C1's formats for `host` (`host[:port]`), with its public key.
 * For tests and the local stand-in's client registry.
 */
export function generateClientCredentials(
  host: string,
  clientName = 'eks-access-test',
): GeneratedClientCredentials {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const suffix = randomBytes(4).toString('hex');
  return {
    clientId: `${clientName}-${suffix}@${host}/pcc`,
    clientSecret: `secret-token:conductorone.com:v1:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`,
    publicKey: createPublicKey(privateKey),
  };
}
