// The real kubectl (/usr/bin/kubectl, 1.32) against a simulated cluster, with kubeconfigs shaped
// as `eks-sim kubeconfig` writes them (a minted token in place of the exec plugin, so each call
// does not start a Node process). The cluster reports 1.32 so that a version-dispatching kubectl
// (the Google Cloud SDK's) runs its 1.32 binary. Each call gets a generous timeout: the machine
// running the tests may be loaded.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigDocument } from '../cli/kubeconfig.js';
import type { Cluster } from '../world/types.js';
import { addNamespaces, startKubeEndpoint, tokenFor, type KubeEndpoint } from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

const KUBECTL = '/usr/bin/kubectl';
const HAS_KUBECTL = existsSync(KUBECTL);
const CALL_TIMEOUT_MS = 60_000;
/** A test's budget: every kubectl call it makes may take the whole call timeout. */
const budget = (calls: number) => calls * CALL_TIMEOUT_MS + 10_000;

let dir = '';
let t: TestWorld;
let cluster: Cluster;
let endpoint: KubeEndpoint;
const kubeconfigs: Record<'admin' | 'alice', string> = { admin: '', alice: '' };

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(as: 'admin' | 'alice', args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, {
      // A private HOME keeps kubectl's discovery cache to this run.
      env: {
        ...process.env,
        KUBECONFIG: kubeconfigs[as],
        HOME: dir,
        NO_PROXY: '127.0.0.1',
        no_proxy: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CALL_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function manifest(name: string, body: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(body));
  return path;
}

function roleBinding(name: string, namespace: string, user: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    ...extra,
  };
}

describe.skipIf(!HAS_KUBECTL)(
  `kubectl against the simulated API server${HAS_KUBECTL ? '' : ` (skipped: ${KUBECTL} is not installed)`}`,
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'eks-sim-kubectl-'));
      t = buildTestWorld();
      cluster = t.clusters.api;
      cluster.version = '1.32';
      endpoint = await startKubeEndpoint({ world: t.world, cluster });
      for (const who of ['admin', 'alice'] as const) {
        const token = await tokenFor(t.credentials[who], cluster);
        const doc = kubeconfigDocument({
          name: cluster.arn,
          server: endpoint.url,
          caData: Buffer.from(endpoint.caPem).toString('base64'),
          user: { token },
        });
        kubeconfigs[who] = manifest(`${who}.kubeconfig`, doc);
      }
    });

    afterAll(async () => {
      await endpoint.close();
      // The kubeconfigs hold bearer tokens (valid 15 minutes): leave none behind.
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      'runs kubectl 1.32 (a version-dispatching kubectl picks it for a 1.32 server)',
      async () => {
        const res = await kubectl('admin', ['version', '-o', 'json']);
        const versions = JSON.parse(res.stdout) as Record<string, { gitVersion: string }>;
        expect(versions.clientVersion?.gitVersion, res.stderr).toMatch(/^v1\.32\./);
        expect(versions.serverVersion?.gitVersion).toMatch(/^v1\.32\.\d+-eks-/);
      },
      budget(1),
    );

    it(
      'answers kubectl auth can-i: yes for the admin, no for a read-only user',
      async () => {
        const yes = await kubectl('admin', ['auth', 'can-i', 'create', 'rolebindings', '-n', 'team-b']);
        expect({ code: yes.code, out: yes.stdout.trim() }, yes.stderr).toEqual({ code: 0, out: 'yes' });
        const no = await kubectl('alice', ['auth', 'can-i', 'create', 'rolebindings', '-n', 'team-a']);
        expect({ code: no.code, out: no.stdout.trim() }, no.stderr).toEqual({ code: 1, out: 'no' });
      },
      budget(2),
    );

    it(
      'refuses --as to a read-only user and lets the admin act as another user',
      async () => {
        const refused = await kubectl('alice', ['--as=bob', 'get', 'configmaps', '-n', 'team-a']);
        expect(refused.code).toBe(1);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toContain(
          'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
        );
        const asViewer = await kubectl('admin', [
          '--as=bob',
          '--as-group=team-a-viewers',
          'get',
          'configmaps',
          '-n',
          'team-a',
          '-o',
          'name',
        ]);
        expect(asViewer.stdout.trim(), asViewer.stderr).toBe('configmap/settings');
        const whoami = await kubectl('admin', [
          '--as=bob',
          'auth',
          'whoami',
          '-o',
          'jsonpath={.status.userInfo}',
        ]);
        expect(JSON.parse(whoami.stdout), whoami.stderr).toEqual({
          username: 'bob',
          groups: ['system:authenticated'],
        });
      },
      budget(3),
    );

    it(
      'runs the typed create commands, which send protobuf: create namespace and create rolebinding',
      async () => {
        const ns = await kubectl('admin', ['create', 'namespace', 'from-kubectl']);
        expect(ns.stdout.trim(), ns.stderr).toBe('namespace/from-kubectl created');
        const rb = await kubectl('admin', [
          'create',
          'rolebinding',
          'x',
          '--clusterrole=view',
          '--user=bob',
          '-n',
          'from-kubectl',
        ]);
        expect(rb.stdout.trim(), rb.stderr).toBe('rolebinding.rbac.authorization.k8s.io/x created');
        expect(cluster.kube.get('rolebindings', 'from-kubectl', 'x')).toMatchObject({
          roleRef: { kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }],
        });
      },
      budget(2),
    );

    it(
      'applies manifests client-side with default validation: creates, then updates',
      async () => {
        const first = await kubectl('admin', [
          'apply',
          '-f',
          manifest('csa.yaml', roleBinding('csa', 'team-b', 'carol')),
        ]);
        expect(first.stdout.trim(), first.stderr).toBe('rolebinding.rbac.authorization.k8s.io/csa created');
        const second = await kubectl('admin', [
          'apply',
          '-f',
          manifest('csa.yaml', roleBinding('csa', 'team-b', 'dave')),
        ]);
        expect(second.stdout.trim(), second.stderr).toBe(
          'rolebinding.rbac.authorization.k8s.io/csa configured',
        );
        expect(cluster.kube.get('rolebindings', 'team-b', 'csa')?.subjects).toEqual([
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dave' },
        ]);
      },
      budget(2),
    );

    it(
      'applies server-side: creates and updates, and --dry-run=server stores nothing',
      async () => {
        const labelled = roleBinding('ssa', 'team-b', 'carol');
        const file = manifest('ssa.yaml', {
          ...labelled,
          metadata: { ...labelled.metadata, labels: { tier: 'gold' } },
        });
        const dry = await kubectl('admin', ['apply', '--server-side', '--dry-run=server', '-f', file]);
        expect(dry.stdout.trim(), dry.stderr).toBe(
          'rolebinding.rbac.authorization.k8s.io/ssa serverside-applied (server dry run)',
        );
        expect(cluster.kube.get('rolebindings', 'team-b', 'ssa')).toBeUndefined();
        const created = await kubectl('admin', ['apply', '--server-side', '-f', file]);
        expect(created.stdout.trim(), created.stderr).toBe(
          'rolebinding.rbac.authorization.k8s.io/ssa serverside-applied',
        );
        const updated = await kubectl('admin', [
          'apply',
          '--server-side',
          '-f',
          manifest('ssa.yaml', roleBinding('ssa', 'team-b', 'erin')),
        ]);
        expect(updated.code, updated.stderr).toBe(0);
        expect(cluster.kube.get('rolebindings', 'team-b', 'ssa')?.subjects).toEqual([
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'erin' },
        ]);
        // The label the configuration no longer sets is removed: the applier owned it.
        expect(cluster.kube.get('rolebindings', 'team-b', 'ssa')?.metadata.labels).toBeUndefined();
      },
      budget(3),
    );

    it(
      'explains a field from the OpenAPI v3 document, and from v2 when asked',
      async () => {
        const res = await kubectl('admin', ['explain', 'rolebinding.subjects']);
        expect(res.code, res.stderr).toBe(0);
        expect(res.stdout).toContain('KIND:       RoleBinding');
        expect(res.stdout).toContain('FIELD: subjects <[]Subject>');
        expect(res.stdout).toMatch(/^\s+name\s+<string> -required-$/m);
        // The same from OpenAPI v2, which kubectl reads in protobuf only.
        const v2 = await kubectl('admin', ['explain', 'rolebinding.roleRef', '--output=plaintext-openapiv2']);
        expect(v2.code, v2.stderr).toBe(0);
        expect(v2.stdout).toContain('RESOURCE: roleRef <Object>');
        expect(v2.stdout).toMatch(/^\s+kind\s+<string> -required-$/m);
      },
      budget(2),
    );

    it(
      'deletes every RoleBinding of a namespace with --all',
      async () => {
        addNamespaces(cluster, 'doomed');
        for (const name of ['one', 'two', 'three'])
          cluster.kube.create('rolebindings', roleBinding(name, 'doomed', name));
        const res = await kubectl('admin', ['delete', 'rolebindings', '--all', '-n', 'doomed']);
        expect(res.code, res.stderr).toBe(0);
        expect(res.stdout).toContain('rolebinding.rbac.authorization.k8s.io "three" deleted');
        expect(cluster.kube.list('rolebindings', { namespace: 'doomed' }).items).toEqual([]);
      },
      budget(1),
    );

    it(
      'fails kubectl create -f with an unknown field under --validate=strict, storing nothing',
      async () => {
        const file = manifest('bad.yaml', roleBinding('bad', 'team-b', 'carol', { spec: { foo: 1 } }));
        const res = await kubectl('admin', ['create', '-f', file, '--validate=strict']);
        expect(res.code).toBe(1);
        expect(res.stderr).toContain('strict decoding error: unknown field "spec"');
        expect(cluster.kube.get('rolebindings', 'team-b', 'bad')).toBeUndefined();
      },
      budget(1),
    );
    it(
      'kubectl get rolebindings -A -w shows a binding created and then deleted by someone else',
      async () => {
        const child = spawn(KUBECTL, ['get', 'rolebindings', '-A', '-w'], {
          env: {
            ...process.env,
            KUBECONFIG: kubeconfigs.admin,
            HOME: dir,
            NO_PROXY: '127.0.0.1',
            no_proxy: '127.0.0.1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        const seen = (text: string, times = 1) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`no "${text}" in: ${stdout} ${stderr}`)),
              CALL_TIMEOUT_MS,
            );
            const check = () => {
              if (stdout.split(text).length - 1 >= times) {
                clearTimeout(timer);
                child.stdout.off('data', check);
                resolve();
              }
            };
            child.stdout.on('data', check);
            check();
          });
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        try {
          // The initial list is printed first (its header), then the watch runs.
          await seen('NAMESPACE');
          cluster.kube.create('rolebindings', roleBinding('watched', 'team-b', 'zed'));
          await seen('watched');
          cluster.kube.delete('rolebindings', 'team-b', 'watched');
          // kubectl prints the deleted object's row again.
          await seen('watched', 2);
          expect(stdout).toMatch(/team-b\s+watched\s+/);
        } finally {
          child.kill('SIGKILL');
        }
      },
      budget(2),
    );
  },
);
