// URL routing for the Kubernetes API paths the emulator serves:
//   /version, /healthz|/livez|/readyz, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/v1
//   /api/v1/<resource>[/<name>], /api/v1/namespaces/<ns>/<resource>[/<name>]   (core group)
//   /apis/<g>/v1/<resource>[/<name>], /apis/<g>/v1/namespaces/<ns>/<resource>[/<name>]
//   POST /apis/authorization.k8s.io/v1/selfsubject{access,rules}reviews, /apis/authentication.k8s.io/v1/selfsubjectreviews
//   /openapi/v2, /openapi/v3, /openapi/v3/api/v1, /openapi/v3/apis/<g>/v1
import { REVIEW_GROUPS, type ReviewGroup, type ReviewResource } from './discovery.js';
import { KUBE_RESOURCES, isKubeResource, type KubeResource } from './store.js';

export type Route =
  | { type: 'version' }
  | { type: 'health' }
  | { type: 'discovery'; path: 'api' | 'apis' | 'group' | 'resources'; group: string; version: string }
  | { type: 'review'; group: ReviewGroup; resource: ReviewResource }
  /** `document` is '' for the v2 document and the v3 index, else `api/v1` or `apis/<g>/v1`. */
  | { type: 'openapi'; version: 'v2' | 'v3'; document: string }
  | { type: 'object'; resource: KubeResource; namespace?: string; name?: string; subresource?: string }
  | { type: 'unknown' };

const UNKNOWN: Route = { type: 'unknown' };

function decodeSegments(path: string): string[] | undefined {
  const raw = path.split('/').filter((s) => s !== '');
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function objectRoute(group: string, rest: string[]): Route {
  let namespace: string | undefined;
  let parts = rest;
  // `/namespaces/<ns>/<resource>…` scopes a namespaced resource; `/namespaces/<name>` is a Namespace.
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [resource, name, subresource, ...extra] = parts;
  if (resource === undefined || extra.length > 0 || !isKubeResource(resource)) return UNKNOWN;
  const info = KUBE_RESOURCES[resource];
  if (info.group !== group) return UNKNOWN;
  if (namespace !== undefined && !info.namespaced) return UNKNOWN;
  // A namespaced object is only addressable by name inside its namespace.
  if (namespace === undefined && info.namespaced && name !== undefined) return UNKNOWN;
  return {
    type: 'object',
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource }),
  };
}

/** Matches a request path (without query string). */
export function matchRoute(path: string): Route {
  const segments = decodeSegments(path);
  if (!segments) return UNKNOWN;
  const [root, second, third, ...rest] = segments;
  if (root === 'version' && second === undefined) return { type: 'version' };
  if ((root === 'healthz' || root === 'livez' || root === 'readyz') && second === undefined) {
    return { type: 'health' };
  }
  if (root === 'openapi' && (second === 'v2' || second === 'v3')) {
    if (second === 'v2')
      return third === undefined ? { type: 'openapi', version: 'v2', document: '' } : UNKNOWN;
    return { type: 'openapi', version: 'v3', document: segments.slice(2).join('/') };
  }
  if (root === 'api') {
    if (second === undefined) return { type: 'discovery', path: 'api', group: '', version: '' };
    if (second !== 'v1') return UNKNOWN;
    if (third === undefined) return { type: 'discovery', path: 'resources', group: '', version: 'v1' };
    return objectRoute('', [third, ...rest]);
  }
  if (root === 'apis') {
    if (second === undefined) return { type: 'discovery', path: 'apis', group: '', version: '' };
    if (third === undefined) return { type: 'discovery', path: 'group', group: second, version: '' };
    const [resource, ...beyond] = rest;
    if (resource === undefined) {
      return { type: 'discovery', path: 'resources', group: second, version: third };
    }
    if (third !== 'v1') return UNKNOWN;
    const reviews = REVIEW_GROUPS[second as ReviewGroup] as readonly { name: string }[] | undefined;
    if (reviews) {
      const match = reviews.find((r) => r.name === resource);
      return match && beyond.length === 0
        ? { type: 'review', group: second as ReviewGroup, resource: match.name as ReviewResource }
        : UNKNOWN;
    }
    return objectRoute(second, rest);
  }
  return UNKNOWN;
}
