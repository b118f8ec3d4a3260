// The stand-in's `/auth/v1/token`: verifies the EdDSA client assertion against the registered
// client's public key and issues an opaque bearer token, as C1's endpoint does. Rejections are
// OAuth-style JSON with HTTP 401 (400 for a malformed request).
import { randomBytes, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_BODY_BYTES = 64 * 1024;
/** Clock skew tolerated on exp / nbf / iat. */
const SKEW_S = 5;

export interface IssuedToken {
  clientId: string;
  expiresAt: number;
}

export interface TokenEndpointState {
  audience: string;
  tokenTtlS: number;
  clients: Map<string, KeyObject>;
  tokens: Map<string, IssuedToken>;
  /** Assertion nonces already used, with their expiry; a replayed assertion is refused. */
  seenNonces: Map<string, number>;
  counters: { requests: number; issued: number; rejected: number };
  now: () => number;
}

class TokenRejection extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

/** Handles one HTTP request to the token endpoint. */
export async function handleTokenRequest(
  state: TokenEndpointState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  state.counters.requests++;
  try {
    if (req.method !== 'POST') throw new TokenRejection(405, 'invalid_request', 'use POST');
    const form = new URLSearchParams(await readBody(req));
    const token = issueToken(state, form);
    state.counters.issued++;
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: state.tokenTtlS });
  } catch (err) {
    state.counters.rejected++;
    const rejection =
      err instanceof TokenRejection ? err : new TokenRejection(400, 'invalid_request', 'unreadable request');
    sendJson(res, rejection.status, { error: rejection.error, error_description: rejection.message });
  }
}

function issueToken(state: TokenEndpointState, form: URLSearchParams): string {
  if (form.get('grant_type') !== 'client_credentials') {
    throw new TokenRejection(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
  }
  if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
    throw new TokenRejection(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
  }
  const clientId = form.get('client_id') ?? '';
  const assertion = form.get('client_assertion') ?? '';
  const publicKey = state.clients.get(clientId);
  if (!publicKey) throw new TokenRejection(401, 'invalid_client', 'unknown client');

  const [headerPart, claimsPart, signaturePart, ...rest] = assertion.split('.');
  if (
    headerPart === undefined ||
    claimsPart === undefined ||
    signaturePart === undefined ||
    rest.length > 0
  ) {
    throw new TokenRejection(401, 'invalid_client', 'client_assertion is not a compact JWS');
  }
  const header = decodeSegment(headerPart) as { alg?: unknown; nonce?: unknown };
  if (header.alg !== 'EdDSA')
    throw new TokenRejection(401, 'invalid_client', 'client_assertion must use EdDSA');
  const signed = verify(
    null,
    Buffer.from(`${headerPart}.${claimsPart}`),
    publicKey,
    Buffer.from(signaturePart, 'base64url'),
  );
  if (!signed) throw new TokenRejection(401, 'invalid_client', 'client_assertion signature is invalid');

  const claims = decodeSegment(claimsPart) as Record<string, unknown>;
  const nowS = Math.floor(state.now() / 1000);
  if (claims.iss !== clientId || claims.sub !== clientId) {
    throw new TokenRejection(401, 'invalid_client', 'iss and sub must be the client id');
  }
  // One audience is a string (go-jose's Audience marshalling); a list is valid JWT too.
  const audiences = Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud];
  if (!audiences.includes(state.audience)) {
    throw new TokenRejection(401, 'invalid_client', 'client_assertion audience is wrong');
  }
  if (typeof claims.exp !== 'number' || claims.exp + SKEW_S < nowS) {
    throw new TokenRejection(401, 'invalid_client', 'client_assertion has expired');
  }
  if (typeof claims.nbf === 'number' && claims.nbf - SKEW_S > nowS) {
    throw new TokenRejection(401, 'invalid_client', 'client_assertion is not valid yet');
  }
  if (typeof claims.iat === 'number' && claims.iat - SKEW_S > nowS) {
    throw new TokenRejection(401, 'invalid_client', 'client_assertion was issued in the future');
  }
  // baton-sdk's signer always puts a random nonce in the protected header; a second assertion with
  // the same nonce is a replay.
  const nonce = typeof header.nonce === 'string' ? header.nonce : '';
  if (!nonce) throw new TokenRejection(401, 'invalid_client', 'client_assertion has no nonce');
  for (const [seen, expiresAt] of state.seenNonces) if (expiresAt < nowS) state.seenNonces.delete(seen);
  if (state.seenNonces.has(nonce))
    throw new TokenRejection(401, 'invalid_client', 'client_assertion was replayed');
  state.seenNonces.set(nonce, claims.exp);

  const token = randomBytes(32).toString('base64url');
  state.tokens.set(token, { clientId, expiresAt: state.now() + state.tokenTtlS * 1000 });
  return token;
}

function decodeSegment(segment: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch {
    throw new TokenRejection(401, 'invalid_client', 'client_assertion is not a JWT');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new TokenRejection(400, 'invalid_request', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
