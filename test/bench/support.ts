// Shared by the cross-process benchmarks (bench:scale, bench:api, bench:provision, bench:fleet):
// start the product's compiled entry points as their own processes, read their CPU and memory from
// /proc, stop them, clear a queue prefix, and summarise latencies. Benchmarks print figures and
// never fail on timing; these helpers only throw when a process cannot start at all.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ReadyLine } from '@eks-access/eks-sim';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRedisConnection } from '@eks-access/queue';
import { pino } from 'pino';

export const ROOT = resolve(import.meta.dirname, '../..');
import { ADMIN_URL, REDIS_URL, freePort, randomId, until } from '../common/wait.js';

export { ADMIN_URL, REDIS_URL, freePort, randomId, until };
export const quietLogger = pino({ level: 'warn' });

/** `apps/<app>/dist/main.js` (or another compiled file), failing with what to run when it is missing. */
export function compiled(path: string, build = 'pnpm build'): string {
  const file = resolve(ROOT, path);
  if (!existsSync(file)) {
    console.error(`${file} is missing: build first (${build})`);
    process.exit(2);
  }
  return file;
}

/** The Node flags the Dockerfile's worker images start with (CMD), so benchmarks run workers as users do. */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=16'];

export interface ServiceProcess {
  id: string;
  child: ChildProcess;
  /** Resolves once the process logged `readyLine` on stdout. */
  ready: Promise<void>;
}

/**
 * Starts a compiled entry point with a minimal environment plus `env`. `readyLine` is matched
 * against its (JSON) stdout; stderr is kept for the error when it exits before it is ready.
 */
export function startService(
  id: string,
  file: string,
  env: Record<string, string>,
  readyLine: RegExp,
  args: string[] = [],
  nodeFlags: string[] = [],
): ServiceProcess {
  const child = spawn(process.execPath, [...nodeFlags, file, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      AWS_EC2_METADATA_DISABLED: 'true',
      LOG_LEVEL: 'info',
      // Several processes on one host: each health server on a free port.
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const ready = new Promise<void>((done, fail) => {
    let out = '';
    const onData = (c: Buffer) => {
      out = (out + c.toString()).slice(-8000);
      if (readyLine.test(out)) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        done();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) =>
      fail(new Error(`${id} exited (${code ?? 'signal'}) before it was ready: ${stderr.slice(-500)}`)),
    );
  });
  return { id, child, ready };
}

/**
 * Starts the compiled simulator (`eks-sim serve <args> --port 0`) as its own process and resolves
 * with its ready line (the first line it prints) and how long it took to start.
 */
export async function startSimCli(
  args: string[],
  build: string,
): Promise<{ child: ChildProcess; ready: ReadyLine; startMs: number }> {
  const entry = compiled('packages/eks-sim/dist/cli/main.js', build);
  const started = performance.now();
  const child = spawn(process.execPath, [entry, 'serve', ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const ready = await new Promise<ReadyLine>((done, fail) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) done(JSON.parse(out.slice(0, nl)) as ReadyLine);
    });
    child.once('exit', (code) => fail(new Error(`eks-sim exited (${code ?? 'signal'}): ${stderr}`)));
  });
  return { child, ready, startMs: performance.now() - started };
}

/** Peak resident set size of a live process, from /proc (VmHWM), in MiB. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a live process has used, from /proc/<pid>/stat (clock ticks at 100 Hz). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after 30 s, and wait for every process to exit. */
export async function stopAll(services: { child: ChildProcess }[]): Promise<void> {
  await Promise.all(
    services.map(
      (s) =>
        new Promise<void>((done) => {
          if (s.child.exitCode !== null || s.child.signalCode !== null) return done();
          s.child.once('exit', () => done());
          s.child.kill('SIGTERM');
          setTimeout(() => s.child.kill('SIGKILL'), 30_000).unref();
        }),
    ),
  );
}

/** Deletes every Redis key under a queue prefix. */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger: quietLogger });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The p-th percentile (0-100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
