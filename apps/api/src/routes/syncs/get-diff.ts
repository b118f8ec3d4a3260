import { diffSnapshots, getCluster } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { idParams } from '../common.js';
import { snapshotDiffOut } from './schemas.js';

const query = z.object({
  from: z.uuid({ error: 'from must be a sync run id' }),
  to: z.uuid({ error: 'to must be a sync run id' }).optional(),
});

const options = route({
  operationId: 'diffSnapshots',
  summary: 'Compare two snapshots',
  description:
    'The grants added and removed between two sync runs of the cluster that hold a snapshot; `to` defaults to the current one.',
  tag: 'syncs',
  scope: 'read',
  method: 'GET',
  params: idParams,
  querystring: query,
  responses: {
    200: {
      description: 'The grants added and removed.',
      schema: snapshotDiffOut,
      example: examples.snapshotDiff,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id, or a sync run is not found.',
      example: 'sync run 5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716 (from) not found',
    },
    409: {
      when: '`to` is not given and the cluster has no completed sync yet.',
      example: 'the cluster has no completed sync yet; give "to" explicitly',
    },
  },
});

/** GET /v1/clusters/{id}/diff?from=&to=: grants added and removed between two snapshots (to defaults to the current one). */
export function registerGetDiff(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/diff', options, async (req) => {
    const to = req.query.to ?? (await getCluster(deps.database, req.params.id)).currentSyncRunId;
    if (!to) throw new ApiError('CONFLICT', 'the cluster has no completed sync yet; give "to" explicitly');
    return diffSnapshots(deps.database, req.params.id, req.query.from, to);
  });
}
