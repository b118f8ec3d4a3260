// Small helpers shared by the cross-process suites (e2e/, reliability/) and the benchmarks (bench/):
// a free port, a random id, and polling until a condition holds. Nothing here imports vitest, so
// the benchmarks (plain scripts) can use it too.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

// eslint-disable-next-line no-restricted-properties -- test settings: the environment is their config
export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
// eslint-disable-next-line no-restricted-properties -- test settings: the environment is their config
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** A random id for keys and queue prefixes. */
export const randomId = (bytes = 4) => randomBytes(bytes).toString('hex');

/** Polls `fn` every `everyMs` until it returns a value (errors count as "not yet"), or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
