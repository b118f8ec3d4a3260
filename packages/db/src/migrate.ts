// Applies the committed drizzle-kit migrations. Several processes may start at once (API replicas,
// workers, a compose migration step), so the whole run happens under a Postgres advisory lock on one
// connection: the first process migrates, the others wait, then find nothing left to apply.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';

/**
 * The committed migrations folder: the nearest `drizzle/` with a journal above this file. That is
 * the package root whether this runs from src/, dist/ or a compiled benchmark under dist-bench/src/.
 */
export const MIGRATIONS_FOLDER = findMigrationsFolder(dirname(fileURLToPath(import.meta.url)));

function findMigrationsFolder(start: string): string {
  for (let dir = start, i = 0; i < 4; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
  }
  return join(dirname(start), 'drizzle');
}

// An arbitrary constant shared by every process of this application; any 64-bit value works as long
// as nothing else in the database uses it.
const MIGRATION_LOCK_KEY = 7_361_024_589_113n;

/** Applies pending migrations under an advisory lock; safe to call from many processes at once. */
export async function migrate(target: pg.Pool | { pool: pg.Pool }): Promise<void> {
  const pool = 'pool' in target ? target.pool : target;
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      // drizzle on this very client, so the migration transaction runs on the locked connection.
      await drizzleMigrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    client.release();
  }
}
