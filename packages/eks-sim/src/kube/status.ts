// Kubernetes `Status` objects: the one error shape the API server answers with. Every failure
// the emulator reports goes through KubeError so the reason, code and wording match what clients
// (client-node's ApiException, kubectl's error printer) parse from a real cluster.
import { KUBE_RESOURCES, type KubeResource } from './store.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'Unknown';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, string>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** A failure answered with a Status body; `headers` are added to the response (Retry-After). */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'KubeError';
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `configmaps` or `rolebindings.rbac.authorization.k8s.io`: how messages name a resource. */
export function qualifiedResource(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

function resourceDetails(resource: KubeResource, name?: string): StatusDetails {
  const { group } = KUBE_RESOURCES[resource];
  return { ...(name === undefined ? {} : { name }), ...(group ? { group } : {}), kind: resource };
}

function qualified(resource: KubeResource): string {
  return qualifiedResource(resource, KUBE_RESOURCES[resource].group);
}

export const kubeErrors = {
  badRequest: (message: string) => new KubeError(400, 'BadRequest', message),
  unauthorized: () => new KubeError(401, 'Unauthorized', 'Unauthorized'),
  notFound: (resource: KubeResource, name: string) =>
    new KubeError(
      404,
      'NotFound',
      `${qualified(resource)} "${name}" not found`,
      resourceDetails(resource, name),
    ),
  /** A path the server does not serve at all. */
  noRoute: () => new KubeError(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (resource: KubeResource, name: string) =>
    new KubeError(
      409,
      'AlreadyExists',
      `${qualified(resource)} "${name}" already exists`,
      resourceDetails(resource, name),
    ),
  conflict: (resource: KubeResource, name: string, why: string) =>
    new KubeError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`,
      resourceDetails(resource, name),
    ),
  staleObject: (resource: KubeResource, name: string) =>
    kubeErrors.conflict(
      resource,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    ),
  /** 422: `<Kind> "<name>" is invalid: <field>: <problem>`, with one cause per problem. */
  invalid: (resource: KubeResource, name: string, causes: Required<StatusCause>[]) => {
    const { kind, group } = KUBE_RESOURCES[resource];
    const summary = causes.map((c) => `${c.field}: ${c.message}`);
    const text = summary.length === 1 ? summary[0]! : `[${summary.join(', ')}]`;
    return new KubeError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${text}`, {
      name,
      ...(group ? { group } : {}),
      kind,
      causes,
    });
  },
  /** Continue tokens at a compacted revision, as etcd compaction makes them. */
  expired: (message: string) => new KubeError(410, 'Expired', message),
  methodNotAllowed: () =>
    new KubeError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
      {},
    ),
  notAcceptable: (accepted: readonly string[]) =>
    new KubeError(
      406,
      'NotAcceptable',
      `only the following media types are accepted: ${accepted.join(', ')}`,
    ),
  tooLarge: (limit: number) =>
    new KubeError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  unsupportedMediaType: (contentType: string, accepted: readonly string[]) =>
    new KubeError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}; got ${JSON.stringify(contentType)}`,
    ),
  tooManyRequests: (retryAfterSeconds: number) =>
    new KubeError(
      429,
      'TooManyRequests',
      'Too many requests, please try again later.',
      { retryAfterSeconds },
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  /** An injected or genuine 5xx, worded as the API server words each code. */
  serverError: (code: number) => {
    switch (code) {
      case 503:
        return new KubeError(
          503,
          'ServiceUnavailable',
          'the server is currently unable to handle the request',
          {},
        );
      case 504:
        return new KubeError(
          504,
          'Timeout',
          'the server was unable to return a response in the time allotted, but may still be processing the request',
          {},
        );
      default:
        return new KubeError(
          code,
          'InternalError',
          'Internal error occurred: the server encountered an unexpected condition',
          {
            causes: [{ message: 'the server encountered an unexpected condition' }],
          },
        );
    }
  },
} as const;

/** The Status a successful delete answers with (for kinds deleted at once, without finalizers). */
export function successStatus(resource: KubeResource, name: string, uid: string): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(resource, name), uid },
    code: 200,
  };
}
