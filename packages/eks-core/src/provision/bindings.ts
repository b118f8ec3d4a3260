// RBAC bindings: find the ones in one scope that give a role to a principal's subjects, create the
// connector's own (deterministic name, managed-by label), and take a principal's subjects out of
// any binding on revoke. Every decision reads the bindings fresh; writes carry the resourceVersion
// read, and a 409 means "read again and redo".
import type { RbacV1Subject, V1ObjectMeta, V1RoleRef } from '@kubernetes/client-node';
import { EksAccessError } from '../errors.js';
import { FIELD_MANAGER, noConflictRetry, type ProvisionContext } from './context.js';
import type { Subject } from './identity.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, bindingName } from './names.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const MAX_ATTEMPTS = 5;
const PAGE = 500;

/** Where a binding lives: ClusterRoleBindings for the cluster, RoleBindings in one namespace. */
export type BindingScope = { kind: 'cluster' } | { kind: 'namespace'; namespace: string };

/** The role a binding must reference. */
export interface WantedRole {
  kind: 'ClusterRole' | 'Role';
  name: string;
}

interface Binding {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  roleRef: V1RoleRef;
  subjects?: RbacV1Subject[];
}

// The two binding kinds differ only in their endpoints.
interface BindingApi {
  resource: 'clusterrolebindings' | 'rolebindings';
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  namespace?: string;
  list(cont: string | undefined): Promise<{ items: Binding[]; metadata?: { _continue?: string } }>;
  read(name: string): Promise<Binding>;
  create(body: Binding): Promise<Binding>;
  replace(name: string, body: Binding): Promise<Binding>;
  remove(name: string, resourceVersion: string | undefined): Promise<unknown>;
}

function apiFor(ctx: ProvisionContext, scope: BindingScope): BindingApi {
  const rbac = ctx.kube.rbac;
  const preconditions = (rv: string | undefined) =>
    rv ? { body: { preconditions: { resourceVersion: rv } } } : {};
  if (scope.kind === 'cluster') {
    return {
      resource: 'clusterrolebindings',
      kind: 'ClusterRoleBinding',
      list: (cont) => rbac.listClusterRoleBinding({ limit: PAGE, ...(cont ? { _continue: cont } : {}) }),
      read: (name) => rbac.readClusterRoleBinding({ name }),
      create: (body) => rbac.createClusterRoleBinding({ body, fieldManager: FIELD_MANAGER }),
      replace: (name, body) => rbac.replaceClusterRoleBinding({ name, body, fieldManager: FIELD_MANAGER }),
      remove: (name, rv) => rbac.deleteClusterRoleBinding({ name, ...preconditions(rv) }),
    };
  }
  const namespace = scope.namespace;
  return {
    resource: 'rolebindings',
    kind: 'RoleBinding',
    namespace,
    list: (cont) =>
      rbac.listNamespacedRoleBinding({ namespace, limit: PAGE, ...(cont ? { _continue: cont } : {}) }),
    read: (name) => rbac.readNamespacedRoleBinding({ name, namespace }),
    create: (body) => rbac.createNamespacedRoleBinding({ namespace, body, fieldManager: FIELD_MANAGER }),
    replace: (name, body) =>
      rbac.replaceNamespacedRoleBinding({ name, namespace, body, fieldManager: FIELD_MANAGER }),
    remove: (name, rv) => rbac.deleteNamespacedRoleBinding({ name, namespace, ...preconditions(rv) }),
  };
}

function pathOf(api: BindingApi, name: string): string {
  return api.namespace ? `${api.namespace}/${name}` : name;
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof EksAccessError && codes.includes(err.code);
}

/** True when the binding references the wanted role (roleRef is immutable, so this never changes). */
export function referencesRole(binding: Binding, role: WantedRole): boolean {
  return (
    binding.roleRef.kind === role.kind &&
    binding.roleRef.name === role.name &&
    (binding.roleRef.apiGroup ?? RBAC_GROUP) === RBAC_GROUP
  );
}

function sameSubject(s: RbacV1Subject, want: Subject): boolean {
  return (
    s.kind === want.kind &&
    s.name === want.name &&
    (s.apiGroup === undefined || s.apiGroup === '' || s.apiGroup === RBAC_GROUP)
  );
}

function isOwned(binding: Binding): boolean {
  return binding.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

/** A binding as the audit trail keeps it: what it grants and to whom, without server bookkeeping. */
function auditCopy(binding: Binding | undefined): unknown {
  if (!binding) return null;
  const m = binding.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
      resourceVersion: m.resourceVersion,
    },
    roleRef: binding.roleRef,
    subjects: binding.subjects ?? [],
  };
}

async function listAll(ctx: ProvisionContext, api: BindingApi): Promise<Binding[]> {
  const out: Binding[] = [];
  let cont: string | undefined;
  do {
    const current = cont;
    const page = await ctx.kube.call(`kube:list:${api.resource}`, api.namespace, () => api.list(current));
    out.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return out;
}

/** Bindings in the scope that give `role` to any of `subjects`, with the matching subjects. */
export async function bindingsGranting(
  ctx: ProvisionContext,
  scope: BindingScope,
  role: WantedRole,
  subjects: Subject[],
): Promise<{ name: string; subjects: Subject[] }[]> {
  if (subjects.length === 0) return [];
  const api = apiFor(ctx, scope);
  return (await listAll(ctx, api))
    .filter((b) => referencesRole(b, role))
    .map((b) => ({
      name: pathOf(api, b.metadata?.name ?? ''),
      subjects: subjects.filter((want) => (b.subjects ?? []).some((s) => sameSubject(s, want))),
    }))
    .filter((b) => b.subjects.length > 0);
}

function toRbacSubject(subject: Subject): RbacV1Subject {
  return { apiGroup: RBAC_GROUP, kind: subject.kind, name: subject.name };
}

/**
 * Makes sure the connector's binding of `role` to `subject` exists. It is found by its
 * deterministic name; one that exists without the managed-by label, or for another role, is
 * someone else's object under our name and is refused rather than taken over.
 */
export async function ensureBinding(
  ctx: ProvisionContext,
  scope: BindingScope,
  role: WantedRole,
  subject: Subject,
): Promise<void> {
  const api = apiFor(ctx, scope);
  const name = bindingName(role.name, ctx.principal.arn, api.namespace);
  const path = pathOf(api, name);
  const { kube, log } = ctx;
  for (let attempt = 1; ; attempt++) {
    let existing: Binding | undefined;
    try {
      existing = await kube.call(`kube:get:${api.resource}`, path, () => api.read(name));
    } catch (err) {
      if (!isCode(err, 'NOT_FOUND')) throw err;
    }
    try {
      if (!existing) {
        const body: Binding = {
          apiVersion: `${RBAC_GROUP}/v1`,
          kind: api.kind,
          metadata: {
            name,
            ...(api.namespace ? { namespace: api.namespace } : {}),
            labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
          },
          roleRef: { apiGroup: RBAC_GROUP, kind: role.kind, name: role.name },
          subjects: [toRbacSubject(subject)],
        };
        await log.write(
          {
            system: 'kubernetes',
            operation: `create:${api.resource}`,
            target: path,
            request: body,
            before: null,
            after: auditCopy(body),
          },
          () => kube.call(`kube:create:${api.resource}`, path, () => api.create(body), noConflictRetry),
          (r) => auditCopy(r),
        );
        return;
      }
      if (!isOwned(existing) || !referencesRole(existing, role)) {
        throw new EksAccessError(
          'PROVISIONING_REFUSED',
          `${api.kind} ${path} exists but was not created by the connector for ${role.kind} ${role.name}; it is left alone (delete or rename it to let the connector use its name)`,
        );
      }
      if ((existing.subjects ?? []).some((s) => sameSubject(s, subject))) {
        log.unchanged({
          system: 'kubernetes',
          operation: `update:${api.resource}`,
          target: path,
          before: auditCopy(existing),
          note: `already binds ${subject.kind} ${subject.name}`,
        });
        return;
      }
      const body: Binding = { ...existing, subjects: [...(existing.subjects ?? []), toRbacSubject(subject)] };
      await log.write(
        {
          system: 'kubernetes',
          operation: `update:${api.resource}`,
          target: path,
          request: body,
          before: auditCopy(existing),
          after: auditCopy(body),
          note: `adds ${subject.kind} ${subject.name} to the connector's binding`,
        },
        () => kube.call(`kube:update:${api.resource}`, path, () => api.replace(name, body), noConflictRetry),
        (r) => auditCopy(r),
      );
      return;
    } catch (err) {
      // AlreadyExists: created between our read and our write. Conflict / NotFound: changed or
      // deleted since we read it. Either way, read again.
      if (!isCode(err, 'ALREADY_EXISTS', 'KUBE_CONFLICT', 'NOT_FOUND') || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/**
 * Removes `subjects` from every binding in the scope that gives `role`. The connector's own
 * bindings are deleted once empty; anyone else's keep their other subjects (and their full
 * previous state goes into the step's `before`). Returns how many bindings changed.
 */
export async function removeSubjects(
  ctx: ProvisionContext,
  scope: BindingScope,
  role: WantedRole,
  subjects: Subject[],
): Promise<number> {
  const api = apiFor(ctx, scope);
  const { kube, log } = ctx;
  let changed = 0;
  const holders = (await listAll(ctx, api)).filter(
    (b) => referencesRole(b, role) && (b.subjects ?? []).some((s) => subjects.some((w) => sameSubject(s, w))),
  );
  for (const first of holders) {
    const name = first.metadata?.name ?? '';
    const path = pathOf(api, name);
    let current: Binding | undefined = first;
    for (let attempt = 1; current; attempt++) {
      const binding: Binding = current;
      const remaining = (binding.subjects ?? []).filter((s) => !subjects.some((w) => sameSubject(s, w)));
      const removed = (binding.subjects ?? []).filter((s) => subjects.some((w) => sameSubject(s, w)));
      if (removed.length === 0) break;
      const removedText = removed.map((s) => `${s.kind} ${s.name}`).join(', ');
      const rv = binding.metadata?.resourceVersion;
      try {
        if (remaining.length === 0 && isOwned(binding)) {
          await log.write(
            {
              system: 'kubernetes',
              operation: `delete:${api.resource}`,
              target: path,
              request: { preconditions: { resourceVersion: rv } },
              before: auditCopy(binding),
              after: null,
              note: `the connector's binding is empty without ${removedText}`,
            },
            () => kube.call(`kube:delete:${api.resource}`, path, () => api.remove(name, rv), noConflictRetry),
          );
        } else {
          const body: Binding = { ...binding, subjects: remaining };
          const whose = isOwned(binding)
            ? "the connector's binding"
            : 'a binding the connector does not own; its other subjects stay';
          await log.write(
            {
              system: 'kubernetes',
              operation: `update:${api.resource}`,
              target: path,
              request: body,
              before: auditCopy(binding),
              after: auditCopy(body),
              note: `removes ${removedText} from ${whose}`,
            },
            () =>
              kube.call(`kube:update:${api.resource}`, path, () => api.replace(name, body), noConflictRetry),
            (r) => auditCopy(r),
          );
        }
        changed++;
        break;
      } catch (err) {
        if (isCode(err, 'NOT_FOUND')) break; // already gone
        if (!isCode(err, 'KUBE_CONFLICT') || attempt >= MAX_ATTEMPTS) throw err;
        try {
          current = await kube.call(`kube:get:${api.resource}`, path, () => api.read(name));
        } catch (readErr) {
          if (isCode(readErr, 'NOT_FOUND')) break;
          throw readErr;
        }
      }
    }
  }
  return changed;
}
