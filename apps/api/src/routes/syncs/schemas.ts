// What the sync routes return: sync runs as the db package records them.
import { SYNC_STATUSES, SYNC_TRIGGERS } from '@eks-access/db';
import { z } from 'zod';
import { component, timestamp, uuidOut } from '../../openapi/component.js';
import { grantOut } from '../access/schemas.js';

export const syncRunOut = component(
  'SyncRun',
  'One sync of one cluster: queued → running → succeeded (its snapshot becomes current), partial (a source could not be read; kept, never current) or failed.',
  z.object({
    id: uuidOut,
    clusterId: uuidOut,
    trigger: z.enum(SYNC_TRIGGERS),
    status: z.enum(SYNC_STATUSES),
    attempt: z
      .number()
      .int()
      .meta({ description: 'Incremented by every start; above 1 after a worker was lost mid-sync.' }),
    worker: z.string().nullable(),
    progress: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: 'What the running sync has read so far, per source.' }),
    counts: z.record(z.string(), z.unknown()).nullable().meta({
      description:
        'Resources, entitlements and grants by type; `totals`: the rows the snapshot holds per table; `written`: the rows this run stored, zero for a table equal to the current snapshot’s (the run shares those rows).',
    }),
    apiCalls: z.record(z.string(), z.unknown()).nullable().meta({
      description: 'AWS and Kubernetes calls per operation: calls, retries, throttled, failed, totalMs.',
    }),
    sources: z.record(z.string(), z.unknown()).nullable().meta({
      description:
        'Each source (access entries, aws-auth, RBAC, IAM) and whether it was read, skipped for the authentication mode, or failed.',
    }),
    sourceDurationsMs: z.record(z.string(), z.number()).nullable(),
    warnings: z.array(z.string()).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    totalApiCalls: z.number().int().nullable(),
    queuedAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    contentHash: z.string().nullable().meta({
      description:
        'SHA-256 (hex) of the snapshot’s content, whatever order its rows came in: runs with equal hashes hold the same snapshot. Null for a run without a snapshot and for snapshots stored before hashes existed.',
    }),
  }),
);

export const queuedSyncRunOut = component(
  'QueuedSyncRun',
  'The run a sync request queued, or the one already queued or running for the cluster (`created: false`).',
  syncRunOut.extend({
    created: z.boolean().meta({
      description: 'False when the cluster already had a queued or running sync, which is returned instead.',
    }),
  }),
);

export const syncRunPage = component(
  'SyncRunPage',
  'A page of a cluster’s sync runs, newest first.',
  z.object({ items: z.array(syncRunOut), nextCursor: z.string().optional() }),
);

export const bulkSyncOut = component(
  'BulkSync',
  'The runs queued (or already pending) for every enabled cluster.',
  z.object({ items: z.array(queuedSyncRunOut) }),
);

export const snapshotDiffOut = component(
  'SnapshotDiff',
  'The grants added and removed between two snapshots of one cluster, by grant id.',
  z.object({ fromRunId: uuidOut, toRunId: uuidOut, added: z.array(grantOut), removed: z.array(grantOut) }),
);
