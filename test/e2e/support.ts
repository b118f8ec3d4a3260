// Shared by the cross-process suites: start the product's processes from their real entry points
// with environment configuration, call the API over HTTP, and wait for conditions.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { createContractRecorder, type OpenApiDocument } from '@eks-access/api/contract';
import { mintEksToken, type RunningSim } from '@eks-access/eks-sim';
import { createInterface } from 'node:readline';
import { afterAll, afterEach } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

import { ADMIN_URL, REDIS_URL, freePort, randomId, until } from '../common/wait.js';

export { ADMIN_URL, REDIS_URL, freePort, randomId, until };

/**
 * The compiled entry point of `apps/<app>/src/<file>.ts`: processes start from `dist/` as they do in
 * the images (seconds faster than compiling TypeScript at start-up on a loaded machine, which the
 * crash suites do dozens of times). turbo builds every app before this package's tests
 * (`@eks-access/e2e#test` depends on `^build`); run `pnpm build` first when calling vitest directly.
 */
function compiledEntry(entry: string): string {
  const compiled = resolve(ROOT, entry.replace(/\/src\/(.*)\.ts$/, '/dist/$1.js'));
  if (!existsSync(compiled)) throw new Error(`${compiled} does not exist: run pnpm build before these tests`);
  return compiled;
}

function spawnEntry(
  entry: string,
  env: Record<string, string>,
  stdio: ('ignore' | 'inherit' | 'pipe')[],
): ChildProcess {
  return spawn(process.execPath, [compiledEntry(entry)], {
    // HEALTH_PORT=0: many workers run side by side here, each health server on a free port.
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      AWS_EC2_METADATA_DISABLED: 'true',
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      ...env,
    },
    stdio,
  });
}

/** Starts `entry` (a path from the repo root) as its own node process; E2E_DEBUG=1 shows its stderr. */
export function startProcess(entry: string, env: Record<string, string>): ChildProcess {
  return spawnEntry(entry, env, ['ignore', 'ignore', process.env.E2E_DEBUG ? 'inherit' : 'ignore']);
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Like startProcess, but keeps every line the process writes on stdout and stderr, in order. */
export function startLoggedProcess(
  entry: string,
  env: Record<string, string>,
): { child: ChildProcess; lines: OutputLine[] } {
  const child = spawnEntry(entry, env, ['ignore', 'pipe', 'pipe']);
  const lines: OutputLine[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    createInterface({ input: source }).on('line', (text) => {
      lines.push({ stream, text });
      if (process.env.E2E_DEBUG) process.stderr.write(`${text}\n`);
    });
  }
  return { child, lines };
}

/** Resolves with the exit code once the process has ended. */
export function exited(child: ChildProcess): Promise<number | null> {
  // A process killed by a signal has no exit code, only a signal code.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/**
 * Every answer the suite receives from an API process, checked against the OpenAPI document that
 * process serves (GET /openapi.json); the test that received an answer breaking it fails.
 */
export const contract = createContractRecorder();

afterEach(() => contract.afterTest());
afterAll(() => contract.afterSuite());

/** Records one answer of the API at `baseUrl` with the contract check. */
export async function checkAnswer(
  baseUrl: string,
  request: { method: string; path: string },
  answer: { status: number; contentType: string | null; text: string },
): Promise<void> {
  await contract.record(
    {
      method: request.method,
      url: request.path,
      status: answer.status,
      contentType: answer.contentType ?? undefined,
      body: answer.text,
    },
    async () => (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenApiDocument,
  );
}

/** GET /readyz of the API at `baseUrl`: true once it is ready, undefined before (for `until`). */
export async function apiReady(baseUrl: string): Promise<true | undefined> {
  const res = await fetch(`${baseUrl}/readyz`);
  await checkAnswer(
    baseUrl,
    { method: 'GET', path: '/readyz' },
    { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() },
  );
  return res.ok ? true : undefined;
}

/** A tiny API client with a bearer key; every answer goes through the contract check. */
export function apiClient(baseUrl: () => string, key: string) {
  return async function call<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const base = baseUrl();
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    await checkAnswer(
      base,
      { method, path },
      { status: res.status, contentType: res.headers.get('content-type'), text },
    );
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

/** Whether an IAM user, with her own key and EKS token, may list configmaps in a namespace of a simulated cluster. */
export async function canListConfigMaps(
  sim: RunningSim,
  clusterName: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  namespace: string,
): Promise<boolean> {
  const cluster = sim.clusters().find((c) => c.name === clusterName)!;
  const token = await mintEksToken({ credentials, region: cluster.region, clusterName });
  return new Promise((done, fail) => {
    const req = request(
      `${cluster.endpoint}/api/v1/namespaces/${namespace}/configmaps`,
      { ca: Buffer.from(cluster.caData, 'base64'), headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        if (res.statusCode === 200) done(true);
        else if (res.statusCode === 403) done(false);
        else fail(new Error(`unexpected ${res.statusCode ?? '?'}`));
      },
    );
    req.on('error', fail);
    req.end();
  });
}
