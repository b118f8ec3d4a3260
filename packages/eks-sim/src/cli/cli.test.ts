// The CLI as users run it: a child process per command, checking exit codes, stdout and stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromTokenFile } from '@aws-sdk/credential-provider-web-identity';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadyLine } from '../sim.js';
import { DEMO_PODS } from '../world/connector-pods.js';
import { DEMO } from '../world/demo.js';

const PACKAGE = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(PACKAGE, 'src/cli/main.ts');
const VERSION = (JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { version: string })
  .version;
const dir = mkdtempSync(join(tmpdir(), 'eks-sim-cli-'));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
    cwd: PACKAGE,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_REGION: '',
      AWS_DEFAULT_REGION: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function run(
  args: string[],
  env: Record<string, string> = {},
  command?: { command: string; args: string[]; cwd: string },
): Promise<Result> {
  const child = command
    ? spawn(command.command, command.args, {
        cwd: command.cwd,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

function expectCleanFailure(r: Result, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  // One message, never a stack trace.
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('eks-sim CLI: help, version and bad input', () => {
  it.each([[[]], [['serve']], [['kubeconfig']], [['token']], [['sa-token']]])(
    'answers %j --help on stdout with exit code 0',
    async (command) => {
      const r = await run([...command, '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Usage: eks-sim ${command.join(' ')}`.trim()));
      expect(r.stdout).toContain('--help');
    },
  );

  it('prints its version for --version and -V, for every command too', async () => {
    for (const args of [['--version'], ['-V'], ['serve', '--version'], ['sa-token', '-V']]) {
      const r = await run(args);
      expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('needs a command, and knows its commands', async () => {
    expectCleanFailure(await run([]), 2, /^eks-sim: a command is required; see "eks-sim --help"\n$/);
    expectCleanFailure(await run(['bogus']), 2, /^eks-sim: unknown command 'bogus'; see "eks-sim --help"\n$/);
  });

  it.each([
    [['serve', '--nope'], /^eks-sim: unknown option '--nope'; see "eks-sim serve --help"\n$/],
    [['token', '--prot'], /^eks-sim: unknown option '--prot'; see "eks-sim token --help"\n$/],
    [['serve', '--port'], /^eks-sim: option '--port <n>' argument missing; see "eks-sim serve --help"\n$/],
    [['serve', '--port', '99999'], /--port must be a whole number from 0 to 65535/],
    [
      ['serve', '--generate', 'namespaces=lots,colour=blue'],
      /--generate: namespaces: must be a number \(got string\); colour: unknown field/,
    ],
    [['serve', '--fault', '{"target":"eks:*","throttleRate":5}'], /--fault #1: rules\[0\]\.throttleRate/],
    [
      ['serve', '--world', 'fleet:clusters=10,accounts'],
      /--world fleet:clusters=10,accounts: "accounts" is not key=value/,
    ],
    [['token', '--cluster', 'prod-eu'], /--region is required/],
    [['token', '--cluster', 'prod-eu', '--region', 'eu-west-1'], /no AWS credentials/],
    [['kubeconfig'], /--cluster is required/],
  ])('rejects %j with exit code 2 and one line', async (args, message) => {
    const r = await run(args);
    expectCleanFailure(r, 2, message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('explains a missing or malformed world file with exit code 1', async () => {
    expectCleanFailure(
      await run(['serve', '--world', join(dir, 'missing.yaml')]),
      1,
      /missing\.yaml is not a valid world \(1 problem\):\n {2}- file not found/,
    );
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'accounts:\n  - id: "111111111111"\nclusters:\n  - name: c\n    region: eu-west-1\n    accountId: "999999999999"\n    authenticationMode: SOMETIMES\n',
    );
    const r = await run(['serve', '--world', bad]);
    expectCleanFailure(r, 1, /bad\.yaml is not a valid world/);
    expect(r.stderr).toContain(
      'clusters[0].authenticationMode: must be one of CONFIG_MAP, API_AND_CONFIG_MAP, API',
    );
  });

  it('says when no simulator is listening', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const r = await run(['kubeconfig', '--cluster', 'prod-eu', '--admin', `http://127.0.0.1:${port}`]);
    expectCleanFailure(
      r,
      1,
      /cannot reach the simulator at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is "eks-sim serve" running\?/,
    );
  });
});

describe('eks-sim CLI against a running simulator', () => {
  let serve: ChildProcess;
  let stdout = '';
  let stderr = '';
  let ready: ReadyLine;

  beforeAll(async () => {
    serve = start(['serve', '--world', 'demo', '--connector-pods', '--port', '0']);
    serve.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    serve.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('\n')) {
      if (Date.now() > deadline || serve.exitCode !== null)
        throw new Error(`serve did not get ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ready = JSON.parse(stdout.split('\n')[0]!) as ReadyLine;
  });
  afterAll(() => {
    if (serve.exitCode === null) serve.kill('SIGKILL');
  });

  function kubeGet(
    endpoint: string,
    caData: string,
    path: string,
    token: string,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${endpoint}${path}`,
        { ca: Buffer.from(caData, 'base64').toString(), headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('prints exactly one JSON ready line on stdout', () => {
    expect(ready.event).toBe('ready');
    expect(ready.clusters.map((c) => c.name)).toEqual(['prod-eu', 'staging-us', 'legacy-us']);
    expect(ready.credentials[0]!.accessKeyId).toBe(DEMO.connector.accessKeyId);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('mints a token, through AssumeRole, that the cluster accepts', async () => {
    const prod = ready.clusters.find((c) => c.name === 'prod-eu')!;
    const r = await run(
      [
        'token',
        '--cluster',
        'prod-eu',
        '--region',
        'eu-west-1',
        '--role-arn',
        DEMO.connector.roleArn,
        '--sts-endpoint',
        ready.aws.endpoint,
      ],
      {
        AWS_ACCESS_KEY_ID: DEMO.connector.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DEMO.connector.secretAccessKey,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const credential = JSON.parse(r.stdout) as {
      kind: string;
      apiVersion: string;
      status: { token: string; expirationTimestamp: string };
    };
    expect(credential.kind).toBe('ExecCredential');
    expect(credential.apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    const minutes = (Date.parse(credential.status.expirationTimestamp) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(13);
    expect(minutes).toBeLessThanOrEqual(14);
    const list = await kubeGet(
      prod.endpoint,
      prod.caData,
      '/apis/rbac.authorization.k8s.io/v1/rolebindings',
      credential.status.token,
    );
    expect(list.status, list.body).toBe(200);
    const names = (
      JSON.parse(list.body) as { items: { metadata: { namespace: string; name: string } }[] }
    ).items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
    expect(names).toEqual([
      'monitoring/team-a-app-view',
      'team-a/deployer',
      'team-b/alice-edit',
      'team-b/deployer',
    ]);
  });

  it("writes a pod's service-account token file that STS exchanges for the pod role (IRSA)", async () => {
    const file = join(dir, 'irsa-token');
    const r = await run([
      'sa-token',
      '--cluster',
      'prod-eu',
      '--namespace',
      DEMO_PODS.namespace,
      '--service-account',
      DEMO_PODS.serviceAccount,
      '--out',
      file,
      '--admin',
      ready.aws.endpoint,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote a token for ${DEMO_PODS.subject}`);
    const credentials = await fromTokenFile({
      webIdentityTokenFile: file,
      roleArn: DEMO_PODS.roleArn,
      clientConfig: { region: 'eu-west-1', endpoint: ready.aws.endpoint },
    })();
    expect(credentials.sessionToken).toBeTruthy();

    expectCleanFailure(
      await run([
        'sa-token',
        '--cluster',
        'prod-eu',
        '--namespace',
        'eks-access',
        '--service-account',
        'ghost',
        '--admin',
        ready.aws.endpoint,
      ]),
      1,
      /^eks-sim: serviceaccount "eks-access\/ghost" not found in cluster prod-eu\n$/,
    );
  });

  it('refuses to assume the cross-account role without its ExternalId', async () => {
    const r = await run(
      [
        'token',
        '--cluster',
        'legacy-us',
        '--region',
        'us-east-1',
        '--role-arn',
        DEMO.connector.legacyRoleArn,
        '--sts-endpoint',
        ready.aws.endpoint,
      ],
      {
        AWS_ACCESS_KEY_ID: DEMO.connector.accessKeyId,
        AWS_SECRET_ACCESS_KEY: DEMO.connector.secretAccessKey,
      },
    );
    expectCleanFailure(
      r,
      1,
      /AssumeRole arn:aws:iam::222222222222:role\/EksAccessConnector failed: AccessDenied/,
    );
  });

  it('prints a kubeconfig whose exec plugin works from any directory', async () => {
    const r = await run([
      'kubeconfig',
      '--cluster',
      'legacy-us',
      '--admin',
      ready.admin,
      '--role-arn',
      DEMO.connector.legacyRoleArn,
      '--external-id',
      DEMO.connector.externalId,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const config = parse(r.stdout) as {
      clusters: { cluster: { server: string } }[];
      users: {
        user: {
          exec: {
            command: string;
            args: string[];
            env: { name: string; value: string }[];
            apiVersion: string;
          };
        };
      }[];
    };
    const legacy = ready.clusters.find((c) => c.name === 'legacy-us')!;
    expect(config.clusters[0]!.cluster.server).toBe(legacy.endpoint);
    const exec = config.users[0]!.user.exec;
    expect(exec.apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    const env = Object.fromEntries(exec.env.map((e) => [e.name, e.value]));
    const plugin = await run([], env, { command: exec.command, args: exec.args, cwd: tmpdir() });
    expect(plugin.code, plugin.stderr).toBe(0);
    const token = (JSON.parse(plugin.stdout) as { status: { token: string } }).status.token;
    const configMap = await kubeGet(
      legacy.endpoint,
      legacy.caData,
      '/api/v1/namespaces/kube-system/configmaps/aws-auth',
      token,
    );
    expect(configMap.status, configMap.body).toBe(200);
  });

  it('prints, with no identity flags, a kubeconfig that each demo cluster accepts', async () => {
    for (const name of ['prod-eu', 'staging-us', 'legacy-us']) {
      const r = await run(['kubeconfig', '--cluster', name, '--admin', ready.admin]);
      expect(r.code, r.stderr).toBe(0);
      const exec = (
        parse(r.stdout) as {
          users: {
            user: { exec: { command: string; args: string[]; env: { name: string; value: string }[] } };
          }[];
        }
      ).users[0]!.user.exec;
      const env = Object.fromEntries(exec.env.map((e) => [e.name, e.value]));
      const plugin = await run([], env, { command: exec.command, args: exec.args, cwd: tmpdir() });
      expect(plugin.code, plugin.stderr).toBe(0);
      const token = (JSON.parse(plugin.stdout) as { status: { token: string } }).status.token;
      const cluster = ready.clusters.find((c) => c.name === name)!;
      const bindings = await kubeGet(
        cluster.endpoint,
        cluster.caData,
        '/apis/rbac.authorization.k8s.io/v1/rolebindings',
        token,
      );
      expect(bindings.status, `${name}: ${bindings.body}`).toBe(200);
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    serve.kill('SIGTERM');
    const [code] = (await once(serve, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopped \(SIGTERM\)/);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
