// The stand-in as docker compose runs it: a child process, its command line, its ready line.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ARGS = ['--conditions=source', '--import', TSX, MAIN];
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...ARGS, ...args], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout: string; stderr: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('c1-standin command line', { timeout: 180_000 }, () => {
  it('answers --help and --version on stdout with exit code 0', async () => {
    const [help, version] = await Promise.all([run(['--help']), run(['--version'])]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: c1-standin \[options\]/);
    expect(help.stdout).toContain('--sync-every-ms');
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('answers a wrong command line with one line naming what to fix, exit code 2', async () => {
    const [unknown, extra, badPort, halfTls] = await Promise.all([
      run(['--prot', '1']),
      run(['serve']),
      run(['--port', 'eighty']),
      run(['--tls-key', 'key.pem']),
    ]);
    expect(unknown).toEqual({
      code: 2,
      stdout: '',
      stderr: `c1-standin: unknown option '--prot' (Did you mean --port?); see "c1-standin --help"\n`,
    });
    expect(extra.stderr).toMatch(/^c1-standin: too many arguments\. .*; see "c1-standin --help"\n$/);
    expect(badPort).toEqual({
      code: 2,
      stdout: '',
      stderr: 'c1-standin: --port takes a whole number, not "eighty"\n',
    });
    expect(halfTls).toEqual({
      code: 2,
      stdout: '',
      stderr: 'c1-standin: --tls-key and --tls-cert go together: add --tls-cert\n',
    });
  });

  it('prints one ready line with its endpoints and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [...ARGS, '--port', '0', '--token-port', '0', '--generate-client'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    while (!stdout.includes('\n') && child.exitCode === null) await once(child.stdout, 'data');
    const ready = JSON.parse(stdout.split('\n')[0]!) as { msg: string; tokenUrl: string; clients: number };
    expect(ready).toMatchObject({ msg: 'stand-in c1 listening', clients: 1 });
    expect(ready.tokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code).toBe(0);
  });
});
