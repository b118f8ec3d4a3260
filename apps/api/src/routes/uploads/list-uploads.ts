import { listUploads, UPLOAD_STATUSES } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { compact } from '../access/compact.js';
import { pageQuery } from '../common.js';

const query = pageQuery.extend({
  clusterId: z.uuid().optional(),
  status: z.enum(UPLOAD_STATUSES).optional(),
  c1TaskId: z.string().min(1).max(200).optional(),
});

/** GET /v1/uploads: c1z uploads to ConductorOne, newest first; `status=dead` lists the dead letters. */
export function registerListUploads(app: App, deps: AppDeps): void {
  app.get('/v1/uploads', { config: { scope: 'read' }, schema: { querystring: query, tags: ['uploads'] } }, async (req) => {
    const { cursor, limit, ...filters } = req.query;
    return listUploads(deps.database, compact(filters), compact({ cursor, limit }));
  });
}
