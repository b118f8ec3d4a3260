// Test support for this package and for the apps that use it: a fresh, migrated database per test
// file, so files run in parallel without sharing state. Exported as `@eks-access/db/testing`.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Database } from './client.js';
import { migrate } from './migrate.js';

export interface TestDatabase extends Database {
  /** The URL of the fresh database. */
  url: string;
  /** The encryption key the secret box was made with. */
  encryptionKey: string;
  /** Closes the pool and drops the database. */
  drop: () => Promise<void>;
}

/** Replaces the database name of a Postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates an empty database `eks_test_<random>` on the server of `adminUrl`. */
export async function createEmptyDatabase(
  adminUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `eks_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Creates a fresh database, applies the migrations, and opens it with a random encryption key. */
export async function createTestDatabase(
  adminUrl: string,
  options: { maxConnections?: number } = {},
): Promise<TestDatabase> {
  const empty = await createEmptyDatabase(adminUrl);
  const encryptionKey = randomBytes(32).toString('base64');
  const database = createDb({ url: empty.url, encryptionKey, maxConnections: options.maxConnections ?? 10 });
  try {
    await migrate(database);
  } catch (err) {
    await database.close();
    await empty.drop();
    throw err;
  }
  return {
    ...database,
    url: empty.url,
    encryptionKey,
    async drop() {
      await database.close();
      await empty.drop();
    },
  };
}

export {
  syntheticPrincipal,
  syntheticReport,
  syntheticSnapshot,
  type SyntheticSnapshotOptions,
} from './testing-fixtures.js';
