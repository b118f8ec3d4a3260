// What the API key routes accept and return. The plaintext key appears only in the answer to the
// create and rotate calls; listings show its first characters (`prefix`) to tell keys apart.
import { API_KEY_SCOPES, type ApiKey } from '@eks-access/db';
import { z } from 'zod';

/** A future instant, as an ISO 8601 timestamp with an offset. */
export const expiresAt = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 timestamp' })
  .refine((v) => {
    const at = new Date(v);
    return at.getTime() > Date.now() + 60_000 && at.getUTCFullYear() <= 9999;
  }, 'must be at least a minute in the future (and before the year 10000)')
  .optional();

export const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
    expiresAt,
  })
  .strict();

export const rotateBody = z.object({ expiresAt }).strict().nullish();

/** The public view of a key: never its hash. */
export function toApiKeyView(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    rotatedFrom: key.rotatedFrom,
  };
}
