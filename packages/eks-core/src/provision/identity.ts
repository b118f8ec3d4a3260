// How the principal reaches the cluster, and how to make it reach a binding. The authentication
// mode decides the source: access entries in API, aws-auth in CONFIG_MAP, and in
// API_AND_CONFIG_MAP an access entry when there is one (it takes precedence), else aws-auth.
// The rule throughout: never change how a principal authenticates more than needed, and when an
// access entry has to be created over an aws-auth mapping, carry the mapping over or refuse.
import { EksAccessError } from '../errors.js';
import { compileTemplate, findTemplateVariables } from '../identity/template.js';
import {
  describeAccessEntry,
  ensureAccessEntry,
  ensureAccessEntryGroup,
  requireStandard,
  type AccessEntryState,
  type CarriedIdentity,
} from './access-entry.js';
import { ensureAwsAuthGroup, readAwsAuthState, type AwsAuthEntry } from './aws-auth-mapping.js';
import type { ProvisionContext } from './context.js';

/** A binding subject that names a principal: its literal username or one of its groups. */
export interface Subject {
  kind: 'User' | 'Group';
  name: string;
}

export type Identity =
  | { source: 'access-entry'; entry: AccessEntryState }
  | { source: 'aws-auth'; entry: AwsAuthEntry }
  | { source: 'none'; viaMapAccounts?: boolean };

// What EKS refuses in an access entry (CreateAccessEntry validation).
const RESERVED_USERNAME = /^(system|eks|aws|amazon|iam):/;

/** Reads where the principal's Kubernetes identity comes from right now. */
export async function currentIdentity(ctx: ProvisionContext): Promise<Identity> {
  const mode = ctx.cluster.authenticationMode;
  if (mode !== 'CONFIG_MAP') {
    const entry = await describeAccessEntry(ctx);
    if (entry) return { source: 'access-entry', entry };
    if (mode === 'API') return { source: 'none' };
  }
  const state = await readAwsAuthState(ctx);
  return state.entry
    ? { source: 'aws-auth', entry: state.entry }
    : { source: 'none', viaMapAccounts: state.viaMapAccounts };
}

/** The username as it renders for this principal, when it renders to one fixed value. */
function literalUsername(ctx: ProvisionContext, username: string | undefined): string | undefined {
  if (username === undefined || username === '') return undefined;
  const t = compileTemplate(username, ctx.principal.accountId);
  return t.literal ? t.rendered : undefined;
}

/**
 * The subjects that stand for this principal alone under its current identity: its username when
 * it has no per-session template, and the managed group when the identity carries it. Shared groups
 * are not the principal's: a grant through them is a group membership, another entitlement.
 */
export function ownSubjects(ctx: ProvisionContext, identity: Identity): Subject[] {
  if (identity.source === 'none') {
    // An account listed in mapAccounts maps its users by ARN.
    return identity.viaMapAccounts && ctx.principal.kind === 'user'
      ? [{ kind: 'User', name: ctx.principal.arn }]
      : [];
  }
  const username = identity.source === 'access-entry' ? identity.entry.username : identity.entry.username;
  const groups = identity.source === 'access-entry' ? identity.entry.kubernetesGroups : identity.entry.groups;
  const out: Subject[] = [];
  const literal = literalUsername(ctx, username);
  if (literal) out.push({ kind: 'User', name: literal });
  if (groups.includes(ctx.managedGroup)) out.push({ kind: 'Group', name: ctx.managedGroup });
  return out;
}

function carryOver(ctx: ProvisionContext, entry: AwsAuthEntry): CarriedIdentity {
  const where = `${entry.key} #${entry.index}`;
  const refuse = (why: string) =>
    new EksAccessError(
      'PROVISIONING_REFUSED',
      `${ctx.principal.arn} is mapped by aws-auth ${where}; in ${ctx.cluster.authenticationMode} an access entry would replace that mapping, and ${why}. Move the mapping to an access entry first`,
    );
  const system = entry.groups.filter((g) => g.startsWith('system:'));
  if (system.length > 0)
    throw refuse(`access entries cannot hold ${system.join(', ')}, so the principal would lose them`);
  if (entry.username !== undefined) {
    if (RESERVED_USERNAME.test(entry.username))
      throw refuse(`an access entry cannot have the username "${entry.username}"`);
    const session = /\{\{SessionName(Raw)?\}\}/.exec(entry.username);
    if (session && !entry.username.slice(0, session.index).includes(':'))
      throw refuse(`EKS wants a ':' before ${session[0]} in "${entry.username}"`);
    if (findTemplateVariables(entry.username).unknown.length > 0)
      throw refuse(`"${entry.username}" holds placeholders EKS does not know`);
  }
  return {
    ...(entry.username === undefined ? {} : { username: entry.username }),
    groups: entry.groups,
    from: `aws-auth ${where}`,
  };
}

/**
 * Makes sure the principal has a STANDARD access entry (access policies need one). Over an
 * aws-auth mapping (API_AND_CONFIG_MAP) the new entry takes the mapping's username and groups.
 */
export async function ensureAccessEntryFor(
  ctx: ProvisionContext,
  identity: Identity,
): Promise<AccessEntryState> {
  if (identity.source === 'aws-auth' && ctx.cluster.authenticationMode === 'API_AND_CONFIG_MAP') {
    return ensureAccessEntry(ctx, carryOver(ctx, identity.entry));
  }
  if (identity.source === 'none' && identity.viaMapAccounts) {
    ctx.log.note(
      `${ctx.principal.arn} was mapped through aws-auth mapAccounts; its new access entry takes precedence`,
    );
  }
  return ensureAccessEntry(ctx);
}

/**
 * Makes the principal reachable by a binding and returns the subject to bind: the managed group,
 * through the access entry (API modes) or an aws-auth entry the connector owns (CONFIG_MAP).
 * An aws-auth entry owned by someone else is never rewritten: its fixed username is bound as a
 * User; a per-session template cannot be bound, so that is refused (in API_AND_CONFIG_MAP an
 * access entry carrying the mapping over is created instead).
 */
export async function ensureReachable(ctx: ProvisionContext, identity: Identity): Promise<Subject> {
  const { log, managedGroup, cluster } = ctx;
  const group: Subject = { kind: 'Group', name: managedGroup };
  const mode = cluster.authenticationMode;
  const viaAccessEntry = mode === 'API' || (mode === 'API_AND_CONFIG_MAP' && identity.source !== 'aws-auth');
  if (viaAccessEntry) {
    const entry =
      identity.source === 'access-entry'
        ? requireStandard(ctx, identity.entry)
        : await ensureAccessEntryFor(ctx, identity);
    await ensureAccessEntryGroup(ctx, entry, managedGroup);
    return group;
  }
  if (identity.source === 'access-entry') {
    throw new EksAccessError('INTERNAL', `unexpected access-entry identity in ${mode} mode`);
  }
  if (identity.source === 'none' || identity.entry.owned) {
    if (identity.source === 'none' && identity.viaMapAccounts) {
      log.note(
        `${ctx.principal.arn} was mapped through aws-auth mapAccounts; the connector's explicit entry takes precedence`,
      );
    }
    await ensureAwsAuthGroup(ctx, managedGroup);
    return group;
  }
  const entry = identity.entry;
  const literal = literalUsername(ctx, entry.username);
  if (literal) {
    log.note(
      `aws-auth ${entry.key} #${entry.index} maps ${ctx.principal.arn} to username "${literal}" and was not written by the connector; it is left as it is and the binding names that username`,
    );
    return { kind: 'User', name: literal };
  }
  if (mode === 'API_AND_CONFIG_MAP') {
    const created = await ensureAccessEntry(ctx, carryOver(ctx, entry));
    await ensureAccessEntryGroup(ctx, created, managedGroup);
    return group;
  }
  const why = entry.viaSso
    ? `it matches an sso: permission-set entry (aws-auth ${entry.key} #${entry.index}) that the connector does not own`
    : `its aws-auth entry (${entry.key} #${entry.index}) belongs to someone else and its username "${entry.username ?? ''}" changes with every session`;
  throw new EksAccessError(
    'PROVISIONING_REFUSED',
    `cannot bind ${ctx.principal.arn} on cluster ${cluster.name}: ${why}, so no binding can name it; add a group to that entry, or switch the cluster to API_AND_CONFIG_MAP`,
  );
}
