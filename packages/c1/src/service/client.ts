// The ConductorOne service-mode client: BatonService over gRPC with the client-credentials token
// on every call. Each method does one RPC and throws a classified C1Error; the service loop
// (loop.ts) decides about retries, except for uploads, which are retried whole here as baton-sdk
// does.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Client, credentials as grpcCredentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { parseClientId, createTokenSource } from './credentials.js';
import { C1Error, classifyGrpcError } from './errors.js';
import {
  type AnyMessage,
  durationToMs,
  type HelloRequest,
  messageCodecs,
  type UploadAssetRequest,
} from './messages.js';
import type { Codec } from './proto.js';
import { abortReason, sleep } from './retry.js';
import { withBundledRoots } from './tls-roots.js';
import { type C1Task, taskFromMessage } from './tasks.js';

const SERVICE_PATH = '/c1.connectorapi.baton.v1.BatonService/';
const DEFAULT_RPC_TIMEOUT_MS = 30_000;
/** baton-sdk's chunk size; the schema allows up to 1 MiB per data message. */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;
const MAX_CHUNK_BYTES = 1024 * 1024;
/** Waits before the 2nd and 3rd upload attempts (baton-sdk: 3 attempts, 0 s then 1 s). */
const DEFAULT_UPLOAD_RETRY_DELAYS_MS = [0, 1_000];

export interface C1ClientOptions {
  clientId: string;
  clientSecret: string;
  /** Identifies this connector process to C1 (BATON_HOST_ID, else the hostname). */
  hostId: string;
  /** `host[:port]` for gRPC (and the token endpoint unless `tokenUrl` is set), as BATON_C1_API_HOST. */
  apiHost?: string;
  /** Full token endpoint URL, when it is not `<scheme>://<apiHost>/auth/v1/token` (the local stand-in). */
  tokenUrl?: string;
  /**
   * `false` for plaintext gRPC and HTTP (local stand-in only). `ca` (PEM) is trusted for C1's
   * endpoints in addition to Node's bundled roots: grpc-js ignores NODE_EXTRA_CA_CERTS, so a private
   * CA in front of C1 has to be given here.
   */
  tls?: { ca?: string | Buffer } | false;
  userAgent?: string;
  /** Deadline of each unary RPC, FinishTask included (baton-sdk: 30 s). */
  rpcTimeoutMs?: number;
  uploadChunkBytes?: number;
  uploadRetryDelaysMs?: readonly number[];
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type HelloInfo = Omit<HelloRequest, 'hostId' | 'taskId'>;

export interface GetTaskResult {
  task: C1Task | undefined;
  /** As C1 sent it; the loop clamps it. */
  nextPollMs: number | undefined;
  nextHeartbeatMs: number | undefined;
}

export interface HeartbeatResult {
  cancelled: boolean;
  nextHeartbeatMs: number | undefined;
}

export type FinishOutcome =
  | { success: { annotations?: AnyMessage[]; response?: AnyMessage } }
  | { error: { code: number; message: string; nonRetryable: boolean; annotations?: AnyMessage[] } };

export interface UploadResult {
  bytes: number;
  chunks: number;
  /** Hex SHA-256 of the uploaded content. */
  sha256: string;
  attempts: number;
}

export interface C1Client {
  readonly hostId: string;
  hello(info: HelloInfo, options?: CallOptions & { taskId?: string }): Promise<void>;
  getTask(options?: CallOptions): Promise<GetTaskResult>;
  heartbeat(taskId: string, options?: CallOptions): Promise<HeartbeatResult>;
  finishTask(taskId: string, outcome: FinishOutcome, options?: CallOptions): Promise<void>;
  /** Streams a file (by path) or buffer to C1 for the task; the whole upload is retried on retryable errors. */
  uploadAsset(taskId: string, source: string | Buffer, options?: CallOptions): Promise<UploadResult>;
  close(): void;
}

/** Creates the client. The credentials are validated here: a malformed id or secret throws at once. */
export function createC1Client(options: C1ClientOptions): C1Client {
  const { hostId } = options;
  const { clientName, tokenHost } = parseClientId(options.clientId);
  const userAgent = options.userAgent ?? `${clientName} eks-access-connector`;
  const tokens = createTokenSource({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    apiHost: options.apiHost,
    tokenUrl: options.tokenUrl,
    tls: options.tls,
    userAgent,
  });
  const target = options.apiHost ?? (/:\d+$/.test(tokenHost) ? tokenHost : `${tokenHost}:443`);
  const channelCredentials =
    options.tls === false
      ? grpcCredentials.createInsecure()
      : grpcCredentials.createSsl(options.tls?.ca === undefined ? null : withBundledRoots(options.tls.ca));
  const grpc = new Client(target, channelCredentials, { 'grpc.primary_user_agent': userAgent });
  const rpcTimeoutMs = options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const chunkBytes = options.uploadChunkBytes ?? UPLOAD_CHUNK_BYTES;
  if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`uploadChunkBytes must be between 1 and ${MAX_CHUNK_BYTES}`);
  }
  const uploadRetryDelays = options.uploadRetryDelaysMs ?? DEFAULT_UPLOAD_RETRY_DELAYS_MS;
  const codecs = messageCodecs();

  const authMetadata = async (): Promise<Metadata> => {
    const token = await tokens.getToken();
    const metadata = new Metadata();
    metadata.set('authorization', `${token.tokenType} ${token.accessToken}`);
    return metadata;
  };

  const classify = (err: unknown, method: string, signal: AbortSignal | undefined): Error => {
    if (signal?.aborted) return abortReason(signal);
    const classified = classifyGrpcError(err, method);
    // A token C1 no longer accepts must not be reused by the next call.
    if (classified.code === 'UNAUTHENTICATED') tokens.invalidate();
    return classified;
  };

  const unary = async <Req, Res>(
    method: string,
    requestCodec: Codec<Req>,
    responseCodec: Codec<Res>,
    request: Req,
    callOptions: CallOptions = {},
  ): Promise<Res> => {
    const { signal } = callOptions;
    if (signal?.aborted) throw abortReason(signal);
    const metadata = await authMetadata();
    return new Promise<Res>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = grpc.makeUnaryRequest(
        SERVICE_PATH + method,
        (value: Req) => requestCodec.encode(value),
        (bytes: Buffer) => responseCodec.decode(bytes),
        request,
        metadata,
        { deadline: Date.now() + (callOptions.timeoutMs ?? rpcTimeoutMs) },
        (err: ServiceError | null, value?: Res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(classify(err, method, signal));
          else resolve(value ?? ({} as Res));
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };

  const uploadOnce = async (
    taskId: string,
    source: string | Buffer,
    signal?: AbortSignal,
  ): Promise<UploadResult> => {
    if (signal?.aborted) throw abortReason(signal);
    const metadata = await authMetadata();
    let failure: Error | undefined;
    const finish = deferred();
    const call = grpc.makeClientStreamRequest(
      SERVICE_PATH + 'UploadAsset',
      (value: UploadAssetRequest) => codecs.uploadAssetRequest.encode(value),
      (bytes: Buffer) => codecs.uploadAssetResponse.decode(bytes),
      metadata,
      {},
      (err: ServiceError | null) => {
        signal?.removeEventListener('abort', cancel);
        if (err) {
          failure = classify(err, 'UploadAsset', signal);
          finish.reject(failure);
        } else {
          finish.resolve();
        }
      },
    );
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });

    const write = async (message: UploadAssetRequest): Promise<void> => {
      if (failure) throw failure;
      if (!call.write(message)) {
        await Promise.race([
          new Promise<void>((resolve) => call.once('drain', () => resolve())),
          finish.promise,
        ]);
      }
    };

    const hash = createHash('sha256');
    let bytes = 0;
    let chunks = 0;
    try {
      await write({ metadata: { hostId, taskId } });
      for await (const chunk of chunksOf(source, chunkBytes)) {
        hash.update(chunk);
        bytes += chunk.length;
        chunks++;
        await write({ data: { data: chunk } });
      }
      const checksum = hash.digest();
      await write({ eof: { sha256Checksum: checksum } });
      call.end();
      await finish.promise;
      return { bytes, chunks, sha256: checksum.toString('hex'), attempts: 1 };
    } catch (err) {
      call.cancel();
      throw failure ?? (signal?.aborted ? abortReason(signal) : err);
    }
  };

  return {
    hostId,

    async hello(info, callOptions) {
      const request: HelloRequest = { ...info, hostId, taskId: callOptions?.taskId ?? '' };
      await unary('Hello', codecs.helloRequest, codecs.helloResponse, request, callOptions);
    },

    async getTask(callOptions) {
      const response = await unary(
        'GetTask',
        codecs.getTaskRequest,
        codecs.getTaskResponse,
        { hostId },
        callOptions,
      );
      return {
        task: taskFromMessage(response.task),
        nextPollMs: durationToMs(response.nextPoll),
        nextHeartbeatMs: durationToMs(response.nextHeartbeat),
      };
    },

    async heartbeat(taskId, callOptions) {
      const response = await unary(
        'Heartbeat',
        codecs.heartbeatRequest,
        codecs.heartbeatResponse,
        { hostId, taskId },
        callOptions,
      );
      return {
        cancelled: response.cancelled === true,
        nextHeartbeatMs: durationToMs(response.nextHeartbeat),
      };
    },

    async finishTask(taskId, outcome, callOptions) {
      const request =
        'success' in outcome
          ? { hostId, taskId, success: outcome.success }
          : {
              hostId,
              taskId,
              status: { code: outcome.error.code, message: outcome.error.message },
              error: { nonRetryable: outcome.error.nonRetryable, annotations: outcome.error.annotations },
            };
      await unary('FinishTask', codecs.finishTaskRequest, codecs.finishTaskResponse, request, callOptions);
    },

    async uploadAsset(taskId, source, callOptions) {
      const signal = callOptions?.signal;
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await uploadOnce(taskId, source, signal);
          return { ...result, attempts: attempt };
        } catch (err) {
          const delay = uploadRetryDelays[attempt - 1];
          if (!(err instanceof C1Error) || !err.retryable || delay === undefined || signal?.aborted)
            throw err;
          await sleep(Math.max(delay, err.retryAfterMs ?? 0), signal);
        }
      }
    },

    close() {
      grpc.close();
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve = () => {};
  let reject: (err: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The upload awaits this at the end; a failure before then is rethrown from `write`.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** The content in chunks of exactly `size` bytes (the last one shorter), each a fresh buffer. */
async function* chunksOf(source: string | Buffer, size: number): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    for (let offset = 0; offset < source.length; offset += size) yield source.subarray(offset, offset + size);
    return;
  }
  const file = await open(source, 'r');
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await file.read(buffer, filled, size - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) return;
      yield buffer.subarray(0, filled);
      if (filled < size) return;
    }
  } finally {
    await file.close();
  }
}
