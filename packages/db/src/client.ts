// The connection factory. Everything else in the package takes the `Database` it returns, so an
// app creates one per process (or per test) and there is no import-time singleton.
import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.js';
import { createSecretBox, type SecretBox } from './secrets.js';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;
/** The database handle or an open transaction: what the queries that can join a transaction take. */
export type DbExecutor = PgDatabase<NodePgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  pool: pg.Pool;
  secrets: SecretBox;
  /** Ends every pooled connection. */
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Pool size; each worker process needs at least one per concurrent job, plus one. Default 10. */
  maxConnections?: number;
  /** Base64 32-byte key for the secrets at rest (see secrets.ts). */
  encryptionKey: string;
  /** Server-side cap on any one statement, in milliseconds. Off by default. */
  statementTimeoutMs?: number;
  /**
   * How long taking a connection may wait (opening one, or for a free one in a full pool) before
   * the query fails. Off by default, i.e. forever: a request-serving process should set it.
   */
  connectionTimeoutMs?: number;
  /** Client-side cap on any one query, which also covers a server that stopped answering. Off by default. */
  queryTimeoutMs?: number;
  /** Shows up in pg_stat_activity. */
  applicationName?: string;
  /**
   * Called when an idle pooled connection breaks (server restart, network). The pool drops that
   * connection and the next query opens a new one; without a listener node-postgres would crash the
   * process on this event.
   */
  onPoolError?: (err: Error) => void;
}

/** Opens a connection pool, wraps it in drizzle, and prepares the secret box. */
export function createDb(options: CreateDbOptions): Database {
  // Checked before any connection opens, so a bad key fails at startup, not at the first secret.
  const secrets = createSecretBox(options.encryptionKey);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    ...(options.statementTimeoutMs !== undefined ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.connectionTimeoutMs !== undefined
      ? { connectionTimeoutMillis: options.connectionTimeoutMs }
      : {}),
    ...(options.queryTimeoutMs !== undefined ? { query_timeout: options.queryTimeoutMs } : {}),
    ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
  });
  pool.on('error', (err) => options.onPoolError?.(err));
  // The pool listens for a connection's errors only while it is idle. One that breaks while
  // checked out (Postgres crashed in the middle of a transaction or a COPY) would emit an 'error'
  // nobody hears, and that crashes the process. The query in flight already fails with the same
  // error, and the pool drops the broken connection when it is released, so hearing it is enough.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = drizzle({ client: pool, schema });
  let closing: Promise<void> | undefined;
  return {
    db,
    pool,
    secrets,
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
