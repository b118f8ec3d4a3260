// API keys: `eak_` + base64url of 32 random bytes. Only the sha256 of a key is stored (see the note
// on api_keys.hash in schema.ts); the plaintext is returned once, at creation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { API_KEY_SCOPES, apiKeys, type ApiKeyScope } from '../schema.js';
import { isUuid } from '../validate.js';
import { recordAudit, type AuditContext } from './audit.js';

/** An API key as stored, without its hash. */
export type ApiKey = Omit<typeof apiKeys.$inferSelect, 'hash'>;

const KEY_PREFIX = 'eak_';
const KEY_FORMAT = /^eak_[A-Za-z0-9_-]{43}$/;
/** `eak_` plus 8 random characters: enough to tell keys apart in a listing and to find the row. */
const DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length + 8;
/** last_used_at is a hint for humans; writing it on every request would turn reads into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

const publicColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Creates a key with the given scopes; the plaintext `key` is returned only here. */
export async function createApiKey(
  database: Database,
  name: string,
  scopes: readonly ApiKeyScope[],
  options: { audit?: AuditContext } = {},
): Promise<{ key: string; apiKey: ApiKey }> {
  if (name.trim() === '') throw new InvalidInputError('an API key needs a name');
  const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new InvalidInputError(`scopes must be a non-empty subset of ${API_KEY_SCOPES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const apiKey = await database.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({ name, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH), hash: sha256(key).toString('hex'), scopes: [...new Set(scopes)] })
      .returning(publicColumns);
    if (options.audit) {
      await recordAudit(tx, {
        actor: options.audit.actor,
        action: 'api_key.create',
        target: `api_key:${row!.id}`,
        after: row,
        ...(options.audit.requestId !== undefined ? { requestId: options.audit.requestId } : {}),
      });
    }
    return row!;
  });
  return { key, apiKey };
}

/** Returns the active key matching `plaintext`, or undefined (unknown, malformed or revoked). */
export async function verifyApiKey(database: Database, plaintext: string): Promise<ApiKey | undefined> {
  if (!KEY_FORMAT.test(plaintext)) return undefined;
  const hash = sha256(plaintext);
  const candidates = await database.db
    .select({ ...publicColumns, hash: apiKeys.hash })
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, plaintext.slice(0, DISPLAY_PREFIX_LENGTH)), isNull(apiKeys.revokedAt)));
  // Compare every candidate in constant time, so response timing says nothing about the stored hash.
  let match: (typeof candidates)[number] | undefined;
  for (const candidate of candidates) {
    const stored = Buffer.from(candidate.hash, 'hex');
    if (stored.length === hash.length && timingSafeEqual(stored, hash)) match = candidate;
  }
  if (!match) return undefined;
  const { hash: _hash, ...apiKey } = match;
  if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // The guard in SQL keeps concurrent requests from all writing within the same minute.
    const [touched] = await database.db
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          eq(apiKeys.id, apiKey.id),
          sql`(${apiKeys.lastUsedAt} IS NULL OR ${apiKeys.lastUsedAt} < now() - make_interval(secs => ${LAST_USED_RESOLUTION_MS / 1000}))`,
        ),
      )
      .returning({ lastUsedAt: apiKeys.lastUsedAt });
    if (touched) apiKey.lastUsedAt = touched.lastUsedAt;
  }
  return apiKey;
}

/** Revokes a key (idempotent: revoking twice keeps the first time). Throws NotFoundError for an unknown id. */
export async function revokeApiKey(database: Database, id: string, options: { audit?: AuditContext } = {}): Promise<ApiKey> {
  if (!isUuid(id)) throw new NotFoundError(`API key ${id} not found`);
  return database.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.id, id))
      .returning(publicColumns);
    if (!row) throw new NotFoundError(`API key ${id} not found`);
    if (options.audit) {
      await recordAudit(tx, {
        actor: options.audit.actor,
        action: 'api_key.revoke',
        target: `api_key:${id}`,
        after: row,
        ...(options.audit.requestId !== undefined ? { requestId: options.audit.requestId } : {}),
      });
    }
    return row;
  });
}

/** Lists keys (without hashes), oldest first. */
export async function listApiKeys(database: Database, options: { includeRevoked?: boolean } = {}): Promise<ApiKey[]> {
  return database.db
    .select(publicColumns)
    .from(apiKeys)
    .where(options.includeRevoked ? undefined : isNull(apiKeys.revokedAt))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}
