// Turns a world document (YAML, JSON or an object built in code) into a World. Validation happens
// in two passes: the schema (shape and formats), then cross-references over the whole document
// (declared accounts and namespaces, duplicates, what EKS itself would refuse). Either pass reports
// every problem it finds at once, each with its path in the document, in one WorldFileError.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { KUBE_RESOURCES, type KubeObjectInput, type KubeResource } from '../kube/store.js';
import { awsAuthConfigMap } from './aws-auth.js';
import { WORLD_EPOCH } from './defaults.js';
import { createFleetWorld } from './fleet.js';
import { generateInto } from './generate.js';
import {
  worldDocumentSchema,
  type AccessEntryDocument,
  type ClusterDocument,
  type IamRoleDocument,
  type IamUserDocument,
  type KubeManifest,
  type WorldDocument,
} from './schema.js';
import type { AccessEntry, Cluster, IamRole, IdentityPolicies } from './types.js';
import { ADMINISTRATOR_ACCESS_ARN, World, normalizePath } from './world.js';

export interface WorldProblem {
  /** Where in the document, e.g. `clusters[1].accessEntries[0].principalArn`; empty for the file itself. */
  path: string;
  message: string;
}

/** A world document that cannot be used; `problems` lists everything wrong with it. */
export class WorldFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: WorldProblem[],
  ) {
    const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${source} is not a valid world (${count}):\n${lines.join('\n')}`);
    this.name = 'WorldFileError';
  }
}

/** Renders a document path the way people write it: `clusters[1].accessEntries[0].principalArn`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && /^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}

function join(base: string, rest: readonly PropertyKey[]): string {
  const tail = formatPath(rest);
  if (!base) return tail;
  return !tail ? base : tail.startsWith('[') ? base + tail : `${base}.${tail}`;
}

const ARTICLE: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  array_or_object: 'a list or an object',
};

function friendly(issue: z.core.$ZodIssue): string {
  // Parsed with reportInput, so an absent input means the field itself is missing.
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined)
    return 'is required';
  if (issue.code === 'invalid_type') {
    if (issue.message.startsWith('Invalid input: expected')) {
      const got = Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'null' : typeof issue.input;
      return `must be ${ARTICLE[issue.expected] ?? `a ${issue.expected}`} (got ${got})`;
    }
  }
  return issue.message;
}

/**
 * Flattens zod issues into document problems. A union's own "Invalid input" is replaced by the
 * problems of the branch whose type matched, which is where the real mistake is.
 */
export function zodProblems(
  issues: readonly z.core.$ZodIssue[],
  base = '',
  prefix: readonly PropertyKey[] = [],
): WorldProblem[] {
  const out: WorldProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: join(base, [...path, key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const matched = issue.errors
        .filter(
          (branch) =>
            branch.length > 0 && !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
        )
        .sort((a, b) => a.length - b.length)[0];
      if (matched) out.push(...zodProblems(matched, base, path));
      else out.push({ path: join(base, path), message: issue.message });
    } else {
      out.push({ path: join(base, path), message: friendly(issue) });
    }
  }
  return out;
}

const KIND_TO_RESOURCE = new Map<string, KubeResource>(
  (Object.entries(KUBE_RESOURCES) as [KubeResource, (typeof KUBE_RESOURCES)[KubeResource]][]).map(
    ([r, info]) => [info.kind, r],
  ),
);

/** One Kubernetes object the document declares, with where it was declared. */
export interface PlannedObject {
  resource: KubeResource;
  obj: KubeObjectInput;
  /** Path of the declaration. */
  path: string;
  /** Path of the field holding the namespace (for namespaced objects). */
  namespacePath: string;
}

interface MetaInput {
  name: string;
  namespace?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

function metadata(m: MetaInput): KubeObjectInput['metadata'] {
  return {
    name: m.name,
    ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
    ...(m.labels === undefined ? {} : { labels: m.labels }),
    ...(m.annotations === undefined ? {} : { annotations: m.annotations }),
  };
}

// Fields an exported manifest (`kubectl get -o yaml`) carries that the server assigns itself.
const SERVER_FIELDS = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'managedFields',
  'generation',
  'selfLink',
];

/** Routes a validated manifest to its resource; namespaced objects default to `default`, like kubectl. */
export function manifestToObject(manifest: KubeManifest): { resource: KubeResource; obj: KubeObjectInput } {
  const resource = KIND_TO_RESOURCE.get(manifest.kind)!;
  const info = KUBE_RESOURCES[resource];
  const meta: Record<string, unknown> = { ...manifest.metadata };
  for (const f of SERVER_FIELDS) delete meta[f];
  if (info.namespaced) meta.namespace = manifest.metadata.namespace || 'default';
  else delete meta.namespace;
  const { status: _status, ...rest } = manifest as Record<string, unknown>;
  return { resource, obj: { ...rest, metadata: meta as KubeObjectInput['metadata'] } };
}

function clusterObjects(c: ClusterDocument, base: string): PlannedObject[] {
  const out: PlannedObject[] = [];
  const add = (
    resource: KubeResource,
    obj: KubeObjectInput,
    path: string,
    namespacePath = `${path}.namespace`,
  ) => out.push({ resource, obj, path, namespacePath });
  c.namespaces?.forEach((n, i) => {
    const m = typeof n === 'string' ? { name: n } : n;
    add(
      'namespaces',
      { apiVersion: 'v1', kind: 'Namespace', metadata: metadata(m) },
      `${base}.namespaces[${i}]`,
    );
  });
  c.serviceAccounts?.forEach((sa, i) =>
    add(
      'serviceaccounts',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(sa) },
      `${base}.serviceAccounts[${i}]`,
    ),
  );
  c.configMaps?.forEach((cm, i) =>
    add(
      'configmaps',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(cm), data: cm.data ?? {} },
      `${base}.configMaps[${i}]`,
    ),
  );
  if (c.awsAuth) add('configmaps', awsAuthConfigMap(c.awsAuth), `${base}.awsAuth`, `${base}.awsAuth`);
  c.clusterRoles?.forEach((r, i) =>
    add(
      'clusterroles',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: metadata(r),
        rules: r.rules ?? [],
        ...(r.aggregationRule ? { aggregationRule: r.aggregationRule } : {}),
      },
      `${base}.clusterRoles[${i}]`,
    ),
  );
  c.roles?.forEach((r, i) =>
    add(
      'roles',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: metadata(r),
        rules: r.rules ?? [],
      },
      `${base}.roles[${i}]`,
    ),
  );
  c.clusterRoleBindings?.forEach((b, i) =>
    add(
      'clusterrolebindings',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: metadata(b),
        roleRef: b.roleRef,
        subjects: b.subjects ?? [],
      },
      `${base}.clusterRoleBindings[${i}]`,
    ),
  );
  c.roleBindings?.forEach((b, i) =>
    add(
      'rolebindings',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: metadata(b),
        roleRef: b.roleRef,
        subjects: b.subjects ?? [],
      },
      `${base}.roleBindings[${i}]`,
    ),
  );
  c.kubernetes?.forEach((m, i) => {
    const { resource, obj } = manifestToObject(m);
    add(resource, obj, `${base}.kubernetes[${i}]`, `${base}.kubernetes[${i}].metadata.namespace`);
  });
  return out;
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

/** Problems Kubernetes itself would reject, plus references to namespaces the cluster lacks. */
export function checkObjects(
  objects: PlannedObject[],
  existingNamespaces: ReadonlySet<string> = new Set(),
): WorldProblem[] {
  const problems: WorldProblem[] = [];
  const namespaces = new Set(existingNamespaces);
  for (const o of objects) if (o.resource === 'namespaces') namespaces.add(o.obj.metadata.name);
  const seen = new Map<string, string>();
  for (const o of objects) {
    const info = KUBE_RESOURCES[o.resource];
    const ns = info.namespaced ? o.obj.metadata.namespace : undefined;
    const id = ns === undefined ? o.obj.metadata.name : `${ns}/${o.obj.metadata.name}`;
    const key = `${o.resource}/${id}`;
    const first = seen.get(key);
    if (first)
      problems.push({ path: o.path, message: `duplicate ${info.kind} "${id}" (first declared at ${first})` });
    else seen.set(key, o.path);
    if (ns !== undefined && !namespaces.has(ns)) {
      problems.push({ path: o.namespacePath, message: `namespace "${ns}" is not declared in this cluster` });
    }
    if (o.resource === 'clusterrolebindings') {
      const ref = o.obj.roleRef as { kind: string };
      if (ref.kind !== 'ClusterRole')
        problems.push({
          path: `${o.path}.roleRef.kind`,
          message: 'a ClusterRoleBinding can only refer to a ClusterRole',
        });
      ((o.obj.subjects ?? []) as Subject[]).forEach((s, j) => {
        if (s.kind === 'ServiceAccount' && !s.namespace) {
          problems.push({
            path: `${o.path}.subjects[${j}].namespace`,
            message: 'a ServiceAccount subject of a ClusterRoleBinding needs a namespace',
          });
        }
      });
    }
  }
  return problems;
}

/** Checks EKS would make on CreateAccessEntry / AssociateAccessPolicy. */
export function checkAccessEntry(entry: AccessEntryDocument, path: string): WorldProblem[] {
  const problems: WorldProblem[] = [];
  const type = entry.type ?? 'STANDARD';
  if (type !== 'STANDARD') {
    if ((entry.kubernetesGroups ?? []).length > 0) {
      problems.push({
        path: `${path}.kubernetesGroups`,
        message: `an access entry of type ${type} cannot have Kubernetes groups`,
      });
    }
    if ((entry.policyAssociations ?? []).length > 0) {
      problems.push({
        path: `${path}.policyAssociations`,
        message: `an access entry of type ${type} cannot have access policies`,
      });
    }
  }
  const policies = new Set<string>();
  entry.policyAssociations?.forEach((a, k) => {
    if (policies.has(a.policyArn))
      problems.push({
        path: `${path}.policyAssociations[${k}].policyArn`,
        message: `${a.policyArn} is associated twice`,
      });
    policies.add(a.policyArn);
  });
  return problems;
}

function checkDocument(doc: WorldDocument): WorldProblem[] {
  const problems: WorldProblem[] = [];
  const accounts = new Map<string, string>();
  const keys = new Map<string, string>();
  const checkKey = (id: string, path: string) => {
    const first = keys.get(id);
    if (first) problems.push({ path, message: `access key ${id} is already declared at ${first}` });
    else keys.set(id, path);
  };
  const checkAccount = (id: string, path: string) => {
    if (!accounts.has(id)) problems.push({ path, message: `account ${id} is not declared under accounts` });
  };

  doc.accounts?.forEach((a, i) => {
    const first = accounts.get(a.id);
    if (first)
      problems.push({
        path: `accounts[${i}].id`,
        message: `account ${a.id} is already declared at ${first}`,
      });
    else accounts.set(a.id, `accounts[${i}]`);
    a.accessKeys?.forEach((k, j) => checkKey(k.accessKeyId, `accounts[${i}].accessKeys[${j}].accessKeyId`));
  });

  const users = new Map<string, string>();
  doc.iamUsers?.forEach((u, i) => {
    const path = `iamUsers[${i}]`;
    checkAccount(u.accountId, `${path}.accountId`);
    const key = `${u.accountId}/${u.userName}`;
    const first = users.get(key);
    if (first)
      problems.push({
        path: `${path}.userName`,
        message: `IAM user ${u.userName} is already declared in account ${u.accountId} at ${first}`,
      });
    else users.set(key, path);
    u.accessKeys?.forEach((k, j) => checkKey(k.accessKeyId, `${path}.accessKeys[${j}].accessKeyId`));
  });

  const roles = new Map<string, string>();
  doc.iamRoles?.forEach((r, i) => {
    const path = `iamRoles[${i}]`;
    checkAccount(r.accountId, `${path}.accountId`);
    // IAM role names are unique per account whatever their path.
    const key = `${r.accountId}/${r.roleName}`;
    const first = roles.get(key);
    if (first)
      problems.push({
        path: `${path}.roleName`,
        message: `IAM role ${r.roleName} is already declared in account ${r.accountId} at ${first}`,
      });
    else roles.set(key, path);
  });

  const managed = new Set<string>([ADMINISTRATOR_ACCESS_ARN]);
  doc.managedPolicies?.forEach((m, i) => {
    checkAccount(m.accountId, `managedPolicies[${i}].accountId`);
    const arn = managedPolicyArn(m.accountId, m.path, m.policyName);
    if (managed.has(arn))
      problems.push({
        path: `managedPolicies[${i}].policyName`,
        message: `managed policy ${arn} is declared twice`,
      });
    managed.add(arn);
  });
  const checkAttached = (list: readonly string[] | undefined, path: string) =>
    list?.forEach((arn, j) => {
      if (!managed.has(arn))
        problems.push({
          path: `${path}.managedPolicies[${j}]`,
          message: `managed policy ${arn} is not declared under managedPolicies (AdministratorAccess is built in)`,
        });
    });
  doc.iamUsers?.forEach((u, i) => checkAttached(u.managedPolicies, `iamUsers[${i}]`));
  doc.iamRoles?.forEach((r, i) => checkAttached(r.managedPolicies, `iamRoles[${i}]`));

  const clusters = new Map<string, string>();
  doc.clusters?.forEach((c, i) => {
    const base = `clusters[${i}]`;
    checkAccount(c.accountId, `${base}.accountId`);
    const key = `${c.accountId}/${c.region}/${c.name}`;
    const first = clusters.get(key);
    if (first)
      problems.push({
        path: `${base}.name`,
        message: `cluster ${c.name} is already declared in ${c.accountId}/${c.region} at ${first}`,
      });
    else clusters.set(key, base);

    if (c.authenticationMode === 'CONFIG_MAP' && (c.accessEntries ?? []).length > 0) {
      problems.push({
        path: `${base}.accessEntries`,
        message:
          'access entries need authenticationMode API or API_AND_CONFIG_MAP (this cluster is CONFIG_MAP)',
      });
    }
    const principals = new Map<string, string>();
    c.accessEntries?.forEach((e, j) => {
      const path = `${base}.accessEntries[${j}]`;
      const firstEntry = principals.get(e.principalArn);
      if (firstEntry)
        problems.push({
          path: `${path}.principalArn`,
          message: `${e.principalArn} already has an access entry at ${firstEntry}`,
        });
      else principals.set(e.principalArn, path);
      problems.push(...checkAccessEntry(e, path));
    });
    problems.push(...checkObjects(clusterObjects(c, base)));
    const serviceAccounts = new Map<string, string>();
    c.podIdentityAssociations?.forEach((a, j) => {
      const path = `${base}.podIdentityAssociations[${j}]`;
      const key = `${a.namespace}/${a.serviceAccount}`;
      const firstAssociation = serviceAccounts.get(key);
      if (firstAssociation)
        problems.push({
          path: `${path}.serviceAccount`,
          message: `service account ${key} already has an association at ${firstAssociation}`,
        });
      else serviceAccounts.set(key, path);
    });
  });

  const providers = new Map<string, string>();
  doc.oidcProviders?.forEach((p, i) => {
    const path = `oidcProviders[${i}]`;
    checkAccount(p.accountId, `${path}.accountId`);
    const named = (doc.clusters ?? []).filter(
      (c) => c.name === p.cluster && (p.region === undefined || c.region === p.region),
    );
    if (named.length !== 1) {
      problems.push({
        path: `${path}.cluster`,
        message:
          named.length === 0
            ? `cluster ${p.cluster} is not declared under clusters`
            : `${named.length} clusters are named ${p.cluster}; add region`,
      });
      return;
    }
    const key = `${p.accountId}/${named[0]!.accountId}/${named[0]!.region}/${p.cluster}`;
    const first = providers.get(key);
    if (first)
      problems.push({
        path: `${path}.cluster`,
        message: `account ${p.accountId} already has a provider for ${p.cluster}'s issuer at ${first}`,
      });
    else providers.set(key, path);
  });

  if (doc.generate) {
    const g = withGenerateDefaults(doc.generate);
    const first = clusters.get(`${g.accountId}/${g.region}/${g.clusterName}`);
    if (first) {
      problems.push({
        path: 'generate.clusterName',
        message: `cluster ${g.clusterName} is already declared in ${g.accountId}/${g.region} at ${first}`,
      });
    }
  }
  return problems;
}

function withGenerateDefaults(g: NonNullable<WorldDocument['generate']>) {
  return {
    clusterName: g.clusterName ?? 'generated',
    region: g.region ?? 'us-west-2',
    accountId: g.accountId ?? '333333333333',
  };
}

/** Validates a world document (shape, then cross-references); throws WorldFileError listing every problem. */
export function parseWorldDocument(input: unknown, source = 'world document'): WorldDocument {
  const parsed = worldDocumentSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new WorldFileError(source, zodProblems(parsed.error.issues));
  const problems = checkDocument(parsed.data);
  if (problems.length > 0) throw new WorldFileError(source, problems);
  return parsed.data;
}

/** The ARN of a customer managed policy. */
export function managedPolicyArn(accountId: string, path: string | undefined, policyName: string): string {
  return `arn:aws:iam::${accountId}:policy${normalizePath(path)}${policyName}`;
}

/** A principal's identity policies from its document form; undefined when it declares none (not modelled). */
export function policiesFromDocument(p: IamRoleDocument | IamUserDocument): IdentityPolicies | undefined {
  if (p.inlinePolicies === undefined && p.managedPolicies === undefined) return undefined;
  return {
    inline: new Map((p.inlinePolicies ?? []).map((i) => [i.policyName, i.policyDocument])),
    managed: [...(p.managedPolicies ?? [])],
  };
}

/** Adds an IAM role from its document form. */
export function addRoleFromDocument(world: World, r: IamRoleDocument, createDate = WORLD_EPOCH): IamRole {
  const policies = policiesFromDocument(r);
  const role = world.addRole({
    accountId: r.accountId,
    roleName: r.roleName,
    ...(r.path === undefined ? {} : { path: r.path }),
    assumeRolePolicyDocument: r.trustPolicy,
    ...(r.description === undefined ? {} : { description: r.description }),
    ...(r.maxSessionDuration === undefined ? {} : { maxSessionDuration: r.maxSessionDuration }),
    tags: Object.entries(r.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    createDate,
  });
  if (policies) role.policies = policies;
  return role;
}

/** Adds an access entry and its policy associations from its document form. */
export function addAccessEntryFromDocument(
  world: World,
  cluster: Cluster,
  e: AccessEntryDocument,
  now = WORLD_EPOCH,
): AccessEntry {
  const entry = world.addAccessEntry(cluster, {
    principalArn: e.principalArn,
    ...(e.type === undefined ? {} : { type: e.type }),
    ...(e.username === undefined ? {} : { username: e.username }),
    ...(e.kubernetesGroups === undefined ? {} : { kubernetesGroups: e.kubernetesGroups }),
    ...(e.tags === undefined ? {} : { tags: e.tags }),
    now,
  });
  for (const a of e.policyAssociations ?? []) {
    entry.associations.set(a.policyArn, {
      policyArn: a.policyArn,
      accessScope: { type: a.accessScope.type, namespaces: [...a.accessScope.namespaces] },
      associatedAt: now,
      modifiedAt: now,
    });
  }
  return entry;
}

function buildValid(doc: WorldDocument): World {
  // A fleet is generated first; the document's own accounts, principals and clusters join it.
  const world = doc.fleet ? createFleetWorld(doc.fleet) : new World();
  for (const a of doc.accounts ?? []) {
    world.addAccount(a.id, a.alias);
    for (const k of a.accessKeys ?? [])
      world.addAccessKey(`arn:aws:iam::${a.id}:root`, k.accessKeyId, k.secretAccessKey);
  }
  for (const u of doc.iamUsers ?? []) {
    const user = world.addUser({
      accountId: u.accountId,
      userName: u.userName,
      ...(u.path === undefined ? {} : { path: u.path }),
      tags: Object.entries(u.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      createDate: WORLD_EPOCH,
    });
    const policies = policiesFromDocument(u);
    if (policies) user.policies = policies;
    for (const k of u.accessKeys ?? []) world.addAccessKey(user.arn, k.accessKeyId, k.secretAccessKey);
  }
  for (const m of doc.managedPolicies ?? []) {
    const arn = managedPolicyArn(m.accountId, m.path, m.policyName);
    world.managedPolicies.set(arn, { arn, policyName: m.policyName, document: m.policyDocument });
  }
  for (const r of doc.iamRoles ?? []) addRoleFromDocument(world, r);
  for (const c of doc.clusters ?? []) {
    const cluster = world.addCluster({
      accountId: c.accountId,
      region: c.region,
      name: c.name,
      ...(c.version === undefined ? {} : { version: c.version }),
      authenticationMode: c.authenticationMode,
      ...(c.tags === undefined ? {} : { tags: c.tags }),
      createdAt: WORLD_EPOCH,
    });
    if (c.operator) cluster.operator = { ...c.operator };
    for (const e of c.accessEntries ?? []) addAccessEntryFromDocument(world, cluster, e);
    // Namespaces first, as `kubectl apply` of a directory would need them.
    const objects = clusterObjects(c, '').sort(
      (a, b) => Number(b.resource === 'namespaces') - Number(a.resource === 'namespaces'),
    );
    for (const o of objects) cluster.kube.create(o.resource, o.obj, WORLD_EPOCH);
    for (const a of c.podIdentityAssociations ?? []) {
      world.addPodIdentityAssociation(cluster, { ...a, now: WORLD_EPOCH });
    }
  }
  for (const p of doc.oidcProviders ?? []) {
    const cluster = [...world.clusters.values()].find(
      (c) => c.name === p.cluster && (p.region === undefined || c.region === p.region),
    )!;
    world.addOidcProvider({
      accountId: p.accountId,
      url: cluster.oidcIssuer,
      createDate: WORLD_EPOCH,
      ...(p.clientIds ? { clientIds: p.clientIds } : {}),
    });
  }
  if (doc.generate) generateInto(world, { ...doc.generate, ...withGenerateDefaults(doc.generate) });
  return world;
}

/** Validates a world document and builds the World it describes; throws WorldFileError when invalid. */
export function buildWorld(input: unknown, options: { source?: string } = {}): World {
  return buildValid(parseWorldDocument(input, options.source));
}

/** Reads a YAML or JSON world file without validating it (validation is buildWorld's job). */
export function readWorldDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : (err as Error).message;
    throw new WorldFileError(path, [{ path: '', message }]);
  }
  if (extname(path).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new WorldFileError(path, [{ path: '', message: `invalid JSON: ${(err as Error).message}` }]);
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new WorldFileError(
      path,
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return {
          path: '',
          message: `line ${at.line}, column ${at.col}: invalid YAML: ${e.message.split('\n')[0]}`,
        };
      }),
    );
  }
  return doc.toJS({ maxAliasCount: 10_000 }) as unknown;
}

/** Reads, validates and builds a world file (YAML, or JSON by its .json extension). */
export function loadWorldFile(path: string): World {
  return buildWorld(readWorldDocument(path), { source: path });
}

/** A reusable builder for `startSim({ world })`: reads and validates once, rebuilds on each call. */
export function worldFactory(input: unknown, source?: string): () => World {
  const doc = parseWorldDocument(input, source);
  return () => buildValid(doc);
}
