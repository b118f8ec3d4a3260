// Object validation and defaulting, for the subset of the API server's rules a client can trip
// over: name formats per kind, label syntax, ConfigMap keys, RBAC rules/roleRef/subjects, and the
// defaults the server fills in (subject apiGroup, Namespace finalizers and metadata.name label).
// Problems are collected as field causes and answered as one 422 Invalid, like the real server.
import { deepEqual } from './patch.js';
import { labelKeyProblem, labelValueProblem } from './selectors.js';
import { kubeErrors, type StatusCause } from './status.js';
import { KUBE_RESOURCES, type KubeObject, type KubeObjectInput, type KubeResource } from './store.js';

type Cause = Required<StatusCause>;

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function invalidValue(field: string, value: unknown, detail: string): Cause {
  return {
    reason: 'FieldValueInvalid',
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  };
}

function required(field: string, detail = ''): Cause {
  return {
    reason: 'FieldValueRequired',
    field,
    message: detail ? `Required value: ${detail}` : 'Required value',
  };
}

function unsupported(field: string, value: unknown, supported: string[]): Cause {
  return {
    reason: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  };
}

/** Problems with an object name: Namespaces are DNS labels, RBAC objects path segments, others DNS subdomains. */
export function nameProblems(resource: KubeResource, name: string, field = 'metadata.name'): Cause[] {
  if (resource === 'namespaces') {
    if (name.length > 63) return [invalidValue(field, name, 'must be no more than 63 characters')];
    return LABEL.test(name) ? [] : [invalidValue(field, name, LABEL_MESSAGE)];
  }
  if (KUBE_RESOURCES[resource].group === RBAC_GROUP) {
    // RBAC names only need to be usable in a URL path: `system:aggregate-to-view` is valid.
    if (name === '.' || name === '..') return [invalidValue(field, name, `may not be '${name}'`)];
    for (const bad of ['/', '%']) {
      if (name.includes(bad)) return [invalidValue(field, name, `may not contain '${bad}'`)];
    }
    return [];
  }
  if (name.length > 253) return [invalidValue(field, name, 'must be no more than 253 characters')];
  return SUBDOMAIN.test(name) ? [] : [invalidValue(field, name, SUBDOMAIN_MESSAGE)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    // The real server fails to decode such a body before validation runs.
    throw kubeErrors.badRequest(
      `json: cannot unmarshal ${field} into Go struct field of type map[string]string`,
    );
  }
  return value as Record<string, string>;
}

function metadataProblems(meta: Record<string, unknown>): Cause[] {
  const causes: Cause[] = [];
  const labels = stringMap(meta.labels, 'metadata.labels');
  for (const [key, value] of Object.entries(labels ?? {})) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) causes.push(invalidValue('metadata.labels', key, keyProblem));
    const valueProblem = labelValueProblem(value);
    if (valueProblem) causes.push(invalidValue(`metadata.labels`, value, valueProblem));
  }
  const annotations = stringMap(meta.annotations, 'metadata.annotations');
  for (const key of Object.keys(annotations ?? {})) {
    const keyProblem = labelKeyProblem(key.toLowerCase());
    if (keyProblem) causes.push(invalidValue('metadata.annotations', key, keyProblem));
  }
  return causes;
}

function ruleProblems(rules: unknown, namespaced: boolean): Cause[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) {
    throw kubeErrors.badRequest('json: cannot unmarshal rules into Go struct field of type []v1.PolicyRule');
  }
  const causes: Cause[] = [];
  rules.forEach((raw, i) => {
    const path = `rules[${i}]`;
    if (!isRecord(raw)) {
      causes.push(invalidValue(path, raw, 'must be an object'));
      return;
    }
    const list = (key: string): string[] => {
      const v = raw[key];
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
        throw kubeErrors.badRequest(
          `json: cannot unmarshal ${path}.${key} into Go struct field PolicyRule.${key} of type []string`,
        );
      }
      return v;
    };
    const verbs = list('verbs');
    const apiGroups = list('apiGroups');
    const resources = list('resources');
    const resourceNames = list('resourceNames');
    const nonResourceURLs = list('nonResourceURLs');
    if (verbs.length === 0) causes.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
    if (nonResourceURLs.length > 0) {
      if (namespaced) {
        causes.push(
          invalidValue(
            `${path}.nonResourceURLs`,
            nonResourceURLs,
            'namespaced rules cannot apply to non-resource URLs',
          ),
        );
      }
      if (apiGroups.length > 0 || resources.length > 0 || resourceNames.length > 0) {
        causes.push(
          invalidValue(
            `${path}.nonResourceURLs`,
            nonResourceURLs,
            'rules cannot apply to both regular resources and non-resource URLs',
          ),
        );
      }
      return;
    }
    if (apiGroups.length === 0) {
      causes.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
    }
    if (resources.length === 0) {
      causes.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
    }
  });
  return causes;
}

/** Fills in the defaults the RBAC API applies: subject and roleRef apiGroups. */
function defaultBinding(obj: KubeObjectInput): void {
  const roleRef = obj.roleRef;
  if (isRecord(roleRef) && (roleRef.apiGroup === undefined || roleRef.apiGroup === '')) {
    roleRef.apiGroup = RBAC_GROUP;
  }
  if (Array.isArray(obj.subjects)) {
    for (const subject of obj.subjects as unknown[]) {
      if (!isRecord(subject) || (subject.apiGroup !== undefined && subject.apiGroup !== '')) continue;
      if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = RBAC_GROUP;
    }
  }
}

function bindingProblems(obj: KubeObjectInput, namespaced: boolean): Cause[] {
  const causes: Cause[] = [];
  const roleRef = obj.roleRef;
  if (!isRecord(roleRef)) causes.push(required('roleRef'));
  else {
    const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (!kinds.includes(roleRef.kind as string)) {
      causes.push(unsupported('roleRef.kind', roleRef.kind ?? '', kinds));
    }
    if (roleRef.apiGroup !== RBAC_GROUP) {
      causes.push(unsupported('roleRef.apiGroup', roleRef.apiGroup ?? '', [RBAC_GROUP]));
    }
    if (typeof roleRef.name !== 'string' || roleRef.name === '') causes.push(required('roleRef.name'));
    else
      causes.push(
        ...nameProblems(
          namespaced && roleRef.kind === 'Role' ? 'roles' : 'clusterroles',
          roleRef.name,
          'roleRef.name',
        ),
      );
  }
  const subjects = obj.subjects;
  if (subjects !== undefined && subjects !== null && !Array.isArray(subjects)) {
    throw kubeErrors.badRequest('json: cannot unmarshal subjects into Go struct field of type []v1.Subject');
  }
  ((subjects as unknown[] | null | undefined) ?? []).forEach((raw, i) => {
    const path = `subjects[${i}]`;
    if (!isRecord(raw)) {
      causes.push(invalidValue(path, raw, 'must be an object'));
      return;
    }
    if (typeof raw.name !== 'string' || raw.name === '') causes.push(required(`${path}.name`));
    switch (raw.kind) {
      case 'ServiceAccount':
        if (raw.apiGroup !== undefined && raw.apiGroup !== '') {
          causes.push(unsupported(`${path}.apiGroup`, raw.apiGroup, ['']));
        }
        if (!namespaced && (typeof raw.namespace !== 'string' || raw.namespace === '')) {
          causes.push(required(`${path}.namespace`));
        }
        break;
      case 'User':
      case 'Group':
        if (raw.apiGroup !== RBAC_GROUP) {
          causes.push(unsupported(`${path}.apiGroup`, raw.apiGroup ?? '', [RBAC_GROUP]));
        }
        break;
      default:
        causes.push(unsupported(`${path}.kind`, raw.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return causes;
}

/**
 * Applies defaults to `obj` (in place) and validates it; throws a 422 Invalid naming every
 * problem, or a 400 for shapes the real server could not even decode.
 */
export function validateObject(resource: KubeResource, obj: KubeObjectInput, previous?: KubeObject): void {
  const info = KUBE_RESOURCES[resource];
  const name = obj.metadata.name;
  const causes: Cause[] = [...nameProblems(resource, name), ...metadataProblems(obj.metadata)];
  switch (resource) {
    case 'namespaces': {
      obj.metadata.labels = {
        ...stringMap(obj.metadata.labels, 'metadata.labels'),
        'kubernetes.io/metadata.name': name,
      };
      const spec = isRecord(obj.spec) ? obj.spec : {};
      obj.spec = { ...spec, finalizers: Array.isArray(spec.finalizers) ? spec.finalizers : ['kubernetes'] };
      // status is a subresource: a write to the object itself keeps the stored status.
      obj.status = previous?.status ?? { phase: 'Active' };
      break;
    }
    case 'configmaps': {
      const data = stringMap(obj.data, 'data');
      const binary = stringMap(obj.binaryData, 'binaryData');
      for (const key of [...Object.keys(data ?? {}), ...Object.keys(binary ?? {})]) {
        if (!CONFIG_KEY.test(key) || key.length > 253) {
          causes.push(
            invalidValue(
              `data`,
              key,
              "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ),
          );
        }
        if (data && binary && Object.hasOwn(data, key) && Object.hasOwn(binary, key)) {
          causes.push(invalidValue('data', key, 'duplicate of key present in binaryData'));
        }
      }
      break;
    }
    case 'roles':
    case 'clusterroles':
      causes.push(...ruleProblems(obj.rules, info.namespaced));
      break;
    case 'rolebindings':
    case 'clusterrolebindings':
      defaultBinding(obj);
      causes.push(...bindingProblems(obj, info.namespaced));
      if (previous && !deepEqual(previous.roleRef, obj.roleRef)) {
        causes.push(invalidValue('roleRef', obj.roleRef, 'cannot change roleRef'));
      }
      break;
    case 'serviceaccounts':
      break;
  }
  if (causes.length > 0) throw kubeErrors.invalid(resource, name, causes);
}

/** Reads a request body as a Kubernetes object: a JSON object with an object `metadata`. */
export function asObjectInput(body: unknown, resource: KubeResource): KubeObjectInput {
  const info = KUBE_RESOURCES[resource];
  if (!isRecord(body)) throw kubeErrors.badRequest(`the body of the request is not a ${info.kind} object`);
  const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw kubeErrors.badRequest(
      `the API version in the data (${JSON.stringify(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (body.kind !== undefined && body.kind !== info.kind) {
    throw kubeErrors.badRequest(
      `the kind in the data (${JSON.stringify(body.kind)}) does not match the expected kind (${info.kind})`,
    );
  }
  const metadata = body.metadata ?? {};
  if (!isRecord(metadata)) {
    throw kubeErrors.badRequest('json: cannot unmarshal metadata into Go struct field of type v1.ObjectMeta');
  }
  for (const key of ['name', 'namespace', 'resourceVersion', 'generateName'] as const) {
    if (metadata[key] !== undefined && typeof metadata[key] !== 'string') {
      throw kubeErrors.badRequest(
        `json: cannot unmarshal metadata.${key} into Go struct field ObjectMeta.${key} of type string`,
      );
    }
  }
  return { ...body, metadata: { ...metadata, name: (metadata.name as string | undefined) ?? '' } };
}

/** A name-less create: the server draws the name from generateName, or refuses. */
export function requireName(resource: KubeResource, input: KubeObjectInput, random: () => string): void {
  if (input.metadata.name !== '') return;
  const generateName = input.metadata.generateName;
  if (typeof generateName === 'string' && generateName !== '') {
    input.metadata.name = `${generateName}${random()}`;
    return;
  }
  throw kubeErrors.invalid(resource, '', [required('metadata.name', 'name or generateName is required')]);
}
