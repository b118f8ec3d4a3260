// The object verbs: list, get, create, update, patch, delete and deletecollection on the stored
// resources, with the API server's semantics for pagination (continue tokens over one snapshot,
// 410 once compacted), selectors, optimistic concurrency, patch formats (server-side apply
// included), field validation, dry runs and namespace lifecycle.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FaultDecision } from '../faults.js';
import type { Cluster } from '../world/types.js';
import { applyConfiguration } from './apply.js';
import { enforceFieldValidation, fieldValidationOf } from './field-validation.js';
import { applyJsonPatch, applyMergePatch, PatchError } from './patch.js';
import { matchesRequirements, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { KubeError, kubeErrors, successStatus } from './status.js';
import {
  KUBE_RESOURCES,
  KubeStoreError,
  type KubeObject,
  type KubeObjectInput,
  type KubeResource,
  type ListOptions,
  type ListResult,
} from './store.js';
import { message, RESOURCE_MESSAGES } from './schema.js';
import { renderTable, tableRequest } from './table.js';
import { asObjectInput, requireName, validateObject } from './validation.js';

export type ObjectVerb = 'list' | 'get' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ObjectRequest {
  cluster: Cluster;
  verb: ObjectVerb;
  resource: KubeResource;
  namespace?: string;
  name?: string;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when none was sent). */
  body: unknown;
  contentType: string;
  accept: string | undefined;
  now: Date;
  faults: FaultDecision;
}

export interface Reply {
  status: number;
  /** Serialised JSON (a Buffer for the one binary document, protobuf OpenAPI v2). */
  body: string | Buffer;
  /** Extra response headers; a list sends the header once per value (`Warning`). */
  headers?: Record<string, string | string[]>;
}

/** Namespaces the API server refuses to delete. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

// Stored versions are never mutated, so their JSON can be cached against the object itself.
const itemJson = new WeakMap<KubeObject, string>();
const objectJson = new WeakMap<KubeObject, string>();

/** An object as a list item: the API server omits apiVersion/kind on items of typed lists. */
function serializeItem(obj: KubeObject): string {
  let json = itemJson.get(obj);
  if (json === undefined) {
    const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
    json = JSON.stringify(rest);
    itemJson.set(obj, json);
  }
  return json;
}

function serializeObject(obj: KubeObject): string {
  let json = objectJson.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    objectJson.set(obj, json);
  }
  return json;
}

function apiVersionOf(resource: KubeResource): string {
  const info = KUBE_RESOURCES[resource];
  return info.group ? `${info.group}/${info.version}` : info.version;
}

function objectReply(req: ObjectRequest, obj: KubeObject, status = 200): Reply {
  const table = tableRequest(req.accept, req.query.get('includeObject'));
  return {
    status,
    body: table
      ? renderTable([obj], table, { resourceVersion: obj.metadata.resourceVersion })
      : serializeObject(obj),
  };
}

interface ContinueToken {
  revision: number;
  lastKey: string;
}

/** Continue tokens are opaque to clients: base64url of `{revision, lastKey}`. */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

/** Reads a continue token; anything we did not issue (or from the future) is a 400. */
export function decodeContinue(value: string, currentRevision: number): ContinueToken {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw new Error('illegal base64 data');
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch (err) {
    throw kubeErrors.badRequest(
      `continue key is not valid: ${err instanceof Error ? err.message : 'undecodable'}`,
    );
  }
  const token = parsed as Partial<ContinueToken> | null;
  if (
    typeof token !== 'object' ||
    token === null ||
    !Number.isInteger(token.revision) ||
    (token.revision ?? 0) < 1 ||
    typeof token.lastKey !== 'string' ||
    token.lastKey === ''
  ) {
    throw kubeErrors.badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
  if (token.revision! > currentRevision) {
    throw kubeErrors.badRequest('continue key is not valid: resource version is in the future');
  }
  return { revision: token.revision!, lastKey: token.lastKey };
}

function parseLimit(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw kubeErrors.badRequest(`invalid limit: ${JSON.stringify(value)}`);
  const limit = Number(value);
  return limit > 0 ? limit : undefined;
}

/** The API server's wording for a continue token it can no longer serve (etcd compaction). */
const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

function storeError(err: unknown, resource: KubeResource, name: string): never {
  if (err instanceof KubeStoreError) {
    switch (err.reason) {
      case 'AlreadyExists':
        throw kubeErrors.alreadyExists(resource, name);
      case 'NotFound':
        throw kubeErrors.notFound(resource, name);
      case 'Conflict':
        throw kubeErrors.staleObject(resource, name);
      case 'Expired':
        throw kubeErrors.expired(err.message);
    }
  }
  throw err;
}

function listOrExpire(req: ObjectRequest, options: ListOptions): ListResult {
  try {
    return req.cluster.kube.list(req.resource, options);
  } catch (err) {
    storeError(err, req.resource, '');
  }
}

/** The request's label and field selectors as one predicate; undefined when neither narrows. */
function selectorFilter(req: ObjectRequest): ((obj: KubeObject) => boolean) | undefined {
  const labelSelector = req.query.get('labelSelector') ?? '';
  const fieldSelector = req.query.get('fieldSelector') ?? '';
  const requirements = parseLabelSelector(labelSelector);
  const fieldTest = parseFieldSelector(fieldSelector, KUBE_RESOURCES[req.resource].namespaced);
  if (requirements.length === 0 && fieldSelector.trim() === '') return undefined;
  return (obj) => matchesRequirements(requirements, obj.metadata.labels) && fieldTest(obj);
}

function listBody(req: ObjectRequest, items: KubeObject[], metadata: Record<string, unknown>): string {
  let body = `{"kind":"${KUBE_RESOURCES[req.resource].kind}List","apiVersion":"${apiVersionOf(req.resource)}","metadata":${JSON.stringify(metadata)},"items":[`;
  for (let i = 0; i < items.length; i++) body += (i === 0 ? '' : ',') + serializeItem(items[i]!);
  return `${body}]}`;
}

/** GET on a collection: one page of a consistent snapshot, filtered by the selectors. */
export function listObjects(req: ObjectRequest): Reply {
  const store = req.cluster.kube;
  const q = req.query;
  const limit = parseLimit(q.get('limit'));
  const continueValue = q.get('continue') ?? '';
  const resourceVersion = q.get('resourceVersion') ?? '';
  const options: ListOptions = {
    ...(req.namespace === undefined ? {} : { namespace: req.namespace }),
    ...(limit === undefined ? {} : { limit }),
  };
  if (continueValue !== '') {
    if (resourceVersion !== '' && resourceVersion !== '0') {
      throw kubeErrors.badRequest('specifying resource version is not allowed when using continue');
    }
    if (req.faults.expireContinue) throw kubeErrors.expired(EXPIRED_MESSAGE);
    const token = decodeContinue(continueValue, store.currentRevision);
    if (req.namespace !== undefined && !token.lastKey.startsWith(`${req.namespace}/`)) {
      throw kubeErrors.badRequest('continue key is not valid: the token was issued for a different list');
    }
    options.atRevision = token.revision;
    options.afterKey = token.lastKey;
  } else if (resourceVersion !== '' && resourceVersion !== '0' && q.get('resourceVersionMatch') === 'Exact') {
    if (!/^\d+$/.test(resourceVersion)) {
      throw kubeErrors.badRequest(`invalid resource version: ${resourceVersion}`);
    }
    const rv = Number(resourceVersion);
    if (rv > store.currentRevision) throw kubeErrors.badRequest(`resource version ${rv} is in the future`);
    if (rv < store.compactedRevision) {
      throw kubeErrors.expired(`too old resource version: ${rv} (${store.compactedRevision})`);
    }
    options.atRevision = rv;
  }
  const filter = selectorFilter(req);
  if (filter) options.filter = filter;
  const filtered = filter !== undefined;
  const result = listOrExpire(req, options);
  const metadata: Record<string, unknown> = { resourceVersion: String(result.revision) };
  if (result.lastKey !== undefined) {
    metadata.continue = encodeContinue({ revision: result.revision, lastKey: result.lastKey });
    // As in Kubernetes, the count is only reported when no selector narrowed the list.
    if (!filtered && result.remaining !== undefined) metadata.remainingItemCount = result.remaining;
  }
  const table = tableRequest(req.accept, q.get('includeObject'));
  if (table) return { status: 200, body: renderTable(result.items, table, metadata) };
  return { status: 200, body: listBody(req, result.items, metadata) };
}

function existing(req: ObjectRequest, name: string): KubeObject {
  const obj = req.cluster.kube.get(req.resource, req.namespace, name);
  if (!obj) throw kubeErrors.notFound(req.resource, name);
  return obj;
}

/** GET on one object. */
export function getObject(req: ObjectRequest): Reply {
  return objectReply(req, existing(req, req.name!));
}

function dryRunOf(req: ObjectRequest, bodyDryRun?: unknown): boolean {
  const values = [
    ...req.query.getAll('dryRun'),
    ...(Array.isArray(bodyDryRun) ? (bodyDryRun as unknown[]) : []),
  ];
  for (const v of values) {
    if (v !== 'All') {
      throw kubeErrors.badRequest(`Invalid dry run value: ${JSON.stringify(v)}: supported values: "All"`);
    }
  }
  return values.length > 0;
}

/** Puts the request's namespace on the object, refusing a body that names another one. */
function placeInNamespace(req: ObjectRequest, input: KubeObjectInput): void {
  if (!KUBE_RESOURCES[req.resource].namespaced) {
    delete input.metadata.namespace;
    return;
  }
  const given = input.metadata.namespace;
  if (given !== undefined && given !== '' && given !== req.namespace) {
    throw kubeErrors.badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  input.metadata.namespace = req.namespace!;
}

function checkName(input: KubeObjectInput, name: string): void {
  if (input.metadata.name !== name) {
    throw kubeErrors.badRequest(
      `the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
}

function injectedConflict(req: ObjectRequest, name: string): void {
  if (req.faults.conflict) throw kubeErrors.staleObject(req.resource, name);
}

/** Lower-case letters and digits without vowels or look-alikes, as generateName suffixes use. */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

function requireBody(req: ObjectRequest): unknown {
  if (req.body === undefined) throw kubeErrors.badRequest('the request body is empty');
  return req.body;
}

function createFrom(req: ObjectRequest, input: KubeObjectInput, dryRun: boolean): Reply {
  const store = req.cluster.kube;
  const name = input.metadata.name;
  if (KUBE_RESOURCES[req.resource].namespaced && !store.get('namespaces', undefined, req.namespace!)) {
    throw kubeErrors.notFound('namespaces', req.namespace!);
  }
  validateObject(req.resource, input);
  if (store.get(req.resource, req.namespace, name)) throw kubeErrors.alreadyExists(req.resource, name);
  injectedConflict(req, name);
  if (dryRun) {
    const { resourceVersion: _rv, ...meta } = input.metadata;
    const preview = {
      ...input,
      apiVersion: apiVersionOf(req.resource),
      kind: KUBE_RESOURCES[req.resource].kind,
      metadata: {
        ...meta,
        uid: randomUUID(),
        creationTimestamp: req.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    } as KubeObject;
    return objectReply(req, preview, 201);
  }
  try {
    return objectReply(req, store.create(req.resource, input, req.now), 201);
  } catch (err) {
    storeError(err, req.resource, name);
  }
}

/**
 * Drops the body's unknown fields as the request's `fieldValidation` says (Strict refuses them)
 * and returns the `Warning` values to answer with.
 */
function checkFields(req: ObjectRequest, body: unknown): string[] {
  return enforceFieldValidation(message(RESOURCE_MESSAGES[req.resource]), body, fieldValidationOf(req.query));
}

function withWarnings(reply: Reply, warnings: string[]): Reply {
  return warnings.length === 0 ? reply : { ...reply, headers: { ...reply.headers, Warning: warnings } };
}

/** POST: validates, defaults and stores a new object (201). */
export function createObject(req: ObjectRequest): Reply {
  const body = requireBody(req);
  const warnings = checkFields(req, body);
  const input = asObjectInput(body, req.resource);
  requireName(req.resource, input, randomSuffix);
  placeInNamespace(req, input);
  return withWarnings(createFrom(req, input, dryRunOf(req)), warnings);
}

function replaceWith(
  req: ObjectRequest,
  input: KubeObjectInput,
  previous: KubeObject,
  dryRun: boolean,
): Reply {
  const name = previous.metadata.name;
  // A write that leaves managedFields out keeps the recorded ones, as on the API server.
  if (input.metadata.managedFields === undefined && previous.metadata.managedFields !== undefined) {
    input.metadata.managedFields = previous.metadata.managedFields;
  }
  validateObject(req.resource, input, previous);
  injectedConflict(req, name);
  const expected = input.metadata.resourceVersion;
  if (expected !== undefined && expected !== '' && expected !== previous.metadata.resourceVersion) {
    throw kubeErrors.staleObject(req.resource, name);
  }
  if (dryRun) {
    const preview = {
      ...input,
      apiVersion: previous.apiVersion,
      kind: previous.kind,
      metadata: {
        ...input.metadata,
        uid: previous.metadata.uid,
        creationTimestamp: previous.metadata.creationTimestamp,
        resourceVersion: previous.metadata.resourceVersion,
      },
    } as KubeObject;
    return objectReply(req, preview);
  }
  try {
    return objectReply(req, req.cluster.kube.update(req.resource, input));
  } catch (err) {
    storeError(err, req.resource, name);
  }
}

/** Kinds whose PUT creates a missing object (AllowCreateOnUpdate in the API server): the RBAC kinds. */
function createsOnUpdate(resource: KubeResource): boolean {
  return KUBE_RESOURCES[resource].group === 'rbac.authorization.k8s.io';
}

/** PUT: replaces an object, with optimistic concurrency on metadata.resourceVersion. */
export function updateObject(req: ObjectRequest): Reply {
  const name = req.name!;
  const body = requireBody(req);
  const warnings = checkFields(req, body);
  const input = asObjectInput(body, req.resource);
  checkName(input, name);
  placeInNamespace(req, input);
  const dryRun = dryRunOf(req);
  const previous = req.cluster.kube.get(req.resource, req.namespace, name);
  if (!previous) {
    if (!createsOnUpdate(req.resource)) throw kubeErrors.notFound(req.resource, name);
    return withWarnings(createFrom(req, input, dryRun), warnings);
  }
  return withWarnings(replaceWith(req, input, previous, dryRun), warnings);
}

/** The patch media types; `apply` is server-side apply. */
export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** A strategic merge patch without its `$`-prefixed directive keys, at every depth. */
function withoutDirectives(patch: unknown): unknown {
  if (Array.isArray(patch)) return patch.map(withoutDirectives);
  if (!isRecord(patch)) return patch;
  return Object.fromEntries(
    Object.entries(patch)
      .filter(([key]) => !key.startsWith('$'))
      .map(([key, value]) => [key, withoutDirectives(value)]),
  );
}

/** PATCH: merge, strategic-merge (as merge) or JSON patch, then the same checks as PUT. */
export function patchObject(req: ObjectRequest): Reply {
  if (req.contentType === PATCH_TYPES.apply) return applyObject(req);
  const name = req.name!;
  const previous = existing(req, name);
  const patch = requireBody(req);
  let patched: unknown;
  try {
    switch (req.contentType) {
      // Strategic merge patch is applied as a JSON merge patch. For the kinds served here that is
      // the same result: none of their lists (RBAC rules and subjects, finalizers) declares a
      // patch merge key, so strategic merge replaces them whole, exactly as merge patch does.
      // Its `$`-directives (`$patch`, `$retainKeys`, `$setElementOrder/…`) are dropped, not
      // interpreted: they are instructions, never fields to store or to report as unknown.
      case PATCH_TYPES.merge:
      case PATCH_TYPES.strategic:
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
          throw kubeErrors.badRequest('the merge patch is not a JSON object');
        }
        patched = applyMergePatch(
          structuredClone(previous),
          req.contentType === PATCH_TYPES.strategic ? withoutDirectives(patch) : patch,
        );
        break;
      case PATCH_TYPES.json:
        patched = applyJsonPatch(previous, patch);
        break;
      default:
        throw kubeErrors.unsupportedMediaType(req.contentType, Object.values(PATCH_TYPES));
    }
  } catch (err) {
    if (!(err instanceof PatchError)) throw err;
    if (err.kind === 'decode') throw kubeErrors.badRequest(err.message);
    // What the API server answers a JSON patch that does not apply (including a failed `test`).
    throw new KubeError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
      causes: [{ reason: 'FieldValueInvalid', message: err.message }],
    });
  }
  const warnings = checkFields(req, patched);
  const input = asObjectInput(patched, req.resource);
  checkName(input, name);
  if (KUBE_RESOURCES[req.resource].namespaced && input.metadata.namespace !== req.namespace) {
    throw kubeErrors.badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  return withWarnings(replaceWith(req, input, previous, dryRunOf(req)), warnings);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * PATCH with `application/apply-patch+yaml` (server-side apply, `kubectl apply --server-side`):
 * creates the object when it does not exist (201), else applies the configuration to it (200),
 * with field ownership and conflicts as `apply.ts` describes.
 */
export function applyObject(req: ObjectRequest): Reply {
  const name = req.name!;
  const info = KUBE_RESOURCES[req.resource];
  const manager = req.query.get('fieldManager') ?? '';
  if (manager === '') {
    throw new KubeError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: is required for apply patch',
            field: 'fieldManager',
          },
        ],
      },
    );
  }
  const config = requireBody(req);
  if (!isRecord(config)) throw kubeErrors.badRequest('the apply configuration is not an object');
  const apiVersion = apiVersionOf(req.resource);
  if (config.apiVersion !== apiVersion || config.kind !== info.kind) {
    throw kubeErrors.badRequest(
      `the apply configuration must have apiVersion ${JSON.stringify(apiVersion)} and kind ${JSON.stringify(info.kind)}`,
    );
  }
  const warnings = checkFields(req, config);
  const dryRun = dryRunOf(req);
  const previous = req.cluster.kube.get(req.resource, req.namespace, name);
  const applied = applyConfiguration(previous, config, {
    manager,
    force: req.query.get('force') === 'true',
    apiVersion,
    now: req.now,
    describe: { kind: req.resource, group: info.group, name },
  });
  const input = asObjectInput(applied, req.resource);
  checkName(input, name);
  placeInNamespace(req, input);
  if (!previous) return withWarnings(createFrom(req, input, dryRun), warnings);
  return withWarnings(replaceWith(req, input, previous, dryRun), warnings);
}

interface DeleteOptions {
  preconditions?: { uid?: unknown; resourceVersion?: unknown };
  dryRun?: unknown;
}

/** DELETE: honours preconditions and dry runs; a namespace takes its contents with it. */
export function deleteObject(req: ObjectRequest): Reply {
  const name = req.name!;
  const store = req.cluster.kube;
  const previous = existing(req, name);
  const options = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as DeleteOptions;
  const dryRun = dryRunOf(req, options.dryRun);
  if (req.resource === 'namespaces' && IMMORTAL_NAMESPACES.has(name)) {
    throw new KubeError(
      403,
      'Forbidden',
      `namespaces "${name}" is forbidden: this namespace may not be deleted`,
      { name, kind: 'namespaces' },
    );
  }
  const pre = options.preconditions ?? {};
  if (typeof pre.uid === 'string' && pre.uid !== '' && pre.uid !== previous.metadata.uid) {
    throw kubeErrors.conflict(
      req.resource,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${previous.metadata.uid}`,
    );
  }
  if (
    typeof pre.resourceVersion === 'string' &&
    pre.resourceVersion !== '' &&
    pre.resourceVersion !== previous.metadata.resourceVersion
  ) {
    throw kubeErrors.conflict(
      req.resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${previous.metadata.resourceVersion}`,
    );
  }
  injectedConflict(req, name);
  if (!dryRun) {
    try {
      store.delete(req.resource, req.namespace, name);
    } catch (err) {
      storeError(err, req.resource, name);
    }
    // Namespace deletion ends with its contents gone; the controller's work is done at once here.
    if (req.resource === 'namespaces') store.deleteNamespaceContents(name);
  }
  if (req.resource === 'namespaces') {
    const terminating = {
      ...previous,
      metadata: { ...previous.metadata, deletionTimestamp: req.now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      status: { phase: 'Terminating' },
    } as KubeObject;
    return objectReply(req, terminating);
  }
  return { status: 200, body: JSON.stringify(successStatus(req.resource, name, previous.metadata.uid)) };
}

/**
 * DELETE on a collection (deletecollection): deletes every object of the namespace that the label
 * and field selectors match, and answers with the list of what was deleted, as the API server
 * does. A dry run deletes nothing and answers the same list.
 */
export function deleteCollection(req: ObjectRequest): Reply {
  const store = req.cluster.kube;
  const options = (isRecord(req.body) ? req.body : {}) as DeleteOptions;
  const dryRun = dryRunOf(req, options.dryRun);
  const filter = selectorFilter(req);
  const matched = store.list(req.resource, {
    ...(req.namespace === undefined ? {} : { namespace: req.namespace }),
    ...(filter ? { filter } : {}),
  });
  const deleted: KubeObject[] = [];
  for (const obj of matched.items) {
    if (!dryRun) {
      try {
        store.delete(req.resource, req.namespace, obj.metadata.name);
      } catch (err) {
        // Deleted by another request since the list: not ours to report.
        if (err instanceof KubeStoreError && err.reason === 'NotFound') continue;
        throw err;
      }
    }
    deleted.push(obj);
  }
  return { status: 200, body: listBody(req, deleted, { resourceVersion: String(store.currentRevision) }) };
}

export const OBJECT_HANDLERS: Record<ObjectVerb, (req: ObjectRequest) => Reply> = {
  list: listObjects,
  get: getObject,
  create: createObject,
  update: updateObject,
  patch: patchObject,
  delete: deleteObject,
  deletecollection: deleteCollection,
};
