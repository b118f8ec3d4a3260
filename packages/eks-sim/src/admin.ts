// The simulator's admin API: JSON under /_sim/ on the AWS port, with no AWS authentication. Tests,
// benchmarks and the demo use it to read the ready line and request counters, inject faults, reset
// the world, and change the world out of band (drift: an object edited with kubectl, an access
// entry added in the console, a role created by Terraform) without going through the simulated APIs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { faultRuleSchema, type FaultRule, type Faults, type RateSnapshot } from './faults.js';
import { MintError, mintServiceAccountToken } from './oidc/service-account-token.js';
import { KUBE_RESOURCES, isKubeResource, type KubeObject } from './kube/store.js';
import type { ReadyLine, SimControl } from './sim.js';
import {
  addAccessEntryFromDocument,
  addRoleFromDocument,
  checkAccessEntry,
  checkObjects,
  manifestToObject,
  zodProblems,
  type WorldProblem,
} from './world/load.js';
import {
  accessEntrySchema,
  iamRoleSchema,
  kubeManifestSchema,
  oidcProviderSchema,
  podIdentityAssociationSchema,
} from './world/schema.js';
import type { AccessEntry, Cluster, IamRole, OidcProvider, PodIdentityAssociation } from './world/types.js';

export type CounterSnapshot = ReturnType<Faults['snapshot']>;

/** An access entry as the admin API returns it. */
export interface AccessEntryJson {
  clusterName: string;
  principalArn: string;
  type: string;
  username: string;
  kubernetesGroups: string[];
  accessEntryArn: string;
  createdAt: string;
  policyAssociations: { policyArn: string; accessScope: { type: string; namespaces: string[] } }[];
}

export interface RoleJson {
  accountId: string;
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
}

/** A minted service-account token (what a pod's projected token file holds). */
export interface ServiceAccountTokenJson {
  token: string;
  issuer: string;
  subject: string;
  audience: string[];
  expiresAt: string;
}

export interface OidcProviderJson {
  arn: string;
  accountId: string;
  url: string;
  clientIds: string[];
}

export interface PodIdentityAssociationJson {
  associationId: string;
  associationArn: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
}

/** Shapes of the admin API's successful replies, by route. */
export interface AdminReplies {
  info: ReadyLine;
  counters: CounterSnapshot;
  faults: { rules: FaultRule[] };
  ok: { ok: true };
  compact: { cluster: string; compactedRevision: number };
  putObject: { created: boolean; object: KubeObject };
  deleteObject: { deleted: KubeObject; alsoDeleted: number };
  accessEntry: AccessEntryJson;
  deletedAccessEntry: { deleted: string };
  role: RoleJson;
  serviceAccountToken: ServiceAccountTokenJson;
  oidcProvider: OidcProviderJson;
  podIdentityAssociation: PodIdentityAssociationJson;
  rates: RateSnapshot;
}

/** `{ error: { code, message, problems? } }`, the body of every admin API error. */
export interface AdminErrorBody {
  error: { code: string; message: string; problems?: WorldProblem[] };
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems?: WorldProblem[],
  ) {
    super(message);
  }
}

interface Request {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Buffer;
}

interface Reply {
  status?: number;
  body: unknown;
}

type Handler = (sim: SimControl, req: Request) => Reply;

function json(req: Request): unknown {
  const text = req.body.toString('utf8').trim();
  if (!text) throw new AdminError(400, 'InvalidJson', 'the request needs a JSON body');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AdminError(400, 'InvalidJson', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function validate<T extends z.ZodType>(schema: T, input: unknown, base: string): z.output<T> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    const problems = zodProblems(parsed.error.issues, base);
    throw new AdminError(
      400,
      'ValidationFailed',
      `invalid ${base}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
  }
  return parsed.data;
}

function findCluster(sim: SimControl, req: Request): Cluster {
  const name = req.params.cluster!;
  const region = req.query.get('region') ?? undefined;
  const accountId = req.query.get('accountId') ?? undefined;
  const matches = [...sim.world.clusters.values()].filter(
    (c) =>
      c.name === name &&
      (region === undefined || c.region === region) &&
      (accountId === undefined || c.accountId === accountId),
  );
  if (matches.length === 0)
    throw new AdminError(404, 'ClusterNotFound', `no cluster named ${name}${region ? ` in ${region}` : ''}`);
  if (matches.length > 1) {
    throw new AdminError(
      409,
      'AmbiguousCluster',
      `${matches.length} clusters are named ${name}; add ?region= or ?accountId=`,
    );
  }
  return matches[0]!;
}

function faultList(body: unknown): unknown {
  if (Array.isArray(body)) return body;
  if (body !== null && typeof body === 'object' && 'rules' in body) return body.rules;
  return [body];
}

function entryJson(e: AccessEntry): AccessEntryJson {
  return {
    clusterName: e.clusterName,
    principalArn: e.principalArn,
    type: e.type,
    username: e.username,
    kubernetesGroups: e.kubernetesGroups,
    accessEntryArn: e.accessEntryArn,
    createdAt: e.createdAt.toISOString(),
    policyAssociations: [...e.associations.values()].map((a) => ({
      policyArn: a.policyArn,
      accessScope: a.accessScope,
    })),
  };
}

function roleJson(r: IamRole): RoleJson {
  return { accountId: r.accountId, roleName: r.roleName, roleId: r.roleId, path: r.path, arn: r.arn };
}

const putObject: Handler = (sim, req) => {
  const cluster = findCluster(sim, req);
  const manifest = validate(kubeManifestSchema, json(req), 'manifest');
  const { resource, obj } = manifestToObject(manifest);
  const namespace = KUBE_RESOURCES[resource].namespaced ? obj.metadata.namespace : undefined;
  if (namespace !== undefined && !cluster.kube.get('namespaces', undefined, namespace)) {
    throw new AdminError(
      404,
      'NamespaceNotFound',
      `namespace "${namespace}" does not exist in cluster ${cluster.name}`,
    );
  }
  const problems = checkObjects(
    [{ resource, obj, path: 'manifest', namespacePath: 'manifest.metadata.namespace' }],
    new Set(namespace ? [namespace] : []),
  );
  if (problems.length > 0) {
    throw new AdminError(
      400,
      'ValidationFailed',
      problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      problems,
    );
  }
  const existing = cluster.kube.get(resource, namespace, obj.metadata.name);
  // Out-of-band edits win unconditionally, like `kubectl replace --force`: no resourceVersion check.
  const object = existing ? cluster.kube.update(resource, obj) : cluster.kube.create(resource, obj);
  return { status: existing ? 200 : 201, body: { created: !existing, object } };
};

const deleteObject: Handler = (sim, req) => {
  const cluster = findCluster(sim, req);
  const resource = req.params.resource!;
  if (!isKubeResource(resource)) {
    throw new AdminError(
      400,
      'UnknownResource',
      `unknown resource "${resource}"; use one of ${Object.keys(KUBE_RESOURCES).join(', ')}`,
    );
  }
  const namespaced = KUBE_RESOURCES[resource].namespaced;
  const ns = req.params.namespace === '-' ? undefined : req.params.namespace;
  if (namespaced && ns === undefined)
    throw new AdminError(
      400,
      'BadRequest',
      `${resource} are namespaced: put the namespace in the path, not -`,
    );
  if (!namespaced && ns !== undefined)
    throw new AdminError(400, 'BadRequest', `${resource} are not namespaced: use - for the namespace`);
  const name = req.params.name!;
  if (!cluster.kube.get(resource, ns, name)) {
    throw new AdminError(
      404,
      'ObjectNotFound',
      `${resource} "${ns ? `${ns}/` : ''}${name}" not found in cluster ${cluster.name}`,
    );
  }
  // Deleting a namespace deletes what is in it, as the namespace controller would.
  const alsoDeleted = resource === 'namespaces' ? cluster.kube.deleteNamespaceContents(name) : 0;
  return { body: { deleted: cluster.kube.delete(resource, ns, name), alsoDeleted } };
};

const addAccessEntry: Handler = (sim, req) => {
  const cluster = findCluster(sim, req);
  const entry = validate(accessEntrySchema, json(req), 'accessEntry');
  if (cluster.authenticationMode === 'CONFIG_MAP') {
    throw new AdminError(
      400,
      'InvalidRequest',
      `cluster ${cluster.name} uses authenticationMode CONFIG_MAP, which has no access entries`,
    );
  }
  const problems = checkAccessEntry(entry, 'accessEntry');
  if (problems.length > 0)
    throw new AdminError(
      400,
      'ValidationFailed',
      problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      problems,
    );
  if (cluster.accessEntries.has(entry.principalArn)) {
    throw new AdminError(
      409,
      'AlreadyExists',
      `${entry.principalArn} already has an access entry on ${cluster.name}`,
    );
  }
  return { status: 201, body: entryJson(addAccessEntryFromDocument(sim.world, cluster, entry, new Date())) };
};

const deleteAccessEntry: Handler = (sim, req) => {
  const cluster = findCluster(sim, req);
  const principalArn = req.query.get('principalArn');
  if (!principalArn) throw new AdminError(400, 'BadRequest', 'add ?principalArn=<the entry principal ARN>');
  if (!cluster.accessEntries.delete(principalArn)) {
    throw new AdminError(
      404,
      'AccessEntryNotFound',
      `${principalArn} has no access entry on ${cluster.name}`,
    );
  }
  return { body: { deleted: principalArn } };
};

const addRole: Handler = (sim, req) => {
  const role = validate(iamRoleSchema, json(req), 'role');
  if (!sim.world.accounts.has(role.accountId))
    throw new AdminError(404, 'AccountNotFound', `account ${role.accountId} is not in the world`);
  const unknownPolicy = role.managedPolicies?.find((arn) => !sim.world.managedPolicies.has(arn));
  if (unknownPolicy !== undefined)
    throw new AdminError(404, 'PolicyNotFound', `managed policy ${unknownPolicy} is not in the world`);
  if (sim.world.findRoleByName(role.accountId, role.roleName)) {
    throw new AdminError(
      409,
      'AlreadyExists',
      `role ${role.roleName} already exists in account ${role.accountId}`,
    );
  }
  return { status: 201, body: roleJson(addRoleFromDocument(sim.world, role, new Date())) };
};

const tokenRequestSchema = z
  .object({
    namespace: z.string().min(1),
    serviceAccount: z.string().min(1),
    /** `sts.amazonaws.com` (IRSA, the default) or `pods.eks.amazonaws.com` (Pod Identity). */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    expirationSeconds: z.number().int().optional(),
  })
  .strict();

const mintToken: Handler = (sim, req) => {
  const cluster = findCluster(sim, req);
  const input = validate(tokenRequestSchema, json(req), 'tokenRequest');
  try {
    const minted = mintServiceAccountToken(sim.world, cluster, {
      namespace: input.namespace,
      serviceAccount: input.serviceAccount,
      ...(input.audience === undefined ? {} : { audience: input.audience }),
      ...(input.expirationSeconds === undefined ? {} : { expirationSeconds: input.expirationSeconds }),
    });
    return { status: 201, body: { ...minted, expiresAt: minted.expiresAt.toISOString() } };
  } catch (err) {
    if (err instanceof MintError) {
      throw new AdminError(
        err.status,
        err.status === 404 ? 'ServiceAccountNotFound' : 'ValidationFailed',
        err.message,
      );
    }
    throw err;
  }
};

function providerJson(p: OidcProvider): OidcProviderJson {
  return { arn: p.arn, accountId: p.accountId, url: p.url, clientIds: [...p.clientIds] };
}

const addOidcProvider: Handler = (sim, req) => {
  const input = validate(oidcProviderSchema, json(req), 'oidcProvider');
  const cluster = findCluster(sim, {
    ...req,
    params: { cluster: input.cluster },
    query: new URLSearchParams(input.region ? { region: input.region } : {}),
  });
  if (sim.world.findOidcProvider(input.accountId, cluster.oidcIssuer)) {
    throw new AdminError(
      409,
      'AlreadyExists',
      `account ${input.accountId} already has an OIDC provider for ${cluster.oidcIssuer}`,
    );
  }
  const provider = sim.world.addOidcProvider({
    accountId: input.accountId,
    url: cluster.oidcIssuer,
    ...(input.clientIds ? { clientIds: input.clientIds } : {}),
  });
  return { status: 201, body: providerJson(provider) };
};

function associationJson(a: PodIdentityAssociation): PodIdentityAssociationJson {
  return {
    associationId: a.associationId,
    associationArn: a.associationArn,
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
  };
}

const addPodIdentityAssociation: Handler = (sim, req) => {
  const cluster = findCluster(sim, req);
  const input = validate(podIdentityAssociationSchema, json(req), 'association');
  try {
    return {
      status: 201,
      body: associationJson(sim.world.addPodIdentityAssociation(cluster, { ...input, now: new Date() })),
    };
  } catch (err) {
    throw new AdminError(409, 'AlreadyExists', err instanceof Error ? err.message : String(err));
  }
};

const ok = { ok: true } as const;

/** Routes: `:name` segments are parameters. */
const ROUTES: [method: string, pattern: string, handler: Handler][] = [
  ['GET', 'info', (sim) => ({ body: sim.ready() })],
  ['GET', 'counters', (sim) => ({ body: sim.faults.snapshot() })],
  ['POST', 'counters/reset', (sim) => (sim.faults.resetCounters(), { body: ok })],
  ['GET', 'faults', (sim) => ({ body: { rules: sim.faults.listRules() } })],
  [
    'PUT',
    'faults',
    (sim, req) => (
      sim.faults.setRules(validate(z.array(faultRuleSchema), faultList(json(req)), 'rules')),
      { body: { rules: sim.faults.listRules() } }
    ),
  ],
  [
    'POST',
    'faults',
    (sim, req) => (
      sim.faults.addRules(validate(z.array(faultRuleSchema), faultList(json(req)), 'rules')),
      { body: { rules: sim.faults.listRules() } }
    ),
  ],
  ['DELETE', 'faults', (sim) => (sim.faults.setRules([]), { body: { rules: [] } })],
  ['POST', 'reset', (sim) => (sim.reset(), { body: ok })],
  [
    'POST',
    'clusters/:cluster/compact',
    (sim, req) => {
      const cluster = findCluster(sim, req);
      cluster.kube.compact();
      return { body: { cluster: cluster.name, compactedRevision: cluster.kube.compactedRevision } };
    },
  ],
  ['POST', 'clusters/:cluster/objects', putObject],
  ['DELETE', 'clusters/:cluster/objects/:resource/:namespace/:name', deleteObject],
  ['POST', 'clusters/:cluster/access-entries', addAccessEntry],
  ['DELETE', 'clusters/:cluster/access-entries', deleteAccessEntry],
  ['POST', 'iam/roles', addRole],
  ['POST', 'iam/oidc-providers', addOidcProvider],
  ['POST', 'clusters/:cluster/service-account-token', mintToken],
  ['POST', 'clusters/:cluster/pod-identity-associations', addPodIdentityAssociation],
  ['GET', 'rates', (sim) => ({ body: sim.faults.rates() })],
];

function match(pattern: string, segments: string[]): Record<string, string> | undefined {
  const parts = pattern.split('/');
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Builds the admin request handler the AWS endpoint calls for `/_sim/...` paths. */
export function createAdminHandler(
  sim: SimControl,
): (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean> {
  return async (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (!url.pathname.startsWith('/_sim/')) return false;
    const method = req.method ?? 'GET';
    try {
      let segments: string[];
      try {
        segments = url.pathname
          .slice('/_sim/'.length)
          .split('/')
          .filter((s) => s !== '')
          .map(decodeURIComponent);
      } catch {
        throw new AdminError(400, 'BadRequest', 'the path is not valid percent-encoding');
      }
      const allowed: string[] = [];
      for (const [m, pattern, handler] of ROUTES) {
        const params = match(pattern, segments);
        if (!params) continue;
        if (m !== method) {
          allowed.push(m);
          continue;
        }
        const reply = handler(sim, { method, params, query: url.searchParams, body });
        send(res, reply.status ?? 200, reply.body);
        return true;
      }
      if (allowed.length > 0) {
        send(
          res,
          405,
          {
            error: {
              code: 'MethodNotAllowed',
              message: `${method} is not allowed on ${url.pathname}; use ${allowed.join(', ')}`,
            },
          },
          { allow: allowed.join(', ') },
        );
      } else {
        send(res, 404, { error: { code: 'NotFound', message: `no admin route ${method} ${url.pathname}` } });
      }
    } catch (err) {
      if (err instanceof AdminError) {
        send(res, err.status, {
          error: {
            code: err.code,
            message: err.message,
            ...(err.problems ? { problems: err.problems } : {}),
          },
        });
      } else {
        // A simulator bug: answer, never take the AWS endpoint down with it.
        send(res, 500, {
          error: { code: 'Internal', message: err instanceof Error ? err.message : String(err) },
        });
      }
    }
    return true;
  };
}
