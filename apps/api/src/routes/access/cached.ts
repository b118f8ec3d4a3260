// Serves a read route's answer from the read cache (../../read-cache.ts) when it holds one, and
// otherwise computes it, serializes it with the route's own response schema and keeps the bytes.
// Kept and sent as UTF-8 bytes. The key is the route and the request's whole URL (path and query), so every filter and cursor
// is its own entry; `tag` says which cluster the answer reads (`*`: every cluster).
import type { AppDeps } from '../../deps.js';

const JSON_TYPE = 'application/json; charset=utf-8';

interface CacheableRequest {
  url: string;
  routeOptions: { url?: string | undefined };
}

interface CacheableReply {
  getSerializationFunction(status: number, contentType?: string): unknown;
  type(contentType: string): { send(payload: Buffer): unknown };
}

/**
 * The answer of `compute` for Fastify to serialize, or undefined once the cached (or freshly
 * serialized and kept) bytes were sent.
 */
export async function cachedAnswer<T>(
  deps: Pick<AppDeps, 'cache'>,
  req: CacheableRequest,
  // The route's typed FastifyReply; only serialize, type and send (of a string) are used.
  reply: object,
  tag: string,
  compute: () => Promise<T>,
): Promise<T | undefined> {
  const cache = deps.cache;
  if (!cache?.enabled) return compute();
  const key = `${req.routeOptions.url ?? ''}\n${req.url}`;
  const r = reply as CacheableReply;
  let body = cache.get(key);
  if (body === undefined) {
    // The route's own 200 serializer, so the kept bytes are exactly what Fastify would send.
    const serialize = r.getSerializationFunction(200, 'application/json');
    if (typeof serialize !== 'function') return compute();
    const generation = cache.generation;
    body = Buffer.from(String((serialize as (payload: unknown) => string)(await compute())), 'utf8');
    cache.set(key, tag, body, generation);
  }
  r.type(JSON_TYPE).send(body);
  return undefined;
}
