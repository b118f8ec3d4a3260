// The c1z error family. Every failure to read or write a c1z file carries a stable code; none is
// retryable, because the same bytes or the same input fail the same way again.

export type C1zErrorCode =
  /** The file does not start with `C1ZF\0`. */
  | 'C1Z_BAD_MAGIC'
  /** The zstd frame ends early (or the file ends inside the header). */
  | 'C1Z_TRUNCATED'
  /** The bytes after the magic are not exactly one valid zstd frame. */
  | 'C1Z_BAD_FRAME'
  /** The declared or decoded size is above the reader's limit. */
  | 'C1Z_TOO_LARGE'
  /** The decoded bytes are not a SQLite database with the baton-sdk v1 tables. */
  | 'C1Z_BAD_SCHEMA'
  /** A message in a data column does not decode. */
  | 'C1Z_BAD_DATA'
  /** The snapshot given to the writer is not valid (for example a malformed sync id). */
  | 'C1Z_INVALID_INPUT';

export class C1zError extends Error {
  readonly code: C1zErrorCode;
  readonly retryable = false;

  constructor(code: C1zErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'C1zError';
    this.code = code;
  }
}

/** True for an error thrown by this package's c1z reader or writer. */
export function isC1zError(error: unknown): error is C1zError {
  return error instanceof C1zError;
}
