#!/usr/bin/env node
// `eks-access-db migrate`: applies the migrations to DATABASE_URL. The one place in this package
// that reads the environment.
import pg from 'pg';
import { migrate } from './migrate.js';

const USAGE = 'usage: eks-access-db migrate   (reads DATABASE_URL, e.g. postgres://user@127.0.0.1:5432/eks)';

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command !== 'migrate') {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is not set; set it to the Postgres connection URL to migrate\n');
    return 2;
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const started = Date.now();
    await migrate(pool);
    process.stdout.write(
      `${JSON.stringify({ msg: 'migrations applied', durationMs: Date.now() - started })}\n`,
    );
    return 0;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
