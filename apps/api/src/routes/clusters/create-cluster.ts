import { createCluster } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, clusterBody } from '../common.js';
import { toClusterInput } from './mapping.js';

/** POST /v1/clusters: registers a cluster (secrets sealed) and its sync schedule. */
export function registerCreateCluster(app: App, deps: AppDeps): void {
  app.post('/v1/clusters', { config: { scope: 'admin' }, schema: { body: clusterBody, tags: ['clusters'] } }, async (req, reply) => {
    const input = toClusterInput(req.body);
    const cluster = await createCluster(
      deps.database,
      { hostingMode: 'default-chain', ...input, name: req.body.name, region: req.body.region },
      { audit: auditOf(req) },
    );
    if (req.body.schedule) await deps.producer.upsertSchedule(cluster.id, req.body.schedule);
    return reply.status(201).send(cluster);
  });
}
