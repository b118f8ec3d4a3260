// What the API key routes accept and return. The plaintext key appears only in the answer to the
// create and rotate calls; listings show its first characters (`prefix`) to tell keys apart.
import { API_KEY_SCOPES, type ApiKey } from '@eks-access/db';
import { z } from 'zod';
import { component, timestamp, uuidOut } from '../../openapi/component.js';

/** A future instant, as an ISO 8601 timestamp with an offset. */
export const expiresAt = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 timestamp' })
  .refine((v) => {
    const at = new Date(v);
    return at.getTime() > Date.now() + 60_000 && at.getUTCFullYear() <= 9999;
  }, 'must be at least a minute in the future (and before the year 10000)')
  .optional();

export const createBody = component(
  'NewApiKey',
  'A key to create: a name to tell it apart, its scopes (`admin` implies every other), and an optional expiry.',
  z
    .object({
      name: z.string().trim().min(1).max(200),
      scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
      expiresAt,
    })
    .strict(),
);

export const rotateBody = z.object({ expiresAt }).strict().nullish();

export const apiKeyOut = component(
  'ApiKey',
  'An API key, never its secret: `prefix` (its first characters) tells keys apart.',
  z.object({
    id: uuidOut,
    name: z.string(),
    prefix: z.string().meta({ example: 'eak_3kQ9xZ2m' }),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    createdAt: timestamp,
    lastUsedAt: timestamp.nullable(),
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    rotatedFrom: uuidOut.nullable().meta({ description: 'The key this one replaced.' }),
  }),
);

export const apiKeyWithSecretOut = component(
  'ApiKeyWithSecret',
  'A key just created or rotated, with its plaintext `key`: shown this once, store it now.',
  apiKeyOut.extend({ key: z.string().meta({ description: 'Send as `Authorization: Bearer <key>`.' }) }),
);

export const apiKeyList = component(
  'ApiKeyList',
  'Every key (revoked and expired ones on request).',
  z.object({ items: z.array(apiKeyOut) }),
);

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
