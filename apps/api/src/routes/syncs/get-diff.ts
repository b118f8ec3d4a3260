import { diffSnapshots, getCluster } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { idParams } from '../common.js';

const query = z.object({ from: z.uuid({ error: 'from must be a sync run id' }), to: z.uuid({ error: 'to must be a sync run id' }).optional() });

/** GET /v1/clusters/{id}/diff?from=&to=: grants added and removed between two snapshots (to defaults to the current one). */
export function registerGetDiff(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/diff', { config: { scope: 'read' }, schema: { params: idParams, querystring: query, tags: ['syncs'] } }, async (req) => {
    const to = req.query.to ?? (await getCluster(deps.database, req.params.id)).currentSyncRunId;
    if (!to) throw new ApiError('CONFLICT', 'the cluster has no completed sync yet; give "to" explicitly');
    return diffSnapshots(deps.database, req.params.id, req.query.from, to);
  });
}
