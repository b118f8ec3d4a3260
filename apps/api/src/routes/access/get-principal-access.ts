import { grantsForPrincipal } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';

// The ARN travels URL-encoded in one path segment (`arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx`).
const params = z.object({
  arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/.+$/, 'must be an IAM user or role ARN, URL-encoded in the path'),
});

/** GET /v1/principals/{arn}/access: what one IAM principal reaches in every cluster, and through which grants. */
export function registerGetPrincipalAccess(app: App, deps: AppDeps): void {
  app.get('/v1/principals/:arn/access', { config: { scope: 'read' }, schema: { params, tags: ['access'] } }, async (req) => {
    const items = await grantsForPrincipal(deps.database, req.params.arn);
    return { principalArn: req.params.arn, items };
  });
}
