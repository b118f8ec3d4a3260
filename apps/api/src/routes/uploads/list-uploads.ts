import { listUploads, UPLOAD_STATUSES } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { compact } from '../access/compact.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { pageQuery } from '../common.js';
import { uploadPage } from './schemas.js';

const query = pageQuery.extend({
  clusterId: z.uuid().optional(),
  status: z.enum(UPLOAD_STATUSES).optional(),
  c1TaskId: z.string().min(1).max(200).optional(),
});

const options = route({
  operationId: 'listUploads',
  summary: 'List c1z uploads',
  description: 'Uploads of sync runs to ConductorOne, newest first; `status=dead` lists the dead letters.',
  tag: 'uploads',
  scope: 'read',
  method: 'GET',
  querystring: query,
  responses: { 200: { description: 'A page of uploads.', schema: uploadPage, example: examples.uploadPage } },
});

/** GET /v1/uploads: c1z uploads to ConductorOne, newest first; `status=dead` lists the dead letters. */
export function registerListUploads(app: App, deps: AppDeps): void {
  app.get('/v1/uploads', options, async (req) => {
    const { cursor, limit, ...filters } = req.query;
    return listUploads(deps.database, compact(filters), compact({ cursor, limit }));
  });
}
