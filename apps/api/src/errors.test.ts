// Which failures are "try again later" (503) rather than a bug (500): what an unreachable Postgres
// or Redis looks like by the time it reaches the error handler, wrapped as drizzle and Node wrap it.
import { describe, expect, it } from 'vitest';
import { toApiError, unavailableDependency } from './errors.js';

const wrapped = (cause: unknown) =>
  Object.assign(new Error('Failed query: select …'), { name: 'DrizzleQueryError', cause });

describe('unavailable dependencies', () => {
  it('recognises Postgres refusing, dropping or shutting down connections, however wrapped', () => {
    const refused = Object.assign(
      new AggregateError([
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ]),
      { code: 'ECONNREFUSED' },
    );
    for (const err of [
      refused,
      wrapped(refused),
      wrapped(new Error('Connection terminated unexpectedly')),
      wrapped(new Error('timeout exceeded when trying to connect')),
      wrapped(
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      ),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      wrapped(Object.assign(new Error('connection failure'), { code: '08006' })),
    ]) {
      expect(unavailableDependency(err), String(err)).toBe('postgres');
      expect(toApiError(err)).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    }
  });

  it('recognises Redis being unavailable, and leaves real errors to the 500 path', () => {
    expect(
      toApiError(
        Object.assign(new Error('cannot enqueue'), {
          name: 'RedisUnavailableError',
          code: 'REDIS_UNAVAILABLE',
        }),
      ),
    ).toMatchObject({ code: 'UNAVAILABLE' });
    expect(
      toApiError(Object.assign(new Error('Request timed out'), { code: 'FST_ERR_HANDLER_TIMEOUT' })),
    ).toMatchObject({ code: 'UNAVAILABLE' });
    for (const err of [
      new TypeError('x is undefined'),
      wrapped(Object.assign(new Error('syntax error at or near'), { code: '42601' })),
      wrapped(Object.assign(new Error('invalid byte sequence'), { code: '22021' })),
    ]) {
      expect(toApiError(err), String(err)).toBeUndefined();
    }
  });
});
