// `eks-access doctor` and `eks-access setup` through the real executable, against the simulator's
// doctor world (the demo plus a sandbox account set up by following the C1 guide with its usual
// mistakes). The doctor must find each planted fault with the right fix; after `setup --apply` it
// must be all green, a sync must succeed, and the connector must still be unable to write anything.
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateAccessEntryCommand, EKSClient, AssociateAccessPolicyCommand } from '@aws-sdk/client-eks';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  createDoctorWorld,
  DEMO,
  DOCTOR,
  mintEksToken,
  startSim,
  type RunningSim,
} from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../bin/eks-access.js');
let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ world: createDoctorWorld });
});
afterAll(async () => {
  await sim.close();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL: sim.awsEndpoint,
        BATON_EKS_ACCESS_KEY: DEMO.connector.accessKeyId,
        BATON_EKS_SECRET_ACCESS_KEY: DEMO.connector.secretAccessKey,
        ...env,
      },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const sandbox = (cluster: string, extra: string[] = []) => [
  '--cluster',
  cluster,
  '--region',
  'eu-west-1',
  '--role-arn',
  DOCTOR.connectorRoleArn,
  '--external-id',
  DOCTOR.externalId,
  ...extra,
];
const adminFlags = [
  '--admin-access-key',
  DOCTOR.admin.accessKeyId,
  '--admin-secret-access-key',
  DOCTOR.admin.secretAccessKey,
];

interface Check {
  id: string;
  status: string;
  detail: string;
  fix?: { kind: string; summary: string; text: string };
}
interface Report {
  status: string;
  checks: Check[];
  fixes: { kind: string; text: string }[];
}

async function doctorJson(args: string[]): Promise<{ code: number; report: Report }> {
  const r = await cli(['doctor', ...args, '-o', 'json']);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

function check(report: Report, id: string): Check {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

describe('eks-access doctor and setup usage', () => {
  it('refuses a missing cluster, a missing role and --plan with --apply with exit code 2, naming what to set', async () => {
    const doctor = await cli(['doctor']);
    expect(doctor.code).toBe(2);
    expect(doctor.stderr).toContain('BATON_EKS_CLUSTER_NAME');
    const noRole = await cli(['setup', '-c', 'broken-eu', '-r', 'eu-west-1']);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toContain('BATON_ROLE_ARN');
    const both = await cli(['setup', '--plan', '--apply', ...sandbox('broken-eu')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--plan and --apply cannot be combined');
    const help = await cli(['setup', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--apply');
  });
});

describe('eks-access doctor on the demo world', () => {
  it.each([
    ['prod-eu', 'eu-west-1', DEMO.connector.roleArn, []],
    ['staging-us', 'us-east-1', DEMO.connector.roleArn, []],
    ['legacy-us', 'us-east-1', DEMO.connector.legacyRoleArn, ['--external-id', DEMO.connector.externalId]],
  ])('finds nothing wrong with %s, set up as the guide intends', async (cluster, region, role, extra) => {
    const r = await cli(['doctor', '-c', cluster, '-r', region, '--role-arn', role, ...extra]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('0 failed, 0 warnings');
    expect(r.code).toBe(0);
  });
});

describe('eks-access doctor warnings', () => {
  it('warns, with exit code 3, when the role accepts sessions without the ExternalId it was given', async () => {
    const r = await cli([
      'doctor',
      '-c',
      'prod-eu',
      '-r',
      'eu-west-1',
      '--role-arn',
      DEMO.connector.roleArn,
      '--external-id',
      'c1-some-external-id',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/WARN\s+role arn:aws:iam::111111111111:role\/EksAccessConnector assumable/);
    expect(r.stdout).toContain('the trust policy does not require it');
    expect(r.stdout).toContain('"sts:ExternalId": "c1-some-external-id"');
    expect(r.stdout).toContain('0 failed, 1 warnings');
  });
});

describe('eks-access doctor on the misconfigured sandbox clusters', () => {
  it('says the role needs an ExternalId when none is given, with the trust statement', async () => {
    const r = await cli([
      'doctor',
      '-c',
      'broken-eu',
      '-r',
      'eu-west-1',
      '--role-arn',
      DOCTOR.connectorRoleArn,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+role arn:aws:iam::333333333333:role\/EksAccessConnector assumable/);
    expect(r.stdout).toContain('requires an ExternalId and none was given');
    expect(r.stdout).toContain('set BATON_EXTERNAL_ID (--external-id)');
    expect(r.stdout).toContain('"sts:ExternalId"');
  });

  it('finds the missing IAM permission, the missing Kubernetes lists and the dangling roleRef of broken-eu', async () => {
    const { code, report } = await doctorJson(sandbox('broken-eu'));
    expect(code).toBe(1);
    expect(check(report, 'assume-role:1').detail).toContain('the ExternalId is required and accepted');

    const listRoles = check(report, 'aws:iam:ListRoles');
    expect(listRoles.status).toBe('fail');
    expect(listRoles.detail).toContain('because no identity-based policy allows the iam:ListRoles action');
    expect(listRoles.fix?.kind).toBe('iam-policy');
    expect(listRoles.fix?.text).toContain('"iam:ListRoles"');
    expect(listRoles.fix?.text).toContain('aws iam put-role-policy --role-name EksAccessConnector');
    expect(check(report, 'aws:eks:DescribeCluster').status).toBe('pass');

    expect(check(report, 'kube:identity').detail).toContain(
      'via aws-auth mapping: user eks-access-connector',
    );
    for (const resource of ['namespaces', 'serviceaccounts']) {
      const list = check(report, `kube:list:${resource}`);
      expect(list.status).toBe('fail');
      expect(list.fix?.kind).toBe('rbac-yaml');
      expect(list.fix?.text).toContain(`resources: ["${resource}"]`);
    }
    expect(check(report, 'kube:list:rolebindings').status).toBe('pass');
    expect(check(report, 'kube:get:configmaps/kube-system/aws-auth').status).toBe('fail');

    const dangling = check(report, 'kube:roleRef:ClusterRoleBinding:reader-role-binding');
    expect(dangling.status).toBe('fail');
    expect(dangling.detail).toContain('roleRef ClusterRole read-only-access does not exist');
    expect(dangling.fix?.text).toBe('kubectl delete clusterrolebinding reader-role-binding');

    // The merged fixes: one IAM policy, one read-only ClusterRole with every missing rule.
    const rbac = report.fixes.find((f) => f.kind === 'rbac-yaml' && f.text.includes('kind: ClusterRole\n'));
    expect(rbac?.text).toContain('name: eks-access-connector-read');
    expect(rbac?.text).toContain('resources: ["namespaces", "serviceaccounts"]');
    expect(rbac?.text).toContain('resourceNames: ["aws-auth"]');
    expect(rbac?.text).not.toContain('secrets');
  });

  it('finds that broken-api does not know the connector, with the access entry commands', async () => {
    const { code, report } = await doctorJson(sandbox('broken-api'));
    expect(code).toBe(1);
    expect(check(report, 'aws:eks:DescribeAccessEntry').detail).toContain(
      'the connector itself has no access entry',
    );
    const reach = check(report, 'kube:identity');
    expect(reach.status).toBe('fail');
    expect(reach.detail).toContain('no access entry for it');
    expect(reach.fix?.text).toContain(
      `aws eks create-access-entry --cluster-name broken-api --region eu-west-1 --principal-arn ${DOCTOR.connectorRoleArn} --type STANDARD`,
    );
    expect(reach.fix?.text).toContain(
      'aws eks associate-access-policy --cluster-name broken-api --region eu-west-1 --principal-arn arn:aws:iam::333333333333:role/EksAccessConnector --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy --access-scope type=cluster',
    );
    expect(check(report, 'aws:iam:ListRoles').status).toBe('fail');
  });
});

async function connectorCredentials() {
  const sts = new STSClient({
    region: 'eu-west-1',
    endpoint: sim.awsEndpoint,
    credentials: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
  });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: DOCTOR.connectorRoleArn,
      RoleSessionName: 'write-check',
      ExternalId: DOCTOR.externalId,
    }),
  );
  sts.destroy();
  return {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken!,
  };
}

/** One Kubernetes request with the connector's own EKS token; returns the HTTP status. */
async function kubeAs(cluster: string, method: string, path: string, body?: unknown): Promise<number> {
  const info = sim.clusters().find((c) => c.name === cluster)!;
  const token = await mintEksToken({
    credentials: await connectorCredentials(),
    region: 'eu-west-1',
    clusterName: cluster,
  });
  const url = new URL(path, info.endpoint);
  return new Promise((resolveStatus, reject) => {
    const req = request(
      url,
      {
        method,
        ca: Buffer.from(info.caData, 'base64').toString('utf8'),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolveStatus(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('eks-access setup', () => {
  it('plans without changing anything', async () => {
    const r = await cli(['setup', ...sandbox('broken-eu'), ...adminFlags]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Planning (dry run)');
    expect(r.stdout).toMatch(/PLAN\s+iam:PutRolePolicy/);
    expect(r.stdout).toMatch(/PLAN\s+update:configmaps\s+kube-system\/aws-auth mapRoles/);
    expect(r.stdout).toMatch(/PLAN\s+create:clusterroles\s+eks-access-connector-read/);
    expect(r.stdout).toMatch(/PLAN\s+delete:clusterrolebindings\s+reader-role-binding/);
    expect(r.stdout).toContain('run again with --apply');
    expect(r.stderr).toBe('');
    const after = await doctorJson(sandbox('broken-eu'));
    expect(after.code).toBe(1);
  });

  it('applies the least-privilege setup, after which the doctor is all green and a sync succeeds', async () => {
    for (const cluster of ['broken-eu', 'broken-api']) {
      const r = await cli(['setup', '--apply', ...sandbox(cluster), ...adminFlags]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/NEXT\s+/);
      expect(r.stdout).toMatch(/DONE\s+/);
      // Every write made is in the audit trail.
      const audit = r.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { audit: string; result: string; action: string });
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.every((a) => a.audit === 'eks-access.setup' && a.result === 'applied')).toBe(true);
    }
    for (const cluster of ['broken-eu', 'broken-api']) {
      const doctor = await cli(['doctor', ...sandbox(cluster)]);
      expect(doctor.stdout).toContain('0 failed, 0 warnings');
      expect(doctor.code).toBe(0);
      const sync = await cli(['sync', ...sandbox(cluster)]);
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toContain(`Cluster ${cluster}`);
    }
    // Other aws-auth entries and bindings are untouched; the guide's dead binding is gone.
    const cluster = sim.findCluster('broken-eu', 'eu-west-1')!;
    const awsAuth = cluster.kube.get('configmaps', 'kube-system', 'aws-auth') as unknown as {
      data: Record<string, string>;
    };
    expect(awsAuth.data.mapUsers).toContain('sandbox-admin');
    expect(cluster.kube.get('clusterrolebindings', undefined, 'reader-role-binding')).toBeUndefined();
    expect(cluster.kube.get('clusterrolebindings', undefined, 'connector-rbac-reader')).toBeDefined();
  });

  it('changes nothing when run again', async () => {
    const r = await cli(['setup', '--apply', ...sandbox('broken-eu'), ...adminFlags]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 changes made');
    expect(r.stderr).toBe('');
  });

  it('leaves the connector unable to write anything it was not given', async () => {
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'escalate' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'eks-access-connector' }],
    };
    for (const cluster of ['broken-eu', 'broken-api']) {
      // It can read what the sync reads …
      expect(await kubeAs(cluster, 'GET', '/api/v1/namespaces')).toBe(200);
      // … and write nothing.
      expect(
        await kubeAs(cluster, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding),
      ).toBe(403);
      expect(await kubeAs(cluster, 'DELETE', '/api/v1/namespaces/apps')).toBe(403);
      expect(
        await kubeAs(cluster, 'POST', '/api/v1/namespaces/apps/configmaps', { metadata: { name: 'x' } }),
      ).toBe(403);
    }
    expect(
      await kubeAs('broken-eu', 'PUT', '/api/v1/namespaces/kube-system/configmaps/aws-auth', {
        metadata: { name: 'aws-auth' },
      }),
    ).toBe(403);
    expect(await kubeAs('broken-eu', 'GET', '/api/v1/namespaces/apps/configmaps')).toBe(403);

    const credentials = await connectorCredentials();
    const eks = new EKSClient({
      region: 'eu-west-1',
      endpoint: sim.awsEndpoint,
      credentials,
      maxAttempts: 1,
    });
    await expect(
      eks.send(new CreateAccessEntryCommand({ clusterName: 'broken-api', principalArn: DEMO.alice.userArn })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      eks.send(
        new AssociateAccessPolicyCommand({
          clusterName: 'broken-api',
          principalArn: DOCTOR.connectorRoleArn,
          policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
          accessScope: { type: 'cluster' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: sim.awsEndpoint,
      credentials,
      maxAttempts: 1,
    });
    await expect(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: 'EksAccessConnector',
          PolicyName: 'more',
          PolicyDocument: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    eks.destroy();
    iam.destroy();
  });
});
