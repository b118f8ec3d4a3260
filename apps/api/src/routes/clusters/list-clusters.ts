import { listClusters } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { pageQuery } from '../common.js';
import { clusterPage } from './schemas.js';

const query = pageQuery.extend({
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  region: z.string().max(30).optional(),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  name: z.string().max(100).optional(),
  /** `key=value`, comma-separated for several. */
  label: z.string().max(1000).optional(),
});

function parseLabels(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new ApiError('VALIDATION_FAILED', `label filter "${part}" must look like key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

const options = route({
  operationId: 'listClusters',
  summary: 'List clusters',
  description:
    'Registered clusters, oldest first, filtered by state, region, account, name and labels (`label=env=prod,team=platform`: every pair must match).',
  tag: 'clusters',
  scope: 'read',
  method: 'GET',
  querystring: query,
  responses: {
    200: { description: 'A page of clusters.', schema: clusterPage, example: examples.clusterPage },
  },
});

/** GET /v1/clusters: registered clusters, filtered, with cursor pagination. */
export function registerListClusters(app: App, deps: AppDeps): void {
  app.get('/v1/clusters', options, async (req) => {
    const { cursor, limit, label, ...filters } = req.query;
    const labels = parseLabels(label);
    const page = await listClusters(
      deps.database,
      {
        ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
        ...(labels ? { labels } : {}),
      },
      { ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) },
    );
    return page;
  });
}
