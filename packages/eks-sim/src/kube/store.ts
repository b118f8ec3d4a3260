// One cluster's Kubernetes objects, kept as a multi-version store like etcd: every write gets the
// next resourceVersion, and old versions are kept until compaction. That is what lets a paginated
// list (`limit` + `continue`) serve one consistent snapshot while writers carry on, and what makes
// an old `continue` token fail with 410 Gone once its revision has been compacted away.
import { randomUUID } from 'node:crypto';

export const KUBE_RESOURCES = {
  namespaces: { kind: 'Namespace', group: '', version: 'v1', namespaced: false, shortNames: ['ns'] },
  serviceaccounts: { kind: 'ServiceAccount', group: '', version: 'v1', namespaced: true, shortNames: ['sa'] },
  configmaps: { kind: 'ConfigMap', group: '', version: 'v1', namespaced: true, shortNames: ['cm'] },
  clusterroles: {
    kind: 'ClusterRole',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    namespaced: false,
    shortNames: [],
  },
  roles: {
    kind: 'Role',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    namespaced: true,
    shortNames: [],
  },
  clusterrolebindings: {
    kind: 'ClusterRoleBinding',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    namespaced: false,
    shortNames: [],
  },
  rolebindings: {
    kind: 'RoleBinding',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    namespaced: true,
    shortNames: [],
  },
} as const;

export type KubeResource = keyof typeof KUBE_RESOURCES;

export function isKubeResource(name: string): name is KubeResource {
  return Object.hasOwn(KUBE_RESOURCES, name);
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** What callers hand to create/update: metadata without the server-assigned fields. */
export interface KubeObjectInput {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export type StoreErrorReason = 'AlreadyExists' | 'NotFound' | 'Conflict' | 'Expired';

export class KubeStoreError extends Error {
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'KubeStoreError';
  }
}

interface Version {
  rv: number;
  /** null marks a deletion at `rv`. */
  obj: KubeObject | null;
}

class ResourceTable {
  readonly versions = new Map<string, Version[]>();
  keys: string[] = [];
  sorted = true;

  sortedKeys(): string[] {
    if (!this.sorted) {
      this.keys.sort();
      this.sorted = true;
    }
    return this.keys;
  }

  addKey(key: string): void {
    const last = this.keys[this.keys.length - 1];
    if (this.sorted && last !== undefined && key < last) this.sorted = false;
    this.keys.push(key);
  }
}

export interface ListOptions {
  namespace?: string;
  /** Serve the list as of this revision (a continued list); defaults to the latest. */
  atRevision?: number;
  /** Continue after this key (exclusive). */
  afterKey?: string;
  limit?: number;
  /** Keep only objects this predicate accepts (label and field selectors). */
  filter?: (obj: KubeObject) => boolean;
}

export interface ListResult {
  items: KubeObject[];
  /** The revision the list was served at. */
  revision: number;
  /** Set when more items remain: the key of the last item returned. */
  lastKey?: string;
  /** How many matching items remain after this page (Kubernetes' remainingItemCount). */
  remaining?: number;
}

/** One committed write, as change listeners see it (`previous`/`current` null for create/delete). */
export interface StoreChange {
  resource: KubeResource;
  key: string;
  revision: number;
  previous: KubeObject | null;
  current: KubeObject | null;
}

export type StoreListener = (change: StoreChange) => void;

/** How many changes the store keeps for watches resuming from a resourceVersion (the watch cache). */
export const WATCH_HISTORY_LIMIT = 20_000;

// `__proto__` (which JSON.parse yields as an ordinary key) is dropped so assignment cannot set a prototype.
const SERVER_META_KEYS = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  '__proto__',
]);

const TOP_LEVEL_KEYS = new Set(['apiVersion', 'kind', 'metadata', '__proto__']);

/**
 * Builds a stored object: server-set fields first, then the caller's other fields in their order.
 * Built this way (rather than spreading the input into a literal and adding keys after it) every
 * object of one shape shares a V8 hidden class; the spread form gives each object a class of its
 * own, which made reading metadata across 20,000 objects (selectors, RBAC indexing) ~20x slower.
 */
function assemble(
  apiVersion: string,
  kind: string,
  input: KubeObjectInput,
  server: {
    name: string;
    namespace: string | undefined;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
  },
): KubeObject {
  const metadata: ObjectMeta =
    server.namespace === undefined
      ? {
          name: server.name,
          uid: server.uid,
          resourceVersion: server.resourceVersion,
          creationTimestamp: server.creationTimestamp,
        }
      : {
          name: server.name,
          namespace: server.namespace,
          uid: server.uid,
          resourceVersion: server.resourceVersion,
          creationTimestamp: server.creationTimestamp,
        };
  for (const key of Object.keys(input.metadata))
    if (!SERVER_META_KEYS.has(key)) metadata[key] = input.metadata[key];
  const obj: KubeObject = { apiVersion, kind, metadata };
  for (const key of Object.keys(input)) if (!TOP_LEVEL_KEYS.has(key)) obj[key] = input[key];
  return obj;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

function latest(versions: Version[]): Version | undefined {
  return versions[versions.length - 1];
}

function asOf(versions: Version[], rv: number): KubeObject | null {
  for (let i = versions.length - 1; i >= 0; i--) {
    const v = versions[i]!;
    if (v.rv <= rv) return v.obj;
  }
  return null;
}

export class KubeStore {
  private revision = 1;
  private compacted = 0;
  private readonly tables = new Map<KubeResource, ResourceTable>();
  private readonly listeners = new Set<StoreListener>();
  private readonly retireListeners = new Set<() => void>();
  /** Recent changes in revision order, for watches that resume from a resourceVersion. */
  private history: StoreChange[] = [];
  /** Every change after this revision is in `history`; a watch from an older one gets 410. */
  private historyFloor = 0;

  /** The current resourceVersion of the whole store. */
  get currentRevision(): number {
    return this.revision;
  }

  /** Continue tokens at revisions below this fail with 410 Gone. */
  get compactedRevision(): number {
    return this.compacted;
  }

  /**
   * Calls `listener` after every committed write, so indexes kept beside the store (the RBAC
   * subject index) follow it incrementally instead of rescanning. Returns the unsubscribe function.
   */
  onChange(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(
    resource: KubeResource,
    key: string,
    revision: number,
    previous: KubeObject | null,
    current: KubeObject | null,
  ): void {
    const change: StoreChange = { resource, key, revision, previous, current };
    this.history.push(change);
    if (this.history.length > WATCH_HISTORY_LIMIT) {
      // Drop the older half at once (amortised), as the watch cache forgets its oldest events.
      const dropped = this.history.splice(0, this.history.length - WATCH_HISTORY_LIMIT / 2);
      this.historyFloor = dropped[dropped.length - 1]!.revision;
    }
    for (const listener of [...this.listeners]) listener(change);
  }

  /** The oldest resourceVersion a watch can resume from: older ones are answered 410 Expired. */
  get oldestWatchableRevision(): number {
    return this.historyFloor;
  }

  /**
   * The changes to `resource` after `revision`, oldest first, for a watch resuming there. Throws
   * Expired when that history has been compacted or forgotten.
   */
  changesSince(resource: KubeResource, revision: number): StoreChange[] {
    if (revision < this.historyFloor) {
      throw new KubeStoreError('Expired', `too old resource version: ${revision} (${this.historyFloor + 1})`);
    }
    // History is in revision order: binary-search the first change after `revision`.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreChange[] = [];
    for (let i = lo; i < this.history.length; i++) {
      const change = this.history[i]!;
      if (change.resource === resource) out.push(change);
    }
    return out;
  }

  /** Called when the store is retired (the simulator's world was reset); returns the unsubscribe. */
  onRetire(listener: () => void): () => void {
    this.retireListeners.add(listener);
    return () => this.retireListeners.delete(listener);
  }

  /**
   * For a store that replaces another (a reset world): moves this store's revision past the old
   * store's and forgets its history, so a client resuming from any version the old store issued
   * gets 410 and lists again, while a list served here gives a version a watch can resume from.
   */
  startAfter(revision: number): void {
    if (revision >= this.revision) this.revision = revision + 1;
    this.history = [];
    this.historyFloor = this.revision;
  }

  /** Ends every watch on this store, as an API server restart does. */
  retire(): void {
    for (const listener of [...this.retireListeners]) listener();
    this.retireListeners.clear();
  }

  private table(resource: KubeResource): ResourceTable {
    let t = this.tables.get(resource);
    if (!t) {
      t = new ResourceTable();
      this.tables.set(resource, t);
    }
    return t;
  }

  get(resource: KubeResource, namespace: string | undefined, name: string): KubeObject | undefined {
    const versions = this.tables.get(resource)?.versions.get(objectKey(namespace, name));
    return versions ? (latest(versions)?.obj ?? undefined) : undefined;
  }

  create(resource: KubeResource, input: KubeObjectInput, now = new Date()): KubeObject {
    const info = KUBE_RESOURCES[resource];
    const namespace = info.namespaced ? input.metadata.namespace : undefined;
    const key = objectKey(namespace, input.metadata.name);
    const table = this.table(resource);
    const versions = table.versions.get(key);
    if (versions && latest(versions)?.obj) {
      throw new KubeStoreError('AlreadyExists', `${resource} "${input.metadata.name}" already exists`);
    }
    const rv = ++this.revision;
    const obj = assemble(info.group ? `${info.group}/${info.version}` : info.version, info.kind, input, {
      name: input.metadata.name,
      namespace,
      uid: randomUUID(),
      resourceVersion: String(rv),
      creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    if (versions) versions.push({ rv, obj });
    else {
      table.versions.set(key, [{ rv, obj }]);
      table.addKey(key);
    }
    this.emit(resource, key, rv, null, obj);
    return obj;
  }

  /**
   * Replaces an object. When the input carries a resourceVersion it must equal the stored one
   * (optimistic concurrency, as the API server does); uid and creationTimestamp are preserved.
   */
  update(resource: KubeResource, input: KubeObjectInput): KubeObject {
    const info = KUBE_RESOURCES[resource];
    const namespace = info.namespaced ? input.metadata.namespace : undefined;
    const key = objectKey(namespace, input.metadata.name);
    const versions = this.tables.get(resource)?.versions.get(key);
    const current = versions ? latest(versions)?.obj : undefined;
    if (!versions || !current) {
      throw new KubeStoreError('NotFound', `${resource} "${input.metadata.name}" not found`);
    }
    const expected = input.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) {
      throw new KubeStoreError(
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${input.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const rv = ++this.revision;
    const obj = assemble(current.apiVersion, current.kind, input, {
      name: current.metadata.name,
      namespace,
      uid: current.metadata.uid,
      resourceVersion: String(rv),
      creationTimestamp: current.metadata.creationTimestamp,
    });
    versions.push({ rv, obj });
    this.emit(resource, key, rv, current, obj);
    return obj;
  }

  delete(resource: KubeResource, namespace: string | undefined, name: string): KubeObject {
    const info = KUBE_RESOURCES[resource];
    const key = objectKey(info.namespaced ? namespace : undefined, name);
    const versions = this.tables.get(resource)?.versions.get(key);
    const current = versions ? latest(versions)?.obj : undefined;
    if (!versions || !current) throw new KubeStoreError('NotFound', `${resource} "${name}" not found`);
    const rv = ++this.revision;
    versions.push({ rv, obj: null });
    this.emit(resource, key, rv, current, null);
    return current;
  }

  /** Deletes every namespaced object in `namespace` (what namespace deletion ends in). */
  deleteNamespaceContents(namespace: string): number {
    let n = 0;
    for (const [resource, info] of Object.entries(KUBE_RESOURCES) as [
      KubeResource,
      (typeof KUBE_RESOURCES)[KubeResource],
    ][]) {
      if (!info.namespaced) continue;
      for (const obj of this.list(resource, { namespace }).items) {
        this.delete(resource, namespace, obj.metadata.name);
        n++;
      }
    }
    return n;
  }

  /**
   * Lists objects in key order (namespace/name), as of `atRevision`, starting after `afterKey`.
   * Throws Expired when the revision has been compacted (the caller answers 410 Gone).
   */
  list(resource: KubeResource, options: ListOptions = {}): ListResult {
    const revision = options.atRevision ?? this.revision;
    if (revision < this.compacted) {
      throw new KubeStoreError(
        'Expired',
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
      );
    }
    const table = this.tables.get(resource);
    if (!table) return { items: [], revision };
    const keys = table.sortedKeys();
    const prefix = options.namespace === undefined ? undefined : `${options.namespace}/`;
    let start = 0;
    const from = options.afterKey ?? prefix;
    if (from !== undefined) {
      // first key strictly greater than afterKey, or >= prefix
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const k = keys[mid]!;
        if (options.afterKey !== undefined ? k <= from : k < from) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const items: KubeObject[] = [];
    let lastKey: string | undefined;
    let remaining = 0;
    for (let i = start; i < keys.length; i++) {
      const key = keys[i]!;
      if (prefix !== undefined && !key.startsWith(prefix)) break;
      const obj = asOf(table.versions.get(key)!, revision);
      if (!obj) continue;
      if (options.filter && !options.filter(obj)) continue;
      if (items.length < limit) {
        items.push(obj);
        lastKey = key;
      } else remaining++;
    }
    return remaining > 0 && lastKey !== undefined
      ? { items, revision, lastKey, remaining }
      : { items, revision };
  }

  /**
   * Drops history older than the current revision, so every outstanding continue token expires
   * (the etcd compaction that turns old tokens into 410 Gone).
   */
  compact(): void {
    this.compacted = this.revision;
    this.history = [];
    this.historyFloor = this.revision;
    for (const table of this.tables.values()) {
      const live: string[] = [];
      for (const key of table.keys) {
        const versions = table.versions.get(key)!;
        const last = latest(versions)!;
        if (last.obj) {
          table.versions.set(key, [last]);
          live.push(key);
        } else table.versions.delete(key);
      }
      table.keys = live;
    }
  }

  /** Counts live objects per resource (for the sim's ready line and the admin API). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [resource, table] of this.tables) {
      let n = 0;
      for (const versions of table.versions.values()) if (latest(versions)?.obj) n++;
      out[resource] = n;
    }
    return out;
  }
}
