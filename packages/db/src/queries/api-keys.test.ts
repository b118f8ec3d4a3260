import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { ApiKeyScope } from '../schema.js';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import {
  createApiKey,
  getApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  verifyApiKey,
} from './api-keys.js';
import { listAudit } from './audit.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
});
afterAll(async () => {
  await database?.drop();
});

describe('API keys', () => {
  it('returns the plaintext once and stores only its hash', async () => {
    const { key, apiKey } = await createApiKey(database, 'ci', ['read', 'sync']);
    expect(key).toMatch(/^eak_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      name: 'ci',
      scopes: ['read', 'sync'],
      prefix: key.slice(0, 12),
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(apiKey).not.toHaveProperty('hash');
    const { rows } = await database.pool.query<Record<string, unknown>>(
      'SELECT * FROM api_keys WHERE id = $1',
      [apiKey.id],
    );
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(rows[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies the right key and nothing else', async () => {
    const { key, apiKey } = await createApiKey(database, 'ops', ['admin']);
    expect(await verifyApiKey(database, key)).toMatchObject({ id: apiKey.id, scopes: ['admin'] });
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    for (const wrong of [
      `${key.slice(0, -1)}${last}`,
      key.slice(0, -1),
      '',
      'Bearer x',
      `${key}x`,
      key.toUpperCase(),
    ]) {
      expect(await verifyApiKey(database, wrong)).toBeUndefined();
    }
  });

  it('records last use at most once a minute', async () => {
    const { key, apiKey } = await createApiKey(database, 'poller', ['read']);
    const first = await verifyApiKey(database, key);
    expect(first!.lastUsedAt).toBeInstanceOf(Date);
    const second = await verifyApiKey(database, key);
    expect(second!.lastUsedAt).toEqual(first!.lastUsedAt);
    await database.pool.query(
      "UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1",
      [apiKey.id],
    );
    const third = await verifyApiKey(database, key);
    expect(third!.lastUsedAt!.getTime()).toBeGreaterThan(Date.now() - 30_000);
  });

  it('stops accepting a revoked key; revoking twice keeps the first time', async () => {
    const audit = { actor: 'api-key:root', requestId: 'r-9' };
    const { key, apiKey } = await createApiKey(database, 'temp', ['provision'], { audit });
    const revoked = await revokeApiKey(database, apiKey.id, { audit });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await verifyApiKey(database, key)).toBeUndefined();
    expect((await revokeApiKey(database, apiKey.id)).revokedAt).toEqual(revoked.revokedAt);
    expect((await listApiKeys(database)).map((k) => k.id)).not.toContain(apiKey.id);
    expect((await listApiKeys(database, { includeRevoked: true })).map((k) => k.id)).toContain(apiKey.id);
    await expect(revokeApiKey(database, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const events = await listAudit(database, { actor: 'api-key:root' });
    expect(events.items.map((e) => [e.action, e.target])).toEqual([
      ['api_key.revoke', `api_key:${apiKey.id}`],
      ['api_key.create', `api_key:${apiKey.id}`],
    ]);
    expect(JSON.stringify(events.items)).not.toContain(key);
  });

  it('rejects unknown scopes and empty names', async () => {
    await expect(createApiKey(database, 'x', ['root' as ApiKeyScope])).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(createApiKey(database, 'x', [])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(createApiKey(database, ' ', ['read'])).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses a key past its expiry and lists it only with the revoked ones', async () => {
    const { key, apiKey } = await createApiKey(database, 'temp', ['read'], {
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect(apiKey.expiresAt).toBeInstanceOf(Date);
    expect(await verifyApiKey(database, key)).toMatchObject({ id: apiKey.id });
    // Expiry is judged by the database's clock; move it into the past rather than waiting.
    await database.pool.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      apiKey.id,
    ]);
    expect(await verifyApiKey(database, key)).toBeUndefined();
    expect((await listApiKeys(database)).map((k) => k.id)).not.toContain(apiKey.id);
    expect((await listApiKeys(database, { includeRevoked: true })).map((k) => k.id)).toContain(apiKey.id);
    await expect(
      createApiKey(database, 'past', ['read'], { expiresAt: new Date(Date.now() - 1000) }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('rotates a key: the new one works at once, the old one stops at once, name and scopes carry over', async () => {
    const { key: oldKey, apiKey: old } = await createApiKey(database, 'deploy', ['read', 'provision'], {
      audit: { actor: 'test' },
    });
    const rotated = await rotateApiKey(database, old.id, {
      audit: { actor: 'test', requestId: 'req-rotate-1' },
    });
    expect(rotated.key).not.toBe(oldKey);
    expect(rotated.apiKey).toMatchObject({
      name: 'deploy',
      scopes: ['read', 'provision'],
      rotatedFrom: old.id,
      revokedAt: null,
    });
    expect(await verifyApiKey(database, oldKey)).toBeUndefined();
    expect(await verifyApiKey(database, rotated.key)).toMatchObject({ id: rotated.apiKey.id });
    expect((await getApiKey(database, old.id)).revokedAt).toBeInstanceOf(Date);
    await expect(rotateApiKey(database, old.id)).rejects.toBeInstanceOf(ConflictError);
    await expect(rotateApiKey(database, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const audit = await listAudit(database, { target: `api_key:${old.id}` });
    expect(audit.items.map((e) => e.action)).toContain('api_key.rotate');
    expect(JSON.stringify(audit.items)).not.toContain(rotated.key);
  });
});
