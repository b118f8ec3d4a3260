// POST /v1/clusters. Invariants: the whole body (cross-field rules and the cron pattern included)
// is checked before anything is written; a cluster with a schedule is only kept when its schedule
// reached Redis, so a failed request leaves nothing behind and its retry does not meet a 409.
import { createCluster, deleteCluster } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, clusterBody } from '../common.js';
import { toClusterInput } from './mapping.js';

/** POST /v1/clusters: registers a cluster (secrets sealed) and its sync schedule. */
export function registerCreateCluster(app: App, deps: AppDeps): void {
  app.post('/v1/clusters', { config: { scope: 'admin' }, schema: { body: clusterBody, tags: ['clusters'] } }, async (req, reply) => {
    const input = toClusterInput(req.body);
    if (req.body.schedule) await deps.producer.assertAvailable();
    const cluster = await createCluster(
      deps.database,
      { hostingMode: 'default-chain', ...input, name: req.body.name, region: req.body.region },
      { audit: auditOf(req) },
    );
    if (req.body.schedule) {
      try {
        await deps.producer.upsertSchedule(cluster.id, req.body.schedule);
      } catch (err) {
        // Undo the registration (a soft delete frees the name) so the client's retry starts clean.
        await deleteCluster(deps.database, cluster.id, { audit: auditOf(req) }).catch((undoErr: unknown) =>
          req.log.error({ err: undoErr, clusterId: cluster.id }, 'could not undo a cluster whose schedule failed'),
        );
        throw err;
      }
    }
    return reply.status(201).send(cluster);
  });
}
