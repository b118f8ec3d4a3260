// Errors a task handler ends with. The service loop reports them to C1 through FinishTask: the
// gRPC status code from `grpcCode`, and `non_retryable` when `retryable` is false.
import { C1Error, type C1ErrorCode } from '@eks-access/c1';

// google.rpc.Code values (grpc-js is not a dependency of this app).
const GRPC_CODES = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const satisfies Partial<Record<C1ErrorCode, number>>;

/** A task failure with the status C1 should see. */
export function taskError(code: keyof typeof GRPC_CODES, message: string, retryable: boolean): C1Error {
  return new C1Error(code, message, { retryable, grpcCode: GRPC_CODES[code] });
}
