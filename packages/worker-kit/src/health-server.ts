// The health and metrics server of a worker process: /healthz (the process answers), /readyz
// (Postgres, Redis and the queue worker are usable now) and /metrics (Prometheus text). Plain
// node:http: a worker has no other HTTP to serve, and probes must answer while jobs keep the
// process busy.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@eks-access/queue';

/** One readiness check: resolves when the dependency is usable, rejects (or returns false) when not. */
export type ReadinessCheck = () => Promise<unknown> | boolean;

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /** Checked in parallel on every /readyz; each is bounded by `checkTimeoutMs`. */
  checks: Record<string, ReadinessCheck>;
  /** The Prometheus exposition text and its content type. */
  metrics: () => Promise<{ contentType: string; text: string }>;
  /** Default 2 s: a probe's own timeout (Kubernetes: 5 s) must not be reached by a hanging dependency. */
  checkTimeoutMs?: number;
}

export interface CheckResult {
  ok: boolean;
  error?: string;
}

export interface HealthServer {
  /** `http://host:port` as bound. */
  url: string;
  port: number;
  close(): Promise<void>;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      Promise.resolve().then(check),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return result === false ? { ok: false, error: 'not running' } : { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check; ready only when all pass. */
export async function readiness(
  checks: Record<string, ReadinessCheck>,
  timeoutMs = 2000,
): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
  );
  return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
}

/** Starts the server; resolves once it listens. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      readiness(options.checks, timeoutMs).then(
        (r) => json(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks }),
        (err: unknown) => json(503, { status: 'not ready', error: String(err) }),
      );
      return;
    }
    if (path === '/metrics') {
      options.metrics().then(
        ({ contentType, text }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(text);
        },
        (err: unknown) => {
          options.logger.warn({ err }, 'metrics could not be collected');
          json(500, { error: 'metrics could not be collected' });
        },
      );
      return;
    }
    json(404, { error: 'not found' });
  });
  // A probe that connects and never sends a request must not hold a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
