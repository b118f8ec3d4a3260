// The self-review APIs: SelfSubjectAccessReview ("may I do X?", `kubectl auth can-i`),
// SelfSubjectRulesReview (`kubectl auth can-i --list`) and SelfSubjectReview (`kubectl auth whoami`).
// They answer for the caller with the same authorizer that guards every request.
import type { Cluster } from '../world/types.js';
import type { KubeUser } from './authn.js';
import { authorize, rulesFor, type RequestAttributes } from './authz.js';
import type { ReviewResource } from './discovery.js';
import type { Reply } from './handlers.js';
import { KubeError, kubeErrors } from './status.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function accessReview(
  cluster: Cluster,
  user: KubeUser,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const spec = isRecord(body.spec) ? body.spec : {};
  let attrs: RequestAttributes;
  if (isRecord(spec.resourceAttributes)) {
    const r = spec.resourceAttributes;
    attrs = {
      kind: 'resource',
      verb: str(r.verb),
      group: str(r.group),
      resource: str(r.resource),
      ...(str(r.subresource) ? { subresource: str(r.subresource) } : {}),
      namespace: str(r.namespace),
      name: str(r.name),
    };
  } else if (isRecord(spec.nonResourceAttributes)) {
    attrs = {
      kind: 'nonResource',
      verb: str(spec.nonResourceAttributes.verb),
      path: str(spec.nonResourceAttributes.path),
    };
  } else {
    const message =
      'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified';
    throw new KubeError(
      422,
      'Invalid',
      `SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: ${message}`,
      {
        group: 'authorization.k8s.io',
        kind: 'SelfSubjectAccessReview',
        causes: [{ reason: 'FieldValueRequired', field: 'spec.resourceAttributes', message }],
      },
    );
  }
  const decision = authorize(cluster, user, attrs);
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec,
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  };
}

function rulesReview(
  cluster: Cluster,
  user: KubeUser,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const spec = isRecord(body.spec) ? body.spec : {};
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec,
    status: rulesFor(cluster, user, str(spec.namespace)),
  };
}

function subjectReview(user: KubeUser): Record<string, unknown> {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: {},
    status: { userInfo: { username: user.username, uid: user.uid, groups: user.groups, extra: user.extra } },
  };
}

/** Answers a POST to one of the self-review resources. */
export function handleReview(
  cluster: Cluster,
  user: KubeUser,
  resource: ReviewResource,
  body: unknown,
): Reply {
  if (!isRecord(body)) throw kubeErrors.badRequest('the request body is not a review object');
  switch (resource) {
    case 'selfsubjectaccessreviews':
      return { status: 201, body: JSON.stringify(accessReview(cluster, user, body)) };
    case 'selfsubjectrulesreviews':
      return { status: 201, body: JSON.stringify(rulesReview(cluster, user, body)) };
    case 'selfsubjectreviews':
      return { status: 201, body: JSON.stringify(subjectReview(user)) };
  }
}
