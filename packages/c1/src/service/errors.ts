// The service-mode error family and the one place gRPC and token-endpoint failures are
// classified. Like eks-core's errors, a C1Error carries a stable `code` and a `retryable` flag; a
// retryable error may also carry how long C1 asked us to wait (from RateLimitDescription details).
import { type Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { messageCodecs, type RateLimitDescription } from './messages.js';
import { typeNameOf } from './proto.js';

export type C1ErrorCode =
  | 'INVALID_CREDENTIALS'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'FAILED_PRECONDITION'
  | 'UNIMPLEMENTED'
  | 'ALREADY_EXISTS'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'INTERNAL'
  | 'TASK_CANCELLED'
  | 'HEARTBEAT_FAILED';

export interface C1ErrorOptions {
  retryable: boolean;
  /** The gRPC status code, when the error came from (or should be reported as) one. */
  grpcCode?: number;
  /** How long C1 asked the caller to wait before trying again. */
  retryAfterMs?: number;
  rateLimit?: RateLimitDescription;
  cause?: unknown;
}

export class C1Error extends Error {
  readonly code: C1ErrorCode;
  readonly retryable: boolean;
  readonly grpcCode: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly rateLimit: RateLimitDescription | undefined;

  constructor(code: C1ErrorCode, message: string, options: C1ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'C1Error';
    this.code = code;
    this.retryable = options.retryable;
    this.grpcCode = options.grpcCode;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimit = options.rateLimit;
  }
}

/** Whether `err` is a C1Error that says the same request will fail again. */
export function isNonRetryable(err: unknown): boolean {
  return err instanceof C1Error && !err.retryable;
}

const GRPC_CODES: Partial<Record<number, { code: C1ErrorCode; retryable: boolean }>> = {
  [GrpcStatus.UNAUTHENTICATED]: { code: 'UNAUTHENTICATED', retryable: false },
  [GrpcStatus.PERMISSION_DENIED]: { code: 'PERMISSION_DENIED', retryable: false },
  [GrpcStatus.INVALID_ARGUMENT]: { code: 'INVALID_ARGUMENT', retryable: false },
  [GrpcStatus.NOT_FOUND]: { code: 'NOT_FOUND', retryable: false },
  [GrpcStatus.FAILED_PRECONDITION]: { code: 'FAILED_PRECONDITION', retryable: false },
  [GrpcStatus.UNIMPLEMENTED]: { code: 'UNIMPLEMENTED', retryable: false },
  [GrpcStatus.ALREADY_EXISTS]: { code: 'ALREADY_EXISTS', retryable: false },
  [GrpcStatus.OUT_OF_RANGE]: { code: 'INVALID_ARGUMENT', retryable: false },
  [GrpcStatus.UNAVAILABLE]: { code: 'UNAVAILABLE', retryable: true },
  [GrpcStatus.DEADLINE_EXCEEDED]: { code: 'DEADLINE_EXCEEDED', retryable: true },
  [GrpcStatus.RESOURCE_EXHAUSTED]: { code: 'RESOURCE_EXHAUSTED', retryable: true },
  // Our own cancellations never get here (the caller's abort reason is thrown instead).
  [GrpcStatus.CANCELLED]: { code: 'CANCELLED', retryable: true },
  // Transient server-side failures: retried with backoff like Unavailable.
  [GrpcStatus.ABORTED]: { code: 'INTERNAL', retryable: true },
  [GrpcStatus.INTERNAL]: { code: 'INTERNAL', retryable: true },
  [GrpcStatus.UNKNOWN]: { code: 'INTERNAL', retryable: true },
  [GrpcStatus.DATA_LOSS]: { code: 'INTERNAL', retryable: true },
};

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const RATE_LIMIT_TYPE = 'c1.ratelimit.v1.RateLimitDescription';

interface GrpcLikeError {
  code: number;
  details?: string;
  message?: string;
  metadata?: Metadata;
}

function isGrpcLikeError(err: unknown): err is GrpcLikeError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number';
}

/** Turns a failed RPC into a C1Error; `operation` names the RPC for the message. */
export function classifyGrpcError(err: unknown, operation: string, now: number = Date.now()): C1Error {
  if (err instanceof C1Error) return err;
  if (!isGrpcLikeError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new C1Error('INTERNAL', `${operation} failed: ${message}`, { retryable: true, cause: err });
  }
  const known = GRPC_CODES[err.code] ?? { code: 'INTERNAL' as const, retryable: true };
  const rateLimit = rateLimitFromMetadata(err.metadata);
  const retryAfterMs = rateLimit ? rateLimitWaitMs(rateLimit, now) : undefined;
  const statusName = GrpcStatus[err.code] ?? String(err.code);
  const detail = err.details ?? err.message ?? '';
  return new C1Error(known.code, `${operation} failed: ${statusName}${detail ? `: ${detail}` : ''}`, {
    retryable: known.retryable,
    grpcCode: err.code,
    retryAfterMs,
    rateLimit,
    cause: err,
  });
}

/** The RateLimitDescription among a gRPC error's rich status details, if C1 sent one. */
export function rateLimitFromMetadata(metadata: Metadata | undefined): RateLimitDescription | undefined {
  const raw = metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!raw || typeof raw === 'string') return undefined;
  const codecs = messageCodecs();
  try {
    const status = codecs.rpcStatus.decode(raw);
    const detail = (status.details ?? []).find((d) => typeNameOf(d.typeUrl) === RATE_LIMIT_TYPE);
    return detail ? codecs.rateLimitDescription.decode(detail.value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long to wait before the next call under a rate limit: until `reset_at` when nothing remains,
 * otherwise the time to the reset spread over the remaining calls. Undefined without `reset_at`.
 */
export function rateLimitWaitMs(limit: RateLimitDescription, now: number = Date.now()): number | undefined {
  if (!limit.resetAt) return undefined;
  const resetAtMs = (limit.resetAt.seconds ?? 0) * 1000 + Math.floor((limit.resetAt.nanos ?? 0) / 1e6);
  const untilReset = Math.max(0, resetAtMs - now);
  const remaining = limit.remaining ?? 0;
  return remaining <= 0 ? untilReset : Math.ceil(untilReset / remaining);
}

/** The gRPC status code reported to C1 for a handler's error. */
export function grpcCodeOf(err: unknown): number {
  if (err instanceof C1Error && err.grpcCode !== undefined) return err.grpcCode;
  if (isGrpcLikeError(err) && err.code >= 0 && err.code <= 16) return err.code;
  return GrpcStatus.UNKNOWN;
}
