// The one place where AWS SDK and Kubernetes client errors are classified. Everything above this
// layer sees an EksAccessError with a stable code, a retryable flag and a message that says what
// to fix; nothing above it inspects SDK exception names or HTTP status codes.

export const ERROR_CODES = [
  'CONFIG_INVALID',
  'AWS_CREDENTIALS_INVALID',
  'AWS_CREDENTIALS_EXPIRED',
  'AWS_ACCESS_DENIED',
  'ASSUME_ROLE_DENIED',
  'AWS_THROTTLED',
  'AWS_UNAVAILABLE',
  'AWS_VALIDATION',
  'CLUSTER_NOT_FOUND',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'ACCESS_ENTRIES_UNSUPPORTED',
  'KUBE_UNAUTHORIZED',
  'KUBE_FORBIDDEN',
  'KUBE_THROTTLED',
  'KUBE_UNAVAILABLE',
  'KUBE_CONTINUE_EXPIRED',
  'KUBE_CONFLICT',
  'KUBE_INVALID',
  /** A provisioning request names an entitlement that cannot be parsed, provisioned or found in the cluster. */
  'INVALID_ENTITLEMENT',
  /** A provisioning request names a principal that is not an IAM user or role ARN. */
  'INVALID_PRINCIPAL',
  /** The IAM user or role of a provisioning request does not exist. */
  'PRINCIPAL_NOT_FOUND',
  /** The change is possible in principle but carrying it out here would be unsafe; the message says why. */
  'PROVISIONING_REFUSED',
  'NETWORK',
  'TLS',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AWS_THROTTLED',
  'AWS_UNAVAILABLE',
  'KUBE_THROTTLED',
  'KUBE_UNAVAILABLE',
  'KUBE_CONTINUE_EXPIRED',
  'KUBE_CONFLICT',
  'NETWORK',
]);

/** Codes that mean "slow down" (they feed the rate limiter, not just the retry loop). */
export const THROTTLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['AWS_THROTTLED', 'KUBE_THROTTLED']);

export interface ErrorContext {
  /** `eks:ListAccessEntries`, `kube:list:rolebindings`, `sts:AssumeRole`… */
  operation: string;
  /** What the call was about: a cluster name, a role ARN, an object path. */
  target?: string;
  /** The URL the call went to: named when it cannot be reached, the one thing to check then. */
  endpoint?: string;
}

export class EksAccessError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** The server asked to wait this long before retrying (Retry-After). */
  readonly retryAfterMs: number | undefined;
  readonly operation: string | undefined;
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      cause?: unknown;
      retryAfterMs?: number;
      operation?: string;
      status?: number;
      retryable?: boolean;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EksAccessError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.operation = options.operation;
    this.status = options.status;
  }
}

export function isEksAccessError(err: unknown): err is EksAccessError {
  return err instanceof EksAccessError;
}

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  $response?: { headers?: Record<string, string | undefined> };
}

const AWS_THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

function networkCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || TLS_CODES.has(code))) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function fromNetwork(err: unknown, ctx: ErrorContext, endpoint: string): EksAccessError | undefined {
  const code = networkCode(err);
  if (!code) return undefined;
  if (TLS_CODES.has(code)) {
    return new EksAccessError(
      'TLS',
      `${ctx.operation}: TLS verification of ${endpoint} failed (${code}); the endpoint's certificate does not match the cluster CA`,
      {
        cause: err,
        operation: ctx.operation,
      },
    );
  }
  return new EksAccessError('NETWORK', `${ctx.operation}: cannot reach ${endpoint} (${code})`, {
    cause: err,
    operation: ctx.operation,
  });
}

/** Classifies an error thrown by an AWS SDK v3 client call. */
export function classifyAwsError(err: unknown, ctx: ErrorContext): EksAccessError {
  if (err instanceof EksAccessError) return err;
  const network = fromNetwork(err, ctx, ctx.endpoint ?? 'the AWS endpoint');
  if (network) return network;
  const e = (err ?? {}) as SdkErrorLike;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const detail = e.message ? `: ${e.message}` : '';
  const target = ctx.target ? ` (${ctx.target})` : '';
  const base = { cause: err, operation: ctx.operation, ...(status === undefined ? {} : { status }) };

  if (AWS_THROTTLING_NAMES.has(name) || e.$retryable?.throttling || status === 429) {
    return new EksAccessError(
      'AWS_THROTTLED',
      `${ctx.operation}${target} was throttled by AWS${detail}`,
      base,
    );
  }
  if (
    name === 'InvalidClientTokenId' ||
    name === 'UnrecognizedClientException' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'InvalidSignatureException' ||
    name === 'IncompleteSignature' ||
    name === 'IncompleteSignatureException' ||
    name === 'MissingAuthenticationToken' ||
    name === 'MissingAuthenticationTokenException'
  ) {
    return new EksAccessError(
      'AWS_CREDENTIALS_INVALID',
      `${ctx.operation}${target}: AWS rejected the credentials (${name}); check the access key id and secret (BATON_EKS_ACCESS_KEY / BATON_EKS_SECRET_ACCESS_KEY)`,
      base,
    );
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || name === 'RequestExpired') {
    return new EksAccessError(
      'AWS_CREDENTIALS_EXPIRED',
      `${ctx.operation}${target}: the AWS credentials have expired${detail}`,
      { ...base, retryable: true },
    );
  }
  if (
    name === 'ResourceNotFoundException' ||
    name === 'NoSuchEntity' ||
    name === 'NoSuchEntityException' ||
    name === 'NotFoundException'
  ) {
    return new EksAccessError('NOT_FOUND', `${ctx.operation}${target}: not found${detail}`, base);
  }
  if (
    name === 'ResourceInUseException' ||
    name === 'EntityAlreadyExists' ||
    name === 'EntityAlreadyExistsException'
  ) {
    return new EksAccessError('ALREADY_EXISTS', `${ctx.operation}${target}: already exists${detail}`, base);
  }
  if (
    name === 'AccessDenied' ||
    name === 'AccessDeniedException' ||
    name === 'UnauthorizedOperation' ||
    name === 'UnauthorizedException' ||
    status === 403
  ) {
    return new EksAccessError(
      'AWS_ACCESS_DENIED',
      `${ctx.operation}${target}: access denied${detail}; the connector's IAM policy must allow ${ctx.operation}`,
      base,
    );
  }
  if (name === 'InvalidRequestException' && /authentication mode/i.test(e.message ?? '')) {
    return new EksAccessError(
      'ACCESS_ENTRIES_UNSUPPORTED',
      `${ctx.operation}${target}: the cluster's authentication mode does not allow access entries${detail}`,
      base,
    );
  }
  if (
    name === 'InvalidParameterException' ||
    name === 'InvalidRequestException' ||
    name === 'ValidationError' ||
    name === 'ValidationException' ||
    name === 'InvalidInput' ||
    name === 'MalformedPolicyDocument'
  ) {
    return new EksAccessError(
      'AWS_VALIDATION',
      `${ctx.operation}${target}: AWS rejected the request${detail}`,
      base,
    );
  }
  if (
    (status !== undefined && status >= 500) ||
    name === 'ServerException' ||
    name === 'ServiceUnavailable' ||
    name === 'ServiceUnavailableException' ||
    name === 'InternalFailure' ||
    name === 'InternalError' ||
    name === 'ServiceFailure' ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout'
  ) {
    return new EksAccessError(
      'AWS_UNAVAILABLE',
      `${ctx.operation}${target}: AWS is unavailable (${name})${detail}`,
      base,
    );
  }
  return new EksAccessError('INTERNAL', `${ctx.operation}${target} failed: ${name}${detail}`, {
    ...base,
    retryable: false,
  });
}

interface KubeErrorLike {
  code?: number | string;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  message?: string;
}

interface KubeStatus {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
}

function kubeStatusOf(body: unknown): KubeStatus | undefined {
  if (typeof body === 'string') {
    try {
      return kubeStatusOf(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? body : undefined;
}

function retryAfterMs(headers: KubeErrorLike['headers']): number | undefined {
  if (!headers) return undefined;
  const raw = headers['retry-after'] ?? headers['Retry-After'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Classifies an error thrown by @kubernetes/client-node (ApiException) or by the network. */
export function classifyKubeError(err: unknown, ctx: ErrorContext & { cluster: string }): EksAccessError {
  if (err instanceof EksAccessError) return err;
  const network = fromNetwork(err, ctx, `the Kubernetes API of cluster ${ctx.cluster}`);
  if (network) return network;
  const e = (err ?? {}) as KubeErrorLike;
  const status = typeof e.code === 'number' ? e.code : undefined;
  const body = kubeStatusOf(e.body);
  const message = body?.message ?? e.message ?? 'unknown error';
  const target = ctx.target ? ` ${ctx.target}` : '';
  const base = { cause: err, operation: ctx.operation, ...(status === undefined ? {} : { status }) };
  const wait = retryAfterMs(e.headers);
  switch (status ?? 0) {
    case 401:
      return new EksAccessError(
        'KUBE_UNAUTHORIZED',
        `${ctx.operation}${target}: cluster ${ctx.cluster} did not accept the connector's identity; map the connector's IAM role with an access entry (API modes) or in aws-auth (CONFIG_MAP mode)`,
        base,
      );
    case 403:
      return new EksAccessError(
        'KUBE_FORBIDDEN',
        `${ctx.operation}${target} on cluster ${ctx.cluster} is forbidden: ${message}`,
        base,
      );
    case 404:
      return new EksAccessError(
        'NOT_FOUND',
        `${ctx.operation}${target} on cluster ${ctx.cluster}: ${message}`,
        base,
      );
    case 409:
      return body?.reason === 'AlreadyExists'
        ? new EksAccessError(
            'ALREADY_EXISTS',
            `${ctx.operation}${target} on cluster ${ctx.cluster}: ${message}`,
            base,
          )
        : new EksAccessError(
            'KUBE_CONFLICT',
            `${ctx.operation}${target} on cluster ${ctx.cluster}: ${message}`,
            base,
          );
    case 410:
      return new EksAccessError(
        'KUBE_CONTINUE_EXPIRED',
        `${ctx.operation} on cluster ${ctx.cluster}: the list's continue token expired`,
        base,
      );
    case 422:
      return new EksAccessError(
        'KUBE_INVALID',
        `${ctx.operation}${target} on cluster ${ctx.cluster} is invalid: ${message}`,
        base,
      );
    case 429:
      return new EksAccessError(
        'KUBE_THROTTLED',
        `${ctx.operation} on cluster ${ctx.cluster} was throttled`,
        {
          ...base,
          ...(wait === undefined ? {} : { retryAfterMs: wait }),
        },
      );
    default:
      break;
  }
  if (status !== undefined && status >= 500) {
    return new EksAccessError(
      'KUBE_UNAVAILABLE',
      `${ctx.operation} on cluster ${ctx.cluster}: the API server answered ${status}: ${message}`,
      {
        ...base,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      },
    );
  }
  return new EksAccessError(
    'INTERNAL',
    `${ctx.operation}${target} on cluster ${ctx.cluster} failed: ${message}`,
    { ...base, retryable: false },
  );
}
