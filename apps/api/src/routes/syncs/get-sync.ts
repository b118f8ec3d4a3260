import { getSyncRun } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { idParams } from '../common.js';
import { syncRunOut } from './schemas.js';

const options = route({
  operationId: 'getSync',
  summary: 'Get a sync run',
  description: 'Status, progress, counts, API calls and the status of each source of one run.',
  tag: 'syncs',
  scope: 'read',
  method: 'GET',
  params: idParams,
  responses: { 200: { description: 'The sync run.', schema: syncRunOut, example: examples.syncRun } },
  errors: {
    404: {
      when: 'No sync run has this id.',
      example: 'sync run 9b2d4e6f-1a3c-4e5f-8a7b-6c5d4e3f2a1b not found',
    },
  },
});

/** GET /v1/syncs/{id}: status, progress, counts, API calls and source statuses of one run. */
export function registerGetSync(app: App, deps: AppDeps): void {
  app.get('/v1/syncs/:id', options, async (req) => getSyncRun(deps.database, req.params.id));
}
