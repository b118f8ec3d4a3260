// The stand-in's BatonService: a real gRPC service over the same messages as the client, with an
// in-memory task queue, fault injection and a record of everything it was sent.
import { createHash, randomInt } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import {
  type handleClientStreamingCall,
  type handleUnaryCall,
  Metadata,
  type MethodDefinition,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerReadableStream,
  type ServiceDefinition,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import {
  type AnnotationsOnly,
  type FinishTaskRequest,
  type GetTaskRequest,
  type GetTaskResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type HelloRequest,
  messageCodecs,
  msToSecondsNanos,
  packAny,
  type TaskMessage,
  type TaskType,
  type UploadAssetRequest,
} from '../service/messages.js';
import type { Codec } from '../service/proto.js';
import type { IssuedToken } from './token-endpoint.js';

export type BatonMethod = 'Hello' | 'GetTask' | 'Heartbeat' | 'FinishTask' | 'UploadAsset';

/** A failure the stand-in returns instead of handling a call. */
export type Fault =
  | { code: 'UNAVAILABLE' | 'INTERNAL' | 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'INVALID_ARGUMENT' }
  | {
      code: 'RESOURCE_EXHAUSTED';
      /** Rate-limit detail sent as google.rpc.Status details: reset time in epoch ms. */
      rateLimit?: { limit?: number; remaining: number; resetAtMs: number };
    };

/** Any task kind C1 can send: exactly one `task_type` member with its payload, e.g. `{listEventFeeds: {}}`. */
export type TaskSpec = {
  [K in Exclude<TaskType, 'none'>]: { [P in K]: NonNullable<TaskMessage[P]> };
}[Exclude<TaskType, 'none'>];

export interface UploadRecord {
  hostId: string;
  bytes: Buffer;
  chunkSizes: number[];
  sha256: string;
}

export interface TaskRecord {
  id: string;
  message: TaskMessage;
  state: 'queued' | 'running' | 'finished';
  cancelled: boolean;
  heartbeats: number[];
  uploads: UploadRecord[];
  finishes: FinishTaskRequest[];
  /** Hellos that named this task: how a connector answers a hello task. */
  hellos: HelloRequest[];
}

export interface CallRecord {
  method: BatonMethod;
  at: number;
  ok: boolean;
}

export interface BatonServiceState {
  tokens: Map<string, IssuedToken>;
  queue: string[];
  tasks: Map<string, TaskRecord>;
  faults: Map<BatonMethod, Fault[]>;
  calls: CallRecord[];
  hellos: HelloRequest[];
  nextPollMs: number;
  nextHeartbeatMs: number;
  events: EventEmitter;
  now: () => number;
}

const SERVICE_PATH = '/c1.connectorapi.baton.v1.BatonService/';
const MAX_CHUNK_BYTES = 1024 * 1024;
const KSUID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 27-character alphanumeric id, the shape of C1's KSUID task ids. */
export function newTaskId(): string {
  let id = '';
  for (let i = 0; i < 27; i++) id += KSUID_ALPHABET[randomInt(KSUID_ALPHABET.length)] ?? '0';
  return id;
}

/** Adds a task to the queue; returns its id. */
export function enqueue(state: BatonServiceState, spec: TaskSpec): string {
  const id = newTaskId();
  state.tasks.set(id, {
    id,
    message: { id, status: 'STATUS_PENDING', ...spec },
    state: 'queued',
    cancelled: false,
    heartbeats: [],
    uploads: [],
    finishes: [],
    hellos: [],
  });
  state.queue.push(id);
  return id;
}

function method<Req, Res>(
  name: BatonMethod,
  request: Codec<Req>,
  response: Codec<Res>,
  requestStream: boolean,
): MethodDefinition<Req, Res> {
  return {
    path: SERVICE_PATH + name,
    requestStream,
    responseStream: false,
    requestSerialize: (value: Req) => request.encode(value),
    requestDeserialize: (bytes: Buffer) => request.decode(bytes),
    responseSerialize: (value: Res) => response.encode(value),
    responseDeserialize: (bytes: Buffer) => response.decode(bytes),
  };
}

/** The service definition handed to grpc-js. */
export function batonServiceDefinition(): ServiceDefinition {
  const c = messageCodecs();
  return {
    Hello: method('Hello', c.helloRequest, c.helloResponse, false),
    GetTask: method('GetTask', c.getTaskRequest, c.getTaskResponse, false),
    Heartbeat: method('Heartbeat', c.heartbeatRequest, c.heartbeatResponse, false),
    FinishTask: method('FinishTask', c.finishTaskRequest, c.finishTaskResponse, false),
    UploadAsset: method('UploadAsset', c.uploadAssetRequest, c.uploadAssetResponse, true),
  };
}

function grpcError(code: GrpcStatus, details: string, metadata?: Metadata): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, ...(metadata ? { metadata } : {}) });
}

function faultError(fault: Fault): ServerErrorResponse {
  if (fault.code !== 'RESOURCE_EXHAUSTED') return grpcError(GrpcStatus[fault.code], `injected ${fault.code}`);
  const metadata = new Metadata();
  if (fault.rateLimit) {
    const codecs = messageCodecs();
    const detail = packAny(codecs.rateLimitDescription, {
      status: 'OVERLIMIT',
      limit: fault.rateLimit.limit ?? 0,
      remaining: fault.rateLimit.remaining,
      resetAt: msToSecondsNanos(fault.rateLimit.resetAtMs),
    });
    const status = codecs.rpcStatus.encode({
      code: GrpcStatus.RESOURCE_EXHAUSTED,
      message: 'rate limited',
      details: [detail],
    });
    metadata.set('grpc-status-details-bin', status);
  }
  return grpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'rate limited', metadata);
}

/**
 * Checks the bearer token and pending faults for a call; returns the error to answer with, if any.
 * Every call is recorded, rejected or not.
 */
function admit(
  state: BatonServiceState,
  name: BatonMethod,
  metadata: Metadata,
): ServerErrorResponse | undefined {
  const record: CallRecord = { method: name, at: state.now(), ok: false };
  state.calls.push(record);
  const header = metadata.get('authorization')[0];
  const match = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header) : null;
  const issued = match?.[1] === undefined ? undefined : state.tokens.get(match[1]);
  if (!issued || issued.expiresAt <= state.now()) {
    return grpcError(GrpcStatus.UNAUTHENTICATED, 'missing, unknown or expired bearer token');
  }
  const fault = state.faults.get(name)?.shift();
  if (fault) return faultError(fault);
  record.ok = true;
  return undefined;
}

function unary<Req, Res>(
  state: BatonServiceState,
  name: BatonMethod,
  handle: (request: Req) => Res,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const rejected = admit(state, name, call.metadata);
    if (rejected) {
      callback(rejected);
      return;
    }
    try {
      callback(null, handle(call.request));
    } catch (err) {
      callback(
        err instanceof Error && 'code' in err
          ? (err as ServerErrorResponse)
          : grpcError(GrpcStatus.INTERNAL, String(err)),
      );
    }
  };
}

function taskFor(state: BatonServiceState, taskId: string | undefined): TaskRecord {
  const task = taskId === undefined ? undefined : state.tasks.get(taskId);
  if (!task) throw grpcError(GrpcStatus.NOT_FOUND, `unknown task ${taskId ?? ''}`);
  return task;
}

function requireHostId(hostId: string | undefined): void {
  if (!hostId) throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'host_id is required');
}

/** The handlers for every BatonService method, bound to `state`. */
export function batonServiceImplementation(state: BatonServiceState) {
  const hello = unary<HelloRequest, AnnotationsOnly>(state, 'Hello', (request) => {
    requireHostId(request.hostId);
    if (!request.buildInfo || !request.osInfo || !request.connectorMetadata) {
      throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'build_info, os_info and connector_metadata are required');
    }
    state.hellos.push(request);
    if (request.taskId) {
      // The answer to a hello task: C1 needs nothing more for it (baton-sdk sends no FinishTask).
      const task = taskFor(state, request.taskId);
      task.hellos.push(request);
      task.state = 'finished';
      task.message.status = 'STATUS_FINISHED';
      state.events.emit('task-hello', task.id);
    }
    return {};
  });

  const getTask = unary<GetTaskRequest, GetTaskResponse>(state, 'GetTask', (request) => {
    requireHostId(request.hostId);
    const timing = {
      nextPoll: msToSecondsNanos(state.nextPollMs),
      nextHeartbeat: msToSecondsNanos(state.nextHeartbeatMs),
    };
    const id = state.queue.shift();
    const task = id === undefined ? undefined : state.tasks.get(id);
    if (!task) return { task: { none: {} }, ...timing };
    task.state = 'running';
    task.message.status = 'STATUS_RUNNING';
    state.events.emit('task-started', task.id);
    return { task: task.message, ...timing };
  });

  const heartbeat = unary<HeartbeatRequest, HeartbeatResponse>(state, 'Heartbeat', (request) => {
    requireHostId(request.hostId);
    const task = taskFor(state, request.taskId);
    task.heartbeats.push(state.now());
    return { nextHeartbeat: msToSecondsNanos(state.nextHeartbeatMs), cancelled: task.cancelled };
  });

  const finishTask = unary<FinishTaskRequest, AnnotationsOnly>(state, 'FinishTask', (request) => {
    requireHostId(request.hostId);
    const task = taskFor(state, request.taskId);
    if (request.finalState === undefined) {
      throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'final_state (success or error) is required');
    }
    task.finishes.push(request);
    task.state = 'finished';
    task.message.status = 'STATUS_FINISHED';
    state.events.emit('task-finished', task.id);
    return {};
  });

  const uploadAsset: handleClientStreamingCall<UploadAssetRequest, AnnotationsOnly> = (
    call: ServerReadableStream<UploadAssetRequest, AnnotationsOnly>,
    callback,
  ) => {
    let answered = false;
    const answer = (err: ServerErrorResponse | null) => {
      if (answered) return;
      answered = true;
      if (err) callback(err);
      else callback(null, {});
    };
    const rejected = admit(state, 'UploadAsset', call.metadata);
    if (rejected) {
      // Drain what the client already sent so its writes do not stall before it sees the error.
      call.on('data', () => {});
      answer(rejected);
      return;
    }
    let phase: 'metadata' | 'data' | 'done' = 'metadata';
    let task: TaskRecord | undefined;
    let hostId = '';
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');

    call.on('data', (message: UploadAssetRequest) => {
      if (answered) return;
      try {
        if (message.msg === 'metadata' && phase === 'metadata') {
          requireHostId(message.metadata?.hostId);
          hostId = message.metadata?.hostId ?? '';
          task = taskFor(state, message.metadata?.taskId);
          phase = 'data';
        } else if (message.msg === 'data' && phase === 'data') {
          const data = Buffer.from(message.data?.data ?? []);
          if (data.length === 0 || data.length > MAX_CHUNK_BYTES) {
            throw grpcError(
              GrpcStatus.INVALID_ARGUMENT,
              `data message of ${data.length} bytes (1 B–1 MiB allowed)`,
            );
          }
          hash.update(data);
          chunks.push(data);
        } else if (message.msg === 'eof' && phase === 'data') {
          const expected = Buffer.from(message.eof?.sha256Checksum ?? []);
          if (expected.length !== 32 || !expected.equals(hash.digest())) {
            throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'sha256_checksum does not match the uploaded data');
          }
          phase = 'done';
        } else {
          throw grpcError(
            GrpcStatus.INVALID_ARGUMENT,
            `unexpected ${message.msg ?? 'empty'} message during ${phase}`,
          );
        }
      } catch (err) {
        answer(err as ServerErrorResponse);
      }
    });
    call.on('end', () => {
      if (answered) return;
      if (phase !== 'done' || !task) {
        answer(grpcError(GrpcStatus.INVALID_ARGUMENT, 'upload ended before its eof message'));
        return;
      }
      // Stored only once the stream closed cleanly after a verified eof.
      const bytes = Buffer.concat(chunks);
      task.uploads.push({
        hostId,
        bytes,
        chunkSizes: chunks.map((c) => c.length),
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
      state.events.emit('upload', task.id);
      answer(null);
    });
    call.on('error', () => answer(grpcError(GrpcStatus.CANCELLED, 'client went away')));
  };

  return {
    Hello: hello,
    GetTask: getTask,
    Heartbeat: heartbeat,
    FinishTask: finishTask,
    UploadAsset: uploadAsset,
  };
}
