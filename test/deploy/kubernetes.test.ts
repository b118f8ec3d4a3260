// deploy/kubernetes as a cluster would receive it: every kustomization is rendered with
// `kubectl kustomize` (kubectl is required: .ci/run installs it), every object is validated against
// the Kubernetes, KEDA and Prometheus Operator schemas (kubernetes-models), and the invariants the
// product relies on are checked: probes, limits, a restricted security context, writable paths on
// volumes, a grace period longer than the workers' job hand-back, a scaler per worker queue keyed
// to the right BullMQ keys, images that are Dockerfile targets, and no static AWS keys anywhere.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DEFAULT_PREFIX, QUEUE_NAMES } from '@eks-access/queue';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = resolve(import.meta.dirname, '../..');
const deployDir = resolve(root, 'deploy/kubernetes');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown }[];
}

/** Deployment target of each worker and the queue it consumes (packages/queue's catalogue). */
const WORKER_QUEUES: Record<string, string> = {
  'sync-worker': 'eks-sync',
  provisioner: 'eks-provision',
  uploader: 'c1-upload',
};
// The watcher consumes no queue: it leases clusters through Redis.
const PRODUCT = ['api', 'watcher', ...Object.keys(WORKER_QUEUES)];

/** Every directory holding a kustomization, relative to deploy/kubernetes. */
function kustomizations(dir = deployDir): string[] {
  const out: string[] = [];
  if (existsSync(join(dir, 'kustomization.yaml'))) out.push(relative(deployDir, dir) || '.');
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...kustomizations(join(dir, entry.name)));
  }
  return out.sort();
}

const dockerTargets = new Set(
  [...readFileSync(resolve(root, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map(
    (m) => m[1]!,
  ),
);

function kubectl(): string {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return 'kubectl';
  } catch {
    throw new Error('kubectl is not installed: apt-get install kubernetes-client (.ci/run does this)');
  }
}

const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  const bin = kubectl();
  for (const dir of kustomizations()) {
    const text = execFileSync(bin, ['kustomize', join(deployDir, dir)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rendered.set(
      dir,
      parseAllDocuments(text)
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null),
    );
  }
}, 120_000);

/** The kubernetes-models module that holds an apiVersion's classes. */
function modelModule(apiVersion: string): string {
  if (apiVersion === 'keda.sh/v1alpha1') return '@kubernetes-models/keda/keda.sh/v1alpha1';
  if (apiVersion === 'monitoring.coreos.com/v1')
    return '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
  return `kubernetes-models/${apiVersion}`;
}

function podSpecOf(o: K8sObject): PodSpec | undefined {
  if (o.kind === 'Deployment' || o.kind === 'Job') {
    return (o.spec as { template: { spec: PodSpec } }).template.spec;
  }
  return undefined;
}

const of = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const component = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/component'];
const overlays = () => [...rendered.keys()].filter((d) => d.startsWith('overlays/') && !d.endsWith('/app'));

describe('deploy/kubernetes', () => {
  it('has the base, the local and production overlays, and their variants', () => {
    expect([...rendered.keys()]).toEqual(
      expect.arrayContaining([
        'base',
        'overlays/local',
        'overlays/production',
        'overlays/production-hpa',
        'overlays/production-pod-identity',
        'scalers/keda',
        'scalers/hpa',
      ]),
    );
  });

  it('renders objects that validate against the Kubernetes, KEDA and Prometheus Operator schemas', async () => {
    const problems: string[] = [];
    for (const [dir, objects] of rendered) {
      expect(objects.length, dir).toBeGreaterThan(0);
      for (const o of objects) {
        const where = `${dir}: ${o.kind} ${o.metadata.name}`;
        const module = (await import(modelModule(o.apiVersion)).catch(() => undefined)) as
          Record<string, new (data: unknown) => { validate(): void }> | undefined;
        const Model = module?.[o.kind];
        if (!Model) {
          problems.push(`${where}: no schema for ${o.apiVersion} ${o.kind}`);
          continue;
        }
        try {
          new Model(o).validate();
        } catch (err) {
          problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every container limits, a restricted security context and volumes where it writes; long-running ones probes', () => {
    const problems: string[] = [];
    for (const [dir, objects] of rendered) {
      for (const o of [...of(objects, 'Deployment'), ...of(objects, 'Job')]) {
        const pod = podSpecOf(o)!;
        const where = `${dir}: ${o.kind} ${o.metadata.name}`;
        if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not set`);
        if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault')
          problems.push(`${where}: seccomp is not RuntimeDefault`);
        const emptyDirs = new Set(
          (pod.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name),
        );
        for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
          const at = `${where} container ${c.name}`;
          for (const r of ['cpu', 'memory']) {
            if (!c.resources?.requests?.[r]) problems.push(`${at}: no ${r} request`);
            if (!c.resources?.limits?.[r]) problems.push(`${at}: no ${r} limit`);
          }
          const sc = c.securityContext;
          if (sc?.readOnlyRootFilesystem !== true) problems.push(`${at}: root filesystem is writable`);
          if (sc?.allowPrivilegeEscalation !== false) problems.push(`${at}: privilege escalation allowed`);
          if (!sc?.capabilities?.drop?.includes('ALL')) problems.push(`${at}: capabilities not dropped`);
          const mounted = (c.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
          const workDir = c.env?.find((e) => e.name === 'WORK_DIR')?.value;
          if (workDir && !mounted.some((p) => workDir.startsWith(p)))
            problems.push(`${at}: WORK_DIR ${workDir} is not on a volume`);
          if (c.image.startsWith('eks-access/') || c.image.includes('/eks-access/')) {
            if (!mounted.includes('/tmp')) problems.push(`${at}: no writable /tmp`);
          }
        }
        if (o.kind === 'Deployment') {
          for (const c of pod.containers) {
            if (!c.livenessProbe) problems.push(`${where} container ${c.name}: no liveness probe`);
            if (!c.readinessProbe) problems.push(`${where} container ${c.name}: no readiness probe`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('probes the product on /healthz and /readyz, on the port each process serves them', () => {
    for (const [dir, objects] of rendered) {
      for (const d of of(objects, 'Deployment').filter((x) => PRODUCT.includes(component(x) ?? ''))) {
        const name = component(d)!;
        const c = podSpecOf(d)!.containers.find((x) => x.name === name)!;
        const portName = name === 'api' ? 'http' : 'health';
        const port = c.ports?.find((p) => p.name === portName)?.containerPort;
        const envPort = c.env?.find((e) => e.name === (name === 'api' ? 'PORT' : 'HEALTH_PORT'))?.value;
        expect(String(port), `${dir} ${name}`).toBe(envPort);
        expect([c.livenessProbe?.httpGet, c.readinessProbe?.httpGet], `${dir} ${name}`).toEqual([
          { path: '/healthz', port: portName },
          { path: '/readyz', port: portName },
        ]);
      }
    }
  });

  it('lets workers finish or hand back their jobs before they are killed', () => {
    for (const [dir, objects] of rendered) {
      const config = of(objects, 'ConfigMap').find((c) => c.metadata.name === 'eks-access-config');
      if (!config) continue;
      const handBackSeconds = Number(config.data?.SHUTDOWN_TIMEOUT_MS ?? 25_000) / 1000;
      for (const d of of(objects, 'Deployment').filter((x) => (component(x) ?? '') in WORKER_QUEUES)) {
        expect(
          podSpecOf(d)!.terminationGracePeriodSeconds,
          `${dir} ${d.metadata.name}`,
        ).toBeGreaterThanOrEqual(handBackSeconds + 15);
      }
    }
  });

  it('runs images built from the Dockerfile targets, each product container from its own target', () => {
    for (const [dir, objects] of rendered) {
      for (const o of [...of(objects, 'Deployment'), ...of(objects, 'Job')]) {
        for (const c of [...(podSpecOf(o)!.initContainers ?? []), ...podSpecOf(o)!.containers]) {
          if (/^(postgres|redis):/.test(c.image)) continue; // the local overlay's backing services
          const target = c.image
            .replace(/[:@].*$/, '')
            .split('/')
            .at(-1)!;
          expect(dockerTargets, `${dir}: ${c.image}`).toContain(target);
          if (PRODUCT.includes(c.name)) expect(target, `${dir}: container ${c.name}`).toBe(c.name);
        }
      }
      if (dir.startsWith('overlays/production')) {
        const images = of(objects, 'Deployment').flatMap((d) => podSpecOf(d)!.containers.map((c) => c.image));
        for (const image of images) expect(image, dir).toMatch(/:[\w.-]+$/);
      }
    }
  });

  it('scales every worker queue: KEDA on the BullMQ backlog keys, or an HPA; the API on CPU, with PDBs everywhere', () => {
    expect(Object.values(WORKER_QUEUES).sort()).toEqual([...QUEUE_NAMES].sort());
    for (const dir of overlays()) {
      const objects = rendered.get(dir)!;
      const prefix = of(objects, 'ConfigMap').find((c) => c.metadata.name === 'eks-access-config')?.data
        ?.QUEUE_PREFIX;
      expect(prefix, dir).toBe(DEFAULT_PREFIX);
      const hpaTargets = of(objects, 'HorizontalPodAutoscaler').map(
        (h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name,
      );
      const scaled = new Map(
        of(objects, 'ScaledObject').map((s) => {
          const spec = s.spec as {
            scaleTargetRef: { name: string };
            minReplicaCount: number;
            maxReplicaCount: number;
            cooldownPeriod: number;
            triggers: {
              type: string;
              metadata: { listName: string };
              authenticationRef?: { name: string };
            }[];
          };
          return [spec.scaleTargetRef.name, spec];
        }),
      );
      for (const [worker, queue] of Object.entries(WORKER_QUEUES)) {
        const name = `eks-access-${worker}`;
        const keda = scaled.get(name);
        if (keda) {
          expect(
            keda.triggers.map((t) => `${t.type} ${t.metadata.listName}`).sort(),
            `${dir} ${name}`,
          ).toEqual([`redis ${prefix}:${queue}:prioritized`, `redis ${prefix}:${queue}:wait`]);
          expect(keda.minReplicaCount).toBeGreaterThanOrEqual(1);
          expect(keda.maxReplicaCount).toBeGreaterThan(keda.minReplicaCount);
          expect(keda.cooldownPeriod).toBeGreaterThan(0);
          for (const t of keda.triggers) {
            expect(of(objects, 'TriggerAuthentication').map((a) => a.metadata.name)).toContain(
              t.authenticationRef?.name,
            );
          }
          expect(hpaTargets, `${dir}: ${name} has both KEDA and an HPA`).not.toContain(name);
        } else {
          expect(hpaTargets, `${dir}: ${name} has no scaler`).toContain(name);
        }
      }
      expect(hpaTargets, dir).toContain('eks-access-api');
      const pdbSelectors = of(objects, 'PodDisruptionBudget').map(
        (p) =>
          (p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels[
            'app.kubernetes.io/component'
          ],
      );
      for (const c of PRODUCT) expect(pdbSelectors, dir).toContain(c);
    }
  });

  it('gives the workers a pod identity and no static AWS keys; secrets stay out of ConfigMaps', () => {
    for (const [dir, objects] of rendered) {
      for (const o of [...of(objects, 'Deployment'), ...of(objects, 'Job')]) {
        for (const c of [...(podSpecOf(o)!.initContainers ?? []), ...podSpecOf(o)!.containers]) {
          const names = (c.env ?? []).map((e) => e.name);
          expect(
            names.filter((n) =>
              /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|BATON_EKS_ACCESS_KEY|BATON_EKS_SECRET_ACCESS_KEY|BATON_GLOBAL_)/.test(
                n,
              ),
            ),
            `${dir} ${c.name}`,
          ).toEqual([]);
        }
        if ((component(o) ?? '') in WORKER_QUEUES) {
          expect(podSpecOf(o)!.serviceAccountName, `${dir} ${o.metadata.name}`).toBe('eks-access-connector');
        }
      }
      for (const cm of of(objects, 'ConfigMap')) {
        expect(
          Object.keys(cm.data ?? {}).filter((k) =>
            /PASSWORD|SECRET|KEY|TOKEN|DATABASE_URL|REDIS_URL/.test(k),
          ),
          `${dir} ${cm.metadata.name}`,
        ).toEqual([]);
      }
      if (dir.startsWith('overlays/production')) {
        expect(of(objects, 'Secret'), `${dir}: the Secret is created by the operator, not shipped`).toEqual(
          [],
        );
        const sa = of(objects, 'ServiceAccount').find((s) => s.metadata.name === 'eks-access-connector')!;
        const roleArn = sa.metadata.annotations?.['eks.amazonaws.com/role-arn'];
        if (dir === 'overlays/production-pod-identity') expect(roleArn).toBeUndefined();
        else expect(roleArn, dir).toMatch(/^arn:aws:iam::\d{12}:role\//);
      }
    }
  });

  it('the local overlay runs the workers on IRSA from the simulator, and registers clusters without keys', () => {
    const objects = rendered.get('overlays/local')!;
    for (const worker of Object.keys(WORKER_QUEUES)) {
      const pod = podSpecOf(objects.find((o) => o.kind === 'Deployment' && component(o) === worker)!)!;
      expect(pod.initContainers?.map((c) => c.name).sort()).toEqual(['migrate', 'sa-token']);
      const main = pod.containers.find((c) => c.name === worker)!;
      const env = Object.fromEntries((main.env ?? []).map((e) => [e.name, e.value]));
      expect(env.AWS_WEB_IDENTITY_TOKEN_FILE).toBe('/var/run/secrets/eks.amazonaws.com/serviceaccount/token');
      expect(env.AWS_ROLE_ARN).toMatch(/role\/EksAccessConnectorPod$/);
      expect(pod.containers.find((c) => c.name === 'sa-token-refresh')?.command).toContain('--refresh');
    }
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'eks-access-demo-clusters')!;
    const script = podSpecOf(job)!.containers[0]!.command!.join(' ');
    expect(script).toContain('register-cluster');
    expect(script).not.toMatch(/ACCESS_KEY/);
  });
});
