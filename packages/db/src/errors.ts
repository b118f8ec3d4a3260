// The error family of this package. Every error carries a stable `code` that the API maps to an
// HTTP status in one place, and a `retryable` flag that workers use to decide between retrying a
// job and giving up on it.

export type DbErrorCode =
  | 'not_found'
  | 'conflict'
  | 'invalid_input'
  | 'invalid_cursor'
  | 'sync_run_state'
  | 'encryption_key'
  | 'decryption_failed';

/** Base class of every error this package throws on purpose. */
export class DbError extends Error {
  readonly code: DbErrorCode;
  readonly retryable: boolean;

  constructor(code: DbErrorCode, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** The cluster, sync run, or API key does not exist (or was deleted). */
export class NotFoundError extends DbError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The write would break a uniqueness rule or the object is in a state that forbids it. */
export class ConflictError extends DbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** An argument the caller could have checked (a limit, an account id, a run of another cluster). */
export class InvalidInputError extends DbError {
  constructor(message: string) {
    super('invalid_input', message);
  }
}

/** A pagination cursor that this package did not issue, or whose snapshot has since been pruned. */
export class InvalidCursorError extends DbError {
  constructor(message = 'the cursor is malformed or has expired; start again without one') {
    super('invalid_cursor', message);
  }
}

/** A sync run transition that its current status does not allow (e.g. completing a failed run). */
export class SyncRunStateError extends DbError {
  constructor(message: string) {
    super('sync_run_state', message);
  }
}

/** The encryption key is missing, malformed, or not 32 bytes. */
export class EncryptionKeyError extends DbError {
  constructor(message: string) {
    super('encryption_key', message);
  }
}

/** A sealed secret could not be opened: wrong key, or the stored value was altered. */
export class DecryptionError extends DbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('decryption_failed', message, options);
  }
}

/** True for a Postgres unique-violation error, optionally on one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const pg = pgErrorOf(err);
  return pg?.code === '23505' && (constraint === undefined || pg.constraint === constraint);
}

// drizzle wraps driver errors (DrizzleQueryError) with the pg error as `cause`.
function pgErrorOf(err: unknown): { code?: string; constraint?: string } | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if ('code' in e && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return e as { code?: string; constraint?: string };
    }
    e = 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}
