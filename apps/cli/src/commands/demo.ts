// `eks-access demo` (the README's quick start): starts the simulator's demo world in this process,
// syncs every cluster through the real AWS and Kubernetes clients exactly as `sync` would, and
// prints who can reach which cluster with what, and the findings a reviewer should look at first.
import { action, UsageError } from '@eks-access/cli-kit';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  computeEffectiveAccess,
  type ClusterSync,
  type EffectiveAccess,
  type Grant,
  type SyncReport,
} from '@eks-access/eks-core';
import { syncCluster } from '@eks-access/eks-core';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import type { Command } from 'commander';
import { writeSyncC1z } from '../output/c1z-file.js';
import { shortArn, table } from '../output/summary.js';
import type { CommandIo } from './sync.js';

interface ClusterResult {
  c1zPath: string;
  report: SyncReport;
  grants: Grant[];
  access: EffectiveAccess[];
  ignored: { principalArn?: string; reason: string }[];
}

function credentialsFor(accountId: string) {
  const base = {
    kind: 'static',
    accessKeyId: DEMO.connector.accessKeyId,
    secretAccessKey: DEMO.connector.secretAccessKey,
  } as const;
  return accountId === DEMO.accounts.legacy
    ? { base, assume: [{ roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId }] }
    : { base, assume: [{ roleArn: DEMO.connector.roleArn }] };
}

async function syncOne(
  sim: RunningSim,
  name: string,
  region: string,
  accountId: string,
  c1zDir: string,
): Promise<ClusterResult> {
  const sync: ClusterSync = await syncCluster({
    cluster: { name, region },
    credentials: credentialsFor(accountId),
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
  });
  // The same c1z file a baton-eks run writes (sync.c1z), one per cluster.
  const c1zPath = join(c1zDir, `${name}.c1z`);
  const { grants } = await writeSyncC1z(c1zPath, sync);
  const report = sync.finish();
  const access = await computeEffectiveAccess({ grants, cluster: name });
  const ignored = sync.identity.ignored.map((i) => ({
    ...(i.principalArn ? { principalArn: i.principalArn } : {}),
    reason: i.reason,
  }));
  return { report, grants, access, ignored, c1zPath };
}

function describeTarget(a: EffectiveAccess): string {
  const scope = a.scope.type === 'cluster' ? 'cluster-wide' : `in ${a.scope.namespace}`;
  switch (a.resource.type) {
    case 'cluster_role':
      return `ClusterRole ${a.resource.id} ${scope}`;
    case 'namespace_role':
      return `Role ${a.resource.id}`;
    case 'access_policy':
      return `${a.resource.id.split('/').pop()} ${scope}`;
    case 'k8s_group':
      return a.resource.id === 'system:masters'
        ? 'system:masters (superuser, bypasses RBAC)'
        : `group ${a.resource.id}`;
    default:
      return a.entitlementId;
  }
}

function describePath(a: EffectiveAccess): string {
  const hops: string[] = [];
  for (const step of a.path) {
    if (step.kind === 'assume-role')
      hops.push(`assumes ${shortArn(step.entitlementId.replace(/^role:/, '').replace(/:assignment$/, ''))}`);
    else if (step.kind === 'group-membership')
      hops.push(`group ${step.entitlementId.replace(/^k8s_group:/, '').replace(/:member$/, '')}`);
    else {
      const src = step.sources[0];
      if (src?.kind === 'rbac-binding')
        hops.push(
          `${src.binding.kind} ${src.binding.namespace ? `${src.binding.namespace}/` : ''}${src.binding.name}`,
        );
      else if (src?.kind === 'access-policy-association') hops.push('access entry');
      else if (src?.kind === 'identity-mapping')
        hops.push(src.identity.kind === 'aws-auth' ? `aws-auth ${src.identity.key}` : 'access entry');
    }
  }
  const needsExternalId = a.conditions.some((c) => c.kind === 'external-id-required');
  return hops.join(' → ') + (needsExternalId ? ' [ExternalId required]' : '');
}

/** Whether a record is worth showing a person: group memberships other than system:masters are steps, not access. */
function isShown(a: EffectiveAccess): boolean {
  return a.resource.type !== 'k8s_group' || a.resource.id === 'system:masters';
}

function render(results: ClusterResult[], sim: RunningSim, elapsedMs: number): string {
  const lines: string[] = [];
  lines.push(
    `eks-access demo: ${results.length} simulated EKS clusters, synced through the real AWS SDK and Kubernetes clients in ${(elapsedMs / 1000).toFixed(1)} s`,
  );
  lines.push('');
  lines.push(
    table([
      ['CLUSTER', 'ACCOUNT', 'REGION', 'AUTH MODE', 'RESOURCES', 'GRANTS', 'API CALLS', 'SOURCES'],
      ...results.map(({ report: r }) => {
        const count = (o: Record<string, number | undefined>) =>
          String(Object.values(o).reduce<number>((n, v) => n + (v ?? 0), 0));
        const sources = Object.entries(r.sources)
          .filter(([, s]) => s.state !== 'read')
          .map(([n, s]) => `${n} ${s.state === 'failed' ? 'FAILED' : 'n/a'}`);
        return [
          r.cluster.name,
          r.cluster.accountId,
          r.cluster.region,
          r.cluster.authenticationMode,
          count(r.counts.resources),
          count(r.counts.grants),
          String(r.totalApiCalls),
          sources.length ? `read, except ${sources.join(', ')}` : 'all read',
        ];
      }),
    ]),
  );
  lines.push('');
  lines.push('WHO CAN REACH WHAT');
  const byPrincipal = new Map<string, EffectiveAccess[]>();
  for (const a of results.flatMap((r) => r.access).filter(isShown)) {
    const list = byPrincipal.get(a.principalArn) ?? [];
    list.push(a);
    byPrincipal.set(a.principalArn, list);
  }
  for (const [arn, list] of [...byPrincipal].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`${shortArn(arn)}`);
    lines.push(table(list.map((a) => [`  ${a.cluster ?? ''}`, describeTarget(a), `via ${describePath(a)}`])));
  }
  lines.push('');
  lines.push('FINDINGS');
  for (const r of results) {
    const masters = [
      ...new Set(
        r.access.filter((a) => a.resource.id === 'system:masters').map((a) => shortArn(a.principalArn)),
      ),
    ];
    lines.push(
      `  ${r.report.cluster.name}: system:masters (cluster superusers): ${masters.length ? masters.join(', ') : 'none'}`,
    );
  }
  const viaExternalId = results.flatMap((r) =>
    r.access.filter((a) => isShown(a) && a.conditions.some((c) => c.kind === 'external-id-required')),
  );
  for (const a of viaExternalId)
    lines.push(
      `  only with an ExternalId: ${shortArn(a.principalArn)} reaches ${a.cluster}: ${describeTarget(a)} (${describePath(a)})`,
    );
  for (const r of results) {
    for (const i of r.ignored)
      lines.push(
        `  ${r.report.cluster.name}: ignored ${i.principalArn ? `${shortArn(i.principalArn)}: ` : ''}${i.reason}`,
      );
    for (const w of r.report.warnings) lines.push(`  ${r.report.cluster.name}: warning: ${w}`);
  }
  lines.push('');
  lines.push(
    `c1z files (C1's format, as baton-eks writes them): ${results.map((r) => r.c1zPath).join(', ')}`,
  );
  return lines.join('\n');
}

/**
 * What to run to point kubectl at the still-running simulator: one kubeconfig per cluster, with the
 * identity the connector itself uses there (its role in the cluster's account, with the ExternalId
 * the legacy account's trust policy requires), so `kubectl` is authorised as the sync is.
 */
export function kubectlHints(sim: RunningSim): string {
  const lines = [
    `Simulator serving: AWS endpoint ${sim.awsEndpoint} (Ctrl-C to stop). Point kubectl at a cluster:`,
  ];
  for (const c of sim.clusters()) {
    const legacy = c.accountId === DEMO.accounts.legacy;
    const role = legacy ? DEMO.connector.legacyRoleArn : DEMO.connector.roleArn;
    const external = legacy ? ` --external-id ${DEMO.connector.externalId}` : '';
    lines.push(
      `  pnpm --silent eks-sim kubeconfig --admin ${sim.awsEndpoint} --cluster ${c.name} --role-arn ${role}${external} > /tmp/${c.name}.kubeconfig`,
    );
  }
  const first = sim.clusters()[0];
  if (first) lines.push(`  KUBECONFIG=/tmp/${first.name}.kubeconfig kubectl get clusterrolebindings`);
  return lines.join('\n');
}

interface DemoFlags {
  keepRunning?: boolean;
  port?: string;
  json?: boolean;
  c1zDir: string;
}

/** Adds `eks-access demo` to the program. */
export function demoCommand(program: Command, io: CommandIo): void {
  program
    .command('demo')
    .summary('start the simulated demo world, sync every cluster, print the findings')
    .description(
      'Starts the simulated demo world (3 EKS clusters over 2 AWS accounts and 2 regions, one per ' +
        'authentication mode), syncs every cluster and prints who can reach which cluster with what. ' +
        'Needs no Docker, AWS account, Redis or Postgres.',
    )
    .option('--keep-running', 'leave the simulator serving afterwards (Ctrl-C to stop); prints its endpoints')
    .option('--port <n>', 'AWS endpoint port (clusters on the next ports); default: free ports')
    .option('--json', 'print the reports and effective access as JSON')
    .option('--c1z-dir <dir>', 'where to write one c1z file per cluster', 'demo-c1z')
    .action(action<DemoFlags>((flags) => runDemo(flags, io)));
}

/** Runs the demo; returns the exit code. */
export async function runDemo(values: DemoFlags, io: CommandIo): Promise<number> {
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65_000)
    throw new UsageError(`--port takes a port number (0 for free ports), not "${values.port}"`);
  const started = Date.now();
  const sim = await startSim({ world: createDemoWorld, port });
  let keep = false;
  try {
    const c1zDir = values.c1zDir;
    await mkdir(c1zDir, { recursive: true });
    const results = await Promise.all(
      sim.clusters().map((c) => syncOne(sim, c.name, c.region, c.accountId, c1zDir)),
    );
    const elapsed = Date.now() - started;
    if (values.json)
      io.stdout(
        JSON.stringify(
          results.map((r) => ({ report: r.report, effectiveAccess: r.access })),
          null,
          2,
        ),
      );
    else io.stdout(render(results, sim, elapsed));
    const partial = results.some((r) => r.report.status !== 'complete');
    if (values.keepRunning) {
      keep = true;
      io.stderr(`${kubectlHints(sim)}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sim.close();
    }
    return partial ? 3 : 0;
  } finally {
    if (!keep) await sim.close();
  }
}
