// pnpm bench:c1 — time to write a c1z v1 file of 100,000 distinct grants (the file's row count is
// checked and printed), with the resources and entitlements of a cluster that would produce them,
// streamed from generators as a sync or a snapshot read would. Goal: under 3 s (baton-sdk's SQLite writer takes about 3.2 s for 100,000
// grants on its authors' machine). Prints a table of the runs and one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeC1z, type WriteC1zResult } from '../src/c1z/index.js';
import { createC1Client } from '../src/service/client.js';
import { startStandInC1 } from '../src/standin/index.js';
import type {
  C1Entitlement,
  C1Grant,
  C1GrantAnnotation,
  C1Resource,
  C1ResourceType,
  C1Snapshot,
} from '../src/c1z/index.js';

const GOAL_MS = 3000;
const RUNS = 3;
const GRANTS = 100_000;
const ACCOUNT = '333333333333';

// The cluster: every id and annotation in the shapes baton-eks produces.
const WORLD = {
  accessPolicies: [
    'AmazonEKSClusterAdminPolicy',
    'AmazonEKSAdminPolicy',
    'AmazonEKSViewPolicy',
    'AmazonEKSEditPolicy',
    'AmazonEKSAdminViewPolicy',
  ],
  namespaces: 50,
  clusterRoles: 200,
  namespaceRolesPerNamespace: 20,
  serviceAccountsPerNamespace: 20,
  configMapsPerNamespace: 6,
  iamRoles: 2000,
  iamUsers: 20_000,
  groups: 50,
};

const resourceTypes: C1ResourceType[] = [
  { id: 'access_policy', displayName: 'Access Policy', traits: ['ROLE'], description: 'EKS Access Policy' },
  { id: 'role', displayName: 'IAM Role', traits: ['ROLE'], description: 'AWS IAM Role' },
  {
    id: 'cluster_role',
    displayName: 'Cluster Role',
    traits: ['ROLE'],
    description: 'Kubernetes ClusterRole',
  },
  {
    id: 'namespace_role',
    displayName: 'Namespace Role',
    traits: ['ROLE'],
    description: 'Kubernetes Namespace Role',
  },
  { id: 'namespace', displayName: 'Namespace', traits: [], description: 'Kubernetes Namespace' },
  {
    id: 'service_account',
    displayName: 'Service Account',
    traits: ['USER'],
    description: 'Kubernetes Service Account',
  },
  { id: 'iam_user', displayName: 'IAM User', traits: ['USER'], description: 'AWS IAM User' },
  { id: 'configmap', displayName: 'Config Map', traits: [], description: 'Kubernetes ConfigMap' },
  { id: 'k8s_group', displayName: 'Kubernetes Group', traits: ['GROUP'], description: 'Kubernetes group' },
];

const policyArn = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;
const roleArn = (i: number) => `arn:aws:iam::${ACCOUNT}:role/team-${i % 40}/role-${i}`;
const userArn = (i: number) => `arn:aws:iam::${ACCOUNT}:user/user-${i}`;
const namespace = (i: number) => `team-${i}`;
const clusterRole = (i: number) => (i === 0 ? 'cluster-admin' : `custom:cluster-role-${i}`);
const uid = (i: number) => `${(i * 2654435761) % 0xffffffff}`.padStart(10, '0') + '-4c1b-9d2e-0242ac120002';

function* resources(): Generator<C1Resource> {
  for (const name of WORLD.accessPolicies) {
    yield {
      type: 'access_policy',
      id: policyArn(name),
      displayName: name,
      profile: { display_name: name, policy_arn: policyArn(name), description: `EKS access policy ${name}` },
      annotations: [],
    };
  }
  for (let i = 0; i < WORLD.iamRoles; i++) {
    yield {
      type: 'role',
      id: roleArn(i),
      displayName: `role-${i}`,
      profile: {
        role_name: `role-${i}`,
        role_id: `AROA${i}`,
        arn: roleArn(i),
        path: `/team-${i % 40}/`,
        create_date: '2024-02-01T10:00:00Z',
      },
      annotations: [],
    };
  }
  for (let i = 0; i < WORLD.clusterRoles; i++) {
    yield {
      type: 'cluster_role',
      id: clusterRole(i),
      displayName: clusterRole(i),
      profile: {
        name: clusterRole(i),
        uid: uid(i),
        creationTimestamp: '2024-02-01T10:00:00Z',
        labels: { 'app.kubernetes.io/part-of': 'platform' },
      },
      annotations: [{ type: 'ExternalId', id: uid(i) }],
    };
  }
  yield { type: 'namespace', id: '*', displayName: 'All Namespace', profile: {}, annotations: [] };
  for (let n = 0; n < WORLD.namespaces; n++) {
    const ns = namespace(n);
    yield {
      type: 'namespace',
      id: ns,
      displayName: ns,
      profile: { name: ns },
      annotations: [
        { type: 'ChildResourceType', resourceTypeId: 'service_account' },
        { type: 'ExternalId', id: uid(n + 10_000) },
      ],
    };
    for (let r = 0; r < WORLD.namespaceRolesPerNamespace; r++) {
      yield {
        type: 'namespace_role',
        id: `${ns}/role-${r}`,
        displayName: `role-${r}`,
        parent: { type: 'namespace', id: ns },
        profile: { name: `role-${r}`, namespace: ns },
        annotations: [],
      };
    }
    for (let s = 0; s < WORLD.serviceAccountsPerNamespace; s++) {
      yield {
        type: 'service_account',
        id: `${ns}/sa-${s}`,
        displayName: `sa-${s}`,
        parent: { type: 'namespace', id: ns },
        profile: { name: `sa-${s}`, namespace: ns },
        annotations: [{ type: 'ExternalId', id: uid(n * 1000 + s) }],
      };
    }
    for (let c = 0; c < WORLD.configMapsPerNamespace; c++) {
      yield {
        type: 'configmap',
        id: `${ns}/config-${c}`,
        displayName: `config-${c}`,
        parent: { type: 'namespace', id: ns },
        profile: { name: `config-${c}`, namespace: ns },
        annotations: [{ type: 'ExternalId', id: uid(n * 1000 + 500 + c) }],
      };
    }
  }
  for (let g = 0; g < WORLD.groups; g++) {
    yield {
      type: 'k8s_group',
      id: `group-${g}`,
      displayName: `group-${g}`,
      profile: { name: `group-${g}` },
      annotations: [],
    };
  }
}

function entitlement(
  type: string,
  id: string,
  slug: string,
  purpose: 'assignment' | 'permission',
  grantableTo: string[],
): C1Entitlement {
  return {
    id: `${type}:${id}:${slug}`,
    resource: { type, id },
    slug,
    displayName: `${id} ${slug}`,
    description: `${purpose === 'assignment' ? 'Assigned' : 'Allowed'} ${slug} on ${type} ${id}`,
    purpose,
    grantableTo,
  };
}

function* entitlements(): Generator<C1Entitlement> {
  const scopes = ['cluster', ...Array.from({ length: WORLD.namespaces }, (_, n) => namespace(n))];
  for (const name of WORLD.accessPolicies) {
    for (const scope of scopes)
      yield entitlement('access_policy', policyArn(name), `assigned:${scope}`, 'assignment', [
        'iam_user',
        'role',
      ]);
  }
  for (let i = 0; i < WORLD.iamRoles; i++)
    yield entitlement('role', roleArn(i), 'assignment', 'assignment', ['iam_user', 'role']);
  for (let i = 0; i < WORLD.clusterRoles; i++) {
    for (const scope of ['all', ...scopes.slice(1)]) {
      yield entitlement('cluster_role', clusterRole(i), `${scope}:member`, 'assignment', [
        'iam_user',
        'role',
        'service_account',
        'k8s_group',
      ]);
    }
  }
  for (let n = 0; n < WORLD.namespaces; n++) {
    const ns = namespace(n);
    for (let r = 0; r < WORLD.namespaceRolesPerNamespace; r++) {
      yield entitlement('namespace_role', `${ns}/role-${r}`, 'member', 'assignment', [
        'iam_user',
        'role',
        'service_account',
        'k8s_group',
      ]);
    }
    for (let s = 0; s < WORLD.serviceAccountsPerNamespace; s++) {
      yield entitlement('service_account', `${ns}/sa-${s}`, 'impersonate', 'permission', [
        'cluster_role',
        'namespace_role',
      ]);
    }
    for (let c = 0; c < WORLD.configMapsPerNamespace; c++) {
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) {
        yield entitlement('configmap', `${ns}/config-${c}`, verb, 'permission', [
          'cluster_role',
          'namespace_role',
        ]);
      }
    }
  }
  for (let g = 0; g < WORLD.groups; g++)
    yield entitlement('k8s_group', `group-${g}`, 'member', 'assignment', ['iam_user', 'role']);
}

type Principal = { type: string; id: string; annotations: C1GrantAnnotation[] };

/** The i-th principal of a binding: IAM users (matched to the AWS connector), roles and groups (expanded), service accounts. */
function principal(i: number): Principal {
  switch (i % 10) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const arn = userArn(i % WORLD.iamUsers);
      return { type: 'iam_user', id: arn, annotations: [{ type: 'ExternalResourceMatchID', id: arn }] };
    }
    case 4:
    case 5:
    case 6: {
      const arn = roleArn(i % WORLD.iamRoles);
      return {
        type: 'role',
        id: arn,
        annotations: [{ type: 'GrantExpandable', entitlementIds: [`role:${arn}:assignment`] }],
      };
    }
    case 7: {
      const group = `group-${i % WORLD.groups}`;
      return {
        type: 'k8s_group',
        id: group,
        annotations: [{ type: 'GrantExpandable', entitlementIds: [`k8s_group:${group}:member`] }],
      };
    }
    default: {
      const n = i % WORLD.namespaces;
      return {
        type: 'service_account',
        id: `${namespace(n)}/sa-${i % WORLD.serviceAccountsPerNamespace}`,
        annotations: [],
      };
    }
  }
}

function grantOf(ent: C1Entitlement, who: Principal, extra: C1GrantAnnotation[] = []): C1Grant {
  return {
    id: `${ent.id}:${who.type}:${who.id}`,
    entitlementId: ent.id,
    resource: ent.resource,
    principal: { type: who.type, id: who.id },
    annotations: [...who.annotations, ...extra],
  };
}

/**
 * `total` distinct grants (no two with the same id, so the file holds exactly `total` rows),
 * grouped by entitlement as the sync emits them.
 */
function* grants(total: number): Generator<C1Grant> {
  const seen = new Set<string>();
  let emitted = 0;
  // Yields the grant unless its id was already emitted; false once `total` have been.
  function* fresh(grant: C1Grant): Generator<C1Grant, boolean> {
    if (emitted >= total) return false;
    if (seen.has(grant.id)) return true;
    seen.add(grant.id);
    emitted++;
    yield grant;
    return true;
  }
  let p = 0;
  // Trust policies: IAM users who can assume each role (observed, not provisionable).
  for (let i = 0; i < WORLD.iamRoles && emitted < total * 0.2; i++) {
    const ent = entitlement('role', roleArn(i), 'assignment', 'assignment', []);
    for (let k = 0; k < 10 && emitted < total * 0.2; k++) {
      const arn = userArn((i * 10 + k) % WORLD.iamUsers);
      yield* fresh(
        grantOf(
          ent,
          { type: 'iam_user', id: arn, annotations: [{ type: 'ExternalResourceMatchID', id: arn }] },
          [{ type: 'GrantImmutable', sourceId: 'trust-policy' }],
        ),
      );
    }
  }
  // Access policy associations, each scope with its own principals.
  for (const name of WORLD.accessPolicies) {
    for (let k = 0; k < total * 0.01; k++) {
      const scope = k % 2 ? 'cluster' : namespace(k % WORLD.namespaces);
      const ent = entitlement('access_policy', policyArn(name), `assigned:${scope}`, 'assignment', []);
      yield* fresh(grantOf(ent, principal(p++)));
    }
  }
  // RBAC bindings of cluster roles and namespace roles, until `total` distinct grants. Each pass
  // binds the roles in other scopes, so a pass is never a repeat of an earlier one.
  for (let pass = 0; emitted < total; pass++) {
    const before = emitted;
    for (let i = 0; i < WORLD.clusterRoles && emitted < total; i++) {
      const j = i + pass;
      const scope = j % 3 === 0 ? 'all' : namespace(j % WORLD.namespaces);
      const ent = entitlement('cluster_role', clusterRole(i), `${scope}:member`, 'assignment', []);
      for (let k = 0; k < 150; k++) if (!(yield* fresh(grantOf(ent, principal(p++))))) return;
      const ns = namespace((i + pass * 7) % WORLD.namespaces);
      const role = entitlement(
        'namespace_role',
        `${ns}/role-${j % WORLD.namespaceRolesPerNamespace}`,
        'member',
        'assignment',
        [],
      );
      for (let k = 0; k < 100; k++) if (!(yield* fresh(grantOf(role, principal(p++))))) return;
    }
    if (emitted === before) throw new Error(`the bench world has fewer than ${total} distinct grants`);
  }
}

function snapshot(totalGrants: number): C1Snapshot {
  return { resourceTypes, resources, entitlements, grants: () => grants(totalGrants) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'c1z-bench-'));
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 25);
  try {
    // Warm-up: module loading, protobuf parsing and JIT, on a small file.
    await writeC1z(join(dir, 'warmup.c1z'), snapshot(2_000));
    // CPU time beside wall time: on a machine shared with other work, the process's own CPU time
    // (user + system, all threads) is what the write costs; wall time includes waiting for a core.
    const runs: (WriteC1zResult & { wallMs: number; cpuMs: number })[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const result = await writeC1z(join(dir, 'sync.c1z'), snapshot(GRANTS));
      const used = process.cpuUsage(cpu);
      runs.push({ ...result, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 });
    }
    clearInterval(sampler);
    const last = runs.at(-1)!;
    if (last.counts.grants !== GRANTS || last.duplicates !== 0) {
      throw new Error(
        `the file holds ${last.counts.grants} grants (${last.duplicates} duplicate ids merged), not ${GRANTS}`,
      );
    }
    const pad = (s: string | number, n: number) => String(s).padStart(n);
    process.stdout.write(
      `\nc1z v1 write: ${last.counts.grants} grants, ${last.counts.entitlements} entitlements, ${last.counts.resources} resources, ${last.counts.resourceTypes} resource types\n`,
    );
    process.stdout.write(
      `${'run'.padEnd(6)}${pad('total ms', 10)}${pad('cpu ms', 8)}${pad('sqlite ms', 11)}${pad('zstd ms', 9)}${pad('db MB', 8)}${pad('c1z MB', 8)}\n`,
    );
    runs.forEach((r, i) => {
      process.stdout.write(
        `${String(i + 1).padEnd(6)}${pad(r.wallMs.toFixed(0), 10)}${pad(r.cpuMs.toFixed(0), 8)}${pad(r.timings.databaseMs.toFixed(0), 11)}${pad(r.timings.compressMs.toFixed(0), 9)}` +
          `${pad((r.databaseBytes / 1e6).toFixed(1), 8)}${pad((r.fileBytes / 1e6).toFixed(2), 8)}\n`,
      );
    });
    const wall = runs.map((r) => r.wallMs);
    const medianMs = median(wall);
    process.stdout.write(
      `median ${(medianMs / 1000).toFixed(2)} s, best ${(Math.min(...wall) / 1000).toFixed(2)} s, median CPU ${(median(runs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s (goal < ${GOAL_MS / 1000} s; baton-sdk ≈ 3.2 s); ` +
        `file ${(last.fileBytes / 1e6).toFixed(2)} MB (SQLite ${(last.databaseBytes / 1e6).toFixed(1)} MB); peak RSS ${(peakRss / 1e6).toFixed(0)} MB\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'c1z-write',
        grants: last.counts.grants,
        entitlements: last.counts.entitlements,
        resources: last.counts.resources,
        medianMs: Math.round(medianMs),
        bestMs: Math.round(Math.min(...wall)),
        medianCpuMs: Math.round(median(runs.map((r) => r.cpuMs))),
        loadAverage: loadavg()[0],
        goalMs: GOAL_MS,
        withinGoal: medianMs < GOAL_MS,
        sqliteMs: Math.round(median(runs.map((r) => r.timings.databaseMs))),
        zstdMs: Math.round(median(runs.map((r) => r.timings.compressMs))),
        fileBytes: last.fileBytes,
        databaseBytes: last.databaseBytes,
        peakRssMb: Math.round(peakRss / 1e6),
      })}\n`,
    );
    await benchUpload(join(dir, 'sync.c1z'), last.fileBytes);
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Uploads the c1z to the local stand-in C1 over real gRPC (512 KiB chunks, SHA-256 end message). */
async function benchUpload(path: string, bytes: number): Promise<void> {
  const standIn = await startStandInC1({});
  const client = createC1Client(standIn.clientOptions(standIn.registerClient(), 'bench-host'));
  try {
    await client.uploadAsset(standIn.enqueueTask({ syncFull: {} }), path); // warm-up: token, channel
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const id = standIn.enqueueTask({ syncFull: {} });
      const started = performance.now();
      await client.uploadAsset(id, path);
      times.push(performance.now() - started);
    }
    const med = median(times);
    process.stdout.write(
      `upload to the stand-in C1: ${(bytes / 1e6).toFixed(2)} MB in ${med.toFixed(0)} ms median of 5 (${(bytes / 1e6 / (med / 1000)).toFixed(1)} MB/s)\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'c1z-upload', bytes, medianMs: Math.round(med), mbPerSecond: +(bytes / 1e6 / (med / 1000)).toFixed(1) })}\n`,
    );
  } finally {
    client.close();
    await standIn.close();
  }
}

await main();
