// buildApp(deps): the whole HTTP surface, with routes registered explicitly. main.ts only listens;
// tests call buildApp with real dependencies and drive it with app.inject().
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from './app-type.js';
import { authenticate, requireScope, type Caller, type Scope } from './auth.js';
import type { AppDeps } from './deps.js';
import {
  ApiError,
  RETRY_AFTER_SECONDS,
  toApiError,
  type ApiErrorCode,
  type ErrorEnvelope,
} from './errors.js';
import { assertStorableInput } from './input-guard.js';
import { registerOpenApi } from './openapi/document.js';
import { registerAccessRoutes } from './routes/access/index.js';
import { registerApiKeyRoutes } from './routes/api-keys/index.js';
import { registerClusterRoutes } from './routes/clusters/index.js';
import { registerEventRoutes } from './routes/events/index.js';
import { registerHealthRoutes } from './routes/health/index.js';
import { registerProvisioningRoutes } from './routes/provisioning/index.js';
import { registerSyncRoutes } from './routes/syncs/index.js';
import { registerUploadRoutes } from './routes/uploads/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, metrics, docs). */
    scope?: Scope;
  }
}

export type { App };

function errorBody(code: ApiErrorCode, message: string, requestId: string, details?: unknown): ErrorEnvelope {
  return {
    error: { code, message, requestId, ...(details === undefined ? {} : { details }) },
  } as ErrorEnvelope;
}

/** Builds the API with every route registered; call `ready()` (or inject) before use. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{8,100}$/.test(given) ? given : randomUUID();
    },
    requestTimeout: deps.config.REQUEST_TIMEOUT_MS,
    // No handler outlives the request timeout: past it the client gets a 503 it can retry.
    handlerTimeout: deps.config.REQUEST_TIMEOUT_MS,
    trustProxy: deps.config.TRUST_PROXY,
    bodyLimit: 1024 * 1024,
    // A path parameter may be a URL-encoded IAM ARN: up to 2,048 characters, three times that
    // encoded (find-my-way's default of 100 refused every SSO role ARN with its path).
    routerOptions: { maxParamLength: 3 * 2048 },
    // Errors raised before routing (a malformed URL) use the same envelope as every other error.
    frameworkErrors: (err, req, reply) => {
      const plain = reply as unknown as { status(code: number): { send(body: unknown): unknown } };
      void plain
        .status(400)
        .send(errorBody('VALIDATION_FAILED', `malformed request: ${err.message}`, req.id));
    },
    // Errors Node's HTTP parser raises before there is a request (headers too large, garbage).
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status =
        err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const message =
        status === 431
          ? 'the request headers are too large'
          : status === 408
            ? 'the request took too long to arrive'
            : 'the request is not valid HTTP';
      const body = JSON.stringify(errorBody('VALIDATION_FAILED', message, randomUUID()));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await registerOpenApi(app);

  app.addHook('onSend', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    deps.metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  // Authentication comes first, before the body is even parsed: an unauthenticated caller learns
  // nothing about what a valid request looks like.
  app.addHook('onRequest', async (req) => {
    const scope = req.routeOptions.config.scope;
    if (!scope) return;
    req.caller = await authenticate(req.headers.authorization, deps.verifyKey, deps.config.BOOTSTRAP_API_KEY);
    requireScope(req.caller, scope);
  });
  app.addHook('preValidation', async (req) => {
    // A body sent to a route that takes none would be dropped unread; refuse it like an unknown
    // field (an empty object says nothing, and some clients always send one).
    const body = req.body;
    const empty =
      body === undefined ||
      body === null ||
      (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
    if (!empty && !req.routeOptions.schema?.body) {
      throw new ApiError(
        'VALIDATION_FAILED',
        `${req.method} ${req.routeOptions.url ?? req.url} takes no request body`,
      );
    }
    assertStorableInput({ params: req.params, query: req.query, body: req.body });
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = toApiError(err);
    if (known) {
      if (known.code === 'UNAVAILABLE') {
        // Expected during an outage; the client is told when to come back.
        req.log.warn({ err: { message: err.message, code: err.code } }, 'dependency unavailable');
        void reply.header('retry-after', String(known.retryAfterSeconds ?? RETRY_AFTER_SECONDS));
      } else if (known.status >= 500) req.log.error({ err }, 'request failed');
      return reply.status(known.status).send(errorBody(known.code, known.message, req.id, known.details));
    }
    if (err.validation) {
      const details = err.validation.map(
        (v: { instancePath?: string; params?: unknown; message?: string }) => ({
          path: v.instancePath || (v.params as { issue?: { path?: unknown } } | undefined)?.issue?.path,
          message: v.message,
        }),
      );
      return reply
        .status(400)
        .send(
          errorBody(
            'VALIDATION_FAILED',
            `invalid ${err.validationContext ?? 'request'}: ${err.message}`,
            req.id,
            details,
          ),
        );
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (bad JSON, wrong content type, body too large).
      const code =
        err.statusCode === 404
          ? 'NOT_FOUND'
          : err.statusCode === 413 || err.statusCode === 415 || err.statusCode === 400
            ? 'VALIDATION_FAILED'
            : 'UNPROCESSABLE';
      return reply.status(err.statusCode).send(errorBody(code, err.message, req.id));
    }
    req.log.error({ err }, 'request failed');
    return reply
      .status(500)
      .send(errorBody('INTERNAL', 'internal error; the request id identifies it in the logs', req.id));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, req.id)),
  );

  registerHealthRoutes(app, deps);
  registerClusterRoutes(app, deps);
  registerSyncRoutes(app, deps);
  registerAccessRoutes(app, deps);
  registerProvisioningRoutes(app, deps);
  registerUploadRoutes(app, deps);
  registerApiKeyRoutes(app, deps);
  registerEventRoutes(app, deps);
  return app;
}
