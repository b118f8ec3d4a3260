// One place that turns what a route is (its operation id, summary, scope, request schemas, the answers
// it gives and their examples) into the Fastify route options. The same zod types then validate the
// request, serialize the answer (the handler's return value is checked against them by the type
// provider, and Fastify sends only what they declare), and describe both in the OpenAPI document.
//
// Every operation also declares the errors every route can answer, all in the error envelope:
// 400 (validation), 408 and 431 (the request arrived too slowly or with headers too large), 500 and
// 503 (a dependency is unavailable, or the request outlived its time limit); with a scope, 401 and 403
// (authentication runs before anything else); when the method carries a body, 413 and 415. Statuses
// particular to the route (404, 409, 422) come with a description of when they happen.
import { z } from 'zod';
import type { Scope } from '../auth.js';
import { errorEnvelope, type ApiErrorCode } from '../errors.js';

export const TAGS = {
  clusters:
    'Registered EKS clusters: their AWS identity, sealed secrets, sync schedule and provisioning policy.',
  syncs: 'Sync runs: queueing syncs and following their progress, and what changed between two snapshots.',
  access:
    'The current snapshot of a cluster (resources, entitlements, grants) and the access of one IAM principal across all clusters.',
  provisioning:
    'Grant and revoke requests, carried out by the provisioner under the cluster’s provisioning policy.',
  uploads: 'c1z uploads to ConductorOne and their dead letters.',
  events:
    'The change-event log: grants, revokes, resource changes and findings in commit order, by cursor or as a live server-sent-events stream.',
  'api-keys': 'API keys and their scopes (admin).',
  operations: 'Health, readiness, Prometheus metrics and this document; no API key needed.',
} as const;
export type Tag = keyof typeof TAGS;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A success answer: a JSON body (or another content type), or none (204). */
export interface SuccessSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
  example?: unknown;
}

type RouteSpecificError = 403 | 404 | 409 | 422;

export interface RouteSpec {
  operationId: string;
  /** One line, sentence case, no final full stop. */
  summary: string;
  description?: string;
  tag: Tag;
  /** The scope the API key needs (admin implies every scope); `public` needs no key. */
  scope: Scope | 'public';
  method: Method;
  params?: z.ZodType;
  querystring?: z.ZodType;
  headers?: z.ZodType;
  body?: z.ZodType;
  /** The body may be left out altogether (the rotate call). */
  bodyOptional?: boolean;
  requestExample?: unknown;
  /** The answers it gives; a 503 given here replaces the error envelope (readiness answers with its checks). */
  responses: Partial<Record<200 | 201 | 202 | 204 | 503, SuccessSpec>>;
  /** When the route answers 404, 409 or 422 (or 403 for more than a missing scope), and an example message. */
  errors?: Partial<Record<RouteSpecificError, { when: string; example: string }>>;
}

const ERROR_CODE: Record<RouteSpecificError, ApiErrorCode> = {
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'UNPROCESSABLE',
};

/** The shared error answers, named as `components.responses` in the document. */
export const COMMON_ERRORS = {
  400: {
    name: 'BadRequest',
    code: 'VALIDATION_FAILED',
    description:
      'The request is not valid: a parameter, a header or the body breaks the schema (unknown fields included), or the body does not parse. `details` lists each problem.',
    message: 'invalid body: body/name must be a valid EKS cluster name',
    details: [{ path: '/name', message: 'must be a valid EKS cluster name' }],
  },
  401: {
    name: 'Unauthenticated',
    code: 'UNAUTHENTICATED',
    description:
      'No API key, or one that is unknown, expired or revoked. Checked before anything else about the request.',
    message: 'the API key is unknown or revoked',
  },
  403: {
    name: 'Forbidden',
    code: 'FORBIDDEN',
    description: 'The API key lacks the scope this operation needs.',
    message: 'this API key lacks the "admin" scope',
  },
  408: {
    name: 'RequestTimeout',
    code: 'VALIDATION_FAILED',
    description: 'The request took too long to arrive.',
    message: 'the request took too long to arrive',
  },
  413: {
    name: 'PayloadTooLarge',
    code: 'VALIDATION_FAILED',
    description: 'The body is larger than 1 MiB.',
    message: 'Request body is too large',
  },
  415: {
    name: 'UnsupportedMediaType',
    code: 'VALIDATION_FAILED',
    description: 'The body is not `application/json`.',
    message: 'Unsupported Media Type',
  },
  431: {
    name: 'HeadersTooLarge',
    code: 'VALIDATION_FAILED',
    description: 'The request headers are too large.',
    message: 'the request headers are too large',
  },
  500: {
    name: 'InternalError',
    code: 'INTERNAL',
    description: 'An unexpected failure; the request id finds it in the logs. Nothing about it is disclosed.',
    message: 'internal error; the request id identifies it in the logs',
  },
  503: {
    name: 'Unavailable',
    code: 'UNAVAILABLE',
    description:
      'Postgres or Redis is unavailable, the request outlived its time limit, or (on a route that queues work) the queue already holds QUEUE_BACKLOG_MAX jobs waiting for a worker. Nothing was recorded; retry after `Retry-After` seconds.',
    message: 'the job queue (Redis) is unavailable; try again shortly',
  },
} as const satisfies Record<
  number,
  { name: string; code: ApiErrorCode; description: string; message: string; details?: unknown }
>;
export type CommonErrorStatus = keyof typeof COMMON_ERRORS;

/** An example error envelope. */
export function errorExample(code: ApiErrorCode, message: string, details?: unknown) {
  return {
    error: {
      code,
      message,
      requestId: 'b7e0f1d2-4c5a-4e8b-9f3a-0d1c2b3a4f5e',
      ...(details === undefined ? {} : { details }),
    },
  };
}

type ErrorResponse = { description: string; content: Record<string, { schema: typeof errorEnvelope }> };
type SuccessResponses<R extends RouteSpec['responses']> = {
  [K in Exclude<keyof R, 503>]: R[K] extends { schema: infer T extends z.ZodType }
    ? { description: string; content: Record<string, { schema: T }> }
    : z.ZodUndefined;
};
type RequestParts<S extends RouteSpec> = {
  [K in Extract<keyof S, 'params' | 'querystring' | 'headers' | 'body'>]: S[K];
};

/** Extension keys that carry examples from the route to the document's post-processing (openapi/document.ts). */
export const X_EXAMPLES = 'x-eks-examples';
export const X_BODY_OPTIONAL = 'x-eks-body-optional';
export interface OperationExamples {
  request?: unknown;
  responses: Record<string, unknown>;
}

const READS_BODY: ReadonlySet<Method> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The Fastify options of a route: its scope (checked by the auth hook) and its schema. */
export function route<const S extends RouteSpec>(spec: S) {
  const secured = spec.scope !== 'public';
  const statuses: CommonErrorStatus[] = [
    400,
    ...(secured ? ([401, 403] as const) : []),
    408,
    ...(READS_BODY.has(spec.method) ? ([413, 415] as const) : []),
    431,
    500,
    503,
  ];
  const errors: Record<string, { when: string; example: string; code: ApiErrorCode }> = Object.fromEntries(
    statuses.map((s) => [
      s,
      { when: COMMON_ERRORS[s].description, example: COMMON_ERRORS[s].message, code: COMMON_ERRORS[s].code },
    ]),
  );
  for (const [status, e] of Object.entries(spec.errors ?? {}) as [
    string,
    { when: string; example: string },
  ][]) {
    errors[status] = { ...e, code: ERROR_CODE[Number(status) as RouteSpecificError] };
  }
  const response: Record<string, unknown> = {};
  const examples: OperationExamples = { responses: {} };
  for (const [status, e] of Object.entries(errors)) {
    response[status] = { description: e.when, content: { 'application/json': { schema: errorEnvelope } } };
    examples.responses[status] = errorExample(e.code, e.example);
  }
  for (const [status, answer] of Object.entries(spec.responses as Record<string, SuccessSpec>)) {
    response[status] = answer.schema
      ? {
          description: answer.description,
          content: { [answer.contentType ?? 'application/json']: { schema: answer.schema } },
        }
      : z.undefined().describe(answer.description);
    if (answer.example !== undefined) examples.responses[status] = answer.example;
    else delete examples.responses[status];
  }
  if (spec.requestExample !== undefined) examples.request = spec.requestExample;
  const schema = {
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.querystring ? { querystring: spec.querystring } : {}),
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.body ? { body: spec.body } : {}),
    operationId: spec.operationId,
    summary: spec.summary,
    description: [
      spec.description,
      secured ? `Needs an API key with the \`${spec.scope}\` scope (or \`admin\`).` : 'Needs no API key.',
    ]
      .filter(Boolean)
      .join('\n\n'),
    tags: [spec.tag],
    security: secured ? [{ apiKey: [] }] : [],
    ...(secured ? { 'x-required-scope': spec.scope } : {}),
    [X_EXAMPLES]: examples,
    ...(spec.bodyOptional ? { [X_BODY_OPTIONAL]: true } : {}),
    response,
  };
  return {
    config: (secured ? { scope: spec.scope } : {}) as { scope?: Scope },
    schema: schema as unknown as RequestParts<S> & {
      operationId: string;
      summary: string;
      tags: string[];
      response: SuccessResponses<S['responses']> &
        Record<CommonErrorStatus | RouteSpecificError, ErrorResponse>;
    },
  };
}
