// cluster_role and namespace_role entitlements: a binding in the entitlement's own scope (a
// ClusterRoleBinding for `all`, a RoleBinding in that namespace only otherwise) to a subject the
// principal really carries.
import type { ProvisionContext } from './context.js';
import {
  bindingsGranting,
  ensureBinding,
  removeSubjects,
  type BindingScope,
  type WantedRole,
} from './bindings.js';
import { currentIdentity, ensureReachable, ownSubjects, type Subject } from './identity.js';
import { namespaceExists, type ProvisionTarget } from './validate.js';

type RbacTarget = Extract<ProvisionTarget, { type: 'cluster_role' | 'namespace_role' }>;

function scopeOf(target: RbacTarget): { scope: BindingScope; role: WantedRole } {
  if (target.type === 'namespace_role') {
    return {
      scope: { kind: 'namespace', namespace: target.namespace },
      role: { kind: 'Role', name: target.role },
    };
  }
  const role: WantedRole = { kind: 'ClusterRole', name: target.clusterRole };
  return target.scope.type === 'cluster'
    ? { scope: { kind: 'cluster' }, role }
    : { scope: { kind: 'namespace', namespace: target.scope.namespace }, role };
}

function describeSubjects(subjects: Subject[]): string {
  return subjects.map((s) => `${s.kind} ${s.name}`).join(', ');
}

/** Grants a cluster role or namespace role: reachability first, then the binding (a crash in between is harmless and a re-run completes it). */
export async function grantRole(ctx: ProvisionContext, target: RbacTarget): Promise<void> {
  const { scope, role } = scopeOf(target);
  const identity = await currentIdentity(ctx);
  const own = ownSubjects(ctx, identity);
  const holding = await bindingsGranting(ctx, scope, role, own);
  const first = holding[0];
  if (first) {
    ctx.log.unchanged({
      system: 'kubernetes',
      operation: `create:${scope.kind === 'cluster' ? 'clusterrolebindings' : 'rolebindings'}`,
      target: first.name,
      note: `${holding.map((h) => h.name).join(', ')} already give${holding.length === 1 ? 's' : ''} ${role.kind} ${role.name} to ${describeSubjects(first.subjects)}`,
    });
    return;
  }
  const subject = await ensureReachable(ctx, identity);
  await ensureBinding(ctx, scope, role, subject);
}

/**
 * Revokes a cluster role or namespace role by taking the principal's own subjects out of every
 * binding of that role in that scope. The managed group stays on the access entry or aws-auth
 * entry: it may serve the principal's other grants and gives nothing once unbound.
 */
export async function revokeRole(ctx: ProvisionContext, target: RbacTarget): Promise<void> {
  const { scope, role } = scopeOf(target);
  const identity = await currentIdentity(ctx);
  const subjects: Subject[] = [...ownSubjects(ctx, identity)];
  if (!subjects.some((s) => s.kind === 'Group' && s.name === ctx.managedGroup))
    subjects.push({ kind: 'Group', name: ctx.managedGroup });
  const scopes: BindingScope[] = [scope];
  // `cluster_role:<r>:all:member` with a namespace named `all` present: revoke both readings.
  if (
    target.type === 'cluster_role' &&
    target.scope.type === 'cluster' &&
    (await namespaceExists(ctx, 'all'))
  ) {
    scopes.push({ kind: 'namespace', namespace: 'all' });
    ctx.log.note(
      'a namespace named "all" exists, so the id is ambiguous; the role was revoked both cluster-wide and in that namespace',
    );
  }
  let changed = 0;
  for (const s of scopes) changed += await removeSubjects(ctx, s, role, subjects);
  if (changed === 0) {
    ctx.log.unchanged({
      system: 'kubernetes',
      operation: `delete:${scope.kind === 'cluster' ? 'clusterrolebindings' : 'rolebindings'}`,
      target: scope.kind === 'cluster' ? role.name : `${scope.namespace}`,
      note: `no binding of ${role.kind} ${role.name} in this scope names ${describeSubjects(subjects)}`,
    });
  } else {
    ctx.log.note(
      `${ctx.managedGroup} stays on the principal's identity; it may serve other grants and gives nothing by itself`,
    );
  }
}
