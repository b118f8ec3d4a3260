// PUT /v1/clusters/bulk: register a fleet from one list, idempotently (bulk-register.ts holds the
// invariants). The body is only checked as a list here; each item is checked on its own, so an
// invalid item is answered with its problems instead of failing the whole list.
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { component } from '../../openapi/component.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { auditOf } from '../common.js';
import { BULK_ITEM_STATUSES, registerClustersBulk } from './bulk-register.js';

/** The most items one request takes: a 1,000-cluster fleet fits in one (the CLI sends 100 at a time). */
export const MAX_BULK_ITEMS = 1000;

const body = component(
  'ClusterBulkRegistration',
  'Clusters to register, each a `ClusterRegistration` (the body of `POST /v1/clusters`). Items are checked one by one, so one that breaks the schema is answered as `invalid` with its problems while the others are applied.',
  z
    .object({
      clusters: z
        .array(
          z
            .record(z.string(), z.unknown())
            .meta({ description: 'A `ClusterRegistration`, checked on its own.' }),
        )
        .min(1)
        .max(MAX_BULK_ITEMS),
    })
    .strict(),
);

const bulkItemOut = z.object({
  index: z.number().int().meta({ description: 'Position of the item in `clusters`, from 0.' }),
  status: z.enum(BULK_ITEM_STATUSES).meta({
    description:
      '`created`; `updated` (see `changed`); `unchanged` (it already matched); `invalid` (see `problems`; nothing was written for it).',
  }),
  name: z.string().optional(),
  region: z.string().optional(),
  accountId: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'The account the identity is matched under: given, or the role ARN’s.' }),
  id: z.string().optional().meta({ format: 'uuid', description: 'The registered cluster.' }),
  changed: z
    .array(z.string())
    .optional()
    .meta({ description: 'For `updated`: the fields that changed (a secret by its name only).' }),
  problems: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .meta({ description: 'For `invalid`: every problem, with where in the item it is (`/name`).' }),
});

const bulkOut = component(
  'ClusterBulkResult',
  'What happened to each item, in input order, and how many of each.',
  z.object({
    summary: z.object({
      created: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      invalid: z.number().int(),
    }),
    items: z.array(bulkItemOut),
  }),
);

const options = route({
  operationId: 'registerClusters',
  summary: 'Register many clusters',
  description:
    'Registers or updates each cluster of the list, matched by name, region and AWS account (the `accountId` given, or the role ARN’s). Idempotent: the same list again creates and changes nothing. A field left out of an item is left as it is (as with PATCH); secrets are compared with the stored ones and never returned. An item that does not match `ClusterRegistration`, or repeats an earlier item’s identity, is answered as `invalid` with its problems. Interval schedules are spread over their interval by cluster. A Postgres or Redis failure ends the request with 503: the items before it stay applied and sending the list again completes it.',
  tag: 'clusters',
  scope: 'admin',
  method: 'PUT',
  body,
  requestExample: {
    clusters: [
      examples.clusterRegistration,
      { name: 'staging-eu', region: 'eu-west-1', roleArn: examples.clusterRegistration.roleArn },
      { name: 'bad name!', region: 'eu-west-1' },
    ],
  },
  responses: {
    200: {
      description: 'Each item’s outcome; `invalid` items are listed with their problems.',
      schema: bulkOut,
      example: examples.bulkRegistration,
    },
  },
});

/** PUT /v1/clusters/bulk: registers or updates a list of clusters, one outcome per item. */
export function registerRegisterClusters(app: App, deps: AppDeps): void {
  app.put('/v1/clusters/bulk', options, async (req) =>
    registerClustersBulk(deps, req.body.clusters, auditOf(req)),
  );
}
