// The principal's EKS access entry: read it, create it when missing, add the managed group to it.
// EKS offers no concurrency token on access entries, so every change is read–merge–write on state
// read just before (the per-(cluster, principal) lock of the caller keeps two of ours apart).
import {
  CreateAccessEntryCommand,
  DescribeAccessEntryCommand,
  UpdateAccessEntryCommand,
  type AccessEntry,
} from '@aws-sdk/client-eks';
import { EksAccessError } from '../errors.js';
import { defaultAccessEntryUsername } from '../identity/identity-map.js';
import type { ProvisionContext } from './context.js';

/** The fields of an access entry provisioning looks at. */
export interface AccessEntryState {
  principalArn: string;
  username: string;
  kubernetesGroups: string[];
  type: string;
  /** Only planned (dry run): it does not exist yet, so nothing can be read from it. */
  planned?: boolean;
}

/** What an access entry created over an aws-auth mapping takes from it, so the principal keeps its identity. */
export interface CarriedIdentity {
  username?: string;
  groups: string[];
  /** `mapRoles #2`: where it came from, for the step's note. */
  from: string;
}

function stateOf(entry: AccessEntry | undefined, fallbackArn: string): AccessEntryState {
  return {
    principalArn: entry?.principalArn ?? fallbackArn,
    username: entry?.username ?? '',
    kubernetesGroups: [...(entry?.kubernetesGroups ?? [])],
    type: entry?.type ?? 'STANDARD',
  };
}

function audit(entry: AccessEntryState): { username: string; kubernetesGroups: string[]; type: string } {
  return { username: entry.username, kubernetesGroups: entry.kubernetesGroups, type: entry.type };
}

/** DescribeAccessEntry; undefined when the principal has none. */
export async function describeAccessEntry(ctx: ProvisionContext): Promise<AccessEntryState | undefined> {
  const { session, cluster, principal } = ctx;
  try {
    const out = await session.awsCall('eks', 'DescribeAccessEntry', principal.arn, () =>
      session.aws.eks.send(
        new DescribeAccessEntryCommand({ clusterName: cluster.name, principalArn: principal.arn }),
      ),
    );
    return stateOf(out.accessEntry, principal.arn);
  } catch (err) {
    if (err instanceof EksAccessError && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** Refuses entries that cannot take policies or groups (node and Fargate entries). */
export function requireStandard(ctx: ProvisionContext, entry: AccessEntryState): AccessEntryState {
  if (entry.type !== 'STANDARD') {
    throw new EksAccessError(
      'PROVISIONING_REFUSED',
      `the access entry of ${ctx.principal.arn} on cluster ${ctx.cluster.name} has type ${entry.type}; only STANDARD entries take access policies and groups`,
    );
  }
  return entry;
}

/**
 * Makes sure the principal has a STANDARD access entry. The full ARN (path included) is the key,
 * as EKS matches it. A concurrent creation (ResourceInUse) counts as success.
 */
export async function ensureAccessEntry(
  ctx: ProvisionContext,
  carry?: CarriedIdentity,
): Promise<AccessEntryState> {
  const { session, cluster, principal, log } = ctx;
  const existing = await describeAccessEntry(ctx);
  if (existing) {
    log.unchanged({
      system: 'eks',
      operation: 'CreateAccessEntry',
      target: principal.arn,
      before: audit(existing),
      note: 'the access entry exists',
    });
    return requireStandard(ctx, existing);
  }
  const request = {
    clusterName: cluster.name,
    principalArn: principal.arn,
    type: 'STANDARD',
    ...(carry?.username === undefined ? {} : { username: carry.username }),
    ...(carry && carry.groups.length > 0 ? { kubernetesGroups: carry.groups } : {}),
  };
  const planned: AccessEntryState = {
    principalArn: principal.arn,
    username: carry?.username ?? defaultAccessEntryUsername(principal.arn),
    kubernetesGroups: carry?.groups ?? [],
    type: 'STANDARD',
    planned: true,
  };
  const note = carry
    ? `created with the username and groups of its aws-auth mapping (${carry.from}): in ${cluster.authenticationMode} an access entry replaces that mapping`
    : undefined;
  try {
    const out = await log.write(
      {
        system: 'eks',
        operation: 'CreateAccessEntry',
        target: principal.arn,
        request,
        before: null,
        after: audit(planned),
        ...(note ? { note } : {}),
      },
      () =>
        session.awsCall('eks', 'CreateAccessEntry', principal.arn, () =>
          session.aws.eks.send(new CreateAccessEntryCommand(request)),
        ),
      (r) => audit(stateOf(r.accessEntry, principal.arn)),
    );
    return out ? stateOf(out.accessEntry, principal.arn) : planned;
  } catch (err) {
    if (!(err instanceof EksAccessError && err.code === 'ALREADY_EXISTS')) throw err;
    // Someone created it between our read and our write: theirs stands, as if it had been there.
    const raced = await describeAccessEntry(ctx);
    if (!raced) throw err;
    log.unchanged({
      system: 'eks',
      operation: 'CreateAccessEntry',
      target: principal.arn,
      before: audit(raced),
      note: 'created concurrently by another writer',
    });
    return requireStandard(ctx, raced);
  }
}

/** Adds `group` to the entry's kubernetesGroups, keeping every group it already has. */
export async function ensureAccessEntryGroup(
  ctx: ProvisionContext,
  entry: AccessEntryState,
  group: string,
): Promise<AccessEntryState> {
  const { session, cluster, principal, log } = ctx;
  const step = { system: 'eks' as const, operation: 'UpdateAccessEntry', target: principal.arn };
  if (entry.kubernetesGroups.includes(group)) {
    log.unchanged({
      ...step,
      before: { kubernetesGroups: entry.kubernetesGroups },
      note: `the access entry has group ${group}`,
    });
    return entry;
  }
  const kubernetesGroups = [...entry.kubernetesGroups, group];
  const request = { clusterName: cluster.name, principalArn: principal.arn, kubernetesGroups };
  const out = await log.write(
    { ...step, request, before: { kubernetesGroups: entry.kubernetesGroups }, after: { kubernetesGroups } },
    () =>
      session.awsCall('eks', 'UpdateAccessEntry', principal.arn, () =>
        session.aws.eks.send(new UpdateAccessEntryCommand(request)),
      ),
    (r) => ({ kubernetesGroups: r.accessEntry?.kubernetesGroups ?? kubernetesGroups }),
  );
  return out ? stateOf(out.accessEntry, principal.arn) : { ...entry, kubernetesGroups };
}
