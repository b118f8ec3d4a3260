import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from './migrate.js';
import { createEmptyDatabase } from './testing.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const run = promisify(execFile);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function emptyDatabase(): Promise<string> {
  const db = await createEmptyDatabase(ADMIN_URL);
  cleanups.push(db.drop);
  return db.url;
}

function pool(url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 2 });
  // Dropping the database (WITH (FORCE)) can reach a connection that pool.end() is still closing:
  // the server's "terminating connection" arrives as a pool error, expected at that point.
  p.on('error', () => undefined);
  cleanups.push(() => p.end());
  return p;
}

async function tables(p: pg.Pool): Promise<string[]> {
  const { rows } = await p.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

const EXPECTED_TABLES = [
  'api_keys',
  'audit_events',
  'change_events',
  'cluster_doctor_runs',
  'clusters',
  'provisioning_requests',
  'snapshot_entitlements',
  'snapshot_grants',
  'snapshot_resources',
  'sync_runs',
  'uploads',
];

describe('migrate', () => {
  it('creates every table in an empty database', async () => {
    const p = pool(await emptyDatabase());
    await migrate(p);
    expect(await tables(p)).toEqual(EXPECTED_TABLES);
  });

  it('does nothing the second time', async () => {
    const p = pool(await emptyDatabase());
    await migrate(p);
    await migrate({ pool: p });
    const { rows } = await p.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
    const { rows: again } = await p.query<{ n: string }>(
      'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
    );
    expect(again).toEqual(rows);
    expect(await tables(p)).toEqual(EXPECTED_TABLES);
  });

  it('is safe when several processes migrate the same database at once', async () => {
    const url = await emptyDatabase();
    // Separate pools stand in for separate processes: each has its own connections.
    await Promise.all([migrate(pool(url)), migrate(pool(url)), migrate(pool(url))]);
    const p = pool(url);
    expect(await tables(p)).toEqual(EXPECTED_TABLES);
    const { rows } = await p.query<{ hash: string; n: string }>(
      'SELECT hash, count(*) AS n FROM drizzle.__drizzle_migrations GROUP BY hash',
    );
    expect(rows.every((r) => r.n === '1')).toBe(true);
  });

  it('runs from the command line with DATABASE_URL', async () => {
    const url = await emptyDatabase();
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, 'migrate'], {
      env: { ...process.env, DATABASE_URL: url },
    });
    expect(stdout).toContain('migrations applied');
    expect(await tables(pool(url))).toEqual(EXPECTED_TABLES);
  });

  it('the command line names the variable to set when DATABASE_URL is missing', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const failed = await run(process.execPath, ['--import', 'tsx', cli, 'migrate'], { env }).catch(
      (err: unknown) => err as { code: number; stderr: string },
    );
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain('DATABASE_URL');
  });
});
