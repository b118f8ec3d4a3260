// The server-side `Table` rendering kubectl asks for (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`).
// Like the API server's default table convertor it has two columns, Name and Created At; rows
// carry the object's metadata (PartialObjectMetadata) unless `includeObject` says otherwise.
import type { KubeObject } from './store.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableRequest {
  version: 'v1' | 'v1beta1';
  includeObject: IncludeObject;
}

const COLUMNS = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name must be unique within a namespace. Cannot be updated.',
    priority: 0,
  },
  {
    name: 'Created At',
    type: 'date',
    format: '',
    description:
      'CreationTimestamp is a timestamp representing the server time when this object was created.',
    priority: 0,
  },
];

/** Reads a Table request out of an Accept header, if the client asked for one. */
export function tableRequest(
  accept: string | undefined,
  includeObject: string | null,
): TableRequest | undefined {
  if (!accept) return undefined;
  for (const range of accept.split(',')) {
    const params = new Map(
      range
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string | undefined])
        .map(([k, v]) => [k.toLowerCase(), (v ?? '').trim()]),
    );
    if (params.get('as') !== 'Table' || params.get('g') !== 'meta.k8s.io') continue;
    const version = params.get('v');
    if (version !== 'v1' && version !== 'v1beta1') continue;
    const include: IncludeObject =
      includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
    return { version, includeObject: include };
  }
  return undefined;
}

function rowObject(obj: KubeObject, include: IncludeObject, version: string): unknown {
  switch (include) {
    case 'None':
      return undefined;
    case 'Object':
      return obj;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
  }
}

/** Renders objects as a Table; `listMeta` is the list's metadata (resourceVersion, continue…). */
export function renderTable(
  items: KubeObject[],
  request: TableRequest,
  listMeta: Record<string, unknown>,
): string {
  return JSON.stringify({
    kind: 'Table',
    apiVersion: `meta.k8s.io/${request.version}`,
    metadata: listMeta,
    columnDefinitions: COLUMNS,
    rows: items.map((obj) => {
      const object = rowObject(obj, request.includeObject, request.version);
      return {
        cells: [obj.metadata.name, obj.metadata.creationTimestamp],
        ...(object === undefined ? {} : { object }),
      };
    }),
  });
}
