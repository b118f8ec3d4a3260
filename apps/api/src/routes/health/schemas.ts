// What the operational routes return.
import { z } from 'zod';
import { component } from '../../openapi/component.js';

export const healthOut = component('Health', 'The process is up.', z.object({ status: z.literal('ok') }));

const check = z.object({ ok: z.boolean(), error: z.string().optional() });

export const readinessOut = component(
  'Readiness',
  'Whether Postgres and Redis answer (each within 2 seconds).',
  z.object({ status: z.enum(['ready', 'not ready']), checks: z.object({ postgres: check, redis: check }) }),
);

export const openApiDocumentOut = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'An OpenAPI 3.0 document.' });
