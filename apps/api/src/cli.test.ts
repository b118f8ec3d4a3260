// The admin CLI as an operator runs it: a real child process (node + tsx, started from another
// directory) against a fresh database, with nothing in its environment but what the test gives it.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  createDb,
  getClusterCredentials,
  listClusters,
  MIGRATIONS_FOLDER,
  verifyApiKey,
} from '@eks-access/db';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL } from './test-app.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with exactly `env` (no inherited variables, so a developer's BATON_* cannot leak in). */
async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--conditions=source', '--import', TSX, CLI, ...args],
      { cwd: tmpdir(), env, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    // A non-zero exit is an answer to assert on; anything else (a kill, a spawn failure) is not.
    const failed = err as { code?: unknown; stdout: string; stderr: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let database: TestDatabase;
let dbEnv: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 2 });
  dbEnv = { DATABASE_URL: database.url, ENCRYPTION_KEY: database.encryptionKey };
});
afterAll(async () => {
  await database.drop();
});

const BATON = {
  BATON_EKS_CLUSTER_NAME: 'prod-eu',
  BATON_EKS_REGION: 'eu-west-1',
  BATON_EKS_ASSUME_ROLE_ARN: 'arn:aws:iam::222222222222:role/EksAccessConnector',
  BATON_EXTERNAL_ID: 'tenant-external-id-42',
  BATON_EKS_ACCESS_KEY: 'AKIAEKSCLITEST00001',
  BATON_EKS_SECRET_ACCESS_KEY: 'cliTestSecretKeyThatMustNeverBePrinted/01',
  BATON_PROVISIONING: 'true',
};

/** True when `text` holds a JavaScript stack frame. */
const hasStack = (text: string) => /^\s+at .+[:(]/m.test(text);

// Each CLI run compiles its sources with tsx first: seconds on an idle machine, well over 20 s on a
// loaded one with three at once, so the deadlines are generous.
describe('eks-access-api CLI', { timeout: 300_000 }, () => {
  it('migrate applies every committed migration to an empty database', async () => {
    const empty = await createEmptyDatabase(ADMIN_URL);
    const migrated = createDb({ url: empty.url, encryptionKey: database.encryptionKey, maxConnections: 1 });
    try {
      const res = await cli(['migrate'], { ...dbEnv, DATABASE_URL: empty.url });
      expect(res).toMatchObject({ code: 0, stdout: 'migrations applied\n' });
      const journal = JSON.parse(
        await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
      ) as { entries: unknown[] };
      const applied = await migrated.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
      );
      expect(Number(applied.rows[0]?.n)).toBe(journal.entries.length);
      const tables = await migrated.pool.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['clusters', 'sync_runs', 'snapshot_grants', 'api_keys', 'audit_events']),
      );
    } finally {
      await migrated.close();
      await empty.drop();
    }
  });

  it('create-key prints, once, a key that authenticates with the scopes asked for', async () => {
    const res = await cli(['create-key', '--name', 'ci', '--scopes', 'read,sync'], dbEnv);
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout) as { id: string; name: string; scopes: string[]; key: string };
    expect(printed).toMatchObject({ name: 'ci', scopes: ['read', 'sync'] });
    const verified = await verifyApiKey(database, printed.key);
    expect(verified).toMatchObject({ id: printed.id, name: 'ci', scopes: ['read', 'sync'] });
    const stored = await database.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM api_keys k WHERE strpos(row_to_json(k)::text, $1) > 0',
      [printed.key],
    );
    expect(stored.rows[0]?.n).toBe('0');
  });

  it(
    'rotates, revokes and lists keys: the old key stops at rotation, the new one at revocation, the listing never shows a key',
    { timeout: 120_000 },
    async () => {
      const created = JSON.parse(
        (
          await cli(
            ['create-key', '--name', 'ops', '--scopes', 'admin', '--expires-at', '2099-01-01T00:00:00Z'],
            dbEnv,
          )
        ).stdout,
      ) as { id: string; key: string; expiresAt: string };
      expect(created.expiresAt).toBe('2099-01-01T00:00:00.000Z');
      const rotated = JSON.parse((await cli(['rotate-key', '--id', created.id], dbEnv)).stdout) as {
        id: string;
        key: string;
        name: string;
      };
      expect(rotated).toMatchObject({ name: 'ops' });
      expect(await verifyApiKey(database, created.key)).toBeUndefined();
      expect(await verifyApiKey(database, rotated.key)).toMatchObject({ id: rotated.id });

      expect((await cli(['revoke-key', '--id', rotated.id], dbEnv)).code).toBe(0);
      expect(await verifyApiKey(database, rotated.key)).toBeUndefined();
      const listed = await cli(['list-keys', '--all'], dbEnv);
      const rows = listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; revokedAt: string | null });
      expect(
        rows.filter((r) => r.id === created.id || r.id === rotated.id).map((r) => r.revokedAt !== null),
      ).toEqual([true, true]);
      expect(listed.stdout).not.toContain(created.key);
      expect(listed.stdout).not.toContain(rotated.key);
    },
  );

  it('register-cluster turns a baton-eks environment into a self-hosted cluster with sealed secrets', async () => {
    const res = await cli(['register-cluster', '--label', 'env=prod'], { ...dbEnv, ...BATON });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain(BATON.BATON_EKS_SECRET_ACCESS_KEY);
    expect(res.stdout).not.toContain(BATON.BATON_EXTERNAL_ID);
    const cluster = JSON.parse(res.stdout) as { id: string };
    expect(cluster).toMatchObject({
      name: 'prod-eu',
      region: 'eu-west-1',
      accountId: '222222222222',
      roleArn: BATON.BATON_EKS_ASSUME_ROLE_ARN,
      hostingMode: 'self-hosted',
      provisioningEnabled: true,
      labels: { env: 'prod' },
      hasCredentials: true,
      hasExternalId: true,
    });
    const secrets = await getClusterCredentials(database, cluster.id);
    expect(secrets.externalId).toBe(BATON.BATON_EXTERNAL_ID);
    expect(secrets.credentials).toEqual({
      static: { accessKeyId: BATON.BATON_EKS_ACCESS_KEY, secretAccessKey: BATON.BATON_EKS_SECRET_ACCESS_KEY },
    });
    const raw = await database.pool.query<{ row: string }>(
      'SELECT row_to_json(c)::text AS row FROM clusters c WHERE id = $1',
      [cluster.id],
    );
    expect(raw.rows[0]?.row).not.toContain(BATON.BATON_EKS_SECRET_ACCESS_KEY);
    expect(raw.rows[0]?.row).not.toContain(BATON.BATON_EXTERNAL_ID);
  });

  it('register-cluster --if-exists skip leaves a registered cluster alone and exits 0; without it the second registration fails', async () => {
    const env = { ...dbEnv, ...BATON, BATON_EKS_CLUSTER_NAME: 'twice', BATON_EKS_REGION: 'eu-central-1' };
    const first = await cli(['register-cluster', '--if-exists', 'skip'], env);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { id: string; name: string };
    expect(created.name).toBe('twice');
    const again = await cli(['register-cluster', '--if-exists', 'skip'], env);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: true, name: 'twice', region: 'eu-central-1' });
    const strict = await cli(['register-cluster'], env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/already registered/);
    expect((await listClusters(database, { name: 'twice' })).items).toHaveLength(1);
    // A real error stays loud with skip: Postgres not there at all.
    const down = await cli(['register-cluster', '--if-exists', 'skip'], {
      ...env,
      DATABASE_URL: 'postgres://root@127.0.0.1:1/none',
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/ECONNREFUSED/);
  });

  it('migrate --wait-ms waits for a Postgres that is not accepting connections yet, and gives up after the wait', async () => {
    const empty = await createEmptyDatabase(ADMIN_URL);
    const target = new URL(empty.url);
    // A port where Postgres "starts" two seconds after the CLI: a proxy to the real one opens then.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const later = new URL(empty.url);
    later.hostname = '127.0.0.1';
    later.port = String(port);
    let proxy: Server | undefined;
    // Postgres "comes up" once the CLI has said it is waiting: a proxy to the real one opens then.
    const openProxy = () => {
      proxy ??= createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        client.on('error', () => undefined);
        upstream.on('error', () => undefined);
        client.pipe(upstream).pipe(client);
      }).listen(port, '127.0.0.1');
    };
    try {
      const child = spawn(
        process.execPath,
        ['--conditions=source', '--import', TSX, CLI, 'migrate', '--wait-ms', '120000'],
        {
          cwd: tmpdir(),
          env: { ...dbEnv, DATABASE_URL: later.toString() },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('waiting for Postgres')) openProxy();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toMatch(/waiting for Postgres/);
      expect(stdout).toBe('migrations applied\n');
      expect(code).toBe(0);
      const gaveUp = await cli(['migrate', '--wait-ms', '1500'], {
        ...dbEnv,
        DATABASE_URL: 'postgres://root@127.0.0.1:1/none',
      });
      expect(gaveUp.code).toBe(1);
      expect(gaveUp.stderr).toMatch(/ECONNREFUSED/);
    } finally {
      await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
      await empty.drop();
    }
  });

  it("register-cluster without keys registers a cluster that uses the workers' own AWS identity", async () => {
    const { BATON_EKS_ACCESS_KEY: _key, BATON_EKS_SECRET_ACCESS_KEY: _secret, ...noKeys } = BATON;
    const res = await cli(['register-cluster'], {
      ...dbEnv,
      ...noKeys,
      BATON_EKS_CLUSTER_NAME: 'pod-identity',
    });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({
      name: 'pod-identity',
      hostingMode: 'default-chain',
      hasCredentials: false,
      hasExternalId: true,
    });
    const secrets = await getClusterCredentials(database, (JSON.parse(res.stdout) as { id: string }).id);
    expect(secrets.credentials).toBeUndefined();
  });

  it('refuses a bad environment with exit status 2, naming each BATON_* variable to fix and registering nothing', async () => {
    const before = (await listClusters(database)).items.length;
    const { BATON_EKS_REGION: _region, BATON_EKS_SECRET_ACCESS_KEY: _secret, ...halfKey } = BATON;
    const [incomplete, mixedModes, badBoolean] = await Promise.all([
      cli(['register-cluster'], { ...dbEnv, ...halfKey, BATON_EKS_CLUSTER_NAME: 'half' }),
      cli(['register-cluster'], {
        ...dbEnv,
        ...BATON,
        BATON_EKS_CLUSTER_NAME: 'mixed',
        BATON_GLOBAL_ROLE_ARN: 'arn:aws:iam::333333333333:role/Binding',
      }),
      cli(['register-cluster'], {
        ...dbEnv,
        ...BATON,
        BATON_EKS_CLUSTER_NAME: 'maybe',
        BATON_PROVISIONING: 'yes',
      }),
    ]);
    expect(incomplete.code).toBe(2);
    expect(incomplete.stderr).toContain('BATON_EKS_REGION');
    expect(incomplete.stderr).toMatch(/BATON_EKS_SECRET_ACCESS_KEY: missing/);
    expect(mixedModes.code).toBe(2);
    expect(mixedModes.stderr).toMatch(/BATON_EKS_ACCESS_KEY.*cannot be combined with.*BATON_GLOBAL_ROLE_ARN/);
    expect(badBoolean.code).toBe(2);
    expect(badBoolean.stderr).toContain('BATON_PROVISIONING: must be true or false');
    for (const res of [incomplete, mixedModes, badBoolean]) {
      expect(res.stdout).toBe('');
      expect(hasStack(res.stderr)).toBe(false);
      expect(res.stderr).not.toContain(BATON.BATON_EKS_SECRET_ACCESS_KEY);
      expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect((await listClusters(database)).items).toHaveLength(before);
  });

  it('register-cluster sets the provisioning policy from --allow and --deny, and names a bad pattern by its flag', async () => {
    const res = await cli(
      [
        'register-cluster',
        '--allow',
        'cluster_role:cluster-admin:*',
        '--deny',
        'namespace_role:kube-system/*',
        '--deny',
        'access_policy:*',
      ],
      {
        ...dbEnv,
        ...BATON,
        BATON_EKS_CLUSTER_NAME: 'with-policy',
      },
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      name: 'with-policy',
      provisioningPolicy: {
        allow: ['cluster_role:cluster-admin:*'],
        deny: ['namespace_role:kube-system/*', 'access_policy:*'],
      },
    });
    const before = (await listClusters(database)).items.length;
    const typo = await cli(
      ['register-cluster', '--deny', 'access_policy:*', '--deny', 'clusterrole:edit:*'],
      { ...dbEnv, ...BATON, BATON_EKS_CLUSTER_NAME: 'typo' },
    );
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--deny \(#2\): "clusterrole:edit:\*" is not an entitlement id pattern/);
    expect((await listClusters(database)).items).toHaveLength(before);
  });

  it("register-cluster takes baton-eks's flag names, which win over the environment", async () => {
    const res = await cli(
      [
        'register-cluster',
        '--eks-cluster-name',
        'from-flags',
        '--eks-region',
        'eu-west-2',
        '--role-arn',
        'arn:aws:iam::444444444444:role/EksAccessConnector',
        '--external-id',
        'flag-external-id',
        '--eks-access-key',
        'AKIAEKSCLITEST00002',
        '--eks-secret-access-key',
        'flagSecretKeyThatMustNeverBePrinted/0002',
        '--provisioning',
      ],
      { ...dbEnv, ...BATON, BATON_PROVISIONING: 'false' },
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      name: 'from-flags',
      region: 'eu-west-2',
      accountId: '444444444444',
      hostingMode: 'self-hosted',
      provisioningEnabled: true,
      hasExternalId: true,
    });
    const secrets = await getClusterCredentials(database, (JSON.parse(res.stdout) as { id: string }).id);
    expect(secrets.externalId).toBe('flag-external-id');
    expect(secrets.credentials).toEqual({
      static: {
        accessKeyId: 'AKIAEKSCLITEST00002',
        secretAccessKey: 'flagSecretKeyThatMustNeverBePrinted/0002',
      },
    });
  });

  it('answers --help for itself and every command, and --version, on stdout with exit 0 and no environment', async () => {
    const commands = [
      '',
      'migrate',
      'create-key',
      'list-keys',
      'revoke-key',
      'rotate-key',
      'register-cluster',
    ];
    const results = await Promise.all(commands.map((c) => cli([...(c ? [c] : []), '--help'], {})));
    results.forEach((res, i) => {
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toBe('');
      expect(res.stdout).toMatch(new RegExp(`^Usage: eks-access-api ${commands[i]}`.trim()));
    });
    expect(results[6]?.stdout).toContain('--eks-cluster-name');
    const pkg = JSON.parse(
      await readFile(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'),
    ) as { version: string };
    for (const args of [['--version'], ['register-cluster', '--version']])
      expect(await cli(args, {})).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('answers an unknown command or option with one line naming it and the --help to read, exit 2', async () => {
    const [command, option, none] = await Promise.all([
      cli(['bogus'], dbEnv),
      cli(['list-keys', '--everything'], dbEnv),
      cli([], dbEnv),
    ]);
    expect(command).toEqual({
      code: 2,
      stdout: '',
      stderr: 'eks-access-api: unknown command \'bogus\'; see "eks-access-api --help"\n',
    });
    expect(option).toEqual({
      code: 2,
      stdout: '',
      stderr: 'eks-access-api: unknown option \'--everything\'; see "eks-access-api list-keys --help"\n',
    });
    expect(none).toEqual({
      code: 2,
      stdout: '',
      stderr: 'eks-access-api: a command is required; see "eks-access-api --help"\n',
    });
  });

  it('exits 2 naming DATABASE_URL when it is not set, and on an unknown option', async () => {
    const [noUrl, unknownOption] = await Promise.all([
      cli(['migrate'], { ENCRYPTION_KEY: database.encryptionKey }),
      cli(['create-key', '--name', 'ci', '--scopes', 'read', '--forever'], dbEnv),
    ]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('DATABASE_URL');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("'--forever'");
    for (const res of [noUrl, unknownOption]) {
      expect(hasStack(res.stderr)).toBe(false);
      expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
