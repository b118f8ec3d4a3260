import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandInC1, type StandInC1 } from '../standin/index.js';
import {
  audienceOf,
  createClientAssertion,
  createTokenSource,
  generateClientCredentials,
  parseClientId,
  parseClientSecret,
  parseClientSecretKey,
} from './credentials.js';
import { C1Error } from './errors.js';

function decodeJwt(jwt: string) {
  const [header = '', claims = '', signature = ''] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>,
    signingInput: `${header}.${claims}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

function caught(fn: () => unknown): C1Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof C1Error) return err;
    throw err;
  }
  throw new Error('expected a C1Error');
}

describe('parseClientId', () => {
  it('takes the token host from between @ and the first slash', () => {
    expect(parseClientId('happy-otter-123@acme.conductor.one/pcc')).toEqual({
      clientId: 'happy-otter-123@acme.conductor.one/pcc',
      clientName: 'happy-otter-123',
      tokenHost: 'acme.conductor.one',
    });
    expect(parseClientId('x@localhost:8443/a/b').tokenHost).toBe('localhost:8443');
  });

  it.each(['no-at-sign/pcc', 'name@host-without-slash', '@host/pcc', 'name@/pcc'])(
    'rejects %s as a non-retryable credentials error',
    (id) => {
      const err = caught(() => parseClientId(id));
      expect(err.code).toBe('INVALID_CREDENTIALS');
      expect(err.retryable).toBe(false);
    },
  );
});

describe('parseClientSecret', () => {
  const { clientSecret } = generateClientCredentials('acme.conductor.one');
  const [a, b, , key] = clientSecret.split(':');

  it('reads the Ed25519 private key from a generated secret', () => {
    expect(parseClientSecret(clientSecret).asymmetricKeyType).toBe('ed25519');
  });

  it.each([
    ['three parts', `${a}:${b}:v1`],
    ['a version other than v1', `${a}:${b}:v2:${key}`],
    ['a key part that is not base64url', `${a}:${b}:v1:not base64!`],
    ['a key part that is not JSON', `${a}:${b}:v1:${Buffer.from('nope').toString('base64url')}`],
    [
      'a public key only',
      `${a}:${b}:v1:${Buffer.from(JSON.stringify(createPublicKey(parseClientSecret(clientSecret)).export({ format: 'jwk' }))).toString('base64url')}`,
    ],
  ])('rejects a secret with %s without echoing it', (_case, secret) => {
    const err = caught(() => parseClientSecret(secret));
    expect(err.code).toBe('INVALID_CREDENTIALS');
    expect(err.message).toMatch(/^C1 client secret is malformed: /);
    expect(err.message).not.toContain(secret.split(':')[3] ?? secret);
  });
});

describe('createClientAssertion', () => {
  const raw = (jwt: string) =>
    jwt
      .split('.')
      .slice(0, 2)
      .map((part) => Buffer.from(part, 'base64url').toString());

  it('signs what baton-sdk’s go-jose signer signs, field for field and in the same order', () => {
    const { clientId, clientSecret, publicKey } = generateClientCredentials('acme.conductor.one:8443');
    const now = Date.UTC(2026, 0, 1, 12, 0, 0) + 999;
    const jwt = createClientAssertion({
      clientId,
      audience: audienceOf(parseClientId(clientId).tokenHost),
      privateKey: parseClientSecret(clientSecret),
      now,
    });
    const [headerJson = '', claimsJson = ''] = raw(jwt);
    // Header: a map go-jose serializes with sorted keys; no typ. The nonce is xjwt's 16 random
    // bytes in hex.
    expect(headerJson).toMatch(/^\{"alg":"EdDSA","nonce":"[0-9a-f]{32}"\}$/);
    // Claims: go-jose's Claims struct in declaration order, one audience as a string, whole
    // seconds (time.Unix truncates), no jti.
    const iat = Math.floor(now / 1000);
    expect(claimsJson).toBe(
      JSON.stringify({
        iss: clientId,
        sub: clientId,
        aud: 'acme.conductor.one',
        exp: iat + 120,
        nbf: iat - 120,
        iat,
      }),
    );
    const { signingInput, signature } = decodeJwt(jwt);
    expect(verify(null, Buffer.from(signingInput), publicKey, signature)).toBe(true);
  });

  it('names the key in the header when the secret’s JWK carries a kid, as go-jose does', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'key-2026-01' };
    const secret = `secret-token:conductorone.com:v1:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;
    const key = parseClientSecretKey(secret);
    expect(key.keyId).toBe('key-2026-01');
    const [headerJson = ''] = raw(createClientAssertion({ clientId: 'a@h/x', audience: 'h', ...key }));
    expect(headerJson).toMatch(/^\{"alg":"EdDSA","kid":"key-2026-01","nonce":"[0-9a-f]{32}"\}$/);
  });

  it('escapes <, > and & in the claims as Go’s JSON encoder does', () => {
    const { clientSecret } = generateClientCredentials('h');
    const jwt = createClientAssertion({
      clientId: 'a<b>&c@h/x',
      audience: 'h',
      privateKey: parseClientSecret(clientSecret),
    });
    const [, claimsJson = ''] = raw(jwt);
    expect(claimsJson).toContain('"iss":"a\\u003cb\\u003e\\u0026c@h/x"');
    expect(decodeJwt(jwt).claims.iss).toBe('a<b>&c@h/x');
  });

  it('uses a fresh nonce for every assertion', () => {
    const { clientId, clientSecret } = generateClientCredentials('h');
    const privateKey = parseClientSecret(clientSecret);
    const one = decodeJwt(createClientAssertion({ clientId, audience: 'h', privateKey }));
    const two = decodeJwt(createClientAssertion({ clientId, audience: 'h', privateKey }));
    expect(one.header.nonce).not.toEqual(two.header.nonce);
  });
});

describe('audienceOf', () => {
  it('drops the port as Go’s net.SplitHostPort does, and keeps a host that has none', () => {
    expect(audienceOf('acme.conductor.one:8443')).toBe('acme.conductor.one');
    expect(audienceOf('acme.conductor.one')).toBe('acme.conductor.one');
    expect(audienceOf('[::1]:443')).toBe('::1');
    expect(audienceOf('[::1]')).toBe('[::1]');
    expect(audienceOf('::1')).toBe('::1');
  });
});

describe('token exchange against the stand-in', () => {
  let standIn: StandInC1;

  beforeAll(async () => {
    standIn = await startStandInC1({ tokenTtlS: 600 });
  });
  afterAll(async () => {
    await standIn.close();
  });

  it('gets a bearer token once and reuses it until it nears expiry', async () => {
    const creds = standIn.registerClient();
    const before = standIn.counters().token.requests;
    const tokens = createTokenSource({ ...creds, tokenUrl: standIn.tokenUrl, tls: false });
    const [first, concurrent] = await Promise.all([tokens.getToken(), tokens.getToken()]);
    const again = await tokens.getToken();
    expect(first.tokenType).toBe('Bearer');
    expect(first.accessToken.length).toBeGreaterThan(20);
    expect(concurrent).toEqual(first);
    expect(again).toEqual(first);
    expect(standIn.counters().token.requests - before).toBe(1);
  });

  it('fetches a new token after the cached one is invalidated', async () => {
    const creds = standIn.registerClient();
    const tokens = createTokenSource({ ...creds, tokenUrl: standIn.tokenUrl, tls: false });
    const first = await tokens.getToken();
    tokens.invalidate();
    expect((await tokens.getToken()).accessToken).not.toBe(first.accessToken);
  });

  it('reports an unregistered key as one non-retryable Unauthenticated error', async () => {
    const creds = generateClientCredentials(standIn.audience);
    const before = standIn.counters().token;
    const tokens = createTokenSource({ ...creds, tokenUrl: standIn.tokenUrl, tls: false });
    const err = await tokens.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(C1Error);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });
    expect((err as Error).message).toContain('HTTP 401');
    expect((err as Error).message).not.toContain(creds.clientSecret.split(':')[3]);
    expect(standIn.counters().token.requests - before.requests).toBe(1);
    expect(standIn.counters().token.rejected - before.rejected).toBe(1);
  });

  async function postAssertion(clientId: string, assertion: string) {
    const response = await fetch(standIn.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({
        client_id: clientId,
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('rejects an assertion for the wrong audience, an expired one, a forged one and a replayed one', async () => {
    const creds = standIn.registerClient();
    const privateKey = parseClientSecret(creds.clientSecret);
    const clientId = creds.clientId;

    const wrongAud = await postAssertion(
      clientId,
      createClientAssertion({ clientId, audience: 'other.example', privateKey }),
    );
    expect(wrongAud).toEqual({
      status: 401,
      body: { error: 'invalid_client', error_description: 'client_assertion audience is wrong' },
    });

    const expired = await postAssertion(
      clientId,
      createClientAssertion({
        clientId,
        audience: standIn.audience,
        privateKey,
        now: Date.now() - 10 * 60_000,
      }),
    );
    expect(expired.status).toBe(401);
    expect(expired.body.error_description).toBe('client_assertion has expired');

    const otherKey = parseClientSecret(generateClientCredentials(standIn.audience).clientSecret);
    const forged = await postAssertion(
      clientId,
      createClientAssertion({ clientId, audience: standIn.audience, privateKey: otherKey }),
    );
    expect(forged.status).toBe(401);
    expect(forged.body.error_description).toBe('client_assertion signature is invalid');

    const good = createClientAssertion({ clientId, audience: standIn.audience, privateKey });
    expect((await postAssertion(clientId, good)).status).toBe(200);
    const replayed = await postAssertion(clientId, good);
    expect(replayed.status).toBe(401);
    expect(replayed.body.error_description).toBe('client_assertion was replayed');
  });
});
