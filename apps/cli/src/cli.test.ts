// Runs the real `eks-access` executable as a user would, against a simulator started here.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readC1z } from '@eks-access/c1';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../bin/eks-access.js');
let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
});
afterAll(async () => {
  await sim.close();
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_EC2_METADATA_DISABLED: 'true', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const batonEnv = () => ({
  BATON_EKS_ACCESS_KEY: DEMO.connector.accessKeyId,
  BATON_EKS_SECRET_ACCESS_KEY: DEMO.connector.secretAccessKey,
  BATON_ROLE_ARN: DEMO.connector.roleArn,
  AWS_ENDPOINT_URL: sim.awsEndpoint,
});

function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trim().split('\n')).toHaveLength(1);
}

describe('eks-access sync', () => {
  it('syncs a cluster configured with the C1 docs environment names and prints who has access', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'eks-access-')), 'snapshot.json');
    const r = await cli(['sync', '--out', out], { ...batonEnv(), BATON_EKS_CLUSTER_NAME: 'staging-us', BATON_EKS_REGION: 'us-east-1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Cluster staging-us (arn:aws:eks:us-east-1:111111111111:cluster/staging-us)');
    expect(r.stdout).toMatch(/system:masters members \(bypass RBAC\): .*role\/BreakGlassAdmin/);
    const snapshot = JSON.parse(readFileSync(out, 'utf8')) as { grants: { id: string }[]; report: { status: string } };
    expect(snapshot.report.status).toBe('complete');
    expect(snapshot.grants.map((g) => g.id)).toContain(`k8s_group:system:masters:member:iam_user:${DEMO.alice.userArn}`);
  });

  it('writes the snapshot as a c1z file, as baton-eks writes sync.c1z', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eks-access-')), 'sync.c1z');
    const r = await cli(['sync', '-c', 'legacy-us', '-r', 'us-east-1', '--role-arn', DEMO.connector.legacyRoleArn, '--external-id', DEMO.connector.externalId, '--file', file], batonEnv());
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${file}`);
    expect(readFileSync(file).subarray(0, 5).toString('latin1')).toBe('C1ZF\0');
    const c1z = await readC1z(file);
    const snapshot = c1z.snapshot!;
    const grantIds = snapshot.grants.map((g) => g.id);
    expect(grantIds).toContain('k8s_group:system:masters:member:iam_user:arn:aws:iam::222222222222:user/legacy-admin');
    expect(snapshot.resourceTypes.map((t) => t.id)).toEqual(expect.arrayContaining(['access_policy', 'role', 'cluster_role', 'namespace_role', 'k8s_group']));
  });

  it('takes flags over the environment and prints the report as JSON', async () => {
    const r = await cli(['sync', '--cluster', 'prod-eu', '--region', 'eu-west-1', '--output', 'json'], { ...batonEnv(), BATON_EKS_CLUSTER_NAME: 'staging-us' });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { cluster: { name: string; authenticationMode: string }; sources: Record<string, { state: string }> };
    expect(report.cluster).toMatchObject({ name: 'prod-eu', authenticationMode: 'API' });
    expect(report.sources['kube:awsAuth']?.state).toBe('not_applicable');
  });

  it('needs the ExternalId for the role whose trust policy requires it', async () => {
    const env = { ...batonEnv(), BATON_ROLE_ARN: DEMO.connector.legacyRoleArn, BATON_EKS_CLUSTER_NAME: 'legacy-us', BATON_EKS_REGION: 'us-east-1' };
    const missing = await cli(['sync'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^eks-access: role arn:aws:iam::222222222222:role\/EksAccessConnector cannot be assumed .*set BATON_EXTERNAL_ID/);
    expectNoStack(missing.stderr);
    const ok = await cli(['sync', '--external-id', DEMO.connector.externalId], env);
    expect(ok.code).toBe(0);
  });

  it('ends with one clear line for an unknown cluster or the wrong region', async () => {
    for (const [cluster, region] of [
      ['no-such-cluster', 'eu-west-1'],
      ['prod-eu', 'us-east-1'],
    ] as const) {
      const r = await cli(['sync', '-c', cluster, '-r', region], batonEnv());
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cluster "${cluster}" was not found in region ${region}`);
      expectNoStack(r.stderr);
    }
  });

  it('lists every missing setting with the variable to set, exit code 2', async () => {
    const r = await cli(['sync'], { BATON_EKS_ACCESS_KEY: 'AKIA' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BATON_EKS_REGION');
    expect(r.stderr).toContain('BATON_EKS_CLUSTER_NAME');
    expect(r.stderr).toContain('BATON_EKS_SECRET_ACCESS_KEY');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects an unknown flag with exit code 2', async () => {
    const r = await cli(['sync', '--clustr', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--clustr'/);
  });
});

describe('eks-access demo', () => {
  it('syncs every demo cluster and prints who can reach what, with the findings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eks-access-demo-'));
    const r = await cli(['demo', '--c1z-dir', dir]);
    expect(r.code).toBe(0);
    for (const name of ['prod-eu', 'staging-us', 'legacy-us']) expect(readFileSync(join(dir, `${name}.c1z`)).subarray(0, 4).toString('latin1')).toBe('C1ZF');
    expect(r.stdout).toMatch(/prod-eu\s+111111111111\s+eu-west-1\s+API\s/);
    expect(r.stdout).toMatch(/legacy-us\s+222222222222\s+us-east-1\s+CONFIG_MAP\s/);
    expect(r.stdout).toContain('WHO CAN REACH WHAT');
    expect(r.stdout).toMatch(/only with an ExternalId: user\/eks-access-connector .* reaches legacy-us/);
    expect(r.stdout).toMatch(/prod-eu: ignored role\/BreakGlassAdmin .*ignores aws-auth .*system:masters/);
  });

  it('with --keep-running (after pnpm\'s `--`), prints kubeconfig commands that let kubectl into every cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eks-access-demo-'));
    const child = spawn(process.execPath, [BIN, 'demo', '--', '--keep-running', '--c1z-dir', dir], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_EC2_METADATA_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await new Promise<void>((resolveHints, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('kubectl get')) resolveHints();
        });
        void exited.then((code) => reject(new Error(`demo exited ${code}: ${stderr}`)));
      });
      // The endpoints are printed while the simulator serves, not in the finished report.
      expect(stdout).not.toContain('Simulator');
      const commands = stderr.split('\n').filter((l) => l.includes('eks-sim kubeconfig'));
      expect(commands).toHaveLength(3);
      for (const line of commands) {
        // As printed: `pnpm --silent eks-sim kubeconfig <flags> > /tmp/<name>.kubeconfig`; run the same
        // command through the eks-sim executable (what the pnpm script runs), into a file of our own.
        const m = /eks-sim kubeconfig (.*) > \S+$/.exec(line.trim());
        expect(m).not.toBeNull();
        const flags = m![1]!.split(' ');
        const eksSim = resolve(import.meta.dirname, '../../../packages/eks-sim/bin/eks-sim.js');
        const { stdout: config } = await run(process.execPath, [eksSim, 'kubeconfig', ...flags], { timeout: 60_000 });
        const file = join(dir, `${flags[flags.indexOf('--cluster') + 1]}.kubeconfig`);
        writeFileSync(file, config);
        const { stdout: namespaces } = await run('kubectl', ['--kubeconfig', file, 'get', 'namespaces', '-o', 'name'], {
          timeout: 60_000,
        });
        expect(namespaces).toContain('namespace/kube-system');
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 240_000);
});
