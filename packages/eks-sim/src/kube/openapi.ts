// The OpenAPI documents the API server publishes, generated from schema.ts for exactly what this
// emulator serves: `/openapi/v3` (an index of group-versions), `/openapi/v3/api/v1` and
// `/openapi/v3/apis/<group>/v1`, and `/openapi/v2` (one Swagger 2.0 document, in JSON or in the
// protobuf encoding kubectl asks for). kubectl reads v3
// for `kubectl explain` (schemas found by their `x-kubernetes-group-version-kind`) and to learn
// that the server validates fields itself: a PATCH operation of the kind that lists the
// `fieldValidation` query parameter, which is why every object path carries its operations.
// Documents are built once per process: they only depend on the code.
import { createHash } from 'node:crypto';
import { REVIEW_GROUPS, objectVerbsFor, type ReviewGroup } from './discovery.js';
import { encodeOpenApiV2 } from './openapi-v2-protobuf.js';
import { message, RESOURCE_MESSAGES, type FieldSpec, type MessageSpec } from './schema.js';
import { KUBE_RESOURCES, type KubeResource } from './store.js';

type Flavor = 'v2' | 'v3';
type Doc = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const TIME_ID = `${META}.Time`;
const FIELDS_V1_ID = `${META}.FieldsV1`;
const PATCH_ID = `${META}.Patch`;
const STATUS_ID = `${META}.Status`;
const LIST_META_ID = `${META}.ListMeta`;

/** Schemas that are not messages of schema.ts: leaves and the envelope types of responses. */
const EXTRA_SCHEMAS: Record<string, Doc> = {
  [TIME_ID]: {
    description: 'An RFC 3339 date and time, to the second.',
    type: 'string',
    format: 'date-time',
  },
  [FIELDS_V1_ID]: { description: 'A set of fields, as a JSON trie.', type: 'object' },
  [PATCH_ID]: { description: 'A patch document, in the format the Content-Type names.', type: 'object' },
  [LIST_META_ID]: {
    description: 'Metadata of a list.',
    type: 'object',
    properties: {
      continue: { description: 'Pass as `continue` to fetch the next page.', type: 'string' },
      remainingItemCount: {
        description: 'Items after this page, when known.',
        type: 'integer',
        format: 'int64',
      },
      resourceVersion: { description: 'The version the list was served at.', type: 'string' },
    },
  },
  [STATUS_ID]: {
    description: 'The result of an operation that returns no object, and every error.',
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      code: { description: 'The HTTP status code.', type: 'integer', format: 'int32' },
      message: { description: 'A human-readable description.', type: 'string' },
      reason: { description: 'A machine-readable reason.', type: 'string' },
      status: { description: 'Success or Failure.', type: 'string' },
    },
  },
};

function refTo(id: string, flavor: Flavor): string {
  return flavor === 'v2' ? `#/definitions/${id}` : `#/components/schemas/${id}`;
}

/** A reference with siblings: v3 wraps it in allOf (siblings of $ref are ignored there). */
function refSchema(id: string, flavor: Flavor, description?: string): Doc {
  const base: Doc =
    flavor === 'v3' ? { allOf: [{ $ref: refTo(id, flavor) }], default: {} } : { $ref: refTo(id, flavor) };
  return description === undefined ? base : { ...base, description };
}

function itemSchema(field: FieldSpec, flavor: Flavor): Doc {
  const type = field.type;
  if ('ref' in type) return refSchema(message(type.ref).id, flavor);
  if ('map' in type) {
    const value =
      type.map === 'string'
        ? { type: 'string', default: '' }
        : type.map === 'bytes'
          ? { type: 'string', format: 'byte' }
          : { type: 'array', items: { type: 'string', default: '' } };
    return { type: 'object', additionalProperties: value };
  }
  switch (type.scalar) {
    case 'string':
      return { type: 'string' };
    case 'bytes':
      return { type: 'string', format: 'byte' };
    case 'bool':
      return { type: 'boolean' };
    case 'int32':
      return { type: 'integer', format: 'int32' };
    case 'int64':
      return { type: 'integer', format: 'int64' };
    case 'time':
      return refSchema(TIME_ID, flavor);
    case 'object':
      return refSchema(FIELDS_V1_ID, flavor);
  }
}

function propertySchema(field: FieldSpec, flavor: Flavor): Doc {
  if (field.repeated) {
    return {
      description: field.description,
      type: 'array',
      items: itemSchema(field, flavor),
      'x-kubernetes-list-type': 'atomic',
    };
  }
  const item = itemSchema(field, flavor);
  return { ...item, description: field.description };
}

function messageSchema(spec: MessageSpec, flavor: Flavor): Doc {
  const required = spec.fields.filter((f) => f.required).map((f) => f.name);
  return {
    description: spec.description,
    type: 'object',
    ...(required.length > 0 ? { required } : {}),
    properties: Object.fromEntries(spec.fields.map((f) => [f.name, propertySchema(f, flavor)])),
    ...(spec.gvk ? { 'x-kubernetes-group-version-kind': [spec.gvk] } : {}),
  };
}

function listSchema(spec: MessageSpec, flavor: Flavor): Doc {
  const kind = spec.gvk!.kind;
  return {
    description: `A list of ${kind} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { description: 'The versioned schema of this object.', type: 'string' },
      kind: { description: `${kind}List.`, type: 'string' },
      metadata: refSchema(LIST_META_ID, flavor, 'Standard list metadata.'),
      items: { description: `The ${kind} objects.`, type: 'array', items: refSchema(spec.id, flavor) },
    },
    'x-kubernetes-group-version-kind': [{ ...spec.gvk, kind: `${kind}List` }],
  };
}

/** Every message id reachable from `roots` (by name), in a stable order. */
function reachable(roots: string[]): MessageSpec[] {
  const seen = new Map<string, MessageSpec>();
  const visit = (name: string) => {
    const spec = message(name);
    if (seen.has(spec.id)) return;
    seen.set(spec.id, spec);
    for (const f of spec.fields) if ('ref' in f.type) visit(f.type.ref);
  };
  roots.forEach(visit);
  return [...seen.values()];
}

function schemasFor(roots: string[], listKinds: string[], flavor: Flavor): Record<string, Doc> {
  const out: Record<string, Doc> = { ...EXTRA_SCHEMAS };
  for (const spec of reachable(roots)) out[spec.id] = messageSchema(spec, flavor);
  for (const name of listKinds) {
    const spec = message(name);
    out[`${spec.id}List`] = listSchema(spec, flavor);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

interface Param {
  name: string;
  description: string;
  type?: 'string' | 'boolean' | 'integer';
}

const QUERY: Record<string, Param> = {
  dryRun: { name: 'dryRun', description: '"All" processes the request without persisting it.' },
  fieldManager: { name: 'fieldManager', description: 'The name of the actor making the change.' },
  fieldValidation: {
    name: 'fieldValidation',
    description: 'What to do with unknown fields: Ignore, Warn (default) or Strict.',
  },
  force: {
    name: 'force',
    description: 'Apply requests only: take over conflicting fields.',
    type: 'boolean',
  },
  labelSelector: { name: 'labelSelector', description: 'Only objects whose labels match.' },
  fieldSelector: { name: 'fieldSelector', description: 'Only objects whose fields match.' },
  limit: { name: 'limit', description: 'Most items per page.', type: 'integer' },
  continue: { name: 'continue', description: 'The token of the next page.' },
  resourceVersion: { name: 'resourceVersion', description: 'Serve the list at this version.' },
};

function queryParam(p: Param, flavor: Flavor): Doc {
  const type = p.type ?? 'string';
  return flavor === 'v2'
    ? { uniqueItems: true, type, description: p.description, name: p.name, in: 'query' }
    : { name: p.name, in: 'query', description: p.description, schema: { type, uniqueItems: true } };
}

function pathParam(name: 'name' | 'namespace', flavor: Flavor): Doc {
  const description = name === 'name' ? 'The name of the object.' : 'The namespace of the objects.';
  return flavor === 'v2'
    ? { uniqueItems: true, type: 'string', description, name, in: 'path', required: true }
    : { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}

const PATCH_MEDIA_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

function bodyOf(schemaId: string, flavor: Flavor, mediaTypes = ['application/json']): Doc {
  return flavor === 'v2'
    ? {
        parameters: [{ name: 'body', in: 'body', required: true, schema: { $ref: refTo(schemaId, flavor) } }],
      }
    : {
        requestBody: {
          content: Object.fromEntries(
            mediaTypes.map((m) => [m, { schema: { $ref: refTo(schemaId, flavor) } }]),
          ),
          required: true,
        },
      };
}

function responses(codes: Record<string, string>, flavor: Flavor): Doc {
  return Object.fromEntries(
    Object.entries(codes).map(([code, id]) => [
      code,
      flavor === 'v2'
        ? { description: code === '201' ? 'Created' : 'OK', schema: { $ref: refTo(id, flavor) } }
        : {
            description: code === '201' ? 'Created' : 'OK',
            content: { 'application/json': { schema: { $ref: refTo(id, flavor) } } },
          },
    ]),
  );
}

interface OperationInput {
  id: string;
  action: string;
  gvk: { group: string; version: string; kind: string };
  query: Param[];
  body?: { schemaId: string; mediaTypes?: string[] };
  responses: Record<string, string>;
  description: string;
}

function operation(op: OperationInput, flavor: Flavor): Doc {
  const body = op.body ? bodyOf(op.body.schemaId, flavor, op.body.mediaTypes) : {};
  const params = op.query.map((p) => queryParam(p, flavor));
  const bodyParams = (body.parameters as Doc[] | undefined) ?? [];
  return {
    description: op.description,
    operationId: op.id,
    ...(flavor === 'v2' ? { consumes: op.body?.mediaTypes ?? ['*/*'], produces: ['application/json'] } : {}),
    ...(params.length + bodyParams.length > 0 ? { parameters: [...bodyParams, ...params] } : {}),
    ...(body.requestBody ? { requestBody: body.requestBody } : {}),
    responses: responses(op.responses, flavor),
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': op.gvk,
  };
}

function camel(resourceKind: string, group: string): string {
  const groupPart =
    group === '' ? 'CoreV1' : `${group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase())}V1`;
  return `${groupPart}${resourceKind}`;
}

/** The paths of one stored resource: collection, object and (namespaced) all-namespaces list. */
function resourcePaths(resource: KubeResource, flavor: Flavor): Record<string, Doc> {
  const info = KUBE_RESOURCES[resource];
  const spec = message(RESOURCE_MESSAGES[resource]);
  const gvk = spec.gvk!;
  const verbs = objectVerbsFor(resource);
  const prefix = info.group === '' ? '/api/v1' : `/apis/${info.group}/v1`;
  const scoped = info.namespaced ? `${prefix}/namespaces/{namespace}/${resource}` : `${prefix}/${resource}`;
  const op = (name: string) => camel(`${name}`, info.group);
  const ns = info.namespaced ? 'Namespaced' : '';
  const write = [QUERY.dryRun!, QUERY.fieldManager!, QUERY.fieldValidation!];
  const listQuery = [
    QUERY.labelSelector!,
    QUERY.fieldSelector!,
    QUERY.limit!,
    QUERY.continue!,
    QUERY.resourceVersion!,
  ];
  const pathLevel = (names: ('name' | 'namespace')[]) =>
    names.length > 0 ? { parameters: names.map((n) => pathParam(n, flavor)) } : {};

  const collection: Doc = {
    get: operation(
      {
        id: op(`list${ns}${info.kind}`),
        action: 'list',
        gvk,
        query: listQuery,
        responses: { '200': `${spec.id}List` },
        description: `list or watch objects of kind ${info.kind}`,
      },
      flavor,
    ),
    post: operation(
      {
        id: op(`create${ns}${info.kind}`),
        action: 'post',
        gvk,
        query: write,
        body: { schemaId: spec.id },
        responses: { '200': spec.id, '201': spec.id },
        description: `create a ${info.kind}`,
      },
      flavor,
    ),
    ...(verbs.includes('deletecollection')
      ? {
          delete: operation(
            {
              id: op(`deleteCollection${ns}${info.kind}`),
              action: 'deletecollection',
              gvk,
              query: [QUERY.dryRun!, QUERY.labelSelector!, QUERY.fieldSelector!],
              responses: { '200': STATUS_ID },
              description: `delete collection of ${info.kind}`,
            },
            flavor,
          ),
        }
      : {}),
    ...pathLevel(info.namespaced ? ['namespace'] : []),
  };
  const object: Doc = {
    get: operation(
      {
        id: op(`read${ns}${info.kind}`),
        action: 'get',
        gvk,
        query: [],
        responses: { '200': spec.id },
        description: `read the specified ${info.kind}`,
      },
      flavor,
    ),
    put: operation(
      {
        id: op(`replace${ns}${info.kind}`),
        action: 'put',
        gvk,
        query: write,
        body: { schemaId: spec.id },
        responses: { '200': spec.id, '201': spec.id },
        description: `replace the specified ${info.kind}`,
      },
      flavor,
    ),
    patch: operation(
      {
        id: op(`patch${ns}${info.kind}`),
        action: 'patch',
        gvk,
        query: [...write, QUERY.force!],
        body: { schemaId: PATCH_ID, mediaTypes: PATCH_MEDIA_TYPES },
        responses: { '200': spec.id, '201': spec.id },
        description: `partially update the specified ${info.kind}`,
      },
      flavor,
    ),
    delete: operation(
      {
        id: op(`delete${ns}${info.kind}`),
        action: 'delete',
        gvk,
        query: [QUERY.dryRun!],
        body: { schemaId: `${META}.DeleteOptions` },
        responses: { '200': STATUS_ID },
        description: `delete a ${info.kind}`,
      },
      flavor,
    ),
    ...pathLevel(info.namespaced ? ['name', 'namespace'] : ['name']),
  };
  const paths: Record<string, Doc> = { [scoped]: collection, [`${scoped}/{name}`]: object };
  if (info.namespaced) {
    paths[`${prefix}/${resource}`] = {
      get: operation(
        {
          id: op(`list${info.kind}ForAllNamespaces`),
          action: 'list',
          gvk,
          query: listQuery,
          responses: { '200': `${spec.id}List` },
          description: `list or watch objects of kind ${info.kind} in every namespace`,
        },
        flavor,
      ),
    };
  }
  return paths;
}

function reviewPaths(group: ReviewGroup, flavor: Flavor): Record<string, Doc> {
  const paths: Record<string, Doc> = {};
  for (const review of REVIEW_GROUPS[group]) {
    const spec = message(review.kind);
    paths[`/apis/${group}/v1/${review.name}`] = {
      post: operation(
        {
          id: camel(`create${review.kind}`, group),
          action: 'post',
          gvk: spec.gvk!,
          query: [QUERY.dryRun!, QUERY.fieldManager!, QUERY.fieldValidation!],
          body: { schemaId: spec.id },
          responses: { '201': spec.id },
          description: `create a ${review.kind}`,
        },
        flavor,
      ),
    };
  }
  return paths;
}

/** The group-versions served, as `/openapi/v3` names them (`api/v1`, `apis/<group>/v1`). */
function groupVersions(): { path: string; group: string }[] {
  const groups = new Set<string>(['']);
  for (const info of Object.values(KUBE_RESOURCES)) groups.add(info.group);
  for (const group of Object.keys(REVIEW_GROUPS)) groups.add(group);
  return [...groups].map((group) => ({ path: group === '' ? 'api/v1' : `apis/${group}/v1`, group }));
}

function groupContent(
  group: string,
  flavor: Flavor,
): { paths: Record<string, Doc>; roots: string[]; lists: string[] } {
  const resources = (Object.keys(KUBE_RESOURCES) as KubeResource[]).filter(
    (r) => KUBE_RESOURCES[r].group === group,
  );
  const paths: Record<string, Doc> = {};
  const roots: string[] = [];
  for (const r of resources) {
    Object.assign(paths, resourcePaths(r, flavor));
    roots.push(RESOURCE_MESSAGES[r]);
  }
  const reviews = REVIEW_GROUPS[group as ReviewGroup] as (typeof REVIEW_GROUPS)[ReviewGroup] | undefined;
  if (reviews) {
    Object.assign(paths, reviewPaths(group as ReviewGroup, flavor));
    roots.push(...reviews.map((r) => r.kind));
  }
  if (resources.length > 0) roots.push('DeleteOptions');
  return { paths, roots, lists: resources.map((r) => RESOURCE_MESSAGES[r]) };
}

function info(): Doc {
  return { title: 'Kubernetes', version: 'v1' };
}

function v3Document(group: string): Doc {
  const { paths, roots, lists } = groupContent(group, 'v3');
  return {
    openapi: '3.0.0',
    info: info(),
    paths,
    components: { schemas: schemasFor(roots, lists, 'v3') },
  };
}

interface Rendered {
  body: string;
  hash: string;
}

let cache: { v2: string; v2Protobuf: Buffer; v3: Map<string, Rendered>; index: string } | undefined;

function render(): NonNullable<typeof cache> {
  if (cache) return cache;
  const v3 = new Map<string, Rendered>();
  for (const gv of groupVersions()) {
    const body = JSON.stringify(v3Document(gv.group));
    v3.set(gv.path, { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
  }
  const index = JSON.stringify({
    paths: Object.fromEntries(
      [...v3].map(([path, doc]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` }]),
    ),
  });
  const paths: Record<string, Doc> = {};
  const roots: string[] = [];
  const lists: string[] = [];
  for (const gv of groupVersions()) {
    const content = groupContent(gv.group, 'v2');
    Object.assign(paths, content.paths);
    roots.push(...content.roots);
    lists.push(...content.lists);
  }
  const v2Doc = { swagger: '2.0', info: info(), paths, definitions: schemasFor(roots, lists, 'v2') };
  cache = { v2: JSON.stringify(v2Doc), v2Protobuf: encodeOpenApiV2(v2Doc), v3, index };
  return cache;
}

/** `/openapi/v2`: one Swagger 2.0 document (JSON) for everything served. */
export function openApiV2(): string {
  return render().v2;
}

/** `/openapi/v2` as gnostic's openapi.v2.Document protobuf, the form kubectl reads. */
export function openApiV2Protobuf(): Buffer {
  return render().v2Protobuf;
}

/** `/openapi/v3`: the index of group-version documents with their content hashes. */
export function openApiV3Index(): string {
  return render().index;
}

/** `/openapi/v3/<path>` (`api/v1`, `apis/<group>/v1`); undefined for a group-version not served. */
export function openApiV3(path: string): Rendered | undefined {
  return render().v3.get(path);
}
