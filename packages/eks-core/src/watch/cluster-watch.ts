// Keeps one cluster's inventory current without full syncs, for the watcher.
//
// - Kubernetes: list-then-watch per kind (namespaces, service accounts, ClusterRoles, Roles and both
//   binding kinds across all namespaces, and kube-system/aws-auth by field selector), with
//   bookmarks. A stream the server ends (its timeout) or the network drops is reopened from the
//   last resourceVersion seen, so nothing is missed and nothing is listed again; a 410 Expired
//   (the version is older than the server's history) lists the kind again, which is the only way
//   to know what happened meanwhile. Reconnects back off exponentially with jitter.
// - EKS access entries: AWS has no watch, so ListAccessEntries is polled, a new entry is described,
//   and every entry's associations are listed (an association change is invisible in the entry
//   list); entries are described again only every few polls (username and groups rarely change).
//   Every call goes through the session's call policy, i.e. the rate limiter the syncs share.
// - IAM roles and access policies: re-read on the full-sync cadence (`iamRefreshMs`).
// The snapshot is a pure function of the inventory (buildSnapshot), the same one a full sync runs,
// so an incremental snapshot and a full sync of the same cluster state are identical.
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { ERROR_CODES, EksAccessError, type ErrorCode } from '../errors.js';
import { LIST_PATHS, type KubeClient, type ListableResource, type RawWatchEvent } from '../kube/client.js';
import type { Entitlement, Grant, Resource } from '../model.js';
import type { ClusterSession } from '../session.js';
import {
  binding,
  collectInventory,
  listAccessEntryArns,
  listAccessPolicies,
  listAssociations,
  listRoles,
  meta,
  readAccessEntry,
  role,
  type CollectOptions,
} from '../sync/collect.js';
import type {
  AccessEntryRecord,
  ClusterInventory,
  KubeBindingRecord,
  KubeMeta,
  KubeRoleRecord,
} from '../sync/inventory.js';
import { buildSnapshot } from '../sync/snapshot.js';

/** What a watch keeps current: the six listable kinds and the aws-auth ConfigMap. */
export type WatchedKind = ListableResource | 'aws-auth';
export const WATCHED_KINDS: readonly WatchedKind[] = [
  'namespaces',
  'serviceaccounts',
  'clusterroles',
  'roles',
  'clusterrolebindings',
  'rolebindings',
  'aws-auth',
];

const AWS_AUTH_PATH = '/api/v1/namespaces/kube-system/configmaps';
const AWS_AUTH_SELECTOR = 'fieldSelector=metadata.name%3Daws-auth';

export interface ClusterWatchOptions {
  session: ClusterSession;
  signal: AbortSignal;
  /** Called (synchronously) whenever the inventory changed; the owner debounces. */
  onChange: (source: WatchedKind | 'eks' | 'iam') => void;
  /** A source failed and will be retried; for logs and metrics. */
  onError?: (source: WatchedKind | 'eks' | 'iam', err: unknown) => void;
  /** How often EKS access entries are polled. Default 15 s. */
  accessEntryPollMs?: number;
  /** Entries are described again every this many polls (new entries at once). Default 4. */
  describeEveryPolls?: number;
  /** IAM roles and access policies are read again this often. Default 1 hour. */
  iamRefreshMs?: number;
  /** Asked of the server for each watch stream; it ends the stream after this. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Reconnect backoff. Default 250 ms doubling to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  collect?: CollectOptions;
}

/** Counters of what a watch did, for metrics and the freshness benchmark. */
export interface ClusterWatchStats {
  lists: number;
  relists: number;
  watchesOpened: number;
  reconnects: number;
  events: number;
  bookmarks: number;
  eksPolls: number;
  iamRefreshes: number;
}

/** A materialised snapshot: the rows a full sync would store. */
export interface MaterialisedSnapshot {
  resources: Resource[];
  entitlements: Entitlement[];
  grants: Grant[];
}

type KindRecord = KubeMeta | KubeRoleRecord | KubeBindingRecord | Record<string, string>;

function keyOf(m: { name?: string; namespace?: string } | undefined): string {
  return `${m?.namespace ?? ''}/${m?.name ?? ''}`;
}

function mapperOf(kind: WatchedKind): (item: unknown) => KindRecord {
  switch (kind) {
    case 'namespaces':
      return (o) => meta((o as V1Namespace).metadata);
    case 'serviceaccounts':
      return (o) => meta((o as V1ServiceAccount).metadata);
    case 'clusterroles':
      return (o) => role(o as V1ClusterRole);
    case 'roles':
      return (o) => role(o as V1Role);
    case 'clusterrolebindings':
      return (o) => binding(o as V1ClusterRoleBinding);
    case 'rolebindings':
      return (o) => binding(o as V1RoleBinding);
    case 'aws-auth':
      return (o) => (o as V1ConfigMap).data ?? {};
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Watches one cluster; `start` reads it once in full, then keeps `inventory` current. */
export class ClusterWatch {
  readonly stats: ClusterWatchStats = {
    lists: 0,
    relists: 0,
    watchesOpened: 0,
    reconnects: 0,
    events: 0,
    bookmarks: 0,
    eksPolls: 0,
    iamRefreshes: 0,
  };
  private inventoryBase: ClusterInventory | undefined;
  private readonly objects = new Map<WatchedKind, Map<string, KindRecord>>();
  private entries = new Map<string, AccessEntryRecord>();
  private readonly loops: Promise<void>[] = [];
  private polls = 0;

  constructor(private readonly options: ClusterWatchOptions) {}

  /** The cluster's inventory as of the last event applied. */
  get inventory(): ClusterInventory {
    const base = this.inventoryBase;
    if (!base) throw new Error('the watch has not started');
    const values = <T>(kind: WatchedKind) => [...(this.objects.get(kind)?.values() ?? [])] as T[];
    const awsAuth = this.objects.get('aws-auth')?.get('kube-system/aws-auth') as
      Record<string, string> | undefined;
    const inventory: ClusterInventory = {
      ...base,
      accessEntries: [...this.entries.values()],
      namespaces: values<KubeMeta>('namespaces'),
      serviceAccounts: values<KubeMeta>('serviceaccounts'),
      clusterRoles: values<KubeRoleRecord>('clusterroles'),
      roles: values<KubeRoleRecord>('roles'),
      clusterRoleBindings: values<KubeBindingRecord>('clusterrolebindings'),
      roleBindings: values<KubeBindingRecord>('rolebindings'),
      warnings: [...base.warnings],
    };
    if (awsAuth) inventory.awsAuth = awsAuth;
    else delete inventory.awsAuth;
    return inventory;
  }

  /**
   * Reads the whole cluster once (as a sync does) and starts the watches and polls; resolves once
   * every kind has been listed with a resourceVersion to watch from. Throws when the first read
   * fails (the caller retries the cluster later).
   */
  async start(): Promise<void> {
    const { session, signal } = this.options;
    const inventory = await collectInventory(session, this.options.collect ?? {});
    const failed = Object.entries(inventory.sources).filter(([, s]) => s.state === 'failed');
    if (failed.length > 0) {
      // Watching from an inventory with a hole would report everything in it as revoked.
      const first = (failed[0]![1] as { code: string }).code;
      const code = (ERROR_CODES as readonly string[]).includes(first) ? (first as ErrorCode) : 'INTERNAL';
      throw new EksAccessError(
        code,
        `cluster ${inventory.cluster.name}: ${failed.map(([n, s]) => `${n}: ${(s as { message: string }).message}`).join('; ')}`,
      );
    }
    this.inventoryBase = inventory;
    this.entries = new Map(inventory.accessEntries.map((e) => [e.principalArn, e]));
    const kube = await session.kube();
    const ready: Promise<void>[] = [];
    for (const kind of WATCHED_KINDS) {
      let listed!: () => void;
      ready.push(new Promise<void>((resolve) => (listed = resolve)));
      this.loops.push(this.kindLoop(kube, kind, listed));
    }
    if (inventory.authenticationMode !== 'CONFIG_MAP') this.loops.push(this.pollLoop());
    this.loops.push(this.iamLoop());
    await Promise.race([
      Promise.all(ready),
      new Promise<void>((r) => signal.addEventListener('abort', () => r())),
    ]);
  }

  /** Resolves when every loop has ended (after the signal aborted). */
  async stopped(): Promise<void> {
    await Promise.allSettled(this.loops);
  }

  /** The snapshot of the current inventory, exactly as a full sync would build it. */
  async snapshot(): Promise<MaterialisedSnapshot> {
    const built = buildSnapshot(this.inventory);
    const out: MaterialisedSnapshot = { resources: [], entitlements: [], grants: [] };
    for await (const r of built.resources()) out.resources.push(r);
    for await (const e of built.entitlements()) out.entitlements.push(e);
    for await (const g of built.grants()) out.grants.push(g);
    return out;
  }

  /** Reads IAM roles and access policies again now (after a full sync landed, for instance). */
  async refreshIam(): Promise<void> {
    const base = this.inventoryBase;
    if (!base) return;
    const [roles, policies] = await Promise.all([
      listRoles(this.options.session, this.options.collect ?? {}),
      listAccessPolicies(this.options.session),
    ]);
    this.stats.iamRefreshes++;
    const before = JSON.stringify([base.iamRoles, base.accessPolicies]);
    this.inventoryBase = { ...base, iamRoles: roles, accessPolicies: policies };
    if (JSON.stringify([roles, policies]) !== before) this.options.onChange('iam');
  }

  private async list(
    kube: KubeClient,
    kind: WatchedKind,
  ): Promise<{ items: Map<string, KindRecord>; rv: string }> {
    const map = mapperOf(kind);
    const items = new Map<string, KindRecord>();
    if (kind === 'aws-auth') {
      const list = await kube.getJson<{ items: V1ConfigMap[]; metadata?: { resourceVersion?: string } }>(
        'kube:list:configmaps',
        `${AWS_AUTH_PATH}?${AWS_AUTH_SELECTOR}`,
        this.options.signal,
      );
      for (const cm of list.items) items.set(keyOf(cm.metadata), map(cm));
      return { items, rv: list.metadata?.resourceVersion ?? '0' };
    }
    const listed = await kube.listAll<unknown, [string, KindRecord]>(kind, 500, (o) => [
      keyOf((o as { metadata?: { name?: string; namespace?: string } }).metadata),
      map(o),
    ]);
    for (const [k, v] of listed.items) items.set(k, v);
    return { items, rv: listed.resourceVersion ?? '0' };
  }

  private async kindLoop(kube: KubeClient, kind: WatchedKind, listed: () => void): Promise<void> {
    const { signal } = this.options;
    const backoff = this.options.backoff ?? { initialMs: 250, maxMs: 30_000 };
    const timeout = this.options.watchTimeoutSeconds ?? 300;
    const path = kind === 'aws-auth' ? AWS_AUTH_PATH : LIST_PATHS[kind];
    const selector = kind === 'aws-auth' ? `&${AWS_AUTH_SELECTOR}` : '';
    let rv: string | undefined;
    let delay = backoff.initialMs;
    while (!signal.aborted) {
      try {
        if (rv === undefined) {
          const { items, rv: listedAt } = await this.list(kube, kind);
          if (this.stats.lists++ > WATCHED_KINDS.length) this.stats.relists++;
          this.objects.set(kind, items);
          rv = listedAt;
          listed();
          this.options.onChange(kind);
        }
        const objects = this.objects.get(kind)!;
        // Jitter spreads the reconnects of thousands of watches that the same server timeout ends.
        const seconds = Math.round(timeout * (0.75 + Math.random() * 0.5));
        this.stats.watchesOpened++;
        const stream = kube.watch(
          `${path}?watch=true&allowWatchBookmarks=true&timeoutSeconds=${seconds}&resourceVersion=${encodeURIComponent(rv)}${selector}`,
          signal,
        );
        for await (const event of stream) {
          delay = backoff.initialMs;
          if (event.type === 'ERROR') {
            if (event.object.code === 410) rv = undefined;
            else
              throw Object.assign(
                new Error(`watch error: ${JSON.stringify(event.object).slice(0, 300)}`),
                event.object,
              );
            break;
          }
          rv = event.object.metadata?.resourceVersion ?? rv;
          if (event.type === 'BOOKMARK') {
            this.stats.bookmarks++;
            continue;
          }
          this.stats.events++;
          this.applyEvent(objects, kind, event);
        }
      } catch (err) {
        if (signal.aborted) return;
        if ((err as { code?: unknown }).code === 410) rv = undefined;
        this.stats.reconnects++;
        this.options.onError?.(kind, err);
        await sleep(delay * (0.5 + Math.random()), signal);
        delay = Math.min(backoff.maxMs, delay * 2);
      }
    }
  }

  private applyEvent(objects: Map<string, KindRecord>, kind: WatchedKind, event: RawWatchEvent): void {
    const key = keyOf(event.object.metadata);
    if (event.type === 'DELETED') {
      if (!objects.delete(key)) return;
    } else {
      objects.set(key, mapperOf(kind)(event.object));
    }
    this.options.onChange(kind);
  }

  private async pollLoop(): Promise<void> {
    const { signal } = this.options;
    const every = this.options.accessEntryPollMs ?? 15_000;
    while (!signal.aborted) {
      await sleep(every * (0.9 + Math.random() * 0.2), signal);
      if (signal.aborted) return;
      try {
        await this.pollAccessEntries();
      } catch (err) {
        if (signal.aborted) return;
        this.options.onError?.('eks', err);
      }
    }
  }

  /** One poll of the access entries: list, describe the new, re-list every entry's associations. */
  async pollAccessEntries(): Promise<void> {
    const { session } = this.options;
    const name = this.inventoryBase!.cluster.name;
    this.stats.eksPolls++;
    const describeAll = ++this.polls % (this.options.describeEveryPolls ?? 4) === 0;
    const arns = await listAccessEntryArns(session, name);
    const next = new Map<string, AccessEntryRecord>();
    let changed = arns.length !== this.entries.size;
    for (const arn of arns) {
      const known = this.entries.get(arn);
      let record: AccessEntryRecord | undefined;
      if (!known || describeAll) record = await readAccessEntry(session, name, arn);
      else record = { ...known, associations: await listAssociations(session, name, arn) };
      if (!record) continue;
      if (!known || JSON.stringify(known) !== JSON.stringify(record)) changed = true;
      next.set(arn, record);
    }
    this.entries = next;
    if (changed) this.options.onChange('eks');
  }

  private async iamLoop(): Promise<void> {
    const { signal } = this.options;
    const every = this.options.iamRefreshMs ?? 3_600_000;
    while (!signal.aborted) {
      await sleep(every, signal);
      if (signal.aborted) return;
      try {
        await this.refreshIam();
      } catch (err) {
        if (signal.aborted) return;
        this.options.onError?.('iam', err);
      }
    }
  }
}
