// Bearer API keys with scopes. `admin` implies every other scope. The key itself is only ever
// compared through its hash (in the db package); it is never logged.
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

export const SCOPES = ['read', 'sync', 'provision', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Caller {
  /** `api-key:<id>` or `bootstrap`; what audit events record as the actor. */
  actor: string;
  scopes: readonly Scope[];
}

export type VerifyKey = (plaintext: string) => Promise<Caller | undefined>;

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Resolves the caller from an Authorization header, or throws UNAUTHENTICATED. */
export async function authenticate(
  header: string | undefined,
  verify: VerifyKey,
  bootstrapKey?: string,
): Promise<Caller> {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new ApiError('UNAUTHENTICATED', 'send an API key as "Authorization: Bearer <key>"');
  const key = m[1]!;
  if (bootstrapKey && sameString(key, bootstrapKey)) return { actor: 'bootstrap', scopes: ['admin'] };
  const caller = await verify(key);
  if (!caller) throw new ApiError('UNAUTHENTICATED', 'the API key is unknown or revoked');
  return caller;
}

/** Throws FORBIDDEN unless the caller holds `scope` (or admin). */
export function requireScope(caller: Caller, scope: Scope): void {
  if (!caller.scopes.includes(scope) && !caller.scopes.includes('admin')) {
    throw new ApiError('FORBIDDEN', `this API key lacks the "${scope}" scope`);
  }
}
