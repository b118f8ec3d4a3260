// POST /v1/clusters. Invariants: the whole body (cross-field rules and the cron pattern included)
// is checked before anything is written; a cluster with a schedule is only kept when its schedule
// reached Redis, so a failed request leaves nothing behind and its retry does not meet a 409.
import { createCluster, deleteCluster } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { component } from '../../openapi/component.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { auditOf, clusterBody } from '../common.js';
import { toClusterInput } from './mapping.js';
import { clusterOut } from './schemas.js';

const body = component(
  'ClusterRegistration',
  'A cluster to register, described as a baton-eks environment describes it. Give `accessKey` for self-hosted, `globalKey` and/or `bindingRoleArn` for cloud-hosted, neither for the default credential chain (IRSA, Pod Identity). Unknown fields are refused.',
  clusterBody,
);

const options = route({
  operationId: 'createCluster',
  summary: 'Register a cluster',
  description:
    'Registers a cluster: its secrets are sealed before they are stored, and its sync schedule, when given, is set up in the queue before the answer (a failure leaves nothing behind).',
  tag: 'clusters',
  scope: 'admin',
  method: 'POST',
  body,
  requestExample: examples.clusterRegistration,
  responses: {
    201: {
      description: 'The registered cluster, without its secrets.',
      schema: clusterOut,
      example: examples.newCluster,
    },
  },
  errors: {
    409: {
      when: 'A cluster with this name is already registered in this region and account.',
      example: 'a cluster named "prod-eu" in eu-west-1 is already registered for this account',
    },
  },
});

/** POST /v1/clusters: registers a cluster (secrets sealed) and its sync schedule. */
export function registerCreateCluster(app: App, deps: AppDeps): void {
  app.post('/v1/clusters', options, async (req, reply) => {
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
          req.log.error(
            { err: undoErr, clusterId: cluster.id },
            'could not undo a cluster whose schedule failed',
          ),
        );
        throw err;
      }
    }
    return reply.status(201).send(cluster);
  });
}
