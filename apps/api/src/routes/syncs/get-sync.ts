import { getSyncRun } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams } from '../common.js';

/** GET /v1/syncs/{id}: status, progress, counts, API calls and source statuses of one run. */
export function registerGetSync(app: App, deps: AppDeps): void {
  app.get('/v1/syncs/:id', { config: { scope: 'read' }, schema: { params: idParams, tags: ['syncs'] } }, async (req) => getSyncRun(deps.database, req.params.id));
}
