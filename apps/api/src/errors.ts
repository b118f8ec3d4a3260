// The API's one error family: stable machine-readable codes, mapped to HTTP status in one place.
// Every error response is { error: { code, message, requestId, details? } }; 5xx details are hidden.
import { z } from 'zod';
import { component } from './openapi/component.js';

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

const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as [ApiErrorCode, ...ApiErrorCode[]];

// Loose objects: details are for people and tooling to read, and a detail field the schema does not
// know must not turn an error answer into a serialization failure.
const validationIssue = z.looseObject({
  path: z.string().optional().meta({ description: 'Where in the request: `/name`, `body.labels.team`.' }),
  message: z.string().optional(),
});
const policyRefusal = z.looseObject({
  code: z.string().meta({
    description:
      'The policy decision: POLICY_DENIED, PROVISIONING_DISABLED, POLICY_INVALID or INVALID_ENTITLEMENT.',
  }),
  rule: z.unknown().optional().meta({ description: 'The policy rule that decided it, when one did.' }),
});

/** The body of every 4xx and 5xx answer. */
export const errorEnvelope = component(
  'ErrorEnvelope',
  'Every error answer: a stable machine-readable code, a message for people, and the request id that finds the request in the logs (also sent as the x-request-id header).',
  z.object({
    error: z.object({
      code: z
        .enum(API_ERROR_CODES)
        .meta({ description: 'Stable machine-readable code; each maps to one HTTP status.' }),
      message: z.string(),
      requestId: z.string().meta({ example: 'b7e0f1d2-4c5a-4e8b-9f3a-0d1c2b3a4f5e' }),
      details: z
        .union([z.array(validationIssue), policyRefusal])
        .optional()
        .meta({
          description:
            'For VALIDATION_FAILED: each problem with its place. For a refused provisioning request: the policy decision.',
        }),
    }),
  }),
);
export type ErrorEnvelope = z.output<typeof errorEnvelope>;

export class ApiError extends Error {
  readonly status: number;
  /** For UNAVAILABLE: the `Retry-After` to send, when not the default RETRY_AFTER_SECONDS. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERROR_STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
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

/** Seconds a client is told to wait (`Retry-After`) when a dependency is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** Seconds a client is told to wait when a queue's backlog is at QUEUE_BACKLOG_MAX: workers need time. */
export const BACKLOG_RETRY_AFTER_SECONDS = 30;

// Postgres SQLSTATEs that mean "not now" rather than "not this": connection exceptions (08…),
// shutdown and startup (57P01–57P03), too many connections (53300).
const PG_UNAVAILABLE = /^(08...|57P0[1-3]|53300)$/;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// node-postgres reports a dropped or refused connection by message only.
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|the database system is (starting up|shutting down)/i;

/**
 * Which dependency `err` says is unreachable ('postgres', 'redis'), or undefined when it is some
 * other error. Follows `cause` chains (drizzle wraps driver errors) and AggregateErrors (a refused
 * connection to every address of a host).
 */
export function unavailableDependency(err: unknown, depth = 0): 'postgres' | 'redis' | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (e.name === 'RedisUnavailableError' || e.code === 'REDIS_UNAVAILABLE') return 'redis';
  if (typeof e.code === 'string' && (PG_UNAVAILABLE.test(e.code) || NETWORK_CODES.has(e.code)))
    return 'postgres';
  if (typeof e.message === 'string' && PG_MESSAGES.test(e.message)) return 'postgres';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = unavailableDependency(inner, depth + 1);
      if (found) return found;
    }
  }
  return unavailableDependency(e.cause, depth + 1);
}

/**
 * Turns errors the db and queue packages throw on purpose into API errors (duck-typed on their
 * `code`, so the API does not depend on their classes), and an unreachable Postgres or Redis into
 * UNAVAILABLE; anything else is left for the 500 path.
 */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { name?: string; code?: unknown; message?: string };
  if (typeof e.code === 'string' && e.code in DB_CODES)
    return new ApiError(DB_CODES[e.code]!, e.message ?? e.code);
  if (e.code === 'QUEUE_FULL') {
    return new ApiError('UNAVAILABLE', `${e.message ?? 'the queue is full'}; try again later`, undefined, {
      retryAfterSeconds: BACKLOG_RETRY_AFTER_SECONDS,
    });
  }
  if (e.code === 'FST_ERR_HANDLER_TIMEOUT') {
    return new ApiError('UNAVAILABLE', 'the request took longer than its time limit; try again shortly');
  }
  const dependency = unavailableDependency(err);
  if (dependency === 'redis')
    return new ApiError('UNAVAILABLE', 'the job queue (Redis) is unavailable; try again shortly');
  if (dependency === 'postgres')
    return new ApiError('UNAVAILABLE', 'the database (Postgres) is unavailable; try again shortly');
  return undefined;
}
