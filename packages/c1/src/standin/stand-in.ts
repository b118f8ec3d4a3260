// A local stand-in for ConductorOne's service-mode endpoints: the token endpoint (HTTP or HTTPS)
// and BatonService (gRPC, plaintext or TLS) on loopback, for tests and docker compose. Written from
// the same public schema as the client; it keeps everything in memory.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { C1ClientOptions } from '../service/client.js';
import { generateClientCredentials, parseClientSecret } from '../service/credentials.js';
import type { FinishTaskRequest, HelloRequest } from '../service/messages.js';
import {
  type BatonMethod,
  type BatonServiceState,
  batonServiceDefinition,
  batonServiceImplementation,
  type CallRecord,
  enqueue,
  type Fault,
  type TaskRecord,
  type TaskSpec,
  type UploadRecord,
} from './baton-service.js';
import { handleAdminRequest } from './admin-routes.js';
import { handleTokenRequest, type TokenEndpointState } from './token-endpoint.js';

export interface StandInOptions {
  /** gRPC port; 0 (default) picks a free one. */
  port?: number;
  /** Token endpoint port; 0 (default) picks a free one. */
  tokenPort?: number;
  /** Address both listen on (default 127.0.0.1). */
  host?: string;
  /** Host name clients use in the token URL and gRPC target (default: `host`, or 127.0.0.1 for 0.0.0.0). */
  publicHost?: string;
  /** TLS key and certificate (PEM) for both endpoints; plaintext when omitted. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The tenant host in the client ids it issues and the JWT audience it expects. */
  audience?: string;
  tokenTtlS?: number;
  /** Serve the admin API (queue tasks, read results) beside the token endpoint; default true. */
  admin?: boolean;
  nextPollMs?: number;
  nextHeartbeatMs?: number;
}

export interface StandInCredentials {
  clientId: string;
  clientSecret: string;
}

export interface StandInC1 {
  tokenUrl: string;
  /** Base URL of the admin API (see admin-routes.ts). */
  adminUrl: string;
  /** `host:port` for gRPC. */
  grpcTarget: string;
  audience: string;
  /** Registers a client (generated when omitted) whose assertions the token endpoint accepts. */
  registerClient(
    credentials?: StandInCredentials | { clientId: string; publicKey: KeyObject },
  ): StandInCredentials;
  /** Options for createC1Client that reach this stand-in with `credentials`. */
  clientOptions(credentials: StandInCredentials, hostId?: string): C1ClientOptions;
  /** Queues a task; returns its 27-character id. */
  enqueueTask(spec: TaskSpec): string;
  /** Makes the task's next heartbeat answer `cancelled`. */
  cancelTask(taskId: string): void;
  /** The next `count` calls of `method` fail with `fault`. */
  failNext(method: BatonMethod, count: number, fault: Fault): void;
  setTiming(timing: { nextPollMs?: number; nextHeartbeatMs?: number }): void;
  task(taskId: string): TaskRecord | undefined;
  /** Completed, checksum-verified uploads for the task, in order. */
  uploads(taskId: string): UploadRecord[];
  /** The last FinishTask the task received. */
  finished(taskId: string): FinishTaskRequest | undefined;
  heartbeats(taskId: string): number;
  hellos(): HelloRequest[];
  calls(method?: BatonMethod): CallRecord[];
  counters(): {
    token: { requests: number; issued: number; rejected: number };
    rpc: Record<BatonMethod, { calls: number; rejected: number }>;
  };
  /** Resolves once the task is handed out by GetTask. */
  waitForStart(taskId: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the task's FinishTask once it arrives. */
  waitForFinish(taskId: string, timeoutMs?: number): Promise<FinishTaskRequest>;
  /** Resolves with the Hello that answered a hello task, once it arrives. */
  waitForHello(taskId: string, timeoutMs?: number): Promise<HelloRequest>;
  close(): Promise<void>;
}

const METHODS: BatonMethod[] = ['Hello', 'GetTask', 'Heartbeat', 'FinishTask', 'UploadAsset'];

/** Starts the stand-in; call `close()` when done. */
export async function startStandInC1(options: StandInOptions = {}): Promise<StandInC1> {
  const host = options.host ?? '127.0.0.1';
  const audience = options.audience ?? 'c1.standin.local';
  const now = () => Date.now();
  const events = new EventEmitter();
  events.setMaxListeners(0);

  const tokenState: TokenEndpointState = {
    audience,
    tokenTtlS: options.tokenTtlS ?? 3600,
    clients: new Map(),
    tokens: new Map(),
    seenNonces: new Map(),
    counters: { requests: 0, issued: 0, rejected: 0 },
    now,
  };
  const state: BatonServiceState = {
    tokens: tokenState.tokens,
    queue: [],
    tasks: new Map(),
    faults: new Map(),
    calls: [],
    hellos: [],
    nextPollMs: options.nextPollMs ?? 1_000,
    nextHeartbeatMs: options.nextHeartbeatMs ?? 30_000,
    events,
    now,
  };

  // Set once both servers listen; the admin routes need the finished API object.
  const ready: { api?: StandInC1 } = {};
  const onRequest: Parameters<typeof createHttpServer>[1] = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    if (path === '/auth/v1/token') {
      void handleTokenRequest(tokenState, req, res);
      return;
    }
    void (async () => {
      const { api } = ready;
      if (api && (options.admin ?? true) && (await handleAdminRequest(api, req, res, path))) return;
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    })();
  };
  const http: HttpServer = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest)
    : createHttpServer(onRequest);
  http.listen(options.tokenPort ?? 0, host);
  await once(http, 'listening');
  const tokenPort = (http.address() as AddressInfo).port;

  const grpc = new Server();
  grpc.addService(batonServiceDefinition(), batonServiceImplementation(state));
  const credentials = options.tls
    ? ServerCredentials.createSsl(null, [
        { private_key: Buffer.from(options.tls.key), cert_chain: Buffer.from(options.tls.cert) },
      ])
    : ServerCredentials.createInsecure();
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync(`${host}:${options.port ?? 0}`, credentials, (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );

  const scheme = options.tls ? 'https' : 'http';
  const urlHost = options.publicHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host);
  const tokenUrl = `${scheme}://${urlHost}:${tokenPort}/auth/v1/token`;
  const grpcTarget = `${urlHost}:${grpcPort}`;

  const waitFor = <T>(
    event: string,
    taskId: string,
    ready: () => T | undefined,
    timeoutMs: number,
  ): Promise<T> => {
    const done = ready();
    if (done !== undefined) return Promise.resolve(done);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off(event, listener);
        reject(new Error(`stand-in: task ${taskId} saw no ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (id: string) => {
        const value = id === taskId ? ready() : undefined;
        if (value === undefined) return;
        clearTimeout(timer);
        events.off(event, listener);
        resolve(value);
      };
      events.on(event, listener);
    });
  };

  const api: StandInC1 = {
    tokenUrl,
    adminUrl: tokenUrl.replace('/auth/v1/token', '/admin'),
    grpcTarget,
    audience,

    registerClient(given) {
      if (given && 'publicKey' in given) {
        tokenState.clients.set(given.clientId, given.publicKey);
        return { clientId: given.clientId, clientSecret: '' };
      }
      const creds = given ?? generateClientCredentials(audience, 'stand-in-client');
      tokenState.clients.set(creds.clientId, createPublicKey(parseClientSecret(creds.clientSecret)));
      return { clientId: creds.clientId, clientSecret: creds.clientSecret };
    },

    clientOptions(creds, hostId = 'stand-in-test-host') {
      return {
        clientId: creds.clientId,
        clientSecret: creds.clientSecret,
        hostId,
        apiHost: grpcTarget,
        tokenUrl,
        tls: options.tls ? { ca: options.tls.cert } : false,
      };
    },

    enqueueTask: (spec) => enqueue(state, spec),

    cancelTask(taskId) {
      const task = state.tasks.get(taskId);
      if (!task) throw new Error(`stand-in: unknown task ${taskId}`);
      task.cancelled = true;
    },

    failNext(method, count, fault) {
      const queue = state.faults.get(method) ?? [];
      for (let i = 0; i < count; i++) queue.push(fault);
      state.faults.set(method, queue);
    },

    setTiming(timing) {
      if (timing.nextPollMs !== undefined) state.nextPollMs = timing.nextPollMs;
      if (timing.nextHeartbeatMs !== undefined) state.nextHeartbeatMs = timing.nextHeartbeatMs;
    },

    task: (taskId) => state.tasks.get(taskId),
    uploads: (taskId) => state.tasks.get(taskId)?.uploads ?? [],
    finished: (taskId) => state.tasks.get(taskId)?.finishes.at(-1),
    heartbeats: (taskId) => state.tasks.get(taskId)?.heartbeats.length ?? 0,
    hellos: () => state.hellos,
    calls: (method) => (method ? state.calls.filter((c) => c.method === method) : state.calls),

    counters() {
      const rpc = Object.fromEntries(
        METHODS.map((m) => {
          const calls = state.calls.filter((c) => c.method === m);
          return [m, { calls: calls.length, rejected: calls.filter((c) => !c.ok).length }];
        }),
      ) as Record<BatonMethod, { calls: number; rejected: number }>;
      return { token: { ...tokenState.counters }, rpc };
    },

    waitForStart(taskId, timeoutMs = 10_000) {
      return waitFor(
        'task-started',
        taskId,
        () => (state.tasks.get(taskId)?.state === 'queued' ? undefined : true),
        timeoutMs,
      ).then(() => undefined);
    },

    waitForFinish(taskId, timeoutMs = 10_000) {
      return waitFor('task-finished', taskId, () => state.tasks.get(taskId)?.finishes.at(-1), timeoutMs);
    },

    waitForHello(taskId, timeoutMs = 10_000) {
      return waitFor('task-hello', taskId, () => state.tasks.get(taskId)?.hellos.at(-1), timeoutMs);
    },

    async close() {
      await new Promise<void>((resolve) => {
        // Calls a client abandoned would hold a graceful shutdown open; cut them after a moment.
        const force = setTimeout(() => grpc.forceShutdown(), 2_000);
        grpc.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  ready.api = api;
  return api;
}
