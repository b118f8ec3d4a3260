// Managing API keys through the API: created keys are shown once and work at once, listings show
// last use and expiry but never a key, rotation and revocation take effect on the next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  key?: string;
}

describe('/v1/api-keys', () => {
  it('creates a key shown once, lists it with its last use and expiry, rotates and revokes it with immediate effect', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: auth(t.keys.admin),
      payload: { name: 'ci', scopes: ['read'], expiresAt: '2099-06-01T00:00:00Z' },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json<KeyView>();
    expect(key).toMatchObject({
      name: 'ci',
      scopes: ['read'],
      expiresAt: '2099-06-01T00:00:00.000Z',
      revokedAt: null,
    });
    const plaintext = key.key!;
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth(plaintext) })).statusCode,
    ).toBe(200);

    const listing = await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: auth(t.keys.admin) });
    expect(listing.body).not.toContain(plaintext);
    const listed = listing.json<{ items: KeyView[] }>().items.find((k) => k.id === key.id);
    expect(listed).toMatchObject({
      prefix: plaintext.slice(0, 12),
      lastUsedAt: expect.any(String) as unknown,
    });
    expect(listed).not.toHaveProperty('key');

    const rotated = await t.app.inject({
      method: 'POST',
      url: `/v1/api-keys/${key.id}/rotate`,
      headers: auth(t.keys.admin),
    });
    expect(rotated.statusCode).toBe(201);
    const next = rotated.json<KeyView>();
    expect(next).toMatchObject({ name: 'ci', scopes: ['read'], expiresAt: '2099-06-01T00:00:00.000Z' });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth(plaintext) })).statusCode,
    ).toBe(401);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth(next.key!) })).statusCode,
    ).toBe(200);

    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${next.id}`, headers: auth(t.keys.admin) }))
        .statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth(next.key!) })).statusCode,
    ).toBe(401);
    const all = (
      await t.app.inject({
        method: 'GET',
        url: '/v1/api-keys?includeRevoked=true',
        headers: auth(t.keys.admin),
      })
    ).json<{ items: KeyView[] }>();
    expect(
      all.items.filter((k) => k.id === key.id || k.id === next.id).every((k) => k.revokedAt !== null),
    ).toBe(true);
    const active = (
      await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: auth(t.keys.admin) })
    ).json<{ items: KeyView[] }>();
    expect(active.items.map((k) => k.id)).not.toContain(next.id);
  });

  it('needs the admin scope, and refuses bad bodies and unknown ids', async () => {
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api-keys', headers: auth(t.keys.read) })).statusCode,
    ).toBe(403);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: auth(t.keys.admin),
      payload: { name: 'x', scopes: ['root'], owner: 'me' },
    });
    expect(bad.statusCode).toBe(400);
    const past = await t.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: auth(t.keys.admin),
      payload: { name: 'x', scopes: ['read'], expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.statusCode).toBe(400);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${unknown}`, headers: auth(t.keys.admin) }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/v1/api-keys/${unknown}/rotate`,
          headers: auth(t.keys.admin),
        })
      ).statusCode,
    ).toBe(404);
  });
});
