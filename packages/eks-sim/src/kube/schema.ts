// The one description of the object shapes this emulator serves: every message type of the
// served kinds (and of the self-reviews and DeleteOptions), field by field, with its JSON name,
// its protobuf field number and type, and a short description. Three things are derived from it
// so they cannot disagree: the protobuf request decoder (`protobuf.ts`, what kubectl's typed
// commands send), the OpenAPI v2/v3 documents (`openapi.ts`, what `kubectl explain` and
// `kubectl apply`'s validation read), and unknown-field detection (`field-validation.ts`).
//
// Field numbers are those of the Kubernetes API's generated.proto files; descriptions are ours.
import type { KubeResource } from './store.js';

/** A leaf value: `time` is meta/v1 Time (RFC 3339 in JSON), `object` free-form JSON (FieldsV1). */
export type Scalar = 'string' | 'int32' | 'int64' | 'bool' | 'bytes' | 'time' | 'object';

export type FieldType =
  | { scalar: Scalar }
  /** Another message, by its key in MESSAGES. */
  | { ref: string }
  /** map<string, V>; `stringList` is a map of string lists (UserInfo.extra). */
  | { map: 'string' | 'bytes' | 'stringList' };

export interface FieldSpec {
  /** The JSON name. */
  name: string;
  /** The protobuf field number; absent for apiVersion/kind, which protobuf carries in its envelope. */
  proto?: number;
  type: FieldType;
  repeated: boolean;
  required: boolean;
  description: string;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface MessageSpec {
  /** The OpenAPI definition name (`io.k8s.api.rbac.v1.RoleBinding`). */
  id: string;
  description: string;
  fields: FieldSpec[];
  /** Set on top-level kinds. */
  gvk?: GroupVersionKind;
}

const STRING: FieldType = { scalar: 'string' };
const INT64: FieldType = { scalar: 'int64' };
const BOOL: FieldType = { scalar: 'bool' };
const TIME: FieldType = { scalar: 'time' };
const STRING_MAP: FieldType = { map: 'string' };

function ref(name: string): FieldType {
  return { ref: name };
}

interface FieldOptions {
  repeated?: boolean;
  required?: boolean;
}

function field(
  name: string,
  proto: number | undefined,
  type: FieldType,
  description: string,
  options: FieldOptions = {},
): FieldSpec {
  return {
    name,
    ...(proto === undefined ? {} : { proto }),
    type,
    repeated: options.repeated ?? false,
    required: options.required ?? false,
    description,
  };
}

function list(name: string, proto: number, type: FieldType, description: string): FieldSpec {
  return field(name, proto, type, description, { repeated: true });
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** A top-level kind: apiVersion, kind and metadata, then its own fields. */
function kind(id: string, gvk: GroupVersionKind, description: string, fields: FieldSpec[]): MessageSpec {
  return {
    id,
    gvk,
    description,
    fields: [
      field('apiVersion', undefined, STRING, 'The versioned schema of this object, e.g. `v1`.'),
      field('kind', undefined, STRING, 'The REST resource kind this object represents, in CamelCase.'),
      field('metadata', 1, ref('ObjectMeta'), "Standard object's metadata."),
      ...fields,
    ],
  };
}

const RBAC = { group: 'rbac.authorization.k8s.io', version: 'v1' };
const CORE = { group: '', version: 'v1' };

const SCHEMA_DEFINITIONS = {
  ObjectMeta: {
    id: `${META}.ObjectMeta`,
    description: 'Metadata every persisted resource has.',
    fields: [
      field('name', 1, STRING, 'The object name, unique within its namespace. Cannot be updated.'),
      field(
        'generateName',
        2,
        STRING,
        'A prefix the server completes with a random suffix when no name is given.',
      ),
      field('namespace', 3, STRING, 'The namespace the object lives in; empty for cluster-scoped objects.'),
      field('selfLink', 4, STRING, 'Deprecated; never set by the server.'),
      field('uid', 5, STRING, 'Unique id the server assigns on creation. Read-only.'),
      field('resourceVersion', 6, STRING, 'Opaque version for optimistic concurrency. Read-only.'),
      field('generation', 7, INT64, 'Sequence number of the desired state. Read-only.'),
      field('creationTimestamp', 8, TIME, 'When the object was created. Read-only.'),
      field('deletionTimestamp', 9, TIME, 'When the object will be deleted; set by the server. Read-only.'),
      field('deletionGracePeriodSeconds', 10, INT64, 'Seconds allowed for graceful termination. Read-only.'),
      field('labels', 11, STRING_MAP, 'Key/value pairs used to organise and select objects.'),
      field('annotations', 12, STRING_MAP, 'Arbitrary non-identifying key/value metadata.'),
      list('ownerReferences', 13, ref('OwnerReference'), 'Objects this object depends on.'),
      list('finalizers', 14, STRING, 'Must be empty before the object is deleted from the registry.'),
      list('managedFields', 17, ref('ManagedFieldsEntry'), 'Which field manager owns which fields.'),
    ],
  },
  OwnerReference: {
    id: `${META}.OwnerReference`,
    description: 'Identifies an owning object in the same namespace.',
    fields: [
      field('apiVersion', 5, STRING, 'API version of the owner.', { required: true }),
      field('kind', 1, STRING, 'Kind of the owner.', { required: true }),
      field('name', 3, STRING, 'Name of the owner.', { required: true }),
      field('uid', 4, STRING, 'UID of the owner.', { required: true }),
      field('controller', 6, BOOL, 'Whether the owner is the managing controller.'),
      field('blockOwnerDeletion', 7, BOOL, 'Whether the owner cannot be deleted before this object.'),
    ],
  },
  ManagedFieldsEntry: {
    id: `${META}.ManagedFieldsEntry`,
    description: 'The fields one manager owns, in one API version.',
    fields: [
      field('manager', 1, STRING, 'The workflow managing the fields.'),
      field('operation', 2, STRING, 'Apply or Update.'),
      field('apiVersion', 3, STRING, 'The API version the field set applies to.'),
      field('time', 4, TIME, 'When the fields were last changed.'),
      field('fieldsType', 6, STRING, 'The format of fieldsV1; only "FieldsV1".'),
      field('fieldsV1', 7, { scalar: 'object' }, 'The set of owned fields.'),
      field('subresource', 8, STRING, 'The subresource used to change the fields, if any.'),
    ],
  },
  LabelSelector: {
    id: `${META}.LabelSelector`,
    description: 'A label query; the requirements are ANDed. An empty selector matches everything.',
    fields: [
      field('matchLabels', 1, STRING_MAP, 'Labels that must be present with these values.'),
      list('matchExpressions', 2, ref('LabelSelectorRequirement'), 'Further requirements.'),
    ],
  },
  LabelSelectorRequirement: {
    id: `${META}.LabelSelectorRequirement`,
    description: 'A label key, an operator and values.',
    fields: [
      field('key', 1, STRING, 'The label key.', { required: true }),
      field('operator', 2, STRING, 'In, NotIn, Exists or DoesNotExist.', { required: true }),
      list('values', 3, STRING, 'Values for In and NotIn; empty for Exists and DoesNotExist.'),
    ],
  },
  DeleteOptions: {
    id: `${META}.DeleteOptions`,
    description: 'Options of a delete request.',
    gvk: { group: '', version: 'v1', kind: 'DeleteOptions' },
    fields: [
      field('apiVersion', undefined, STRING, 'The versioned schema of this object.'),
      field('kind', undefined, STRING, 'DeleteOptions.'),
      field('gracePeriodSeconds', 1, INT64, 'Seconds before the object is deleted.'),
      field('preconditions', 2, ref('Preconditions'), 'Must hold for the delete to proceed.'),
      field('orphanDependents', 3, BOOL, 'Deprecated; use propagationPolicy.'),
      field('propagationPolicy', 4, STRING, 'Orphan, Background or Foreground.'),
      list('dryRun', 5, STRING, '"All" to process the request without persisting it.'),
    ],
  },
  Preconditions: {
    id: `${META}.Preconditions`,
    description: 'Conditions an object must meet for an operation to proceed.',
    fields: [
      field('uid', 1, STRING, 'The expected UID.'),
      field('resourceVersion', 2, STRING, 'The expected resourceVersion.'),
    ],
  },

  // rbac.authorization.k8s.io/v1
  PolicyRule: {
    id: 'io.k8s.api.rbac.v1.PolicyRule',
    description: 'Actions allowed on resources or non-resource URLs; who gets them is up to the bindings.',
    fields: [
      list('verbs', 1, STRING, "Verbs allowed on every listed resource; '*' is every verb."),
      list('apiGroups', 2, STRING, 'API groups of the resources; "" is the core group, "*" every group.'),
      list('resources', 3, STRING, "Resources the rule covers; '*' is every resource."),
      list('resourceNames', 4, STRING, 'Object names the rule is limited to; empty means every name.'),
      list('nonResourceURLs', 5, STRING, 'URL paths the rule covers (ClusterRoles only); a final * matches.'),
    ],
  },
  AggregationRule: {
    id: 'io.k8s.api.rbac.v1.AggregationRule',
    description: 'Selects the ClusterRoles whose rules are aggregated into this one.',
    fields: [
      list('clusterRoleSelectors', 1, ref('LabelSelector'), 'ClusterRoles matching any selector are added.'),
    ],
  },
  RoleRef: {
    id: 'io.k8s.api.rbac.v1.RoleRef',
    description: 'The role a binding grants.',
    fields: [
      field('apiGroup', 1, STRING, 'The group of the referenced role.', { required: true }),
      field('kind', 2, STRING, 'Role or ClusterRole.', { required: true }),
      field('name', 3, STRING, 'The name of the role.', { required: true }),
    ],
  },
  Subject: {
    id: 'io.k8s.api.rbac.v1.Subject',
    description: 'Who a binding applies to: a user, a group or a service account.',
    fields: [
      field('kind', 1, STRING, 'User, Group or ServiceAccount.', { required: true }),
      field('apiGroup', 2, STRING, '"" for ServiceAccount; "rbac.authorization.k8s.io" for User and Group.'),
      field('name', 3, STRING, 'The name of the subject.', { required: true }),
      field('namespace', 4, STRING, 'The namespace of a ServiceAccount subject.'),
    ],
  },
  ClusterRole: kind(
    'io.k8s.api.rbac.v1.ClusterRole',
    { ...RBAC, kind: 'ClusterRole' },
    'A cluster-level set of PolicyRules, granted by a RoleBinding or ClusterRoleBinding.',
    [
      list('rules', 2, ref('PolicyRule'), 'The rules of this ClusterRole.'),
      field('aggregationRule', 3, ref('AggregationRule'), 'How to build the rules from other ClusterRoles.'),
    ],
  ),
  Role: kind(
    'io.k8s.api.rbac.v1.Role',
    { ...RBAC, kind: 'Role' },
    'A namespaced set of PolicyRules, granted by a RoleBinding in the same namespace.',
    [list('rules', 2, ref('PolicyRule'), 'The rules of this Role.')],
  ),
  ClusterRoleBinding: kind(
    'io.k8s.api.rbac.v1.ClusterRoleBinding',
    { ...RBAC, kind: 'ClusterRoleBinding' },
    'Grants a ClusterRole to subjects across the whole cluster.',
    [
      list('subjects', 2, ref('Subject'), 'Who the role is granted to.'),
      field('roleRef', 3, ref('RoleRef'), 'The ClusterRole granted. Immutable.', { required: true }),
    ],
  ),
  RoleBinding: kind(
    'io.k8s.api.rbac.v1.RoleBinding',
    { ...RBAC, kind: 'RoleBinding' },
    "Grants a Role or ClusterRole to subjects within the binding's namespace.",
    [
      list('subjects', 2, ref('Subject'), 'Who the role is granted to.'),
      field('roleRef', 3, ref('RoleRef'), 'The Role or ClusterRole granted. Immutable.', { required: true }),
    ],
  ),

  // core/v1
  Namespace: kind(
    'io.k8s.api.core.v1.Namespace',
    { ...CORE, kind: 'Namespace' },
    'A scope for names of namespaced objects.',
    [
      field('spec', 2, ref('NamespaceSpec'), 'The desired state of the namespace.'),
      field('status', 3, ref('NamespaceStatus'), 'The observed state of the namespace. Read-only.'),
    ],
  ),
  NamespaceSpec: {
    id: 'io.k8s.api.core.v1.NamespaceSpec',
    description: 'The desired state of a namespace.',
    fields: [list('finalizers', 1, STRING, 'Must be empty before the namespace is removed.')],
  },
  NamespaceStatus: {
    id: 'io.k8s.api.core.v1.NamespaceStatus',
    description: 'The observed state of a namespace.',
    fields: [
      field('phase', 1, STRING, 'Active or Terminating.'),
      list('conditions', 2, ref('NamespaceCondition'), 'The latest observations of its state.'),
    ],
  },
  NamespaceCondition: {
    id: 'io.k8s.api.core.v1.NamespaceCondition',
    description: 'One observation of a namespace.',
    fields: [
      field('type', 1, STRING, 'The condition type.', { required: true }),
      field('status', 2, STRING, 'True, False or Unknown.', { required: true }),
      field('lastTransitionTime', 4, TIME, 'When the status last changed.'),
      field('reason', 5, STRING, 'A machine-readable reason.'),
      field('message', 6, STRING, 'A human-readable explanation.'),
    ],
  },
  ServiceAccount: kind(
    'io.k8s.api.core.v1.ServiceAccount',
    { ...CORE, kind: 'ServiceAccount' },
    'An identity for processes running in pods.',
    [
      list('secrets', 2, ref('ObjectReference'), 'Deprecated; secrets pods of this account may use.'),
      list('imagePullSecrets', 3, ref('LocalObjectReference'), 'Secrets used to pull images.'),
      field('automountServiceAccountToken', 4, BOOL, 'Whether pods mount a token automatically.'),
    ],
  ),
  ObjectReference: {
    id: 'io.k8s.api.core.v1.ObjectReference',
    description: 'A reference to an object.',
    fields: [
      field('kind', 1, STRING, 'Kind of the referent.'),
      field('namespace', 2, STRING, 'Namespace of the referent.'),
      field('name', 3, STRING, 'Name of the referent.'),
      field('uid', 4, STRING, 'UID of the referent.'),
      field('apiVersion', 5, STRING, 'API version of the referent.'),
      field('resourceVersion', 6, STRING, 'The version of the referent.'),
      field('fieldPath', 7, STRING, 'A field within the referent.'),
    ],
  },
  LocalObjectReference: {
    id: 'io.k8s.api.core.v1.LocalObjectReference',
    description: 'A reference to an object in the same namespace.',
    fields: [field('name', 1, STRING, 'Name of the referent.')],
  },
  ConfigMap: kind(
    'io.k8s.api.core.v1.ConfigMap',
    { ...CORE, kind: 'ConfigMap' },
    'Non-confidential key/value configuration.',
    [
      field('data', 2, STRING_MAP, 'UTF-8 values by key.'),
      field('binaryData', 3, { map: 'bytes' }, 'Binary values by key (base64 in JSON).'),
      field('immutable', 4, BOOL, 'When true, data cannot be changed, only the object deleted.'),
    ],
  ),

  // authorization.k8s.io/v1 and authentication.k8s.io/v1 (the self-reviews)
  SelfSubjectAccessReview: kind(
    'io.k8s.api.authorization.v1.SelfSubjectAccessReview',
    { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview' },
    'Asks whether the caller may perform an action.',
    [
      field('spec', 2, ref('SelfSubjectAccessReviewSpec'), 'The action asked about.', { required: true }),
      field('status', 3, ref('SubjectAccessReviewStatus'), 'The answer.'),
    ],
  ),
  SelfSubjectAccessReviewSpec: {
    id: 'io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec',
    description: 'Exactly one of resourceAttributes and nonResourceAttributes.',
    fields: [
      field('resourceAttributes', 1, ref('ResourceAttributes'), 'A resource request.'),
      field('nonResourceAttributes', 2, ref('NonResourceAttributes'), 'A non-resource request.'),
    ],
  },
  ResourceAttributes: {
    id: 'io.k8s.api.authorization.v1.ResourceAttributes',
    description: 'The attributes of a resource request.',
    fields: [
      field('namespace', 1, STRING, 'The namespace; "" for cluster scope or all namespaces.'),
      field('verb', 2, STRING, 'The verb, such as get, list or impersonate.'),
      field('group', 3, STRING, 'The API group.'),
      field('version', 4, STRING, 'The API version.'),
      field('resource', 5, STRING, 'The resource.'),
      field('subresource', 6, STRING, 'The subresource.'),
      field('name', 7, STRING, 'The object name; "" for all.'),
      field('fieldSelector', 8, ref('SelectorAttributes'), 'The field selector of a list or watch.'),
      field('labelSelector', 9, ref('SelectorAttributes'), 'The label selector of a list or watch.'),
    ],
  },
  SelectorAttributes: {
    id: 'io.k8s.api.authorization.v1.SelectorAttributes',
    description: 'A selector, as sent on the request.',
    fields: [field('rawSelector', 1, STRING, 'The selector as a query parameter value.')],
  },
  NonResourceAttributes: {
    id: 'io.k8s.api.authorization.v1.NonResourceAttributes',
    description: 'The attributes of a non-resource request.',
    fields: [
      field('path', 1, STRING, 'The URL path.'),
      field('verb', 2, STRING, 'The lower-cased HTTP method.'),
    ],
  },
  SubjectAccessReviewStatus: {
    id: 'io.k8s.api.authorization.v1.SubjectAccessReviewStatus',
    description: 'The answer to an access review.',
    fields: [
      field('allowed', 1, BOOL, 'Whether the action is allowed.', { required: true }),
      field('denied', 4, BOOL, 'Whether the action is explicitly denied.'),
      field('reason', 2, STRING, 'Why.'),
      field('evaluationError', 3, STRING, 'An error met while deciding.'),
    ],
  },
  SelfSubjectRulesReview: kind(
    'io.k8s.api.authorization.v1.SelfSubjectRulesReview',
    { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview' },
    'Lists the actions the caller may perform in a namespace.',
    [
      field('spec', 2, ref('SelfSubjectRulesReviewSpec'), 'The namespace asked about.', { required: true }),
      field('status', 3, ref('SubjectRulesReviewStatus'), 'The rules.'),
    ],
  ),
  SelfSubjectRulesReviewSpec: {
    id: 'io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec',
    description: 'The namespace of a rules review.',
    fields: [field('namespace', 1, STRING, 'The namespace to evaluate rules in.')],
  },
  SubjectRulesReviewStatus: {
    id: 'io.k8s.api.authorization.v1.SubjectRulesReviewStatus',
    description: 'The rules that apply.',
    fields: [
      list('resourceRules', 1, ref('ResourceRule'), 'Rules for resources.'),
      list('nonResourceRules', 2, ref('NonResourceRule'), 'Rules for non-resource URLs.'),
      field('incomplete', 3, BOOL, 'Whether the list may be missing rules.', { required: true }),
      field('evaluationError', 4, STRING, 'An error met while listing.'),
    ],
  },
  ResourceRule: {
    id: 'io.k8s.api.authorization.v1.ResourceRule',
    description: 'Verbs allowed on resources.',
    fields: [
      list('verbs', 1, STRING, 'The verbs.'),
      list('apiGroups', 2, STRING, 'The API groups.'),
      list('resources', 3, STRING, 'The resources.'),
      list('resourceNames', 4, STRING, 'The object names.'),
    ],
  },
  NonResourceRule: {
    id: 'io.k8s.api.authorization.v1.NonResourceRule',
    description: 'Verbs allowed on URL paths.',
    fields: [list('verbs', 1, STRING, 'The verbs.'), list('nonResourceURLs', 2, STRING, 'The URL paths.')],
  },
  SelfSubjectReview: kind(
    'io.k8s.api.authentication.v1.SelfSubjectReview',
    { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview' },
    'Returns who the caller is authenticated as (`kubectl auth whoami`).',
    [field('status', 2, ref('SelfSubjectReviewStatus'), 'The caller.')],
  ),
  SelfSubjectReviewStatus: {
    id: 'io.k8s.api.authentication.v1.SelfSubjectReviewStatus',
    description: 'The user the request was authenticated as.',
    fields: [field('userInfo', 1, ref('UserInfo'), 'The user.')],
  },
  UserInfo: {
    id: 'io.k8s.api.authentication.v1.UserInfo',
    description: 'A user as an authenticator reports it.',
    fields: [
      field('username', 1, STRING, 'The user name.'),
      field('uid', 2, STRING, 'A unique id for the user.'),
      list('groups', 3, STRING, 'The groups the user is in.'),
      field('extra', 4, { map: 'stringList' }, 'Any further information the authenticator gave.'),
    ],
  },
} satisfies Record<string, MessageSpec>;

export type MessageName = keyof typeof SCHEMA_DEFINITIONS;

/** Every message by name; `ref` fields name their message here. */
export const MESSAGES: Readonly<Record<string, MessageSpec>> = SCHEMA_DEFINITIONS;

/** A message by name; throws on a dangling reference (a bug in this file). */
export function message(name: string): MessageSpec {
  const spec = Object.hasOwn(MESSAGES, name) ? MESSAGES[name] : undefined;
  if (!spec) throw new Error(`schema: no message ${name}`);
  return spec;
}

/** The message of each stored resource. */
export const RESOURCE_MESSAGES: Readonly<Record<KubeResource, MessageName>> = {
  namespaces: 'Namespace',
  serviceaccounts: 'ServiceAccount',
  configmaps: 'ConfigMap',
  clusterroles: 'ClusterRole',
  roles: 'Role',
  clusterrolebindings: 'ClusterRoleBinding',
  rolebindings: 'RoleBinding',
};

/** The message a request body of this kind decodes to (for the protobuf envelope's kind). */
export function messageForKind(kindName: string): MessageSpec | undefined {
  const spec = Object.hasOwn(MESSAGES, kindName) ? MESSAGES[kindName] : undefined;
  return spec?.gvk ? spec : undefined;
}
