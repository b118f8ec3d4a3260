// Named schemas: a zod schema registered here becomes `components.schemas.<id>` of the OpenAPI
// document and is referenced by `$ref` wherever a route uses it (fastify-type-provider-zod reads
// zod's global registry). Request-side uses get the suffix `Input` (`ClusterRegistrationInput`),
// because a schema's input and output can differ (transforms, defaults).
import { z } from 'zod';

/** Registers `schema` as the component `id` with a description, and returns the registered schema. */
export function component<T extends z.ZodType>(id: string, description: string, schema: T): T {
  // The registry lives on globalThis; a module evaluated twice in one process (a test runner
  // re-importing it) must replace its earlier registration instead of failing on the duplicate id.
  const previous = z.globalRegistry._idmap.get(id);
  if (previous) z.globalRegistry.remove(previous);
  return schema.meta({ id, description });
}

/** An instant: a Date in the handler, an ISO 8601 string (UTC, milliseconds) on the wire. */
export const timestamp = z
  .date()
  .meta({ description: 'ISO 8601 timestamp (UTC)', example: '2026-05-04T09:30:00.000Z' });

/** A UUID the server issued. Checked as a string when serialized; the format is for clients. */
export const uuidOut = z.string().meta({ format: 'uuid', example: '3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17' });

/** A page of `item`s with the opaque cursor of the next page (absent on the last page). */
export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().optional().meta({
      description: 'Pass as `cursor` to read the next page; absent on the last page.',
      example: 'eyJjIjoiMjAyNi0wNS0wNFQwOTozMDowMC4wMDBaIiwiaSI6IjNmMGM5YTUyIn0',
    }),
  });
}
