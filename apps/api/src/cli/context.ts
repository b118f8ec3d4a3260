// What an admin command gets from the process (cli.ts, the one CLI file that reads process.env),
// and how it opens the database: only once it runs, so `--help` needs no DATABASE_URL.
import { UsageError, type CliStreams } from '@eks-access/cli-kit';
import { createDb, type Database } from '@eks-access/db';

export interface CliContext extends CliStreams {
  /** The environment; blank values count as unset. */
  env: (name: string) => string | undefined;
}

/** Opens the database DATABASE_URL and ENCRYPTION_KEY name, runs `use`, and closes it. */
export async function withDatabase<T>(ctx: CliContext, use: (database: Database) => Promise<T>): Promise<T> {
  const url = ctx.env('DATABASE_URL');
  const key = ctx.env('ENCRYPTION_KEY');
  if (!url || !key) {
    const missing = [url ? undefined : 'DATABASE_URL', key ? undefined : 'ENCRYPTION_KEY'].filter(Boolean);
    throw new UsageError(
      `set ${missing.join(' and ')}: the Postgres URL and the 32-byte base64 key the API uses (postgres://user@host:5432/db; openssl rand -base64 32)`,
    );
  }
  let database: Database;
  try {
    database = createDb({ url, encryptionKey: key, applicationName: 'eks-access-api-cli' });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'encryption_key')
      throw new UsageError(`ENCRYPTION_KEY: ${(err as Error).message}`);
    throw err;
  }
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}
