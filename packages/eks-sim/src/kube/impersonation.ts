// User impersonation (`kubectl --as/--as-group/--as-uid`), as the API server's impersonation
// filter does it, between authentication and everything else: each `Impersonate-*` header is one
// thing to impersonate, and the caller must be allowed the `impersonate` verb on each, by the
// same authorizer as every request:
//   Impersonate-User u                  users "u" (core group), or serviceaccounts "n" in namespace
//                                       "ns" for `system:serviceaccount:ns:n`
//   Impersonate-Group g (repeatable)    groups "g" (core group)
//   Impersonate-Uid x                   uids "x" (authentication.k8s.io)
//   Impersonate-Extra-<key> v           userextras/<key> "v" (authentication.k8s.io)
// The first refusal is the request's 403. Otherwise the request carries on as the impersonated
// user: the given name, groups (a service account's two groups when none are given) plus
// `system:authenticated`, uid and extras; nothing of the caller's identity is kept, so the
// caller's EKS access policies (tied to its IAM principal) do not apply to it. Groups, uid or
// extras without a user are a 400.
import type { IncomingHttpHeaders } from 'node:http';
import type { Cluster } from '../world/types.js';
import type { KubeUser } from './authn.js';
import { authorize, forbidden, type ResourceAttributes } from './authz.js';
import { kubeErrors } from './status.js';

const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';
const ANONYMOUS = 'system:anonymous';
const SA_PREFIX = 'system:serviceaccount:';
const EXTRA_PREFIX = 'impersonate-extra-';

type Request =
  | { kind: 'User'; name: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string }
  | { kind: 'Group'; name: string }
  | { kind: 'UID'; name: string }
  | { kind: 'UserExtra'; key: string; name: string };

/** Headers as lists of values (Node joins repeated unknown headers with ", " in `headers`). */
export type HeaderLists = Partial<Record<string, string[]>>;

function values(headers: HeaderLists, name: string): string[] {
  return headers[name] ?? [];
}

function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined;
  return { namespace: parts[0]!, name: parts[1]! };
}

function decodeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** How Go prints an ObjectReference with %v, for the 400's message. */
function describe(r: Request): string {
  const fields =
    r.kind === 'ServiceAccount'
      ? [r.kind, r.namespace, r.name, '', '', '', '']
      : r.kind === 'UserExtra'
        ? [r.kind, '', r.name, '', 'authentication.k8s.io/v1', '', r.key]
        : [r.kind, '', r.name, '', r.kind === 'UID' ? 'authentication.k8s.io/v1' : '', '', ''];
  return `{${fields.join(' ')}}`;
}

function requestsOf(headers: HeaderLists): Request[] {
  const requests: Request[] = [];
  const user = values(headers, 'impersonate-user')[0] ?? '';
  if (user !== '') {
    const sa = splitServiceAccount(user);
    requests.push(sa ? { kind: 'ServiceAccount', ...sa } : { kind: 'User', name: user });
  }
  for (const group of values(headers, 'impersonate-group')) requests.push({ kind: 'Group', name: group });
  for (const [header, list] of Object.entries(headers)) {
    if (!header.startsWith(EXTRA_PREFIX) || !list) continue;
    const key = decodeExtraKey(header.slice(EXTRA_PREFIX.length).toLowerCase());
    for (const value of list) requests.push({ kind: 'UserExtra', key, name: value });
  }
  const uid = values(headers, 'impersonate-uid')[0] ?? '';
  if (uid !== '') requests.push({ kind: 'UID', name: uid });
  if (user === '' && requests.length > 0) {
    throw kubeErrors.badRequest(
      `requested [${requests.map(describe).join(' ')}] without impersonating a user`,
    );
  }
  return requests;
}

function attributesOf(r: Request): ResourceAttributes {
  const base = { kind: 'resource' as const, verb: 'impersonate', name: r.name, namespace: '' };
  switch (r.kind) {
    case 'User':
      return { ...base, group: '', resource: 'users' };
    case 'ServiceAccount':
      return { ...base, group: '', resource: 'serviceaccounts', namespace: r.namespace };
    case 'Group':
      return { ...base, group: '', resource: 'groups' };
    case 'UID':
      return { ...base, group: 'authentication.k8s.io', resource: 'uids' };
    case 'UserExtra':
      return { ...base, group: 'authentication.k8s.io', resource: 'userextras', subresource: r.key };
  }
}

/** Lower-cased header names mapped to every value sent (IncomingMessage.headersDistinct). */
export function headerLists(headers: IncomingHttpHeaders | Record<string, string[]>): HeaderLists {
  const out: HeaderLists = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value : [value];
  }
  return out;
}

/**
 * The user a request runs as: the caller itself without impersonation headers, else the
 * impersonated user once every impersonation is authorized (a 403 for the first that is not).
 */
export function impersonate(cluster: Cluster, caller: KubeUser, headers: HeaderLists): KubeUser {
  const requests = requestsOf(headers);
  if (requests.length === 0) return caller;
  const groupsGiven = values(headers, 'impersonate-group').length > 0;
  let username = '';
  let uid = '';
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attrs = attributesOf(r);
    if (!authorize(cluster, caller, attrs).allowed) throw forbidden(caller, attrs);
    switch (r.kind) {
      case 'User':
        username = r.name;
        break;
      case 'ServiceAccount':
        username = `${SA_PREFIX}${r.namespace}:${r.name}`;
        if (!groupsGiven) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UID':
        uid = r.name;
        break;
      case 'UserExtra':
        (extra[r.key] ??= []).push(r.name);
        break;
    }
  }
  if (username !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) {
    groups.push(UNAUTHENTICATED);
  }
  return { username, groups, uid, extra, mappedBy: caller.mappedBy, impersonatedBy: caller.username };
}
