// One EKS cluster's Kubernetes API endpoint, in the order the API server's filter chain runs:
// authenticate the EKS bearer token → impersonation (Impersonate-* headers) → apply injected
// faults (delay, 429, 5xx) → authorize (RBAC and access policies) → read the body (≤ 3 MiB; JSON,
// YAML or protobuf) → serve. Every failure is a Kubernetes Status. Watches stream chunked JSON
// events (watch.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { sleep, type Faults } from '../faults.js';
import type { Cluster } from '../world/types.js';
import type { World } from '../world/world.js';
import { authenticate, type KubeUser } from './authn.js';
import { authorize, forbidden, type RequestAttributes } from './authz.js';
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  objectVerbsFor,
  versionInfo,
} from './discovery.js';
import { OBJECT_HANDLERS, PATCH_TYPES, type ObjectVerb, type Reply } from './handlers.js';
import { headerLists, impersonate } from './impersonation.js';
import { openApiV2, openApiV2Protobuf, openApiV3, openApiV3Index } from './openapi.js';
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_ACCEPT } from './openapi-v2-protobuf.js';
import { decodeProtobufBody, PROTOBUF_MEDIA_TYPE, ProtobufError } from './protobuf.js';
import { handleReview } from './reviews.js';
import { matchRoute, type Route } from './routes.js';
import { messageForKind } from './schema.js';
import { KubeError, kubeErrors } from './status.js';
import { KUBE_RESOURCES } from './store.js';
import { serveWatch } from './watch.js';

export interface KubeHandlerDeps {
  cluster: () => Cluster | undefined;
  world: () => World;
  faults: Faults;
  now?: () => Date;
  /** How often a watch that allows bookmarks gets one. Default 60 s. */
  watchBookmarkMs?: number;
  /** Told about unexpected failures (answered as a 500 that hides the detail). */
  onError?: (err: unknown, auditId: string) => void;
}

/** The API server's default request body limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

type Verb = ObjectVerb | 'watch';

function objectVerb(method: string, hasName: boolean, query: URLSearchParams): Verb | undefined {
  switch (method) {
    case 'GET': {
      const watch = query.get('watch');
      if (watch === 'true' || watch === '1') return 'watch';
      return hasName ? 'get' : 'list';
    }
    case 'POST':
      return hasName ? undefined : 'create';
    case 'PUT':
      return hasName ? 'update' : undefined;
    case 'PATCH':
      return hasName ? 'patch' : undefined;
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) return Promise.reject(kubeErrors.tooLarge(MAX_BODY_BYTES));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        chunks.length = 0;
        reject(kubeErrors.tooLarge(MAX_BODY_BYTES));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

function parseJsonBody(raw: Buffer, what: 'object' | 'patch' | 'apply'): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : 'invalid JSON';
    throw kubeErrors.badRequest(
      what === 'object'
        ? `couldn't get version/kind; json parse error: ${detail}`
        : `error decoding patch: ${detail}`,
    );
  }
}

/** An apply configuration: YAML (JSON is YAML too). */
function parseYamlBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return parseYaml(raw.toString('utf8')) as unknown;
  } catch (err) {
    throw kubeErrors.badRequest(
      `error decoding YAML: ${err instanceof Error ? err.message : 'invalid YAML'}`,
    );
  }
}

function parseProtobufBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return decodeProtobufBody(raw, messageForKind);
  } catch (err) {
    if (err instanceof ProtobufError)
      throw kubeErrors.badRequest(`unable to decode the protobuf body: ${err.message}`);
    throw err;
  }
}

/** Decodes an object body by its media type: JSON (or none given), YAML and protobuf. */
function parseObjectBody(raw: Buffer, contentType: string): unknown {
  if (raw.length === 0) return undefined;
  if (contentType === PROTOBUF_MEDIA_TYPE) return parseProtobufBody(raw);
  if (contentType === 'application/yaml') return parseYamlBody(raw);
  if (contentType !== '' && contentType !== 'application/json' && contentType !== '*/*') {
    throw kubeErrors.unsupportedMediaType(contentType, [
      'application/json',
      'application/yaml',
      PROTOBUF_MEDIA_TYPE,
    ]);
  }
  return parseJsonBody(raw, 'object');
}

function send(res: ServerResponse, auditId: string, reply: Reply): void {
  if (res.headersSent) return;
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Audit-Id': auditId,
    ...reply.headers,
  };
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

function sendError(res: ServerResponse, auditId: string, err: KubeError): void {
  send(res, auditId, {
    status: err.code,
    body: JSON.stringify(err.toStatus()),
    headers: { ...err.headers, ...(err.code === 413 ? { Connection: 'close' } : {}) },
  });
}

type KnownRoute = Exclude<Route, { type: 'unknown' }>;

function faultOperation(route: KnownRoute, verb: Verb | undefined): string {
  switch (route.type) {
    case 'object':
      return `kube:${verb ?? 'unknown'}:${route.resource}`;
    case 'review':
      return `kube:create:${route.resource}`;
    case 'discovery':
    case 'version':
    case 'health':
    case 'openapi':
      return 'kube:discovery';
  }
}

function attributesOf(route: Route, verb: Verb | undefined, path: string, method: string): RequestAttributes {
  switch (route.type) {
    case 'object': {
      const { group } = KUBE_RESOURCES[route.resource];
      // For the namespaces resource the object's own name is the request namespace, as in RequestInfo.
      const namespace = route.namespace ?? (route.resource === 'namespaces' && route.name ? route.name : '');
      return {
        kind: 'resource',
        verb: verb ?? 'unknown',
        group,
        resource: route.resource,
        ...(route.subresource === undefined ? {} : { subresource: route.subresource }),
        namespace,
        name: route.name ?? '',
      };
    }
    case 'review':
      return {
        kind: 'resource',
        verb: 'create',
        group: route.group,
        resource: route.resource,
        namespace: '',
        name: '',
      };
    case 'discovery':
    case 'version':
    case 'health':
    case 'openapi':
    case 'unknown':
      // Non-resource requests are authorized with the lower-cased HTTP method as the verb.
      return { kind: 'nonResource', verb: method.toLowerCase(), path };
  }
}

/** The media types an Accept header lists, in order (parameters dropped). */
function acceptedTypes(accept: string | undefined): string[] {
  if (accept === undefined || accept.trim() === '') return ['*/*'];
  return accept.split(',').map((part) => mediaType(part));
}

function serveOpenApi(route: Extract<Route, { type: 'openapi' }>, accept: string | undefined): Reply {
  if (route.version === 'v2') {
    // The first acceptable of the two encodings: kubectl asks for protobuf alone.
    for (const type of acceptedTypes(accept)) {
      if (OPENAPI_V2_PROTOBUF_ACCEPT.includes(type)) {
        return { status: 200, body: openApiV2Protobuf(), headers: { 'Content-Type': OPENAPI_V2_PROTOBUF } };
      }
      if (type === 'application/json' || type === '*/*' || type === 'application/*') {
        return { status: 200, body: openApiV2() };
      }
    }
    throw kubeErrors.notAcceptable(['application/json', ...OPENAPI_V2_PROTOBUF_ACCEPT]);
  }
  if (route.document === '') return { status: 200, body: openApiV3Index() };
  const doc = openApiV3(route.document);
  if (!doc) throw kubeErrors.noRoute();
  return { status: 200, body: doc.body };
}

function serveDiscovery(
  route: Extract<Route, { type: 'discovery' | 'version' | 'health' }>,
  cluster: Cluster,
  host: string,
): Reply {
  const json = (value: unknown): Reply => ({ status: 200, body: JSON.stringify(value) });
  switch (route.type) {
    case 'version':
      return json(versionInfo(cluster));
    case 'health':
      return { status: 200, body: 'ok', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
    case 'discovery': {
      const doc =
        route.path === 'api'
          ? apiVersions(host)
          : route.path === 'apis'
            ? apiGroupList()
            : route.path === 'group'
              ? apiGroupDocument(route.group)
              : apiResourceList(route.group, route.version);
      if (!doc) throw kubeErrors.noRoute();
      return json(doc);
    }
  }
}

interface Context {
  deps: KubeHandlerDeps;
  req: IncomingMessage;
  res: ServerResponse;
  auditId: string;
}

async function serve({ deps, req, res, auditId }: Context): Promise<void> {
  const cluster = deps.cluster();
  if (!cluster) throw kubeErrors.serverError(503);
  const now = deps.now?.() ?? new Date();
  const method = (req.method ?? 'GET').toUpperCase();
  const rawUrl = req.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  const path = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
  const query = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
  const route = matchRoute(path);
  const isPublic = route.type === 'version' || route.type === 'health';

  let user: KubeUser | undefined;
  const authorization = req.headers.authorization;
  if (authorization !== undefined || !isPublic) {
    const result = authenticate(authorization, { cluster, world: deps.world(), now });
    if (!result.ok) throw kubeErrors.unauthorized();
    // Impersonation sits between authentication and everything else, as in the API server.
    user = impersonate(cluster, result.user, headerLists(req.headersDistinct));
  }

  const verb = route.type === 'object' ? objectVerb(method, route.name !== undefined, query) : undefined;
  if (route.type === 'object') {
    if (route.subresource) throw kubeErrors.noRoute();
    const namespaced = KUBE_RESOURCES[route.resource].namespaced;
    // deletecollection is served per namespace only, and never on namespaces themselves.
    const served =
      verb !== undefined &&
      objectVerbsFor(route.resource).includes(verb) &&
      !(verb === 'deletecollection' && namespaced && route.namespace === undefined);
    if (!served) throw kubeErrors.methodNotAllowed();
  }
  if (route.type === 'review' && method !== 'POST') throw kubeErrors.methodNotAllowed();
  if ((route.type === 'discovery' || route.type === 'openapi' || isPublic) && method !== 'GET') {
    throw kubeErrors.methodNotAllowed();
  }

  if (route.type === 'unknown') {
    // Unknown paths are authorized as non-resource URLs first, then 404, as the real server does.
    const attrs = attributesOf(route, verb, path, method);
    if (user && !authorize(cluster, user, attrs).allowed) throw forbidden(user, attrs);
    throw kubeErrors.noRoute();
  }

  const decision = deps.faults.decide(faultOperation(route, verb), {
    cluster: cluster.name,
    account: cluster.accountId,
  });
  await sleep(decision.delayMs);
  if (decision.throttle) throw kubeErrors.tooManyRequests(decision.retryAfterSeconds);
  if (decision.errorStatus !== undefined) throw kubeErrors.serverError(decision.errorStatus);
  if (user) {
    const attrs = attributesOf(route, verb, path, method);
    if (!authorize(cluster, user, attrs).allowed) throw forbidden(user, attrs);
  }

  switch (route.type) {
    case 'version':
    case 'health':
    case 'discovery':
      send(res, auditId, serveDiscovery(route, cluster, req.headers.host ?? '127.0.0.1:443'));
      return;
    case 'openapi':
      send(res, auditId, serveOpenApi(route, req.headers.accept));
      return;
    case 'review': {
      const body = parseObjectBody(await readBody(req), mediaType(req.headers['content-type']));
      send(res, auditId, handleReview(cluster, user!, route.resource, body));
      return;
    }
    case 'object': {
      if (verb === 'watch') {
        serveWatch(
          {
            cluster,
            resource: route.resource,
            ...(route.namespace === undefined ? {} : { namespace: route.namespace }),
            ...(route.name === undefined ? {} : { name: route.name }),
            query,
            accept: req.headers.accept,
            faults: decision,
            auditId,
            ...(deps.watchBookmarkMs === undefined ? {} : { bookmarkIntervalMs: deps.watchBookmarkMs }),
          },
          res,
        );
        return;
      }
      const contentType = mediaType(req.headers['content-type']);
      const body = await readObjectBody(req, method, contentType);
      const objectVerbName = verb as ObjectVerb;
      send(
        res,
        auditId,
        OBJECT_HANDLERS[objectVerbName]({
          cluster,
          verb: objectVerbName,
          resource: route.resource,
          ...(route.namespace === undefined ? {} : { namespace: route.namespace }),
          ...(route.name === undefined ? {} : { name: route.name }),
          query,
          body,
          contentType,
          accept: req.headers.accept,
          now,
          faults: decision,
        }),
      );
      return;
    }
  }
}

/**
 * Reads and parses the body of a write. PATCH must name a patch format (an apply configuration
 * is YAML); other writes are JSON or protobuf, which kubectl's typed commands send.
 */
async function readObjectBody(req: IncomingMessage, method: string, contentType: string): Promise<unknown> {
  if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') return undefined;
  const raw = await readBody(req);
  if (method === 'PATCH') {
    const accepted: string[] = Object.values(PATCH_TYPES);
    if (!accepted.includes(contentType)) throw kubeErrors.unsupportedMediaType(contentType, accepted);
    return contentType === PATCH_TYPES.apply ? parseYamlBody(raw) : parseJsonBody(raw, 'patch');
  }
  return parseObjectBody(raw, contentType);
}

/** Builds the request handler for one cluster's HTTPS endpoint. */
export function createKubeRequestHandler(
  deps: KubeHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const auditId = randomUUID();
    serve({ deps, req, res, auditId }).catch((err: unknown) => {
      if (err instanceof KubeError) {
        sendError(res, auditId, err);
        return;
      }
      deps.onError?.(err, auditId);
      sendError(res, auditId, kubeErrors.serverError(500));
    });
  };
}
