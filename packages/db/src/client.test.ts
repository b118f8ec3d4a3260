// The pool as a long-running process relies on it: a connection that breaks while checked out
// (Postgres restarted or crashed in the middle of a transaction) fails its query and is dropped,
// and does not take the process down with an unheard 'error' event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './testing.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
});
afterAll(async () => {
  await database?.drop();
});

describe('the connection pool', () => {
  it('survives a connection killed while checked out: its query fails, the next one gets a fresh connection', async () => {
    const client = await database.pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]!.pid;
    // Another connection ends this one, as a Postgres shutdown would; nothing here listens for it.
    await database.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    for (let gone = false; !gone;) {
      const left = await database.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      gone = left.rowCount === 0;
    }
    const failed = await client.query('SELECT pg_sleep(0.2)').then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    expect(failed).toBeInstanceOf(Error);
    // As the package's own callers do (sync-runs.ts), a connection whose query failed this way is
    // released with its error, so the pool destroys it instead of lending it out again.
    client.release(failed);
    const again = await database.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(again.rows[0]!.pid).not.toBe(pid);
  });
});
