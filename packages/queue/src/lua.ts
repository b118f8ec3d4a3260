// Runs a Lua script by its SHA and loads it on first use (or after a Redis restart or failover
// emptied the script cache), so each call sends the hash rather than the whole script.
import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection.js';

export type LuaScript = (
  redis: RedisConnection,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

/** Wraps `source` as a callable script. */
export function defineLuaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(source, keys.length, ...keys, ...args);
    }
  };
}
