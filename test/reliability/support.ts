// Shared by the reliability suites: Postgres and Redis servers of the test's own (on free ports, in
// temporary directories) that a test can stop, kill and start again, the product's processes with
// every line they write kept, and the checks every suite makes on those lines.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exited, freePort, startLoggedProcess, until, type OutputLine } from '../e2e/support.js';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
// Postgres refuses to run as root; CI and the development machines run tests as root.
const AS_ROOT = process.getuid?.() === 0;

async function asPostgresUser(file: string, args: string[]): Promise<void> {
  if (AS_ROOT) await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 120_000 });
  else await run(file, args, { timeout: 120_000 });
}

export interface OwnPostgres {
  port: number;
  /** A connection URL for the superuser `root` (trust authentication). */
  adminUrl: string;
  /**
   * `fast`: `pg_ctl stop -m fast`. `immediate`: SIGQUIT to the postmaster, which is what
   * `pg_ctl stop -m immediate` sends, without the delay of starting pg_ctl, so a test can crash
   * Postgres at a moment it is watching for; as far as clients can tell, a crash.
   */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** SIGKILL of the postmaster. */
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Initialises and starts a throwaway Postgres 15 cluster (fsync off: crashes here test clients, not disks). */
export async function startPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'eks-reliability-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  if (AS_ROOT) {
    await chmod(dir, 0o777);
    await run('chown', ['postgres:postgres', dir]);
  }
  await asPostgresUser(join(PG_BIN, 'initdb'), [
    '-D',
    data,
    '-U',
    'root',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const options = `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const ctl = (args: string[]) => asPostgresUser(join(PG_BIN, 'pg_ctl'), ['-D', data, ...args]);
  const start = () => ctl(['-l', join(dir, 'postgres.log'), '-o', options, '-w', '-t', '120', 'start']);
  const signal = async (name: 'SIGQUIT' | 'SIGKILL') => {
    const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, name);
    await until('the postmaster to end', async () => (isAlive(pid) ? undefined : true), 60_000);
  };
  await start();
  return {
    port,
    adminUrl: `postgres://root@127.0.0.1:${port}/postgres`,
    stop: (mode) => (mode === 'fast' ? ctl(['-m', 'fast', '-w', '-t', '120', 'stop']) : signal('SIGQUIT')),
    kill: () => signal('SIGKILL'),
    start,
    close: async () => {
      await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface OwnRedis {
  port: number;
  url: string;
  /** SIGTERM: Redis saves its AOF and exits, as in a clean restart. */
  stop(): Promise<void>;
  /** SIGKILL: nothing saved beyond what the AOF (fsync always) already holds. */
  kill(): Promise<void>;
  /** Starts again on the same port and directory, so the AOF is replayed. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a throwaway Redis 7 with an AOF (fsync always) and noeviction, as production runs it. */
export async function startRedis(): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'eks-reliability-redis-'));
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        '--logfile',
        join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    await until(
      'redis to answer',
      async () =>
        (await run('redis-cli', ['-p', String(port), 'ping'])).stdout.trim() === 'PONG' ? true : undefined,
      60_000,
    );
  };
  const end = async (signal: NodeJS.Signals) => {
    if (!server) return;
    const child = server;
    server = undefined;
    child.kill(signal);
    await exited(child);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    start,
    close: async () => {
      await end('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ProductProcess {
  name: string;
  child: ChildProcess;
  lines: OutputLine[];
}

/** Starts one of the product's processes from its entry point, keeping its output. */
export function startProduct(name: string, entry: string, env: Record<string, string>): ProductProcess {
  const { child, lines } = startLoggedProcess(entry, { LOG_LEVEL: 'info', ...env });
  return { name, child, lines };
}

/** Lines a process wrote that are not one JSON object each (a plain-text stack trace, a warning). */
export function unstructuredLines(processes: readonly ProductProcess[]): string[] {
  const bad: string[] = [];
  for (const p of processes) {
    for (const line of p.lines) {
      if (line.text.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line.text);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        bad.push(`${p.name} ${line.stream}: ${line.text.slice(0, 300)}`);
    }
  }
  return bad;
}

/** The log records of a process with the given message. */
export function logged(p: ProductProcess, msg: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of p.lines) {
    if (!line.text.includes(msg)) continue;
    try {
      const record = JSON.parse(line.text) as Record<string, unknown>;
      if (record.msg === msg) out.push(record);
    } catch {
      // not a record
    }
  }
  return out;
}

/** Prints a figure the suite measured, so the run's log carries it (`[reliability] …`). */
export function report(what: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[reliability] ${what}: ${JSON.stringify(figures)}\n`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
