// eks-sim benchmarks (`pnpm bench`): how fast a large generated world builds (startup and every
// admin reset pay it), and how fast a cluster endpoint serves a 500-item RoleBinding page over
// HTTPS to a real client with a real EKS token. Prints a small table, then one JSON line.
import { Agent, request } from 'node:https';
import { mintEksToken } from '../src/kube/token.js';
import { startSim } from '../src/sim.js';
import { generateWorld } from '../src/world/generate.js';
import type { World } from '../src/world/world.js';

const SCALE = {
  namespaces: 2000,
  roleBindings: 20_000,
  accessEntries: 2000,
  iamRoles: 5000,
  serviceAccounts: 2000,
  roles: 2000,
  clusterRoles: 100,
  clusterRoleBindings: 500,
  iamUsers: 200,
};
const GOALS = { buildMs: 3000, pageP95Ms: 20 };
const BUILD_RUNS = 4;
const PAGE_WARMUP = 20;
const PAGE_RUNS = 200;
const FULL_LIST_RUNS = 3;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const ms = (n: number) => `${n.toFixed(1)} ms`;

function timeBuilds(): { coldMs: number; medianMs: number; world: World } {
  const times: number[] = [];
  let world: World | undefined;
  for (let i = 0; i < BUILD_RUNS; i++) {
    const t = performance.now();
    world = generateWorld(SCALE);
    times.push(performance.now() - t);
  }
  return { coldMs: times[0]!, medianMs: median(times.slice(1)), world: world! };
}

interface Page {
  status: number;
  body: string;
}

function get(agent: Agent, url: string, token: string): Promise<Page> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

type ListResult =
  { skipped: string } | { medianMs: number; p95Ms: number; bytes: number; fullListMs: number; pages: number };

async function timeListPages(world: World): Promise<ListResult> {
  let sim;
  try {
    sim = await startSim({ world: () => world });
  } catch (err) {
    return { skipped: `the simulator did not start: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    const cluster = [...sim.world.clusters.values()][0]!;
    const role = sim.world.findRoleByName(cluster.accountId, 'EksAccessConnector')!;
    // Temporary credentials issued in-process, as AssumeRole would: the token is what is measured.
    const session = sim.world.issueTemporaryCredentials(
      {
        kind: 'assumed-role',
        accountId: role.accountId,
        arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/bench`,
        userId: `${role.roleId}:bench`,
        roleArn: role.arn,
        sessionName: 'bench',
      },
      new Date(Date.now() + 3_600_000),
    );
    const token = await mintEksToken({
      credentials: session,
      region: cluster.region,
      clusterName: cluster.name,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: cluster.tls!.caPem });
    const base = `${cluster.endpoint!}/apis/rbac.authorization.k8s.io/v1/rolebindings`;

    const first = await get(agent, `${base}?limit=500`, token);
    if (first.status === 501) return { skipped: 'the Kubernetes endpoint answers 501 (not implemented yet)' };
    if (first.status !== 200)
      throw new Error(`listing RoleBindings answered ${first.status}: ${first.body.slice(0, 300)}`);
    for (let i = 0; i < PAGE_WARMUP; i++) await get(agent, `${base}?limit=500`, token);
    const times: number[] = [];
    for (let i = 0; i < PAGE_RUNS; i++) {
      const t = performance.now();
      await get(agent, `${base}?limit=500`, token);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);

    const fullTimes: number[] = [];
    let pages = 0;
    for (let run = 0; run < FULL_LIST_RUNS; run++) {
      const t = performance.now();
      let next: string | undefined;
      pages = 0;
      do {
        const page = await get(
          agent,
          `${base}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`,
          token,
        );
        if (page.status !== 200) throw new Error(`page ${pages + 1} answered ${page.status}`);
        next = (JSON.parse(page.body) as { metadata: { continue?: string } }).metadata.continue || undefined;
        pages++;
      } while (next);
      fullTimes.push(performance.now() - t);
    }
    agent.destroy();
    return {
      medianMs: quantile(times, 0.5),
      p95Ms: quantile(times, 0.95),
      bytes: Buffer.byteLength(first.body),
      fullListMs: median(fullTimes),
      pages,
    };
  } finally {
    await sim.close();
  }
}

const build = timeBuilds();
const list = await timeListPages(build.world);

const rows: [string, string, string][] = [
  [
    `build world (${SCALE.namespaces} ns, ${SCALE.roleBindings} RB, ${SCALE.accessEntries} AE, ${SCALE.iamRoles} roles), first`,
    ms(build.coldMs),
    `< ${GOALS.buildMs} ms`,
  ],
  [`build world, median of the next ${BUILD_RUNS - 1}`, ms(build.medianMs), `< ${GOALS.buildMs} ms`],
];
if ('skipped' in list)
  rows.push([
    'RoleBinding list page (500 items) over HTTPS',
    `skipped: ${list.skipped}`,
    `p95 < ${GOALS.pageP95Ms} ms`,
  ]);
else {
  rows.push(
    [
      `RoleBinding list page (500 items, ${(list.bytes / 1024).toFixed(0)} KiB), median of ${PAGE_RUNS}`,
      ms(list.medianMs),
      '',
    ],
    ['RoleBinding list page (500 items), p95', ms(list.p95Ms), `< ${GOALS.pageP95Ms} ms`],
    [
      `all ${SCALE.roleBindings} RoleBindings in ${list.pages} pages, median of ${FULL_LIST_RUNS}`,
      ms(list.fullListMs),
      '',
    ],
  );
}
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`${'measurement'.padEnd(width)}  ${'result'.padStart(10)}  goal\n`);
for (const [what, result, goal] of rows)
  process.stdout.write(`${what.padEnd(width)}  ${result.padStart(10)}  ${goal}\n`);

const met = {
  build: build.coldMs < GOALS.buildMs,
  ...('skipped' in list ? {} : { pageP95: list.p95Ms < GOALS.pageP95Ms }),
};
process.stdout.write(
  `${JSON.stringify({
    benchmark: 'eks-sim',
    node: process.version,
    scale: SCALE,
    worldBuildMs: { first: Math.round(build.coldMs), median: Math.round(build.medianMs) },
    rolebindingPage500:
      'skipped' in list
        ? { skipped: list.skipped }
        : { medianMs: +list.medianMs.toFixed(2), p95Ms: +list.p95Ms.toFixed(2) },
    ...('skipped' in list
      ? {}
      : {
          fullList: { items: SCALE.roleBindings, pages: list.pages, medianMs: Math.round(list.fullListMs) },
        }),
    goals: GOALS,
    met,
  })}\n`,
);
