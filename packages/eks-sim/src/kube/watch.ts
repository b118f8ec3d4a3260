// Watches (`GET <collection>?watch=true`), streamed as kube-apiserver streams them: HTTP 200 with
// chunked JSON, one `{"type":…,"object":…}` event per line, until `timeoutSeconds` ends the stream.
//
// - `resourceVersion` unset or "0": one synthetic ADDED per current object, then every change.
//   A number: every change after it, from the store's change history; older than that history
//   (compacted or forgotten) is a single ERROR event with a 410 Expired Status, which is how the
//   API server tells a reflector to list again. A version from the future (a reset world) is
//   answered the same way, so a client that outlived a reset lists again instead of waiting.
// - `allowWatchBookmarks=true`: a BOOKMARK (the kind, apiVersion and the current resourceVersion
//   only) every `bookmarkIntervalMs` and just before the timeout, so an idle client can resume
//   from a recent version.
// - Label and field selectors (and a named watch, `…/<name>?watch=true`) filter as for lists: an
//   object that starts to match is ADDED, one that stops matching is DELETED.
// - `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` (kubectl get -w): every event's object
//   is a Table with the one row.
// - Faults: `dropWatchRate` cuts the TCP connection mid-stream; `expireWatchRate` answers 410 at once.
import type { ServerResponse } from 'node:http';
import type { FaultDecision } from '../faults.js';
import type { Cluster } from '../world/types.js';
import { parseLabelSelector, matchesRequirements, parseFieldSelector } from './selectors.js';
import { kubeErrors, KubeError } from './status.js';
import {
  KUBE_RESOURCES,
  KubeStoreError,
  type KubeObject,
  type KubeResource,
  type StoreChange,
} from './store.js';
import { renderTable, tableRequest, type TableRequest } from './table.js';

export interface WatchRequest {
  cluster: Cluster;
  resource: KubeResource;
  namespace?: string;
  name?: string;
  query: URLSearchParams;
  accept: string | undefined;
  faults: FaultDecision;
  auditId: string;
  /** How often bookmarks are sent when asked for. Default 60 s (the API server's rate). */
  bookmarkIntervalMs?: number;
}

/** The API server's --min-request-timeout: a watch without timeoutSeconds lasts 1–2 times this. */
const MIN_REQUEST_TIMEOUT_SECONDS = 1800;

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

function apiVersionOf(resource: KubeResource): string {
  const info = KUBE_RESOURCES[resource];
  return info.group ? `${info.group}/${info.version}` : info.version;
}

function parseTimeout(value: string | null): number {
  if (value === null || value === '') return MIN_REQUEST_TIMEOUT_SECONDS * (1 + Math.random());
  if (!/^\d+$/.test(value)) throw kubeErrors.badRequest(`invalid timeoutSeconds: ${value}`);
  const seconds = Number(value);
  return seconds === 0 ? MIN_REQUEST_TIMEOUT_SECONDS * (1 + Math.random()) : seconds;
}

/** Checks the request before the 200 is sent; a bad one is an ordinary error reply. */
function parseWatch(req: WatchRequest) {
  const q = req.query;
  const rv = q.get('resourceVersion') ?? '';
  if (rv !== '' && !/^\d+$/.test(rv)) throw kubeErrors.badRequest(`invalid resource version: ${rv}`);
  if (q.get('sendInitialEvents') === 'true') {
    throw kubeErrors.badRequest('sendInitialEvents is not supported by this server (WatchList is off)');
  }
  const namespaced = KUBE_RESOURCES[req.resource].namespaced;
  const requirements = parseLabelSelector(q.get('labelSelector') ?? '');
  const fieldTest = parseFieldSelector(q.get('fieldSelector') ?? '', namespaced);
  const prefix = req.namespace === undefined ? undefined : `${req.namespace}/`;
  const matches = (obj: KubeObject | null): obj is KubeObject =>
    obj !== null &&
    (prefix === undefined || (obj.metadata.namespace ?? '') === req.namespace) &&
    (req.name === undefined || obj.metadata.name === req.name) &&
    matchesRequirements(requirements, obj.metadata.labels) &&
    fieldTest(obj);
  return {
    rv,
    timeoutMs: parseTimeout(q.get('timeoutSeconds')) * 1000,
    bookmarks: q.get('allowWatchBookmarks') === 'true',
    table: tableRequest(req.accept, q.get('includeObject')),
    matches,
  };
}

function eventLine(type: EventType, object: unknown, table: TableRequest | undefined, rv: string): string {
  if (table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
    return `{"type":"${type}","object":${renderTable([object as KubeObject], table, { resourceVersion: rv })}}\n`;
  }
  return `${JSON.stringify({ type, object })}\n`;
}

/** A deleted object as the DELETED event carries it: its last state at the deletion's version. */
function atRevision(obj: KubeObject, revision: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
}

/**
 * Serves one watch on `res`. Validation errors throw a KubeError before anything is written;
 * after the 200 the stream only ends (timeout, client gone, fault, world reset).
 */
export function serveWatch(req: WatchRequest, res: ServerResponse): void {
  const { rv, timeoutMs, bookmarks, table, matches } = parseWatch(req);
  const store = req.cluster.kube;
  const kind = KUBE_RESOURCES[req.resource].kind;
  const apiVersion = apiVersionOf(req.resource);

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Audit-Id': req.auditId,
  });
  // The status line and headers go out now, as the API server's do: a client waits for them
  // before it counts the watch as open, and the first event may be a long way off.
  res.flushHeaders();
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let bookmarkTimer: NodeJS.Timeout | undefined;
  const cleanups: (() => void)[] = [];
  const end = (destroy = false) => {
    if (ended) return;
    ended = true;
    for (const t of timers) clearTimeout(t);
    clearTimeout(bookmarkTimer);
    for (const c of cleanups) c();
    if (destroy) res.destroy();
    else res.end();
  };
  res.on('close', () => end());
  const write = (type: EventType, object: unknown, revision: number) => {
    if (!ended) res.write(eventLine(type, object, table, String(revision)));
  };
  const expired = (message: string) => {
    write('ERROR', new KubeError(410, 'Expired', message).toStatus(), store.currentRevision);
    end();
  };

  if (req.faults.expireWatch) {
    expired(`too old resource version: ${rv || store.currentRevision} (${store.currentRevision + 1})`);
    return;
  }

  // The change a watcher sees, given whether the object matched before and after.
  const deliver = (change: StoreChange) => {
    if (change.resource !== req.resource) return;
    const was = matches(change.previous);
    const is = matches(change.current);
    if (is) write(was ? 'MODIFIED' : 'ADDED', change.current, change.revision);
    else if (was) write('DELETED', atRevision(change.previous!, change.revision), change.revision);
  };

  // Replay and subscribe in one synchronous step: no write can fall between them.
  if (rv === '' || rv === '0') {
    const revision = store.currentRevision;
    for (const obj of store.list(
      req.resource,
      req.namespace === undefined ? {} : { namespace: req.namespace },
    ).items) {
      if (matches(obj)) write('ADDED', obj, revision);
    }
  } else {
    const from = Number(rv);
    if (from > store.currentRevision) {
      expired(`too large resource version: ${from}, current: ${store.currentRevision}`);
      return;
    }
    let replay: StoreChange[];
    try {
      replay = store.changesSince(req.resource, from);
    } catch (err) {
      if (err instanceof KubeStoreError && err.reason === 'Expired') {
        expired(err.message);
        return;
      }
      throw err;
    }
    for (const change of replay) deliver(change);
  }
  cleanups.push(store.onChange(deliver));
  cleanups.push(store.onRetire(() => end()));

  timers.push(
    setTimeout(() => {
      if (bookmarks) write('BOOKMARK', bookmark(), store.currentRevision);
      end();
    }, timeoutMs),
  );
  if (bookmarks) {
    const every = req.bookmarkIntervalMs ?? 60_000;
    const tick = () => {
      write('BOOKMARK', bookmark(), store.currentRevision);
      bookmarkTimer = setTimeout(tick, every).unref();
    };
    bookmarkTimer = setTimeout(tick, every).unref();
  }
  if (req.faults.dropWatchAfterMs !== undefined) {
    timers.push(setTimeout(() => end(true), req.faults.dropWatchAfterMs));
  }
  for (const t of timers) t.unref();

  function bookmark() {
    return { kind, apiVersion, metadata: { resourceVersion: String(store.currentRevision) } };
  }
}
