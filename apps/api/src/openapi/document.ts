// The OpenAPI document: @fastify/swagger collects the routes, fastify-type-provider-zod turns their
// zod schemas into JSON Schema (named schemas become components), and `finish` below completes it:
// examples where the routes put them, the shared error answers as `components.responses`, and only
// the components something refers to.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { App } from '../app-type.js';
import { openApiDocumentOut } from '../routes/health/schemas.js';
import {
  COMMON_ERRORS,
  TAGS,
  X_BODY_OPTIONAL,
  X_EXAMPLES,
  errorExample,
  route,
  type OperationExamples,
} from './route.js';

/** The parts of an OpenAPI 3.0 document this module and the contract checker read. */
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: {
    schemas?: Record<string, unknown>;
    responses?: Record<string, OpenApiResponse>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
export interface OpenApiOperation {
  operationId?: string;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown; example?: unknown }> };
  responses: Record<string, OpenApiResponse | { $ref: string }>;
  [k: string]: unknown;
}
export interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema?: unknown; example?: unknown }>;
  headers?: Record<string, unknown>;
}

const ERROR_REF = '#/components/schemas/ErrorEnvelope';

function commonResponses(): Record<string, OpenApiResponse> {
  return Object.fromEntries(
    Object.values(COMMON_ERRORS).map((e) => [
      e.name,
      {
        description: e.description,
        headers: {
          'x-request-id': { description: 'The request id, also in the body.', schema: { type: 'string' } },
          ...(e.code === 'UNAVAILABLE'
            ? {
                'retry-after': {
                  description: 'Seconds to wait before retrying.',
                  schema: { type: 'integer', example: 5 },
                },
              }
            : {}),
        },
        content: {
          'application/json': {
            schema: { $ref: ERROR_REF },
            example: errorExample(e.code, e.message, 'details' in e ? e.details : undefined),
          },
        },
      },
    ]),
  );
}

/** Every `$ref` target under `value`. */
function refsIn(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/** Drops the schemas nothing refers to (the registry holds an input and an output form of each). */
function pruneSchemas(doc: OpenApiDocument): void {
  const schemas = doc.components?.schemas ?? {};
  const prefix = '#/components/schemas/';
  const keep = new Set<string>();
  const pending = [...refsIn({ paths: doc.paths, responses: doc.components?.responses }, new Set())];
  while (pending.length > 0) {
    const ref = pending.pop()!;
    if (!ref.startsWith(prefix)) continue;
    const name = ref.slice(prefix.length);
    if (keep.has(name) || !(name in schemas)) continue;
    keep.add(name);
    pending.push(...refsIn(schemas[name], new Set()));
  }
  doc.components!.schemas = Object.fromEntries(
    Object.entries(schemas)
      .filter(([name]) => keep.has(name))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * Tidies what zod emits for OpenAPI 3.0, everywhere in the document:
 * - `readOnly` goes: zod marks the model's readonly arrays with it, which in OpenAPI means "never
 *   sent in a request" and only clutters generated clients (every schema is a request's or an answer's);
 * - `{ allOf: [X] }` (zod's wrapper for an optional `$ref`) becomes X;
 * - a nullable enum lists `null`, which OpenAPI 3.0.3 requires for null to be valid.
 */
function tidy(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) tidy(v);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const schema = value as Record<string, unknown>;
  delete schema.readOnly;
  const allOf = schema.allOf;
  if (
    Array.isArray(allOf) &&
    allOf.length === 1 &&
    Object.keys(schema).every((k) => k === 'allOf' || k === 'description')
  ) {
    delete schema.allOf;
    // A $ref admits no siblings in OpenAPI 3.0: the referenced schema's own description stands.
    if ('$ref' in (allOf[0] as object)) delete schema.description;
    Object.assign(schema, allOf[0]);
  }
  if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null))
    schema.enum = [...(schema.enum as unknown[]), null];
  for (const [key, v] of Object.entries(schema)) if (key !== 'example') tidy(v);
}

/** Moves the routes' examples into place and refers to the shared error answers. */
function finish(doc: OpenApiDocument): OpenApiDocument {
  doc.components = { ...doc.components, responses: commonResponses() };
  for (const operations of Object.values(doc.paths)) {
    for (const op of Object.values(operations)) {
      const examples = op[X_EXAMPLES] as OperationExamples | undefined;
      delete op[X_EXAMPLES];
      if (op[X_BODY_OPTIONAL] && op.requestBody) op.requestBody.required = false;
      delete op[X_BODY_OPTIONAL];
      const body = op.requestBody?.content?.['application/json'];
      if (body && examples?.request !== undefined) body.example = examples.request;
      for (const [status, response] of Object.entries(op.responses)) {
        if ('$ref' in response) continue;
        const common = COMMON_ERRORS[Number(status) as keyof typeof COMMON_ERRORS] as
          (typeof COMMON_ERRORS)[keyof typeof COMMON_ERRORS] | undefined;
        const media = response.content && Object.values(response.content)[0];
        if (
          common &&
          response.description === common.description &&
          (media?.schema as { $ref?: string } | undefined)?.$ref === ERROR_REF
        ) {
          op.responses[status] = { $ref: `#/components/responses/${common.name}` };
          continue;
        }
        if (media && examples?.responses[status] !== undefined) media.example = examples.responses[status];
      }
    }
  }
  tidy(doc.paths);
  tidy(doc.components.schemas);
  pruneSchemas(doc);
  return doc;
}

/** Registers @fastify/swagger (the document), Swagger UI at /docs, and GET /openapi.json. */
export async function registerOpenApi(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'eks-access-connector API',
        version: '0.1.0',
        description:
          'Who can get into which EKS cluster, with what: register clusters, sync them, read their snapshots and the access of any IAM principal, and request grants and revokes.\n\nEvery error answers with the same envelope `{ "error": { "code", "message", "requestId" } }`; the request id is also in the `x-request-id` header.',
      },
      servers: [
        {
          url: '/',
          description: 'The API that serves this document (docker compose: http://localhost:8080)',
        },
      ],
      tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'API key',
            description:
              'An API key (`eak_…`, from POST /v1/api-keys or `eks-access-api create-key`) as `Authorization: Bearer <key>`. Each operation names the scope it needs; `admin` implies every scope.',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) =>
      finish(jsonSchemaTransformObject(input) as unknown as OpenApiDocument) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const options = route({
    operationId: 'getOpenApiDocument',
    summary: 'Read this OpenAPI document',
    tag: 'operations',
    scope: 'public',
    method: 'GET',
    responses: {
      200: {
        description: 'The OpenAPI 3.0 document of this API.',
        schema: openApiDocumentOut,
        example: {
          openapi: '3.0.3',
          info: { title: 'eks-access-connector API', version: '0.1.0' },
          paths: { '/v1/clusters': {} },
        },
      },
    },
  });
  app.get(
    '/openapi.json',
    options,
    async () =>
      app.swagger() as unknown as {
        openapi: string;
        info: { title: string; version: string };
        paths: Record<string, unknown>;
      },
  );
}
