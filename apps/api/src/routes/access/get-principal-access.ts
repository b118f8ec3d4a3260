import { grantsForPrincipal } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { cachedAnswer } from './cached.js';
import { principalAccessOut } from './schemas.js';

// The ARN travels URL-encoded in one path segment (`arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx`).
const params = z.object({
  arn: z
    .string()
    .max(2048, 'an IAM ARN has at most 2,048 characters')
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/.+$/,
      'must be an IAM user or role ARN, URL-encoded in the path',
    )
    .meta({ description: 'An IAM user or role ARN, URL-encoded.', example: examples.EXAMPLE_IDS.principal }),
});

const options = route({
  operationId: 'getPrincipalAccess',
  summary: 'Get what an IAM principal can reach',
  description:
    'Everything one IAM user or role reaches in the current snapshot of every cluster: its own grants, and those it inherits through the roles it can assume and the groups it is in, each with the path (`via`).',
  tag: 'access',
  scope: 'read',
  method: 'GET',
  params,
  responses: {
    200: {
      description: 'The principal’s grants across clusters; `items` is empty when it reaches nothing.',
      schema: principalAccessOut,
      example: examples.principalAccess,
    },
  },
});

/** GET /v1/principals/{arn}/access: what one IAM principal reaches in every cluster, and through which grants. */
export function registerGetPrincipalAccess(app: App, deps: AppDeps): void {
  app.get('/v1/principals/:arn/access', options, async (req, reply) =>
    // Reads every cluster: any cluster's change drops it.
    cachedAnswer(deps, req, reply, '*', async () => ({
      principalArn: req.params.arn,
      items: await grantsForPrincipal(deps.database, req.params.arn),
    })),
  );
}
