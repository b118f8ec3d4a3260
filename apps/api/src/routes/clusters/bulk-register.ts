// Registering a fleet: a list of cluster registrations applied one by one, idempotent by a cluster's
// identity (name, region, AWS account: the account given, or the role ARN's). Invariants:
// - Every item is answered, in input order, exactly once: `created`, `updated` (with the fields that
//   changed), `unchanged`, or `invalid` with each problem. One invalid item never stops the others.
// - Running the same list again creates and changes nothing (every item `unchanged`). An item's
//   fields are compared with what is stored; secrets are compared by opening the stored ones (never
//   returned or logged). A field left out of an item is left as it is, as with PATCH.
// - Two items of one list with the same identity are both answered: the first is applied, the
//   second is `invalid` (a list that says two things about one cluster is a mistake to show).
// - A new cluster with a schedule is kept only once its schedule reached Redis (as POST does); the
//   schedule of an existing cluster is upserted on every run, which repairs one Redis lost.
// - A failure of Postgres or Redis ends the request (503); what was applied before it stays, and
//   running the list again completes it.
import {
  ConflictError,
  accountIdFromRoleArn,
  createCluster,
  deleteCluster,
  getClusterCredentials,
  listClusters,
  updateCluster,
  type Cluster,
  type CreateClusterInput,
  type Database,
} from '@eks-access/db';
import type { Producer } from '@eks-access/queue';
import { ApiError } from '../../errors.js';
import { clusterBody, type ClusterBody } from '../common.js';
import { toClusterInput } from './mapping.js';

export const BULK_ITEM_STATUSES = ['created', 'updated', 'unchanged', 'invalid'] as const;
export type BulkItemStatus = (typeof BULK_ITEM_STATUSES)[number];

export interface BulkProblem {
  /** Where in the item: `/name`, `/schedule/cron`; `/` for the item as a whole. */
  path: string;
  message: string;
}

export interface BulkItemResult {
  /** The item's position in the list, from 0. */
  index: number;
  status: BulkItemStatus;
  name?: string;
  region?: string;
  accountId?: string | null;
  /** The registered cluster (absent for an invalid item). */
  id?: string;
  /** For `updated`: the fields that changed (secrets by name only). */
  changed?: string[];
  /** For `invalid`: every problem found. */
  problems?: BulkProblem[];
}

export interface BulkResult {
  summary: Record<BulkItemStatus, number>;
  items: BulkItemResult[];
}

export interface BulkDeps {
  database: Database;
  producer: Producer;
}

/** Items applied at once: enough to keep a 1,000-cluster list well inside a request's time limit. */
const APPLY_CONCURRENCY = 4;

/** The fields compared in the clear; the secrets are compared separately. */
const PLAIN_FIELDS = [
  'roleArn',
  'hostingMode',
  'c1ClientId',
  'schedule',
  'provisioningEnabled',
  'provisioningPolicy',
  'labels',
  'enabled',
] as const;

/** JSON with object keys sorted, so two values that mean the same compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

function identityOf(name: string, region: string, accountId: string | null): string {
  return `${name}\u0000${region}\u0000${accountId ?? ''}`;
}

type Valid = {
  index: number;
  body: ClusterBody;
  input: Partial<CreateClusterInput>;
  accountId: string | null;
};

/** Checks one item as POST /v1/clusters would, without throwing. */
function checkItem(index: number, raw: unknown): Valid | BulkItemResult {
  const parsed = clusterBody.safeParse(raw);
  const named = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const label = {
    ...(typeof named.name === 'string' ? { name: named.name } : {}),
    ...(typeof named.region === 'string' ? { region: named.region } : {}),
  };
  if (!parsed.success) {
    return {
      index,
      status: 'invalid',
      ...label,
      problems: parsed.error.issues.map((i) => ({
        path: `/${i.path.map(String).join('/')}`,
        message: i.message,
      })),
    };
  }
  try {
    const input = toClusterInput(parsed.data);
    const accountId =
      parsed.data.accountId ??
      (parsed.data.roleArn ? accountIdFromRoleArn(parsed.data.roleArn) : undefined) ??
      null;
    return { index, body: parsed.data, input, accountId };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { index, status: 'invalid', ...label, problems: [{ path: '/', message: err.message }] };
  }
}

async function loadIdentities(database: Database): Promise<Map<string, Cluster>> {
  const byIdentity = new Map<string, Cluster>();
  let cursor: string | undefined;
  do {
    const page = await listClusters(database, {}, { limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const c of page.items) byIdentity.set(identityOf(c.name, c.region, c.accountId), c);
    cursor = page.nextCursor;
  } while (cursor);
  return byIdentity;
}

/** The fields of `input` that differ from the stored `cluster` (secrets opened only when both are set). */
async function changedFields(
  database: Database,
  cluster: Cluster,
  input: Partial<CreateClusterInput>,
): Promise<string[]> {
  const changed: string[] = PLAIN_FIELDS.filter(
    (field) => input[field] !== undefined && canonical(input[field]) !== canonical(cluster[field]),
  );
  const secrets = [
    ['externalId', input.externalId, cluster.hasExternalId],
    ['credentials', input.credentials, cluster.hasCredentials],
    ['c1ClientSecret', input.c1ClientSecret, cluster.hasC1ClientSecret],
  ] as const;
  const given = secrets.filter(([, value]) => value !== undefined && value !== null);
  if (given.length === 0) return changed;
  // Opened only to compare: the values go no further than this function.
  const stored = given.some(([, , has]) => has)
    ? await getClusterCredentials(database, cluster.id)
    : undefined;
  for (const [field, value, has] of given) {
    if (!has || canonical(stored?.[field]) !== canonical(value)) changed.push(field);
  }
  return changed;
}

/** Applies `items` (registrations as POST /v1/clusters takes them); see the invariants above. */
export async function registerClustersBulk(
  deps: BulkDeps,
  items: readonly unknown[],
  audit: { actor: string; requestId: string },
): Promise<BulkResult> {
  const results: BulkItemResult[] = [];
  const checked = items.map((raw, index) => checkItem(index, raw));
  const valid: Valid[] = [];
  const firstOf = new Map<string, number>();
  for (const item of checked) {
    if ('status' in item) {
      results[item.index] = item;
      continue;
    }
    const identity = identityOf(item.body.name, item.body.region, item.accountId);
    const first = firstOf.get(identity);
    if (first !== undefined) {
      results[item.index] = {
        index: item.index,
        status: 'invalid',
        name: item.body.name,
        region: item.body.region,
        accountId: item.accountId,
        problems: [
          { path: '/', message: `same name, region and account as item ${first}; give each cluster once` },
        ],
      };
      continue;
    }
    firstOf.set(identity, item.index);
    valid.push(item);
  }
  // Redis is needed for schedules: during an outage the request fails before anything is written.
  if (valid.some((v) => v.body.schedule)) await deps.producer.assertAvailable();

  const existing = await loadIdentities(deps.database);
  // Items have distinct identities by now, so they can be applied side by side.
  await eachWithConcurrency(valid, APPLY_CONCURRENCY, async (item) => {
    results[item.index] = await apply(item);
  });
  const summary = { created: 0, updated: 0, unchanged: 0, invalid: 0 };
  for (const r of results) summary[r.status]++;
  return { summary, items: results };

  async function apply(item: Valid): Promise<BulkItemResult> {
    const { body, input, accountId, index } = item;
    const base = { index, name: body.name, region: body.region, accountId };
    const found = existing.get(identityOf(body.name, body.region, accountId));
    if (found) {
      const changed = await changedFields(deps.database, found, input);
      if (changed.length > 0) {
        const patch = Object.fromEntries(
          changed.map((field) => [field, input[field as keyof CreateClusterInput]]),
        ) as Partial<CreateClusterInput>;
        await updateCluster(deps.database, found.id, patch, { audit });
      }
      if (body.schedule) await deps.producer.upsertSchedule(found.id, body.schedule);
      return changed.length > 0
        ? { ...base, id: found.id, status: 'updated', changed }
        : { ...base, id: found.id, status: 'unchanged' };
    }
    let cluster: Cluster;
    try {
      cluster = await createCluster(
        deps.database,
        { hostingMode: 'default-chain', ...input, name: body.name, region: body.region },
        { audit },
      );
    } catch (err) {
      // Registered by someone else since the list was read: say so rather than guess.
      if (!(err instanceof ConflictError)) throw err;
      return {
        ...base,
        status: 'invalid',
        problems: [{ path: '/', message: `${err.message} (registered while this list ran; run it again)` }],
      };
    }
    if (body.schedule) {
      try {
        await deps.producer.upsertSchedule(cluster.id, body.schedule);
      } catch (err) {
        // As POST does: no cluster without its schedule, so running the list again creates it cleanly.
        await deleteCluster(deps.database, cluster.id, { audit }).catch(() => undefined);
        throw err;
      }
    }
    return { ...base, id: cluster.id, status: 'created' };
  }
}

/** Runs `fn` over `items` with at most `limit` at once; rejects on the first failure. */
async function eachWithConcurrency<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
