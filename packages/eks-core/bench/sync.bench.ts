// pnpm bench:sync — syncs one large generated cluster through the real clients and prints:
// API calls per operation against the minimum the APIs allow, what baton-eks's call pattern would
// cost for the same world, wall time against the lower bound set by those calls, the simulated
// latency and the EKS rate limit, and this process's peak RSS. The simulator runs in a child
// process so its memory and CPU are not counted as the connector's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { syncCluster } from '../src/index.js';

const WORLD = {
  namespaces: 2000,
  clusterRoles: 300,
  roles: 3000,
  roleBindings: 20000,
  clusterRoleBindings: 1000,
  accessEntries: 500,
  iamRoles: 5000,
  serviceAccounts: 2000,
  authenticationMode: 'API_AND_CONFIG_MAP',
  clusterName: 'bench',
  region: 'us-west-2',
  accountId: '333333333333',
};
const LATENCY_MS = 10;
const EKS_RATE = 50;
const KUBE_PAGE = 500;
const CONNECTOR = {
  accessKeyId: 'AKIAEKSSIMGENERATOR1',
  secretAccessKey: 'eksSimGeneratorSecretKeyDoNotUse/0000001',
};

interface Ready {
  aws: { endpoint: string };
  clusters: { name: string; region: string }[];
}

async function startSimProcess(): Promise<{ ready: Ready; stop: () => void }> {
  // Compiled to dist-bench/bench/, so the simulator is three levels up either way it runs.
  const bin = fileURLToPath(
    new URL(
      import.meta.url.includes('/dist-bench/')
        ? '../../../eks-sim/bin/eks-sim.js'
        : '../../eks-sim/bin/eks-sim.js',
      import.meta.url,
    ),
  );
  const generate = Object.entries(WORLD)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const faults = [
    { target: '*', latencyMs: LATENCY_MS },
    { target: 'eks:*', throttleAbovePerSecond: EKS_RATE },
  ];
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--port',
      '0',
      '--generate',
      generate,
      ...faults.flatMap((f) => ['--fault', JSON.stringify(f)]),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`eks-sim exited with ${code ?? 'a signal'} before it was ready`)),
    );
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
  });
  return { ready, stop: () => child.kill('SIGTERM') };
}

const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));

async function main(): Promise<void> {
  const baselineMb = process.memoryUsage().rss / 1048576;
  const simStarted = performance.now();
  const { ready, stop } = await startSimProcess();
  process.stdout.write(
    `simulator ready in ${((performance.now() - simStarted) / 1000).toFixed(1)} s (separate process)\n`,
  );
  try {
    const cluster = ready.clusters.find((c) => c.name === WORLD.clusterName)!;
    const started = performance.now();
    let phase = 'collect';
    const peaks: Record<string, number> = {};
    const sampler = setInterval(() => {
      const rss = process.memoryUsage().rss / 1048576;
      peaks[phase] = Math.max(peaks[phase] ?? 0, rss);
    }, 50);
    const sync = await syncCluster({
      cluster: { name: cluster.name, region: cluster.region },
      credentials: {
        base: { kind: 'static', ...CONNECTOR },
        assume: [{ roleArn: `arn:aws:iam::${WORLD.accountId}:role/EksAccessConnector` }],
      },
      endpoints: { sts: ready.aws.endpoint, iam: ready.aws.endpoint, eks: ready.aws.endpoint },
    });
    let resources = 0;
    let entitlements = 0;
    let grants = 0;
    phase = 'resources';
    for await (const _ of sync.resources()) resources++;
    phase = 'entitlements';
    for await (const _ of sync.entitlements()) entitlements++;
    phase = 'grants';
    for await (const _ of sync.grants()) grants++;
    clearInterval(sampler);
    const report = sync.finish();
    const wallMs = performance.now() - started;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const inv = sync.inventory;

    // The fewest calls the APIs allow for this world.
    const entries = inv.accessEntries.length;
    const minimum: Record<string, number> = {
      'sts:AssumeRole': 1,
      'eks:DescribeCluster': 1,
      'eks:ListAccessPolicies': pages(inv.accessPolicies.length, 100),
      'eks:ListAccessEntries': pages(entries, 100),
      'eks:DescribeAccessEntry': entries,
      'eks:ListAssociatedAccessPolicies': entries,
      'iam:ListRoles': pages(inv.iamRoles.length, 1000),
      'kube:get:configmaps': 1,
      'kube:list:namespaces': pages(inv.namespaces.length, KUBE_PAGE),
      'kube:list:serviceaccounts': pages(inv.serviceAccounts.length, KUBE_PAGE),
      'kube:list:clusterroles': pages(inv.clusterRoles.length, KUBE_PAGE),
      'kube:list:roles': pages(inv.roles.length, KUBE_PAGE),
      'kube:list:clusterrolebindings': pages(inv.clusterRoleBindings.length, KUBE_PAGE),
      'kube:list:rolebindings': pages(inv.roleBindings.length, KUBE_PAGE),
    };

    // baton-eks for the same world (reference §1): five hard-coded policies, each listed with the
    // associatedPolicyArn filter and then one ListAssociatedAccessPolicies per principal per policy;
    // DescribeAccessEntry per entry for the identity cache; GetRole per role after ListRoles at 100;
    // service accounts listed per namespace.
    const standard = [
      'AmazonEKSClusterAdminPolicy',
      'AmazonEKSAdminPolicy',
      'AmazonEKSViewPolicy',
      'AmazonEKSEditPolicy',
      'AmazonEKSAdminViewPolicy',
    ];
    let holders = 0;
    let holderPages = 0;
    for (const name of standard) {
      const n = inv.accessEntries.filter((e) =>
        e.associations.some((a) => a.policyArn.endsWith(`/${name}`)),
      ).length;
      holders += n;
      holderPages += pages(n, 100);
    }
    const batonEks: Record<string, number> = {
      'sts:AssumeRole': 1,
      'eks:DescribeCluster': 1,
      'eks:ListAccessEntries': holderPages + pages(entries, 100),
      'eks:ListAssociatedAccessPolicies': holders,
      'eks:DescribeAccessEntry': entries,
      'iam:ListRoles': pages(inv.iamRoles.length, 100),
      'iam:GetRole': inv.iamRoles.length,
      'kube:get:configmaps': 1,
      'kube:list:namespaces': 2 * pages(inv.namespaces.length, KUBE_PAGE),
      'kube:list:serviceaccounts (per namespace)': inv.namespaces.length,
      'kube:list:configmaps': 1,
      'kube:list:clusterroles': pages(inv.clusterRoles.length, KUBE_PAGE),
      'kube:list:roles': pages(inv.roles.length, KUBE_PAGE),
      'kube:list:clusterrolebindings': pages(inv.clusterRoleBindings.length, KUBE_PAGE),
      'kube:list:rolebindings': pages(inv.roleBindings.length, KUBE_PAGE),
    };

    const rows = Object.keys({ ...minimum, ...report.apiCalls }).sort();
    const pad = (s: string | number, n: number) => String(s).padStart(n);
    process.stdout.write(
      `\nAPI calls (sync of ${WORLD.clusterName}: ${WORLD.namespaces} namespaces, ${WORLD.roleBindings} RoleBindings, ${entries} access entries, ${inv.iamRoles.length} IAM roles)\n`,
    );
    process.stdout.write(
      `${'operation'.padEnd(36)}${pad('ours', 7)}${pad('minimum', 9)}${pad('ratio', 7)}${pad('throttled', 11)}\n`,
    );
    let ours = 0;
    let min = 0;
    for (const op of rows) {
      const s = report.apiCalls[op];
      const calls = s?.calls ?? 0;
      ours += calls;
      min += minimum[op] ?? 0;
      process.stdout.write(
        `${op.padEnd(36)}${pad(calls, 7)}${pad(minimum[op] ?? '-', 9)}${pad(minimum[op] ? (calls / minimum[op]).toFixed(2) : '-', 7)}${pad(s?.throttled ?? 0, 11)}\n`,
      );
    }
    process.stdout.write(
      `${'total'.padEnd(36)}${pad(ours, 7)}${pad(min, 9)}${pad((ours / min).toFixed(3), 7)}\n`,
    );
    const batonTotal = Object.values(batonEks).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `\nbaton-eks's pattern for the same world: ${batonTotal} calls (${(batonTotal / ours).toFixed(1)}× ours)\n`,
    );
    for (const [op, n] of Object.entries(batonEks)) process.stdout.write(`  ${op.padEnd(44)}${pad(n, 7)}\n`);

    // Lower bound: EKS calls cannot go faster than the rate limit; before them come AssumeRole and
    // DescribeCluster; every call costs at least the simulated latency; the longest sequential
    // chain of list pages is the Kubernetes floor.
    const eksCalls = Object.entries(minimum)
      .filter(([op]) => op.startsWith('eks:'))
      .reduce((a, [, n]) => a + n, 0);
    const serialPrefixMs = 2 * LATENCY_MS;
    const eksFloorMs = ((eksCalls - EKS_RATE) / EKS_RATE) * 1000;
    const kubeFloorMs =
      Math.max(
        ...Object.entries(minimum)
          .filter(([op]) => op.startsWith('kube:list'))
          .map(([, n]) => n),
      ) * LATENCY_MS;
    const lowerBoundMs =
      serialPrefixMs + Math.max(eksFloorMs, kubeFloorMs, pages(inv.iamRoles.length, 1000) * LATENCY_MS);
    process.stdout.write(
      `\nwall time ${(wallMs / 1000).toFixed(2)} s; lower bound ${(lowerBoundMs / 1000).toFixed(2)} s (${eksCalls} EKS calls at ${EKS_RATE}/s, ${LATENCY_MS} ms per call); ratio ${(wallMs / lowerBoundMs).toFixed(2)} (goal ≤ 1.5)\n`,
    );
    process.stdout.write(`source durations (ms): ${JSON.stringify(report.sourceDurationsMs)}\n`);
    process.stdout.write(
      `peak RSS by phase (MB): ${JSON.stringify(Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v)])))}\n`,
    );
    process.stdout.write(
      `peak RSS ${peakRssMb.toFixed(0)} MB (goal < 300 MB; ${baselineMb.toFixed(0)} MB of it is Node with the AWS SDK and @kubernetes/client-node loaded); streamed ${resources} resources, ${entitlements} entitlements, ${grants} grants\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'sync', wallMs: Math.round(wallMs), lowerBoundMs: Math.round(lowerBoundMs), calls: ours, minimumCalls: min, callRatio: +(ours / min).toFixed(3), batonEksCalls: batonTotal, peakRssMb: Math.round(peakRssMb), resources, entitlements, grants, status: report.status })}\n`,
    );
  } finally {
    stop();
  }
}

await main();
