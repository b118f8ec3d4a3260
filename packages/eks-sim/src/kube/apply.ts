// Server-side apply's merge and field ownership (`kubectl apply --server-side`), for the kinds
// served here. An apply configuration is merged into the live object: objects (metadata, labels,
// annotations, data, roleRef) merge key by key; lists and scalars are replaced, which is what
// apply does with these kinds' lists, all atomic (`x-kubernetes-list-type: atomic`).
//
// Each applying manager owns the fields its last configuration set, recorded in
// `metadata.managedFields` (operation Apply, FieldsV1) as the API server records them. So:
//   - a field the manager applied before but leaves out now is removed, unless another applying
//     manager also owns it;
//   - a field another applying manager owns with a different value is a 409 conflict naming both,
//     unless `force=true`, which takes the field over.
// Writes other than apply (create, update, patch) do not record managers here, so they never
// conflict with an apply; that is the one simplification against the API server.
import { deepEqual } from './patch.js';
import { KubeError } from './status.js';

type Json = unknown;
type Path = string[];

export interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  [key: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Members an apply configuration never owns: identity and server-set metadata. */
const UNOWNED_TOP = new Set(['apiVersion', 'kind']);
const UNOWNED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'managedFields',
  'generation',
]);

/** The leaf paths a configuration sets: into objects, stopping at lists, scalars and empty objects. */
export function fieldPaths(config: Json): Path[] {
  const out: Path[] = [];
  const walk = (value: Json, path: Path) => {
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) {
        if (path.length === 0 && UNOWNED_TOP.has(key)) continue;
        if (path.length === 1 && path[0] === 'metadata' && UNOWNED_META.has(key)) continue;
        walk(child, [...path, key]);
      }
    } else if (path.length > 0) out.push(path);
  };
  walk(config, []);
  return out;
}

const keyOf = (path: Path) => JSON.stringify(path);

/** FieldsV1: `{"f:metadata":{"f:labels":{"f:app":{}}}}`. */
export function toFieldsV1(paths: Path[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) node = (node[`f:${key}`] ??= {}) as Record<string, unknown>;
  }
  return root;
}

/** The leaf paths of a FieldsV1 trie (keys that are not `f:` fields are skipped). */
export function fromFieldsV1(fields: unknown): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, path: Path) => {
    const children = isRecord(node) ? Object.keys(node).filter((k) => k.startsWith('f:')) : [];
    if (children.length === 0) {
      if (path.length > 0) out.push(path);
      return;
    }
    for (const k of children) walk((node as Record<string, unknown>)[k], [...path, k.slice(2)]);
  };
  walk(fields, []);
  return out;
}

function valueAt(obj: Json, path: Path): Json {
  let node = obj;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Deletes the member at `path`, then the objects it leaves empty (as Go's omitempty drops them). */
function removeAt(obj: Json, path: Path): void {
  const chain: Record<string, unknown>[] = [];
  let node = obj;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(node)) return;
    chain.push(node);
    node = node[key];
  }
  if (!isRecord(node)) return;
  delete node[path[path.length - 1]!];
  // Never `metadata` itself, which every object has.
  for (let depth = path.length - 2; depth >= 0 && !(depth === 0 && path[0] === 'metadata'); depth--) {
    const parent = chain[depth]!;
    const child = parent[path[depth]!];
    if (!isRecord(child) || Object.keys(child).length > 0) break;
    delete parent[path[depth]!];
  }
}

/** Merges a configuration into a live object (objects key by key, everything else replaced). */
export function mergeApplied(live: Json, config: Json): Json {
  if (!isRecord(config) || !isRecord(live)) return structuredClone(config);
  const out: Record<string, unknown> = { ...live };
  for (const [key, value] of Object.entries(config)) {
    if (key === '__proto__') continue;
    out[key] = mergeApplied(out[key], value);
  }
  return out;
}

function managedFieldsOf(obj: Json): ManagedFieldsEntry[] {
  const list = valueAt(obj, ['metadata', 'managedFields']);
  return Array.isArray(list)
    ? (list.filter((e) => isRecord(e) && typeof e.manager === 'string') as ManagedFieldsEntry[])
    : [];
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  apiVersion: string;
  now: Date;
  /** For the conflict message: `rolebindings.rbac.authorization.k8s.io "x"`. */
  describe: { kind: string; group: string; name: string };
}

/**
 * The object after applying `config` as `manager` to `live` (undefined when creating), with its
 * managedFields updated; throws the API server's 409 on conflicts with other applying managers.
 */
export function applyConfiguration(
  live: Json,
  config: Record<string, unknown>,
  options: ApplyOptions,
): Record<string, unknown> {
  const applied = fieldPaths(config);
  const appliedKeys = new Set(applied.map(keyOf));
  const entries = live === undefined ? [] : managedFieldsOf(live);
  const others = entries.filter((e) => !(e.manager === options.manager && e.operation === 'Apply'));
  const previous = entries.find((e) => e.manager === options.manager && e.operation === 'Apply');

  const conflicts: { manager: string; apiVersion: string; path: Path }[] = [];
  const otherSets = others.map((entry) => {
    const owned = new Map(fromFieldsV1(entry.fieldsV1).map((p) => [keyOf(p), p]));
    if (entry.operation !== 'Apply') return { entry, owned };
    for (const [key, path] of owned) {
      if (!appliedKeys.has(key)) continue;
      if (deepEqual(valueAt(live, path), valueAt(config, path))) continue;
      if (options.force) owned.delete(key);
      else
        conflicts.push({ manager: entry.manager, apiVersion: entry.apiVersion ?? options.apiVersion, path });
    }
    return { entry, owned };
  });
  if (conflicts.length > 0) throw conflictError(conflicts, options);

  const merged = mergeApplied(live === undefined ? {} : structuredClone(live), config) as Record<
    string,
    unknown
  >;
  const ownedByOthers = new Set(otherSets.flatMap((o) => [...o.owned.keys()]));
  for (const path of fromFieldsV1(previous?.fieldsV1)) {
    const key = keyOf(path);
    if (!appliedKeys.has(key) && !ownedByOthers.has(key)) removeAt(merged, path);
  }

  const time = options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const managedFields: ManagedFieldsEntry[] = [
    ...otherSets
      .filter((o) => o.owned.size > 0)
      .map((o) =>
        o.entry.operation === 'Apply' ? { ...o.entry, fieldsV1: toFieldsV1([...o.owned.values()]) } : o.entry,
      ),
    {
      manager: options.manager,
      operation: 'Apply',
      apiVersion: options.apiVersion,
      time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(applied),
    },
  ];
  const metadata = isRecord(merged.metadata) ? merged.metadata : {};
  merged.metadata = { ...metadata, managedFields };
  return merged;
}

function conflictError(
  conflicts: { manager: string; apiVersion: string; path: Path }[],
  options: ApplyOptions,
): KubeError {
  const field = (path: Path) => `.${path.join('.')}`;
  let summary: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    summary = `Apply failed with 1 conflict: conflict with "${c.manager}" using ${c.apiVersion}: ${field(c.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const head = `conflicts with "${c.manager}" using ${c.apiVersion}:`;
      byManager.set(head, [...(byManager.get(head) ?? []), `- ${field(c.path)}`]);
    }
    const groups = [...byManager].map(([head, lines]) => [head, ...lines].join('\n'));
    summary = `Apply failed with ${conflicts.length} conflicts: ${groups.join('\n')}`;
  }
  const { kind, group, name } = options.describe;
  return new KubeError(409, 'Conflict', summary, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}" using ${c.apiVersion}`,
      field: field(c.path),
    })),
  });
}
