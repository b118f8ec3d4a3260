// API keys: `eak_` + base64url of 32 random bytes. Only the sha256 of a key is stored (see the note
// on api_keys.hash in schema.ts); the plaintext is returned once, at creation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
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
  expiresAt: apiKeys.expiresAt,
  rotatedFrom: apiKeys.rotatedFrom,
};

/** A key that is neither revoked nor past its expiry, judged by the database's clock. */
const isActive = and(
  isNull(apiKeys.revokedAt),
  or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
);

function checkNewKey(name: string, scopes: readonly string[], expiresAt: Date | undefined): void {
  if (name.trim() === '') throw new InvalidInputError('an API key needs a name');
  const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new InvalidInputError(
      `scopes must be a non-empty subset of ${API_KEY_SCOPES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
    );
  }
  if (expiresAt !== undefined && !(expiresAt.getTime() > Date.now() && expiresAt.getUTCFullYear() <= 9999)) {
    throw new InvalidInputError('expiresAt must be a time in the future (before the year 10000)');
  }
}

function newKeyMaterial(): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH), hash: sha256(key).toString('hex') };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Creates a key with the given scopes (and optional expiry); the plaintext `key` is returned only here. */
export async function createApiKey(
  database: Database,
  name: string,
  scopes: readonly ApiKeyScope[],
  options: { audit?: AuditContext; expiresAt?: Date } = {},
): Promise<{ key: string; apiKey: ApiKey }> {
  checkNewKey(name, scopes, options.expiresAt);
  const { key, prefix, hash } = newKeyMaterial();
  const apiKey = await database.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({ name, prefix, hash, scopes: [...new Set(scopes)], expiresAt: options.expiresAt ?? null })
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

/** Returns the active key matching `plaintext`, or undefined (unknown, malformed, revoked or expired). */
export async function verifyApiKey(database: Database, plaintext: string): Promise<ApiKey | undefined> {
  if (!KEY_FORMAT.test(plaintext)) return undefined;
  const hash = sha256(plaintext);
  const candidates = await database.db
    .select({ ...publicColumns, hash: apiKeys.hash })
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, plaintext.slice(0, DISPLAY_PREFIX_LENGTH)), isActive));
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
export async function revokeApiKey(
  database: Database,
  id: string,
  options: { audit?: AuditContext } = {},
): Promise<ApiKey> {
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

/** Lists keys (without hashes), oldest first; revoked and expired ones only with `includeRevoked`. */
export async function listApiKeys(
  database: Database,
  options: { includeRevoked?: boolean } = {},
): Promise<ApiKey[]> {
  return database.db
    .select(publicColumns)
    .from(apiKeys)
    .where(options.includeRevoked ? undefined : isActive)
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}

/** One key (without its hash). Throws NotFoundError for an unknown id. */
export async function getApiKey(database: Database, id: string): Promise<ApiKey> {
  if (!isUuid(id)) throw new NotFoundError(`API key ${id} not found`);
  const [row] = await database.db.select(publicColumns).from(apiKeys).where(eq(apiKeys.id, id));
  if (!row) throw new NotFoundError(`API key ${id} not found`);
  return row;
}

/**
 * Replaces an active key: a new key with the same name and scopes (and the given expiry, else the
 * old one's) is created and the old one revoked, in one transaction, so there is never a moment
 * with both or neither. Throws NotFoundError for an unknown id and ConflictError for a key that is
 * already revoked or expired. The new plaintext is returned only here.
 */
export async function rotateApiKey(
  database: Database,
  id: string,
  options: { audit?: AuditContext; expiresAt?: Date } = {},
): Promise<{ key: string; apiKey: ApiKey; replaced: ApiKey }> {
  if (!isUuid(id)) throw new NotFoundError(`API key ${id} not found`);
  const { key, prefix, hash } = newKeyMaterial();
  const result = await database.db.transaction(async (tx) => {
    const [old] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.id, id), isActive))
      .returning(publicColumns);
    if (!old) {
      const [existing] = await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, id));
      if (!existing) throw new NotFoundError(`API key ${id} not found`);
      throw new ConflictError(`API key ${id} is revoked or expired; create a new key instead`);
    }
    const expiresAt = options.expiresAt ?? old.expiresAt ?? undefined;
    checkNewKey(old.name, old.scopes, expiresAt);
    const [row] = await tx
      .insert(apiKeys)
      .values({
        name: old.name,
        prefix,
        hash,
        scopes: old.scopes,
        expiresAt: expiresAt ?? null,
        rotatedFrom: old.id,
      })
      .returning(publicColumns);
    if (options.audit) {
      await recordAudit(tx, {
        actor: options.audit.actor,
        action: 'api_key.rotate',
        target: `api_key:${id}`,
        before: old,
        after: row,
        ...(options.audit.requestId !== undefined ? { requestId: options.audit.requestId } : {}),
      });
    }
    return { apiKey: row!, replaced: old };
  });
  return { key, ...result };
}
