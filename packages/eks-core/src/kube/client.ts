// The Kubernetes side of one cluster, through @kubernetes/client-node: HTTPS pinned to the CA that
// DescribeCluster reported (keep-alive agent shared by every call), the EKS bearer token applied
// per request (re-minted before expiry, and once more after a 401), and every call run under the
// call policy (rate limit per cluster, retries, counts).
import { Agent, request } from 'undici';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  ServerConfiguration,
  createConfiguration,
  type RequestContext,
  type SecurityAuthentication,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { EksAccessError, classifyKubeError } from '../errors.js';
import { callWithPolicy, type CallPolicy } from '../limits/call-policy.js';
import type { EksTokenSource } from './eks-token.js';

export interface KubeTarget {
  clusterName: string;
  /** Rate limits and locks are keyed by the cluster ARN (unique across accounts and regions). */
  clusterArn: string;
  endpoint: string;
  /** Base64 of the cluster CA PEM (DescribeCluster's certificateAuthority.data). */
  caData: string;
}

export const LISTABLE = [
  'namespaces',
  'serviceaccounts',
  'clusterroles',
  'roles',
  'clusterrolebindings',
  'rolebindings',
] as const;
export type ListableResource = (typeof LISTABLE)[number];

interface ListPage<T> {
  items: T[];
  metadata?: { _continue?: string; resourceVersion?: string };
}

export interface ListResult<T> {
  items: T[];
  pages: number;
  /** How often an expired continue token forced the list to start again. */
  restarts: number;
  /** The version the list was served at: a watch started from it misses nothing. */
  resourceVersion?: string;
}

/** The API path of each listable resource across all namespaces (what a watch is opened on). */
export const LIST_PATHS: Record<ListableResource, string> = {
  namespaces: '/api/v1/namespaces',
  serviceaccounts: '/api/v1/serviceaccounts',
  clusterroles: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  roles: '/apis/rbac.authorization.k8s.io/v1/roles',
  clusterrolebindings: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  rolebindings: '/apis/rbac.authorization.k8s.io/v1/rolebindings',
};

/** One event of a watch stream, as kube-apiserver sends it. */
export interface RawWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: {
    metadata?: { resourceVersion?: string; name?: string; namespace?: string };
    code?: number;
    [key: string]: unknown;
  };
}

const MAX_LIST_RESTARTS = 3;

export class KubeClient {
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  /** SelfSubjectReview: who the cluster sees the caller as. */
  readonly authn: AuthenticationV1Api;
  /** SelfSubjectAccessReview: whether the caller may do something, without doing it. */
  readonly authz: AuthorizationV1Api;
  private readonly agent: Agent;

  constructor(
    readonly target: KubeTarget,
    private readonly tokens: EksTokenSource,
    private readonly policy: CallPolicy,
  ) {
    // client-node 2.x fetches through undici: the CA pin and the connection pool are a dispatcher.
    this.agent = new Agent({
      connect: { ca: Buffer.from(target.caData, 'base64').toString('utf8') },
      connections: 16,
    });
    const agent = this.agent;
    const auth: SecurityAuthentication = {
      getName: () => 'eks-bearer-token',
      applySecurityAuthentication: async (context: RequestContext) => {
        context.setHeaderParam('Authorization', `Bearer ${await tokens.get()}`);
        context.setDispatcher(agent);
      },
    };
    const config = createConfiguration({
      baseServer: new ServerConfiguration(target.endpoint, {}),
      authMethods: { default: auth },
    });
    this.core = new CoreV1Api(config);
    this.rbac = new RbacAuthorizationV1Api(config);
    this.authn = new AuthenticationV1Api(config);
    this.authz = new AuthorizationV1Api(config);
  }

  /** Runs one Kubernetes call under the policy; `operation` is `kube:<verb>:<resource>`. */
  async call<T>(
    operation: string,
    target: string | undefined,
    fn: () => Promise<T>,
    retryWhen?: (err: EksAccessError) => boolean,
  ): Promise<T> {
    let reauthenticated = false;
    return callWithPolicy(
      this.policy,
      {
        operation,
        limiterKey: `kube:${this.target.clusterArn}`,
        classify: (err) => {
          const classified = classifyKubeError(err, {
            operation,
            cluster: this.target.clusterName,
            ...(target ? { target } : {}),
          });
          // A token can be rejected near its expiry (clock skew): mint a new one and retry once.
          if (classified.code === 'KUBE_UNAUTHORIZED' && !reauthenticated) {
            reauthenticated = true;
            this.tokens.invalidate();
            return new EksAccessError(classified.code, classified.message, {
              cause: classified.cause,
              operation,
              retryable: true,
            });
          }
          return classified;
        },
        ...(retryWhen ? { retryWhen } : {}),
      },
      fn,
    );
  }

  private page(
    resource: ListableResource,
    limit: number,
    cont: string | undefined,
  ): Promise<ListPage<unknown>> {
    const args = { limit, ...(cont ? { _continue: cont } : {}) };
    switch (resource) {
      case 'namespaces':
        return this.core.listNamespace(args);
      case 'serviceaccounts':
        return this.core.listServiceAccountForAllNamespaces(args);
      case 'clusterroles':
        return this.rbac.listClusterRole(args);
      case 'roles':
        return this.rbac.listRoleForAllNamespaces(args);
      case 'clusterrolebindings':
        return this.rbac.listClusterRoleBinding(args);
      case 'rolebindings':
        return this.rbac.listRoleBindingForAllNamespaces(args);
    }
  }

  /**
   * Lists every object of a kind, page by page. An expired continue token (410) restarts the list
   * from the beginning, so the result is always one consistent snapshot.
   */
  async listAll<T, R = T>(
    resource: ListableResource,
    pageSize = 500,
    map?: (item: T) => R,
  ): Promise<ListResult<R>> {
    const operation = `kube:list:${resource}`;
    let restarts = 0;
    let pages = 0;
    for (;;) {
      // Mapping page by page keeps only the compact form alive, never a whole list of client objects.
      const items: R[] = [];
      let cont: string | undefined;
      let resourceVersion: string | undefined;
      try {
        do {
          const current = cont;
          const page = await this.call(
            operation,
            undefined,
            () => this.page(resource, pageSize, current),
            (err) => err.code !== 'KUBE_CONTINUE_EXPIRED',
          );
          pages++;
          for (const item of page.items as T[]) items.push(map ? map(item) : (item as unknown as R));
          cont = page.metadata?._continue || undefined;
          resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        } while (cont);
        return { items, pages, restarts, ...(resourceVersion ? { resourceVersion } : {}) };
      } catch (err) {
        if ((err as EksAccessError).code === 'KUBE_CONTINUE_EXPIRED' && restarts < MAX_LIST_RESTARTS) {
          restarts++;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * GETs an API path (with its query) as JSON, outside the typed clients: the list of the aws-auth
   * ConfigMap by field selector, which gives the resourceVersion its watch starts from.
   */
  async getJson<T>(operation: string, pathAndQuery: string, signal?: AbortSignal): Promise<T> {
    return this.call(operation, undefined, async () => {
      const res = await this.send(pathAndQuery, 'application/json', signal);
      const text = await res.body.text();
      if (res.statusCode !== 200) throw statusError(res.statusCode, text);
      return JSON.parse(text) as T;
    });
  }

  /**
   * Opens a watch (`?watch=true`) and yields its events as they arrive, until the server ends the
   * stream or `signal` aborts. Not retried here: the caller resumes from the last resourceVersion
   * it saw, which only it knows. Errors carry the HTTP status (401 renews the token for next time).
   */
  async *watch(pathAndQuery: string, signal?: AbortSignal): AsyncGenerator<RawWatchEvent> {
    const res = await this.send(pathAndQuery, 'application/json', signal);
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      if (res.statusCode === 401) this.tokens.invalidate();
      throw statusError(res.statusCode, text);
    }
    let buffered = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      buffered += chunk.toString('utf8');
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') yield JSON.parse(line) as RawWatchEvent;
        newline = buffered.indexOf('\n');
      }
    }
    if (buffered.trim() !== '') yield JSON.parse(buffered) as RawWatchEvent;
  }

  private async send(pathAndQuery: string, accept: string, signal?: AbortSignal) {
    const url = new URL(pathAndQuery, this.target.endpoint);
    return request(url, {
      method: 'GET',
      dispatcher: this.agent,
      headers: { authorization: `Bearer ${await this.tokens.get()}`, accept },
      ...(signal ? { signal } : {}),
    });
  }

  /** Reads one ConfigMap; undefined when it does not exist. */
  async getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.call('kube:get:configmaps', `${namespace}/${name}`, () =>
        this.core.readNamespacedConfigMap({ namespace, name }),
      );
    } catch (err) {
      if ((err as EksAccessError).code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  close(): void {
    // Pending requests are already settled by the time a session closes; destroy frees the sockets.
    void this.agent.destroy().catch(() => undefined);
  }
}

// A Kubernetes Status answer as an error the call policy can classify (by its HTTP status).
function statusError(status: number, body: string): Error {
  let message = body.slice(0, 300);
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // not JSON: keep the text
  }
  return Object.assign(new Error(`HTTP ${status}: ${message}`), { code: status, body });
}
