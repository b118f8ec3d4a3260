// The API's one error family: stable machine-readable codes, mapped to HTTP status in one place.
// Every error response is { error: { code, message, requestId, details? } }; 5xx details are hidden.

export const API_ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERROR_STATUS[code];
  }
}

export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} was not found`);

const DB_CODES: Record<string, ApiErrorCode> = {
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid_input: 'VALIDATION_FAILED',
  invalid_cursor: 'INVALID_CURSOR',
  sync_run_state: 'CONFLICT',
};

/**
 * Turns errors the db and queue packages throw on purpose into API errors (duck-typed on their
 * `code`, so the API does not depend on their classes); anything else is left for the 500 path.
 */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { name?: string; code?: unknown; message?: string };
  if (typeof e.code === 'string' && e.code in DB_CODES) return new ApiError(DB_CODES[e.code]!, e.message ?? e.code);
  if (e.name === 'RedisUnavailableError' || e.code === 'ECONNREFUSED') {
    return new ApiError('UNAVAILABLE', 'the job queue is unavailable; try again shortly');
  }
  return undefined;
}
